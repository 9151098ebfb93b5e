/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The catalog builder: merging, conflicts and completeness, through the API plugins use. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "volact-catalog.h"
#include "volact-error.h"

static const VolactDocument pl_a = { .path = "/data/a-pl.xrm", .kind = "pl", .family = "f" };
static const VolactDocument pl_b = { .path = "/data/b-pl.xrm", .kind = "pl", .family = "f" };
static const VolactDocument ppd_a = { .path = "/data/a-ppd.xrm", .kind = "ppd", .family = "f" };
static const VolactDocument ppd_b = { .path = "/data/b-ppd.xrm", .kind = "ppd", .family = "f" };
static const VolactDocument oob_a = { .path = "/data/a-oob.xrm", .kind = "oob", .family = "f" };
static const VolactDocument phn_a = { .path = "/data/a-phn.xrm", .kind = "phn", .family = "f" };
static const VolactDocument cfg_a = { .path = "/data/cfg.xrm", .kind = "cfg", .family = "f" };

static const char *const group_editions[] = { "ed-client", "ed-server", NULL };

/* Fills B with one complete, consistent family. */
static void
add_complete (VolactCatalogBuilder *b)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  GError *error = NULL;
  VolactApplicationSpec app = { "pool", "The pool" };
  VolactEditionSpec client = { "ed-client", "Client Edition", "pool", VOLACT_EDITION_CLIENT };
  VolactEditionSpec server = { "ed-server", "Server Edition", "pool", VOLACT_EDITION_SERVER };
  VolactEditionPolicySpec cmin = { "ed-client", 25, FALSE };
  VolactEditionPolicySpec smin = { "ed-server", 5, TRUE };
  VolactPolicySpec policy = { "pool", 120, 10080, 180, 30, 0 };
  VolactPolicySpec oob = { "pool", 0, 0, 0, 0, 30 };
  VolactKeyGroupSpec group = { 7, "grp-7", "Group seven", group_editions, 6, 10 };
  VolactPhoneSpec phone = { 7, TRUE, "Call us" };

  volact_catalog_builder_set_plugin (b, "testplugin");
  assert_true (api->add_application (b, &pl_a, &app, &error));
  assert_true (api->add_edition (b, &pl_a, &client, &error));
  assert_true (api->add_edition (b, &pl_a, &server, &error));
  assert_true (api->set_edition_policy (b, &ppd_a, &cmin, &error));
  assert_true (api->set_edition_policy (b, &ppd_a, &smin, &error));
  assert_true (api->set_policy (b, &ppd_a, &policy, &error));
  assert_true (api->set_policy (b, &oob_a, &oob, &error));
  assert_true (api->add_key_group (b, &cfg_a, &group, &error));
  assert_true (api->set_phone (b, &phn_a, &phone, &error));
  assert_null (error);
}

static void
test_complete (void **state)
{
  VolactCatalogBuilder *b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;
  const VolactEdition *e;
  const VolactApplication *a;
  const VolactKeyGroup *g;
  g_autofree char *text = NULL;

  add_complete (b);
  volact_catalog_builder_add_plugin_info (b, "testplugin", "9.9", "/p/testplugin.so");
  c = volact_catalog_builder_finish (b, &error);
  assert_null (error);
  assert_non_null (c);

  e = volact_catalog_edition (c, "ed-client");
  assert_non_null (e);
  assert_int_equal (e->minimum_count, 25);
  assert_false (e->vms_count);
  assert_string_equal (e->plugin, "testplugin");
  e = volact_catalog_edition (c, "ed-server");
  assert_int_equal (e->minimum_count, 5);
  assert_true (e->vms_count);
  assert_int_equal (e->type, VOLACT_EDITION_SERVER);

  a = volact_catalog_application (c, "pool");
  assert_int_equal (a->activation_interval, 120);
  assert_int_equal (a->renewal_interval, 10080);
  assert_int_equal (a->validity_days, 180);
  assert_int_equal (a->retention_days, 30);
  assert_int_equal (a->oob_grace_days, 30);

  g = volact_catalog_key_group (c, 7);
  assert_non_null (g);
  assert_ptr_equal (volact_catalog_key_group_lookup (c, "grp-7"), g);
  assert_ptr_equal (volact_catalog_key_group_lookup (c, "7"), g);
  assert_null (volact_catalog_key_group_lookup (c, "8"));
  assert_null (volact_catalog_key_group_lookup (c, "nope"));
  assert_true (volact_key_group_activates (g, "ed-server"));
  assert_false (volact_key_group_activates (g, "ed-other"));
  assert_true (g->phone_allowed);
  assert_string_equal (g->phone_contact, "Call us");

  assert_int_equal (volact_catalog_editions (c)->len, 2);
  /* Client editions sort before server editions within a pool. */
  assert_string_equal (((VolactEdition *) volact_catalog_editions (c)->pdata[0])->id, "ed-client");

  text = volact_catalog_to_text (c);
  assert_non_null (strstr (text, "testplugin"));
  assert_non_null (strstr (text, "ed-client"));
  assert_non_null (strstr (text, "grp-7"));
  assert_non_null (strstr (text, "activates: ed-client, ed-server"));
}

