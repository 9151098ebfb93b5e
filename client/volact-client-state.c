/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's state file (GKeyFile) and the pure scheduler; see volact-client-state.h. */
#include "config.h"

#include "volact-client-state.h"

#include "volact-error.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#define SECONDS_PER_MINUTE 60
#define SECONDS_PER_DAY 86400
#define STATE_FILE_MAX (64 * 1024)

/* ---- License states ------------------------------------------------------------------------ */

static const struct {
  const char *id;
  const char *display;
} state_names[] = {
  [VOLACT_STATE_OOB_GRACE] = { "oob-grace", "OOB grace" },
  [VOLACT_STATE_LICENSED] = { "licensed", "Licensed" },
  [VOLACT_STATE_OOT_GRACE] = { "oot-grace", "OOT grace" },
  [VOLACT_STATE_NONGENUINE_GRACE] = { "nongenuine-grace", "Non-genuine grace" },
  [VOLACT_STATE_NOTIFICATION] = { "notification", "Notification" },
  [VOLACT_STATE_UNLICENSED] = { "unlicensed", "Unlicensed" },
};

const char *
volact_license_state_to_string (VolactLicenseState state)
{
  return (guint) state < G_N_ELEMENTS (state_names) ? state_names[state].id : NULL;
}

const char *
volact_license_state_display (VolactLicenseState state)
{
  return (guint) state < G_N_ELEMENTS (state_names) ? state_names[state].display : "Unknown";
}

gboolean
volact_license_state_from_string (const char *text, VolactLicenseState *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (text != NULL && g_str_equal (text, state_names[i].id)) {
      *out = (VolactLicenseState) i;
      return TRUE;
    }
  return FALSE;
}

/* ---- The scheduler (pure) ------------------------------------------------------------------ */

static guint
clamp_interval (guint minutes)
{
  return CLAMP (minutes, VOLACT_CLIENT_INTERVAL_MIN, VOLACT_CLIENT_INTERVAL_MAX);
}

void
volact_client_state_init (VolactClientState *state, const char *cmid, gint64 now)
{
  memset (state, 0, sizeof *state);
  g_strlcpy (state->cmid, cmid, sizeof state->cmid);
  state->first_run = now;
  state->license_state = VOLACT_STATE_OOB_GRACE;
  /* The host's catalog may set another out-of-box grace; the client cannot know it. */
  state->state_expires = now + (gint64) VOLACT_CLIENT_OOB_GRACE_DAYS * SECONDS_PER_DAY;
  state->activation_interval = VOLACT_CLIENT_DEFAULT_ACTIVATION_INTERVAL;
  state->renewal_interval = VOLACT_CLIENT_DEFAULT_RENEWAL_INTERVAL;
  state->last_result = 0;
  state->next_attempt = now;
}

void
volact_client_state_lapse (VolactClientState *state, gint64 now)
{
  while (state->state_expires != 0 && now >= state->state_expires) {
    if (state->license_state == VOLACT_STATE_LICENSED) {
      /* Validity lapsed without renewal: out-of-tolerance grace, counted from the lapse. */
      state->license_state = VOLACT_STATE_OOT_GRACE;
      state->state_expires += (gint64) VOLACT_CLIENT_OOT_GRACE_DAYS * SECONDS_PER_DAY;
    } else {
      if (state->license_state != VOLACT_STATE_UNLICENSED)
        state->license_state = VOLACT_STATE_NOTIFICATION;
      state->state_expires = 0;
    }
  }
}

VolactClientState
volact_client_state_next (const VolactClientState *prev, const VolactClientOutcome *outcome,
                          gint64 now)
{
  VolactClientState s = *prev;
  guint wait;

  volact_client_state_lapse (&s, now);
  s.last_attempt = now;
  s.last_result = outcome->result;
  if (outcome->host != NULL)
    g_strlcpy (s.last_host, outcome->host, sizeof s.last_host);
  if (outcome->edition != NULL)
    g_strlcpy (s.last_edition, outcome->edition, sizeof s.last_edition);

  if (outcome->response) {
    /* The host's intervals, exactly as received (only clamped to the range a host may set). */
    s.have_response = TRUE;
    s.activation_interval = clamp_interval (outcome->activation_interval);
    s.renewal_interval = clamp_interval (outcome->renewal_interval);
    s.validity_days = outcome->validity_days;
    s.last_count = outcome->count;
    s.last_minimum = outcome->minimum_count;
    s.last_response = now;
    if (outcome->result == 0) {
      s.license_state = VOLACT_STATE_LICENSED;
      s.state_expires = now + (gint64) outcome->validity_days * SECONDS_PER_DAY;
      wait = s.renewal_interval;
    } else {
      wait = s.activation_interval;
    }
  } else {
    wait = s.activation_interval;
  }
  s.next_attempt = now + (gint64) wait * SECONDS_PER_MINUTE;
  return s;
}

