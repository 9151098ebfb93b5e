/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host's metrics in the Prometheus text exposition format 0.0.4
 * (docs/monitoring.md, "Metrics"), for the HTTP listener's /metrics.
 *
 * Two halves so that the format is tested apart from a running host:
 * volact_metrics_collect fills a plain snapshot from the host, the client
 * server, the records and the DNS publisher (every source is read under its
 * own lock or atomically, so any thread may collect); volact_metrics_format
 * turns a snapshot into text and touches nothing else.
 */
#ifndef VOLACT_METRICS_H
#define VOLACT_METRICS_H

#include <glib.h>

#include "volact-host.h"
#include "volact-records.h"
#include "volact-server.h"

G_BEGIN_DECLS

/** The Content-Type to serve the text with. */
#define VOLACT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** One application (count pool) of the catalog and its current count. */
typedef struct {
  char *application;
  guint64 count;
} VolactMetricsApplication;

/** One edition of the catalog: its pool, minimum count, and whether the count reaches it. */
typedef struct {
  char *edition;
  char *application;
  guint64 minimum;
  gboolean active;
} VolactMetricsEdition;

/** Requests answered with RESULT for EDITION ("" when the catalog does not know it). */
typedef struct {
  char *edition;
  guint32 result;
  guint64 count;
} VolactMetricsRequests;

/** The last DNS publishing attempt of one zone (zones never attempted are left out). */
typedef struct {
  char *zone;
  gboolean success;
  gint64 time; /* unix seconds */
} VolactMetricsZone;

typedef struct {
  char *version;
  gint64 start_time; /* unix seconds; 0: unknown (left out) */
  gboolean activated;
  GArray *applications; /* VolactMetricsApplication */
  GArray *editions;     /* VolactMetricsEdition */
  gboolean have_server; /* FALSE: no client server running, its families are left out */
  VolactServerStats server;
  GArray *requests; /* VolactMetricsRequests */
  gboolean have_records;
  VolactRecordsStats records;
  GArray *zones; /* VolactMetricsZone; empty when DNS publishing is not configured */
} VolactMetricsSnapshot;

/** An empty snapshot (every array empty, nothing "have"). */
VolactMetricsSnapshot *volact_metrics_snapshot_new (void);
void volact_metrics_snapshot_free (VolactMetricsSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactMetricsSnapshot, volact_metrics_snapshot_free)

/**
 * The metrics of HOST and SERVER (NULL: none running) now. Safe from any
 * thread. The counts per application purge expired records first, as dli
 * does; machines per state follow every request and lose expired records
 * within a minute (the records writer's idle sweep).
 */
VolactMetricsSnapshot *volact_metrics_collect (VolactHost *host, VolactServer *server);

/** SNAP in the text exposition format 0.0.4: HELP and TYPE for every family. */
char *volact_metrics_format (const VolactMetricsSnapshot *snap);

/** The host's metrics in the Prometheus text exposition format 0.0.4, collected now; safe from any
 * thread. */
char *volact_metrics_render (VolactHost *host, VolactServer *server);

G_END_DECLS

#endif
