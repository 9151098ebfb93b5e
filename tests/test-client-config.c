/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volact-client --config: what the packaged timer reads, and errors that name the key. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "testutil.h"
#include "volact-client-config.h"
#include "volact-error.h"

/* Loads TEXT as DIR/client.conf; on failure returns the error message (g_free). */
static char *
load_text (const char *dir, const char *text, VolactClientConfig *cfg)
{
  g_autofree char *path = g_build_filename (dir, "client.conf", NULL);
  g_autoptr (GError) error = NULL;

  test_write_file (path, text, -1);
  if (volact_client_config_load (path, cfg, &error))
    return NULL;
  assert_int_equal (error->domain, VOLACT_ERROR);
  assert_int_equal (error->code, VOLACT_E_CONFIG);
  assert_non_null (strstr (error->message, path));
  return g_strdup (error->message);
}

static void
test_full (void **unused)
{
  g_autofree char *dir = test_tmpdir ();
  VolactClientConfig cfg = { 0 };

  (void) unused;
  assert_null (load_text (dir,
                          "[client]\n"
                          "editions = win7-enterprise; server2008-web ;win7-enterprise\n"
                          "trust = /etc/volact/authority.pem\n"
                          "domain = corp.example.org\n"
                          "dns-server = 10.0.0.53\n"
                          "state-dir = /var/lib/volact-client\n",
                          &cfg));
  /* Trimmed, in order, the duplicate dropped. */
  assert_int_equal (g_strv_length (cfg.editions), 2);
  assert_string_equal (cfg.editions[0], "win7-enterprise");
  assert_string_equal (cfg.editions[1], "server2008-web");
  assert_string_equal (cfg.trust, "/etc/volact/authority.pem");
  assert_null (cfg.host);
  assert_string_equal (cfg.domain, "corp.example.org");
  assert_string_equal (cfg.dns_server, "10.0.0.53");
  assert_string_equal (cfg.state_dir, "/var/lib/volact-client");
  volact_client_config_clear (&cfg);
  assert_null (cfg.editions);
  test_rmtree (dir);
}

/* The shipped example: nothing to activate, nothing trusted, and that is no error. */
static void
test_example_activates_nothing (void **unused)
{
  g_autofree char *example = test_srcpath ("data/client.conf");
  g_autoptr (GError) error = NULL;
  VolactClientConfig cfg = { 0 };

  (void) unused;
  assert_true (volact_client_config_load (example, &cfg, &error));
  assert_non_null (cfg.editions);
  assert_null (cfg.editions[0]);
  assert_null (cfg.trust);
  assert_null (cfg.host);
  assert_null (cfg.domain);
  volact_client_config_clear (&cfg);
}

static void
expect_error (const char *dir, const char *text, const char *needle)
{
  VolactClientConfig cfg = { 0 };
  g_autofree char *message = load_text (dir, text, &cfg);

  if (message == NULL)
    fail_msg ("loaded: %s", text);
  if (strstr (message, needle) == NULL)
    fail_msg ("\"%s\" does not say \"%s\"", message, needle);
}

static void
test_errors (void **unused)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "none.conf", NULL);
  g_autoptr (GError) error = NULL;
  VolactClientConfig cfg = { 0 };

  (void) unused;
  expect_error (dir, "[host]\neditions = a\n", "no [client] group");
  expect_error (dir, "[client]\neditons = win7-enterprise\n", "[client] editons: unknown key");
  expect_error (dir, "[client]\neditions = Win7\n", "[client] editions: \"Win7\" is not an edition");
  expect_error (dir, "[client]\ntrust = authority.pem\n", "[client] trust: not an absolute path");
  expect_error (dir, "[client]\nstate-dir = state\n", "[client] state-dir: not an absolute path");
  expect_error (dir, "[client]\nhost = kms.example.org\ndomain = example.org\n",
                "[client] domain: set host or domain, not both");
  expect_error (dir, "not a key file\n", "client.conf");

  assert_false (volact_client_config_load (missing, &cfg, &error));
  assert_int_equal (error->code, VOLACT_E_IO);
  assert_non_null (strstr (error->message, missing));
  test_rmtree (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_full),
    cmocka_unit_test (test_example_activates_nothing),
    cmocka_unit_test (test_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
