/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvolact and volact-client against a fake host on loopback: connection
 * reuse, reconnecting once, error responses, replayed and rogue responses.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "protocol-fixture.h"
#include "testutil.h"
#include "volact.h"

typedef enum {
  HOST_NORMAL,       /* answers every request, keeps the connection */
  HOST_CLOSE_EACH,   /* answers, then closes the connection */
  HOST_SILENT_CLOSE, /* closes without answering */
  HOST_ERROR,        /* error response NOT_ACTIVATED */
  HOST_REPLAY,       /* sends the last signed response again */
  HOST_ROGUE,        /* signs with a certificate from another authority */
} HostMode;

typedef struct {
  GSocketListener *listener;
  GCancellable *cancel;
  GThread *thread;
  guint16 port;
  gint mode;     /* HostMode, atomic */
  gint result;   /* the result code it answers, atomic */
  gint interval; /* activation interval; renewal is twice that */
  gint connections, requests;
  guint8 last[VOLACT_PROTO_RESPONSE_SIZE];
  gboolean have_last;
  guint8 rogue_cert[VOLACT_HOST_CERT_SIZE];
} FakeHost;

static ProtoFixture fx;
static FakeHost host;
static char *tmpdir;
static char *trust_path;

static gboolean
read_message (GInputStream *in, guint8 *buf, gsize *len)
{
  gsize n = 0, total = 0;

  if (!g_input_stream_read_all (in, buf, VOLACT_PROTO_HEADER_SIZE, &n, NULL, NULL)
      || n != VOLACT_PROTO_HEADER_SIZE || !volact_proto_peek (buf, n, NULL, &total, NULL))
    return FALSE;
  if (!g_input_stream_read_all (in, buf + n, total - n, &n, NULL, NULL) || n != total - 8)
    return FALSE;
  *len = total;
  return TRUE;
}

static void
serve (FakeHost *h, GSocketConnection *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  guint8 req[VOLACT_PROTO_MESSAGE_MAX];
  gsize req_len;

  while (read_message (in, req, &req_len)) {
    HostMode mode = g_atomic_int_get (&h->mode);
    guint8 rsp[VOLACT_PROTO_RESPONSE_SIZE];
    gsize rsp_len = sizeof rsp;
    VolactResponse resp;

    g_atomic_int_inc (&h->requests);
    if (!volact_request_decode (req, req_len, NULL, NULL))
      return;
    if (mode == HOST_SILENT_CLOSE)
      return;
    proto_fixture_response (&fx, req, &resp);
    resp.result = (guint32) g_atomic_int_get (&h->result);
    resp.activation_interval = (guint16) g_atomic_int_get (&h->interval);
    resp.renewal_interval = (guint16) (2 * g_atomic_int_get (&h->interval));
    if (mode == HOST_ROGUE)
      memcpy (resp.certificate, h->rogue_cert, sizeof resp.certificate);
    if (mode == HOST_ERROR) {
      volact_error_response_encode (req + 8, 0xC0AC0402u, rsp);
      rsp_len = VOLACT_PROTO_ERROR_SIZE;
    } else if (mode == HOST_REPLAY && h->have_last) {
      memcpy (rsp, h->last, sizeof rsp);
    } else {
      g_assert (volact_response_sign (&resp, req, req_len, fx.host, rsp, NULL));
      memcpy (h->last, rsp, sizeof rsp);
      h->have_last = TRUE;
    }
    if (!g_output_stream_write_all (out, rsp, rsp_len, NULL, NULL, NULL) || mode == HOST_CLOSE_EACH)
      return;
  }
}

static gpointer
host_thread (gpointer data)
{
  FakeHost *h = data;

  for (;;) {
    g_autoptr (GSocketConnection) conn
        = g_socket_listener_accept (h->listener, NULL, h->cancel, NULL);
    if (conn == NULL)
      return NULL;
    g_atomic_int_inc (&h->connections);
    serve (h, conn);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  }
}

