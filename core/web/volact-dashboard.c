/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The web dashboard's HTML (docs/monitoring.md "Dashboard"): the host's
 * status (dli), the health check's alerts and the six activity reports as
 * tables, in one document with one inline style sheet and no script. Every
 * text from a reply goes through volact_dashboard_escape: machine names
 * come from the network.
 */
#include "config.h"

#include "volact-dashboard-private.h"

#include <string.h>

static const char style[]
    = "*{box-sizing:border-box}"
      "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',"
      "Arial,sans-serif;color:#1f2933;background:#f4f5f7}"
      ".top{display:flex;align-items:center;justify-content:space-between;padding:12px 28px;"
      "background:#fff;border-bottom:1px solid #d9dde3}"
      ".top h1{margin:0;font-size:20px;font-weight:600}.top h1 .host{color:#52606d;font-weight:400}"
      ".session{display:flex;align-items:center;gap:12px;color:#52606d}"
      ".session form{margin:0}"
      "button{font:inherit;padding:6px 14px;border:1px solid #9aa5b1;border-radius:4px;"
      "background:#fff;color:#1f2933;cursor:pointer}button:hover{background:#eef0f3}"
      ".page{max-width:1220px;margin:0 auto;padding:16px 28px 40px}"
      ".generated{color:#616e7c;margin:4px 0 12px}"
      ".toc{display:flex;flex-wrap:wrap;gap:6px 16px;margin:0 0 16px;padding:0;list-style:none}"
      ".toc a{color:#2f5d8a;text-decoration:none}.toc a:hover{text-decoration:underline}"
      ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px;"
      "margin-bottom:16px}"
      ".card{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:12px 16px}"
      ".card .label{color:#616e7c;font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
      ".card .value{font-size:22px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}"
      "section{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:16px 20px;"
      "margin-bottom:16px}"
      "h2{font-size:17px;font-weight:600;margin:0 0 8px}"
      ".range{color:#616e7c;margin:0 0 10px}"
      "dl{display:grid;grid-template-columns:minmax(180px,max-content) 1fr;gap:4px 20px;margin:0}"
      "dt{color:#52606d}dd{margin:0;overflow-wrap:anywhere}"
      "dd ul{margin:0;padding:0;list-style:none}"
      ".scroll{overflow-x:auto;max-height:640px;overflow-y:auto}"
      "table{border-collapse:collapse;width:100%}"
      "th,td{padding:5px 10px;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap}"
      "th{background:#f0f2f5;font-weight:600;position:sticky;top:0}"
      "tbody tr:nth-child(even){background:#fafbfc}"
      ".num{text-align:right;font-variant-numeric:tabular-nums}"
      "tr.empty td{color:#7b8794;text-align:center;font-style:italic}"
      ".error{color:#9b1c1c;background:#fdecec;border:1px solid #f5c2c2;border-radius:4px;"
      "padding:8px 12px}"
      ".state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
      "font-weight:600;border:1px solid}"
      "#health-status{padding:10px 14px;border-radius:4px;border:1px solid;margin:0 0 12px;"
      "font-weight:600}"
      ".ok{color:#1e6b34;background:#e8f5ec;border-color:#b5dcc0}"
      ".warning{color:#7a4d00;background:#fff4e0;border-color:#f0d19a}"
      ".critical{color:#9b1c1c;background:#fdecec;border-color:#f5c2c2}"
      ".unknown{color:#52606d;background:#eef0f3;border-color:#cbd2d9}"
      "svg.chart{display:block;width:100%;height:auto;margin:4px 0 12px;font-size:12px}"
      "svg .grid{stroke:#e4e7eb}svg .axis{stroke:#7b8794}svg text{fill:#52606d}"
      ".bar.requests,.key.requests{fill:#4c78a8}"
      ".bar.new_activations,.key.new_activations{fill:#f28e2b}"
      ".bar.machines,.key.machines{fill:#e15759}"
      ".login{max-width:380px;margin:80px auto;background:#fff;border:1px solid #d9dde3;"
      "border-radius:6px;padding:24px 28px}"
      ".login h1{font-size:20px;margin:0 0 16px}.login label{display:block;margin:10px 0 4px}"
      ".login input[type=text],.login input[type=password]{width:100%;padding:7px 9px;font:inherit;"
      "border:1px solid #9aa5b1;border-radius:4px}.login button{margin-top:16px;width:100%;"
      "background:#2f5d8a;border-color:#2f5d8a;color:#fff}.login button:hover{background:#264d73}";

