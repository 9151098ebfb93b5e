/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report: the six activity reports of the KMS operations guide (docs/reports.md). */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-admin-proto.h"
#include "volact-error.h"
#include "volact-host-private.h"

#define REPORT_USAGE "usage: report NAME [--since DATE] [--until DATE] [--csv]"

GVariant *
volact_cmd_report (VolactHost *host, const char *const *args, GError **error)
{
  gint64 since = 0, until = 0;
  gboolean csv = FALSE;
  g_autoptr (GVariantDict) d = NULL;
  g_autoptr (GVariant) table = NULL;

  for (guint i = 1; args[0] != NULL && args[i] != NULL; i++) {
    if (g_str_equal (args[i], "--csv")) {
      csv = TRUE;
    } else if ((g_str_equal (args[i], "--since") || g_str_equal (args[i], "--until"))
               && args[i + 1] != NULL) {
      if (!volact_cmd_parse_time (args[i], args[i + 1], args[i][2] == 's' ? &since : &until, error))
        return NULL;
      i++;
    } else {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, REPORT_USAGE);
      return NULL;
    }
  }
  if (args[0] == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, REPORT_USAGE);
    return NULL;
  }
  /* The history is per day: without --since it covers the last 30 days. */
  if (since == 0 && g_str_equal (args[0], "activity-history"))
    since = (until ? until : g_get_real_time () / G_USEC_PER_SEC) - 30 * 86400;
  table = volact_records_report (host->records, args[0], since, until, error);
  if (table == NULL) {
    g_prefix_error (error, "cannot make the report: ");
    return NULL;
  }
  d = volact_admin_reply_new (0, "");
  g_variant_dict_insert (d, "csv", "b", csv);
  for (const char *const *k = (const char *const[]){ "report", "since", "until", "columns", "rows",
                                                     NULL };
       *k; k++) {
    g_autoptr (GVariant) v = g_variant_lookup_value (table, *k, NULL);
    g_variant_dict_insert_value (d, *k, v);
  }
  return g_variant_dict_end (d);
}
