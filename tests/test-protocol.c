/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client protocol codec (docs/protocol.md): sizes, strict decoding, signatures. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "protocol-fixture.h"
#include "volact-error.h"
#include "volact-protocol.h"

static ProtoFixture fx;

#define assert_error(err, code_)                                                                   \
  do {                                                                                             \
    assert_non_null (err);                                                                         \
    if ((err)->domain != VOLACT_ERROR || (err)->code != (gint) (code_))                            \
      fail_msg ("expected 0x%08X, got 0x%08X: %s", (guint32) (code_), (guint32) (err)->code,       \
                (err)->message);                                                                   \
  } while (0)

/* ---- Sizes ---------------------------------------------------------------------------------- */

static void
test_sizes (void **state)
{
  assert_int_equal (VOLACT_PROTO_REQUEST_MIN, 49);
  assert_int_equal (VOLACT_PROTO_REQUEST_MAX, 143);
  assert_int_equal (VOLACT_PROTO_RESPONSE_SIZE, 243);
  assert_int_equal (VOLACT_PROTO_ERROR_SIZE, 32);
  /* The design's envelope: under 250 bytes each way. */
  assert_true (VOLACT_PROTO_REQUEST_MAX < 250 && VOLACT_PROTO_RESPONSE_SIZE < 250);
  assert_int_equal (VOLACT_PROTO_MESSAGE_MAX, 250);
}

/* ---- Requests ------------------------------------------------------------------------------- */

static VolactRequest
sample_request (const char *edition, const char *name)
{
  VolactRequest r;

  memset (&r, 0, sizeof r);
  for (guint i = 0; i < sizeof r.nonce; i++)
    r.nonce[i] = (guint8) (i * 7 + 1);
  for (guint i = 0; i < sizeof r.cmid; i++)
    r.cmid[i] = (guint8) (0xf0 - i);
  r.state = VOLACT_STATE_OOB_GRACE;
  r.minutes_left = 43200;
  g_strlcpy (r.edition, edition, sizeof r.edition);
  g_strlcpy (r.name, name, sizeof r.name);
  return r;
}

static void
assert_requests_equal (const VolactRequest *a, const VolactRequest *b)
{
  assert_memory_equal (a->nonce, b->nonce, sizeof a->nonce);
  assert_memory_equal (a->cmid, b->cmid, sizeof a->cmid);
  assert_int_equal (!!a->virtual_machine, !!b->virtual_machine);
  assert_int_equal (a->state, b->state);
  assert_int_equal (a->minutes_left, b->minutes_left);
  assert_string_equal (a->edition, b->edition);
  assert_string_equal (a->name, b->name);
}

static void
test_request_min (void **state)
{
  g_autoptr (GError) error = NULL;
  VolactRequest r = sample_request ("a", ""), back;
  guint8 buf[VOLACT_PROTO_REQUEST_MAX];
  gsize n = volact_request_encode (&r, buf, &error);
  VolactMessageType type;
  gsize total;

  assert_null (error);
  assert_int_equal (n, VOLACT_PROTO_REQUEST_MIN);
  assert_memory_equal (buf, "VLAC\x01\x01\x00\x31", 8);
  assert_true (volact_proto_peek (buf, n, &type, &total, &error));
  assert_int_equal (type, VOLACT_MSG_REQUEST);
  assert_int_equal (total, n);
  assert_true (volact_request_decode (buf, n, &back, &error));
  assert_requests_equal (&r, &back);
}