guint32
volact_client_state_minutes_left (const VolactClientState *state, gint64 now)
{
  gint64 left;

  if (state->state_expires == 0 || now >= state->state_expires)
    return 0;
  left = (state->state_expires - now) / SECONDS_PER_MINUTE;
  return (guint32) MIN (left, (gint64) G_MAXUINT32);
}

guint
volact_client_state_minutes_to_next (const VolactClientState *state, gint64 now)
{
  gint64 left = state->next_attempt - now;

  if (left <= 0)
    return 0;
  return (guint) MIN ((left + SECONDS_PER_MINUTE - 1) / SECONDS_PER_MINUTE, (gint64) G_MAXUINT);
}

/* ---- Times --------------------------------------------------------------------------------- */

char *
volact_client_format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) t = NULL;

  if (unix_seconds == 0)
    return g_strdup ("");
  t = g_date_time_new_from_unix_utc (unix_seconds);
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

/* ---- The file ------------------------------------------------------------------------------ */

char *
volact_client_state_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "volact", "client.state", NULL);
}

gboolean
volact_client_keyfile_load (GKeyFile *kf, const char *path, gsize max, gboolean *not_found,
                            GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  if (not_found != NULL)
    *not_found = FALSE;
  if (!g_file_get_contents (path, &data, &len, &local)) {
    if (not_found != NULL)
      *not_found = g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s", local->message);
    return FALSE;
  }
  if (len > max) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE, "%s: larger than %" G_GSIZE_FORMAT
                 " bytes", path, max);
    return FALSE;
  }
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: %s", path, local->message);
    return FALSE;
  }
  return TRUE;
}

/* Reading keys: every failure names the file, the group and the key. */
typedef struct {
  GKeyFile *kf;
  const char *path;
  GError **error;
  gboolean failed;
} Reader;

static void
reader_fail (Reader *r, const char *group, const char *key, const char *why)
{
  if (r->failed)
    return;
  r->failed = TRUE;
  g_set_error (r->error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: [%s] %s: %s", r->path, group, key,
               why);
}

static char *
read_string (Reader *r, const char *group, const char *key, gboolean required)
{
  g_autoptr (GError) local = NULL;
  char *v;

  if (r->failed)
    return NULL;
  v = g_key_file_get_string (r->kf, group, key, &local);
  if (v == NULL && required)
    reader_fail (r, group, key, local->message);
  return v;
}

static gint64
read_time (Reader *r, const char *group, const char *key, gboolean required)
{
  g_autofree char *text = read_string (r, group, key, required);
  g_autoptr (GDateTime) t = NULL;

  if (text == NULL || *text == '\0') {
    if (text != NULL && required)
      reader_fail (r, group, key, "a time is required");
    return 0;
  }
  t = g_date_time_new_from_iso8601 (text, NULL);
  if (t == NULL) {
    reader_fail (r, group, key, "not an ISO 8601 time with a time zone");
    return 0;
  }
  return g_date_time_to_unix (t);
}

