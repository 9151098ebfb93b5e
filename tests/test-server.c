/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volactd's client listener (core/volact-server.c) from the outside: a real
 * authority and a real volactd in a temporary folder, the host's listening
 * socket bound here on 127.0.0.1:0 and handed over the systemd way
 * (LISTEN_FDS), so the port is free without guessing. A small client built
 * on core/volact-protocol.h checks: NOT_ACTIVATED before activation; two
 * exchanges on one connection; pipelined requests; a half-closed client
 * still answered; unknown and not covered editions; oversized, garbage, wrong-version and
 * non-request input answered with an error and closed; a slow client that
 * stalls nobody and is closed after 10 s; max-connections.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/x509.h>

#include "testutil.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-protocol.h"

#define MAX_CONNECTIONS 6
#define WAIT_MS 5000

typedef struct {
  char *dir;
  char *key;
  pid_t authority_pid;
  pid_t host_pid;
  guint16 port;
  X509 *authority_cert;
} Fixture;

static Fixture fx;

/* ---- processes ---------------------------------------------------------------------------- */

/* Runs ARGV to completion; returns its stdout (NULL and a message on failure). */
static char *
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error)) {
    print_error ("cannot run %s: %s\n", argv[0], error->message);
    return NULL;
  }
  if (!g_spawn_check_wait_status (status, NULL)) {
    print_error ("%s %s failed: %s%s\n", argv[0], argv[1], out, err);
    g_free (out);
    return NULL;
  }
  return out;
}

/* fork + exec ARGV with stdout and stderr to LOG; LISTEN_FD (if >= 0) becomes descriptor 3. */
static pid_t
start (const char *const *argv, const char *log, int listen_fd)
{
  int out = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  pid_t pid;

  if (out < 0)
    return -1;
  pid = fork ();
  if (pid == 0) {
    dup2 (out, 1);
    dup2 (out, 2);
    if (listen_fd >= 0) {
      if (listen_fd == 3)
        fcntl (3, F_SETFD, 0);
      else
        dup2 (listen_fd, 3);
      /* systemd's contract: LISTEN_PID is the process that execs volactd, known only here. */
      g_assert (argv[0] != NULL);
      execl ("/bin/sh", "sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"", argv[0],
             argv[1], argv[2], argv[3], (char *) NULL);
    } else {
      execv (argv[0], (char **) argv);
    }
    _exit (127);
  }
  close (out);
  return pid;
}

static void
stop (pid_t *pid)
{
  if (*pid <= 0)
    return;
  kill (*pid, SIGTERM);
  waitpid (*pid, NULL, 0);
  *pid = -1;
}

static gboolean
wait_for (gboolean (*ready) (const char *), const char *arg)
{
  for (int i = 0; i < 100; i++) {
    if (ready (arg))
      return TRUE;
    g_usleep (100000);
  }
  return FALSE;
}

