/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plugin loader (core/volact-plugins.c) against the real plugins in
 * plugins/ and the deliberately broken check-only modules in tests/plugins/,
 * the core's XrM interpreter (api->interpret_xrm) through the loaded kms11
 * and kms12 descriptors, and the plugins' check_config on a catalog build.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <libxml/parser.h>
#include <string.h>

#include "testutil.h"
#include "volact-catalog.h"
#include "volact-error.h"
#include "volact-plugins.h"
#include "volact-reload.h"

/* --- helpers ------------------------------------------------------------ */

/* plugins/ then tests/plugins/, the order the main tests search. */
static VolactPluginSet *
load_build_tree (void)
{
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autofree char *test_plugins = test_buildpath ("tests/plugins");
  const char *const dirs[] = { plugins, test_plugins, NULL };
  g_autoptr (GError) error = NULL;
  VolactPluginSet *set = volact_plugin_set_load (dirs, &error);

  if (set == NULL)
    fail_msg ("loading %s and %s failed: %s", plugins, test_plugins, error->message);
  return set;
}

static VolactPluginSet *
load_one_dir (const char *dir)
{
  const char *const dirs[] = { dir, NULL };
  g_autoptr (GError) error = NULL;
  VolactPluginSet *set = volact_plugin_set_load (dirs, &error);

  if (set == NULL)
    fail_msg ("loading %s failed: %s", dir, error->message);
  return set;
}

/* The refusal of module NAME (file NAME.la / NAME.so, or .libs/NAME.so) under DIR. */
static const VolactRefusedPlugin *
find_refused (const VolactPluginSet *set, const char *dir, const char *name)
{
  GPtrArray *refused = volact_plugin_set_refused (set);

  for (guint i = 0; i < refused->len; i++) {
    const VolactRefusedPlugin *r = refused->pdata[i];
    g_autofree char *base = g_path_get_basename (r->path);
    char *dot = strrchr (base, '.');

    if (dot != NULL)
      *dot = '\0';
    if (g_str_has_prefix (r->path, dir) && r->path[strlen (dir)] == '/' && strcmp (base, name) == 0)
      return r;
  }
  return NULL;
}

/* Asserts that module NAME under DIR was refused with CODE and that the
 * message names its full path and contains NEEDLE (if given). */
static void
assert_refused (const VolactPluginSet *set, const char *dir, const char *name, gint code,
                const char *needle)
{
  const VolactRefusedPlugin *r = find_refused (set, dir, name);

  if (r == NULL)
    fail_msg ("module %s/%s was not refused", dir, name);
  assert_non_null (r->error);
  assert_true (r->error->domain == VOLACT_ERROR);
  if (r->error->code != code)
    fail_msg ("%s: expected code 0x%08X, got 0x%08X: %s", name, (guint32) code,
              (guint32) r->error->code, r->error->message);
  assert_true (g_path_is_absolute (r->path));
  assert_non_null (strstr (r->error->message, r->path));
  if (needle != NULL && strstr (r->error->message, needle) == NULL)
    fail_msg ("%s: message lacks \"%s\": %s", name, needle, r->error->message);
}

static gboolean
array_has_string (GPtrArray *a, const char *s)
{
  return g_ptr_array_find_with_equal_func (a, s, g_str_equal, NULL);
}

/* A private folder holding a copy of SRC (relative to the build tree) named AS. */
static char *
dir_with_copy (const char *src, const char *as)
{
  char *dir = test_tmpdir ();
  g_autofree char *from = test_buildpath (src);
  g_autofree char *to = g_build_filename (dir, as, NULL);

  test_copy_file (from, to);
  return dir;
}

/* --- the loader --------------------------------------------------------- */

/* kms12 replaces kms11: only kms12 is accepted, kms11 is listed as replaced,
 * and kms12 claims both families. */