static void
test_identical_duplicates_merge (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  VolactCatalogBuilder *b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;
  VolactApplicationSpec app = { "pool", "The pool" };
  VolactPolicySpec policy = { "pool", 120, 10080, 180, 30, 0 };

  add_complete (b);
  /* The same facts stated again by another file are fine. */
  assert_true (api->add_application (b, &pl_b, &app, &error));
  assert_true (api->set_policy (b, &ppd_b, &policy, &error));
  c = volact_catalog_builder_finish (b, &error);
  assert_non_null (c);
}

static void
assert_catalog_error (GError *error, const char *must_contain_1, const char *must_contain_2)
{
  assert_non_null (error);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CATALOG));
  assert_non_null (strstr (error->message, must_contain_1));
  if (must_contain_2)
    assert_non_null (strstr (error->message, must_contain_2));
}

static void
test_conflicts_name_both_files (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  GError *error = NULL;
  VolactApplicationSpec app2 = { "pool", "Another name" };
  VolactEditionSpec server_as_client
      = { "ed-server", "Server Edition", "pool", VOLACT_EDITION_CLIENT };
  VolactEditionPolicySpec min6 = { "ed-server", 6, TRUE };
  VolactPolicySpec policy = { "pool", 60, 10080, 180, 30, 0 };
  const char *const other[] = { "ed-client", NULL };
  VolactKeyGroupSpec group = { 7, "grp-7", "Group seven", other, 6, 10 };
  VolactKeyGroupSpec same_name = { 8, "grp-7", "Group eight", other, 6, 10 };
  VolactPhoneSpec phone = { 7, FALSE, "Call us" };

  add_complete (b);
  assert_false (api->add_application (b, &pl_b, &app2, &error));
  assert_catalog_error (error, "/data/b-pl.xrm", "/data/a-pl.xrm");
  g_clear_error (&error);
  assert_false (api->add_edition (b, &pl_b, &server_as_client, &error));
  assert_catalog_error (error, "/data/b-pl.xrm", "ed-server");
  g_clear_error (&error);
  assert_false (api->set_edition_policy (b, &ppd_b, &min6, &error));
  assert_catalog_error (error, "/data/b-ppd.xrm", "/data/a-ppd.xrm");
  g_clear_error (&error);
  assert_false (api->set_policy (b, &ppd_b, &policy, &error));
  assert_catalog_error (error, "activationInterval", "/data/a-ppd.xrm");
  g_clear_error (&error);
  assert_false (api->add_key_group (b, &cfg_a, &group, &error));
  assert_catalog_error (error, "key group", "7");
  g_clear_error (&error);
  assert_false (api->add_key_group (b, &cfg_a, &same_name, &error));
  assert_catalog_error (error, "grp-7", NULL);
  g_clear_error (&error);
  assert_false (api->set_phone (b, &phn_a, &phone, &error));
  assert_catalog_error (error, "telephone", NULL);
  g_clear_error (&error);
}

static void
test_bad_values (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  GError *error = NULL;
  VolactApplicationSpec bad_id = { "Bad_ID", "x" };
  VolactEditionPolicySpec zero = { "ed", 0, FALSE };
  VolactPolicySpec short_interval = { "pool", 14, 10080, 180, 30, 0 };
  VolactKeyGroupSpec big = { 1024, "g", "G", group_editions, 6, 10 };
  const char *const none[] = { NULL };
  VolactKeyGroupSpec empty = { 5, "g", "G", none, 6, 10 };

  assert_false (api->add_application (b, &pl_a, &bad_id, &error));
  assert_catalog_error (error, "/data/a-pl.xrm", "Bad_ID");
  g_clear_error (&error);
  assert_false (api->set_edition_policy (b, &ppd_a, &zero, &error));
  assert_catalog_error (error, "1..65535", NULL);
  g_clear_error (&error);
  assert_false (api->set_policy (b, &ppd_a, &short_interval, &error));
  assert_catalog_error (error, "15..43200", NULL);
  g_clear_error (&error);
  assert_false (api->add_key_group (b, &cfg_a, &big, &error));
  assert_catalog_error (error, "1..1023", NULL);
  g_clear_error (&error);
  assert_false (api->add_key_group (b, &cfg_a, &empty, &error));
  assert_catalog_error (error, "no edition", NULL);
  g_clear_error (&error);
}

