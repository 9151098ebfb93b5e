/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactctl: administers a running volactd the way slmgr.vbs administers a KMS host. */
#include "config.h"

#include "volact-admin-proto.h"
#include "volact-commands.h"
#include "volact-config.h"
#include "volactctl-remote.h"
#include "volactctl-user.h"
#include "volact-error.h"
#include "volact-json.h"
#include "volact-records.h"

#include <gio/gunixsocketaddress.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage (FILE *out)
{
  gsize n;
  const VolactCommand *cmds = volact_commands (&n);
  fprintf (out, "Usage: volactctl [--socket PATH] [--json] COMMAND [ARGS]\n"
                "       volactctl --remote https://HOST:PORT [--user NAME] [--ca FILE | --pin SHA256]\n"
                "                 [--password-fd N] [--json] COMMAND [ARGS]\n"
                "Commands are also accepted as /COMMAND or -COMMAND (slmgr style).\n\n");
  for (gsize i = 0; i < n; i++) {
    g_autofree char *left = g_strdup_printf ("%s %s", cmds[i].name, cmds[i].args);
    fprintf (out, "  %-28s %s\n", left, cmds[i].summary);
  }
}

static guint32
reply_code (GVariantDict *d)
{
  guint32 code = (guint32) VOLACT_E_FAILED;
  g_variant_dict_lookup (d, "code", "u", &code);
  return code;
}

static const char *
lookup_str (GVariantDict *d, const char *key, const char *def)
{
  const char *s = def;
  g_variant_dict_lookup (d, key, "&s", &s);
  return s;
}

static guint
lookup_uint (GVariantDict *d, const char *key)
{
  guint v = 0;
  g_variant_dict_lookup (d, key, "u", &v);
  return v;
}

static gboolean
lookup_bool (GVariantDict *d, const char *key)
{
  gboolean v = FALSE;
  g_variant_dict_lookup (d, key, "b", &v);
  return v;
}

/* KEY's value if all count pools share it (0: they differ), else one line per pool (KEY + "s"). */
static void
print_interval (GVariantDict *d, const char *key, const char *title)
{
  g_autofree char *per_pool_key = g_strconcat (key, "s", NULL);
  g_autoptr (GVariant) per_pool = g_variant_dict_lookup_value (d, per_pool_key, G_VARIANT_TYPE ("a{su}"));
  GVariantIter iter;
  const char *pool;
  guint32 minutes;

  if (lookup_uint (d, key) != 0 || per_pool == NULL) {
    printf ("%s: %u minutes\n", title, lookup_uint (d, key));
    return;
  }
  g_variant_iter_init (&iter, per_pool);
  while (g_variant_iter_next (&iter, "{&su}", &pool, &minutes))
    printf ("%s (%s): %u minutes\n", title, pool, minutes);
}

static char *format_time (gint64 t);

