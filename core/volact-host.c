/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-host.h"

#include "volact-activation.h"
#include "volact-admin-proto.h"
#include "volact-answer.h"
#include "volact-authority-proto.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-key.h"
#include "volact-records.h"
#include "volact-reload.h"
#include "volact-state.h"
#include "volact-xmlsig.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct _VolactHost {
  GMutex lock; /* guards everything below but the holder, which has its own */
  VolactConfig *cfg;
  VolactCatalogHolder *catalog;
  VolactTrust *trust;
  EVP_PKEY *identity;
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fingerprint[VOLACT_FINGERPRINT_SIZE];
  gboolean fingerprint_overridden;
  VolactState *state;
  VolactHostKey key; /* valid when state->product_key is set */
  VolactHostCert cert; /* valid when state->certificate is set */
  VolactRecords *records;
  guint listening_port; /* 0 until the client server is up */
  GMutex serving_lock; /* guards only the pointer swap of serving */
  VolactServingState *serving;
};

static void publish_serving_state (VolactHost *host);

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

/* The port to bind at start: a saved sprt setting wins over the config. Lock held. */
static guint
configured_port (VolactHost *host)
{
  return host->state->port ? host->state->port : host->cfg->port;
}

guint
volact_host_port (VolactHost *host)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host->lock);
  return configured_port (host);
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

/* A host event: to the event log (once it is open) and to the journal/syslog. */
static void G_GNUC_PRINTF (3, 4)
host_event (VolactHost *host, guint id, const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (id == 1005 || id == 1006 || id == 1008)
    g_warning ("event %u: %s", id, msg);
  else
    g_message ("event %u: %s", id, msg);
  if (host->records != NULL)
    volact_records_host_event (host->records, id, msg);
}

static VolactCatalogSources
sources (VolactHost *host)
{
  return (VolactCatalogSources){
    .plugin_dirs = (const char *const *) host->cfg->plugin_dirs,
    .license_dir = host->cfg->license_dir,
    .trust_file = host->cfg->trust,
  };
}

/* Every change of state goes through here: saved durably, then published to the server. */
static gboolean
save_state (VolactHost *host, GError **error)
{
  if (!volact_state_save (host->state, host->cfg->state_dir, error))
    return FALSE;
  publish_serving_state (host);
  return TRUE;
}