static gboolean
is_socket (const char *path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
has_listening_line (const char *path)
{
  g_autofree char *text = NULL;
  return g_file_get_contents (path, &text, NULL, NULL) && strstr (text, "listening on ") != NULL;
}

static int
setup (void **state)
{
  g_autofree char *authority = test_buildpath ("tools/volact-authority");
  g_autofree char *volactd = test_buildpath ("core/volactd/volactd");
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autofree char *licenses = test_srcpath ("licenses");
  g_autofree char *reference = test_reference_trust ();
  g_autofree char *adir = NULL, *apem = NULL, *trust = NULL, *conf = NULL, *fp = NULL;
  g_autofree char *sock = NULL, *aout = NULL, *alog = NULL, *hlog = NULL, *text = NULL;
  g_autofree char *ref_pem = NULL, *auth_pem = NULL, *endpoint = NULL, *config = NULL;
  g_autoptr (GError) error = NULL;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  char *out;
  int lfd;

  fx.dir = test_tmpdir ();
  adir = g_build_filename (fx.dir, "authority", NULL);
  apem = g_build_filename (adir, "authority.pem", NULL);
  trust = g_build_filename (fx.dir, "trust.pem", NULL);
  conf = g_build_filename (fx.dir, "volactd.conf", NULL);
  fp = g_build_filename (fx.dir, "fingerprint", NULL);
  sock = g_build_filename (fx.dir, "admin.sock", NULL);
  aout = g_build_filename (fx.dir, "authority.out", NULL);
  alog = g_build_filename (fx.dir, "authority.log", NULL);
  hlog = g_build_filename (fx.dir, "volactd.log", NULL);

  /* The authority: keys, one host key of group 24 (activates every reference edition). */
  out = run ((const char *[]){ authority, "--dir", adir, "init", NULL });
  if (out == NULL)
    return -1;
  g_free (out);
  out = run ((const char *[]){ authority, "--dir", adir, "issue-key", "--group", "24", NULL });
  if (out == NULL)
    return -1;
  fx.key = g_strstrip (out);
  if (!g_file_get_contents (reference, &ref_pem, NULL, &error)
      || !g_file_get_contents (apem, &auth_pem, NULL, &error))
    return -1;
  text = g_strconcat (ref_pem, auth_pem, NULL);
  test_write_file (trust, text, -1);
  fx.authority_cert = volact_crypto_load_certificate (apem, &error);
  if (fx.authority_cert == NULL)
    return -1;
  fx.authority_pid = start (
      (const char *[]){ authority, "--dir", adir, "serve", "--listen", "127.0.0.1:0", NULL }, aout,
      -1);
  if (!wait_for (has_listening_line, aout))
    return -1;
  g_clear_pointer (&text, g_free);
  g_file_get_contents (aout, &text, NULL, NULL);
  endpoint = g_strndup (strstr (text, "listening on ") + 13,
                        strcspn (strstr (text, "listening on ") + 13, "\r\n"));

  /* The host, on a socket bound here. */
  test_write_file (fp, "machine-id=server-test\ncpu=c\nmemory=8\nmac=02:00:00:00:00:42\ndisk=d\n",
                   -1);
  config = g_strdup_printf ("[host]\nplugin-dir = %s\nlicense-dir = %s\ntrust = %s\n"
                            "demo-authority = true\nstate-dir = %s/state\nadmin-socket = %s\nlisten = 127.0.0.1\n"
                            "authority-url = %s\nmax-connections = %d\n",
                            plugins, licenses, trust, fx.dir, sock, endpoint, MAX_CONNECTIONS);
  test_write_file (conf, config, -1);
  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen (lfd, 64) != 0
      || getsockname (lfd, (struct sockaddr *) &sa, &len) != 0)
    return -1;
  fx.port = ntohs (sa.sin_port);
  g_setenv ("VOLACT_TEST_FINGERPRINT_FILE", fp, TRUE);
  fx.host_pid
      = start ((const char *[]){ volactd, "--config", conf, "--foreground", NULL }, hlog, lfd);
  close (lfd);
  if (!wait_for (is_socket, sock)) {
    g_clear_pointer (&text, g_free);
    g_file_get_contents (hlog, &text, NULL, NULL);
    print_error ("volactd did not start:\n%s\n", text ? text : "");
    return -1;
  }
  *state = &fx;
  return 0;
}

static int
teardown (void **state)
{
  stop (&fx.host_pid);
  stop (&fx.authority_pid);
  if (fx.authority_cert)
    X509_free (fx.authority_cert);
  g_free (fx.key);
  test_rmtree (fx.dir);
  g_free (fx.dir);
  return 0;
}

static void
ctl (const char *command, const char *arg)
{
  g_autofree char *volactctl = test_buildpath ("tools/volactctl");
  g_autofree char *sock = g_build_filename (fx.dir, "admin.sock", NULL);
  g_autofree char *out = run ((const char *[]){ volactctl, "--socket", sock, command, arg, NULL });
  assert_non_null (out);
}

/* ---- the client ----------------------------------------------------------------------------- */

static int
connect_host (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_port = htons (fx.port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  return fd;
}

static void
send_all (int fd, const void *data, gsize len)
{
  assert_int_equal (send (fd, data, len, MSG_NOSIGNAL), (ssize_t) len);
}

/* Reads exactly LEN bytes within WAIT_MS; returns how many arrived before EOF, reset or timeout. */
static gsize
recv_exact (int fd, guint8 *buf, gsize len)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gsize got = 0;

  while (got < len) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ms = (int) ((deadline - g_get_monotonic_time ()) / 1000);
    ssize_t n;
    if (ms <= 0 || poll (&p, 1, ms) <= 0)
      break;
    n = recv (fd, buf + got, len - got, 0);
    if (n <= 0)
      break;
    got += (gsize) n;
  }
  return got;
}

