/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `volactctl dns unpublish`, and the DNS part of dli (docs/dns.md). */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-admin-proto.h"
#include "volact-dns-publisher.h"
#include "volact-error.h"
#include "volact-host-private.h"

GVariant *
volact_cmd_dns (VolactHost *host, const char *const *args, GError **error)
{
  if (!g_str_equal (args[0], "unpublish")) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "unknown dns subcommand \"%s\" (expected: dns unpublish)", args[0]);
    return NULL;
  }
  if (host->dns == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "this host runs no DNS publisher");
    return NULL;
  }
  if (!volact_dns_publisher_unpublish (host->dns, error))
    return NULL;
  return volact_cmd_reply_message (
      host->state->dns_publishing
          ? "Removing the SRV record now (volactctl dli shows the result). Publishing is still "
            "enabled: volactd publishes again at its next start or sdns; cdns keeps it off."
          : "Removing the SRV record now (volactctl dli shows the result).");
}

void
volact_cmd_describe_dns (VolactHost *host, GVariantDict *d)
{
  GVariantBuilder zones;
  gboolean published = host->dns != NULL && host->cfg->dns_zones[0] != NULL;

  g_variant_dict_insert (d, "dns_publishing", "b", host->state->dns_publishing);
  g_variant_builder_init (&zones, G_VARIANT_TYPE ("as"));
  for (char **z = host->cfg->dns_zones; *z; z++)
    g_variant_builder_add (&zones, "s", *z);
  g_variant_dict_insert (d, "dns_zones", "as", &zones);
  if (host->dns != NULL) {
    GVariant *status = volact_dns_publisher_status (host->dns);
    GVariantIter iter;
    GVariant *zone;
    g_variant_iter_init (&iter, status);
    while ((zone = g_variant_iter_next_value (&iter)) != NULL) {
      const char *result = "";
      g_variant_lookup (zone, "result", "&s", &result);
      published = published && g_str_equal (result, "published");
      g_variant_unref (zone);
    }
    g_variant_dict_insert_value (d, "dns_status", status);
  }
  /* TRUE only when every configured zone holds the record now. */
  g_variant_dict_insert (d, "dns_published", "b", published && host->state->dns_publishing);
}
