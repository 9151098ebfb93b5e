/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The web dashboard's HTML (docs/monitoring.md "Dashboard"): a real host's dli, health and
 * reports rendered, parsed back with libxml2's HTML parser and checked with XPath. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "testutil.h"
#include "volact-dashboard.h"
#include "volact-error.h"
#include "volact-host.h"
#include "volact-key.h"
#include "volact-records.h"

#define HOUR 3600
#define DAY 86400
#define HOSTILE "<script>alert(1)</script>\"&'"
#define CSRF "c5rf-T0ken\"&<x>"

typedef struct {
  char *dir;
  VolactHost *host;
  char key[VOLACT_KEY_TEXT_SIZE];
  VolactDashboardPage page;
  char *html;
} Fixture;

/* Runs the administration command WORD with ARGS on the host, as the admin socket would. */
static GVariant *
command (Fixture *fx, const char *word, const char *const *args)
{
  const VolactCommand *cmd = volact_command_find (word);
  GVariant *reply;
  guint32 code = 1;
  const char *message = "";

  assert_non_null (cmd);
  reply = g_variant_ref_sink (volact_host_command (cmd, args, fx->host));
  g_variant_lookup (reply, "code", "u", &code);
  g_variant_lookup (reply, "message", "&s", &message);
  if (code != 0)
    fail_msg ("%s: 0x%08X %s", word, code, message);
  return reply;
}

/* One request of machine N named NAME at NOW - AGO, with its license STATE and minutes left. */
static void
visit (Fixture *fx, guint n, const char *name, const char *edition, gint64 ago, gboolean vm,
       guint8 state, guint32 minutes_left)
{
  guint8 cmid[16] = { 0x6B, 0x01, 0x02, 0x03, 0x04, 0x05, 0x46, 0x07,
                      0x88, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, (guint8) n };
  VolactVisit v = {
    .time = g_get_real_time () / G_USEC_PER_SEC - ago,
    .pool = "reference-pool",
    .cmid = cmid,
    .name = name,
    .edition = edition,
    .address = "192.0.2.20",
    .virtual_machine = vm,
    .counts = TRUE,
    .state = state,
    .minutes_left = minutes_left,
    .retention_days = 30,
    .minimum_count = 1,
  };
  guint32 result = 1;
  guint64 ticket = 0;

  volact_records_count (volact_host_records (fx->host), &v, &result, &ticket);
  assert_true (ticket > 0);
}

/* A real host (reference plugins and license data) with a host key installed and a few
 * clients: one with a hostile name whose grace ends in two days. */
static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;
  VolactHostKey key = { VOLACT_KEY_VERSION, 22, 4242, 0x5eed1e55 }; /* a reference group */
  const char *none[] = { NULL };

  fx->dir = test_tmpdir ();
  fx->host = test_host_new (fx->dir);
  if (fx->host == NULL)
    return -1;
  assert_true (volact_key_encode (&key, fx->key, &error));
  g_variant_unref (command (fx, "ipk", (const char *[]){ fx->key, NULL }));

  visit (fx, 1, "pc1.corp.example.com", "vista-enterprise", 3 * DAY, FALSE, 1, 0);
  visit (fx, 1, "pc1.corp.example.com", "vista-enterprise", 2 * HOUR, FALSE, 1, 0);
  visit (fx, 2, "vm2.corp.example.com", "server2008-standard", 5 * DAY, TRUE, 1, 0);
  visit (fx, 3, HOSTILE, "vista-enterprise", HOUR, FALSE, 0, 2 * DAY / 60);
  visit (fx, 4, "pc4.corp.example.com", "vista-enterprise", 10 * DAY, FALSE, 2, 20 * DAY / 60);
  assert_true (volact_records_flush (volact_host_records (fx->host), 30000));

  fx->page.dli = command (fx, "dli", none);
  fx->page.health = command (fx, "health", none);
  for (guint i = 0; i < VOLACT_DASHBOARD_N_REPORTS; i++)
    fx->page.reports[i]
        = command (fx, "report", (const char *[]){ volact_records_report_names ()[i], NULL });
  fx->page.user = "admin<b>";
  fx->page.csrf_token = CSRF;
  fx->page.now = 1764504000; /* 2025-11-30T12:00:00Z */
  fx->html = volact_dashboard_render (&fx->page);
  /* To look at the page (or screenshot it): VOLACT_DASHBOARD_SAMPLE=FILE. */
  if (g_getenv ("VOLACT_DASHBOARD_SAMPLE") != NULL)
    test_write_file (g_getenv ("VOLACT_DASHBOARD_SAMPLE"), fx->html, -1);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  g_clear_pointer (&fx->page.dli, g_variant_unref);
  g_clear_pointer (&fx->page.health, g_variant_unref);
  for (guint i = 0; i < VOLACT_DASHBOARD_N_REPORTS; i++)
    g_clear_pointer (&fx->page.reports[i], g_variant_unref);
  g_free (fx->html);
  volact_host_free (fx->host);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* ---- parsing and XPath ------------------------------------------------------------------- */