static void
test_request_max (void **state)
{
  g_autoptr (GError) error = NULL;
  char edition[VOLACT_PROTO_EDITION_MAX + 1];
  char name[VOLACT_PROTO_NAME_MAX + 1];
  VolactRequest r, back;
  guint8 buf[VOLACT_PROTO_REQUEST_MAX];
  gsize n;

  memset (edition, 'z', VOLACT_PROTO_EDITION_MAX);
  edition[VOLACT_PROTO_EDITION_MAX] = '\0';
  edition[3] = '-';
  edition[4] = '9';
  for (guint i = 0; i < VOLACT_PROTO_NAME_MAX; i++)
    name[i] = (char) (0x20 + i % 95); /* every printable character, space to '~' */
  name[VOLACT_PROTO_NAME_MAX] = '\0';
  r = sample_request (edition, name);
  r.virtual_machine = TRUE;
  r.state = VOLACT_STATE_UNLICENSED;
  r.minutes_left = G_MAXUINT32;

  n = volact_request_encode (&r, buf, &error);
  assert_null (error);
  assert_int_equal (n, VOLACT_PROTO_REQUEST_MAX);
  assert_int_equal (buf[40], 0x01);
  assert_int_equal (buf[41], 5);
  assert_memory_equal (buf + 42, "\xff\xff\xff\xff", 4);
  assert_int_equal (buf[46], 32);
  assert_int_equal (buf[47 + 32], 63);
  assert_true (volact_request_decode (buf, n, &back, &error));
  assert_requests_equal (&r, &back);
}

static void
test_request_every_size (void **state)
{
  /* Every edition and name length round-trips at exactly 48 + E + N bytes. */
  for (guint e = 1; e <= VOLACT_PROTO_EDITION_MAX; e++)
    for (guint n = 0; n <= VOLACT_PROTO_NAME_MAX; n++) {
      g_autoptr (GError) error = NULL;
      char edition[VOLACT_PROTO_EDITION_MAX + 1] = { 0 };
      char name[VOLACT_PROTO_NAME_MAX + 1] = { 0 };
      VolactRequest r, back;
      guint8 buf[VOLACT_PROTO_REQUEST_MAX];

      memset (edition, 'e', e);
      memset (name, 'n', n);
      r = sample_request (edition, name);
      assert_int_equal (volact_request_encode (&r, buf, &error), 48 + e + n);
      assert_true (volact_request_decode (buf, 48 + e + n, &back, &error));
      assert_requests_equal (&r, &back);
    }
}

static void
test_request_encode_refuses (void **state)
{
  static const char *const bad_editions[] = { "", "Win7", "win7_pro", "win 7", "win7.pro", "é" };
  static const char *const bad_names[] = { "tab\there", "nl\n", "del\x7f", "high\x80" };
  guint8 buf[VOLACT_PROTO_REQUEST_MAX];
  VolactRequest r;

  for (guint i = 0; i < G_N_ELEMENTS (bad_editions); i++) {
    g_autoptr (GError) error = NULL;
    r = sample_request (bad_editions[i], "");
    assert_int_equal (volact_request_encode (&r, buf, &error), 0);
    assert_error (error, VOLACT_E_REQUEST_MALFORMED);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++) {
    g_autoptr (GError) error = NULL;
    r = sample_request ("ok", bad_names[i]);
    assert_int_equal (volact_request_encode (&r, buf, &error), 0);
    assert_error (error, VOLACT_E_REQUEST_MALFORMED);
  }
  {
    /* Fields without their NUL: 33 edition or 64 name characters. */
    g_autoptr (GError) e1 = NULL;
    g_autoptr (GError) e2 = NULL;
    r = sample_request ("ok", "");
    memset (r.edition, 'a', sizeof r.edition);
    assert_int_equal (volact_request_encode (&r, buf, &e1), 0);
    assert_error (e1, VOLACT_E_REQUEST_MALFORMED);
    r = sample_request ("ok", "");
    memset (r.name, 'a', sizeof r.name);
    assert_int_equal (volact_request_encode (&r, buf, &e2), 0);
    assert_error (e2, VOLACT_E_REQUEST_MALFORMED);
  }
  {
    g_autoptr (GError) error = NULL;
    r = sample_request ("ok", "");
    r.state = VOLACT_STATE_UNLICENSED + 1;
    assert_int_equal (volact_request_encode (&r, buf, &error), 0);
    assert_error (error, VOLACT_E_REQUEST_MALFORMED);
  }
}