static void
host_start (FakeHost *h)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  h->listener = g_socket_listener_new ();
  h->cancel = g_cancellable_new ();
  if (!g_socket_listener_add_address (h->listener, addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    g_error ("listen: %s", error->message);
  h->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  proto_fixture_certify (fx.other_authority, fx.host, h->rogue_cert);
  h->thread = g_thread_new ("fake-host", host_thread, h);
}

static void
host_stop (FakeHost *h)
{
  g_cancellable_cancel (h->cancel);
  g_thread_join (h->thread);
  g_socket_listener_close (h->listener);
  g_clear_object (&h->listener);
  g_clear_object (&h->cancel);
}

static void
host_reset (HostMode mode, guint32 result, guint interval)
{
  g_atomic_int_set (&host.mode, mode);
  g_atomic_int_set (&host.result, (gint) result);
  g_atomic_int_set (&host.interval, (gint) interval);
  g_atomic_int_set (&host.connections, 0);
  g_atomic_int_set (&host.requests, 0);
}

/* Connections the host accepted since the last host_reset(). */
static gint
connections (void)
{
  return g_atomic_int_get (&host.connections);
}

static VolactClientRequest
request (const char *edition)
{
  VolactClientRequest r = { 0 };
  r.edition = edition;
  r.name = "ws1.example";
  memset (r.cmid, 0x42, sizeof r.cmid);
  r.state = VOLACT_CLIENT_STATE_OOB_GRACE;
  r.minutes_left = 43200;
  return r;
}

static VolactClient *
new_client (void)
{
  g_autoptr (GError) error = NULL;
  VolactClient *c = volact_client_new ("127.0.0.1", host.port, trust_path, &error);
  if (c == NULL)
    fail_msg ("volact_client_new: %s", error->message);
  return c;
}

static void
test_licensed_and_reuse (void **state)
{
  g_autoptr (VolactClient) c = new_client ();
  VolactClientRequest req = request ("win7-enterprise");
  VolactClientResult res;

  host_reset (HOST_NORMAL, 0, 120);
  for (guint i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    assert_true (volact_client_activate (c, &req, &res, &error));
    assert_int_equal (res.result, 0);
    assert_true (res.licensed);
    assert_int_equal (res.count, 30);
    assert_int_equal (res.minimum_count, 25);
    assert_int_equal (res.activation_interval, 120);
    assert_int_equal (res.renewal_interval, 240);
    assert_int_equal (res.validity_days, 180);
  }
  /* Several exchanges, one connection. */
  assert_int_equal (connections (), 1);
  assert_int_equal (g_atomic_int_get (&host.requests), 3);
}

static void
test_insufficient (void **state)
{
  g_autoptr (VolactClient) c = new_client ();
  g_autoptr (GError) error = NULL;
  VolactClientRequest req = request ("win7-enterprise");
  VolactClientResult res;

  host_reset (HOST_NORMAL, 0xC004F038u, 30);
  assert_true (volact_client_activate (c, &req, &res, &error));
  assert_int_equal (res.result, 0xC004F038u);
  assert_false (res.licensed);
  assert_int_equal (res.activation_interval, 30);
  assert_string_equal (volact_client_result_text (res.result),
                       "The returned count from your Key Management Service is insufficient.");
}

static void
test_reconnect_once (void **state)
{
  g_autoptr (VolactClient) c = new_client ();
  VolactClientRequest req = request ("pro");
  VolactClientResult res;

  /* The host closes after every answer: the next exchange reconnects and succeeds. */
  host_reset (HOST_CLOSE_EACH, 0, 120);
  for (guint i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    if (!volact_client_activate (c, &req, &res, &error))
      fail_msg ("activation %u: %s", i, error->message);
  }
  assert_int_equal (g_atomic_int_get (&host.requests), 3);

  /* A host that never answers: tried twice, then HOST_UNREACHABLE. */
  {
    g_autoptr (GError) error = NULL;
    volact_client_close (c);
    host_reset (HOST_SILENT_CLOSE, 0, 120);
    assert_false (volact_client_activate (c, &req, &res, &error));
    assert_true (g_error_matches (error, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0507u));
    assert_int_equal (res.result, 0xC0AC0507u);
    assert_int_equal (g_atomic_int_get (&host.requests), 2);
  }
}

static void
test_error_response (void **state)
{
  g_autoptr (VolactClient) c = new_client ();
  g_autoptr (GError) error = NULL;
  VolactClientRequest req = request ("pro");
  VolactClientResult res;

  host_reset (HOST_ERROR, 0, 120);
  assert_false (volact_client_activate (c, &req, &res, &error));
  assert_true (g_error_matches (error, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0402u));
  assert_int_equal (res.result, 0xC0AC0402u);
  assert_false (res.licensed);
  assert_int_equal (res.count, 0);
}

static void
test_replay_and_rogue (void **state)
{
  g_autoptr (VolactClient) c = new_client ();
  VolactClientRequest req = request ("pro");
  VolactClientResult res;

  host_reset (HOST_NORMAL, 0, 120);
  assert_true (volact_client_activate (c, &req, &res, NULL));
  {
    /* The same licensed answer again, for a new request: its nonce gives it away. */
    g_autoptr (GError) error = NULL;
    host_reset (HOST_REPLAY, 0, 120);
    assert_false (volact_client_activate (c, &req, &res, &error));
    assert_true (g_error_matches (error, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0504u));
    assert_false (res.licensed);
  }
  {
    /* A host certified by an authority the client does not pin. */
    g_autoptr (GError) error = NULL;
    host_reset (HOST_ROGUE, 0, 120);
    assert_false (volact_client_activate (c, &req, &res, &error));
    assert_true (g_error_matches (error, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0504u));
    assert_false (res.licensed);
  }
  /* After the rejected responses the client still works with the real host. */
  host_reset (HOST_NORMAL, 0, 120);
  assert_true (volact_client_activate (c, &req, &res, NULL));
}

static void
test_unreachable_and_bad_input (void **state)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GError) e4 = NULL;
  g_autoptr (VolactClient) c = NULL;
  g_autoptr (GSocket) s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *missing = g_build_filename (tmpdir, "missing.pem", NULL);
  VolactClientRequest req = request ("pro");
  VolactClientResult res;
  guint16 port;

  /* A port nobody listens on (bound, never listening). */
  assert_true (g_socket_bind (s, addr, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  c = volact_client_new ("127.0.0.1", port, trust_path, &e1);
  assert_non_null (c);
  assert_false (volact_client_activate (c, &req, &res, &e1));
  assert_true (g_error_matches (e1, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0507u));

  /* A request field out of range never reaches the network. */
  req.edition = "Win7";
  assert_false (volact_client_activate (c, &req, &res, &e2));
  assert_true (g_error_matches (e2, VOLACT_CLIENT_ERROR, (gint) 0xC0AC0505u));

  assert_null (volact_client_new ("127.0.0.1", 1688, missing, &e3));
  assert_non_null (e3);
  assert_null (volact_client_new ("", 1688, trust_path, &e4));
  assert_non_null (e4);
}

/* ---- volact-client, the command ------------------------------------------------------------- */

static int
run_client (const char *state_file, char **out, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, test_buildpath ("client/volact-client"));
  g_ptr_array_add (argv, g_strdup_printf ("--host=127.0.0.1:%u", host.port));
  g_ptr_array_add (argv, g_strdup_printf ("--trust=%s", trust_path));
  g_ptr_array_add (argv, g_strdup_printf ("--state=%s", state_file));
  va_start (ap, out);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err,
                     &status, &error))
    fail_msg ("spawn: %s", error->message);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 255;
}