/* libxml2 before 2.14 parses HTML 4: it reports HTML5 and SVG elements as unknown tags. Those,
 * and only those, are not errors here; anything else the parser reports is. */
static const char *const html5_tags[] = { "section", "svg", "rect", "line", "text", NULL };

static void
collect_error (void *data, xmlErrorPtr e)
{
  GString *errors = data;
  if (e->code == XML_HTML_UNKNOWN_TAG && e->str1 != NULL && g_strv_contains (html5_tags, e->str1))
    return;
  g_string_append_printf (errors, "line %d: %s", e->line, e->message ? e->message : "?");
}

static htmlDocPtr
parse (const char *html)
{
  g_autoptr (GString) errors = g_string_new (NULL);
  htmlParserCtxtPtr ctxt = htmlNewParserCtxt ();
  htmlDocPtr doc;

  xmlSetStructuredErrorFunc (errors, collect_error);
  doc = htmlCtxtReadMemory (ctxt, html, (int) strlen (html), "dashboard.html", "utf-8",
                            HTML_PARSE_NONET);
  xmlSetStructuredErrorFunc (NULL, NULL);
  htmlFreeParserCtxt (ctxt);
  assert_non_null (doc);
  if (errors->len > 0)
    fail_msg ("the HTML parser reports: %s", errors->str);
  return doc;
}

static xmlXPathObjectPtr
xpath (htmlDocPtr doc, const char *expr)
{
  xmlXPathContextPtr ctx = xmlXPathNewContext (doc);
  xmlXPathObjectPtr r = xmlXPathEvalExpression ((const xmlChar *) expr, ctx);
  xmlXPathFreeContext (ctx);
  if (r == NULL)
    fail_msg ("bad XPath %s", expr);
  return r;
}

/* The number of nodes EXPR selects. */
static int
count (htmlDocPtr doc, const char *expr)
{
  xmlXPathObjectPtr r = xpath (doc, expr);
  int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
  xmlXPathFreeObject (r);
  return n;
}

/* The string value of EXPR (the text of its first node, or an attribute's value). */
static char *
text_of (htmlDocPtr doc, const char *expr)
{
  g_autofree char *wrapped = g_strdup_printf ("string(%s)", expr);
  xmlXPathObjectPtr r = xpath (doc, wrapped);
  char *s = g_strdup ((const char *) r->stringval);
  xmlXPathFreeObject (r);
  return s;
}

static void
assert_text (htmlDocPtr doc, const char *expr, const char *want)
{
  g_autofree char *got = text_of (doc, expr);
  if (g_strcmp0 (got, want) != 0)
    fail_msg ("%s is \"%s\", not \"%s\"", expr, got, want);
}

/* A cell as the page must show it: int64 in decimal, strings as they are. */
static char *
cell_text (GVariant *row, gsize c)
{
  g_autoptr (GVariant) cell = g_variant_get_child_value (row, c);
  g_autoptr (GVariant) v = g_variant_get_variant (cell);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (v));
  return g_variant_dup_string (v, NULL);
}