/* Defect 2: the wire's count is 16 bits, so a minimum above 65535 could never
 * be reached. A plugin that sets one directly (not through the schema) is
 * refused, and the error names the file and the edition. */
static void
test_minimum_count_fits_the_wire (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  GError *error = NULL;
  VolactEditionPolicySpec too_big = { "ed-big", 65536, FALSE };
  VolactEditionPolicySpec largest = { "ed-largest", 65535, FALSE };

  assert_false (api->set_edition_policy (b, &ppd_a, &too_big, &error));
  assert_catalog_error (error, "/data/a-ppd.xrm", "\"ed-big\"");
  assert_non_null (strstr (error->message, "65536"));
  g_clear_error (&error);
  assert_true (api->set_edition_policy (b, &ppd_a, &largest, &error));
  assert_null (error);
}

/* api->set_error puts a plugin's message into the core's domain, so the
 * loader and volactctl see the code without the plugin naming the domain. */
static void
test_set_error (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (GError) error = NULL;

  api->set_error (NULL, "ignored %d", 1);
  api->set_error (&error, "%s:%u: bad <%s>", "/data/x.xrm", 7u, "edition");
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET));
  assert_string_equal (error->message, "/data/x.xrm:7: bad <edition>");
}

/* api->interpret_xrm refuses a document of a family the caller did not list. */
static void
test_interpret_xrm_checks_family (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;
  const char *const families[] = { "other", NULL };

  assert_false (api->interpret_xrm (families, &pl_a, b, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET));
  assert_non_null (strstr (error->message, "/data/a-pl.xrm"));
  assert_non_null (strstr (error->message, "\"f\""));
}

static void
test_incomplete (void **state)
{
  const VolactHostApi *api = volact_catalog_host_api ();
  g_autoptr (GError) error = NULL;
  VolactCatalogBuilder *b;
  VolactApplicationSpec app = { "pool", "The pool" };
  VolactEditionSpec lonely = { "ed-lonely", "Lonely", "pool", VOLACT_EDITION_CLIENT };
  const char *const unknown[] = { "ed-unknown", NULL };
  VolactKeyGroupSpec group = { 9, "grp-9", "Group nine", unknown, 6, 10 };
  VolactPhoneSpec phone = { 99, TRUE, "Call" };
  VolactEditionSpec orphan = { "ed-orphan", "Orphan", "nopool", VOLACT_EDITION_CLIENT };

  /* An edition without a minimum count. */
  b = volact_catalog_builder_new ();
  add_complete (b);
  assert_true (api->add_edition (b, &pl_b, &lonely, &error));
  assert_null (volact_catalog_builder_finish (b, &error));
  assert_catalog_error (error, "/data/b-pl.xrm", "ed-lonely");
  g_clear_error (&error);

  /* A key group naming an unknown edition. */
  b = volact_catalog_builder_new ();
  add_complete (b);
  assert_true (api->add_key_group (b, &cfg_a, &group, &error));
  assert_null (volact_catalog_builder_finish (b, &error));
  assert_catalog_error (error, "/data/cfg.xrm", "ed-unknown");
  g_clear_error (&error);

  /* Telephone data for an unknown group. */
  b = volact_catalog_builder_new ();
  add_complete (b);
  assert_true (api->set_phone (b, &phn_a, &phone, &error));
  assert_null (volact_catalog_builder_finish (b, &error));
  assert_catalog_error (error, "/data/a-phn.xrm", "99");
  g_clear_error (&error);

  /* An application without any policy. */
  b = volact_catalog_builder_new ();
  assert_true (api->add_application (b, &pl_a, &app, &error));
  assert_null (volact_catalog_builder_finish (b, &error));
  assert_catalog_error (error, "/data/a-pl.xrm", "activationInterval");
  g_clear_error (&error);

  /* An edition of an undefined application. */
  b = volact_catalog_builder_new ();
  add_complete (b);
  assert_true (api->add_edition (b, &pl_b, &orphan, &error));
  assert_null (volact_catalog_builder_finish (b, &error));
  assert_catalog_error (error, "/data/b-pl.xrm", "nopool");
  g_clear_error (&error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_complete),
    cmocka_unit_test (test_identical_duplicates_merge),
    cmocka_unit_test (test_conflicts_name_both_files),
    cmocka_unit_test (test_bad_values),
    cmocka_unit_test (test_minimum_count_fits_the_wire),
    cmocka_unit_test (test_set_error),
    cmocka_unit_test (test_interpret_xrm_checks_family),
    cmocka_unit_test (test_incomplete),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