static void
drop_certificate (VolactHost *host)
{
  g_clear_pointer (&host->state->certificate, g_bytes_unref);
  g_clear_pointer (&host->state->activated_by, g_free);
  host->state->activated_at = 0;
  memset (&host->cert, 0, sizeof host->cert);
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
    host_event (host, 1005, "significant hardware change: %u of %u fingerprint components "
               "differ from the activation; the host needs reactivation",
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

/* Re-reads the fingerprint and drops an activation that no longer holds. Lock held. */
static gboolean
check_activation (VolactHost *host, GError **error)
{
  const char *why = NULL;

  if (!volact_fingerprint_read (host->cfg->state_dir, host->fingerprint,
                                &host->fingerprint_overridden, error))
    return FALSE;
  if (host->state->certificate == NULL || certificate_still_valid (host, &why))
    return TRUE;
  host_event (host, 1006, "host activation withdrawn: %s", why);
  drop_certificate (host);
  return save_state (host, error);
}

static gboolean
load_key_and_certificate (VolactHost *host, GError **error)
{
  if (host->state->product_key != NULL
      && !volact_key_decode (host->state->product_key, &host->key, error)) {
    g_prefix_error (error, "%s/host.state: installed key: ", host->cfg->state_dir);
    return FALSE;
  }
  if (host->state->certificate != NULL) {
    gsize n;
    const guint8 *raw = g_bytes_get_data (host->state->certificate, &n);
    g_autoptr (GError) local = NULL;
    if (!volact_host_cert_parse (raw, n, &host->cert, &local)) {
      g_warning ("%s/host.state: dropping an unreadable certificate: %s", host->cfg->state_dir,
                 local->message);
      drop_certificate (host);
    }
  }
  return TRUE;
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
  if (!volact_state_dir_ensure (cfg->state_dir, error))
    return NULL;
  src = sources (host);
  if (!volact_catalog_holder_reload (host->catalog, &src, error))
    return NULL;
  host->trust = volact_trust_load (cfg->trust, error);
  if (host->trust == NULL)
    return NULL;
  identity_path = g_build_filename (cfg->state_dir, "identity.key", NULL);
  host->identity = volact_identity_load_or_create (identity_path, &created, error);
  if (host->identity == NULL || !volact_identity_host_id (host->identity, host->host_id, error))
    return NULL;
  if (created)
    host_event (host, 1002, "generated the host identity key %s", identity_path);
  host->state = volact_state_load (cfg->state_dir, error);
  if (host->state == NULL || !load_key_and_certificate (host, error))
    return NULL;
  publish_serving_state (host);
  if (!check_activation (host, error))
    return NULL;
  host->records = volact_records_open (cfg->state_dir, (guint64) cfg->event_cap_mb * 1024 * 1024,
                                       error);
  if (host->records == NULL)
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
  g_clear_pointer (&host->records, volact_records_close);
  g_clear_pointer (&host->serving, volact_serving_state_unref);
  g_clear_pointer (&host->catalog, volact_catalog_holder_free);
  g_clear_pointer (&host->trust, volact_trust_free);
  g_clear_pointer (&host->identity, EVP_PKEY_free);
  g_clear_pointer (&host->state, volact_state_free);
  g_clear_pointer (&host->cfg, volact_config_free);
  g_mutex_clear (&host->lock);
  g_mutex_clear (&host->serving_lock);
  g_free (host);
}

const VolactConfig *
volact_host_config (VolactHost *host)
{
  return host->cfg;
}


gboolean
volact_host_reload (VolactHost *host, GError **error)
{
  VolactCatalogSources src = sources (host);
  g_autoptr (GMutexLocker) locker = NULL;

  if (!volact_catalog_holder_reload (host->catalog, &src, error))
    return FALSE;
  locker = g_mutex_locker_new (&host->lock);
  publish_serving_state (host);
  return check_activation (host, error);
}


/* ---- administration commands ---- */

typedef GVariant *(*CommandFunc) (VolactHost *host, const char *const *args, GError **error);

static GVariant *
reply_message (const char *message)
{
  return g_variant_dict_end (volact_admin_reply_new (0, message));
}

static gboolean
require_key (VolactHost *host, GError **error)
{
  if (host->state->product_key != NULL)
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_NO_KEY, "no host key is installed");
  return FALSE;
}

static GVariant *
cmd_ipk (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  g_autoptr (GError) local = NULL;
  char canonical[VOLACT_KEY_TEXT_SIZE];
  VolactHostKey key;

  if (!volact_key_decode (args[0], &key, &local) || !volact_key_encode (&key, canonical, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY, "%s (%s)",
                 volact_error_text ((guint32) VOLACT_E_INVALID_KEY), local->message);
    return NULL;
  }
  if (volact_catalog_key_group (catalog, key.group) == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "%s (the key is of group %u, which no loaded plugin knows; add the plugin and "
                 "license data that define it, then reload)",
                 volact_error_text ((guint32) VOLACT_E_INVALID_KEY), key.group);
    return NULL;
  }
  if (g_strcmp0 (host->state->product_key, canonical) != 0) {
    g_free (host->state->product_key);
    host->state->product_key = g_strdup (canonical);
    host->key = key;
    drop_certificate (host);
    if (!save_state (host, error))
      return NULL;
    host_event (host, 1003, "host key of group %u installed (partial key %s)", key.group,
               canonical + VOLACT_KEY_TEXT_SIZE - VOLACT_KEY_PARTIAL_SIZE);
  }
  {
    g_autofree char *msg = g_strdup_printf ("Installed product key %s successfully.", canonical);
    return reply_message (msg);
  }
}

static GVariant *
cmd_upk (VolactHost *host, const char *const *args, GError **error)
{
  if (!require_key (host, error))
    return NULL;
  g_clear_pointer (&host->state->product_key, g_free);
  drop_certificate (host);
  if (!save_state (host, error))
    return NULL;
  host_event (host, 1004, "host key uninstalled");
  return reply_message ("Uninstalled product key successfully.");
}