/* The setting, then what really happened in each zone (docs/dns.md). */
static void
print_dns (GVariantDict *d)
{
  g_autoptr (GVariant) status = g_variant_dict_lookup_value (d, "dns_status", G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *z;

  printf ("DNS Publishing: %s\n", lookup_bool (d, "dns_publishing") ? "Enabled" : "Disabled");
  if (status == NULL || g_variant_n_children (status) == 0) {
    if (lookup_bool (d, "dns_publishing"))
      printf ("DNS record: none published (no dns-zones are configured)\n");
    return;
  }
  g_variant_iter_init (&iter, status);
  while ((z = g_variant_iter_next_value (&iter)) != NULL) {
    g_autoptr (GVariantDict) zd = g_variant_dict_new (z);
    const char *result = lookup_str (zd, "result", "pending");
    const char *last = lookup_str (zd, "last_result", "");
    const char *record = lookup_str (zd, "record", "");
    const char *server = lookup_str (zd, "server", "?");
    gint64 t = 0;
    g_autofree char *when = NULL;
    g_variant_dict_lookup (zd, "time", "x", &t);
    when = format_time (t);
    if (g_str_equal (last, "published"))
      printf ("DNS record: published %s to %s at %s", record, server, when);
    else if (g_str_equal (last, "removed"))
      printf ("DNS record: removed %s from %s at %s", record, server, when);
    else if (g_str_equal (last, "failed")) {
      gint64 retry = 0;
      printf ("DNS record: %s failed at %s: %s", record, when, lookup_str (zd, "error", ""));
      if (g_variant_dict_lookup (zd, "retry_at", "x", &retry)) {
        g_autofree char *next = format_time (retry);
        printf ("; next attempt at %s", next);
      }
    }
    else if (g_str_equal (result, "waiting"))
      printf ("DNS record: %s not published until the host is activated", record);
    else
      printf ("DNS record: %s not updated yet", record);
    printf ("%s\n", g_str_equal (result, "pending") && *last ? " (an update is running)" : "");
    g_variant_unref (z);
  }
}

/* Where the client records are kept (docs/store.md). */
static void
print_store (GVariantDict *d)
{
  const char *store = lookup_str (d, "store", "sqlite");

  if (g_str_equal (store, "sqlite")) {
    printf ("Record store: this host alone (SQLite)\n");
    return;
  }
  printf ("Record store: shared (PostgreSQL) as %s: %s\n", lookup_str (d, "store_host_name", "?"),
          g_str_equal (lookup_str (d, "store_state", ""), "degraded")
              ? "DEGRADED, the database cannot take records: answering from the last known count "
                "plus this host's new machines (docs/store.md)"
              : "counting with the other hosts of the pool");
}

/* License files the host refused at its last load, and what they leave unserved. */
static void
print_refused (GVariantDict *d)
{
  g_autoptr (GVariant) files
      = g_variant_dict_lookup_value (d, "refused_files", G_VARIANT_TYPE ("aa{ss}"));
  g_autoptr (GVariant) entries
      = g_variant_dict_lookup_value (d, "not_served", G_VARIANT_TYPE ("as"));
  GVariantIter iter;
  GVariant *file;
  const char *entry;

  if (files != NULL) {
    g_variant_iter_init (&iter, files);
    while ((file = g_variant_iter_next_value (&iter)) != NULL) {
      const char *reason = "";
      g_variant_lookup (file, "reason", "&s", &reason);
      printf ("Refused license file: %s\n", reason);
      g_variant_unref (file);
    }
  }
  if (entries != NULL) {
    g_variant_iter_init (&iter, entries);
    while (g_variant_iter_next (&iter, "&s", &entry))
      printf ("Not served: %s\n", entry);
  }
}

/* slmgr.vbs /dli's layout (KMS operations guide); /dlv adds the details after it. */
static void
print_license (GVariantDict *d, gboolean verbose)
{
  g_autoptr (GVariant) counts = g_variant_dict_lookup_value (d, "current_count", G_VARIANT_TYPE ("a{su}"));

  if (verbose) {
    printf ("Software licensing service version: %s\n\n", lookup_str (d, "version", "?"));
  }
  printf ("Name: %s\n", lookup_str (d, "name", ""));
  printf ("Description: %s\n", lookup_str (d, "description", ""));
  if (verbose) {
    printf ("Key group: %s\n", lookup_str (d, "key_group_name", "(none)"));
    printf ("Installation ID: %s\n", lookup_str (d, "installation_id", "(no key installed)"));
  }
  printf ("Partial Product Key: %s\n", lookup_str (d, "partial_product_key", "(none)"));
  printf ("License Status: %s\n", lookup_str (d, "license_status", "Unlicensed"));
  if (verbose) {
    printf ("Activation: %s\n", lookup_str (d, "activation", "none"));
    printf ("Hardware fingerprint: %s\n", lookup_str (d, "fingerprint", ""));
  }
  printf ("\n");
  if (lookup_bool (d, "kms_enabled"))
    printf ("Key Management Service is enabled on this machine\n");
  else
    printf ("Key Management Service is not serving clients (%s)\n",
            lookup_str (d, "kms_disabled_reason", "the host is not activated"));
  if (counts != NULL) {
    GVariantIter iter;
    const char *pool;
    guint32 count;
    gsize n = g_variant_n_children (counts);
    g_variant_iter_init (&iter, counts);
    while (g_variant_iter_next (&iter, "{&su}", &pool, &count)) {
      if (n == 1)
        printf ("Current count: %u\n", count);
      else
        printf ("Current count (%s): %u\n", pool, count);
    }
  }
  printf ("Listening on Port: %u", lookup_uint (d, "port"));
  if (lookup_uint (d, "port_after_restart"))
    printf (" (port %u after a restart)", lookup_uint (d, "port_after_restart"));
  printf ("\n");
  print_dns (d);
  print_store (d);
  printf ("KMS priority: %s\n", lookup_str (d, "priority", "Normal"));
  print_refused (d);
  if (verbose) {
    printf ("\n");
    print_interval (d, "activation_interval", "Activation interval");
    print_interval (d, "renewal_interval", "Renewal interval");
  }
}

static const char *const state_names[] = { "OOB grace", "Licensed", "OOT grace",
                                           "Non-genuine grace", "Notification", "Unlicensed" };

static const char *
state_name (guint32 state)
{
  return state < G_N_ELEMENTS (state_names) ? state_names[state] : "unknown";
}

static char *
format_time (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}

/* A CSV field, quoted when it needs to be (RFC 4180). */
static void
print_csv_field (const char *s, gboolean last)
{
  if (strpbrk (s, ",\"\r\n") != NULL) {
    putchar ('"');
    for (const char *p = s; *p; p++) {
      if (*p == '"')
        putchar ('"');
      putchar (*p);
    }
    putchar ('"');
  } else {
    fputs (s, stdout);
  }
  putchar (last ? '\n' : ',');
}

/* How many rows matched a clients or events query (the reply may hold fewer). */
static guint64
lookup_total (GVariantDict *d)
{
  guint64 v = 0;
  g_variant_dict_lookup (d, "total", "t", &v);
  return v;
}

static void
print_clients (GVariantDict *d)
{
  g_autoptr (GVariant) rows = g_variant_dict_lookup_value (d, "clients", G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *row;
  guint n = 0;

  printf ("%-36s %-30s %-24s %-20s %-3s %s\n", "MACHINE ID", "NAME", "EDITION", "LAST SEEN",
          "VM", "NOTE");
  if (rows == NULL)
    return;
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL) {
    g_autoptr (GVariantDict) r = g_variant_dict_new (row);
    g_autofree char *seen = NULL;
    gint64 last = 0;
    gboolean dup = lookup_bool (r, "duplicate");
    g_variant_dict_lookup (r, "last_seen", "x", &last);
    seen = format_time (last);
    printf ("%-36s %-30s %-24s %-20s %-3s %s%s\n", lookup_str (r, "cmid", ""),
            lookup_str (r, "name", ""), lookup_str (r, "edition", ""), seen,
            lookup_bool (r, "vm") ? "yes" : "no", dup ? "DUPLICATE, also named " : "",
            dup ? lookup_str (r, "other_name", "?") : "");
    g_variant_unref (row);
    n++;
  }
  if (lookup_bool (d, "truncated"))
    printf ("showing the first %u of %" G_GUINT64_FORMAT " client records (most recently seen "
            "first; the reply is capped)\n",
            n, lookup_total (d));
  else
    printf ("%u client record%s\n", n, n == 1 ? "" : "s");
}

static void
print_events (GVariantDict *d)
{
  g_autoptr (GVariant) rows = g_variant_dict_lookup_value (d, "events", G_VARIANT_TYPE ("aa{sv}"));
  static const char *const columns[] = { "time", "event", "address", "machine_id", "machine_name",
                                         "edition", "license_state", "minutes_left", "vm",
                                         "minimum_count", "current_count", "result", "message" };
  gboolean csv = lookup_bool (d, "csv");
  GVariantIter iter;
  GVariant *row;
  gsize n = rows ? g_variant_n_children (rows) : 0;

  if (csv)
    for (gsize i = 0; i < G_N_ELEMENTS (columns); i++)
      print_csv_field (columns[i], i + 1 == G_N_ELEMENTS (columns));
  if (rows == NULL)
    return;
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL) {
    g_autoptr (GVariantDict) r = g_variant_dict_new (row);
    g_autofree char *when = NULL;
    gint64 t = 0;
    guint32 ev = 0, st = 0, left = 0, min = 0, count = 0, result = 0;
    char fields[6][32];
    g_variant_dict_lookup (r, "time", "x", &t);
    g_variant_dict_lookup (r, "event", "u", &ev);
    g_variant_dict_lookup (r, "state", "u", &st);
    g_variant_dict_lookup (r, "minutes_left", "u", &left);
    g_variant_dict_lookup (r, "minimum", "u", &min);
    g_variant_dict_lookup (r, "count", "u", &count);
    g_variant_dict_lookup (r, "result", "u", &result);
    when = format_time (t);
    if (ev != VOLACT_EVENT_CLIENT_REQUEST) {
      if (csv) {
        g_snprintf (fields[0], 32, "%u", ev);
        print_csv_field (when, FALSE);
        print_csv_field (fields[0], FALSE);
        for (int i = 0; i < 10; i++)
          print_csv_field ("", FALSE);
        print_csv_field (lookup_str (r, "message", ""), TRUE);
      } else {
        printf ("%s %5u %s\n", when, ev, lookup_str (r, "message", ""));
      }
      g_variant_unref (row);
      continue;
    }
    g_snprintf (fields[0], 32, "%u", ev);
    g_snprintf (fields[1], 32, "%u", left);
    g_snprintf (fields[2], 32, "%u", min);
    g_snprintf (fields[3], 32, "%u", count);
    g_snprintf (fields[4], 32, "0x%08X", result);
    if (csv) {
      print_csv_field (when, FALSE);
      print_csv_field (fields[0], FALSE);
      print_csv_field (lookup_str (r, "address", ""), FALSE);
      print_csv_field (lookup_str (r, "cmid", ""), FALSE);
      print_csv_field (lookup_str (r, "name", ""), FALSE);
      print_csv_field (lookup_str (r, "edition", ""), FALSE);
      print_csv_field (state_name (st), FALSE);
      print_csv_field (fields[1], FALSE);
      print_csv_field (lookup_bool (r, "vm") ? "virtual" : "physical", FALSE);
      print_csv_field (fields[2], FALSE);
      print_csv_field (fields[3], FALSE);
      print_csv_field (fields[4], FALSE);
      print_csv_field ("", TRUE);
    } else {
      printf ("%s %5u %s %s %s %s %s (%u min left) %s min %u count %u result %s\n", when, ev,
              lookup_str (r, "address", ""), lookup_str (r, "cmid", ""),
              lookup_str (r, "name", ""), lookup_str (r, "edition", ""), state_name (st), left,
              lookup_bool (r, "vm") ? "virtual" : "physical", min, count, fields[4]);
    }
    g_variant_unref (row);
  }
  /* In CSV the note goes to stderr, so that the file stays valid CSV. */
  if (lookup_bool (d, "truncated"))
    fprintf (csv ? stderr : stdout,
             "showing the first %" G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT
             " events (oldest first; the reply is capped): use --since for later ones\n",
             n, lookup_total (d));
}