static const char *const report_titles[][2] = {
  { "activation-count-summary", "Activation count summary" },
  { "activity-history", "Activity history" },
  { "licensing-status-summary", "Licensing status summary" },
  { "machine-expiration-chart", "Machine expiration chart" },
  { "machine-expiration-detail", "Machine expiration detail" },
  { "vm-summary", "Virtual machine summary" },
};

/* dli's fields in the order of slmgr's /dli layout (KMS operations guide), with their labels;
 * fields not listed follow, labelled by their name. */
static const char *const dli_labels[][2] = {
  { "name", "Name" },
  { "description", "Description" },
  { "partial_product_key", "Partial product key" },
  { "license_status", "License status" },
  { "kms_enabled", "Key Management Service enabled" },
  { "kms_disabled_reason", "Why it is not enabled" },
  { "current_count", "Current count" },
  { "port", "Listening on port" },
  { "port_after_restart", "Port after restart" },
  { "dns_publishing", "DNS publishing" },
  { "dns_published", "DNS record published" },
  { "dns_zones", "DNS zones" },
  { "dns_status", "DNS publishing status" },
  { "priority", "KMS priority" },
  { "activation_interval", "Activation interval (minutes)" },
  { "renewal_interval", "Renewal interval (minutes)" },
  { "activation_intervals", "Activation interval per application (minutes)" },
  { "renewal_intervals", "Renewal interval per application (minutes)" },
};

/* Reply fields that are the reply's envelope, not the host's status. */
static const char *const envelope_keys[] = { "code", "message", "text", "csv", NULL };

void
volact_dashboard_escape (GString *out, const char *text)
{
  for (const char *p = text; p != NULL && *p; p++) {
    /* The common case first: a run of characters that need nothing. */
    gsize run = 0;
    while ((guchar) p[run] >= 0x20 && p[run] != 0x7F && strchr ("&<>\"'", p[run]) == NULL)
      run++;
    if (run > 0) {
      g_string_append_len (out, p, (gssize) run);
      p += run - 1;
      continue;
    }
    switch (*p) {
      case '&':
        g_string_append (out, "&amp;");
        break;
      case '<':
        g_string_append (out, "&lt;");
        break;
      case '>':
        g_string_append (out, "&gt;");
        break;
      case '"':
        g_string_append (out, "&quot;");
        break;
      case '\'':
        g_string_append (out, "&#39;");
        break;
      default:
        /* Control characters are not allowed in HTML text. */
        if (*p != '\n' && *p != '\t')
          g_string_append (out, "\xEF\xBF\xBD");
        else
          g_string_append_c (out, *p);
    }
  }
}

/* T (unix seconds) as UTC text in FORMAT, or "?" when out of range. */
static void
append_time (GString *out, gint64 t, const char *format)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  g_autofree char *s = dt ? g_date_time_format (dt, format) : NULL;
  g_string_append (out, s ? s : "?");
}

/* Keys whose value is a time in unix seconds. */
static gboolean
is_time_key (const char *key)
{
  return key != NULL && (g_str_equal (key, "time") || g_str_has_suffix (key, "_at"));
}

