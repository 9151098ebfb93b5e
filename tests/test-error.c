/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error table: seed codes keep the seed's text, codes parse in every form. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "volact-error.h"
#include "volact.h"
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

/* libvolact's public VOLACT_RESULT_* macros repeat codes of the one table; each must
 * name the table's code of that name, so the installed header cannot drift from it. */
static void
test_client_macros (void **state)
{
  static const struct {
    guint32 macro;
    const char *name;
  } client_codes[] = {
    { VOLACT_RESULT_OK, "OK" },
    { VOLACT_RESULT_COUNT_INSUFFICIENT, "COUNT_INSUFFICIENT" },
    { VOLACT_RESULT_NOT_ACTIVATED, "NOT_ACTIVATED" },
    { VOLACT_RESULT_EDITION_NOT_COVERED, "EDITION_NOT_COVERED" },
    { VOLACT_RESULT_EDITION_UNKNOWN, "EDITION_UNKNOWN" },
    { VOLACT_RESULT_PROTOCOL_VERSION, "PROTOCOL_VERSION" },
    { VOLACT_RESULT_RESPONSE_INVALID, "RESPONSE_INVALID" },
    { VOLACT_RESULT_REQUEST_MALFORMED, "REQUEST_MALFORMED" },
    { VOLACT_RESULT_HOST_BUSY, "HOST_BUSY" },
    { VOLACT_RESULT_HOST_UNREACHABLE, "HOST_UNREACHABLE" },
    { VOLACT_RESULT_CONFIG, "CONFIG" },
    { VOLACT_RESULT_IO, "IO" },
    { VOLACT_RESULT_CRYPTO, "CRYPTO" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (client_codes); i++) {
    const char *name = volact_error_name (client_codes[i].macro);
    assert_non_null (name);
    assert_string_equal (name, client_codes[i].name);
    assert_string_equal (volact_client_result_text (client_codes[i].macro),
                         volact_error_text (client_codes[i].macro));
  }
  /* The seed's code for an insufficient count, as embedders compare it. */
  assert_int_equal (VOLACT_RESULT_COUNT_INSUFFICIENT, 0xC004F038u);
  assert_int_equal (VOLACT_RESULT_COUNT_INSUFFICIENT, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
}

/* The enum generated from the list: a few values the seeds and docs fix. */
static void
test_enum_from_list (void **state)
{
  assert_int_equal ((guint32) VOLACT_E_INVALID_KEY, 0xC004F050u);
  assert_int_equal ((guint32) VOLACT_E_NO_DNS_SERVERS, 0x8007267Cu);
  assert_int_equal ((guint32) VOLACT_E_HOST_UNREACHABLE, 0xC0AC0507u);
  assert_int_equal (VOLACT_OK, 0);
  assert_string_equal (volact_error_name ((guint32) VOLACT_E_PLUGIN_NO_DESC),
                       "PLUGIN_NO_DESCRIPTOR");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_seed_codes),    cmocka_unit_test (test_table_unique),
    cmocka_unit_test (test_domain_name),   cmocka_unit_test (test_parse),
    cmocka_unit_test (test_client_macros), cmocka_unit_test (test_enum_from_list),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
