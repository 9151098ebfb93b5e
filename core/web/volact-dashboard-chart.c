/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dashboard's SVG bar charts (activity history, machine expiration),
 * drawn on the server. Every coordinate is an integer in the SVG's own
 * viewBox, which grows with the number of days, so no floating point is
 * printed and the chart never depends on the locale.
 */
#include "config.h"

#include "volact-dashboard-private.h"

#include <stdio.h>

#define DAY 86400
/* The history chart shows at most this many days (the last ones with data). */
#define HISTORY_MAX_DAYS 400

/* The chart's geometry, in viewBox units. */
#define MARGIN_LEFT 64
#define MARGIN_RIGHT 16
#define MARGIN_TOP 16
#define PLOT_HEIGHT 220
#define MARGIN_BOTTOM 56
#define MIN_WIDTH 1100 /* about the page's width: text is drawn at its size */
#define LABEL_WIDTH 44 /* room for one "MM-DD" day label */

gint
volact_dashboard_column (GVariant *report, const char *name)
{
  g_autoptr (GVariant) columns = NULL;

  if (report == NULL)
    return -1;
  columns = g_variant_lookup_value (report, "columns", G_VARIANT_TYPE_STRING_ARRAY);
  for (gsize i = 0; columns != NULL && i < g_variant_n_children (columns); i++) {
    const char *c = NULL;
    g_variant_get_child (columns, i, "&s", &c);
    if (g_strcmp0 (c, name) == 0)
      return (gint) i;
  }
  return -1;
}

gint64
volact_dashboard_cell_int (GVariant *row, gint col)
{
  g_autoptr (GVariant) cell = NULL;
  g_autoptr (GVariant) v = NULL;

  if (col < 0 || (gsize) col >= g_variant_n_children (row))
    return 0;
  cell = g_variant_get_child_value (row, (gsize) col);
  v = g_variant_get_variant (cell);
  return g_variant_is_of_type (v, G_VARIANT_TYPE_INT64) ? g_variant_get_int64 (v) : 0;
}

/* Cell COL of ROW if it is a string, else "". */
static const char *
cell_str (GVariant *row, gint col)
{
  g_autoptr (GVariant) cell = NULL;
  g_autoptr (GVariant) v = NULL;

  if (col < 0 || (gsize) col >= g_variant_n_children (row))
    return "";
  cell = g_variant_get_child_value (row, (gsize) col);
  v = g_variant_get_variant (cell);
  /* The string lives in ROW's data, which the caller holds. */
  return g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ? g_variant_get_string (v, NULL) : "";
}

/* The UTC day number of "YYYY-MM-DD", or G_MININT64 if it is not one. */
static gint64
parse_day (const char *text)
{
  int y, m, d;
  char tail;
  g_autoptr (GDateTime) t = NULL;

  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return G_MININT64;
  t = g_date_time_new_utc (y, m, d, 0, 0, 0);
  return t ? g_date_time_to_unix (t) / DAY : G_MININT64;
}

static void
format_day (gint64 day, char out[11])
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (day * DAY);
  g_autofree char *s = t ? g_date_time_format (t, "%Y-%m-%d") : g_strdup ("?");
  g_strlcpy (out, s, 11);
}