static void
test_replaces (void **state)
{
  g_autoptr (VolactPluginSet) set = load_build_tree ();
  g_autofree char *plugins = test_buildpath ("plugins");
  GPtrArray *loaded = volact_plugin_set_plugins (set);
  const VolactLoadedPlugin *kms12 = volact_plugin_set_find (set, "kms12");

  assert_non_null (kms12);
  assert_int_equal (loaded->len, 1);
  assert_ptr_equal (loaded->pdata[0], kms12);
  assert_string_equal (kms12->desc->name, "kms12");
  assert_string_equal (kms12->desc->version, "1.2.0");
  assert_true (g_str_has_prefix (kms12->path, plugins));
  assert_true (g_path_is_absolute (kms12->path));

  assert_null (volact_plugin_set_find (set, "kms11"));
  assert_int_equal (volact_plugin_set_replaced (set)->len, 1);
  assert_true (array_has_string (volact_plugin_set_replaced (set), "kms11"));

  assert_ptr_equal (volact_plugin_set_claim (set, "kms08"), kms12);
  assert_ptr_equal (volact_plugin_set_claim (set, "kmsw7"), kms12);
  assert_null (volact_plugin_set_claim (set, "no-such-family"));
}

/* Every broken module in tests/plugins is refused with its own code. */
static void
test_refusals (void **state)
{
  g_autoptr (VolactPluginSet) set = load_build_tree ();
  g_autofree char *dir = test_buildpath ("tests/plugins");
  g_autofree char *real_kms11 = test_buildpath ("plugins");
  g_autofree char *abi_text = g_strdup_printf ("version 999, but this host needs version %u",
                                               (guint) VOLACT_PLUGIN_ABI_VERSION);

  assert_refused (set, dir, "badabi", VOLACT_E_PLUGIN_ABI, abi_text);
  assert_refused (set, dir, "nodesc", VOLACT_E_PLUGIN_NO_DESC, "nodesc_LTX_volact_plugin");
  assert_refused (set, dir, "unresolved", VOLACT_E_PLUGIN_OPEN,
                  "volact_test_symbol_that_does_not_exist");
  /* Named after the real kms11 in plugins/, which was accepted first. */
  assert_refused (set, dir, "kms11", VOLACT_E_PLUGIN_DUPLICATE, real_kms11);
  assert_null (volact_plugin_set_claim (set, "dup-test"));
  assert_refused (set, dir, "wrongname", VOLACT_E_PLUGIN_NAME, "\"rightname\"");
  assert_refused (set, dir, "BadName", VOLACT_E_PLUGIN_NAME, "[a-z0-9_-]");
  /* clash claims kmsw7, which kms12 already claims. */
  assert_refused (set, dir, "clash", VOLACT_E_PLUGIN_DUPLICATE, "\"kmsw7\"");
  assert_null (volact_plugin_set_claim (set, "clash-test"));
  assert_refused (set, dir, "loadfail", VOLACT_E_PLUGIN_LOAD, "refuses to start (deliberately)");
  /* Nothing else was refused: the real plugins were not. */
  assert_int_equal (volact_plugin_set_refused (set)->len, 8);
}

/* A folder with only kms11 (a plain .so): kms11 serves kms08, nobody kmsw7. */
static void
test_kms11_alone (void **state)
{
  g_autofree char *dir = dir_with_copy ("plugins/.libs/kms11.so", "kms11.so");
  g_autoptr (VolactPluginSet) set = load_one_dir (dir);
  const VolactLoadedPlugin *kms11 = volact_plugin_set_find (set, "kms11");

  assert_non_null (kms11);
  assert_string_equal (kms11->desc->version, "1.1.0");
  assert_int_equal (volact_plugin_set_plugins (set)->len, 1);
  assert_int_equal (volact_plugin_set_refused (set)->len, 0);
  assert_int_equal (volact_plugin_set_replaced (set)->len, 0);
  assert_ptr_equal (volact_plugin_set_claim (set, "kms08"), kms11);
  assert_null (volact_plugin_set_claim (set, "kmsw7"));
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* A missing folder is the one error of the call itself, and names the folder. */
static void
test_missing_dir (void **state)
{
  g_autofree char *tmp = test_tmpdir ();
  g_autofree char *missing = g_build_filename (tmp, "no-such-folder", NULL);
  const char *const dirs[] = { missing, NULL };
  g_autoptr (GError) error = NULL;
  VolactPluginSet *set = volact_plugin_set_load (dirs, &error);

  assert_null (set);
  assert_non_null (error);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, missing));
  test_rmtree (tmp);
}