static void
assert_contains (const char *text, const char *needle)
{
  if (strstr (text, needle) == NULL)
    fail_msg ("\"%s\" not in:\n%s", needle, text);
}

static void
test_command (void **state)
{
  g_autofree char *state_file = g_build_filename (tmpdir, "cli", "client.state", NULL);
  struct stat st;

  host_reset (HOST_NORMAL, 0xC004F038u, 30);
  {
    g_autofree char *out = NULL;
    assert_int_equal (
        run_client (state_file, &out, "--json", "activate", "--edition", "win7-enterprise", NULL),
        1);
    assert_contains (out, "\"result\": \"0xC004F038\"");
    assert_contains (out, "\"licensed\": false");
    assert_contains (out, "\"count\": 30");
    assert_contains (out, "\"minimum_count\": 25");
    assert_contains (out, "\"activation_interval\": 30");
    assert_contains (out, "\"renewal_interval\": 60");
    assert_contains (out, "\"next_attempt_minutes\": 30");
  }
  assert_int_equal (g_stat (state_file, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);

  /* Not due yet: --if-due does not contact the host. */
  host_reset (HOST_NORMAL, 0, 120);
  {
    g_autofree char *out = NULL;
    assert_int_equal (
        run_client (state_file, &out, "activate", "--if-due", "--edition", "win7-enterprise", NULL),
        1);
    assert_contains (out, "Not due");
    assert_int_equal (g_atomic_int_get (&host.requests), 0);
  }
  {
    g_autofree char *out = NULL;
    assert_int_equal (run_client (state_file, &out, "activate", "--edition", "win7-enterprise",
                                  "--name", "ws7.example", "--vm", NULL),
                      0);
    assert_contains (out, "Licensed (count 30 of 25 needed); renew in 240 minutes");
  }
  {
    g_autofree char *out = NULL;
    assert_int_equal (run_client (state_file, &out, "--json", "status", NULL), 0);
    assert_contains (out, "\"license_state\": \"licensed\"");
    assert_contains (out, "\"renewal_interval\": 240");
    assert_contains (out, "\"intervals_from_host\": true");
  }
  /* Usage errors exit 2. */
  {
    g_autofree char *out = NULL;
    assert_int_equal (run_client (state_file, &out, NULL), 2);
  }
  {
    g_autofree char *out = NULL;
    assert_int_equal (run_client (state_file, &out, "activate", NULL), 2);
  }
  {
    g_autofree char *out = NULL;
    assert_int_equal (run_client (state_file, &out, "activate", "--edition", "Bad_Edition", NULL),
                      2);
  }
  /* The installed client no longer simulates fleets (bench/volact-fleet does). */
  {
    g_autofree char *out = NULL;
    assert_int_equal (
        run_client (state_file, &out, "fleet", "--clients", "40", "--editions", "a", NULL), 2);
  }
}

/* Runs COMMAND (a build path) with the NULL-terminated arguments; the exit status. */
static int
run_program (const char *command, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, test_buildpath (command));
  va_start (ap, err);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                     &status, &error))
    fail_msg ("spawn: %s", error->message);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 255;
}