/* A valid request of edition "pro" and name "ws1.example" (62 bytes) to mutate. */
static gsize
valid_request (guint8 buf[VOLACT_PROTO_MESSAGE_MAX])
{
  g_autoptr (GError) error = NULL;
  VolactRequest r = sample_request ("pro", "ws1.example");
  gsize n = volact_request_encode (&r, buf, &error);
  assert_int_equal (n, 62);
  return n;
}

static void
set_len (guint8 *buf, gsize total)
{
  buf[6] = (guint8) (total >> 8);
  buf[7] = (guint8) total;
}

static void
expect_refused (const guint8 *buf, gsize len, VolactErrorCode code, const char *what)
{
  g_autoptr (GError) error = NULL;
  VolactRequest out;

  memset (&out, 0xee, sizeof out);
  if (volact_request_decode (buf, len, &out, &error))
    fail_msg ("accepted a request with %s", what);
  assert_error (error, code);
}

static void
test_request_malformed (void **state)
{
  guint8 buf[VOLACT_PROTO_MESSAGE_MAX];
  gsize n;

  /* Bad magic. */
  n = valid_request (buf);
  buf[0] = 'X';
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "bad magic");
  /* Another version: its own code, so the host can answer PROTOCOL_VERSION. */
  n = valid_request (buf);
  buf[4] = 2;
  expect_refused (buf, n, VOLACT_E_PROTOCOL_VERSION, "version 2");
  n = valid_request (buf);
  buf[4] = 0;
  expect_refused (buf, n, VOLACT_E_PROTOCOL_VERSION, "version 0");
  /* Other types. */
  for (guint t = 0; t < 256; t++) {
    if (t == VOLACT_MSG_REQUEST)
      continue;
    n = valid_request (buf);
    buf[5] = (guint8) t;
    expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "another message type");
  }
  /* Length field disagreeing with the message or the fields. */
  n = valid_request (buf);
  set_len (buf, n + 1);
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "length field + 1");
  n = valid_request (buf);
  set_len (buf, n - 1);
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "length field - 1");
  n = valid_request (buf);
  buf[n] = 0;
  set_len (buf, n + 1);
  expect_refused (buf, n + 1, VOLACT_E_REQUEST_MALFORMED, "a trailing byte");
  n = valid_request (buf);
  set_len (buf, 48);
  expect_refused (buf, 48, VOLACT_E_REQUEST_MALFORMED, "length 48");
  n = valid_request (buf);
  set_len (buf, 144);
  memset (buf + n, 'x', 144 - n);
  expect_refused (buf, 144, VOLACT_E_REQUEST_MALFORMED, "length 144");
  n = valid_request (buf);
  set_len (buf, 0xffff);
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "length 65535");
  /* Every truncation, with and without the length field adjusted. */
  for (gsize cut = 0; cut < 62; cut++) {
    n = valid_request (buf);
    expect_refused (buf, cut, VOLACT_E_REQUEST_MALFORMED, "a truncated message");
    set_len (buf, cut);
    expect_refused (buf, cut, VOLACT_E_REQUEST_MALFORMED, "a truncated message and length");
  }
  /* Edition length: 0, 33, past the end, one too many or too few for the name. */
  n = valid_request (buf);
  buf[46] = 0;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "edition length 0");
  n = valid_request (buf);
  buf[46] = 33;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "edition length 33");
  n = valid_request (buf);
  buf[46] = 200;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "edition length past the end");
  n = valid_request (buf);
  buf[46] = 4;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "edition length + 1");
  n = valid_request (buf);
  buf[46] = 2;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "edition length - 1");
  /* Edition characters. */
  {
    static const guint8 bad[] = { 'A', 'Z', '_', ' ', '.', '/', ':', 0, 0x80, 0xff };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      n = valid_request (buf);
      buf[48] = bad[i];
      expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "a bad edition character");
    }
  }
  /* Name length: past the end, short of the end, 64 with a consistent total. */
  n = valid_request (buf);
  buf[50] = 12;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "name length + 1");
  n = valid_request (buf);
  buf[50] = 10;
  expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "name length - 1");
  n = valid_request (buf);
  buf[50] = 64;
  memset (buf + 51, 'n', 64);
  set_len (buf, 51 + 64);
  expect_refused (buf, 51 + 64, VOLACT_E_REQUEST_MALFORMED, "name length 64");
  /* Name characters. */
  {
    static const guint8 bad[] = { 0, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      n = valid_request (buf);
      buf[55] = bad[i];
      expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "a non-printable name character");
    }
  }
  /* Reserved flag bits. */
  for (guint bit = 1; bit < 8; bit++) {
    n = valid_request (buf);
    buf[40] = (guint8) (1u << bit);
    expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "a reserved flag bit");
    buf[40] |= 0x01;
    expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "a reserved flag bit with vm");
  }
  /* License state above 5. */
  for (guint s = 6; s < 256; s++) {
    n = valid_request (buf);
    buf[41] = (guint8) s;
    expect_refused (buf, n, VOLACT_E_REQUEST_MALFORMED, "a state above 5");
  }
  /* And the unmodified request is fine. */
  {
    g_autoptr (GError) error = NULL;
    n = valid_request (buf);
    assert_true (volact_request_decode (buf, n, NULL, &error));
  }
}

