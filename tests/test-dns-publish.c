/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DNS publishing pieces that need no DNS server: the TSIG key file (format
 * and mode), the dns-* configuration keys, and an unanswered update reported
 * as TIMEOUT. The updates themselves run against BIND9 in tests/dns-publish.sh. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "volact-config.h"
#include "volact-dns-publish.h"
#include "volact-error.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="

/* Writes TEXT to a new key file of MODE; returns its path (in a fresh temp folder). */
static char *
key_file (const char *text, int mode)
{
  g_autofree char *dir = g_dir_make_tmp ("volact-dns-XXXXXX", NULL);
  char *path = g_build_filename (dir, "tsig.key", NULL);
  assert_true (g_file_set_contents (path, text, -1, NULL));
  assert_int_equal (g_chmod (path, mode), 0);
  return path;
}

static void
remove_key_file (char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
}

static void
test_tsig_key_file (void **state)
{
  const char *good
      = "key \"volact-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET "\";\n};\n";
  char *path = key_file (good, 0600);
  VolactTsigKey key;
  g_autoptr (GError) error = NULL;

  assert_true (volact_tsig_key_load (path, &key, &error));
  assert_string_equal (key.name, "volact-update");
  assert_string_equal (key.algorithm, "hmac-sha256");
  assert_string_equal (key.secret, SECRET);
  volact_tsig_key_clear (&key);

  /* Others may read it: refused, naming the file and the mode. */
  assert_int_equal (g_chmod (path, 0644), 0);
  assert_false (volact_tsig_key_load (path, &key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PERMISSION));
  assert_non_null (strstr (error->message, path));
  assert_non_null (strstr (error->message, "0644"));
  g_clear_error (&error);
  remove_key_file (path);

  path = key_file ("key \"k\" { algorithm hmac-md5; secret \"" SECRET "\"; };", 0600);
  assert_false (volact_tsig_key_load (path, &key, &error));
  assert_non_null (strstr (error->message, "hmac-md5"));
  g_clear_error (&error);
  remove_key_file (path);

  path = key_file ("secret = " SECRET "\n", 0400);
  assert_false (volact_tsig_key_load (path, &key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  assert_non_null (strstr (error->message, "tsig-keygen"));
  g_clear_error (&error);
  remove_key_file (path);
}

static void
test_config_keys (void **state)
{
  g_autoptr (VolactConfig) cfg = volact_config_new_default ();
  g_autoptr (GError) error = NULL;

  assert_null (cfg->dns_zones[0]);
  assert_null (cfg->dns_tsig_key);
  assert_int_equal (cfg->dns_priority, 0);
  assert_int_equal (cfg->dns_weight, 0);
  assert_int_equal (cfg->dns_ttl, 3600);
  assert_string_equal (cfg->dns_target, "");

  assert_true (volact_config_set (cfg, "dns-zones", "example.test; corp.example.", &error));
  assert_string_equal (cfg->dns_zones[0], "example.test");
  assert_string_equal (cfg->dns_zones[1], "corp.example.");
  assert_null (cfg->dns_zones[2]);
  assert_true (volact_config_set (cfg, "dns-weight", "65535", &error));
  assert_int_equal (cfg->dns_weight, 65535);

  assert_false (volact_config_set (cfg, "dns-zones", "example.test; bad zone", &error));
  assert_non_null (strstr (error->message, "key \"dns-zones\""));
  assert_non_null (strstr (error->message, "\"bad zone\" is not a DNS name"));
  g_clear_error (&error);
  assert_false (volact_config_set (cfg, "dns-priority", "65536", &error));
  assert_non_null (strstr (error->message, "dns-priority"));
  g_clear_error (&error);
  assert_false (volact_config_set (cfg, "dns-target", "kms..example.test", &error));
  g_clear_error (&error);
  assert_false (volact_config_set (cfg, "dns-tsig-key", "relative.key", &error));
  g_clear_error (&error);
}

/* A server that never answers: the update fails as TIMEOUT, naming the server. */
static void
test_no_answer (void **state)
{
  g_autoptr (GSocket) sock
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *server = NULL, *expect = NULL;
  VolactTsigKey key = { "volact-update", "hmac-sha256", SECRET };
  VolactDnsOutcome out;
  g_autoptr (GError) error = NULL;
  VolactDnsRecord r = { .zone = "example.test",
                        .key = &key,
                        .target = "kms1.example.test",
                        .port = 1688,
                        .ttl = 3600,
                        .timeout_s = 1 };

  assert_true (g_socket_bind (sock, any, TRUE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  server = g_strdup_printf ("127.0.0.1:%u",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  r.server = server;
  assert_false (volact_dns_publish (&r, FALSE, &out, &error));
  assert_int_equal (out.rcode, -1);
  assert_string_equal (out.rcode_name, "TIMEOUT");
  assert_string_equal (out.server, server);
  expect = g_strdup_printf ("no answer from %s", server);
  assert_non_null (strstr (error->message, expect));
  volact_dns_outcome_clear (&out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_tsig_key_file),
    cmocka_unit_test (test_config_keys),
    cmocka_unit_test (test_no_answer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
