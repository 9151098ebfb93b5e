/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * `volactctl health`'s verdict (docs/monitoring.md): the host gathers the
 * facts (volact-health-commands.c), this pure unit turns them into a Nagios
 * status, a one-line summary and performance data. No I/O, no clock.
 */
#ifndef VOLACT_HEALTH_H
#define VOLACT_HEALTH_H

#include <glib.h>

G_BEGIN_DECLS

/** The Nagios plugin states, which are also volactctl health's exit codes. */
typedef enum {
  VOLACT_HEALTH_OK = 0,
  VOLACT_HEALTH_WARNING = 1,
  VOLACT_HEALTH_CRITICAL = 2,
  VOLACT_HEALTH_UNKNOWN = 3,
} VolactHealthStatus;

/** What the command line asks for. G_MAXUINT: "the default". */
typedef struct {
  guint warn;           /* count below it: WARNING; default each application's highest minimum */
  guint crit;           /* count below it: CRITICAL; default 0 (none) */
  guint activity_hours; /* no client request for this long: WARNING; 0 disables; default 24 */
  guint dns_hours;      /* event 12293 this recent: WARNING; 0 disables; default 24 */
} VolactHealthOptions;

/** One application's count pool. */
typedef struct {
  const char *application;
  guint count;
  guint minimum; /* the highest minimum count of its editions */
} VolactHealthCount;

/** The host's facts, gathered with its lock held. */
typedef struct {
  gboolean activated;
  const char *not_activated_reason; /* e.g. "no host key is installed" */
  const char *reload_error;         /* NULL unless the last reload was refused */
  const char *license_problems;     /* NULL unless the catalog in use was loaded in part */
  gboolean listener_up;
  gboolean store_degraded; /* the shared store cannot take records (event 1040) */
  guint dns_failures;        /* events 12293 within the DNS window */
  const char *dns_error;     /* the publisher's current failure, or NULL */
  gboolean activity_checked; /* FALSE: the window scan could not decide (capped) */
  gboolean activity_seen;    /* a 12290 event within the activity window */
  const VolactHealthCount *counts;
  gsize n_counts;
} VolactHealthFacts;

/** Parses health's arguments (-w N, -c N, --no-activity HOURS, --dns-window HOURS) into OPTS. */
gboolean volact_health_parse_args (const char *const *args, VolactHealthOptions *opts,
                                   GError **error);

/**
 * The worst of the four checks: *SUMMARY receives the text after
 * "VOLACT STATUS - " (every problem, worst first, or the counts when all is
 * well) and *PERFDATA the performance data (count_APP=N;W:;C:;0;).
 */
VolactHealthStatus volact_health_evaluate (const VolactHealthFacts *facts,
                                           const VolactHealthOptions *opts, char **summary,
                                           char **perfdata);

/**
 * The four checks one by one, for `health --json` and the dashboard: a
 * floating aa{sv}, each with "name" (initialization, dns-publishing, count,
 * activity), "state" (OK, WARNING or CRITICAL: the worst of its problems) and
 * "message" (its problems joined by "; ", else what it found).
 */
GVariant *volact_health_checks (const VolactHealthFacts *facts, const VolactHealthOptions *opts);

/** "OK", "WARNING", "CRITICAL" or "UNKNOWN". */
const char *volact_health_status_name (VolactHealthStatus status);

/** The Nagios status line: "VOLACT STATUS - SUMMARY | PERFDATA" (no "|" part if PERFDATA is empty). */
char *volact_health_status_line (VolactHealthStatus status, const char *summary,
                                 const char *perfdata);

G_END_DECLS

#endif