/* One value of a reply, as text or a nested list. KEY (may be NULL) says how to read numbers. */
static void
append_value (GString *out, const char *key, GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)) {
    g_autoptr (GVariant) inner = g_variant_get_variant (v);
    append_value (out, key, inner);
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN)) {
    g_string_append (out, g_variant_get_boolean (v) ? "yes" : "no");
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)) {
    volact_dashboard_escape (out, g_variant_get_string (v, NULL));
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32)
             && (g_strcmp0 (key, "code") == 0 || g_strcmp0 (key, "result") == 0)) {
    g_string_append_printf (out, "0x%08X", g_variant_get_uint32 (v)); /* as --json prints codes */
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64) && is_time_key (key)) {
    append_time (out, g_variant_get_int64 (v), "%Y-%m-%dT%H:%M:%SZ");
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY)) {
    g_autofree const char **items = g_variant_get_strv (v, NULL);
    for (guint i = 0; items[i] != NULL; i++) {
      g_string_append (out, i ? ", " : "");
      volact_dashboard_escape (out, items[i]);
    }
    if (items[0] == NULL)
      g_string_append (out, "none");
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DICTIONARY)) {
    GVariantIter iter;
    const char *k;
    GVariant *child;
    g_string_append (out, "<ul>");
    g_variant_iter_init (&iter, v);
    while (g_variant_iter_next (&iter, "{&s@*}", &k, &child)) {
      g_string_append (out, "<li>");
      volact_dashboard_escape (out, k);
      g_string_append (out, ": ");
      append_value (out, k, child);
      g_string_append (out, "</li>");
      g_variant_unref (child);
    }
    g_string_append (out, "</ul>");
  } else if (g_variant_is_container (v)) {
    g_string_append (out, "<ul>");
    for (gsize i = 0; i < g_variant_n_children (v); i++) {
      g_autoptr (GVariant) child = g_variant_get_child_value (v, i);
      g_string_append (out, "<li>");
      append_value (out, NULL, child);
      g_string_append (out, "</li>");
    }
    g_string_append (out, "</ul>");
  } else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE)) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, g_variant_get_double (v)));
  } else {
    /* Numbers print as decimal digits, whatever the locale. */
    g_autofree char *s = g_variant_print (v, FALSE);
    volact_dashboard_escape (out, s);
  }
}

static void
append_dl_entry (GString *out, const char *key, const char *label, GVariant *v)
{
  g_string_append (out, "<dt>");
  volact_dashboard_escape (out, label);
  g_string_append_printf (out, "</dt><dd data-key=\"");
  volact_dashboard_escape (out, key);
  g_string_append (out, "\">");
  /* 0 is never a valid interval: dli's way of saying the applications differ. */
  if (g_str_has_suffix (key, "_interval") && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32)
      && g_variant_get_uint32 (v) == 0)
    g_string_append (out, "differs per application");
  else
    append_value (out, key, v);
  g_string_append (out, "</dd>\n");
}

static gboolean
is_listed (const char *key)
{
  if (g_strv_contains (envelope_keys, key))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (dli_labels); i++)
    if (g_str_equal (dli_labels[i][0], key))
      return TRUE;
  return FALSE;
}

static void
render_status (GString *out, GVariant *dli)
{
  GVariantIter iter;
  const char *key;
  GVariant *v;

  g_string_append (out, "<section id=\"status\"><h2>Host status</h2>\n");
  if (dli == NULL) {
    g_string_append (out, "<p class=\"error\">The host's status is not available.</p></section>\n");
    return;
  }
  g_string_append (out, "<dl>\n");
  for (guint i = 0; i < G_N_ELEMENTS (dli_labels); i++) {
    g_autoptr (GVariant) value = g_variant_lookup_value (dli, dli_labels[i][0], NULL);
    if (value != NULL)
      append_dl_entry (out, dli_labels[i][0], dli_labels[i][1], value);
  }
  g_variant_iter_init (&iter, dli);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &v)) {
    if (!is_listed (key)) {
      g_autofree char *label = g_strdelimit (g_strdup (key), "_", ' ');
      label[0] = g_ascii_toupper (label[0]);
      append_dl_entry (out, key, label, v);
    }
    g_variant_unref (v);
  }
  g_string_append (out, "</dl></section>\n");
}

/* The CSS class of a Nagios status name. */
static const char *
status_class (const char *name)
{
  static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
  static const char *const classes[] = { "ok", "warning", "critical", "unknown" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i]) == 0)
      return classes[i];
  return "unknown";
}