static void
test_peek (void **state)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  guint8 hdr[8] = { 'V', 'L', 'A', 'C', 1, 2, 0, 243 };
  VolactMessageType type;
  gsize total;

  assert_true (volact_proto_peek (hdr, 8, &type, &total, NULL));
  assert_int_equal (type, VOLACT_MSG_RESPONSE);
  assert_int_equal (total, 243);
  hdr[5] = 3;
  hdr[7] = 32;
  assert_true (volact_proto_peek (hdr, 8, &type, &total, NULL));
  assert_int_equal (type, VOLACT_MSG_ERROR);
  assert_int_equal (total, 32);
  hdr[7] = 33;
  assert_false (volact_proto_peek (hdr, 8, &type, &total, &e1));
  assert_error (e1, VOLACT_E_REQUEST_MALFORMED);
  assert_false (volact_proto_peek (hdr, 7, &type, &total, &e2));
  assert_error (e2, VOLACT_E_REQUEST_MALFORMED);
  /* Anything over 250 bytes is refused whatever the type. */
  for (guint t = 1; t <= 3; t++) {
    hdr[5] = (guint8) t;
    hdr[6] = 0;
    hdr[7] = 251;
    assert_false (volact_proto_peek (hdr, 8, NULL, NULL, NULL));
  }
}

/* ---- Error responses ------------------------------------------------------------------------ */

static void
test_error_response (void **state)
{
  g_autoptr (GError) error = NULL;
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE], back[VOLACT_PROTO_NONCE_SIZE];
  guint8 buf[VOLACT_PROTO_ERROR_SIZE];
  guint32 code = 0;

  memset (nonce, 0xab, sizeof nonce);
  volact_error_response_encode (nonce, 0xC0AC0402u, buf);
  assert_memory_equal (buf, "VLAC\x01\x03\x00\x20", 8);
  assert_memory_equal (buf + 24, "\xc0\xac\x04\x02\x00\x00\x00\x00", 8);
  assert_true (volact_error_response_decode (buf, sizeof buf, back, &code, &error));
  assert_memory_equal (back, nonce, sizeof nonce);
  assert_int_equal (code, 0xC0AC0402u);

  /* An unreadable request: the nonce is zero. */
  volact_error_response_encode (NULL, 0xC0AC0503u, buf);
  assert_true (volact_error_response_decode (buf, sizeof buf, back, &code, &error));
  for (guint i = 0; i < sizeof back; i++)
    assert_int_equal (back[i], 0);
  assert_int_equal (code, 0xC0AC0503u);

  /* Reserved not zero, wrong length, wrong type. */
  buf[31] = 1;
  assert_false (volact_error_response_decode (buf, sizeof buf, back, &code, NULL));
  buf[31] = 0;
  assert_false (volact_error_response_decode (buf, sizeof buf - 1, back, &code, NULL));
  buf[5] = 2;
  assert_false (volact_error_response_decode (buf, sizeof buf, back, &code, NULL));
}