static void
own_installation_id (VolactHost *host, VolactInstallationId *iid)
{
  volact_installation_id_init (iid, &host->key, host->host_id, host->fingerprint);
}

static GVariant *
cmd_dti (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  const VolactKeyGroup *group;
  VolactInstallationId iid;
  char text[VOLACT_IID_TEXT_SIZE];
  g_autoptr (GVariantDict) d = NULL;
  g_autofree char *out = NULL;

  if (!require_key (host, error) || !check_activation (host, error))
    return NULL;
  group = volact_catalog_key_group (catalog, host->key.group);
  if (group != NULL && !group->phone_allowed) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PHONE_NOT_ALLOWED,
                 "key group %s does not allow telephone activation", group->name);
    return NULL;
  }
  own_installation_id (host, &iid);
  if (!volact_installation_id_encode (&iid, text, error))
    return NULL;
  out = g_strdup_printf ("Installation ID: %s\n%s%s", text,
                         group && group->phone_contact ? group->phone_contact : "",
                         group && group->phone_contact ? "\n" : "");
  d = volact_admin_reply_new (0, "Installation ID");
  g_variant_dict_insert (d, "installation_id", "s", text);
  g_variant_dict_insert (d, "text", "s", out);
  return g_variant_dict_end (d);
}

/* Applies a Confirmation ID for our own Installation ID; lock held. */
static gboolean
apply_confirmation (VolactHost *host, const char *cid_text, const char *method, GError **error)
{
  VolactInstallationId iid;
  VolactConfirmationId cid;
  VolactHostCert cert;
  guint8 raw[VOLACT_HOST_CERT_SIZE];
  g_autoptr (GError) last = NULL;

  if (!volact_confirmation_id_decode (cid_text, &cid, error))
    return FALSE;
  own_installation_id (host, &iid);
  for (guint i = 0; i < volact_trust_n_keys (host->trust); i++) {
    g_clear_error (&last);
    if (volact_activation_apply (&iid, &cid, volact_trust_key (host->trust, i), &cert, &last))
      break;
  }
  if (last != NULL) {
    g_propagate_error (error, g_steal_pointer (&last));
    return FALSE;
  }
  volact_host_cert_serialize (&cert, raw);
  drop_certificate (host);
  host->cert = cert;
  host->state->certificate = g_bytes_new (raw, sizeof raw);
  host->state->activated_by = g_strdup (method);
  host->state->activated_at = g_get_real_time () / G_USEC_PER_SEC;
  if (!save_state (host, error))
    return FALSE;
  host_event (host, 1001, "host activated (%s), key group %u, activation %u of this host", method,
             cert.body.key_group, cert.body.activation_number);
  return TRUE;
}

static GVariant *
cmd_atp (VolactHost *host, const char *const *args, GError **error)
{
  g_autofree char *msg = NULL;

  if (!require_key (host, error) || !check_activation (host, error)
      || !apply_confirmation (host, args[0], "telephone", error))
    return NULL;
  msg = g_strdup_printf ("Confirmation ID for product key %s deposited successfully.",
                         host->state->product_key);
  return reply_message (msg);
}

/* Online activation talks to the network: done without the lock, applied with it. */
static GVariant *
activate_online (VolactHost *host, GError **error)
{
  g_autofree char *endpoint = NULL;
  g_autofree char *cid = NULL;
  char iid_text[VOLACT_IID_TEXT_SIZE];
  VolactInstallationId iid;

  g_mutex_lock (&host->lock);
  if (!require_key (host, error) || !check_activation (host, error)) {
    g_mutex_unlock (&host->lock);
    return NULL;
  }
  if (host->cfg->authority_url == NULL || *host->cfg->authority_url == '\0') {
    g_mutex_unlock (&host->lock);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "authority-url is not set in the configuration; set it, or activate by "
                 "telephone (volactctl dti, then atp)");
    return NULL;
  }
  endpoint = g_strdup (host->cfg->authority_url);
  own_installation_id (host, &iid);
  g_mutex_unlock (&host->lock);

  if (!volact_installation_id_encode (&iid, iid_text, error))
    return NULL;
  cid = volact_authority_activate (endpoint, iid_text, error);
  if (cid == NULL)
    return NULL;
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host->lock);
    if (!apply_confirmation (host, cid, "online", error))
      return NULL;
  }
  return reply_message ("Product activated successfully.");
}