/* ---- the tests --------------------------------------------------------------------------- */

static void
test_document (void **state)
{
  Fixture *fx = *state;
  htmlDocPtr doc = parse (fx->html);
  const char *name = NULL;

  assert_true (g_str_has_prefix (fx->html, "<!DOCTYPE html>"));
  assert_text (doc, "/html/@lang", "en");
  assert_text (doc, "//meta/@charset", "utf-8");
  assert_true (g_variant_lookup (fx->page.dli, "name", "&s", &name));
  {
    g_autofree char *title = g_strdup_printf ("volact - %s", name);
    assert_text (doc, "/html/head/title", title);
  }
  /* Self-contained: one inline style, no script, no external resource. */
  assert_int_equal (count (doc, "//style"), 1);
  assert_int_equal (count (doc, "//script | //link | //img | //iframe | //object"), 0);
  assert_int_equal (count (doc, "//@*[starts-with(name(), 'on')]"), 0);
  assert_int_equal (count (doc, "//@src | //@href[not(starts-with(., '#'))]"), 0);
  assert_text (doc, "//*[@id='generated-at']", "2025-11-30T12:00:00Z");
  /* The sign-out form carries the CSRF token back, escaped in the source, intact in the DOM. */
  assert_text (doc, "//form[@action='/logout'][@method='post']//input[@name='csrf']/@value", CSRF);
  assert_text (doc, "//*[@id='user']", "admin<b>");
  xmlFreeDoc (doc);
}

static void
test_reports_match_replies (void **state)
{
  Fixture *fx = *state;
  htmlDocPtr doc = parse (fx->html);

  for (guint i = 0; i < VOLACT_DASHBOARD_N_REPORTS; i++) {
    const char *name = volact_records_report_names ()[i];
    g_autoptr (GVariant) columns
        = g_variant_lookup_value (fx->page.reports[i], "columns", G_VARIANT_TYPE_STRING_ARRAY);
    g_autoptr (GVariant) rows
        = g_variant_lookup_value (fx->page.reports[i], "rows", G_VARIANT_TYPE ("aav"));
    g_autofree char *table = g_strdup_printf (
        "//section[@id='report-%s']//table[@class='report'][@data-report='%s']", name, name);
    g_autofree char *ths = g_strdup_printf ("%s/thead/tr/th", table);
    g_autofree char *trs = g_strdup_printf ("%s/tbody/tr", table);

    assert_non_null (columns);
    assert_non_null (rows);
    assert_int_equal (count (doc, table), 1);
    assert_int_equal (count (doc, ths), g_variant_n_children (columns));
    for (gsize c = 0; c < g_variant_n_children (columns); c++) {
      const char *col = NULL;
      g_autofree char *th = g_strdup_printf ("%s[%zu]", ths, c + 1);
      g_variant_get_child (columns, c, "&s", &col);
      assert_text (doc, th, col);
    }
    if (g_variant_n_children (rows) == 0) {
      g_autofree char *empty = g_strdup_printf ("%s[@class='empty']/td", trs);
      assert_text (doc, empty, "No data");
      continue;
    }
    assert_int_equal (count (doc, trs), g_variant_n_children (rows));
    for (gsize r = 0; r < g_variant_n_children (rows); r++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
      g_autofree char *tds = g_strdup_printf ("%s[%zu]/td", trs, r + 1);
      assert_int_equal (count (doc, tds), g_variant_n_children (row));
      for (gsize c = 0; c < g_variant_n_children (row); c++) {
        g_autofree char *want = cell_text (row, c);
        g_autofree char *td = g_strdup_printf ("%s[%zu]", tds, c + 1);
        g_autofree char *num = g_strdup_printf ("count(%s[@class='num'])", td);
        g_autoptr (GVariant) cell = g_variant_get_child_value (row, c);
        g_autoptr (GVariant) v = g_variant_get_variant (cell);
        assert_text (doc, td, want);
        /* Numbers, and only numbers, are right-aligned. */
        assert_text (doc, num, g_variant_is_of_type (v, G_VARIANT_TYPE_INT64) ? "1" : "0");
      }
    }
  }
  /* The hostile machine is the one whose grace ends within 7 days. */
  assert_int_equal (count (doc, "//table[@data-report='machine-expiration-detail']/tbody/tr"), 1);
  xmlFreeDoc (doc);
}

