/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client listener's transport (core/serving/volact-server.c) in process,
 * with failures the outside cannot cause reached through link-time mocks
 * (SSSD style, -Wl,--wrap): accept4 running out of descriptors (EMFILE)
 * pauses the listener, and epoll_ctl refusing to re-arm it must neither leave
 * it dead nor go unlogged. The host is real (reference plugins and license
 * data, a temporary state folder) and listens on 127.0.0.1, port 0; it is not
 * activated, so an answer is the NOT_ACTIVATED error response.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "volact-activation.h"
#include "volact-error.h"
#include "volact-host.h"
#include "volact-protocol.h"
#include "volact-server.h"

#define WAIT_US (10 * G_USEC_PER_SEC) /* bound of every wait (reached only when a test fails) */

/* ---- the mocks ---------------------------------------------------------------------------- */

int __real_accept4 (int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __real_epoll_ctl (int epfd, int op, int fd, struct epoll_event *event);
int __wrap_accept4 (int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_epoll_ctl (int epfd, int op, int fd, struct epoll_event *event);

static guint accept_emfile;    /* accept4 calls still to fail with EMFILE */
static guint add_failures;     /* EPOLL_CTL_ADD calls still to fail with ENOMEM */
static guint add_after_emfile; /* add_failures to arm when the EMFILE fires */
static guint add_failed;       /* EPOLL_CTL_ADD calls failed so far */

int
__wrap_accept4 (int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
  if (accept_emfile > 0) {
    accept_emfile--;
    add_failures = add_after_emfile; /* the listener's re-arm comes next */
    errno = EMFILE;
    return -1;
  }
  return __real_accept4 (fd, addr, len, flags);
}

int
__wrap_epoll_ctl (int epfd, int op, int fd, struct epoll_event *event)
{
  if (op == EPOLL_CTL_ADD && add_failures > 0) {
    add_failures--;
    add_failed++;
    errno = ENOMEM;
    return -1;
  }
  return __real_epoll_ctl (epfd, op, fd, event);
}

/* ---- captured warnings -------------------------------------------------------------------- */

static GPtrArray *warnings; /* char* */

static GLogWriterOutput
capture (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE"))
        g_ptr_array_add (warnings, g_strdup (fields[i].value));
  return g_log_writer_standard_streams (level, fields, n_fields, user_data);
}

static gboolean
warned (const char *needle)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (warnings->pdata[i], needle) != NULL)
      return TRUE;
  return FALSE;
}

/* ---- the fixture -------------------------------------------------------------------------- */

typedef struct {
  char *dir;
  VolactHost *host;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->dir = test_tmpdir ();
  fx->host = test_host_new (fx->dir);
  if (fx->host == NULL)
    return -1;
  accept_emfile = add_failures = add_after_emfile = add_failed = 0;
  g_ptr_array_set_size (warnings, 0);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  volact_host_free (fx->host);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* Connects to PORT on loopback and sends one request; returns the socket. */
static int
ask (guint port, guint8 nonce[VOLACT_PROTO_NONCE_SIZE])
{
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_port = htons ((guint16) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  guint8 msg[VOLACT_PROTO_REQUEST_MAX];
  gsize len;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  for (guint i = 0; i < sizeof req.nonce; i++)
    req.nonce[i] = (guint8) g_random_int ();
  memset (req.cmid, 0x42, sizeof req.cmid);
  g_strlcpy (req.edition, "win7-enterprise", sizeof req.edition);
  len = volact_request_encode (&req, msg, &error);
  assert_true (len > 0);
  assert_int_equal (send (fd, msg, len, MSG_NOSIGNAL), (ssize_t) len);
  memcpy (nonce, req.nonce, VOLACT_PROTO_NONCE_SIZE);
  return fd;
}

/*
 * Runs the main context until FD has a whole error response (TRUE) or
 * WAIT_US passed (FALSE). The server lives in this thread, so the test must
 * turn the loop itself.
 */
static gboolean
answered (int fd, const guint8 *nonce, guint32 *code)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_US;
  guint8 buf[VOLACT_PROTO_MESSAGE_MAX], got_nonce[VOLACT_PROTO_NONCE_SIZE];
  gsize have = 0;

  while (g_get_monotonic_time () < deadline) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    g_main_context_iteration (NULL, FALSE);
    if (poll (&p, 1, 10) == 1) {
      ssize_t n = recv (fd, buf + have, sizeof buf - have, MSG_DONTWAIT);
      if (n <= 0)
        return FALSE;
      have += (gsize) n;
      if (have >= VOLACT_PROTO_ERROR_SIZE) {
        assert_true (volact_error_response_decode (buf, have, got_nonce, code, NULL));
        assert_memory_equal (got_nonce, nonce, VOLACT_PROTO_NONCE_SIZE);
        return TRUE;
      }
    }
  }
  return FALSE;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Out of descriptors the listener pauses; its re-arm fails twice: it must come back, and say so. */
static void
test_listener_rearmed_after_epoll_failure (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  VolactServer *server = volact_server_start (fx->host, volact_host_records (fx->host), &error);
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE];
  guint32 code = 0;
  int fd;

  assert_non_null (server);
  accept_emfile = 1;
  add_after_emfile = 2;
  fd = ask (volact_server_port (server), nonce);
  assert_true (answered (fd, nonce, &code));
  assert_int_equal (code, (guint32) VOLACT_E_NOT_ACTIVATED);
  assert_int_equal (accept_emfile, 0); /* the EMFILE path really ran */
  assert_int_equal (add_failed, 2);    /* and both re-arms failed */
  assert_true (warned ("cannot accept client connections"));
  assert_true (warned ("cannot watch the client listener"));
  close (fd);

  /* Accepting works as usual afterwards. */
  fd = ask (volact_server_port (server), nonce);
  assert_true (answered (fd, nonce, &code));
  close (fd);
  volact_server_stop (server);
}

/* A listener that cannot be watched at start is an error, not a silent dead port. */
static void
test_start_fails_if_listener_unwatched (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  VolactServer *server;

  add_failures = 1;
  server = volact_server_start (fx->host, volact_host_records (fx->host), &error);
  assert_null (server);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_FAILED));
  assert_non_null (strstr (error->message, "127.0.0.1"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_listener_rearmed_after_epoll_failure, setup, teardown),
    cmocka_unit_test_setup_teardown (test_start_fails_if_listener_unwatched, setup, teardown),
  };
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *fp = g_build_filename (dir, "fingerprint", NULL);
  int rc;

  /* Before any thread exists (setenv is not thread-safe). */
  test_write_file (fp, "machine-id=transport-test\ncpu=c\nmemory=8\nmac=02:00:00:00:00:43\n", -1);
  g_setenv (VOLACT_FINGERPRINT_ENV, fp, TRUE);
  /* The mocks count epoll_ctl calls: no workers' eventfd in the set. */
  g_unsetenv ("VOLACT_SERVER_SIGN_THREADS");
  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture, NULL, NULL);
  rc = cmocka_run_group_tests (tests, NULL, NULL);
  g_ptr_array_free (warnings, TRUE);
  test_rmtree (dir);
  return rc;
}