static GVariant *
cmd_describe (VolactHost *host, gboolean verbose, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  g_autoptr (GVariantDict) d = volact_admin_reply_new (0, "");
  GVariantBuilder counts;
  GPtrArray *apps = volact_catalog_applications (catalog);
  const VolactKeyGroup *group = NULL;
  gboolean licensed;
  char partial[VOLACT_KEY_PARTIAL_SIZE] = "";
  GString *fp = g_string_new (NULL);

  if (!check_activation (host, error)) {
    g_string_free (fp, TRUE);
    return NULL;
  }
  licensed = host->state->certificate != NULL;
  if (host->state->product_key != NULL) {
    volact_key_partial (host->state->product_key, partial);
    group = volact_catalog_key_group (catalog, host->key.group);
  }
  g_variant_dict_insert (d, "name", "s",
                         group ? group->title : "volact host (no host key installed)");
  g_variant_dict_insert (d, "description", "s", "volact Key Management host, VOLUME_KMS channel");
  g_variant_dict_insert (d, "partial_product_key", "s", partial[0] ? partial : "(none)");
  g_variant_dict_insert (d, "license_status", "s", licensed ? "Licensed" : "Unlicensed");
  g_variant_dict_insert (d, "kms_enabled", "b", licensed);
  if (!licensed)
    g_variant_dict_insert (d, "kms_disabled_reason", "s",
                           host->state->product_key ? "the host is not activated"
                                                    : "no host key is installed");
  g_variant_builder_init (&counts, G_VARIANT_TYPE ("a{su}"));
  for (guint i = 0; i < apps->len; i++) {
    const VolactApplication *a = apps->pdata[i];
    g_variant_builder_add (&counts, "{su}", a->id,
                           volact_records_pool_count (host->records, a->id, a->retention_days));
  }
  g_variant_dict_insert (d, "current_count", "a{su}", &counts);
  {
    guint next = configured_port (host);
    guint now = host->listening_port ? host->listening_port : next;
    g_variant_dict_insert (d, "port", "u", now);
    if (next != now)
      g_variant_dict_insert (d, "port_after_restart", "u", next);
  }
  g_variant_dict_insert (d, "dns_publishing", "b", host->state->dns_publishing);
  g_variant_dict_insert (d, "priority", "s", host->state->low_priority ? "Low" : "Normal");
  volact_answer_describe_intervals (d, catalog, host->state->activation_interval,
                                    host->state->renewal_interval);
  if (verbose) {
    g_variant_dict_insert (d, "version", "s", PACKAGE_VERSION);
    if (group != NULL)
      g_variant_dict_insert (d, "key_group_name", "s", group->name);
    if (host->state->product_key != NULL) {
      VolactInstallationId iid;
      char text[VOLACT_IID_TEXT_SIZE];
      own_installation_id (host, &iid);
      if (volact_installation_id_encode (&iid, text, NULL))
        g_variant_dict_insert (d, "installation_id", "s", text);
    }
    if (licensed) {
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (host->state->activated_at);
      g_autofree char *at = when ? g_date_time_format_iso8601 (when) : g_strdup ("?");
      g_autofree char *how = g_strdup_printf ("%s, %s, activation %u of this host with this key",
                                              host->state->activated_by, at,
                                              host->cert.body.activation_number);
      g_variant_dict_insert (d, "activation", "s", how);
    }
    for (guint i = 0; i < VOLACT_FINGERPRINT_SIZE; i++)
      g_string_append_printf (fp, "%02x", host->fingerprint[i]);
    if (host->fingerprint_overridden)
      g_string_assign (fp, "TEST OVERRIDE");
    g_variant_dict_insert (d, "fingerprint", "s", fp->str);
  }
  g_string_free (fp, TRUE);
  return g_variant_dict_end (d);
}

static GVariant *
cmd_dli (VolactHost *host, const char *const *args, GError **error)
{
  return cmd_describe (host, FALSE, error);
}