static void
test_hostile_name_is_text (void **state)
{
  Fixture *fx = *state;
  htmlDocPtr doc = parse (fx->html);

  assert_text (doc, "//table[@data-report='machine-expiration-detail']/tbody/tr[1]/td[1]", HOSTILE);
  assert_null (strstr (fx->html, "<script"));
  assert_int_equal (count (doc, "//script"), 0);
  xmlFreeDoc (doc);
}

/* Each day's bar of SERIES in CHART carries the sum of column COL over that day's rows. */
static void
check_bars (htmlDocPtr doc, const char *chart, const char *series, GVariant *report,
            const char *col, guint want_days)
{
  g_autoptr (GVariant) rows = g_variant_lookup_value (report, "rows", G_VARIANT_TYPE ("aav"));
  g_autoptr (GHashTable) sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *bars = g_strdup_printf ("%s//rect[@data-series='%s']", chart, series);
  gint c_col = -1;
  GHashTableIter it;
  gpointer k, v;

  {
    g_autoptr (GVariant) columns
        = g_variant_lookup_value (report, "columns", G_VARIANT_TYPE_STRING_ARRAY);
    for (gsize c = 0; c < g_variant_n_children (columns); c++) {
      const char *name = NULL;
      g_variant_get_child (columns, c, "&s", &name);
      if (g_str_equal (name, col))
        c_col = (gint) c;
    }
  }
  assert_true (c_col > 0);
  for (gsize r = 0; r < g_variant_n_children (rows); r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    g_autofree char *day = cell_text (row, 0);
    g_autofree char *n = cell_text (row, (gsize) c_col);
    gint64 sum = GPOINTER_TO_SIZE (g_hash_table_lookup (sums, day));
    g_hash_table_insert (sums, g_steal_pointer (&day),
                         GSIZE_TO_POINTER ((gsize) (sum + g_ascii_strtoll (n, NULL, 10))));
  }
  assert_true (g_hash_table_size (sums) > 0);
  /* One bar per day, each day once. */
  assert_int_equal (count (doc, bars), want_days);
  g_hash_table_iter_init (&it, sums);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    g_autofree char *bar = g_strdup_printf ("%s[@data-day='%s']", bars, (char *) k);
    g_autofree char *value = g_strdup_printf ("%s/@data-value", bar);
    g_autofree char *want = g_strdup_printf ("%zu", GPOINTER_TO_SIZE (v));
    assert_int_equal (count (doc, bar), 1);
    assert_text (doc, value, want);
  }
}

/* Every bar of CHART stands on the axis, the largest value reaches the top grid line, and the
 * others are in proportion; every bar lies inside the viewBox. */
