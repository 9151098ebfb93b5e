/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the dashboard's page (volact-dashboard.c) and its charts (volact-dashboard-chart.c). */
#ifndef VOLACT_DASHBOARD_PRIVATE_H
#define VOLACT_DASHBOARD_PRIVATE_H

#include "volact-dashboard.h"

G_BEGIN_DECLS

#define VOLACT_CHART_MAX_SERIES 2

/** One day of a bar chart: its UTC date and one value per series. */
typedef struct {
  char day[11]; /* YYYY-MM-DD */
  gint64 values[VOLACT_CHART_MAX_SERIES];
} VolactChartDay;

/** One series of a bar chart: its CSS class and data-series name, and its legend. */
typedef struct {
  const char *name;
  const char *label;
} VolactChartSeries;

/** The index of column NAME in REPORT's "columns", or -1. */
gint volact_dashboard_column (GVariant *report, const char *name);
/** Cell COL of ROW (an av) as a number: an int64 cell's value, else 0. */
gint64 volact_dashboard_cell_int (GVariant *row, gint col);

/**
 * The activity history's chart data: for each UTC day of the report's range
 * (at most the last 400 with data), requests and new activations summed over
 * editions. A GArray of VolactChartDay.
 */
GArray *volact_dashboard_history_days (GVariant *report);
/** The expiration chart's data: one VolactChartDay (machines) per row of the report. */
GArray *volact_dashboard_expiration_days (GVariant *report);

/**
 * Appends an inline SVG bar chart of DAYS (VolactChartDay) with N_SERIES
 * bars per day, a y axis scaled to the largest value, day labels, a legend
 * and TITLE. ID prefixes the SVG's element ids.
 */
void volact_dashboard_chart (GString *out, const char *id, const char *title,
                             const VolactChartSeries *series, guint n_series, GArray *days);

G_END_DECLS

#endif