static GVariant *
cmd_dlv (VolactHost *host, const char *const *args, GError **error)
{
  return cmd_describe (host, TRUE, error);
}

static GVariant *
cmd_not_available (VolactHost *host, const char *const *args, GError **error)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_NOT_AVAILABLE,
               "this command is not available yet in volact %s", PACKAGE_VERSION);
  return NULL;
}

/* ---- settings ---- */

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

static gboolean
parse_minutes (const char *text, const char *what, guint *out, GError **error)
{
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, 15, 43200, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "the %s must be a whole number of minutes from 15 to 43200 (30 days), not \"%s\"",
                 what, text);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

static GVariant *
cmd_sai (VolactHost *host, const char *const *args, GError **error)
{
  guint v;
  g_autofree char *msg = NULL;
  if (!parse_minutes (args[0], "activation interval", &v, error))
    return NULL;
  host->state->activation_interval = v;
  if (!save_state (host, error))
    return NULL;
  msg = g_strdup_printf ("Volume activation interval set to %u minutes successfully. Clients "
                         "receive it in their next response.", v);
  return reply_message (msg);
}

static GVariant *
cmd_sri (VolactHost *host, const char *const *args, GError **error)
{
  guint v;
  g_autofree char *msg = NULL;
  if (!parse_minutes (args[0], "renewal interval", &v, error))
    return NULL;
  host->state->renewal_interval = v;
  if (!save_state (host, error))
    return NULL;
  msg = g_strdup_printf ("Volume renewal interval set to %u minutes successfully. Clients "
                         "receive it in their next response.", v);
  return reply_message (msg);
}

static GVariant *
cmd_sprt (VolactHost *host, const char *const *args, GError **error)
{
  guint64 v;
  g_autofree char *msg = NULL;
  if (!g_ascii_string_to_unsigned (args[0], 10, 1, 65535, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "the port must be a whole number from 1 to 65535, not \"%s\"", args[0]);
    return NULL;
  }
  host->state->port = (guint) v;
  if (!save_state (host, error))
    return NULL;
  msg = g_strdup_printf ("KMS TCP port set to %u successfully. It takes effect when volactd "
                         "restarts; until then clients keep using port %u.",
                         (guint) v, host->cfg->port);
  return reply_message (msg);
}

static GVariant *
set_flag (VolactHost *host, gboolean *flag, gboolean value, const char *message, GError **error)
{
  *flag = value;
  if (!save_state (host, error))
    return NULL;
  return reply_message (message);
}

static GVariant *
cmd_sdns (VolactHost *host, const char *const *args, GError **error)
{
  return set_flag (host, &host->state->dns_publishing, TRUE,
                   "DNS publishing enabled (the setting; volact does not publish SRV records "
                   "yet).", error);
}

static GVariant *
cmd_cdns (VolactHost *host, const char *const *args, GError **error)
{
  return set_flag (host, &host->state->dns_publishing, FALSE, "DNS publishing disabled.", error);
}

static GVariant *
set_priority (VolactHost *host, gboolean low, GError **error)
{
  if (!volact_host_set_low_priority (low, error))
    return NULL;
  return set_flag (host, &host->state->low_priority, low,
                   low ? "KMS priority set to Low." : "KMS priority set to Normal.", error);
}

static GVariant *
cmd_cpri (VolactHost *host, const char *const *args, GError **error)
{
  return set_priority (host, TRUE, error);
}

static GVariant *
cmd_spri (VolactHost *host, const char *const *args, GError **error)
{
  return set_priority (host, FALSE, error);
}

static GVariant *
cmd_clients (VolactHost *host, const char *const *args, GError **error)
{
  gboolean duplicates = FALSE;
  g_autoptr (GVariantDict) d = NULL;

  if (args[0] != NULL) {
    if (!g_str_equal (args[0], "--duplicates")) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "usage: clients [--duplicates]");
      return NULL;
    }
    duplicates = TRUE;
  }
  d = volact_admin_reply_new (0, "");
  g_variant_dict_insert_value (d, "clients",
                               volact_records_clients (host->records, duplicates, 100000));
  return g_variant_dict_end (d);
}