/* bench/volact-fleet: N distinct machines, every one answered and verified. */
static void
test_fleet (void **state)
{
  g_autofree char *host_arg = g_strdup_printf ("--host=127.0.0.1:%u", host.port);
  g_autofree char *trust_arg = g_strdup_printf ("--trust=%s", trust_path);

  host_reset (HOST_NORMAL, 0, 120);
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    assert_int_equal (run_program ("bench/volact-fleet", &out, &err, host_arg, trust_arg, "--json",
                                   "--clients", "40", "--editions",
                                   "win7-enterprise:3,server2008-standard", "--vm-share", "50",
                                   "--connections", "new", NULL),
                      0);
    assert_contains (out, "\"requests\": 40");
    assert_contains (out, "\"failed\": 0");
    assert_contains (out, "\"edition\": \"server2008-standard\"");
    assert_contains (out, "\"first_licensed\": ");
    assert_int_equal (g_atomic_int_get (&host.requests), 40);
  }
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    assert_int_equal (run_program ("bench/volact-fleet", &out, &err, host_arg, trust_arg,
                                   "--clients", "1000001", "--editions", "a", NULL),
                      2);
  }
  /* No authority named: refused before any request. */
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    host_reset (HOST_NORMAL, 0, 120);
    assert_int_equal (run_program ("bench/volact-fleet", &out, &err, host_arg, "--clients", "1",
                                   "--editions", "win7-enterprise", NULL),
                      2);
    assert_contains (err, "--trust");
    assert_int_equal (g_atomic_int_get (&host.requests), 0);
  }
}