/* The health check's name in words (volact_health_checks); unknown names as they are. */
static const char *
check_label (const char *name)
{
  static const char *const labels[][2] = { { "initialization", "Initialization" },
                                           { "dns-publishing", "DNS publishing" },
                                           { "count", "Count" },
                                           { "activity", "Activity" } };
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (labels[i][0], name))
      return labels[i][1];
  return name;
}

static void
render_alerts (GString *out, GVariant *health)
{
  const char *name = "UNKNOWN", *text = "VOLACT UNKNOWN - the health check is not available";
  g_autoptr (GVariant) checks = NULL;

  if (health != NULL) {
    g_variant_lookup (health, "status_name", "&s", &name);
    g_variant_lookup (health, "text", "&s", &text);
    checks = g_variant_lookup_value (health, "checks", G_VARIANT_TYPE ("aa{sv}"));
  }
  g_string_append_printf (out,
                          "<section id=\"alerts\"><h2>Alerts</h2>\n"
                          "<p id=\"health-status\" class=\"%s\">",
                          status_class (name));
  volact_dashboard_escape (out, text);
  g_string_append (out, "</p>\n");
  if (checks == NULL) {
    g_string_append (out, "</section>\n");
    return;
  }
  g_string_append (out, "<table class=\"checks\"><thead><tr><th>Check</th><th>State</th>"
                        "<th>Message</th></tr></thead><tbody>\n");
  for (gsize i = 0; i < g_variant_n_children (checks); i++) {
    g_autoptr (GVariant) c = g_variant_get_child_value (checks, i);
    const char *check = "", *state = "UNKNOWN", *message = "";
    g_variant_lookup (c, "name", "&s", &check);
    g_variant_lookup (c, "state", "&s", &state);
    g_variant_lookup (c, "message", "&s", &message);
    g_string_append (out, "<tr class=\"check\" data-check=\"");
    volact_dashboard_escape (out, check);
    g_string_append (out, "\"><td>");
    volact_dashboard_escape (out, check_label (check));
    g_string_append_printf (out, "</td><td><span class=\"state %s\">", status_class (state));
    volact_dashboard_escape (out, state);
    g_string_append (out, "</span></td><td>");
    volact_dashboard_escape (out, message);
    g_string_append (out, "</td></tr>\n");
  }
  g_string_append (out, "</tbody></table></section>\n");
}

/* The report's range in words: since (0: the beginning of the records) to until (excluded). */
static void
append_range (GString *out, GVariant *report)
{
  gint64 since = 0, until = 0;

  g_variant_lookup (report, "since", "x", &since);
  g_variant_lookup (report, "until", "x", &until);
  g_string_append (out, "<p class=\"range\">From ");
  if (since > 0)
    append_time (out, since, "%Y-%m-%d %H:%M UTC");
  else
    g_string_append (out, "the beginning of the records");
  g_string_append (out, " to ");
  append_time (out, until, "%Y-%m-%d %H:%M UTC");
  g_string_append (out, "</p>\n");
}

