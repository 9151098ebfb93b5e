/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The web listener's sign-in rules (docs/web.md): scrypt password hashes, the
 * users file (format, mode, errors that name file and line), sessions that
 * expire, and failed sign-ins slowed per address and per user. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "volact-error.h"
#include "volact-users.h"
#include "volact-web-auth.h"

static void
test_password_hash (void **state)
{
  g_autofree char *a = volact_password_hash ("correct horse", NULL);
  g_autofree char *b = volact_password_hash ("correct horse", NULL);

  assert_non_null (a);
  assert_true (g_str_has_prefix (a, "$scrypt$ln=15,r=8,p=1$"));
  assert_string_not_equal (a, b); /* salted */
  assert_true (volact_password_check (a, "correct horse"));
  assert_false (volact_password_check (a, "correct horsE"));
  assert_false (volact_password_check (a, ""));
  assert_false (volact_password_check (NULL, "correct horse"));
  assert_false (volact_password_check ("$scrypt$ln=40,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
                                       "x")); /* a cost beyond the bounds is refused, not run */
}

static char *
write_users (const char *text, mode_t mode)
{
  g_autofree char *dir = g_dir_make_tmp ("volact-users.XXXXXX", NULL);
  char *path = g_build_filename (dir, "users", NULL);
  assert_true (g_file_set_contents (path, text, -1, NULL));
  assert_int_equal (g_chmod (path, mode), 0);
  return path;
}

static void
remove_users (char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
}

static void
test_users_file (void **state)
{
  g_autoptr (VolactUsers) users = volact_users_new ();
  g_autoptr (VolactUsers) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL;
  char *path = write_users ("", 0600);
  VolactRole role;
  struct stat st;

  assert_true (volact_users_set (users, "alice", VOLACT_ROLE_ADMIN, "correct horse", NULL));
  assert_true (volact_users_set (users, "bob@example.org", VOLACT_ROLE_READ_ONLY, "staple", NULL));
  assert_false (volact_users_set (users, "bad:name", VOLACT_ROLE_ADMIN, "x", &error));
  g_clear_error (&error);
  assert_true (volact_users_save (users, path, &error));
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  again = volact_users_load (path, &error);
  assert_non_null (again);
  assert_true (volact_users_lookup (again, "alice", &role, &hash));
  assert_int_equal (role, VOLACT_ROLE_ADMIN);
  assert_true (volact_password_check (hash, "correct horse"));
  assert_true (volact_users_lookup (again, "bob@example.org", &role, NULL));
  assert_int_equal (role, VOLACT_ROLE_READ_ONLY);
  assert_false (volact_users_lookup (again, "carol", NULL, NULL));
  assert_true (volact_users_remove (again, "alice", NULL));
  assert_false (volact_users_remove (again, "alice", &error));
  g_clear_error (&error);

  /* Others may not read the hashes. */
  assert_int_equal (g_chmod (path, 0644), 0);
  assert_null (volact_users_load (path, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PERMISSION));
  assert_non_null (strstr (error->message, "mode 0644 lets others read the password hashes"));
  remove_users (path);
}

static void
expect_load_error (const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  char *path = write_users (text, 0600);
  g_autoptr (VolactUsers) users = volact_users_load (path, &error);
  g_autofree char *want = g_strdup_printf ("%s:%s", path, message);

  assert_null (users);
  if (strstr (error->message, want) == NULL)
    fail_msg ("\"%s\" does not contain \"%s\"", error->message, want);
  remove_users (path);
}

static void
test_users_file_errors (void **state)
{
  g_autofree char *hash = volact_password_hash ("correct horse", NULL);
  g_autofree char *dup = g_strdup_printf ("# comment\nalice:admin:%s\n\nalice:read-only:%s\n", hash,
                                          hash);
  g_autofree char *role = g_strdup_printf ("alice:root:%s\n", hash);

  expect_load_error ("alice\n", "1: expected NAME:ROLE:HASH");
  expect_load_error (role, "1: user alice: role \"root\" is neither admin nor read-only");
  expect_load_error ("alice:admin:plain-text\n", "1: user alice: not a scrypt hash");
  expect_load_error ("alice:admin:$scrypt$ln=25,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==\n",
                     "1: user alice: not a scrypt hash");
  expect_load_error (dup, "4: user alice is listed twice");
}