/* A module whose descriptor names another plugin than its file. */
static void
test_wrong_name_alone (void **state)
{
  g_autofree char *dir = dir_with_copy ("tests/plugins/.libs/wrongname.so", "wrongname.so");
  g_autoptr (VolactPluginSet) set = load_one_dir (dir);

  assert_int_equal (volact_plugin_set_plugins (set)->len, 0);
  assert_null (volact_plugin_set_find (set, "rightname"));
  assert_refused (set, dir, "wrongname", VOLACT_E_PLUGIN_NAME, "does not match the file name");
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* A renamed copy of a real plugin: libltdl looks for renamed_LTX_volact_plugin,
 * which it does not export, so the module has no descriptor. */
static void
test_renamed_module (void **state)
{
  g_autofree char *dir = dir_with_copy ("plugins/.libs/kms12.so", "renamed.so");
  g_autoptr (VolactPluginSet) set = load_one_dir (dir);

  assert_int_equal (volact_plugin_set_plugins (set)->len, 0);
  assert_refused (set, dir, "renamed", VOLACT_E_PLUGIN_NO_DESC, "renamed_LTX_volact_plugin");
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* NAME.la next to NAME.so is one module, not a duplicate of itself. */
static void
test_la_and_so_once (void **state)
{
  g_autofree char *dir = dir_with_copy ("plugins/.libs/kms12.so", "kms12.so");
  g_autofree char *la = g_build_filename (dir, "kms12.la", NULL);
  g_autofree char *la_text = g_strdup_printf ("# kms12.la - a libtool library file\n"
                                              "dlname='kms12.so'\n"
                                              "library_names='kms12.so'\n"
                                              "old_library=''\n"
                                              "dependency_libs=''\n"
                                              "installed=yes\n"
                                              "libdir='%s'\n",
                                              dir);
  g_autoptr (VolactPluginSet) set = NULL;

  test_write_file (la, la_text, -1);
  set = load_one_dir (dir);
  assert_int_equal (volact_plugin_set_plugins (set)->len, 1);
  assert_non_null (volact_plugin_set_find (set, "kms12"));
  assert_int_equal (volact_plugin_set_refused (set)->len, 0);
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* An empty folder is fine: no plugins, no refusals. */
static void
test_empty_dir (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autoptr (VolactPluginSet) set = load_one_dir (dir);

  assert_int_equal (volact_plugin_set_plugins (set)->len, 0);
  assert_int_equal (volact_plugin_set_refused (set)->len, 0);
  assert_null (volact_plugin_set_claim (set, "kms08"));
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* Loading the same plugins twice (a reload keeps the old set until the new
 * one is built) and freeing them in either order works. */
static void
test_two_sets (void **state)
{
  g_autofree char *plugins = test_buildpath ("plugins");
  VolactPluginSet *a = load_one_dir (plugins);
  VolactPluginSet *b = load_one_dir (plugins);

  assert_non_null (volact_plugin_set_find (a, "kms12"));
  assert_non_null (volact_plugin_set_find (b, "kms12"));
  volact_plugin_set_free (a);
  /* b's module must still be mapped: call into it. */
  assert_ptr_equal (volact_plugin_set_claim (b, "kmsw7"), volact_plugin_set_find (b, "kms12"));
  assert_string_equal (volact_plugin_set_find (b, "kms12")->desc->families[1], "kmsw7");
  volact_plugin_set_free (b);
}

/* --- the XrM interpretation, through the plugins ------------------------- */

/* clang-format off */
#define XRM_HEAD(kind, family) \
  "<license xmlns=\"urn:volact:xrm:1\" kind=\"" kind "\" family=\"" family "\" id=\"t\" version=\"1\">\n" \
  "  <title>test</title>\n" \
  "  <issuer name=\"test\"/>\n"
#define XRM_TAIL "</license>\n"

static const char pl_xml[] = XRM_HEAD ("pl", "kmsw7")
  "  <grant>\n"
  "    <principal keyGroup=\"22\"/>\n"
  "    <right name=\"activate\"/>\n"
  "    <resource>\n"
  "      <application id=\"windows\" name=\"Windows (modelled)\"/>\n"
  "      <edition id=\"win7-enterprise\" name=\"Windows 7 Enterprise\" application=\"windows\" type=\"client\"/>\n"
  "      <edition id=\"server2008r2-web\" name=\"Windows Server 2008 R2 Web\" application=\"windows\" type=\"server\"/>\n"
  "    </resource>\n"
  "  </grant>\n"
  XRM_TAIL;

static const char ppd_xml[] = XRM_HEAD ("ppd", "kmsw7")
  "  <grant>\n"
  "    <resource/>\n"
  "    <condition>\n"
  "      <policy application=\"windows\" activationInterval=\"120\" renewalInterval=\"10080\" validityDays=\"180\" retentionDays=\"30\"/>\n"
  "      <minimumCount edition=\"win7-enterprise\" count=\"25\" virtualMachines=\"ignored\"/>\n"
  "      <minimumCount edition=\"server2008r2-web\" count=\"5\" virtualMachines=\"counted\"/>\n"
  "    </condition>\n"
  "  </grant>\n"
  XRM_TAIL;

static const char oob_xml[] = XRM_HEAD ("oob", "kmsw7")
  "  <grant>\n"
  "    <resource/>\n"
  "    <condition>\n"
  "      <outOfBoxGrace application=\"windows\" days=\"30\"/>\n"
  "    </condition>\n"
  "  </grant>\n"
  XRM_TAIL;

static const char phn_xml[] = XRM_HEAD ("phn", "kmsw7")
  "  <grant>\n"
  "    <resource/>\n"
  "    <condition>\n"
  "      <telephoneActivation keyGroup=\"22\" allowed=\"true\" contact=\"Call the test\"/>\n"
  "    </condition>\n"
  "  </grant>\n"
  XRM_TAIL;

/* maxHosts is absent on purpose: the default (6) applies. */
static const char cfg_xml[] = XRM_HEAD ("cfg", "kmsw7")
  "  <grant>\n"
  "    <resource>\n"
  "      <keyGroup id=\"22\" name=\"kmsw7-2\" title=\"Windows 7 era, server group A\" maxActivations=\"9\">\n"
  "        <activates edition=\"win7-enterprise\"/>\n"
  "        <activates edition=\"server2008r2-web\"/>\n"
  "      </keyGroup>\n"
  "    </resource>\n"
  "  </grant>\n"
  XRM_TAIL;
/* clang-format on */

/* A parsed document handed straight to a plugin: no file, no signature (the
 * license pipeline is tested elsewhere; here only the interpretation is). */
typedef struct {
  xmlDoc *xml;
  VolactDocument doc;
  char *path;
} TestDoc;

static TestDoc *
test_doc_new (const char *text, const char *name)
{
  TestDoc *t = g_new0 (TestDoc, 1);
  xmlNode *root;

  t->xml
      = xmlReadMemory (text, (int) strlen (text), name, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (t->xml == NULL)
    fail_msg ("test document %s does not parse", name);
  root = xmlDocGetRootElement (t->xml);
  t->path = g_strdup_printf ("inline/%s", name);
  t->doc.path = t->path;
  t->doc.kind = (const char *) xmlHasProp (root, BAD_CAST "kind")->children->content;
  t->doc.family = (const char *) xmlHasProp (root, BAD_CAST "family")->children->content;
  t->doc.id = "t";
  t->doc.root = (const VolactNode *) root;
  return t;
}

static void
test_doc_free (TestDoc *t)
{
  xmlFreeDoc (t->xml);
  g_free (t->path);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestDoc, test_doc_free)

static gboolean
interpret (const VolactLoadedPlugin *p, VolactCatalogBuilder *b, const char *text, const char *name,
           GError **error)
{
  g_autoptr (TestDoc) t = test_doc_new (text, name);

  volact_catalog_builder_set_plugin (b, p->desc->name);
  return p->desc->interpret (volact_catalog_host_api (), &t->doc, b, error);
}

/* Every kind through kms12 into a catalog, with every field checked. */
static void
test_interpret_all_kinds (void **state)
{
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autoptr (VolactPluginSet) set = load_one_dir (plugins);
  const VolactLoadedPlugin *kms12 = volact_plugin_set_claim (set, "kmsw7");
  VolactCatalogBuilder *b = volact_catalog_builder_new ();
  g_autoptr (VolactCatalog) c = NULL;
  g_autoptr (GError) error = NULL;
  const VolactEdition *e;
  const VolactApplication *app;
  const VolactKeyGroup *g;

  assert_non_null (kms12);
  assert_true (interpret (kms12, b, pl_xml, "pl.xrm", &error));
  assert_true (interpret (kms12, b, ppd_xml, "ppd.xrm", &error));
  assert_true (interpret (kms12, b, oob_xml, "oob.xrm", &error));
  assert_true (interpret (kms12, b, phn_xml, "phn.xrm", &error));
  assert_true (interpret (kms12, b, cfg_xml, "cfg.xrm", &error));
  c = volact_catalog_builder_finish (b, &error);
  if (c == NULL)
    fail_msg ("catalog: %s", error->message);

  app = volact_catalog_application (c, "windows");
  assert_non_null (app);
  assert_string_equal (app->name, "Windows (modelled)");
  assert_int_equal (app->activation_interval, 120);
  assert_int_equal (app->renewal_interval, 10080);
  assert_int_equal (app->validity_days, 180);
  assert_int_equal (app->retention_days, 30);
  assert_int_equal (app->oob_grace_days, 30);

  e = volact_catalog_edition (c, "win7-enterprise");
  assert_non_null (e);
  assert_string_equal (e->name, "Windows 7 Enterprise");
  assert_string_equal (e->application, "windows");
  assert_int_equal (e->type, VOLACT_EDITION_CLIENT);
  assert_int_equal (e->minimum_count, 25);
  assert_false (e->vms_count);
  assert_string_equal (e->plugin, "kms12");

  e = volact_catalog_edition (c, "server2008r2-web");
  assert_non_null (e);
  assert_int_equal (e->type, VOLACT_EDITION_SERVER);
  assert_int_equal (e->minimum_count, 5);
  assert_true (e->vms_count);

  g = volact_catalog_key_group (c, 22);
  assert_non_null (g);
  assert_string_equal (g->name, "kmsw7-2");
  assert_string_equal (g->title, "Windows 7 era, server group A");
  assert_int_equal (g->max_hosts, 6); /* the default: the attribute is absent */
  assert_int_equal (g->max_activations, 9);
  assert_int_equal (g->editions->len, 2);
  assert_true (volact_key_group_activates (g, "win7-enterprise"));
  assert_true (volact_key_group_activates (g, "server2008r2-web"));
  assert_true (g->phone_allowed);
  assert_string_equal (g->phone_contact, "Call the test");
}

/* A plugin refuses a family it does not claim: kms11 and kmsw7. */
static void
test_interpret_unclaimed_family (void **state)
{
  g_autofree char *dir = dir_with_copy ("plugins/.libs/kms11.so", "kms11.so");
  g_autoptr (VolactPluginSet) set = load_one_dir (dir);
  const VolactLoadedPlugin *kms11 = volact_plugin_set_find (set, "kms11");
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;

  assert_non_null (kms11);
  assert_false (interpret (kms11, b, pl_xml, "pl.xrm", &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET));
  assert_non_null (strstr (error->message, "inline/pl.xrm"));
  assert_non_null (strstr (error->message, "\"kmsw7\""));
  g_clear_pointer (&set, volact_plugin_set_free);
  test_rmtree (dir);
}

/* Replaces the first occurrence of FROM in TEXT by TO. */
static char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  if (at == NULL)
    fail_msg ("\"%s\" not in the test document", from);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* Feeds TEXT with FROM replaced by TO to kms12; it must be refused with
 * PLUGIN_INTERPRET naming the file, line LINE and NEEDLE. */
static void
assert_interpret_refuses (const char *text, const char *from, const char *to, guint line,
                          const char *needle)
{
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autoptr (VolactPluginSet) set = load_one_dir (plugins);
  const VolactLoadedPlugin *kms12 = volact_plugin_set_find (set, "kms12");
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = replace_once (text, from, to);
  g_autofree char *where = g_strdup_printf ("inline/bad.xrm:%u:", line);

  assert_non_null (kms12);
  if (interpret (kms12, b, bad, "bad.xrm", &error))
    fail_msg ("kms12 accepted a document with %s", to);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET));
  if (strstr (error->message, where) == NULL || strstr (error->message, needle) == NULL)
    fail_msg ("message lacks \"%s\" or \"%s\": %s", where, needle, error->message);
}

/* Numbers are parsed strictly, enumerations exactly, bounds enforced. */
static void
test_interpret_strict (void **state)
{
  /* Lines: <policy> 7, first <minimumCount> 8; <outOfBoxGrace>, <telephoneActivation> 7;
   * the server <edition> 10; <keyGroup> 6. */
  assert_interpret_refuses (ppd_xml, "activationInterval=\"120\"", "activationInterval=\"120x\"", 7,
                            "\"120x\"");
  assert_interpret_refuses (ppd_xml, "activationInterval=\"120\"", "activationInterval=\" 120\"", 7,
                            "\" 120\"");
  assert_interpret_refuses (ppd_xml, "renewalInterval=\"10080\"", "renewalInterval=\"14\"", 7,
                            "15..43200");
  assert_interpret_refuses (ppd_xml, "validityDays=\"180\"", "validityDays=\"-1\"", 7, "\"-1\"");
  assert_interpret_refuses (ppd_xml, "validityDays=\"180\"", "validityDays=\"0180\"", 7,
                            "\"0180\"");
  assert_interpret_refuses (ppd_xml, " retentionDays=\"30\"", "", 7, "retentionDays");
  assert_interpret_refuses (ppd_xml, "count=\"25\"", "count=\"4294967321\"", 8, "\"4294967321\"");
  assert_interpret_refuses (ppd_xml, "virtualMachines=\"ignored\"", "virtualMachines=\"some\"", 8,
                            "\"some\"");
  assert_interpret_refuses (oob_xml, "days=\"30\"", "days=\"366\"", 7, "0..365");
  assert_interpret_refuses (pl_xml, "type=\"server\"", "type=\"desktop\"", 10, "\"desktop\"");
  assert_interpret_refuses (phn_xml, "allowed=\"true\"", "allowed=\"1\"", 7, "\"1\"");
  assert_interpret_refuses (phn_xml, "keyGroup=\"22\"", "keyGroup=\"1024\"", 7, "1..1023");
  assert_interpret_refuses (cfg_xml, "maxActivations=\"9\"", "maxActivations=\"0x9\"", 6,
                            "\"0x9\"");
  assert_interpret_refuses (cfg_xml,
                            "<activates edition=\"win7-enterprise\"/>\n"
                            "        <activates edition=\"server2008r2-web\"/>\n",
                            "", 6, "activates no edition");
}

/* The applications in the <resource> of a ppd, oob or phn file are declared
 * too: the same one agrees with the pl file, a different name conflicts. */
static void
test_interpret_resource_applications (void **state)
{
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autoptr (VolactPluginSet) set = load_one_dir (plugins);
  const VolactLoadedPlugin *kms12 = volact_plugin_set_find (set, "kms12");
  g_autoptr (VolactCatalogBuilder) b = volact_catalog_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *same = replace_once (
      oob_xml, "<resource/>",
      "<resource><application id=\"windows\" name=\"Windows (modelled)\"/></resource>");
  g_autofree char *other
      = replace_once (ppd_xml, "<resource/>",
                      "<resource><application id=\"windows\" name=\"Another name\"/></resource>");

  assert_non_null (kms12);
  assert_true (interpret (kms12, b, pl_xml, "pl.xrm", &error));
  assert_true (interpret (kms12, b, same, "same.xrm", &error));
  assert_false (interpret (kms12, b, other, "other.xrm", &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CATALOG));
  assert_non_null (strstr (error->message, "inline/other.xrm"));
}

/* An unknown kind is refused, not ignored. */
/* Builds a catalog from plugin folder PLUGIN_DIR (relative to the build tree)
 * and an empty license folder, with CONFIG_TEXT as the host config FILE. */
static VolactCatalog *
build_with_config (const char *plugin_dir, const char *file, const char *config_text,
                   GError **error)
{
  g_autofree char *plugins = test_buildpath (plugin_dir);
  g_autofree char *licenses = test_tmpdir ();
  g_autofree char *trust = test_reference_trust ();
  g_autoptr (GKeyFile) config = g_key_file_new ();
  const char *const dirs[] = { plugins, NULL };
  VolactCatalogSources src = { dirs, licenses, trust, config, file };
  VolactCatalog *c;

  assert_true (g_key_file_load_from_data (config, config_text, -1, G_KEY_FILE_NONE, NULL));
  c = volact_catalog_build (&src, NULL, error);
  test_rmtree (licenses);
  return c;
}

/* check_config runs on every build, also without a group, and its refusal
 * fails the build with an error naming the config file, group and plugin. */
static void
test_check_config (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;

  c = build_with_config ("tests/confplugin", "/etc/v.conf", "[host]\n", &error);
  assert_non_null (c);
  g_clear_pointer (&c, volact_catalog_unref);
  c = build_with_config ("tests/confplugin", "/etc/v.conf", "[plugin:confcheck]\nmode=lax\n",
                         &error);
  assert_non_null (c);
  g_clear_pointer (&c, volact_catalog_unref);

  c = build_with_config ("tests/confplugin", "/etc/v.conf", "[plugin:confcheck]\nmode=fast\n",
                         &error);
  assert_null (c);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  assert_non_null (strstr (error->message, "/etc/v.conf: [plugin:confcheck]: plugin confcheck"));
  assert_non_null (strstr (error->message, "mode \"fast\" is not"));
  g_clear_error (&error);

  /* A group for a plugin that is not loaded is no error. */
  c = build_with_config ("tests/confplugin", "/etc/v.conf", "[plugin:absent]\nx=1\n", &error);
  assert_non_null (c);
}

/* A plugin without check_config takes no keys: its group must be empty. */
static void
test_config_for_plugin_without_check (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;

  c = build_with_config ("plugins", "/etc/v.conf", "[plugin:kms12]\nlevel=3\n", &error);
  assert_null (c);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  assert_non_null (strstr (error->message, "/etc/v.conf: [plugin:kms12]: plugin kms12"));
  assert_non_null (strstr (error->message, "takes no configuration"));
  assert_non_null (strstr (error->message, "\"level\""));
  g_clear_error (&error);
  c = build_with_config ("plugins", "/etc/v.conf", "[plugin:kms12]\n", &error);
  assert_non_null (c);
}

static void
test_interpret_unknown_kind (void **state)
{
  assert_interpret_refuses (oob_xml, "kind=\"oob\"", "kind=\"xyz\"", 1, "\"xyz\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_replaces),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_kms11_alone),
    cmocka_unit_test (test_missing_dir),
    cmocka_unit_test (test_wrong_name_alone),
    cmocka_unit_test (test_renamed_module),
    cmocka_unit_test (test_la_and_so_once),
    cmocka_unit_test (test_empty_dir),
    cmocka_unit_test (test_two_sets),
    cmocka_unit_test (test_interpret_all_kinds),
    cmocka_unit_test (test_interpret_unclaimed_family),
    cmocka_unit_test (test_interpret_strict),
    cmocka_unit_test (test_interpret_resource_applications),
    cmocka_unit_test (test_interpret_unknown_kind),
    cmocka_unit_test (test_check_config),
    cmocka_unit_test (test_config_for_plugin_without_check),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