/* ---- Signed responses ----------------------------------------------------------------------- */

/* Signs a response for REQUEST with KEY, from fixture fields; OUT gets 243 bytes. */
static void
sign (VolactResponse *resp, const guint8 *request, gsize request_len, EVP_PKEY *key,
      guint8 out[VOLACT_PROTO_RESPONSE_SIZE])
{
  g_autoptr (GError) error = NULL;
  if (!volact_response_sign (resp, request, request_len, key, out, &error))
    fail_msg ("sign: %s", error->message);
}

static void
expect_rejected (const guint8 *rsp, const guint8 *request, gsize request_len, const char *what)
{
  g_autoptr (GError) error = NULL;
  VolactResponse out;

  if (volact_response_verify (rsp, VOLACT_PROTO_RESPONSE_SIZE, request, request_len, fx.authority,
                              &out, &error))
    fail_msg ("accepted %s", what);
  assert_error (error, VOLACT_E_RESPONSE_INVALID);
}

static void
test_sign_verify (void **state)
{
  g_autoptr (GError) error = NULL;
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("win7-enterprise", "ws1.example", req);
  VolactResponse resp, back;

  proto_fixture_response (&fx, req, &resp);
  resp.result = 0xC004F038u;
  resp.count = 0x01020304u;
  resp.minimum_count = 25;
  resp.activation_interval = 30;
  resp.renewal_interval = 60;
  resp.validity_days = 180;
  sign (&resp, req, req_len, fx.host, rsp);

  assert_memory_equal (rsp, "VLAC\x01\x02\x00\xf3", 8);
  assert_memory_equal (rsp + 8, req + 8, 16);
  assert_memory_equal (rsp + 24, "\xc0\x04\xf0\x38\x01\x02\x03\x04\x00\x19\x00\x1e\x00\x3c\x00\xb4",
                       16);
  assert_memory_equal (rsp + 40, fx.host_public, 33);
  assert_memory_equal (rsp + 73, fx.host_cert, 106);
  assert_memory_equal (rsp + 179, resp.signature, 64);

  assert_true (volact_response_verify (rsp, sizeof rsp, req, req_len, fx.authority, &back, &error));
  assert_null (error);
  assert_memory_equal (back.nonce, resp.nonce, sizeof back.nonce);
  assert_int_equal (back.result, resp.result);
  assert_int_equal (back.count, resp.count);
  assert_int_equal (back.minimum_count, 25);
  assert_int_equal (back.activation_interval, 30);
  assert_int_equal (back.renewal_interval, 60);
  assert_int_equal (back.validity_days, 180);
  assert_memory_equal (back.host_public_key, fx.host_public, 33);
  assert_memory_equal (back.certificate, fx.host_cert, 106);
  assert_memory_equal (back.signature, resp.signature, 64);

  /* Any length other than 243 is refused. */
  assert_false (volact_response_verify (rsp, 242, req, req_len, fx.authority, NULL, NULL));
}

static void
test_sign_verify_sizes (void **state)
{
  /* The shortest and the longest requests sign and verify. */
  static const char *const editions[] = { "a", "abcdefghijklmnopqrstuvwxyz012345" };
  char name[VOLACT_PROTO_NAME_MAX + 1];

  memset (name, 'n', VOLACT_PROTO_NAME_MAX);
  name[VOLACT_PROTO_NAME_MAX] = '\0';
  for (guint i = 0; i < 2; i++) {
    g_autoptr (GError) error = NULL;
    guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
    gsize req_len = proto_fixture_request (editions[i], i == 0 ? "" : name, req);
    VolactResponse resp;

    assert_int_equal (req_len, i == 0 ? VOLACT_PROTO_REQUEST_MIN : VOLACT_PROTO_REQUEST_MAX);
    proto_fixture_response (&fx, req, &resp);
    sign (&resp, req, req_len, fx.host, rsp);
    assert_true (
        volact_response_verify (rsp, sizeof rsp, req, req_len, fx.authority, NULL, &error));
  }
}

