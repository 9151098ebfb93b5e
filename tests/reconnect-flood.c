/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Holds idle connections against a server (TCP or Unix socket) and, unless
 * --hold, reopens each one as soon as the server closes it: the load that used
 * to crash volact-authority serve and volactd's administration socket. Bounded
 * by --seconds and --max-reconnects; it never sends a byte.
 *
 *   reconnect-flood (--tcp ADDR:PORT | --unix PATH) [--connections N] [--seconds S]
 *                   [--max-reconnects N] [--churn N] [--max-hold-ms MS] [--user UID:GID]
 *                   [--hold] [--partial]
 *
 * Flood mode prints what it did and exits 0 if it could connect at all.
 * --hold mode keeps N connections without reopening them and exits 0 once the
 * server has closed every one of them, 1 if some were still open after S seconds.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long one connect may wait for a full accept queue. */
#define CONNECT_TIMEOUT_MS 1000

static char *opt_tcp, *opt_unix, *opt_user;
static int opt_connections = 64, opt_seconds = 30, opt_max_reconnects = 1000000, opt_churn;
static int opt_max_hold_ms;
static gboolean opt_hold, opt_partial;

static const GOptionEntry entries[]
    = { { "tcp", 0, 0, G_OPTION_ARG_STRING, &opt_tcp, "IPv4 server address", "ADDR:PORT" },
        { "unix", 0, 0, G_OPTION_ARG_FILENAME, &opt_unix, "Unix socket path", "PATH" },
        { "connections", 'n', 0, G_OPTION_ARG_INT, &opt_connections, "Connections held", "N" },
        { "seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds, "Run at most this long", "S" },
        { "max-reconnects", 0, 0, G_OPTION_ARG_INT, &opt_max_reconnects,
          "Stop after this many reopened connections", "N" },
        { "churn", 0, 0, G_OPTION_ARG_INT, &opt_churn,
          "Of the connections, this many are closed by us right after connecting, in a loop", "N" },
        { "max-hold-ms", 0, 0, G_OPTION_ARG_INT, &opt_max_hold_ms,
          "Also close each connection ourselves after a random 0..MS ms, and reopen it", "MS" },
        { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user,
          "Drop to this numeric user and group first (needs root)", "UID:GID" },
        { "hold", 0, 0, G_OPTION_ARG_NONE, &opt_hold,
          "Do not reopen; succeed once the server closed them all", NULL },
        { "partial", 0, 0, G_OPTION_ARG_NONE, &opt_partial,
          "Send the first 2 bytes of a frame length on each connection, then nothing", NULL },
        { NULL } };

static struct sockaddr_storage target;
static socklen_t target_len;

static gboolean
parse_target (GError **error)
{
  memset (&target, 0, sizeof target);
  if (opt_unix != NULL) {
    struct sockaddr_un *un = (struct sockaddr_un *) &target;
    if (strlen (opt_unix) >= sizeof un->sun_path) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "socket path too long");
      return FALSE;
    }
    un->sun_family = AF_UNIX;
    strcpy (un->sun_path, opt_unix);
    target_len = sizeof *un;
    return TRUE;
  }
  if (opt_tcp != NULL) {
    struct sockaddr_in *in = (struct sockaddr_in *) &target;
    g_autofree char *host = g_strdup (opt_tcp);
    char *colon = strrchr (host, ':');
    guint64 port;
    if (colon != NULL) {
      *colon = '\0';
      in->sin_family = AF_INET;
      if (inet_pton (AF_INET, host, &in->sin_addr) == 1
          && g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL)) {
        in->sin_port = htons ((guint16) port);
        target_len = sizeof *in;
        return TRUE;
      }
    }
  }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "give --tcp IPV4:PORT or --unix PATH");
  return FALSE;
}

static gboolean
drop_privileges (GError **error)
{
  guint64 uid, gid;
  g_auto (GStrv) parts = opt_user ? g_strsplit (opt_user, ":", 2) : NULL;

  if (parts == NULL)
    return TRUE;
  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXUINT32 - 1, &uid, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT32 - 1, &gid, NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--user wants UID:GID");
    return FALSE;
  }
  if (setgroups (0, NULL) != 0 || setgid ((gid_t) gid) != 0 || setuid ((uid_t) uid) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "dropping to %s: %s", opt_user,
                 g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* A blocking connect that gives up after CONNECT_TIMEOUT_MS; -1 if it failed. */
static int
open_one (void)
{
  struct timeval tv = { CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000 };
  int fd = socket (target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &target, target_len) != 0) {
    close (fd);
    return -1;
  }
  /* Half of a 4-byte length prefix: a request that never completes. */
  if (opt_partial && send (fd, "\0\0", 2, MSG_NOSIGNAL) != 2) {
    close (fd);
    return -1;
  }
  return fd;
}

