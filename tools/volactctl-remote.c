/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactctl --remote: the same command, sent to the host's HTTPS listener (docs/web.md). */
#include "config.h"

#include "volactctl-remote.h"

#include "volact-admin-proto.h"
#include "volact-error.h"
#include "volact-web.h"
#include "volactctl-password.h"

#include <libsoup/soup.h>
#include <openssl/crypto.h>
#include <string.h>

/* A report or an event export may take a while. */
#define REMOTE_TIMEOUT_SECONDS 300

/* PIN without colons, lower case, if it is 64 hex digits. */
static char *
normal_pin (const char *pin)
{
  GString *s = g_string_new (NULL);

  for (const char *p = pin; *p; p++)
    if (*p != ':')
      g_string_append_c (s, g_ascii_tolower (*p));
  if (s->len != 64 || strspn (s->str, "0123456789abcdef") != 64) {
    g_string_free (s, TRUE);
    return NULL;
  }
  return g_string_free (s, FALSE);
}

/* Accepts the host's certificate when its SHA-256 is the pin, whatever else is wrong with it. */
static gboolean
accept_pinned (SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer pin)
{
  g_autoptr (GByteArray) der = NULL;
  g_autofree char *sum = NULL;

  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL)
    return FALSE;
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  return g_str_equal (sum, pin);
}

static SoupSession *
new_session (const VolactctlRemote *r, char **pin, GError **error)
{
  SoupSession *session;

  g_setenv ("G_TLS_GNUTLS_PRIORITY", VOLACT_WEB_TLS_PRIORITY, FALSE);
  session = soup_session_new_with_options ("timeout", REMOTE_TIMEOUT_SECONDS, "user-agent",
                                           "volactctl/" PACKAGE_VERSION, NULL);
  if (r->pin != NULL) {
    *pin = normal_pin (r->pin);
    if (*pin == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "--pin %s: not a SHA-256 fingerprint (64 hex digits, colons allowed; "
                   "openssl x509 -noout -fingerprint -sha256 prints it)",
                   r->pin);
      g_object_unref (session);
      return NULL;
    }
    /* No database: every certificate comes to accept_pinned, which takes only the pinned one. */
    g_object_set (session, "tls-database", NULL, NULL);
  } else if (r->ca != NULL) {
    g_autoptr (GTlsDatabase) db = g_tls_file_database_new (r->ca, error);
    if (db == NULL) {
      g_prefix_error (error, "--ca %s: ", r->ca);
      g_object_unref (session);
      return NULL;
    }
    g_object_set (session, "tls-database", db, NULL);
  }
  return session;
}

static void
set_credentials (SoupMessage *msg, const char *user, const char *password)
{
  g_autofree char *pair = g_strdup_printf ("%s:%s", user, password);
  g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  g_autofree char *header = g_strdup_printf ("Basic %s", b64);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", header);
  OPENSSL_cleanse (pair, strlen (pair));
  OPENSSL_cleanse (b64, strlen (b64));
  OPENSSL_cleanse (header, strlen (header));
}

GVariant *
volactctl_remote_call (const VolactctlRemote *r, const VolactCommand *cmd,
                       const char *const *args, GError **error)
{
  const char *user = r->user ? r->user : g_get_user_name ();
  g_autofree char *pin = NULL;
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *password = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GVariant) request = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) answer = NULL;
  const char *type;
  guint status;

  if (!g_str_has_prefix (r->url, "https://")) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "--remote %s: remote administration is only over https://HOST:PORT", r->url);
    return NULL;
  }
  session = new_session (r, &pin, error);
  if (session == NULL)
    return NULL;
  base = g_strdup (r->url);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  url = g_strconcat (base, "/api/command", NULL);
  msg = soup_message_new ("POST", url);
  if (msg == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "--remote %s: not a URL", r->url);
    return NULL;
  }
  if (pin != NULL)
    g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_pinned), pin);
  password = volactctl_password_read (r->password_fd, FALSE, error);
  if (password == NULL)
    return NULL;
  set_credentials (msg, user, password);
  OPENSSL_cleanse (password, strlen (password));
  request = g_variant_ref_sink (g_variant_new ("(s^as)", cmd->name, args));
  body = g_variant_get_data_as_bytes (request);
  soup_message_set_request_body_from_bytes (msg, VOLACT_WEB_COMMAND_TYPE, body);
  answer = soup_session_send_and_read (session, msg, NULL, &local);
  if (answer == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot reach volactd at %s: %s", base,
                 local->message);
    return NULL;
  }
  status = soup_message_get_status (msg);
  type = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  if (status == SOUP_STATUS_UNAUTHORIZED) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
                 "%s refused the user name or password of %s", r->url, user);
    return NULL;
  }
  if (type == NULL || !g_str_equal (type, VOLACT_WEB_COMMAND_TYPE)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s answered HTTP %u %s", r->url, status,
                 soup_message_get_reason_phrase (msg));
    return NULL;
  }
  return volact_admin_decode (answer, VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY, error);
}