/* A report's cell as text: integers in decimal, strings as they are. */
static char *
cell_text (GVariant *cell)
{
  g_autoptr (GVariant) v = g_variant_get_variant (cell);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (v));
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (v, NULL);
  return g_variant_print (v, FALSE);
}

/* Any report (columns + rows): a table with aligned columns, or CSV with a header line. */
static void
print_table (GVariantDict *d)
{
  g_autoptr (GVariant) rows = g_variant_dict_lookup_value (d, "rows", G_VARIANT_TYPE ("aav"));
  g_autofree const char **columns = NULL;
  gboolean csv = lookup_bool (d, "csv");
  gsize ncol = 0, nrow = rows ? g_variant_n_children (rows) : 0;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  g_autofree gsize *width = NULL;

  if (!g_variant_dict_lookup (d, "columns", "^a&s", &columns))
    return;
  ncol = g_strv_length ((char **) columns);
  width = g_new0 (gsize, ncol);
  for (gsize c = 0; c < ncol; c++)
    width[c] = strlen (columns[c]);
  for (gsize r = 0; r < nrow; r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    for (gsize c = 0; c < ncol; c++) {
      g_autoptr (GVariant) cell = c < g_variant_n_children (row) ? g_variant_get_child_value (row, c) : NULL;
      char *text = cell ? cell_text (cell) : g_strdup ("");
      width[c] = MAX (width[c], (gsize) g_utf8_strlen (text, -1));
      g_ptr_array_add (cells, text);
    }
  }
  for (gsize r = 0; r <= nrow; r++) {
    for (gsize c = 0; c < ncol; c++) {
      const char *text = r == 0 ? columns[c] : cells->pdata[(r - 1) * ncol + c];
      if (csv) {
        print_csv_field (text, c + 1 == ncol);
      } else {
        /* Padded to the column's width in characters; the last column is not padded. */
        g_autofree char *up = r == 0 ? g_ascii_strup (text, -1) : g_strdup (text);
        int pad = c + 1 == ncol ? 0 : (int) (width[c] + strlen (up) - g_utf8_strlen (up, -1));
        printf ("%-*s%s", pad, up, c + 1 == ncol ? "\n" : "  ");
      }
    }
  }
}