/* One whole message (header first); returns its length, 0 if none arrived. */
static gsize
recv_message (int fd, guint8 buf[VOLACT_PROTO_MESSAGE_MAX])
{
  gsize total;

  if (recv_exact (fd, buf, VOLACT_PROTO_HEADER_SIZE) != VOLACT_PROTO_HEADER_SIZE)
    return 0;
  total = ((gsize) buf[6] << 8) | buf[7];
  assert_true (total >= VOLACT_PROTO_HEADER_SIZE && total <= VOLACT_PROTO_MESSAGE_MAX);
  assert_int_equal (
      recv_exact (fd, buf + VOLACT_PROTO_HEADER_SIZE, total - VOLACT_PROTO_HEADER_SIZE),
      total - VOLACT_PROTO_HEADER_SIZE);
  return total;
}

/* TRUE if the host closes FD (EOF or reset) within WAIT_MS, discarding what it still sends. */
static gboolean
closed_by_host (int fd)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  guint8 buf[512];

  for (;;) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ms = (int) ((deadline - g_get_monotonic_time ()) / 1000);
    ssize_t n;
    if (ms <= 0 || poll (&p, 1, ms) <= 0)
      return FALSE;
    n = recv (fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      return TRUE;
    if (n < 0)
      return FALSE;
  }
}

static gsize
make_request (const char *edition, guint8 cmid_tag, guint8 out[VOLACT_PROTO_REQUEST_MAX])
{
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  gsize len;

  for (guint i = 0; i < sizeof req.nonce; i++)
    req.nonce[i] = (guint8) g_random_int ();
  for (guint i = 0; i < sizeof req.cmid; i++)
    req.cmid[i] = (guint8) g_random_int ();
  req.cmid[0] = cmid_tag;
  req.state = VOLACT_STATE_OOB_GRACE;
  req.minutes_left = 43200;
  g_strlcpy (req.edition, edition, sizeof req.edition);
  g_strlcpy (req.name, "pc.server-test.example", sizeof req.name);
  len = volact_request_encode (&req, out, &error);
  assert_true (len > 0);
  return len;
}

/* Expects an error response with CODE; NONCE NULL means the all-zero nonce. */
static void
assert_error_response (const guint8 *msg, gsize len, const guint8 *nonce, guint32 code)
{
  g_autoptr (GError) error = NULL;
  guint8 got_nonce[VOLACT_PROTO_NONCE_SIZE], zero[VOLACT_PROTO_NONCE_SIZE] = { 0 };
  guint32 got_code = 0;

  assert_int_equal (len, VOLACT_PROTO_ERROR_SIZE);
  assert_true (volact_error_response_decode (msg, len, got_nonce, &got_code, &error));
  assert_int_equal (got_code, code);
  assert_memory_equal (got_nonce, nonce ? nonce : zero, VOLACT_PROTO_NONCE_SIZE);
}

