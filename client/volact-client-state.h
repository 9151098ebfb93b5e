/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The client's state file and its schedule (docs/client.md).
 *
 * The state is a plain value: the license state and when it ends, the
 * intervals the host last sent, the last host and result, and when to ask
 * next. volact_client_state_next() computes the next state from the previous
 * one, what happened (a verified response or a failure) and the time; it does
 * no I/O, so every scheduling rule is unit-tested. The rule that matters:
 * after a response the next attempt is exactly now + the interval that
 * response carried (renewal if it licensed the client, activation if not);
 * after a failure it is now + the activation interval last received.
 */
#ifndef VOLACT_CLIENT_STATE_H
#define VOLACT_CLIENT_STATE_H

#include <glib.h>

#include "volact-protocol.h"

G_BEGIN_DECLS

/** Minutes used before the first response from any host (the KMS operations guide's defaults). */
#define VOLACT_CLIENT_DEFAULT_ACTIVATION_INTERVAL 120
#define VOLACT_CLIENT_DEFAULT_RENEWAL_INTERVAL 10080
/** The range a host may set (/sai, /sri); received values are clamped to it. */
#define VOLACT_CLIENT_INTERVAL_MIN 15
#define VOLACT_CLIENT_INTERVAL_MAX 43200
/** Out-of-box grace from the first run, and out-of-tolerance grace after validity lapses. */
#define VOLACT_CLIENT_OOB_GRACE_DAYS 30
#define VOLACT_CLIENT_OOT_GRACE_DAYS 30

#define VOLACT_CLIENT_UUID_SIZE 37  /* 36 characters and the NUL */
#define VOLACT_CLIENT_HOST_SIZE 262 /* "[" 253-character name or address "]:65535" */

typedef struct {
  char cmid[VOLACT_CLIENT_UUID_SIZE]; /* the machine's CMID, lower-case UUID text */
  gint64 first_run;                   /* unix seconds */
  VolactLicenseState license_state;
  gint64 state_expires; /* unix seconds the state ends, 0 if it does not */
  /* The last verified response: its intervals rule the schedule. */
  gboolean have_response;
  guint activation_interval; /* minutes, last received (or the default) */
  guint renewal_interval;    /* minutes, last received (or the default) */
  guint validity_days;
  guint32 last_count;
  guint last_minimum;
  gint64 last_response; /* unix seconds, 0 never */
  /* The last attempt, whatever its outcome. */
  char last_host[VOLACT_CLIENT_HOST_SIZE];
  char last_edition[VOLACT_PROTO_EDITION_MAX + 1];
  guint32 last_result; /* 0 licensed, or the code */
  gint64 last_attempt; /* unix seconds, 0 never */
  gint64 next_attempt; /* unix seconds */
  /* Host caching: the discovered host that last answered, tried first next time ("" none).
   * Written as [host-cache] host; files without it (older clients) load with none. */
  char cached_host[VOLACT_CLIENT_HOST_SIZE];
} VolactClientState;

/** What an attempt gave. */
typedef struct {
  gboolean response; /* TRUE: a verified signed response; FALSE: a failure */
  guint32 result;    /* the response's result, or the failure's code */
  guint32 count;
  guint minimum_count;
  guint activation_interval;
  guint renewal_interval;
  guint validity_days;
  const char *host;    /* nullable */
  const char *edition; /* nullable */
} VolactClientOutcome;

/** A first-run state: out-of-box grace for 30 days from NOW, default intervals, due now. */
void volact_client_state_init (VolactClientState *state, const char *cmid, gint64 now);

/**
 * Applies the passage of time: a licensed client whose validity lapsed drops
 * to out-of-tolerance grace (30 days from the lapse), and a grace period that
 * ran out becomes notification.
 */
void volact_client_state_lapse (VolactClientState *state, gint64 now);

/**
 * The pure scheduler: PREV, aged to NOW, updated by OUTCOME.
 *
 * A response stores its intervals (clamped to 15..43200) and result; if it
 * licenses the client the state becomes licensed until now + validity days
 * and the next attempt is now + its renewal interval, otherwise the state is
 * kept and the next attempt is now + its activation interval. A failure
 * keeps everything the host said and retries at now + the last received
 * activation interval (120 before any response).
 */
VolactClientState volact_client_state_next (const VolactClientState *prev,
                                            const VolactClientOutcome *outcome, gint64 now);

/** Minutes left in the current state (rounded down), 0 if it does not expire. */
guint32 volact_client_state_minutes_left (const VolactClientState *state, gint64 now);

/** Whole minutes until the next attempt (rounded up), 0 if it is due. */
guint volact_client_state_minutes_to_next (const VolactClientState *state, gint64 now);

/** "licensed", "oob-grace", ... (as written to the file); NULL if out of range. */
const char *volact_license_state_to_string (VolactLicenseState state);
/** Parses volact_license_state_to_string() output. */
gboolean volact_license_state_from_string (const char *text, VolactLicenseState *out);
/** "Licensed", "OOB grace", ... for people. */
const char *volact_license_state_display (VolactLicenseState state);

/** $XDG_STATE_HOME/volact/client.state (~/.local/state/volact/client.state). */
char *volact_client_state_default_path (void);

/**
 * Reads the key file PATH into KF: a missing or unreadable file fails with
 * VOLACT_E_IO (NOT_FOUND, if given, set for a missing one), one larger than MAX
 * bytes with VOLACT_E_TOO_LARGE, a malformed one with VOLACT_E_CONFIG; each
 * message names PATH.
 */
gboolean volact_client_keyfile_load (GKeyFile *kf, const char *path, gsize max,
                                     gboolean *not_found, GError **error);

/**
 * Reads PATH. Missing or invalid keys, times or values out of range fail
 * with VOLACT_E_CONFIG naming the file, group and key; a missing file fails
 * with VOLACT_E_IO and, if NOT_FOUND is given, sets it to TRUE.
 */
gboolean volact_client_state_load (const char *path, VolactClientState *out, gboolean *not_found,
                                   GError **error);

/**
 * Writes STATE to PATH atomically (temporary file, fsync, rename) with mode
 * 0600, creating its folder (0700) if needed.
 */
gboolean volact_client_state_save (const char *path, const VolactClientState *state,
                                   GError **error);

/** Formats unix seconds as ISO 8601 UTC ("2025-01-31T12:00:00Z"); "" for 0. */
char *volact_client_format_time (gint64 unix_seconds);

G_END_DECLS

#endif