/* --since accepts unix seconds or an ISO 8601 date/time (UTC unless it says otherwise). */
static gboolean
parse_since (const char *text, gint64 *out, GError **error)
{
  guint64 secs;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) dt = NULL;
  g_autofree char *with_time = NULL;

  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &secs, NULL)) {
    *out = (gint64) secs;
    return TRUE;
  }
  dt = g_date_time_new_from_iso8601 (text, utc);
  if (dt == NULL && strlen (text) == 10) {
    with_time = g_strconcat (text, "T00:00:00", NULL);
    dt = g_date_time_new_from_iso8601 (with_time, utc);
  }
  if (dt == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "--since wants unix seconds or an ISO 8601 date/time, not \"%s\"", text);
    return FALSE;
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static GVariant *
cmd_events (VolactHost *host, const char *const *args, GError **error)
{
  gint64 since = 0;
  gboolean csv = FALSE;
  g_autoptr (GVariantDict) d = NULL;

  for (guint i = 0; args[i] != NULL; i++) {
    if (g_str_equal (args[i], "--csv")) {
      csv = TRUE;
    } else if (g_str_equal (args[i], "--since") && args[i + 1] != NULL) {
      if (!parse_since (args[++i], &since, error))
        return NULL;
    } else {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "usage: events [--since TIME] [--csv]");
      return NULL;
    }
  }
  d = volact_admin_reply_new (0, "");
  g_variant_dict_insert (d, "csv", "b", csv);
  g_variant_dict_insert_value (d, "events", volact_records_events (host->records, since, 1000000));
  return g_variant_dict_end (d);
}

typedef struct {
  const char *name;
  CommandFunc func;
  gboolean unlocked; /* takes the lock itself (long-running) */
} CommandEntry;

static GVariant *
cmd_ato_entry (VolactHost *host, const char *const *args, GError **error)
{
  return activate_online (host, error);
}

static GVariant *
cmd_reload_entry (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = NULL;
  g_autofree char *msg = NULL;

  if (!volact_host_reload (host, error))
    return NULL;
  catalog = volact_catalog_holder_get (host->catalog);
  msg = g_strdup_printf ("Reloaded: %u plugins, %u license files, %u editions, %u key groups.",
                         volact_catalog_plugins (catalog)->len, volact_catalog_n_files (catalog),
                         volact_catalog_editions (catalog)->len,
                         volact_catalog_key_groups (catalog)->len);
  host_event (host, 1007, "%s", msg);
  return reply_message (msg);
}

static const CommandEntry command_table[] = {
  { "ipk", cmd_ipk, FALSE },
  { "upk", cmd_upk, FALSE },
  { "ato", cmd_ato_entry, TRUE },
  { "dti", cmd_dti, FALSE },
  { "atp", cmd_atp, FALSE },
  { "dli", cmd_dli, FALSE },
  { "dlv", cmd_dlv, FALSE },
  { "reload", cmd_reload_entry, TRUE },
  { "sprt", cmd_sprt, FALSE },
  { "sai", cmd_sai, FALSE },
  { "sri", cmd_sri, FALSE },
  { "sdns", cmd_sdns, FALSE },
  { "cdns", cmd_cdns, FALSE },
  { "spri", cmd_spri, FALSE },
  { "cpri", cmd_cpri, FALSE },
  { "clients", cmd_clients, FALSE },
  { "events", cmd_events, FALSE },
};

GVariant *
volact_host_command (const char *command, const char *const *args, gpointer user_data)
{
  VolactHost *host = user_data;
  g_autoptr (GError) error = NULL;
  const CommandEntry *entry = NULL;
  GVariant *reply;

  for (gsize i = 0; i < G_N_ELEMENTS (command_table); i++)
    if (g_str_equal (command_table[i].name, command))
      entry = &command_table[i];
  if (entry == NULL) {
    reply = cmd_not_available (host, args, &error);
  } else if (entry->unlocked) {
    reply = entry->func (host, args, &error);
  } else {
    g_mutex_lock (&host->lock);
    reply = entry->func (host, args, &error);
    g_mutex_unlock (&host->lock);
  }
  if (reply == NULL) {
    g_message ("volactctl %s failed: %s", command, error->message);
    return volact_admin_reply_error (error);
  }
  return reply;
}
