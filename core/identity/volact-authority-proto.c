/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-authority-proto.h"

#include "volact-error.h"

#include <string.h>

#define REQUEST_PREFIX "ACTIVATE 1 "

char *
volact_authority_read_line (GInputStream *in, gsize max, GCancellable *cancellable,
                            GError **error)
{
  GString *line = g_string_new (NULL);

  for (;;) {
    char c;
    gssize n = g_input_stream_read (in, &c, 1, cancellable, error);
    if (n < 0)
      goto fail;
    if (n == 0) {
      if (line->len == 0) {
        g_string_free (line, TRUE);
        return NULL;
      }
      g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY, "connection closed inside a line");
      goto fail;
    }
    if (c == '\n')
      break;
    if (line->len >= max) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE, "line longer than %zu bytes", max);
      goto fail;
    }
    if ((guchar) c < 0x20 || (guchar) c > 0x7e) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY, "line holds a non-printable byte");
      goto fail;
    }
    g_string_append_c (line, c);
  }
  return g_string_free (line, FALSE);
fail:
  g_string_free (line, TRUE);
  return NULL;
}

char *
volact_authority_parse_request (const char *line, GError **error)
{
  if (!g_str_has_prefix (line, REQUEST_PREFIX)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY,
                 "not an activation request (expected \"ACTIVATE 1 <Installation ID>\")");
    return NULL;
  }
  return g_strdup (line + strlen (REQUEST_PREFIX));
}

char *
volact_authority_format_reply (const char *cid_text, const GError *error)
{
  if (error == NULL)
    return g_strdup_printf ("OK %s\n", cid_text);
  return g_strdup_printf ("ERROR 0x%08X %s\n",
                          error->domain == VOLACT_ERROR ? (guint32) error->code
                                                        : (guint32) VOLACT_E_FAILED,
                          error->message);
}

/* Parses "ERROR 0xXXXXXXXX message" into a GError carrying the authority's code. */
static void
set_reply_error (GError **error, const char *endpoint, const char *line)
{
  guint32 code = (guint32) VOLACT_E_AUTHORITY;
  const char *msg = "";
  g_auto (GStrv) parts = g_strsplit (line, " ", 3);

  if (g_strv_length (parts) >= 2 && g_str_equal (parts[0], "ERROR")
      && volact_error_parse_code (parts[1], &code)) {
    msg = parts[2] ? parts[2] : "";
    g_set_error (error, VOLACT_ERROR, (gint) code, "the authority at %s refused: %s", endpoint,
                 msg);
    return;
  }
  g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY, "the authority at %s answered badly",
               endpoint);
}

char *
volact_authority_activate (const char *endpoint, const char *iid_text, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *request = g_strdup_printf (REQUEST_PREFIX "%s\n", iid_text);
  g_autofree char *line = NULL;
  GSocket *socket;

  const char *via = g_getenv ("all_proxy") ? g_getenv ("all_proxy") : g_getenv ("ALL_PROXY");
  g_auto (GStrv) direct = g_strsplit (g_getenv ("no_proxy") ? g_getenv ("no_proxy") : "", ",", -1);
  /* GIO's default resolver loads its proxy modules, which read desktop
   * settings through a thread of their own (about 1.5 MiB kept for the
   * host's life); a daemon takes its proxy from the environment. Without
   * one, no proxy lookup at all: GIO's proxy enumerator asks for the default
   * resolver (and so loads the modules) even when given another. */
  g_autoptr (GProxyResolver) proxy = g_simple_proxy_resolver_new (via && *via ? via : NULL, direct);

  g_socket_client_set_proxy_resolver (client, proxy);
  g_socket_client_set_enable_proxy (client, via != NULL && *via != '\0');
  g_socket_client_set_timeout (client, VOLACT_AUTHORITY_TIMEOUT_SECONDS);
  conn = g_socket_client_connect_to_host (client, endpoint, 0, NULL, error);
  if (conn == NULL)
    goto fail;
  socket = g_socket_connection_get_socket (conn);
  g_socket_set_timeout (socket, VOLACT_AUTHORITY_TIMEOUT_SECONDS);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request,
                                  strlen (request), NULL, NULL, error))
    goto fail;
  line = volact_authority_read_line (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                                     VOLACT_AUTHORITY_MAX_LINE, NULL, error);
  if (line == NULL) {
    if (error && *error == NULL)
      g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY, "no answer");
    goto fail;
  }
  if (g_str_has_prefix (line, "OK "))
    return g_strdup (line + 3);
  set_reply_error (error, endpoint, line);
  return NULL;
fail:
  if (error && *error && (*error)->domain != VOLACT_ERROR) {
    (*error)->domain = VOLACT_ERROR;
    (*error)->code = VOLACT_E_AUTHORITY;
  }
  g_prefix_error (error, "online activation with %s: ", endpoint);
  return NULL;
}