static void
test_sessions (void **state)
{
  g_autoptr (VolactWebAuth) auth = volact_web_auth_new ();
  const gint64 t0 = 1800000000;
  g_autofree char *token = g_strdup (volact_web_auth_open (auth, "alice", VOLACT_ROLE_ADMIN, t0));
  VolactWebSession *s;

  assert_int_equal (strlen (token), 64);
  s = volact_web_auth_session (auth, token, t0 + 60);
  assert_non_null (s);
  assert_string_equal (s->user, "alice");
  assert_int_equal (strlen (s->csrf), 64);
  assert_string_not_equal (s->csrf, token);
  assert_null (volact_web_auth_session (auth, "0000", t0 + 60));
  assert_null (volact_web_auth_session (auth, NULL, t0 + 60));
  /* Used within the idle time, it lives; not even then beyond the absolute limit. */
  for (gint64 t = t0; t < t0 + VOLACT_WEB_SESSION_MAX; t += VOLACT_WEB_SESSION_IDLE - 1)
    assert_non_null (volact_web_auth_session (auth, token, t));
  assert_null (volact_web_auth_session (auth, token, t0 + VOLACT_WEB_SESSION_MAX));
  assert_int_equal (volact_web_auth_sessions (auth), 0);

  g_free (token);
  token = g_strdup (volact_web_auth_open (auth, "bob", VOLACT_ROLE_READ_ONLY, t0));
  assert_null (volact_web_auth_session (auth, token, t0 + VOLACT_WEB_SESSION_IDLE));
  g_free (token);
  token = g_strdup (volact_web_auth_open (auth, "bob", VOLACT_ROLE_READ_ONLY, t0));
  assert_null (volact_web_auth_session (auth, token, t0 - 10)); /* the clock went back */
  g_free (token);
  token = g_strdup (volact_web_auth_open (auth, "bob", VOLACT_ROLE_READ_ONLY, t0));
  volact_web_auth_close (auth, token);
  assert_null (volact_web_auth_session (auth, token, t0));
}

static void
test_failed_sign_ins (void **state)
{
  g_autoptr (VolactWebAuth) auth = volact_web_auth_new ();
  const gint64 t0 = 1800000000;

  /* Three failures are free; then each doubles the wait, up to the maximum. */
  for (int i = 0; i < VOLACT_WEB_FREE_FAILURES; i++) {
    assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "alice", t0), 0);
    assert_int_equal (volact_web_auth_failed (auth, "192.0.2.1", "alice", t0), i + 1);
  }
  assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "alice", t0), 1);
  assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "alice", t0 + 1), 0);
  volact_web_auth_failed (auth, "192.0.2.1", "alice", t0 + 1);
  assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "alice", t0 + 1), 2);
  for (int i = 0; i < 10; i++)
    volact_web_auth_failed (auth, "192.0.2.1", "alice", t0 + 2);
  assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "alice", t0 + 2),
                    VOLACT_WEB_DELAY_MAX);
  /* Per address: another user from there waits too; per user: so does another address. */
  assert_int_equal (volact_web_auth_delay (auth, "192.0.2.1", "bob", t0 + 2), VOLACT_WEB_DELAY_MAX);
  assert_int_equal (volact_web_auth_delay (auth, "198.51.100.7", "alice", t0 + 2),
                    VOLACT_WEB_DELAY_MAX);
  assert_int_equal (volact_web_auth_delay (auth, "198.51.100.7", "bob", t0 + 2), 0);
  /* Forgotten after a quiet spell, and at once by a good sign-in. */
  assert_int_equal (
      volact_web_auth_delay (auth, "192.0.2.1", "alice", t0 + 2 + VOLACT_WEB_FAILURE_MEMORY), 0);
  for (int i = 0; i < 5; i++)
    volact_web_auth_failed (auth, "203.0.113.9", "carol", t0);
  assert_true (volact_web_auth_delay (auth, "203.0.113.9", "carol", t0) > 0);
  volact_web_auth_succeeded (auth, "203.0.113.9", "carol");
  assert_int_equal (volact_web_auth_delay (auth, "203.0.113.9", "carol", t0), 0);
}

static void
test_remembered_basic (void **state)
{
  g_autoptr (VolactWebAuth) auth = volact_web_auth_new ();
  const gint64 t0 = 1800000000;
  VolactRole role = VOLACT_ROLE_ADMIN;

  assert_false (volact_web_auth_recall (auth, "prom", "secret pass", t0, NULL));
  volact_web_auth_remember (auth, "prom", "secret pass", VOLACT_ROLE_READ_ONLY, t0);
  assert_true (volact_web_auth_recall (auth, "prom", "secret pass", t0 + 60, &role));
  assert_int_equal (role, VOLACT_ROLE_READ_ONLY);
  /* Another password, or the same one split differently between name and password, is not it. */
  assert_false (volact_web_auth_recall (auth, "prom", "secret pasS", t0 + 60, NULL));
  assert_false (volact_web_auth_recall (auth, "prom\0secret", " pass", t0 + 60, NULL));
  assert_false (volact_web_auth_recall (auth, "pro", "msecret pass", t0 + 60, NULL));
  assert_false (
      volact_web_auth_recall (auth, "prom", "secret pass", t0 + VOLACT_WEB_BASIC_MEMORY, NULL));
  volact_web_auth_remember (auth, "prom", "secret pass", VOLACT_ROLE_READ_ONLY, t0);
  volact_web_auth_forget (auth);
  assert_false (volact_web_auth_recall (auth, "prom", "secret pass", t0 + 1, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_password_hash),
    cmocka_unit_test (test_users_file),
    cmocka_unit_test (test_users_file_errors),
    cmocka_unit_test (test_sessions),
    cmocka_unit_test (test_failed_sign_ins),
    cmocka_unit_test (test_remembered_basic),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
