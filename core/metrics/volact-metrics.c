/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Metrics, the collecting half: fills a snapshot from the host (its serving
 * snapshot, lock-free), the client server (atomic counters), the records
 * (their lock, briefly) and the DNS publisher (its lock, under the host's,
 * as dli does). Nothing here runs a query: a scrape costs a few lookups.
 */
#include "config.h"

#include "volact-metrics.h"

#include "volact-dns-publisher.h"
#include "volact-host-private.h"

#include <unistd.h>

static void
clear_application (gpointer p)
{
  g_free (((VolactMetricsApplication *) p)->application);
}

static void
clear_edition (gpointer p)
{
  VolactMetricsEdition *e = p;
  g_free (e->edition);
  g_free (e->application);
}

static void
clear_requests (gpointer p)
{
  g_free (((VolactMetricsRequests *) p)->edition);
}

static void
clear_zone (gpointer p)
{
  g_free (((VolactMetricsZone *) p)->zone);
}

static GArray *
array_new (gsize size, GDestroyNotify clear)
{
  GArray *a = g_array_new (FALSE, TRUE, (guint) size);
  g_array_set_clear_func (a, clear);
  return a;
}

VolactMetricsSnapshot *
volact_metrics_snapshot_new (void)
{
  VolactMetricsSnapshot *snap = g_new0 (VolactMetricsSnapshot, 1);

  snap->applications = array_new (sizeof (VolactMetricsApplication), clear_application);
  snap->editions = array_new (sizeof (VolactMetricsEdition), clear_edition);
  snap->requests = array_new (sizeof (VolactMetricsRequests), clear_requests);
  snap->zones = array_new (sizeof (VolactMetricsZone), clear_zone);
  return snap;
}

void
volact_metrics_snapshot_free (VolactMetricsSnapshot *snap)
{
  if (snap == NULL)
    return;
  g_free (snap->version);
  g_array_unref (snap->applications);
  g_array_unref (snap->editions);
  g_array_unref (snap->requests);
  g_array_unref (snap->zones);
  g_free (snap);
}

/* The process's start (unix seconds) from /proc, as the Prometheus clients take it; 0 if unknown.
 */
static gint64
process_start_time (void)
{
  g_autofree char *stat = NULL, *sys = NULL;
  const char *p, *btime;
  long ticks = sysconf (_SC_CLK_TCK);
  guint64 start;

  if (ticks <= 0 || !g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)
      || !g_file_get_contents ("/proc/stat", &sys, NULL, NULL))
    return 0;
  /* Field 22 (starttime, in ticks after boot) counts from after the ")" ending field 2. */
  p = strrchr (stat, ')');
  for (guint field = 2; p != NULL && field < 22; field++)
    p = strchr (p + 1, ' ');
  btime = strstr (sys, "\nbtime ");
  if (p == NULL || btime == NULL)
    return 0;
  start = g_ascii_strtoull (p + 1, NULL, 10);
  return g_ascii_strtoll (btime + 7, NULL, 10) + (gint64) (start / (guint64) ticks);
}

static void
collect_catalog (VolactMetricsSnapshot *snap, VolactHost *host)
{
  g_autoptr (VolactServingState) st = volact_host_serving_state (host);
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *apps, *editions;

  VolactRecords *records = volact_host_records (host);

  snap->activated = st != NULL && st->activated;
  if (st == NULL || st->catalog == NULL || records == NULL)
    return;
  apps = volact_catalog_applications (st->catalog);
  for (guint i = 0; i < apps->len; i++) {
    const VolactApplication *a = apps->pdata[i];
    VolactMetricsApplication m = { g_strdup (a->id), 0 };
    /* As dli: the records past retention go first. */
    m.count = volact_records_pool_count (records, a->id, a->retention_days);
    g_hash_table_insert (counts, a->id, GSIZE_TO_POINTER ((gsize) m.count));
    g_array_append_val (snap->applications, m);
  }
  editions = volact_catalog_editions (st->catalog);
  for (guint i = 0; i < editions->len; i++) {
    const VolactEdition *e = editions->pdata[i];
    guint64 count = GPOINTER_TO_SIZE (g_hash_table_lookup (counts, e->application));
    VolactMetricsEdition m = { g_strdup (e->id), g_strdup (e->application), e->minimum_count,
                               count >= e->minimum_count };
    g_array_append_val (snap->editions, m);
  }
}

static void
add_requests (const char *edition, guint32 result, guint64 count, gpointer user_data)
{
  VolactMetricsSnapshot *snap = user_data;
  VolactMetricsRequests r = { g_strdup (edition), result, count };

  g_array_append_val (snap->requests, r);
}

static void
collect_dns (VolactMetricsSnapshot *snap, VolactHost *host)
{
  g_autoptr (GVariant) status = NULL;
  GVariantIter iter;
  GVariant *zone;

  g_mutex_lock (&host->lock);
  if (host->dns != NULL && host->cfg->dns_zones != NULL && host->cfg->dns_zones[0] != NULL)
    status = g_variant_ref_sink (volact_dns_publisher_status (host->dns));
  g_mutex_unlock (&host->lock);
  if (status == NULL)
    return;
  g_variant_iter_init (&iter, status);
  while ((zone = g_variant_iter_next_value (&iter)) != NULL) {
    g_autoptr (GVariantDict) d = g_variant_dict_new (zone);
    const char *name, *last;
    VolactMetricsZone z = { NULL, FALSE, 0 };

    g_variant_unref (zone);
    /* A zone never attempted has no last result: no sample (0 would read as a failure). */
    if (!g_variant_dict_lookup (d, "zone", "&s", &name)
        || !g_variant_dict_lookup (d, "last_result", "&s", &last)
        || !g_variant_dict_lookup (d, "time", "x", &z.time))
      continue;
    z.zone = g_strdup (name);
    z.success = !g_str_equal (last, "failed");
    g_array_append_val (snap->zones, z);
  }
}

VolactMetricsSnapshot *
volact_metrics_collect (VolactHost *host, VolactServer *server)
{
  VolactMetricsSnapshot *snap = volact_metrics_snapshot_new ();

  g_return_val_if_fail (host != NULL, snap);
  snap->version = g_strdup (PACKAGE_VERSION);
  snap->start_time = process_start_time ();
  collect_catalog (snap, host);
  if (server != NULL) {
    snap->have_server = TRUE;
    volact_server_get_stats (server, &snap->server);
    volact_server_foreach_answer (server, add_requests, snap);
  }
  if (volact_host_records (host) != NULL) {
    snap->have_records = TRUE;
    volact_records_get_stats (volact_host_records (host), &snap->records);
  }
  collect_dns (snap, host);
  return snap;
}

char *
volact_metrics_render (VolactHost *host, VolactServer *server)
{
  g_autoptr (VolactMetricsSnapshot) snap = volact_metrics_collect (host, server);

  return volact_metrics_format (snap);
}