static void
check_scale (htmlDocPtr doc, const char *chart)
{
  g_autofree char *bars_expr = g_strdup_printf ("%s//rect[@data-value]", chart);
  g_autofree char *top_expr = g_strdup_printf ("%s/line[@class='grid'][last()]/@y1", chart);
  g_autofree char *base_expr = g_strdup_printf ("%s/line[@class='grid'][1]/@y1", chart);
  g_autofree char *box_expr = g_strdup_printf ("%s/@viewbox", chart);
  g_autofree char *top_s = text_of (doc, top_expr);
  g_autofree char *base_s = text_of (doc, base_expr);
  g_autofree char *box = text_of (doc, box_expr);
  g_auto (GStrv) box_parts = g_strsplit (box, " ", -1);
  xmlXPathObjectPtr bars = xpath (doc, bars_expr);
  gint64 top = g_ascii_strtoll (top_s, NULL, 10), base = g_ascii_strtoll (base_s, NULL, 10);
  gint64 width = g_ascii_strtoll (box_parts[2], NULL, 10), max = 0;

  assert_non_null (bars->nodesetval);
  assert_true (base > top);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < bars->nodesetval->nodeNr; i++) {
      xmlNodePtr n = bars->nodesetval->nodeTab[i];
      g_autofree char *v = (char *) xmlGetProp (n, (const xmlChar *) "data-value");
      g_autofree char *x = (char *) xmlGetProp (n, (const xmlChar *) "x");
      g_autofree char *y = (char *) xmlGetProp (n, (const xmlChar *) "y");
      g_autofree char *w = (char *) xmlGetProp (n, (const xmlChar *) "width");
      g_autofree char *h = (char *) xmlGetProp (n, (const xmlChar *) "height");
      gint64 value = g_ascii_strtoll (v, NULL, 10), height = g_ascii_strtoll (h, NULL, 10);
      if (pass == 0) {
        max = MAX (max, value);
        continue;
      }
      assert_int_equal (g_ascii_strtoll (y, NULL, 10) + height, base);
      assert_true (g_ascii_strtoll (x, NULL, 10) + g_ascii_strtoll (w, NULL, 10) <= width);
      assert_int_equal (height, max > 0 ? value * (base - top) / max : 0);
    }
  xmlXPathFreeObject (bars);
}

static void
test_charts (void **state)
{
  Fixture *fx = *state;
  htmlDocPtr doc = parse (fx->html);
  const char *history = "//section[@id='report-activity-history']//svg[@role='img']";
  const char *expiry = "//section[@id='report-machine-expiration-chart']//svg[@role='img']";
  gint64 since = 0, until = 0;
  g_autofree char *title = g_strdup_printf ("%s/title", history);
  g_autofree char *labels = g_strdup_printf ("%s//text[@class='day']", history);

  assert_int_equal (count (doc, history), 1);
  assert_int_equal (count (doc, expiry), 1);
  {
    g_autofree char *t = text_of (doc, title);
    assert_true (strstr (t, "per day") != NULL);
  }
  /* The history covers every day of its range (the default: 30 days before now). */
  assert_true (g_variant_lookup (fx->page.reports[1], "since", "x", &since));
  assert_true (g_variant_lookup (fx->page.reports[1], "until", "x", &until));
  check_bars (doc, history, "requests", fx->page.reports[1], "requests",
              (guint) ((until - 1) / DAY - since / DAY + 1));
  check_bars (doc, history, "new_activations", fx->page.reports[1], "new_activations",
              (guint) ((until - 1) / DAY - since / DAY + 1));
  assert_true (count (doc, labels) >= 5);
  /* The expiration chart: one bar per row (today and the next 29 days). */
  check_bars (doc, expiry, "machines", fx->page.reports[3], "machines", 30);
  check_scale (doc, history);
  check_scale (doc, expiry);
  xmlFreeDoc (doc);
}

/* A long history (120 days) still has a bar per day, inside the chart, with thinned labels;
 * a range without requests has zero bars on a 0 axis. */
