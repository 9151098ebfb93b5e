/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's lifecycle: start, state changes, reload, events. The administration
 * commands that act on it live in core/admin/ (volact-host-private.h). */
#include "config.h"

#include "volact-host-private.h"

#include "volact-admin-proto.h"
#include "volact-commands.h"
#include "volact-crypto.h"
#include "volact-dns-publisher.h"
#include "volact-error.h"
#include "volact-key.h"
#include "volact-reload.h"
#include "volact-trust-policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void publish_serving_state (VolactHost *host);
static void report_partial_catalog (VolactHost *host, const char *what);

/* ---- the serving snapshot ---- */

void
volact_serving_state_unref (VolactServingState *st)
{
  if (st == NULL || !g_atomic_int_dec_and_test (&st->refcount))
    return;
  g_clear_pointer (&st->catalog, volact_catalog_unref);
  g_free (st);
}

/* Builds a new snapshot from the current state; lock held (or during construction). */
static void
publish_serving_state (VolactHost *host)
{
  VolactServingState *st = g_new0 (VolactServingState, 1), *old;

  st->refcount = 1;
  st->identity = host->identity;
  volact_identity_public_key (host->identity, st->public_key, NULL);
  st->catalog = volact_catalog_holder_get (host->catalog);
  st->activated = host->state->certificate != NULL;
  if (st->activated) {
    volact_host_cert_serialize (&host->cert, st->certificate);
    st->key_group = host->key.group;
  }
  /* The overrides, not resolved intervals: each client gets its application's (volact-answer.c). */
  st->activation_override = host->state->activation_interval;
  st->renewal_override = host->state->renewal_interval;
  /* Only a host that can serve is published in DNS (docs/dns.md). */
  if (host->dns != NULL)
    volact_dns_publisher_set_activated (host->dns, st->activated);
  g_mutex_lock (&host->serving_lock);
  old = host->serving;
  host->serving = st;
  g_mutex_unlock (&host->serving_lock);
  volact_serving_state_unref (old);
}

VolactServingState *
volact_host_serving_state (VolactHost *host)
{
  VolactServingState *st;
  g_mutex_lock (&host->serving_lock);
  st = host->serving;
  g_atomic_int_inc (&st->refcount);
  g_mutex_unlock (&host->serving_lock);
  return st;
}

guint
volact_host_configured_port (VolactHost *host)
{
  return host->state->port ? host->state->port : host->cfg->port;
}

guint
volact_host_port (VolactHost *host)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host->lock);
  return volact_host_configured_port (host);
}

void
volact_host_set_listening_port (VolactHost *host, guint port)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host->lock);
  host->listening_port = port;
}

VolactRecords *
volact_host_records (VolactHost *host)
{
  return host->records;
}

/* ---- events ---- */

void
volact_host_event (VolactHost *host, guint id, const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (id == VOLACT_EVENT_HARDWARE_CHANGE || id == VOLACT_EVENT_ACTIVATION_WITHDRAWN
      || id == VOLACT_EVENT_ERROR || id == VOLACT_EVENT_DNS_PUBLISH_FAILED
      || id == VOLACT_EVENT_SIGN_IN_FAILED)
    g_warning ("event %u: %s", id, msg);
  else
    g_message ("event %u: %s", id, msg);
  /* The store opens before anything can raise an event (volact_host_new). */
  volact_records_host_event (host->records, id, msg);
}

/* ---- state ---- */

static VolactCatalogSources
sources (VolactHost *host)
{
  return (VolactCatalogSources){
    .plugin_dirs = (const char *const *) host->cfg->plugin_dirs,
    .license_dir = host->cfg->license_dir,
    .trust_file = host->cfg->trust,
    .config = host->cfg->keyfile,
    .config_file = host->cfg->file,
  };
}

/* The host key S holds, decoded into KEY (zeroed when there is none). */
static gboolean
decode_key (const VolactState *s, VolactHostKey *key, GError **error)
{
  memset (key, 0, sizeof *key);
  if (s->product_key != NULL && !volact_key_decode (s->product_key, key, error)) {
    g_prefix_error (error, "installed key: ");
    return FALSE;
  }
  return TRUE;
}