static void
print_reply (const VolactCommand *cmd, GVariantDict *d)
{
  const char *text = lookup_str (d, "text", NULL);

  if (g_str_equal (cmd->name, "dli") || g_str_equal (cmd->name, "dlv")) {
    print_license (d, g_str_equal (cmd->name, "dlv"));
    return;
  }
  if (g_str_equal (cmd->name, "clients")) {
    print_clients (d);
    return;
  }
  if (g_str_equal (cmd->name, "events")) {
    print_events (d);
    return;
  }
  if (g_str_equal (cmd->name, "report") || g_variant_dict_contains (d, "rows")) {
    print_table (d);
    return;
  }
  if (text != NULL) {
    fputs (text, stdout);
    if (*text && text[strlen (text) - 1] != '\n')
      fputc ('\n', stdout);
    return;
  }
  printf ("%s\n", lookup_str (d, "message", ""));
}

/* health speaks the Nagios plugin conventions (docs/monitoring.md): one status line, exit
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, also when volactd cannot be reached or refuses. */
static int
health_output (GVariantDict *d, GVariant *reply, gboolean json)
{
  guint32 status = 3;

  if (reply_code (d) == 0)
    g_variant_dict_lookup (d, "status", "u", &status);
  if (json) {
    g_autofree char *text = volact_json_from_variant (reply, TRUE);
    fputs (text, stdout);
  } else if (reply_code (d) == 0) {
    printf ("%s\n", lookup_str (d, "text", "VOLACT UNKNOWN - volactd sent no status"));
  } else {
    g_autofree char *msg = g_strdelimit (g_strdup (lookup_str (d, "message", "")), "|\n", '/');
    printf ("VOLACT UNKNOWN - %s\n", msg);
  }
  return status <= 3 ? (int) status : 3;
}

