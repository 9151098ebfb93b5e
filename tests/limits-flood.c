/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A flooding client for tests/limits.sh and bench/limits-bench.sh: from a
 * chosen loopback source address, either sends requests as fast as the host
 * answers (over a few connections, each request a new machine ID unless
 * --same-cmid) and tallies the answers, or holds idle connections. Bounded
 * by --requests and --seconds, or stopped by SIGTERM. Prints one line:
 *
 *   sent N signed S busy B cmid_limit L other O closed C connected K
 */
#include "config.h"

#include "volact-error.h"
#include "volact-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *opt_host, *opt_source = "127.0.0.2", *opt_edition = "server2008r2-standard";
static gint opt_requests = 1000, opt_seconds = 10, opt_connections = 1, opt_idle = 0;
static gboolean opt_same_cmid, opt_silent;

static const GOptionEntry entries[] = {
  { "host", 0, 0, G_OPTION_ARG_STRING, &opt_host, "Host to flood (IPv4)", "ADDR:PORT" },
  { "source", 0, 0, G_OPTION_ARG_STRING, &opt_source, "Source address (default 127.0.0.2)",
    "ADDR" },
  { "requests", 'n', 0, G_OPTION_ARG_INT, &opt_requests, "Requests in all (default 1000)", "N" },
  { "seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds, "Run at most this long (default 10)",
    "S" },
  { "connections", 'c', 0, G_OPTION_ARG_INT, &opt_connections,
    "Connections sending requests (default 1)", "N" },
  { "idle", 0, 0, G_OPTION_ARG_INT, &opt_idle,
    "Hold N idle connections for --seconds instead of sending", "N" },
  { "same-cmid", 0, 0, G_OPTION_ARG_NONE, &opt_same_cmid, "One machine ID for every request",
    NULL },
  { "silent", 0, 0, G_OPTION_ARG_NONE, &opt_silent,
    "--idle connections send nothing (by default each sends one request, then idles: volactd's "
    "TCP_DEFER_ACCEPT hands it over only once data came)",
    NULL },
  { "edition", 0, 0, G_OPTION_ARG_STRING, &opt_edition, "Edition asked for", "ID" },
  { NULL },
};

static struct sockaddr_in host_addr, source_addr;
/* SIGTERM: stop and print the tally (the tests stop a flood when their real client is done). */
static volatile sig_atomic_t stopping;

static void
on_term (int sig)
{
  (void) sig;
  stopping = 1;
}

typedef struct {
  guint64 sent, signed_ok, busy, cmid_limit, other, closed, connected;
} Tally;

/* A connection from the source address, or -1 (counted as closed). */
static int
connect_one (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { 2, 0 };

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (bind (fd, (struct sockaddr *) &source_addr, sizeof source_addr) != 0
      || connect (fd, (struct sockaddr *) &host_addr, sizeof host_addr) != 0) {
    close (fd);
    return -1;
  }
  return fd;
}

/* Reads one whole answer into BUF; returns its length, 0 when the host closed. */
static gsize
read_answer (int fd, guint8 *buf)
{
  gsize have = 0, want = VOLACT_PROTO_HEADER_SIZE;

  while (have < want) {
    ssize_t n = recv (fd, buf + have, want - have, 0);
    if (n <= 0)
      return 0;
    have += (gsize) n;
    if (have == VOLACT_PROTO_HEADER_SIZE) {
      VolactMessageType type;
      gsize total;
      if (!volact_proto_peek (buf, have, &type, &total, NULL)
          || total > VOLACT_PROTO_RESPONSE_SIZE)
        return 0;
      want = total;
    }
  }
  return have;
}

/* One request on FD: tallied by its answer. FALSE when the connection is gone. */
static gboolean
ask (int fd, Tally *t)
{
  VolactRequest req = { 0 };
  guint8 msg[VOLACT_PROTO_REQUEST_MAX], answer[VOLACT_PROTO_RESPONSE_SIZE], nonce[16];
  gsize len, got;
  guint32 code;

  for (gsize i = 0; i < sizeof req.nonce; i++)
    req.nonce[i] = (guint8) g_random_int ();
  req.cmid[0] = 0xf1;
  if (!opt_same_cmid)
    for (gsize i = 1; i < sizeof req.cmid; i++)
      req.cmid[i] = (guint8) g_random_int ();
  req.state = 0;
  g_strlcpy (req.edition, opt_edition, sizeof req.edition);
  /* One name: with --same-cmid, new names would each raise the duplicate-CMID event. */
  g_strlcpy (req.name, "flood.example.org", sizeof req.name);
  len = volact_request_encode (&req, msg, NULL);
  if (len == 0 || send (fd, msg, len, MSG_NOSIGNAL) != (ssize_t) len)
    return FALSE;
  t->sent++;
  got = read_answer (fd, answer);
  if (got == VOLACT_PROTO_RESPONSE_SIZE)
    t->signed_ok++;
  else if (got == VOLACT_PROTO_ERROR_SIZE
           && volact_error_response_decode (answer, got, nonce, &code, NULL)) {
    if (code == (guint32) VOLACT_E_HOST_BUSY)
      t->busy++;
    else if (code == (guint32) VOLACT_E_NEW_CMID_LIMIT)
      t->cmid_limit++;
    else
      t->other++;
  } else {
    return FALSE;
  }
  return TRUE;
}

