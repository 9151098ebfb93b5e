/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cost of the Prometheus metrics (docs/monitoring.md, "Metrics"):
 * one scrape (volact_metrics_render) over a host holding N client records
 * (default 1,000,000, in a temporary folder, six license states), and the
 * request counter the client server bumps for every answer. Not a test:
 * it prints figures, for the notes.
 *
 *   make bench/bench-metrics && ./bench/bench-metrics [N]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "volact-fingerprint.h"
#include "volact-metrics.h"
#include "volact-request-counters.h"

#define SCRAPES 100
#define COUNTER_CALLS 20000000

/* N distinct machines of every state in the catalog's first application. */
static void
fill (VolactHost *host, guint n)
{
  g_autoptr (VolactServingState) st = volact_host_serving_state (host);
  const VolactApplication *app = volact_catalog_applications (st->catalog)->pdata[0];
  VolactRecords *records = volact_host_records (host);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < n; i++) {
    guint8 cmid[16] = { 0 };
    VolactVisit v = { .time = now,
                      .pool = app->id,
                      .cmid = cmid,
                      .name = "",
                      .edition = "win7-enterprise",
                      .address = "192.0.2.1",
                      .counts = TRUE,
                      .state = (guint8) (i % VOLACT_RECORDS_N_STATES),
                      .retention_days = 30,
                      .minimum_count = 25 };
    guint32 result;
    guint64 ticket;

    memcpy (cmid, &i, sizeof i);
    volact_records_count (records, &v, &result, &ticket);
    if (result == VOLACT_RECORDS_HOST_BUSY) { /* the writer is behind: let it catch up */
      volact_records_flush (records, 60000);
      i--;
    }
  }
  volact_records_flush (records, 600000);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 1000000;
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *fp = g_build_filename (dir, "fingerprint", NULL);
  static const char *const editions[]
      = { "win7-enterprise", "win7-professional", "server2008r2-standard", "" };
  VolactRequestCounters *counters;
  VolactHost *host;
  gint64 t0;
  gsize bytes = 0;

  test_write_file (fp, "machine-id=bench-metrics\ncpu=c\nmemory=8\nmac=02:00:00:00:00:45\n", -1);
  g_setenv (VOLACT_FINGERPRINT_ENV, fp, TRUE);
  host = test_host_new (dir);
  if (host == NULL)
    return 1;
  t0 = g_get_monotonic_time ();
  fill (host, n);
  printf ("filled %u client records in %.1f s\n", n,
          (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < SCRAPES; i++) {
    g_autofree char *text = volact_metrics_render (host, NULL);
    bytes = strlen (text);
  }
  printf ("volact_metrics_render: %.0f us per scrape (%u scrapes, %zu bytes each)\n",
          (double) (g_get_monotonic_time () - t0) / SCRAPES, SCRAPES, bytes);

  counters = volact_request_counters_new ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < COUNTER_CALLS; i++)
    volact_request_counters_add (counters, editions[i & 3], (i >> 2) & 1 ? 0xC004F038u : 0);
  printf ("volact_request_counters_add: %.1f ns per request (%u calls, 4 editions, 2 codes)\n",
          (double) (g_get_monotonic_time () - t0) * 1000.0 / COUNTER_CALLS, COUNTER_CALLS);
  volact_request_counters_free (counters);

  volact_host_free (host);
  test_rmtree (dir);
  return 0;
}
