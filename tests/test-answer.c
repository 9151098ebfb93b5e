/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The answering unit (core/serving/volact-answer.c) without sockets: a
 * request, a serving snapshot and a record store in a temporary folder go
 * in; the answer (error code or response fields) comes out. The catalog is
 * the reference data plus a second application, "devtools", with its own
 * intervals (tests/data/second-app, signed at test time with the DEMO ONLY
 * reference authority key); key group 29 of that data activates devtools
 * and some Windows 7 era editions.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "testutil.h"
#include "volact-activation.h"
#include "volact-answer.h"
#include "volact-error.h"
#include "volact-reload.h"

#define NOW 1700000000 /* unix seconds: the records' clock, fixed so nothing depends on today */

typedef struct {
  char *dir;
  VolactCatalog *catalog;
  EVP_PKEY *identity;
  VolactRecords *records;
  VolactServingState st;
  guint next_cmid;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autofree char *trust = test_reference_trust ();
  g_autofree char *licenses = NULL, *key = NULL, *records = NULL;
  const char *plugin_dirs[] = { plugins, NULL };
  VolactCatalogSources src;
  g_autoptr (GError) error = NULL;

  fx->dir = test_tmpdir ();
  licenses = test_license_dir_with (fx->dir, "second-app");
  src = (VolactCatalogSources){ plugin_dirs, licenses, trust };
  fx->catalog = volact_catalog_build (&src, NULL, &error);
  key = g_build_filename (fx->dir, "identity.key", NULL);
  if (fx->catalog != NULL)
    fx->identity = volact_identity_load_or_create (key, NULL, &error);
  records = g_build_filename (fx->dir, "state", NULL);
  g_mkdir_with_parents (records, 0700);
  if (fx->identity != NULL)
    fx->records = volact_records_open (records, 0, &error);
  if (fx->records == NULL) {
    print_error ("setup: %s\n", error->message);
    return -1;
  }
  /* An activated host with a key of group 29; the certificate is not checked here. */
  fx->st.refcount = 1;
  fx->st.activated = TRUE;
  fx->st.identity = fx->identity;
  volact_identity_public_key (fx->identity, fx->st.public_key, NULL);
  memset (fx->st.certificate, 0xCE, sizeof fx->st.certificate);
  fx->st.key_group = 29;
  fx->st.catalog = fx->catalog;
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  g_clear_pointer (&fx->records, volact_records_close);
  g_clear_pointer (&fx->identity, EVP_PKEY_free);
  g_clear_pointer (&fx->catalog, volact_catalog_unref);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* Asks for EDITION as machine number CMID (0: a new machine each time). */
static VolactAnswer
ask (Fixture *fx, const char *edition, guint cmid, gboolean vm)
{
  VolactRequest req = { 0 };
  VolactAnswer answer;

  if (cmid == 0)
    cmid = 1000 + ++fx->next_cmid;
  memset (req.nonce, 0x5A, sizeof req.nonce);
  req.nonce[0] = (guint8) cmid;
  req.cmid[0] = (guint8) (cmid >> 8);
  req.cmid[1] = (guint8) cmid;
  req.virtual_machine = vm;
  g_strlcpy (req.edition, edition, sizeof req.edition);
  g_snprintf (req.name, sizeof req.name, "pc-%u.example.org", cmid);
  volact_answer_decide (&fx->st, fx->records, &req, "192.0.2.7", NOW, &answer);
  if (answer.error_code == 0)
    assert_memory_equal (answer.response.nonce, req.nonce, VOLACT_PROTO_NONCE_SIZE);
  return answer;
}

/* Asks and expects a signed answer with RESULT and COUNT; returns its response. */
static VolactResponse
ask_expect (Fixture *fx, const char *edition, guint cmid, guint32 result, guint count)
{
  VolactAnswer a = ask (fx, edition, cmid, FALSE);

  assert_int_equal (a.error_code, 0);
  assert_int_equal (a.response.result, result);
  assert_int_equal (a.response.count, count);
  return a.response;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_not_activated (void **state)
{
  Fixture *fx = *state;
  VolactAnswer a;

  fx->st.activated = FALSE;
  a = ask (fx, "win7-enterprise", 1, FALSE);
  assert_int_equal (a.error_code, (guint32) VOLACT_E_NOT_ACTIVATED);
  assert_string_equal (a.edition, "win7-enterprise"); /* the metrics count it by edition */
  /* No snapshot at all is the same: nothing to sign with. */
  {
    VolactRequest req = { 0 };
    g_strlcpy (req.edition, "win7-enterprise", sizeof req.edition);
    volact_answer_decide (NULL, fx->records, &req, "192.0.2.7", NOW, &a);
    assert_int_equal (a.error_code, (guint32) VOLACT_E_NOT_ACTIVATED);
  }
  /* Nothing was counted. */
  assert_int_equal (volact_records_pool_count_at (fx->records, "windows", 30, NOW), 0);
}

static void
test_unknown_and_not_covered (void **state)
{
  Fixture *fx = *state;
  VolactResponse r;

  r = ask_expect (fx, "no-such-edition", 1, (guint32) VOLACT_E_EDITION_UNKNOWN, 0);
  /* The metrics count an edition the catalog lacks as "": a client cannot add series. */
  assert_string_equal (ask (fx, "no-such-edition", 1, FALSE).edition, "");
  assert_int_equal (r.minimum_count, 0);
  assert_int_equal (r.validity_days, 0);
  /* Known, but key group 29 does not activate it. */
  r = ask_expect (fx, "vista-business", 2, (guint32) VOLACT_E_EDITION_NOT_COVERED, 0);
  assert_int_equal (r.minimum_count, 25);
  assert_int_equal (volact_records_pool_count_at (fx->records, "windows", 30, NOW), 0);
}

/* The seed's threshold: under the minimum 0xC004F038, licensed at it and after it. */
static void
test_threshold (void **state)
{
  Fixture *fx = *state;
  VolactResponse r;

  /* server2008r2-standard needs 5; win7-enterprise (same pool) needs 25. */
  for (guint i = 1; i <= 4; i++) {
    r = ask_expect (fx, "server2008r2-standard", i, (guint32) VOLACT_E_COUNT_INSUFFICIENT, i);
    assert_int_equal (r.minimum_count, 5);
  }
  /* The same machine again does not raise the count. */
  ask_expect (fx, "server2008r2-standard", 4, (guint32) VOLACT_E_COUNT_INSUFFICIENT, 4);
  ask_expect (fx, "server2008r2-standard", 5, 0, 5);
  r = ask_expect (fx, "server2008r2-standard", 1, 0, 5);
  assert_int_equal (r.validity_days, 180);
  ask_expect (fx, "server2008r2-standard", 6, 0, 6);
  /* Client and server editions share the pool; the client's minimum is higher. */
  r = ask_expect (fx, "win7-enterprise", 7, (guint32) VOLACT_E_COUNT_INSUFFICIENT, 7);
  assert_int_equal (r.minimum_count, 25);
  /* The second application is a pool of its own, with its own minimum. */
  ask_expect (fx, "devtools-buildserver", 8, (guint32) VOLACT_E_COUNT_INSUFFICIENT, 1);
  r = ask_expect (fx, "devtools-buildserver", 9, 0, 2);
  assert_int_equal (r.validity_days, 90);
  assert_int_equal (volact_records_pool_count_at (fx->records, "windows", 30, NOW), 7);
}

/* A virtual machine counts only where the edition's policy says so. */
static void
test_virtual_machines (void **state)
{
  Fixture *fx = *state;
  VolactAnswer a;

  /* Reference data: virtual machines are ignored (answered, recorded, not counted). */
  a = ask (fx, "server2008r2-standard", 1, TRUE);
  assert_int_equal (a.error_code, 0);
  assert_int_equal (a.response.result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  assert_int_equal (a.response.count, 0);
  /* devtools-workstation counts them. */
  a = ask (fx, "devtools-workstation", 2, TRUE);
  assert_int_equal (a.response.count, 1);
  a = ask (fx, "devtools-workstation", 3, TRUE);
  assert_int_equal (a.response.count, 2);
}

static void
assert_intervals (const VolactResponse *r, guint activation, guint renewal)
{
  assert_int_equal (r->activation_interval, activation);
  assert_int_equal (r->renewal_interval, renewal);
}

/* Defect 1: each client gets its own application's intervals, unless sai/sri override them. */
static void
test_intervals_per_application (void **state)
{
  Fixture *fx = *state;
  VolactResponse r;

  r = ask (fx, "win7-enterprise", 0, FALSE).response;
  assert_intervals (&r, 120, 10080);
  r = ask (fx, "devtools-workstation", 0, FALSE).response;
  assert_intervals (&r, 45, 1440);
  r = ask (fx, "devtools-buildserver", 0, FALSE).response;
  assert_intervals (&r, 45, 1440);
  /* Not covered: still its application's policy. */
  r = ask (fx, "vista-business", 0, FALSE).response;
  assert_intervals (&r, 120, 10080);
  /* No application: the applications disagree, so the defaults. */
  r = ask (fx, "no-such-edition", 0, FALSE).response;
  assert_intervals (&r, VOLACT_DEFAULT_ACTIVATION_INTERVAL, VOLACT_DEFAULT_RENEWAL_INTERVAL);

  /* sai overrides the activation interval of every application; the renewal stays per pool. */
  fx->st.activation_override = 30;
  r = ask (fx, "win7-enterprise", 0, FALSE).response;
  assert_intervals (&r, 30, 10080);
  r = ask (fx, "devtools-workstation", 0, FALSE).response;
  assert_intervals (&r, 30, 1440);
  /* sri as well: everyone, unknown editions included, gets both. */
  fx->st.renewal_override = 600;
  r = ask (fx, "win7-enterprise", 0, FALSE).response;
  assert_intervals (&r, 30, 600);
  r = ask (fx, "devtools-workstation", 0, FALSE).response;
  assert_intervals (&r, 30, 600);
  r = ask (fx, "no-such-edition", 0, FALSE).response;
  assert_intervals (&r, 30, 600);
}

static guint
dict_pool (GVariantDict *d, const char *key, const char *pool)
{
  g_autoptr (GVariant) v = g_variant_dict_lookup_value (d, key, G_VARIANT_TYPE ("a{su}"));
  guint value = 0;

  assert_non_null (v);
  assert_true (g_variant_lookup (v, pool, "u", &value));
  return value;
}

/* What `volactctl dli` shows: one value only where it is true for every pool, and each pool's. */
static void
test_describe_intervals (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariantDict) d = g_variant_dict_new (NULL);
  g_autoptr (GVariantDict) o = g_variant_dict_new (NULL);
  guint v = 0;

  volact_answer_describe_intervals (d, fx->catalog, 0, 0);
  /* The contract's fields stay, 0 saying the pools differ. */
  assert_true (g_variant_dict_lookup (d, "activation_interval", "u", &v));
  assert_int_equal (v, 0);
  assert_true (g_variant_dict_lookup (d, "renewal_interval", "u", &v));
  assert_int_equal (v, 0);
  assert_int_equal (dict_pool (d, "activation_intervals", "windows"), 120);
  assert_int_equal (dict_pool (d, "activation_intervals", "devtools"), 45);
  assert_int_equal (dict_pool (d, "renewal_intervals", "windows"), 10080);
  assert_int_equal (dict_pool (d, "renewal_intervals", "devtools"), 1440);

  volact_answer_describe_intervals (o, fx->catalog, 30, 600);
  assert_true (g_variant_dict_lookup (o, "activation_interval", "u", &v));
  assert_int_equal (v, 30);
  assert_true (g_variant_dict_lookup (o, "renewal_interval", "u", &v));
  assert_int_equal (v, 600);
  assert_int_equal (dict_pool (o, "activation_intervals", "devtools"), 30);
  assert_int_equal (dict_pool (o, "renewal_intervals", "windows"), 600);
}

/* The answer signs and verifies as the client will check it (the transport only signs). */
static void
test_response_signs (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  guint8 msg[VOLACT_PROTO_REQUEST_MAX], out[VOLACT_PROTO_RESPONSE_SIZE];
  VolactAnswer a;
  gsize len;

  memset (req.cmid, 0x33, sizeof req.cmid);
  g_strlcpy (req.edition, "devtools-workstation", sizeof req.edition);
  len = volact_request_encode (&req, msg, &error);
  assert_true (len > 0);
  volact_answer_decide (&fx->st, fx->records, &req, "192.0.2.7", NOW, &a);
  assert_int_equal (a.error_code, 0);
  assert_true (a.ticket > 0); /* counted: the response waits for this record's commit */
  assert_true (volact_response_sign (&a.response, msg, len, fx->identity, out, &error));
  assert_int_equal (out[35], 45); /* activation interval, big-endian at offset 34 */
  assert_int_equal ((out[36] << 8) | out[37], 1440);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_not_activated, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unknown_and_not_covered, setup, teardown),
    cmocka_unit_test_setup_teardown (test_threshold, setup, teardown),
    cmocka_unit_test_setup_teardown (test_virtual_machines, setup, teardown),
    cmocka_unit_test_setup_teardown (test_intervals_per_application, setup, teardown),
    cmocka_unit_test_setup_teardown (test_describe_intervals, setup, teardown),
    cmocka_unit_test_setup_teardown (test_response_signs, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