/* The certificate S holds, parsed into CERT (zeroed when there is none). */
static gboolean
decode_certificate (const VolactState *s, VolactHostCert *cert, GError **error)
{
  gsize n;
  const guint8 *raw;

  memset (cert, 0, sizeof *cert);
  if (s->certificate == NULL)
    return TRUE;
  raw = g_bytes_get_data (s->certificate, &n);
  if (!volact_host_cert_parse (raw, n, cert, error)) {
    g_prefix_error (error, "certificate: ");
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_host_commit (VolactHost *host, VolactState *next, GError **error)
{
  g_autoptr (VolactState) owned = next;
  VolactHostKey key;
  VolactHostCert cert;

  if (!decode_key (owned, &key, error) || !decode_certificate (owned, &cert, error)
      || !volact_state_save (owned, host->cfg->state_dir, error))
    return FALSE;
  volact_state_free (host->state);
  host->state = g_steal_pointer (&owned);
  host->key = key;
  host->cert = cert;
  publish_serving_state (host);
  return TRUE;
}

/* The certificate must still be ours: this host, this key, this hardware, a trusted authority. */
static gboolean
certificate_still_valid (VolactHost *host, const char **why)
{
  guint changed;

  if (host->state->product_key == NULL) {
    *why = "no host key is installed";
    return FALSE;
  }
  if (memcmp (host->cert.body.host_id, host->host_id, VOLACT_HOST_ID_SIZE) != 0) {
    *why = "the certificate was issued to another host identity";
    return FALSE;
  }
  if (host->cert.body.key_group != host->key.group
      || host->cert.body.key_serial != host->key.serial) {
    *why = "the certificate was issued for another host key";
    return FALSE;
  }
  changed = volact_fingerprint_changed_components (host->cert.body.fingerprint, host->fingerprint);
  if (volact_fingerprint_significant_change (host->cert.body.fingerprint, host->fingerprint)) {
    volact_host_event (host, VOLACT_EVENT_HARDWARE_CHANGE,
                       "significant hardware change: %u of %u fingerprint components differ "
                       "from the activation; the host needs reactivation",
                       changed, VOLACT_FINGERPRINT_COMPONENTS);
    *why = "the hardware changed significantly since activation";
    return FALSE;
  }
  if (changed > 0)
    g_message ("hardware change tolerated: %u of %u fingerprint components differ", changed,
               VOLACT_FINGERPRINT_COMPONENTS);
  for (guint i = 0; i < volact_trust_n_keys (host->trust); i++)
    if (volact_host_cert_verify (&host->cert, volact_trust_key (host->trust, i), NULL))
      return TRUE;
  *why = "the certificate is not signed by a trusted authority";
  return FALSE;
}

gboolean
volact_host_check_activation (VolactHost *host, GError **error)
{
  const char *why = NULL;
  VolactState *next;

  if (!volact_fingerprint_read (host->cfg->state_dir, host->fingerprint,
                                &host->fingerprint_overridden, error))
    return FALSE;
  if (host->state->certificate == NULL || certificate_still_valid (host, &why))
    return TRUE;
  volact_host_event (host, VOLACT_EVENT_ACTIVATION_WITHDRAWN, "host activation withdrawn: %s", why);
  next = volact_state_copy (host->state);
  volact_state_clear_activation (next);
  if (volact_host_commit (host, next, error))
    return TRUE;
  /* Stop serving anyway: the saved certificate fails this same check at every
   * start, so memory without it is what the disk means. */
  volact_state_clear_activation (host->state);
  memset (&host->cert, 0, sizeof host->cert);
  publish_serving_state (host);
  return FALSE;
}

/* host.state at start: the key must decode; an unreadable certificate is dropped. */
static gboolean
load_state (VolactHost *host, GError **error)
{
  g_autoptr (GError) local = NULL;

  host->state = volact_state_load (host->cfg->state_dir, error);
  if (host->state == NULL)
    return FALSE;
  if (!decode_key (host->state, &host->key, error)) {
    g_prefix_error (error, "%s/host.state: ", host->cfg->state_dir);
    return FALSE;
  }
  if (!decode_certificate (host->state, &host->cert, &local)) {
    g_warning ("%s/host.state: dropping an unreadable %s", host->cfg->state_dir, local->message);
    volact_state_clear_activation (host->state);
  }
  return TRUE;
}

/* ---- lifecycle ---- */

/* Once a second: a wall clock jump (NTP step, a VM resumed) must not expire
 * every record nor keep future-dated ones counting (docs/events.md, "Clock
 * changes"). The store writes event 1030 itself. */
static gboolean
on_clock_check (gpointer user_data)
{
  VolactHost *host = user_data;

  volact_records_clock_check (host->records, g_get_real_time (), g_get_monotonic_time (), NULL);
  return G_SOURCE_CONTINUE;
}

VolactHost *
volact_host_new (VolactConfig *cfg, GError **error)
{
  g_autoptr (VolactHost) host = g_new0 (VolactHost, 1);
  g_autofree char *identity_path = NULL;
  VolactCatalogSources src;
  gboolean created = FALSE;

  g_mutex_init (&host->lock);
  g_mutex_init (&host->serving_lock);
  host->cfg = cfg;
  host->catalog = volact_catalog_holder_new ();
  /* Refuse before anything is created in the state folder. */
  if (!volact_trust_policy_check (cfg, error) || !volact_state_dir_ensure (cfg->state_dir, error))
    return NULL;
  /* The event log opens first, so that every event of the start reaches it. */
  host->records
      = volact_records_open (cfg->state_dir, (guint64) cfg->event_cap_mb * 1024 * 1024, error);
  if (host->records == NULL)
    return NULL;
  if (!g_str_equal (cfg->store, "sqlite")
      && !volact_records_share (host->records, cfg->store,
                                *cfg->store_host_name ? cfg->store_host_name : g_get_host_name (),
                                cfg->store_timeout, error)) {
    g_prefix_error (error, "store: ");
    return NULL;
  }
  on_clock_check (host); /* the first sample */
  host->clock_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (host->clock_source, on_clock_check, host, NULL);
  g_source_attach (host->clock_source, NULL);
  src = sources (host);
  if (!volact_catalog_holder_reload (host->catalog, &src, error))
    return NULL;
  report_partial_catalog (host, "started with license data loaded in part");
  host->trust = volact_trust_load (cfg->trust, error);
  if (host->trust == NULL)
    return NULL;
  identity_path = g_build_filename (cfg->state_dir, "identity.key", NULL);
  host->identity = volact_identity_load_or_create (identity_path, &created, error);
  if (host->identity == NULL || !volact_identity_host_id (host->identity, host->host_id, error))
    return NULL;
  if (created)
    volact_host_event (host, VOLACT_EVENT_HOST_IDENTITY, "generated the host identity key %s",
                       identity_path);
  if (!load_state (host, error))
    return NULL;
  publish_serving_state (host);
  if (!volact_host_check_activation (host, error))
    return NULL;
  if (host->state->low_priority && !volact_host_set_low_priority (TRUE, error))
    return NULL;
  return g_steal_pointer (&host);
}

void
volact_host_free (VolactHost *host)
{
  if (host == NULL)
    return;
  if (host->clock_source != NULL)
    g_source_destroy (host->clock_source);
  g_clear_pointer (&host->clock_source, g_source_unref);
  g_clear_pointer (&host->records, volact_records_close);
  g_clear_pointer (&host->serving, volact_serving_state_unref);
  g_clear_pointer (&host->catalog, volact_catalog_holder_free);
  g_clear_pointer (&host->trust, volact_trust_free);
  g_clear_pointer (&host->identity, EVP_PKEY_free);
  g_clear_pointer (&host->state, volact_state_free);
  g_clear_pointer (&host->cfg, volact_config_free);
  g_free (host->reload_error);
  g_mutex_clear (&host->lock);
  g_mutex_clear (&host->serving_lock);
  g_free (host);
}

const VolactConfig *
volact_host_config (VolactHost *host)
{
  return host->cfg;
}

/* Event 1008 when the catalog in use was built without some files or entries:
 * the host serves what is left, and says what is missing (docs/events.md). */
static void
report_partial_catalog (VolactHost *host, const char *what)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  g_autofree char *problems = NULL;

  if (catalog == NULL || !volact_catalog_is_partial (catalog))
    return;
  problems = volact_catalog_problems (catalog);
  volact_host_event (host, VOLACT_EVENT_ERROR, "%s: %s", what, problems);
}

/* One reload at a time (SIGHUP's thread and the reload command may race):
 * the catalog that ends up in use is the one built last. */
static GMutex reload_lock;

static gboolean
reload (VolactHost *host, GError **error)
{
  VolactCatalogSources src = sources (host);
  g_autoptr (GMutexLocker) locker = NULL;

  if (!volact_catalog_holder_reload (host->catalog, &src, error))
    return FALSE;
  locker = g_mutex_locker_new (&host->lock);
  publish_serving_state (host);
  return volact_host_check_activation (host, error);
}

gboolean
volact_host_reload (VolactHost *host, char **summary, GError **error)
{
  g_autoptr (VolactCatalog) catalog = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *msg = NULL;
  g_autoptr (GMutexLocker) serial = g_mutex_locker_new (&reload_lock);

  if (!reload (host, &local)) {
    volact_host_event (host, VOLACT_EVENT_ERROR, "reload failed: %s", local->message);
    g_mutex_lock (&host->lock);
    g_free (host->reload_error);
    host->reload_error = g_strdup (local->message);
    g_mutex_unlock (&host->lock);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  catalog = volact_catalog_holder_get (host->catalog);
  msg = g_strdup_printf ("Reloaded: %u plugins, %u license files, %u editions, %u key groups.",
                         volact_catalog_plugins (catalog)->len, volact_catalog_n_files (catalog),
                         volact_catalog_editions (catalog)->len,
                         volact_catalog_key_groups (catalog)->len);
  volact_host_event (host, VOLACT_EVENT_RELOAD, "%s", msg);
  if (volact_catalog_is_partial (catalog)) {
    g_autofree char *problems = volact_catalog_problems (catalog);
    g_autofree char *full = g_strdup_printf ("%s Loaded in part: %s", msg, problems);
    g_free (g_steal_pointer (&msg));
    msg = g_steal_pointer (&full);
    report_partial_catalog (host, "reloaded license data in part");
  }
  g_mutex_lock (&host->lock);
  g_clear_pointer (&host->reload_error, g_free);
  g_mutex_unlock (&host->lock);
  if (summary != NULL)
    *summary = g_steal_pointer (&msg);
  return TRUE;
}

gboolean
volact_host_set_low_priority (gboolean low, GError **error)
{
  /* On Linux, setpriority(PRIO_PROCESS, 0) affects one thread: set every thread. */
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  int prio = low ? 10 : 0;

  if (dir == NULL) {
    if (setpriority (PRIO_PROCESS, 0, prio) == 0)
      return TRUE;
    goto fail;
  }
  while ((name = g_dir_read_name (dir)) != NULL) {
    id_t tid = (id_t) strtoul (name, NULL, 10);
    if (setpriority (PRIO_PROCESS, tid, prio) != 0 && errno != ESRCH)
      goto fail;
  }
  return TRUE;
fail:
  g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
               "cannot set the scheduling priority to %s: %s%s", low ? "low" : "normal",
               g_strerror (errno), low ? "" : " (restoring it needs root or CAP_SYS_NICE)");
  return FALSE;
}

/* ---- administration ---- */

GVariant *
volact_host_command (const VolactCommand *cmd, const char *const *args, gpointer user_data)
{
  VolactHost *host = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *reply;

  if (cmd->self_locking) {
    reply = cmd->run (host, args, &error);
  } else {
    g_mutex_lock (&host->lock);
    reply = cmd->run (host, args, &error);
    g_mutex_unlock (&host->lock);
  }
  if (reply == NULL) {
    g_message ("volactctl %s failed: %s", cmd->name, error->message);
    return volact_admin_reply_error (error);
  }
  return reply;
}