static void
render_table (GString *out, const char *name, GVariant *report)
{
  g_autoptr (GVariant) columns
      = g_variant_lookup_value (report, "columns", G_VARIANT_TYPE_STRING_ARRAY);
  g_autoptr (GVariant) rows = g_variant_lookup_value (report, "rows", G_VARIANT_TYPE ("aav"));
  gsize n_cols = columns ? g_variant_n_children (columns) : 0;
  gsize n_rows = rows ? g_variant_n_children (rows) : 0;

  g_string_append (out, "<div class=\"scroll\"><table class=\"report\" data-report=\"");
  volact_dashboard_escape (out, name);
  g_string_append (out, "\"><thead><tr>");
  for (gsize c = 0; c < n_cols; c++) {
    const char *col = NULL;
    gboolean num = FALSE;
    g_variant_get_child (columns, c, "&s", &col);
    /* The first cell with a value decides: a numeric column may start with "" (no value). */
    for (gsize r = 0; r < n_rows; r++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
      g_autoptr (GVariant) cell = NULL;
      g_autoptr (GVariant) v = NULL;
      if (c >= g_variant_n_children (row))
        continue;
      cell = g_variant_get_child_value (row, c);
      v = g_variant_get_variant (cell);
      num = g_variant_is_of_type (v, G_VARIANT_TYPE_INT64);
      if (num || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) || g_variant_get_size (v) > 1)
        break;
    }
    g_string_append (out, num ? "<th class=\"num\">" : "<th>");
    volact_dashboard_escape (out, col);
    g_string_append (out, "</th>");
  }
  g_string_append (out, "</tr></thead>\n<tbody>\n");
  if (n_rows == 0)
    g_string_append_printf (out, "<tr class=\"empty\"><td colspan=\"%zu\">No data</td></tr>\n",
                            MAX (n_cols, 1));
  for (gsize r = 0; r < n_rows; r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    g_string_append (out, "<tr>");
    for (gsize c = 0; c < g_variant_n_children (row); c++) {
      g_autoptr (GVariant) cell = g_variant_get_child_value (row, c);
      g_autoptr (GVariant) v = g_variant_get_variant (cell);
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64)) {
        g_string_append_printf (out, "<td class=\"num\">%" G_GINT64_FORMAT "</td>",
                                g_variant_get_int64 (v));
      } else {
        g_string_append (out, "<td>");
        append_value (out, NULL, v);
        g_string_append (out, "</td>");
      }
    }
    g_string_append (out, "</tr>\n");
  }
  g_string_append (out, "</tbody></table></div>\n");
}

static void
render_report (GString *out, guint i, GVariant *report, const char *error)
{
  static const VolactChartSeries history[]
      = { { "requests", "requests" }, { "new_activations", "new activations" } };
  static const VolactChartSeries expiring[] = { { "machines", "machines whose grace ends" } };
  const char *name = report_titles[i][0];
  g_autoptr (GArray) days = NULL;

  g_string_append_printf (out, "<section id=\"report-%s\" class=\"report\"><h2>%s</h2>\n", name,
                          report_titles[i][1]);
  if (report == NULL) {
    g_string_append (out, "<p class=\"error\">");
    volact_dashboard_escape (out, error ? error : "This report is not available.");
    g_string_append (out, "</p></section>\n");
    return;
  }
  append_range (out, report);
  if (g_str_equal (name, "activity-history")) {
    days = volact_dashboard_history_days (report);
    volact_dashboard_chart (out, "chart-activity-history",
                            "Requests and new activations per day (UTC), all editions", history,
                            G_N_ELEMENTS (history), days);
  } else if (g_str_equal (name, "machine-expiration-chart")) {
    days = volact_dashboard_expiration_days (report);
    volact_dashboard_chart (out, "chart-machine-expiration",
                            "Machines whose grace period ends, per day (UTC)", expiring,
                            G_N_ELEMENTS (expiring), days);
  }
  render_table (out, name, report);
  g_string_append (out, "</section>\n");
}

/* The document's head and opening body, shared by both pages. */
static GString *
begin_document (const char *title)
{
  GString *out = g_string_new ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                               "<meta charset=\"utf-8\">\n"
                               "<meta name=\"viewport\" content=\"width=device-width, "
                               "initial-scale=1\">\n<title>volact - ");
  volact_dashboard_escape (out, title);
  g_string_append_printf (out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
  return out;
}

/* A status card: LABEL above VALUE (escaped), with an optional CSS class. */
static void
append_card (GString *out, const char *label, const char *value, const char *klass)
{
  g_string_append_printf (out, "<div class=\"card%s%s\"><div class=\"label\">", klass ? " " : "",
                          klass ? klass : "");
  volact_dashboard_escape (out, label);
  g_string_append (out, "</div><div class=\"value\">");
  volact_dashboard_escape (out, value);
  g_string_append (out, "</div></div>\n");
}

