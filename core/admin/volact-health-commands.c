/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `volactctl health`: the host's facts for the guide's four alerts (docs/monitoring.md);
 * the verdict is volact-health.c's. */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-admin-proto.h"
#include "volact-dns-publisher.h"
#include "volact-error.h"
#include "volact-health.h"
#include "volact-host-private.h"

/* The activity and DNS checks read at most this many events of their window,
 * oldest first: enough to meet a request on any host that has clients. */
#define HEALTH_EVENTS_CAP 20000

/* The publisher's current failure, if any zone's last attempt failed. */
static char *
dns_error (VolactHost *host)
{
  g_autoptr (GVariant) status = NULL;
  GVariantIter iter;
  GVariant *zone;
  char *error = NULL;

  if (host->dns == NULL || !host->state->dns_publishing)
    return NULL;
  status = g_variant_ref_sink (volact_dns_publisher_status (host->dns));
  g_variant_iter_init (&iter, status);
  while (error == NULL && (zone = g_variant_iter_next_value (&iter)) != NULL) {
    const char *last = "", *record = "?", *why = "";
    g_variant_lookup (zone, "last_result", "&s", &last);
    g_variant_lookup (zone, "record", "&s", &record);
    g_variant_lookup (zone, "error", "&s", &why);
    if (g_str_equal (last, "failed"))
      error = g_strdup_printf ("%s: %s", record, why);
    g_variant_unref (zone);
  }
  return error;
}

/* Scans the events of the longer window for client requests and DNS failures. */
static gboolean
scan_events (VolactHost *host, const VolactHealthOptions *o, VolactHealthFacts *f,
             GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 activity_since = now - (gint64) o->activity_hours * 3600;
  gint64 dns_since = now - (gint64) o->dns_hours * 3600;
  guint64 total = 0;
  g_autoptr (GVariant) rows = NULL;
  GVariantIter iter;
  GVariant *row;

  if (o->activity_hours == 0 && o->dns_hours == 0)
    return TRUE;
  rows = volact_records_events (host->records, MIN (activity_since, dns_since), HEALTH_EVENTS_CAP,
                                &total, error);
  if (rows == NULL)
    return FALSE;
  g_variant_ref_sink (rows);
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL) {
    guint32 id = 0;
    gint64 t = 0;
    g_variant_lookup (row, "event", "u", &id);
    g_variant_lookup (row, "time", "x", &t);
    if (id == VOLACT_EVENT_CLIENT_REQUEST && o->activity_hours > 0 && t >= activity_since)
      f->activity_seen = TRUE;
    if (id == VOLACT_EVENT_DNS_PUBLISH_FAILED && o->dns_hours > 0 && t >= dns_since)
      f->dns_failures++;
    g_variant_unref (row);
  }
  /* A capped scan that met no request cannot say there was none. */
  f->activity_checked = f->activity_seen || total <= g_variant_n_children (rows);
  return TRUE;
}

/* Each application's count and the highest minimum count of its editions. */
static GArray *
gather_counts (VolactHost *host, VolactCatalog *catalog)
{
  GPtrArray *apps = volact_catalog_applications (catalog);
  GPtrArray *editions = volact_catalog_editions (catalog);
  GArray *counts = g_array_new (FALSE, TRUE, sizeof (VolactHealthCount));

  for (guint i = 0; i < apps->len; i++) {
    const VolactApplication *a = apps->pdata[i];
    VolactHealthCount c = { a->id, volact_records_pool_count (host->records, a->id,
                                                              a->retention_days), 0 };
    for (guint j = 0; j < editions->len; j++) {
      const VolactEdition *e = editions->pdata[j];
      if (g_strcmp0 (e->application, a->id) == 0)
        c.minimum = MAX (c.minimum, e->minimum_count);
    }
    g_array_append_val (counts, c);
  }
  return counts;
}

GVariant *
volact_cmd_health (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  g_autoptr (GArray) counts = NULL;
  g_autofree char *dns = NULL;
  g_autofree char *problems = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *perfdata = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GVariantDict) d = NULL;
  VolactHealthOptions opts;
  VolactHealthFacts facts = { 0 };
  VolactHealthStatus status;

  if (!volact_health_parse_args (args, &opts, error))
    return NULL;
  if (!volact_host_check_activation (host, error))
    return NULL;
  facts.activated = host->state->certificate != NULL;
  facts.not_activated_reason =
      host->state->product_key ? "the host key is installed but not activated"
                               : "no host key is installed";
  facts.reload_error = host->reload_error;
  if (catalog != NULL && volact_catalog_is_partial (catalog))
    problems = volact_catalog_problems (catalog);
  facts.license_problems = problems;
  facts.listener_up = host->listening_port != 0;
  {
    VolactRecordsStats st;
    volact_records_get_stats (host->records, &st);
    facts.store_degraded = st.store_degraded;
  }
  dns = dns_error (host);
  facts.dns_error = dns;
  if (!scan_events (host, &opts, &facts, error)) {
    g_prefix_error (error, "cannot read the event log: ");
    return NULL;
  }
  counts = gather_counts (host, catalog);
  facts.counts = (const VolactHealthCount *) counts->data;
  facts.n_counts = counts->len;

  status = volact_health_evaluate (&facts, &opts, &summary, &perfdata);
  line = volact_health_status_line (status, summary, perfdata);
  d = volact_admin_reply_new (0, "");
  g_variant_dict_insert (d, "status", "u", (guint32) status);
  g_variant_dict_insert (d, "status_name", "s", volact_health_status_name (status));
  g_variant_dict_insert (d, "summary", "s", summary);
  g_variant_dict_insert (d, "perfdata", "s", perfdata);
  g_variant_dict_insert (d, "text", "s", line);
  g_variant_dict_insert_value (d, "checks", volact_health_checks (&facts, &opts));
  return g_variant_dict_end (d);
}