/* explain runs here: it needs no daemon. */
static GVariant *
explain (const char *arg)
{
  guint32 code;
  const char *text;
  g_autoptr (GVariantDict) d = NULL;

  if (!volact_error_parse_code (arg, &code)) {
    g_autofree char *msg = g_strdup_printf ("\"%s\" is not an error code", arg);
    return g_variant_dict_end (volact_admin_reply_new ((guint32) VOLACT_E_FAILED, msg));
  }
  text = volact_error_text (code);
  if (text == NULL) {
    g_autofree char *msg = g_strdup_printf ("0x%08X is not a code volact uses", code);
    return g_variant_dict_end (volact_admin_reply_new ((guint32) VOLACT_E_FAILED, msg));
  }
  d = volact_admin_reply_new (0, text);
  g_variant_dict_insert (d, "explained", "u", code);
  g_variant_dict_insert (d, "name", "s", volact_error_name (code));
  g_variant_dict_insert (d, "text", "s", text);
  return g_variant_dict_end (d);
}

static GVariant *
call_daemon (const char *socket_path, const VolactCommand *cmd, char **args, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (socket_path);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariant *request;

  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, error);
  if (conn == NULL) {
    g_prefix_error (error, "cannot reach volactd at %s (is it running, and may you use it?): ",
                    socket_path);
    if (error && *error) {
      (*error)->domain = VOLACT_ERROR;
      (*error)->code = VOLACT_E_IO;
    }
    return NULL;
  }
  request = g_variant_new ("(s^as)", cmd->name, args);
  if (!volact_admin_write (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                           g_variant_ref_sink (request), NULL, error)) {
    g_variant_unref (request);
    return NULL;
  }
  g_variant_unref (request);
  reply = volact_admin_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                             VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY, NULL, error);
  if (reply == NULL && error && *error == NULL)
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "volactd closed the connection without a reply");
  return g_steal_pointer (&reply);
}