static void
test_chart_long_and_empty (void **state)
{
  Fixture *fx = *state;
  const char *history = "//section[@id='report-activity-history']//svg[@role='img']";
  g_autofree char *bars = g_strdup_printf ("%s//rect[@data-series='requests']", history);
  g_autofree char *labels = g_strdup_printf ("%s//text[@class='day']", history);
  g_autofree char *zero = g_strdup_printf ("%s//rect[@data-value='0'][@height='0']", history);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  VolactDashboardPage page = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *html = NULL;
  htmlDocPtr doc;
  gint64 since = now - 120 * DAY, until = now + 1;

  page.reports[1] = volact_records_report (volact_host_records (fx->host), "activity-history",
                                           since, until, &error);
  assert_non_null (page.reports[1]);
  g_variant_ref_sink (page.reports[1]);
  html = volact_dashboard_render (&page);
  doc = parse (html);
  check_bars (doc, history, "requests", page.reports[1], "requests",
              (guint) ((until - 1) / DAY - since / DAY + 1));
  check_scale (doc, history);
  assert_true (count (doc, labels) >= 10);
  assert_true (count (doc, labels) < count (doc, bars));
  xmlFreeDoc (doc);
  g_clear_pointer (&page.reports[1], g_variant_unref);
  g_clear_pointer (&html, g_free);

  /* Three days in 1970: no requests. */
  page.reports[1] = volact_records_report (volact_host_records (fx->host), "activity-history", 0,
                                           3 * DAY, &error);
  assert_non_null (page.reports[1]);
  g_variant_ref_sink (page.reports[1]);
  html = volact_dashboard_render (&page);
  doc = parse (html);
  assert_int_equal (count (doc, bars), 3);
  assert_int_equal (count (doc, zero), 6);
  assert_text (doc, "//table[@data-report='activity-history']/tbody/tr[@class='empty']/td",
               "No data");
  check_scale (doc, history);
  xmlFreeDoc (doc);
  g_variant_unref (page.reports[1]);
}

static void
test_status_and_alerts (void **state)
{
  Fixture *fx = *state;
  htmlDocPtr doc = parse (fx->html);
  const char *status_name = NULL, *text = NULL;
  char partial[VOLACT_KEY_PARTIAL_SIZE];
  g_autofree char *cls = NULL;

  /* dli's fields as a definition list; booleans as yes/no; only the partial key. */
  assert_true (count (doc, "//section[@id='status']//dl/dt") >= 8);
  assert_int_equal (count (doc, "//section[@id='status']//dl/dt"),
                    count (doc, "//section[@id='status']//dl/dd"));
  assert_text (doc, "//section[@id='status']//dt[.='License status']/following-sibling::dd[1]",
               "Unlicensed");
  assert_text (doc, "//section[@id='status']//dd[@data-key='kms_enabled']", "no");
  volact_key_partial (fx->key, partial);
  assert_text (doc, "//section[@id='status']//dd[@data-key='partial_product_key']", partial);
  assert_null (strstr (fx->html, fx->key));
  assert_int_equal (count (doc, "//section[@id='status']//dd[@data-key='port']"), 1);

  /* The health check's line, with the class of its status. */
  assert_true (g_variant_lookup (fx->page.health, "status_name", "&s", &status_name));
  assert_true (g_variant_lookup (fx->page.health, "text", "&s", &text));
  assert_string_equal (status_name, "CRITICAL"); /* the host is not activated */
  assert_text (doc, "//section[@id='alerts']//*[@id='health-status']", text);
  cls = g_ascii_strdown (status_name, -1);
  assert_text (doc, "//*[@id='health-status']/@class", cls);
  /* Then each check: its name, state and message. */
  {
    g_autoptr (GVariant) checks
        = g_variant_lookup_value (fx->page.health, "checks", G_VARIANT_TYPE ("aa{sv}"));
    assert_non_null (checks);
    assert_int_equal (count (doc, "//section[@id='alerts']//tr[@class='check']"),
                      g_variant_n_children (checks));
    for (gsize i = 0; i < g_variant_n_children (checks); i++) {
      g_autoptr (GVariant) c = g_variant_get_child_value (checks, i);
      const char *name = NULL, *st = NULL, *message = NULL;
      g_autofree char *row
          = g_strdup_printf ("//section[@id='alerts']//tr[@class='check'][%zu]", i + 1);
      g_autofree char *at = g_strdup_printf ("%s/@data-check", row);
      g_autofree char *td_state = g_strdup_printf ("%s/td[2]", row);
      g_autofree char *td_message = g_strdup_printf ("%s/td[3]", row);
      assert_true (g_variant_lookup (c, "name", "&s", &name));
      assert_true (g_variant_lookup (c, "state", "&s", &st));
      assert_true (g_variant_lookup (c, "message", "&s", &message));
      assert_text (doc, at, name);
      assert_text (doc, td_state, st);
      assert_text (doc, td_message, message);
    }
    assert_text (doc, "//tr[@data-check='initialization']/td[1]", "Initialization");
    assert_text (doc, "//tr[@data-check='initialization']/td[2]", "CRITICAL");
  }
  xmlFreeDoc (doc);
}

