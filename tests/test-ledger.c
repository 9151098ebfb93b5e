/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The authority's ledger: host and reactivation limits, overrides, persistence. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "authority-ledger.h"
#include "testutil.h"
#include "volact-error.h"

typedef struct {
  char *dir;
  VolactLedger *ledger;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;

  fx->dir = test_tmpdir ();
  fx->ledger = volact_ledger_open (fx->dir, &error);
  if (fx->ledger == NULL) {
    print_error ("cannot open the ledger: %s\n", error->message);
    return -1;
  }
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;
  volact_ledger_close (fx->ledger);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* The IID of host number N (distinct host ids) for KEY. */
static VolactInstallationId
iid_for (const VolactHostKey *key, guint n)
{
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fp[VOLACT_FINGERPRINT_SIZE];
  VolactInstallationId iid;

  memset (host_id, 0, sizeof host_id);
  host_id[0] = 0x42;
  host_id[15] = (guint8) n;
  memset (fp, (int) n, sizeof fp);
  volact_installation_id_init (&iid, key, host_id, fp);
  return iid;
}

static guint8
activate_ok (VolactLedger *ledger, const VolactInstallationId *iid)
{
  g_autoptr (GError) error = NULL;
  guint8 number = 0;

  if (!volact_ledger_activate (ledger, iid, &number, &error))
    fail_msg ("activation refused: %s", error->message);
  return number;
}

static void
activate_refused (VolactLedger *ledger, const VolactInstallationId *iid, int code, const char *want)
{
  g_autoptr (GError) error = NULL;
  guint8 number = 99;

  assert_false (volact_ledger_activate (ledger, iid, &number, &error));
  assert_non_null (error);
  if (!g_error_matches (error, VOLACT_ERROR, code))
    fail_msg ("code 0x%08X, want 0x%08X (%s)", (guint32) error->code, (guint32) code,
              error->message);
  if (want != NULL && strstr (error->message, want) == NULL)
    fail_msg ("message \"%s\" lacks \"%s\"", error->message, want);
  assert_int_equal (number, 99);
}

static void
test_file_mode (void **state)
{
  Fixture *fx = *state;
  g_autofree char *path = g_build_filename (fx->dir, VOLACT_LEDGER_FILE, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  VolactHostKey key;
  struct stat st;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  assert_string_equal (volact_ledger_path (fx->ledger), path);
  assert_true (volact_ledger_issue_key (fx->ledger, 1, 0, 0, &key, NULL));
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  /* SQLite gives the write-ahead log the database's mode. */
  assert_int_equal (g_stat (wal, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);

  /* WAL is the persistent journal mode of the file. */
  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
  assert_string_equal ((const char *) sqlite3_column_text (stmt, 0), "wal");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_issue_key (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  VolactHostKey k1, k2, k3;
  VolactLedgerKeyInfo info;

  assert_true (volact_ledger_issue_key (fx->ledger, 2, 0, 0, &k1, &error));
  assert_true (k1.serial == 1);
  assert_int_equal (k1.group, 2);
  assert_int_equal (k1.version, VOLACT_KEY_VERSION);
  assert_true (volact_ledger_issue_key (fx->ledger, 2, 0, 0, &k2, &error));
  assert_true (k2.serial == 2);
  assert_true (volact_ledger_issue_key (fx->ledger, 9, 3, 4, &k3, &error));
  assert_true (k3.serial == 3);
  /* Nonces are random: three equal ones would mean they are not. */
  assert_false (k1.nonce == k2.nonce && k2.nonce == k3.nonce);

  assert_true (volact_ledger_get_key (fx->ledger, 1, &info, &error));
  assert_int_equal (info.key.group, 2);
  assert_int_equal (info.key.nonce, k1.nonce);
  assert_int_equal (info.max_hosts, VOLACT_LEDGER_DEFAULT_MAX_HOSTS);
  assert_int_equal (info.max_activations, VOLACT_LEDGER_DEFAULT_MAX_ACTIVATIONS);
  assert_int_equal (info.hosts, 0);
  assert_true (info.issued_at > 1577836800);
  assert_true (volact_ledger_get_key (fx->ledger, 3, &info, &error));
  assert_int_equal (info.key.group, 9);
  assert_int_equal (info.max_hosts, 3);
  assert_int_equal (info.max_activations, 4);

  assert_false (volact_ledger_get_key (fx->ledger, 4, &info, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);

  /* Refusals: bad group, limits out of range. */
  assert_false (volact_ledger_issue_key (fx->ledger, 0, 0, 0, &k3, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_false (volact_ledger_issue_key (fx->ledger, 1024, 0, 0, &k3, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_false (volact_ledger_issue_key (fx->ledger, 1, 0, 256, &k3, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  g_clear_error (&error);
  assert_false (
      volact_ledger_issue_key (fx->ledger, 1, VOLACT_LEDGER_MAX_HOSTS_LIMIT + 1, 0, &k3, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  g_clear_error (&error);
  /* Refused calls used no serial. */
  assert_true (volact_ledger_issue_key (fx->ledger, 1, 0, 0, &k3, &error));
  assert_true (k3.serial == 4);
}

static void
test_host_limit (void **state)
{
  Fixture *fx = *state;
  VolactHostKey key;
  VolactInstallationId seventh;
  VolactLedgerKeyInfo info;

  assert_true (volact_ledger_issue_key (fx->ledger, 3, 0, 0, &key, NULL));
  assert_true (key.serial == 1);
  for (guint n = 1; n <= 6; n++) {
    VolactInstallationId iid = iid_for (&key, n);
    assert_int_equal (activate_ok (fx->ledger, &iid), 1);
  }
  seventh = iid_for (&key, 7);
  activate_refused (fx->ledger, &seventh, VOLACT_E_KEY_HOST_LIMIT,
                    "key serial 1 has already activated 6 of 6 hosts");
  /* Refused again: a refusal does not take a place. */
  activate_refused (fx->ledger, &seventh, VOLACT_E_KEY_HOST_LIMIT, NULL);

  /* A host it already activated still reactivates, and uses no new place. */
  {
    VolactInstallationId third = iid_for (&key, 3);
    assert_int_equal (activate_ok (fx->ledger, &third), 2);
  }
  assert_true (volact_ledger_get_key (fx->ledger, 1, &info, NULL));
  assert_int_equal (info.hosts, 6);

  /* The authority's override raises the limit. */
  assert_true (volact_ledger_set_limits (fx->ledger, 1, 7, 0, NULL));
  assert_int_equal (activate_ok (fx->ledger, &seventh), 1);
  {
    VolactInstallationId eighth = iid_for (&key, 8);
    activate_refused (fx->ledger, &eighth, VOLACT_E_KEY_HOST_LIMIT, "7 of 7 hosts");
  }
  assert_true (volact_ledger_get_key (fx->ledger, 1, &info, NULL));
  assert_int_equal (info.hosts, 7);
  assert_int_equal (info.max_hosts, 7);
  assert_int_equal (info.max_activations, VOLACT_LEDGER_DEFAULT_MAX_ACTIVATIONS);

  /* Another key has its own hosts. */
  {
    VolactHostKey other;
    VolactInstallationId iid;
    assert_true (volact_ledger_issue_key (fx->ledger, 3, 0, 0, &other, NULL));
    iid = iid_for (&other, 7);
    assert_int_equal (activate_ok (fx->ledger, &iid), 1);
  }
}

static void
test_reactivation_limit (void **state)
{
  Fixture *fx = *state;
  VolactHostKey key;
  VolactInstallationId iid;

  assert_true (volact_ledger_issue_key (fx->ledger, 1, 0, 0, &key, NULL));
  iid = iid_for (&key, 1);
  for (guint n = 1; n <= 10; n++)
    assert_int_equal (activate_ok (fx->ledger, &iid), n);
  activate_refused (fx->ledger, &iid, VOLACT_E_HOST_REACTIVATION_LIMIT,
                    "has already been activated 10 of 10 times with key serial 1");

  /* A changed fingerprint is still the same host (same host id). */
  iid.fingerprint[0] ^= 0xFF;
  activate_refused (fx->ledger, &iid, VOLACT_E_HOST_REACTIVATION_LIMIT, NULL);

  /* Other hosts of the key are not affected. */
  {
    VolactInstallationId second = iid_for (&key, 2);
    assert_int_equal (activate_ok (fx->ledger, &second), 1);
  }

  /* Override: two more. */
  assert_true (volact_ledger_set_limits (fx->ledger, key.serial, 0, 12, NULL));
  assert_int_equal (activate_ok (fx->ledger, &iid), 11);
  assert_int_equal (activate_ok (fx->ledger, &iid), 12);
  activate_refused (fx->ledger, &iid, VOLACT_E_HOST_REACTIVATION_LIMIT, "12 of 12 times");

  /* Up to the one-byte maximum, never past it. */
  assert_true (volact_ledger_set_limits (fx->ledger, key.serial, 0, 255, NULL));
  for (guint n = 13; n <= 255; n++)
    assert_int_equal (activate_ok (fx->ledger, &iid), n);
  activate_refused (fx->ledger, &iid, VOLACT_E_HOST_REACTIVATION_LIMIT, "255 of 255 times");
}

static void
test_invalid_key (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  VolactHostKey key, bad;
  VolactInstallationId iid;

  assert_true (volact_ledger_issue_key (fx->ledger, 4, 0, 0, &key, NULL));

  /* Unknown serial. */
  bad = key;
  bad.serial = 2;
  iid = iid_for (&bad, 1);
  activate_refused (fx->ledger, &iid, VOLACT_E_INVALID_KEY, "was not issued by this authority");
  bad.serial = 0;
  iid = iid_for (&bad, 1);
  activate_refused (fx->ledger, &iid, VOLACT_E_INVALID_KEY, NULL);
  /* Wrong nonce, wrong group: the same answer. */
  bad = key;
  bad.nonce ^= 1;
  iid = iid_for (&bad, 1);
  activate_refused (fx->ledger, &iid, VOLACT_E_INVALID_KEY, "was not issued by this authority");
  bad = key;
  bad.group = 5;
  iid = iid_for (&bad, 1);
  activate_refused (fx->ledger, &iid, VOLACT_E_INVALID_KEY, NULL);

  /* set_limits on an unknown serial. */
  assert_false (volact_ledger_set_limits (fx->ledger, 2, 10, 10, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_false (volact_ledger_set_limits (fx->ledger, 1, 0, 300, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  g_clear_error (&error);

  /* The genuine key still works after all that. */
  iid = iid_for (&key, 1);
  assert_int_equal (activate_ok (fx->ledger, &iid), 1);
}

/* Counts activation_log rows with RESULT. */
static int
count_log (const char *path, guint32 result)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int n;

  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db,
                                        "SELECT count (*) FROM activation_log WHERE result = ?1",
                                        -1, &stmt, NULL),
                    SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, result);
  assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
  n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static void
test_persistence (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup (volact_ledger_path (fx->ledger));
  VolactHostKey key, next;
  VolactInstallationId iid, bad_iid;
  VolactLedgerKeyInfo info;

  assert_true (volact_ledger_issue_key (fx->ledger, 7, 2, 5, &key, NULL));
  iid = iid_for (&key, 1);
  assert_int_equal (activate_ok (fx->ledger, &iid), 1);
  assert_int_equal (activate_ok (fx->ledger, &iid), 2);
  bad_iid = iid;
  bad_iid.key_nonce ^= 1;
  activate_refused (fx->ledger, &bad_iid, VOLACT_E_INVALID_KEY, NULL);

  volact_ledger_close (fx->ledger);
  fx->ledger = volact_ledger_open (fx->dir, &error);
  assert_non_null (fx->ledger);

  assert_true (volact_ledger_get_key (fx->ledger, key.serial, &info, &error));
  assert_int_equal (info.key.nonce, key.nonce);
  assert_int_equal (info.key.group, 7);
  assert_int_equal (info.max_hosts, 2);
  assert_int_equal (info.max_activations, 5);
  assert_int_equal (info.hosts, 1);
  assert_int_equal (activate_ok (fx->ledger, &iid), 3);
  assert_true (volact_ledger_issue_key (fx->ledger, 7, 0, 0, &next, NULL));
  assert_true (next.serial == key.serial + 1);

  /* The log has every request, granted (0) or refused (its code). */
  assert_int_equal (count_log (path, 0), 3);
  assert_int_equal (count_log (path, (guint32) VOLACT_E_INVALID_KEY), 1);
}

static void
test_open_errors (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "nope", NULL);
  g_autofree char *path = g_build_filename (dir, VOLACT_LEDGER_FILE, NULL);
  g_autoptr (GError) error = NULL;

  assert_null (volact_ledger_open (missing, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  g_clear_error (&error);

  /* Not a database. */
  test_write_file (path, "this is not an SQLite database, not even close to one.......", -1);
  assert_null (volact_ledger_open (dir, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, path));
  g_clear_error (&error);
  g_unlink (path);

  /* A newer schema is refused, not modified. */
  {
    VolactLedger *ledger = volact_ledger_open (dir, &error);
    sqlite3 *db = NULL;
    assert_non_null (ledger);
    volact_ledger_close (ledger);
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    assert_null (volact_ledger_open (dir, &error));
    assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
    assert_non_null (strstr (error->message, "newer"));
  }
  test_rmtree (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_file_mode, setup, teardown),
    cmocka_unit_test_setup_teardown (test_issue_key, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_limit, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reactivation_limit, setup, teardown),
    cmocka_unit_test_setup_teardown (test_invalid_key, setup, teardown),
    cmocka_unit_test_setup_teardown (test_persistence, setup, teardown),
    cmocka_unit_test (test_open_errors),
  };
  return cmocka_run_group_tests_name ("ledger", tests, NULL, NULL);
}
