/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error table: seed codes keep the seed's text, codes parse in every form. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "volact-error.h"
#include <volact/plugin.h>

#include <string.h>

static void
test_seed_codes (void **state)
{
  assert_string_equal (volact_error_text (0xC004F050u),
                       "The Software Licensing service reported that the product key is invalid.");
  assert_string_equal (volact_error_text (0xC004F038u),
                       "The returned count from your Key Management Service is insufficient.");
  assert_non_null (strstr (volact_error_text (0xC004F068u), "virtual machine"));
  assert_string_equal (volact_error_text (0x8007267Cu),
                       "No DNS servers configured for local system.");
  assert_string_equal (volact_error_name ((guint32) VOLACT_E_INVALID_KEY), "INVALID_KEY");
  assert_null (volact_error_text (0x12345678u));
}

typedef struct {
  GHashTable *codes;
  GHashTable *names;
} Seen;

static void
count_entry (guint32 code, const char *name, const char *text, gpointer user_data)
{
  Seen *seen = user_data;
  assert_non_null (name);
  assert_non_null (text);
  /* Codes and names are unique, and every code's text is found by lookup. */
  assert_false (g_hash_table_contains (seen->codes, GUINT_TO_POINTER (code)));
  assert_false (g_hash_table_contains (seen->names, name));
  g_hash_table_add (seen->codes, GUINT_TO_POINTER (code));
  g_hash_table_add (seen->names, (gpointer) name);
  assert_ptr_equal (volact_error_text (code), text);
}

static void
test_table_unique (void **state)
{
  Seen seen = { g_hash_table_new (g_direct_hash, g_direct_equal),
                g_hash_table_new (g_str_hash, g_str_equal) };
  volact_error_foreach (count_entry, &seen);
  assert_true (g_hash_table_size (seen.names) > 10);
  g_hash_table_unref (seen.codes);
  g_hash_table_unref (seen.names);
}

/* Plugins name the domain by string; it must be the core's domain. */
static void
test_domain_name (void **state)
{
  assert_int_equal (g_quark_from_string (VOLACT_PLUGIN_ERROR_DOMAIN_NAME), VOLACT_ERROR);
}

static void
test_parse (void **state)
{
  guint32 code = 0;
  assert_true (volact_error_parse_code ("0xC004F050", &code));
  assert_int_equal (code, 0xC004F050u);
  assert_true (volact_error_parse_code ("c004f038", &code));
  assert_int_equal (code, 0xC004F038u);
  assert_true (volact_error_parse_code ("0X8007267C", &code));
  assert_int_equal (code, 0x8007267Cu);
  assert_true (volact_error_parse_code ("42", &code));
  assert_int_equal (code, 42);
  assert_false (volact_error_parse_code ("", &code));
  assert_false (volact_error_parse_code ("0x", &code));
  assert_false (volact_error_parse_code ("0x1FFFFFFFF", &code));
  assert_false (volact_error_parse_code ("12ZZ", &code));
  assert_false (volact_error_parse_code (NULL, &code));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_seed_codes),
    cmocka_unit_test (test_table_unique),
    cmocka_unit_test (test_domain_name),
    cmocka_unit_test (test_parse),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