/* Floor division: days before 1970 stay on their own day. */
static gint64
day_of (gint64 t)
{
  return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

GArray *
volact_dashboard_history_days (GVariant *report)
{
  GArray *days = g_array_new (FALSE, TRUE, sizeof (VolactChartDay));
  g_autoptr (GVariant) rows = NULL;
  gint c_day = volact_dashboard_column (report, "day");
  gint c_req = volact_dashboard_column (report, "requests");
  gint c_new = volact_dashboard_column (report, "new_activations");
  gint64 since = 0, until = 0, first, last, first_row = G_MAXINT64;
  gsize n;

  if (report == NULL || c_day < 0)
    return days;
  rows = g_variant_lookup_value (report, "rows", G_VARIANT_TYPE ("aav"));
  g_variant_lookup (report, "since", "x", &since);
  g_variant_lookup (report, "until", "x", &until);
  n = rows ? g_variant_n_children (rows) : 0;
  for (gsize r = 0; r < n; r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    first_row = MIN (first_row, parse_day (cell_str (row, c_day)));
  }
  /* Every day of the range, those without requests included, so gaps show;
   * a range from the beginning of time starts at the first day with data. */
  first = day_of (since);
  last = day_of (until - 1);
  if (last - first >= HISTORY_MAX_DAYS && first_row != G_MAXINT64 && first_row > first)
    first = first_row;
  if (last - first >= HISTORY_MAX_DAYS)
    first = last - HISTORY_MAX_DAYS + 1;
  for (gint64 d = first; d <= last; d++) {
    VolactChartDay cd = { { 0 }, { 0, 0 } };
    format_day (d, cd.day);
    g_array_append_val (days, cd);
  }
  for (gsize r = 0; r < n; r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    gint64 d = parse_day (cell_str (row, c_day));
    if (d < first || d > last)
      continue;
    g_array_index (days, VolactChartDay, d - first).values[0]
        += volact_dashboard_cell_int (row, c_req);
    g_array_index (days, VolactChartDay, d - first).values[1]
        += volact_dashboard_cell_int (row, c_new);
  }
  return days;
}

GArray *
volact_dashboard_expiration_days (GVariant *report)
{
  GArray *days = g_array_new (FALSE, TRUE, sizeof (VolactChartDay));
  g_autoptr (GVariant) rows = NULL;
  gint c_day = volact_dashboard_column (report, "day");
  gint c_machines = volact_dashboard_column (report, "machines");

  if (report == NULL || c_day < 0)
    return days;
  rows = g_variant_lookup_value (report, "rows", G_VARIANT_TYPE ("aav"));
  for (gsize r = 0; rows != NULL && r < g_variant_n_children (rows); r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    VolactChartDay cd = { { 0 }, { volact_dashboard_cell_int (row, c_machines), 0 } };
    g_strlcpy (cd.day, cell_str (row, c_day), sizeof cd.day);
    g_array_append_val (days, cd);
  }
  return days;
}

/* The y axis' grid step: the smallest 1, 2 or 5 times a power of ten that needs at most
 * 5 steps to reach MAX. */
static gint64
axis_step (gint64 max)
{
  for (gint64 p = 1; p <= G_MAXINT64 / 50; p *= 10)
    for (guint i = 0; i < 3; i++) {
      gint64 step = p * (gint64[]){ 1, 2, 5 }[i];
      if (step * 5 >= max)
        return step;
    }
  return max / 5 + 1;
}

/* The y of VALUE on an axis whose top is MAX. */
static gint
y_of (gint64 value, gint64 max)
{
  /* MAX fits in 63 bits, so the product could overflow: scale in two steps when large. */
  gint64 h = max <= G_MAXINT64 / PLOT_HEIGHT ? value * PLOT_HEIGHT / max
                                             : value / (max / PLOT_HEIGHT + 1);
  return MARGIN_TOP + PLOT_HEIGHT - (gint) MIN (h, PLOT_HEIGHT);
}

void
volact_dashboard_chart (GString *out, const char *id, const char *title,
                        const VolactChartSeries *series, guint n_series, GArray *days)
{
  guint n = days->len;
  gint64 max = 0, step;
  gint bar = n_series > 1 ? 10 : 16;
  gint slot = n_series * bar + 8;
  gint width, height = MARGIN_TOP + PLOT_HEIGHT + MARGIN_BOTTOM, base = MARGIN_TOP + PLOT_HEIGHT;
  guint label_every;

  g_return_if_fail (n_series >= 1 && n_series <= VOLACT_CHART_MAX_SERIES);
  for (guint i = 0; i < n; i++)
    for (guint s = 0; s < n_series; s++)
      max = MAX (max, g_array_index (days, VolactChartDay, i).values[s]);
  /* The largest value reaches the top; grid lines at round steps below it. */
  step = axis_step (max);
  max = MAX (max, 1);
  /* Few days get wider slots; many days a wider viewBox (the page scales it down). */
  if (n > 0 && MARGIN_LEFT + (gint) n * slot + MARGIN_RIGHT < MIN_WIDTH)
    slot = (MIN_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / (gint) n;
  width = MARGIN_LEFT + (gint) MAX (n, 1) * slot + MARGIN_RIGHT;
  width = MAX (width, MIN_WIDTH);
  label_every = (guint) ((LABEL_WIDTH + slot - 1) / slot);

  g_string_append_printf (out,
                          "<svg role=\"img\" class=\"chart\" id=\"%s\" viewBox=\"0 0 %d %d\" "
                          "width=\"%d\" height=\"%d\" aria-labelledby=\"%s-title\" "
                          "xmlns=\"http://www.w3.org/2000/svg\"><title id=\"%s-title\">",
                          id, width, height, width, height, id, id);
  volact_dashboard_escape (out, title);
  g_string_append (out, "</title>\n");
  /* The y axis: a grid line per step, and one at the top labelled with the largest value; a
   * step label too close below the top would overlap it. */
  for (gint64 t = 0; t <= max; t = t + step < max ? t + step : (t == max ? max + 1 : max)) {
    gint y = y_of (t, max);
    g_string_append_printf (out,
                            "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
                            "y2=\"%d\"></line>",
                            MARGIN_LEFT, y, width - MARGIN_RIGHT, y);
    if (t == max || y - y_of (max, max) >= 14)
      g_string_append_printf (out,
                              "<text class=\"tick\" x=\"%d\" y=\"%d\" "
                              "text-anchor=\"end\">%" G_GINT64_FORMAT "</text>",
                              MARGIN_LEFT - 8, y + 4, t);
    g_string_append_c (out, '\n');
  }
  g_string_append_printf (out,
                          "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>"
                          "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>\n",
                          MARGIN_LEFT, MARGIN_TOP, MARGIN_LEFT, base, MARGIN_LEFT, base,
                          width - MARGIN_RIGHT, base);
  for (guint i = 0; i < n; i++) {
    const VolactChartDay *d = &g_array_index (days, VolactChartDay, i);
    gint x0 = MARGIN_LEFT + (gint) i * slot + (slot - (gint) n_series * bar) / 2;
    for (guint s = 0; s < n_series; s++) {
      gint h = base - y_of (MAX (d->values[s], 0), max);
      g_string_append_printf (out,
                              "<rect class=\"bar %s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                              "data-day=\"",
                              series[s].name, x0 + (gint) s * bar, base - h, bar, h);
      volact_dashboard_escape (out, d->day);
      g_string_append_printf (out,
                              "\" data-series=\"%s\" data-value=\"%" G_GINT64_FORMAT "\"><title>",
                              series[s].name, d->values[s]);
      volact_dashboard_escape (out, d->day);
      g_string_append_printf (out, ": %" G_GINT64_FORMAT " %s</title></rect>\n", d->values[s],
                              series[s].label);
    }
    /* Day labels as MM-DD, as many as fit; the last day always. */
    if (i % label_every == 0 || (i + 1 == n && i % label_every >= label_every / 2 + 1)) {
      g_string_append_printf (out, "<text class=\"day\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                              MARGIN_LEFT + (gint) i * slot + slot / 2, base + 18);
      volact_dashboard_escape (out, strlen (d->day) == 10 ? d->day + 5 : d->day);
      g_string_append (out, "</text>\n");
    }
  }
  if (n == 0)
    g_string_append_printf (out, "<text class=\"tick\" x=\"%d\" y=\"%d\">No data</text>\n",
                            MARGIN_LEFT + 16, base - PLOT_HEIGHT / 2);
  for (guint s = 0; s < n_series; s++) {
    gint x = MARGIN_LEFT + (gint) s * 180;
    g_string_append_printf (out,
                            "<rect class=\"key %s\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\">"
                            "</rect><text class=\"legend\" x=\"%d\" y=\"%d\">%s</text>\n",
                            series[s].name, x, base + 32, x + 18, base + 43, series[s].label);
  }
  g_string_append (out, "</svg>\n");
}