/* --remote URL, --user NAME, --ca FILE, --pin SHA256, --password-fd N: *I moves past the value. */
static gboolean
remote_option (int argc, char **argv, int *i, VolactctlRemote *r)
{
  static const char *const names[] = { "--remote", "--user", "--ca", "--pin", "--password-fd" };
  const char *a = argv[*i];
  guint64 fd;

  for (gsize k = 0; k < G_N_ELEMENTS (names); k++) {
    if (!g_str_equal (a, names[k]) || *i + 1 >= argc)
      continue;
    a = argv[++*i];
    switch (k) {
      case 0: r->url = a; break;
      case 1: r->user = a; break;
      case 2: r->ca = a; break;
      case 3: r->pin = a; break;
      default:
        if (!g_ascii_string_to_unsigned (a, 10, 0, G_MAXINT, &fd, NULL)) {
          fprintf (stderr, "volactctl: --password-fd %s: not a file descriptor\n", a);
          exit (2);
        }
        r->password_fd = (int) fd;
    }
    return TRUE;
  }
  return FALSE;
}

int
main (int argc, char **argv)
{
  g_autoptr (VolactConfig) defaults = volact_config_new_default ();
  g_autofree char *socket_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantDict) d = NULL;
  gboolean json = FALSE;
  const VolactCommand *cmd = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  VolactctlRemote remote = { .password_fd = -1 };
  guint32 code;
  int i;

  setlocale (LC_ALL, "");
  socket_path = g_strdup (g_getenv ("VOLACT_ADMIN_SOCKET") ? g_getenv ("VOLACT_ADMIN_SOCKET")
                                                          : defaults->admin_socket);
  for (i = 1; i < argc && cmd == NULL; i++) {
    const char *a = argv[i];
    if (g_str_equal (a, "--json")) {
      json = TRUE;
    } else if (g_str_equal (a, "--socket") && i + 1 < argc) {
      g_free (socket_path);
      socket_path = g_strdup (argv[++i]);
    } else if (g_str_has_prefix (a, "--socket=")) {
      g_free (socket_path);
      socket_path = g_strdup (a + strlen ("--socket="));
    } else if (remote_option (argc, argv, &i, &remote)) {
      continue;
    } else if (g_str_equal (a, "--help") || g_str_equal (a, "-h") || g_str_equal (a, "/?")) {
      usage (stdout);
      return EXIT_SUCCESS;
    } else if (g_str_equal (a, "--version")) {
      printf ("volactctl %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    } else {
      cmd = volact_command_find (a);
      if (cmd == NULL) {
        fprintf (stderr, "volactctl: unknown command \"%s\"\n\n", a);
        usage (stderr);
        return 2;
      }
    }
  }
  if (cmd == NULL) {
    usage (stderr);
    return 2;
  }
  /* After the command, everything but --json belongs to it (events --since ... --csv). */
  for (; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else
      g_ptr_array_add (args, argv[i]);
  }
  if (args->len < cmd->min_args || args->len > cmd->max_args) {
    fprintf (stderr, "volactctl: usage: volactctl %s %s\n", cmd->name, cmd->args);
    return g_str_equal (cmd->name, "health") ? 3 : 2; /* Nagios: a usage error is UNKNOWN */
  }
  g_ptr_array_add (args, NULL);

  if (remote.url != NULL && !cmd->local)
    reply = volactctl_remote_call (&remote, cmd, (const char *const *) args->pdata, &error);
  else if (cmd->local && g_str_equal (cmd->name, "user"))
    reply = g_variant_ref_sink (volactctl_user ((const char *const *) args->pdata));
  else if (cmd->local)
    reply = g_variant_ref_sink (explain (args->pdata[0]));
  else
    reply = call_daemon (socket_path, cmd, (char **) args->pdata, &error);
  if (reply == NULL)
    reply = g_variant_ref_sink (volact_admin_reply_error (error));

  d = g_variant_dict_new (reply);
  code = reply_code (d);
  if (g_str_equal (cmd->name, "health"))
    return health_output (d, reply, json);
  if (json) {
    g_autofree char *text = volact_json_from_variant (reply, TRUE);
    fputs (text, stdout);
  } else if (code == 0) {
    print_reply (cmd, d);
  } else {
    fprintf (stderr, "Error: 0x%08X %s\n", code, lookup_str (d, "message", ""));
    if (volact_error_text (code) && !strstr (lookup_str (d, "message", ""), volact_error_text (code)))
      fprintf (stderr, "       %s\n", volact_error_text (code));
  }
  return code == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