static void
test_sign_refuses_bad_request (void **state)
{
  g_autoptr (GError) error = NULL;
  guint8 req[VOLACT_PROTO_REQUEST_MAX] = { 0 }, rsp[VOLACT_PROTO_RESPONSE_SIZE];
  VolactResponse resp;

  proto_fixture_response (&fx, req, &resp);
  assert_false (volact_response_sign (&resp, req, 48, fx.host, rsp, &error));
  assert_non_null (error);
  assert_false (volact_response_sign (&resp, req, 144, fx.host, rsp, NULL));
  assert_false (volact_response_sign (&resp, NULL, 60, fx.host, rsp, NULL));
}

static void
test_verify_flipped_bytes (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("pro", "ws1.example", req);
  VolactResponse resp;

  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.host, rsp);
  /* Each byte, a low and a high bit: every field is covered by some check. */
  for (guint i = 0; i < VOLACT_PROTO_RESPONSE_SIZE; i++) {
    static const guint8 masks[] = { 0x01, 0x80 };
    for (guint m = 0; m < G_N_ELEMENTS (masks); m++) {
      guint8 bad[VOLACT_PROTO_RESPONSE_SIZE];
      char what[64];
      memcpy (bad, rsp, sizeof bad);
      bad[i] ^= masks[m];
      g_snprintf (what, sizeof what, "a response with byte %u ^ 0x%02x", i, masks[m]);
      expect_rejected (bad, req, req_len, what);
    }
  }
  /* The request is covered too: any flipped request byte breaks the signature. */
  for (gsize i = 0; i < req_len; i++) {
    guint8 other[VOLACT_PROTO_REQUEST_MAX];
    memcpy (other, req, req_len);
    other[i] ^= 0x01;
    expect_rejected (rsp, other, req_len, "a response to a changed request");
  }
}

static void
test_verify_other_request (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], other[VOLACT_PROTO_REQUEST_MAX];
  guint8 rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("win7-professional", "ws1.example", req);
  gsize other_len;
  VolactResponse resp;

  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.host, rsp);

  /* A different nonce: a replayed response. */
  other_len = proto_fixture_request ("win7-professional", "ws1.example", other);
  assert_memory_not_equal (other + 8, req + 8, 16);
  expect_rejected (rsp, other, other_len, "a response to another nonce");

  /* The same nonce, another edition: a response relayed for a changed request. */
  other_len = proto_fixture_request ("win7-enterprise", "ws1.example", other);
  memcpy (other + 8, req + 8, 16);
  expect_rejected (rsp, other, other_len, "a response to another edition");

  /* The same nonce, another CMID, or the VM flag set. */
  memcpy (other, req, req_len);
  other[24] ^= 0xff;
  expect_rejected (rsp, other, req_len, "a response to another CMID");
  memcpy (other, req, req_len);
  other[40] = 0x01;
  expect_rejected (rsp, other, req_len, "a response to a VM request");
}