/* TRUE once the server has closed FD (end of stream or an error); what it sent is dropped. */
static gboolean
closed_by_server (int fd)
{
  char buf[512];
  ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- hold reconnecting idle connections");
  g_autoptr (GError) error = NULL;
  g_autofree struct pollfd *fds = NULL;
  g_autofree gint64 *hold_until = NULL;
  gint64 end;
  guint64 reopened = 0, failed = 0, closed = 0;
  int open_count = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !parse_target (&error)
      || !drop_privileges (&error)) {
    fprintf (stderr, "reconnect-flood: %s\n", error->message);
    return 2;
  }
  if (opt_connections < 1 || opt_connections > 4096 || opt_seconds < 1 || opt_seconds > 600
      || opt_churn < 0 || opt_churn > opt_connections || opt_max_hold_ms < 0
      || (opt_hold && (opt_churn > 0 || opt_max_hold_ms > 0))) {
    fprintf (stderr, "reconnect-flood: --connections 1..4096, --seconds 1..600, --churn 0..N "
                     "without --hold\n");
    return 2;
  }
  end = g_get_monotonic_time () + (gint64) opt_seconds * G_TIME_SPAN_SECOND;
  fds = g_new0 (struct pollfd, opt_connections);
  hold_until = g_new0 (gint64, opt_connections);
  for (int i = 0; i < opt_connections; i++) {
    fds[i].fd = open_one ();
    fds[i].events = POLLIN;
    if (fds[i].fd < 0)
      failed++;
    else
      open_count++;
  }
  if (opt_hold && open_count < opt_connections) {
    fprintf (stderr, "reconnect-flood: only %d of %d connections opened\n", open_count,
             opt_connections);
    return 1;
  }

  while (g_get_monotonic_time () < end && reopened < (guint64) opt_max_reconnects) {
    if (opt_hold && closed == (guint64) opt_connections)
      break;
    if (poll (fds, (nfds_t) opt_connections, opt_churn > 0 || opt_max_hold_ms > 0 ? 1 : 100) < 0
        && errno != EINTR)
      break;
    for (int i = 0; i < opt_connections; i++) {
      if (opt_max_hold_ms > 0 && fds[i].fd >= 0 && hold_until[i] == 0)
        hold_until[i]
            = g_get_monotonic_time () + g_random_int_range (0, opt_max_hold_ms + 1) * 1000;
      if (fds[i].fd >= 0 && hold_until[i] != 0 && g_get_monotonic_time () >= hold_until[i]) {
        /* Held long enough: the server sees connections end all the time at its limit. */
        close (fds[i].fd);
        fds[i].fd = -1;
      }
      if (fds[i].fd < 0)
        hold_until[i] = 0;
      if (i < opt_churn && fds[i].fd >= 0) {
        /* Connect and close at once: the server finishes connections as fast as it accepts. */
        close (fds[i].fd);
        fds[i].fd = -1;
      }
      if (fds[i].fd >= 0 && (fds[i].revents == 0 || !closed_by_server (fds[i].fd)))
        continue;
      if (fds[i].fd >= 0) {
        close (fds[i].fd);
        fds[i].fd = -1;
        closed++;
      }
      if (opt_hold)
        continue;
      fds[i].fd = open_one ();
      if (fds[i].fd < 0)
        failed++;
      else
        reopened++;
    }
  }
  for (int i = 0; i < opt_connections; i++)
    if (fds[i].fd >= 0)
      close (fds[i].fd);

  printf ("%d connections: %" G_GUINT64_FORMAT " closed by the server, %" G_GUINT64_FORMAT
          " reopened, %" G_GUINT64_FORMAT " connects failed\n",
          opt_connections, closed, reopened, failed);
  if (opt_hold)
    return closed == (guint64) opt_connections ? 0 : 1;
  return open_count > 0 || reopened > 0 ? 0 : 1;
}