/* Nothing trusts the committed demo authority unless told to: no trust, no client. */
static void
test_no_default_trust (void **state)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autofree char *state_file = g_build_filename (tmpdir, "notrust", "client.state", NULL);
  g_autofree char *host_arg = g_strdup_printf ("--host=127.0.0.1:%u", host.port);
  g_autofree char *state_arg = g_strdup_printf ("--state=%s", state_file);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  assert_null (volact_client_new ("127.0.0.1", host.port, NULL, &e1));
  assert_true (g_error_matches (e1, VOLACT_CLIENT_ERROR, (gint) VOLACT_RESULT_CONFIG));
  assert_non_null (strstr (e1->message, "no trusted authority"));
  assert_null (volact_client_new ("127.0.0.1", host.port, "", &e2));
  assert_true (g_error_matches (e2, VOLACT_CLIENT_ERROR, (gint) VOLACT_RESULT_CONFIG));

  host_reset (HOST_NORMAL, 0, 120);
  assert_int_equal (run_program ("client/volact-client", &out, &err, host_arg, state_arg,
                                 "activate", "--edition", "win7-enterprise", NULL),
                    2);
  assert_contains (err, "--trust CERT");
  assert_int_equal (g_atomic_int_get (&host.requests), 0);
}

/* A discovering client: the cached host is tried first and needs no DNS; without it (or with
 * caching off) a DNS server that does not answer is an unreachable host, not a hang. */
static void
test_discover_cache (void **state)
{
  g_autofree char *cached = g_strdup_printf ("127.0.0.1:%u", host.port);
  VolactClientDiscovery d = { .domain = "volact.invalid", .dns_server = "127.0.0.1:1",
                              .connect_timeout_ms = 300, .cached_host = cached };
  VolactClientDiscovery bad = { .dns_server = "not-an-address:53" };
  VolactClientRequest req = request ("win7-enterprise");
  VolactClientResult res;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GError) e4 = NULL;

  assert_null (volact_client_new_discover (&bad, trust_path, &e1));
  assert_true (g_error_matches (e1, VOLACT_CLIENT_ERROR, (gint) VOLACT_RESULT_CONFIG));
  assert_null (volact_client_new_discover (&d, NULL, &e2));
  assert_true (g_error_matches (e2, VOLACT_CLIENT_ERROR, (gint) VOLACT_RESULT_CONFIG));

  host_reset (HOST_NORMAL, 0, 120);
  {
    g_autoptr (VolactClient) c = volact_client_new_discover (&d, trust_path, &e3);
    assert_non_null (c);
    assert_null (volact_client_get_host (c));
    assert_true (volact_client_activate (c, &req, &res, &e3));
    assert_true (res.licensed);
    assert_string_equal (volact_client_get_host (c), cached);
    assert_true (volact_client_get_host_from_cache (c));
  }
  d.flags = VOLACT_CLIENT_DISCOVERY_NO_HOST_CACHE;
  {
    g_autoptr (VolactClient) c = volact_client_new_discover (&d, trust_path, &e4);
    assert_non_null (c);
    assert_false (volact_client_activate (c, &req, &res, &e4));
    assert_true (g_error_matches (e4, VOLACT_CLIENT_ERROR, (gint) VOLACT_RESULT_HOST_UNREACHABLE));
    assert_non_null (strstr (e4->message, "_volact._tcp.volact.invalid"));
    assert_null (volact_client_get_host (c));
  }
  assert_int_equal (g_atomic_int_get (&host.requests), 1);
}

static int
setup (void **state)
{
  proto_fixture_init (&fx);
  tmpdir = test_tmpdir ();
  trust_path = proto_fixture_write_cert (fx.authority, tmpdir, "authority.pem");
  host_start (&host);
  return 0;
}

static int
teardown (void **state)
{
  host_stop (&host);
  test_rmtree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&trust_path, g_free);
  proto_fixture_clear (&fx);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_licensed_and_reuse),
    cmocka_unit_test (test_insufficient),
    cmocka_unit_test (test_reconnect_once),
    cmocka_unit_test (test_error_response),
    cmocka_unit_test (test_replay_and_rogue),
    cmocka_unit_test (test_unreachable_and_bad_input),
    cmocka_unit_test (test_command),
    cmocka_unit_test (test_fleet),
    cmocka_unit_test (test_no_default_trust),
    cmocka_unit_test (test_discover_cache),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