static void
test_verify_forged_certificate (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("pro", "", req);
  VolactResponse resp;
  guint8 forged[VOLACT_HOST_CERT_SIZE];
  guint8 real_id[VOLACT_AUTHORITY_KEY_ID_SIZE];

  /* A rogue authority certified the host: another authority key id. */
  proto_fixture_certify (fx.other_authority, fx.host, forged);
  proto_fixture_response (&fx, req, &resp);
  memcpy (resp.certificate, forged, sizeof forged);
  sign (&resp, req, req_len, fx.host, rsp);
  expect_rejected (rsp, req, req_len, "a certificate from another authority");
  /* The same response verifies for a client pinning the rogue: the check is the pin. */
  assert_true (
      volact_response_verify (rsp, sizeof rsp, req, req_len, fx.other_authority, NULL, NULL));

  /* ... claiming to be the pinned authority: the signature does not verify. */
  assert_true (volact_authority_key_id (fx.authority, real_id, NULL));
  memcpy (forged + 1, real_id, sizeof real_id);
  proto_fixture_response (&fx, req, &resp);
  memcpy (resp.certificate, forged, sizeof forged);
  sign (&resp, req, req_len, fx.host, rsp);
  expect_rejected (rsp, req, req_len, "a certificate with a forged authority key id");
}

static void
test_verify_host_key_mismatch (void **state)
{
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("pro", "", req);
  VolactResponse resp;

  /* Another host's key with this host's certificate, signed by that key. */
  proto_fixture_response (&fx, req, &resp);
  memcpy (resp.host_public_key, fx.other_host_public, VOLACT_PUBLIC_KEY_SIZE);
  sign (&resp, req, req_len, fx.other_host, rsp);
  expect_rejected (rsp, req, req_len, "a host key that is not the certificate's");

  /* The certified key and certificate, signed by another host's key. */
  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.other_host, rsp);
  expect_rejected (rsp, req, req_len, "a response signed by another host key");
}

static void
test_verifier_cache (void **state)
{
  g_autoptr (VolactResponseVerifier) v = volact_response_verifier_new (fx.authority);
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len;
  VolactResponse resp;
  guint8 forged[VOLACT_HOST_CERT_SIZE];

  for (guint i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    req_len = proto_fixture_request ("pro", "", req);
    proto_fixture_response (&fx, req, &resp);
    sign (&resp, req, req_len, fx.host, rsp);
    assert_true (volact_response_verifier_check (v, rsp, sizeof rsp, req, req_len, NULL, &error));
  }
  /* With the host cached, the signature is still checked every time. */
  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.other_host, rsp);
  assert_false (volact_response_verifier_check (v, rsp, sizeof rsp, req, req_len, NULL, NULL));
  /* ... and another certificate is checked afresh. */
  proto_fixture_certify (fx.other_authority, fx.other_host, forged);
  proto_fixture_response (&fx, req, &resp);
  memcpy (resp.host_public_key, fx.other_host_public, VOLACT_PUBLIC_KEY_SIZE);
  memcpy (resp.certificate, forged, sizeof forged);
  sign (&resp, req, req_len, fx.other_host, rsp);
  assert_false (volact_response_verifier_check (v, rsp, sizeof rsp, req, req_len, NULL, NULL));
  /* The trusted host still verifies afterwards. */
  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.host, rsp);
  assert_true (volact_response_verifier_check (v, rsp, sizeof rsp, req, req_len, NULL, NULL));
}

/* Two hosts the same authority certified, answering in turn (a client failing over and
 * back, bench/volact-fleet-sim's senders): each answer verifies with its own host's key. */
static void
test_verifier_two_hosts (void **state)
{
  g_autoptr (VolactResponseVerifier) v = volact_response_verifier_new (fx.authority);
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  guint8 other_cert[VOLACT_HOST_CERT_SIZE];
  gsize req_len = proto_fixture_request ("pro", "", req);

  proto_fixture_certify (fx.authority, fx.other_host, other_cert);
  for (guint i = 0; i < 4; i++) {
    g_autoptr (GError) error = NULL;
    VolactResponse resp;
    gboolean other = i % 2 == 1;
    proto_fixture_response (&fx, req, &resp);
    if (other) {
      memcpy (resp.host_public_key, fx.other_host_public, VOLACT_PUBLIC_KEY_SIZE);
      memcpy (resp.certificate, other_cert, sizeof other_cert);
    }
    sign (&resp, req, req_len, other ? fx.other_host : fx.host, rsp);
    if (!volact_response_verifier_check (v, rsp, sizeof rsp, req, req_len, NULL, &error))
      fail_msg ("answer %u (%s host): %s", i, other ? "second" : "first", error->message);
  }
}