static void
render_cards (GString *out, const VolactDashboardPage *page)
{
  const char *license = "?", *health = "UNKNOWN";
  g_autoptr (GVariant) counts = NULL;
  guint32 port = 0;

  if (page->dli != NULL) {
    g_variant_lookup (page->dli, "license_status", "&s", &license);
    g_variant_lookup (page->dli, "port", "u", &port);
    counts = g_variant_lookup_value (page->dli, "current_count", G_VARIANT_TYPE ("a{su}"));
  }
  if (page->health != NULL)
    g_variant_lookup (page->health, "status_name", "&s", &health);
  g_string_append (out, "<div class=\"cards\">\n");
  append_card (out, "License status", license,
               g_str_equal (license, "Licensed") ? "ok" : "critical");
  append_card (out, "Health", health, status_class (health));
  for (gsize i = 0; counts != NULL && i < g_variant_n_children (counts); i++) {
    const char *app = NULL;
    guint32 n = 0;
    g_autofree char *label = NULL;
    g_autofree char *value = NULL;
    g_variant_get_child (counts, i, "{&su}", &app, &n);
    label = g_strdup_printf ("Count %s", app);
    value = g_strdup_printf ("%u", n);
    append_card (out, label, value, NULL);
  }
  if (port != 0) {
    g_autofree char *value = g_strdup_printf ("%u", port);
    append_card (out, "Port", value, NULL);
  }
  g_string_append (out, "</div>\n");
}

char *
volact_dashboard_render (const VolactDashboardPage *page)
{
  const char *host = "host";
  GString *out;

  g_return_val_if_fail (page != NULL, NULL);
  if (page->dli != NULL)
    g_variant_lookup (page->dli, "name", "&s", &host);
  out = begin_document (host);
  g_string_append (out, "<div class=\"top\"><h1>volact <span class=\"host\">");
  volact_dashboard_escape (out, host);
  g_string_append (out, "</span></h1><div class=\"session\"><span>Signed in as <strong "
                        "id=\"user\">");
  volact_dashboard_escape (out, page->user ? page->user : "");
  g_string_append (out, "</strong></span><form method=\"post\" action=\"/logout\">"
                        "<input type=\"hidden\" name=\"csrf\" value=\"");
  volact_dashboard_escape (out, page->csrf_token ? page->csrf_token : "");
  g_string_append (out, "\"><button type=\"submit\">Sign out</button></form></div></div>\n"
                        "<div class=\"page\">\n<p class=\"generated\">Generated at "
                        "<span id=\"generated-at\">");
  append_time (out, page->now, "%Y-%m-%dT%H:%M:%SZ");
  g_string_append (out, "</span>; read-only.</p>\n<ul class=\"toc\"><li><a href=\"#status\">"
                        "Status</a></li><li><a href=\"#alerts\">Alerts</a></li>");
  for (guint i = 0; i < G_N_ELEMENTS (report_titles); i++)
    g_string_append_printf (out, "<li><a href=\"#report-%s\">%s</a></li>", report_titles[i][0],
                            report_titles[i][1]);
  g_string_append (out, "</ul>\n");
  render_cards (out, page);
  render_status (out, page->dli);
  render_alerts (out, page->health);
  for (guint i = 0; i < VOLACT_DASHBOARD_N_REPORTS; i++)
    render_report (out, i, page->reports[i], page->report_errors[i]);
  g_string_append (out, "</div>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}

char *
volact_dashboard_login_page (const char *message, const char *csrf)
{
  GString *out = begin_document ("sign in");

  g_string_append (out, "<form class=\"login\" method=\"post\" action=\"/login\">\n"
                        "<h1>volact dashboard</h1>\n");
  if (message != NULL) {
    g_string_append (out, "<p class=\"error\" id=\"login-error\">");
    volact_dashboard_escape (out, message);
    g_string_append (out, "</p>\n");
  }
  g_string_append (out, "<input type=\"hidden\" name=\"csrf\" value=\"");
  volact_dashboard_escape (out, csrf ? csrf : "");
  g_string_append (out, "\">\n<label for=\"user\">User name</label>"
                        "<input type=\"text\" id=\"user\" name=\"user\" autocomplete=\"username\" "
                        "required autofocus>\n<label for=\"password\">Password</label>"
                        "<input type=\"password\" id=\"password\" name=\"password\" "
                        "autocomplete=\"current-password\" required>\n"
                        "<button type=\"submit\">Sign in</button>\n</form>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}