/* Failed and empty reports, and no reply at all, render as specified, not as an empty page. */
static void
test_failed_and_empty (void **state)
{
  Fixture *fx = *state;
  VolactDashboardPage page = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *html = NULL;
  htmlDocPtr doc;

  page.reports[0] = volact_records_report (volact_host_records (fx->host),
                                           volact_records_report_names ()[0], 1000, 2000, &error);
  assert_non_null (page.reports[0]);
  g_variant_ref_sink (page.reports[0]);
  page.report_errors[2] = "cannot make the report: database <disk> is full";
  page.now = 0;
  html = volact_dashboard_render (&page);
  g_variant_unref (page.reports[0]);
  doc = parse (html);
  assert_text (doc, "/html/head/title", "volact - host");
  assert_int_equal (count (doc, "//table[@data-report='activation-count-summary']/thead/tr/th"), 6);
  assert_int_equal (count (doc, "//table[@data-report='activation-count-summary']/tbody/tr"), 1);
  assert_text (doc,
               "//table[@data-report='activation-count-summary']/tbody/tr[@class='empty']"
               "/td[@colspan='6']",
               "No data");
  assert_text (doc, "//section[@id='report-licensing-status-summary']/p[@class='error']",
               "cannot make the report: database <disk> is full");
  assert_int_equal (count (doc, "//section[@id='report-licensing-status-summary']//table"), 0);
  assert_int_equal (count (doc, "//section[starts-with(@id, 'report-')]"), 6);
  assert_int_equal (count (doc, "//section[@id='report-vm-summary']/p[@class='error']"), 1);
  assert_text (doc, "//*[@id='health-status']/@class", "unknown");
  assert_int_equal (count (doc, "//section[@id='status']/p[@class='error']"), 1);
  xmlFreeDoc (doc);
}

static void
test_login_page (void **state)
{
  g_autofree char *html = volact_dashboard_login_page ("Wrong user name or password.", CSRF);
  g_autofree char *bare = volact_dashboard_login_page (NULL, "t");
  htmlDocPtr doc = parse (html);
  const char *form = "//form[@action='/login'][@method='post']";
  g_autofree char *user = g_strdup_printf ("%s//input[@name='user']", form);
  g_autofree char *pw = g_strdup_printf ("%s//input[@name='password'][@type='password']", form);
  g_autofree char *csrf = g_strdup_printf ("%s//input[@name='csrf'][@type='hidden']/@value", form);

  assert_int_equal (count (doc, form), 1);
  assert_int_equal (count (doc, user), 1);
  assert_int_equal (count (doc, pw), 1);
  assert_text (doc, csrf, CSRF);
  assert_text (doc, "//p[@class='error']", "Wrong user name or password.");
  assert_int_equal (count (doc, "//script"), 0);
  xmlFreeDoc (doc);
  doc = parse (bare);
  assert_int_equal (count (doc, "//p[@class='error']"), 0);
  xmlFreeDoc (doc);
}

static void
test_escape (void **state)
{
  g_autoptr (GString) s = g_string_new (NULL);

  volact_dashboard_escape (s, "a<b>&\"c'\x01\x7F\xC3\xA9\tz\n");
  assert_string_equal (s->str, "a&lt;b&gt;&amp;&quot;c&#39;\xEF\xBF\xBD\xEF\xBF\xBD\xC3\xA9\tz\n");
  g_string_truncate (s, 0);
  volact_dashboard_escape (s, NULL);
  volact_dashboard_escape (s, "");
  assert_string_equal (s->str, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_document, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reports_match_replies, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostile_name_is_text, setup, teardown),
    cmocka_unit_test_setup_teardown (test_charts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chart_long_and_empty, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_and_alerts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_failed_and_empty, setup, teardown),
    cmocka_unit_test (test_login_page),
    cmocka_unit_test (test_escape),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
