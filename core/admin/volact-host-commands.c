/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The license and activation commands: ipk, upk, ato, dti, atp, dli, dlv, reload. */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-admin-proto.h"
#include "volact-answer.h"
#include "volact-authority-proto.h"
#include "volact-bytes.h"
#include "volact-error.h"
#include "volact-host-private.h"
#include "volact-key.h"

#include <string.h>

GVariant *
volact_cmd_reply_message (const char *message)
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

GVariant *
volact_cmd_ipk (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  g_autoptr (GError) local = NULL;
  g_autofree char *msg = NULL;
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
    VolactState *next = volact_state_copy (host->state);
    g_free (next->product_key);
    next->product_key = g_strdup (canonical);
    volact_state_clear_activation (next); /* a new key needs its own activation */
    if (!volact_host_commit (host, next, error))
      return NULL;
    volact_host_event (host, VOLACT_EVENT_KEY_INSTALLED,
                       "host key of group %u installed (partial key %s)", key.group,
                       canonical + VOLACT_KEY_TEXT_SIZE - VOLACT_KEY_PARTIAL_SIZE);
  }
  msg = g_strdup_printf ("Installed product key %s successfully.", canonical);
  return volact_cmd_reply_message (msg);
}

GVariant *
volact_cmd_upk (VolactHost *host, const char *const *args, GError **error)
{
  VolactState *next;

  if (!require_key (host, error))
    return NULL;
  next = volact_state_copy (host->state);
  g_clear_pointer (&next->product_key, g_free);
  volact_state_clear_activation (next);
  if (!volact_host_commit (host, next, error))
    return NULL;
  volact_host_event (host, VOLACT_EVENT_KEY_REMOVED, "host key uninstalled");
  return volact_cmd_reply_message ("Uninstalled product key successfully.");
}

static void
own_installation_id (VolactHost *host, VolactInstallationId *iid)
{
  volact_installation_id_init (iid, &host->key, host->host_id, host->fingerprint);
}

GVariant *
volact_cmd_dti (VolactHost *host, const char *const *args, GError **error)
{
  g_autoptr (VolactCatalog) catalog = volact_catalog_holder_get (host->catalog);
  const VolactKeyGroup *group;
  VolactInstallationId iid;
  char text[VOLACT_IID_TEXT_SIZE];
  g_autoptr (GVariantDict) d = NULL;
  g_autofree char *out = NULL;

  if (!require_key (host, error) || !volact_host_check_activation (host, error))
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
  VolactState *next;
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
  next = volact_state_copy (host->state);
  volact_state_clear_activation (next);
  next->certificate = g_bytes_new (raw, sizeof raw);
  next->activated_by = g_strdup (method);
  next->activated_at = g_get_real_time () / G_USEC_PER_SEC;
  if (!volact_host_commit (host, next, error))
    return FALSE;
  volact_host_event (host, VOLACT_EVENT_HOST_ACTIVATED,
                     "host activated (%s), key group %u, activation %u of this host", method,
                     cert.body.key_group, cert.body.activation_number);
  return TRUE;
}

GVariant *
volact_cmd_atp (VolactHost *host, const char *const *args, GError **error)
{
  g_autofree char *msg = NULL;

  if (!require_key (host, error) || !volact_host_check_activation (host, error)
      || !apply_confirmation (host, args[0], "telephone", error))
    return NULL;
  msg = g_strdup_printf ("Confirmation ID for product key %s deposited successfully.",
                         host->state->product_key);
  return volact_cmd_reply_message (msg);
}

/* Online activation talks to the network: done without the lock, applied with it. */
GVariant *
volact_cmd_ato (VolactHost *host, const char *const *args, GError **error)
{
  g_autofree char *endpoint = NULL;
  g_autofree char *cid = NULL;
  char iid_text[VOLACT_IID_TEXT_SIZE];
  VolactInstallationId iid;

  g_mutex_lock (&host->lock);
  if (!require_key (host, error) || !volact_host_check_activation (host, error)) {
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
  return volact_cmd_reply_message ("Product activated successfully.");
}

/* License files the catalog in use was built without, and what that leaves unserved. */
static void
describe_refused (GVariantDict *d, const VolactCatalog *catalog)
{
  GPtrArray *refused = volact_catalog_refused_files (catalog);
  GPtrArray *unavailable = volact_catalog_unavailable (catalog);
  GVariantBuilder files, entries;

  g_variant_builder_init (&files, G_VARIANT_TYPE ("aa{ss}"));
  for (guint i = 0; i < refused->len; i++) {
    const VolactRefusedFile *r = refused->pdata[i];
    g_variant_builder_open (&files, G_VARIANT_TYPE ("a{ss}"));
    g_variant_builder_add (&files, "{ss}", "file", r->path);
    g_variant_builder_add (&files, "{ss}", "reason", r->error->message);
    g_variant_builder_close (&files);
  }
  g_variant_dict_insert (d, "refused_files", "aa{ss}", &files);
  g_variant_builder_init (&entries, G_VARIANT_TYPE ("as"));
  for (guint i = 0; i < unavailable->len; i++)
    g_variant_builder_add (&entries, "s", (const char *) unavailable->pdata[i]);
  g_variant_dict_insert (d, "not_served", "as", &entries);
}

/* Where the client records are kept (docs/store.md). */
static void
describe_store (VolactHost *host, GVariantDict *d)
{
  VolactRecordsStats st;

  volact_records_get_stats (host->records, &st);
  g_variant_dict_insert (d, "store", "s", st.shared ? "postgresql" : "sqlite");
  if (!st.shared)
    return;
  g_variant_dict_insert (d, "store_host_name", "s",
                         *host->cfg->store_host_name ? host->cfg->store_host_name
                                                     : g_get_host_name ());
  g_variant_dict_insert (d, "store_state", "s", st.store_degraded ? "degraded" : "shared");
  g_variant_dict_insert (d, "store_pulled", "t", st.store_pulled);
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

  if (!volact_host_check_activation (host, error))
    return NULL;
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
  describe_refused (d, catalog);
  {
    guint next = volact_host_configured_port (host);
    guint now = host->listening_port ? host->listening_port : next;
    g_variant_dict_insert (d, "port", "u", now);
    if (next != now)
      g_variant_dict_insert (d, "port_after_restart", "u", next);
  }
  volact_cmd_describe_dns (host, d);
  describe_store (host, d);
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
    g_autofree char *fp = host->fingerprint_overridden
                              ? g_strdup ("TEST OVERRIDE")
                              : volact_hex (host->fingerprint, VOLACT_FINGERPRINT_SIZE);
    g_variant_dict_insert (d, "fingerprint", "s", fp);
  }
  return g_variant_dict_end (d);
}

GVariant *
volact_cmd_dli (VolactHost *host, const char *const *args, GError **error)
{
  return cmd_describe (host, FALSE, error);
}

GVariant *
volact_cmd_dlv (VolactHost *host, const char *const *args, GError **error)
{
  return cmd_describe (host, TRUE, error);
}

GVariant *
volact_cmd_reload (VolactHost *host, const char *const *args, GError **error)
{
  g_autofree char *msg = NULL;

  if (!volact_host_reload (host, &msg, error))
    return NULL;
  return volact_cmd_reply_message (msg);
}
