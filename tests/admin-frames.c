/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sends COUNT administration requests of about SIZE bytes each on one
 * connection to volactd's admin socket and reads every reply: the load that
 * showed each request's bytes leaking in the daemon.
 *
 *   admin-frames SOCKET COUNT SIZE
 *
 * The requests name a command that does not exist, so the daemon answers each
 * with an error without changing anything; exits 0 if every reply came.
 */
#include "config.h"

#include "volact-admin-proto.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GVariant) request = NULL;
  g_autofree char *filler = NULL;
  guint64 count, size;
  const char *args[2] = { NULL, NULL };

  if (argc != 4 || !g_ascii_string_to_unsigned (argv[2], 10, 1, 1000000, &count, NULL)
      || !g_ascii_string_to_unsigned (argv[3], 10, 64, VOLACT_ADMIN_MAX_REQUEST, &size, NULL)) {
    fprintf (stderr, "usage: admin-frames SOCKET COUNT SIZE (64..%u)\n", VOLACT_ADMIN_MAX_REQUEST);
    return 2;
  }
  /* Room for the framing of "(sas)" around one argument. */
  filler = g_strnfill ((gsize) size - 48, 'x');
  args[0] = filler;
  request = g_variant_ref_sink (g_variant_new ("(s^as)", "no-such-command", args));
  addr = g_unix_socket_address_new (argv[1]);
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, &error);
  for (guint64 i = 0; conn != NULL && i < count; i++) {
    g_autoptr (GVariant) reply = NULL;
    if (!volact_admin_write (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request, NULL,
                             &error))
      break;
    reply = volact_admin_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                               VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY, NULL, &error);
    if (reply == NULL) {
      if (error == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                     "closed after %" G_GUINT64_FORMAT " replies", i);
      break;
    }
  }
  if (error != NULL) {
    fprintf (stderr, "admin-frames: %s\n", error->message);
    return 1;
  }
  printf ("%" G_GUINT64_FORMAT " requests of %" G_GUINT64_FORMAT " bytes answered\n", count, size);
  return 0;
}