static void
flood (Tally *t, gint64 end)
{
  int *fds = g_new (int, opt_connections);

  for (gint i = 0; i < opt_connections; i++)
    if ((fds[i] = connect_one ()) >= 0)
      t->connected++;
  while (!stopping && t->sent < (guint64) opt_requests && g_get_monotonic_time () < end) {
    gboolean any = FALSE;
    for (gint i = 0; i < opt_connections && t->sent < (guint64) opt_requests; i++) {
      if (fds[i] < 0)
        continue;
      any = TRUE;
      if (!ask (fds[i], t)) {
        close (fds[i]);
        t->closed++;
        if ((fds[i] = connect_one ()) >= 0)
          t->connected++;
      }
    }
    if (!any)
      break;
  }
  for (gint i = 0; i < opt_connections; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  g_free (fds);
}

/* Holds idle connections until END; counts the ones the host closes meanwhile. */
static void
hold (Tally *t, gint64 end)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));

  for (gint i = 0; i < opt_idle; i++) {
    struct pollfd p = { connect_one (), POLLIN, 0 };
    if (p.fd < 0)
      continue;
    t->connected++;
    if (!opt_silent && !ask (p.fd, t)) {
      close (p.fd);
      t->closed++;
      continue;
    }
    g_array_append_val (fds, p);
  }
  printf ("holding %" G_GUINT64_FORMAT "\n", t->connected);
  fflush (stdout);
  while (!stopping && g_get_monotonic_time () < end && t->closed < t->connected) {
    int n = poll ((struct pollfd *) fds->data, fds->len, 200);
    for (guint i = 0; n > 0 && i < fds->len; i++) {
      struct pollfd *p = &g_array_index (fds, struct pollfd, i);
      char b[64];
      if (p->fd >= 0 && (p->revents & (POLLIN | POLLHUP | POLLERR))
          && recv (p->fd, b, sizeof b, MSG_DONTWAIT) <= 0) {
        close (p->fd);
        p->fd = -1;
        t->closed++;
      }
    }
  }
  for (guint i = 0; i < fds->len; i++)
    if (g_array_index (fds, struct pollfd, i).fd >= 0)
      close (g_array_index (fds, struct pollfd, i).fd);
  g_array_free (fds, TRUE);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- flood a volact host from one source");
  g_autoptr (GError) error = NULL;
  g_autofree char *addr = NULL;
  Tally t = { 0 };
  char *colon;
  gint64 end;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || opt_host == NULL
      || (colon = strrchr (opt_host, ':')) == NULL || opt_connections < 1 || opt_seconds < 1
      || opt_seconds > 600) {
    fprintf (stderr, "limits-flood: --host ADDR:PORT required (%s)\n",
             error ? error->message : "see --help");
    return 2;
  }
  addr = g_strndup (opt_host, (gsize) (colon - opt_host));
  host_addr.sin_family = source_addr.sin_family = AF_INET;
  host_addr.sin_port = htons ((guint16) atoi (colon + 1));
  if (inet_pton (AF_INET, addr, &host_addr.sin_addr) != 1
      || inet_pton (AF_INET, opt_source, &source_addr.sin_addr) != 1) {
    fprintf (stderr, "limits-flood: bad address\n");
    return 2;
  }
  signal (SIGTERM, on_term);
  end = g_get_monotonic_time () + (gint64) opt_seconds * G_USEC_PER_SEC;
  if (opt_idle > 0)
    hold (&t, end);
  else
    flood (&t, end);
  printf ("sent %" G_GUINT64_FORMAT " signed %" G_GUINT64_FORMAT " busy %" G_GUINT64_FORMAT
          " cmid_limit %" G_GUINT64_FORMAT " other %" G_GUINT64_FORMAT " closed %" G_GUINT64_FORMAT
          " connected %" G_GUINT64_FORMAT "\n",
          t.sent, t.signed_ok, t.busy, t.cmid_limit, t.other, t.closed, t.connected);
  return t.connected > 0 ? 0 : 1;
}