static void
test_sign_key_switch (void **state)
{
  /* The per-thread signing context follows the key it is given. */
  EVP_PKEY *keys[] = { fx.host, fx.other_host, fx.host, fx.other_host, fx.other_host, fx.host };
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("pro", "", req);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    VolactResponse resp;
    proto_fixture_response (&fx, req, &resp);
    sign (&resp, req, req_len, keys[i], rsp);
    assert_int_equal (
        volact_response_verify (rsp, sizeof rsp, req, req_len, fx.authority, NULL, NULL),
        keys[i] == fx.host);
  }
}

static gpointer
sign_thread (gpointer data)
{
  EVP_PKEY *key = data;
  guint ok = 0;

  for (guint i = 0; i < 200; i++) {
    guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
    gsize req_len = proto_fixture_request ("pro", "", req);
    VolactResponse resp;
    proto_fixture_response (&fx, req, &resp);
    if (volact_response_sign (&resp, req, req_len, key, rsp, NULL)
        && volact_response_verify (rsp, sizeof rsp, req, req_len, fx.authority, NULL, NULL))
      ok++;
  }
  return GUINT_TO_POINTER (ok);
}

static void
test_sign_threads (void **state)
{
  GThread *t[4];

  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    t[i] = g_thread_new ("sign", sign_thread, fx.host);
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    assert_int_equal (GPOINTER_TO_UINT (g_thread_join (t[i])), 200);
}

static void
test_sign_cost (void **state)
{
  /* Not an assertion (machines differ): prints the signing cost for the record. */
  guint8 req[VOLACT_PROTO_REQUEST_MAX], rsp[VOLACT_PROTO_RESPONSE_SIZE];
  gsize req_len = proto_fixture_request ("win7-enterprise", "ws0001.fleet.example", req);
  VolactResponse resp;
  const guint n = 2000;
  gint64 start;

  proto_fixture_response (&fx, req, &resp);
  sign (&resp, req, req_len, fx.host, rsp); /* warm the per-thread context */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    sign (&resp, req, req_len, fx.host, rsp);
  print_message ("volact_response_sign: %.1f us per signature (%u signatures)\n",
                 (double) (g_get_monotonic_time () - start) / n, n);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n / 4; i++)
    assert_true (volact_response_verify (rsp, sizeof rsp, req, req_len, fx.authority, NULL, NULL));
  print_message ("volact_response_verify: %.1f us per response, uncached (%u)\n",
                 (double) (g_get_monotonic_time () - start) / (n / 4), n / 4);
}

static int
setup (void **state)
{
  proto_fixture_init (&fx);
  return 0;
}

static int
teardown (void **state)
{
  proto_fixture_clear (&fx);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sizes),
    cmocka_unit_test (test_request_min),
    cmocka_unit_test (test_request_max),
    cmocka_unit_test (test_request_every_size),
    cmocka_unit_test (test_request_encode_refuses),
    cmocka_unit_test (test_request_malformed),
    cmocka_unit_test (test_peek),
    cmocka_unit_test (test_error_response),
    cmocka_unit_test (test_sign_verify),
    cmocka_unit_test (test_sign_verify_sizes),
    cmocka_unit_test (test_sign_refuses_bad_request),
    cmocka_unit_test (test_verify_flipped_bytes),
    cmocka_unit_test (test_verify_other_request),
    cmocka_unit_test (test_verify_forged_certificate),
    cmocka_unit_test (test_verify_host_key_mismatch),
    cmocka_unit_test (test_verifier_cache),
    cmocka_unit_test (test_verifier_two_hosts),
    cmocka_unit_test (test_sign_key_switch),
    cmocka_unit_test (test_sign_threads),
    cmocka_unit_test (test_sign_cost),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