static guint64
read_uint (Reader *r, const char *group, const char *key, guint64 min, guint64 max,
           guint64 fallback)
{
  g_autofree char *text = read_string (r, group, key, FALSE);
  guint64 v;

  if (text == NULL)
    return fallback;
  if (!g_ascii_string_to_unsigned (g_strstrip (text), 10, min, max, &v, NULL)) {
    g_autofree char *why = g_strdup_printf (
        "not a whole number in %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT, min, max);
    reader_fail (r, group, key, why);
    return fallback;
  }
  return v;
}

static gboolean
read_bool (Reader *r, const char *group, const char *key)
{
  g_autoptr (GError) local = NULL;
  gboolean v;

  if (r->failed || !g_key_file_has_key (r->kf, group, key, NULL))
    return FALSE;
  v = g_key_file_get_boolean (r->kf, group, key, &local);
  if (local != NULL)
    reader_fail (r, group, key, local->message);
  return v;
}

gboolean
volact_client_state_load (const char *path, VolactClientState *out, gboolean *not_found,
                          GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *cmid = NULL, *state = NULL, *host = NULL, *edition = NULL, *result = NULL;
  g_autofree char *cached = NULL;
  VolactClientState s;
  Reader r = { kf, path, error, FALSE };

  if (!volact_client_keyfile_load (kf, path, STATE_FILE_MAX, not_found, error))
    return FALSE;

  memset (&s, 0, sizeof s);
  cmid = read_string (&r, "client", "cmid", TRUE);
  if (cmid != NULL && !g_uuid_string_is_valid (cmid))
    reader_fail (&r, "client", "cmid", "not a UUID");
  s.first_run = read_time (&r, "client", "first-run", TRUE);

  state = read_string (&r, "license", "state", TRUE);
  if (state != NULL && !volact_license_state_from_string (state, &s.license_state))
    reader_fail (&r, "license", "state", "not a license state");
  s.state_expires = read_time (&r, "license", "expires", FALSE);
  s.validity_days = (guint) read_uint (&r, "license", "validity-days", 0, G_MAXUINT16, 0);

  s.have_response = read_bool (&r, "schedule", "intervals-from-host");
  s.activation_interval
      = (guint) read_uint (&r, "schedule", "activation-interval", VOLACT_CLIENT_INTERVAL_MIN,
                           VOLACT_CLIENT_INTERVAL_MAX, VOLACT_CLIENT_DEFAULT_ACTIVATION_INTERVAL);
  s.renewal_interval
      = (guint) read_uint (&r, "schedule", "renewal-interval", VOLACT_CLIENT_INTERVAL_MIN,
                           VOLACT_CLIENT_INTERVAL_MAX, VOLACT_CLIENT_DEFAULT_RENEWAL_INTERVAL);
  s.next_attempt = read_time (&r, "schedule", "next-attempt", FALSE);

  host = read_string (&r, "last", "host", FALSE);
  if (host != NULL && strlen (host) >= sizeof s.last_host)
    reader_fail (&r, "last", "host", "too long");
  edition = read_string (&r, "last", "edition", FALSE);
  if (edition != NULL && *edition != '\0'
      && !volact_proto_edition_valid (edition, strlen (edition)))
    reader_fail (&r, "last", "edition", "not an edition id");
  result = read_string (&r, "last", "result", FALSE);
  if (result != NULL && !volact_error_parse_code (result, &s.last_result))
    reader_fail (&r, "last", "result", "not a result code");
  s.last_count = (guint32) read_uint (&r, "last", "count", 0, G_MAXUINT32, 0);
  s.last_minimum = (guint) read_uint (&r, "last", "minimum", 0, G_MAXUINT16, 0);
  s.last_attempt = read_time (&r, "last", "attempt", FALSE);
  s.last_response = read_time (&r, "last", "response", FALSE);
  cached = read_string (&r, "host-cache", "host", FALSE);
  if (cached != NULL && strlen (cached) >= sizeof s.cached_host)
    reader_fail (&r, "host-cache", "host", "too long");
  if (r.failed)
    return FALSE;

  g_strlcpy (s.cmid, cmid, sizeof s.cmid);
  g_strlcpy (s.last_host, host ? host : "", sizeof s.last_host);
  g_strlcpy (s.last_edition, edition ? edition : "", sizeof s.last_edition);
  g_strlcpy (s.cached_host, cached ? cached : "", sizeof s.cached_host);
  *out = s;
  return TRUE;
}

static void
set_time (GKeyFile *kf, const char *group, const char *key, gint64 t)
{
  g_autofree char *text = volact_client_format_time (t);
  g_key_file_set_string (kf, group, key, text);
}

gboolean
volact_client_state_save (const char *path, const VolactClientState *s, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  g_autofree char *result = g_strdup_printf ("0x%08X", s->last_result);
  gsize len = 0;

  g_key_file_set_comment (kf, NULL, NULL,
                          " volact client state, written by volact-client (see volact-client(1))",
                          NULL);
  g_key_file_set_string (kf, "client", "cmid", s->cmid);
  set_time (kf, "client", "first-run", s->first_run);
  g_key_file_set_string (kf, "license", "state", volact_license_state_to_string (s->license_state));
  set_time (kf, "license", "expires", s->state_expires);
  g_key_file_set_uint64 (kf, "license", "validity-days", s->validity_days);
  g_key_file_set_boolean (kf, "schedule", "intervals-from-host", s->have_response);
  g_key_file_set_uint64 (kf, "schedule", "activation-interval", s->activation_interval);
  g_key_file_set_uint64 (kf, "schedule", "renewal-interval", s->renewal_interval);
  set_time (kf, "schedule", "next-attempt", s->next_attempt);
  g_key_file_set_string (kf, "last", "host", s->last_host);
  g_key_file_set_string (kf, "last", "edition", s->last_edition);
  g_key_file_set_string (kf, "last", "result", result);
  g_key_file_set_uint64 (kf, "last", "count", s->last_count);
  g_key_file_set_uint64 (kf, "last", "minimum", s->last_minimum);
  set_time (kf, "last", "attempt", s->last_attempt);
  set_time (kf, "last", "response", s->last_response);
  /* A group of its own, so older clients reading the file just skip it. */
  if (s->cached_host[0] != '\0')
    g_key_file_set_string (kf, "host-cache", "host", s->cached_host);
  data = g_key_file_to_data (kf, &len, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot create %s: %s", dir, g_strerror (saved));
    return FALSE;
  }
  /* Temporary file, fsync, rename: a crash leaves the old state or the new one. */
  if (!g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s", local->message);
    return FALSE;
  }
  return TRUE;
}