/* Expects a signed response to REQ that verifies against the authority; returns it. */
static VolactResponse
assert_signed_response (const guint8 *msg, gsize len, const guint8 *req, gsize req_len)
{
  g_autoptr (GError) error = NULL;
  VolactResponse resp;

  assert_int_equal (len, VOLACT_PROTO_RESPONSE_SIZE);
  if (!volact_response_verify (msg, len, req, req_len, X509_get0_pubkey (fx.authority_cert), &resp,
                               &error))
    fail_msg ("%s", error->message);
  return resp;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void
test_not_activated (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len = make_request ("win7-enterprise", 1, req);
  int fd = connect_host ();

  send_all (fd, req, req_len);
  assert_error_response (msg, recv_message (fd, msg), req + 8, (guint32) VOLACT_E_NOT_ACTIVATED);
  /* The connection stays usable: a second request gets the same answer. */
  req_len = make_request ("win7-enterprise", 2, req);
  send_all (fd, req, req_len);
  assert_error_response (msg, recv_message (fd, msg), req + 8, (guint32) VOLACT_E_NOT_ACTIVATED);
  close (fd);
}

static void
test_activate (void **state)
{
  ctl ("ipk", fx.key);
  ctl ("ato", NULL);
}

static void
test_two_exchanges (void **state)
{
  guint8 a[VOLACT_PROTO_REQUEST_MAX], b[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize a_len = make_request ("win7-enterprise", 3, a);
  gsize b_len = make_request ("server2008r2-standard", 4, b);
  VolactResponse ra, rb;
  int fd = connect_host ();

  send_all (fd, a, a_len);
  ra = assert_signed_response (msg, recv_message (fd, msg), a, a_len);
  send_all (fd, b, b_len);
  rb = assert_signed_response (msg, recv_message (fd, msg), b, b_len);
  assert_memory_equal (ra.nonce, a + 8, VOLACT_PROTO_NONCE_SIZE);
  assert_memory_equal (rb.nonce, b + 8, VOLACT_PROTO_NONCE_SIZE);
  /* Counted (a new CMID raises the pool's count; client and server editions share it). */
  assert_int_equal (ra.result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  assert_int_equal (ra.minimum_count, 25);
  assert_int_equal (rb.minimum_count, 5);
  assert_true (rb.count == ra.count + 1);
  assert_int_equal (ra.activation_interval, 120);
  assert_int_equal (ra.renewal_interval, 10080);
  assert_int_equal (ra.validity_days, 180);
  close (fd);
}

static void
test_pipelined (void **state)
{
  guint8 both[2 * VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize a_len = make_request ("win7-professional", 5, both);
  gsize b_len = make_request ("win7-professional", 6, both + a_len);
  int fd = connect_host ();

  /* Not what clients do, but it must not confuse the host; nor must the half-close after. */
  send_all (fd, both, a_len + b_len);
  shutdown (fd, SHUT_WR);
  assert_signed_response (msg, recv_message (fd, msg), both, a_len);
  assert_signed_response (msg, recv_message (fd, msg), both + a_len, b_len);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_half_closed (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len = make_request ("win7-enterprise", 7, req);
  int fd = connect_host ();

  send_all (fd, req, req_len);
  shutdown (fd, SHUT_WR); /* done sending, still listening */
  assert_signed_response (msg, recv_message (fd, msg), req, req_len);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_unknown_edition (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len = make_request ("no-such-edition", 8, req);
  VolactResponse resp;
  int fd = connect_host ();

  send_all (fd, req, req_len);
  resp = assert_signed_response (msg, recv_message (fd, msg), req, req_len);
  assert_int_equal (resp.result, (guint32) VOLACT_E_EDITION_UNKNOWN);
  assert_int_equal (resp.count, 0);
  close (fd);
}

static void
test_oversized (void **state)
{
  guint8 big[400], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize len;
  int fd = connect_host ();

  /* A request header claiming 400 bytes, and the 400 bytes. */
  memset (big, 'x', sizeof big);
  memcpy (big, VOLACT_PROTO_MAGIC, 4);
  big[4] = VOLACT_PROTO_VERSION;
  big[5] = VOLACT_MSG_REQUEST;
  big[6] = sizeof big >> 8;
  big[7] = sizeof big & 0xff;
  send_all (fd, big, sizeof big);
  len = recv_message (fd, msg);
  if (len > 0) /* the error response, if it got through before the close */
    assert_error_response (msg, len, NULL, (guint32) VOLACT_E_REQUEST_MALFORMED);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_garbage (void **state)
{
  static const char http[] = "GET / HTTP/1.1\r\nHost: volact\r\n\r\n";
  guint8 msg[VOLACT_PROTO_MESSAGE_MAX];
  int fd = connect_host ();

  send_all (fd, http, sizeof http - 1);
  assert_error_response (msg, recv_message (fd, msg), NULL, (guint32) VOLACT_E_REQUEST_MALFORMED);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_wrong_version (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len = make_request ("win7-enterprise", 9, req);
  int fd = connect_host ();

  req[4] = 2;
  send_all (fd, req, req_len);
  assert_error_response (msg, recv_message (fd, msg), NULL, (guint32) VOLACT_E_PROTOCOL_VERSION);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_not_a_request (void **state)
{
  static const guint8 zero[VOLACT_PROTO_NONCE_SIZE] = { 0 };
  guint8 err[VOLACT_PROTO_ERROR_SIZE], msg[VOLACT_PROTO_MESSAGE_MAX];
  int fd = connect_host ();

  volact_error_response_encode (zero, (guint32) VOLACT_E_HOST_BUSY, err);
  send_all (fd, err, sizeof err);
  assert_error_response (msg, recv_message (fd, msg), NULL, (guint32) VOLACT_E_REQUEST_MALFORMED);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_bad_field (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len = make_request ("win7-enterprise", 10, req);
  int fd = connect_host ();

  req[41] = 9; /* license state out of range */
  send_all (fd, req, req_len);
  assert_error_response (msg, recv_message (fd, msg), req + 8,
                         (guint32) VOLACT_E_REQUEST_MALFORMED);
  assert_true (closed_by_host (fd));
  close (fd);
}

static void
test_slow_client (void **state)
{
  guint8 slow[VOLACT_PROTO_REQUEST_MAX], req[VOLACT_PROTO_REQUEST_MAX];
  guint8 msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize slow_len = make_request ("win7-enterprise", 11, slow);
  gsize req_len;
  int a = connect_host (), b, c;
  gint64 t0;

  /* A sends 3 bytes and waits; B is served meanwhile, at once. */
  send_all (a, slow, 3);
  g_usleep (200000);
  b = connect_host ();
  req_len = make_request ("win7-enterprise", 12, req);
  t0 = g_get_monotonic_time ();
  send_all (b, req, req_len);
  assert_signed_response (msg, recv_message (b, msg), req, req_len);
  assert_true (g_get_monotonic_time () - t0 < 2 * G_USEC_PER_SEC);
  close (b);

  /* A finishing within 10 s is answered. */
  send_all (a, slow + 3, slow_len - 3);
  assert_signed_response (msg, recv_message (a, msg), slow, slow_len);

  /* C leaves a partial request: closed after 10 s (the sweep runs once a second). */
  c = connect_host ();
  send_all (c, slow, 5);
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < 3; i++) /* closed_by_host waits up to 5 s at a time */
    if (closed_by_host (c))
      break;
  assert_true (g_get_monotonic_time () - t0 >= 9 * G_USEC_PER_SEC);
  assert_true (g_get_monotonic_time () - t0 < 13 * G_USEC_PER_SEC);
  close (c);
  close (a);
}

static void
test_max_connections (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  int held[MAX_CONNECTIONS], extra;
  gsize req_len;
  gboolean served = FALSE;

  /* Earlier tests' connections are gone by now; then fill every slot with a partial
   * request (one byte, so that the host accepts it). */
  g_usleep (300000);
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    held[i] = connect_host ();
    send_all (held[i], "V", 1);
  }
  g_usleep (300000);
  extra = connect_host ();
  req_len = make_request ("win7-enterprise", 13, req);
  send (extra, req, req_len, MSG_NOSIGNAL);
  assert_true (closed_by_host (extra)); /* refused: closed without an answer */
  close (extra);

  /* Slots free again: served. */
  for (int i = 0; i < MAX_CONNECTIONS; i++)
    close (held[i]);
  for (int attempt = 0; attempt < 20 && !served; attempt++) {
    int fd = connect_host ();
    gsize len;
    req_len = make_request ("win7-enterprise", 14, req);
    send (fd, req, req_len, MSG_NOSIGNAL);
    len = recv_message (fd, msg);
    close (fd);
    if (len > 0) {
      assert_signed_response (msg, len, req, req_len);
      served = TRUE;
    } else {
      g_usleep (100000);
    }
  }
  assert_true (served);
}

/* Last: re-keyed with a client-only key (group 21), the host refuses server editions, signed. */
static void
test_not_covered (void **state)
{
  g_autofree char *authority = test_buildpath ("tools/volact-authority");
  g_autofree char *adir = g_build_filename (fx.dir, "authority", NULL);
  g_autofree char *key = NULL;
  guint8 req[VOLACT_PROTO_REQUEST_MAX], msg[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len;
  VolactResponse resp;
  int fd;

  key = run ((const char *[]){ authority, "--dir", adir, "issue-key", "--group", "21", NULL });
  assert_non_null (key);
  ctl ("ipk", g_strstrip (key));
  ctl ("ato", NULL);
  fd = connect_host ();
  req_len = make_request ("server2008r2-datacenter", 15, req);
  send_all (fd, req, req_len);
  resp = assert_signed_response (msg, recv_message (fd, msg), req, req_len);
  assert_int_equal (resp.result, (guint32) VOLACT_E_EDITION_NOT_COVERED);
  req_len = make_request ("win7-professional", 16, req);
  send_all (fd, req, req_len);
  resp = assert_signed_response (msg, recv_message (fd, msg), req, req_len);
  assert_int_equal (resp.result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_not_activated),   cmocka_unit_test (test_activate),
    cmocka_unit_test (test_two_exchanges),   cmocka_unit_test (test_pipelined),
    cmocka_unit_test (test_half_closed),     cmocka_unit_test (test_unknown_edition),
    cmocka_unit_test (test_oversized),       cmocka_unit_test (test_garbage),
    cmocka_unit_test (test_wrong_version),   cmocka_unit_test (test_not_a_request),
    cmocka_unit_test (test_bad_field),       cmocka_unit_test (test_slow_client),
    cmocka_unit_test (test_max_connections), cmocka_unit_test (test_not_covered),
  };

  signal (SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests_name ("server", tests, setup, teardown);
}
