/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The web dashboard's HTML (issue 9, docs/monitoring.md "Dashboard"): the
 * administration commands' replies in, one self-contained HTML5 document out
 * (one inline style sheet, inline SVG charts, no script, no external asset).
 * Pure: no I/O, no clock, no HTTP; the listener (volact-web.c) gathers the
 * replies and serves the text.
 */
#ifndef VOLACT_DASHBOARD_H
#define VOLACT_DASHBOARD_H

#include <glib.h>

G_BEGIN_DECLS

/** The number of reports the dashboard shows: volact_records_report_names (), in order. */
#define VOLACT_DASHBOARD_N_REPORTS 6

/** What one dashboard page shows. Every reply is the a{sv} of its command; any may be NULL. */
typedef struct {
  GVariant *dli;    /* the dli command's reply (volact_cmd_dli) */
  GVariant *health; /* the health command's reply with default thresholds (volact_cmd_health) */
  /* the report command's replies, in volact_records_report_names () order; an entry is NULL
   * when that report failed, and report_errors[i] then says why */
  GVariant *reports[VOLACT_DASHBOARD_N_REPORTS];
  const char *report_errors[VOLACT_DASHBOARD_N_REPORTS];
  const char *user;       /* the signed-in user, shown with a sign-out button */
  const char *csrf_token; /* the hidden field "csrf" of the sign-out form (POST /logout) */
  gint64 now;             /* unix seconds, shown as "generated at" (UTC, ISO 8601) */
} VolactDashboardPage;

/** The dashboard document of PAGE (UTF-8 HTML5); g_free it. */
char *volact_dashboard_render (const VolactDashboardPage *page);

/**
 * The sign-in page: a form POSTing "user", "password" and the hidden "csrf"
 * (= CSRF) to /login; MESSAGE (may be NULL) is shown as an error, e.g.
 * "Wrong user name or password.". g_free it.
 */
char *volact_dashboard_login_page (const char *message, const char *csrf);

/**
 * Appends TEXT to OUT escaped for HTML text and for quoted attribute values
 * (& < > " ' become references; control characters, which HTML forbids,
 * become U+FFFD). TEXT NULL appends nothing.
 */
void volact_dashboard_escape (GString *out, const char *text);

G_END_DECLS

#endif
