/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-authority: the vendor side. It owns the authority key pair in DIR,
 * signs license data with it, issues host keys and activates hosts. See
 * volact-authority(8).
 *
 *   volact-authority --dir DIR [--json] init [--name CN] [--days N]
 *   volact-authority --dir DIR [--json] sign FILE...
 *   volact-authority --dir DIR [--json] verify FILE...
 *   volact-authority --dir DIR [--json] issue-key --group G [--max-hosts N]
 *                                         [--max-activations N]
 *   volact-authority --dir DIR [--json] limits KEY [--max-hosts N] [--max-activations N]
 *   volact-authority --dir DIR [--json] confirm IID...
 *   volact-authority --dir DIR serve --listen ADDR:PORT
 *
 * This file holds option parsing, output helpers, init/sign/verify and the
 * command table; issue-key and limits are in authority-keys.c, confirm and
 * serve in authority-confirm.c (authority-commands.h is what they share).
 */
#include "config.h"

#include "authority-commands.h"
#include "authority-sign.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-license.h"
#include "volact-xml.h"
#include "volact-xmlsig.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>

/* Options every command accepts, before or after the command name. */
static char *opt_dir;
static gboolean opt_json;

static const GOptionEntry common_entries[]
    = { { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_dir,
          "The authority folder (authority.key, authority.pem)", "DIR" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable output", NULL },
        { NULL } };

typedef struct {
  const char *name;
  const char *args;
  const char *summary;
  const GOptionEntry *entries; /* the command's own options, or NULL */
  int (*run) (Authority *a, int argc, char **argv);
} Command;

/* Output */

static guint32
error_code (const GError *error)
{
  return error->domain == VOLACT_ERROR ? (guint32) error->code : (guint32) VOLACT_E_FAILED;
}

void
authority_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (char) *p);
    }
  }
  g_string_append_c (out, '"');
}

/* "error": {"code": "0x...", "name": ..., "text": ..., "message": ...} */
static void
json_error (GString *out, const GError *error)
{
  guint32 code = error_code (error);
  g_autofree char *hex = g_strdup_printf ("0x%08X", code);

  g_string_append (out, "\"error\": {\"code\": ");
  authority_json_string (out, hex);
  g_string_append (out, ", \"name\": ");
  authority_json_string (out, volact_error_name (code));
  g_string_append (out, ", \"text\": ");
  authority_json_string (out, volact_error_text (code));
  g_string_append (out, ", \"message\": ");
  authority_json_string (out, error->message);
  g_string_append (out, "}");
}

/* Text form of a per-file failure: the message (which names the file), then code and text. */
static void
print_error (const GError *error)
{
  guint32 code = error_code (error);

  fprintf (stderr, "%s\n  error 0x%08X %s: %s\n", error->message, code,
           volact_error_name (code) ? volact_error_name (code) : "?",
           volact_error_text (code) ? volact_error_text (code) : "");
}

int
authority_fail (Authority *a, const char *command, const GError *error)
{
  if (a->json) {
    g_string_truncate (a->out, 0);
    g_string_append (a->out, "{\"command\": ");
    authority_json_string (a->out, command);
    g_string_append (a->out, ", \"ok\": false, ");
    json_error (a->out, error);
    g_string_append (a->out, "}\n");
  } else {
    guint32 code = error_code (error);

    /* Flush first so the error follows any output in a terminal. */
    fflush (stdout);
    fprintf (stderr, "volact-authority: error 0x%08X: %s\n  %s: %s\n", code, error->message,
             volact_error_name (code) ? volact_error_name (code) : "?",
             volact_error_text (code) ? volact_error_text (code) : "");
  }
  return EXIT_FAILURE;
}

char *
authority_file (Authority *a, const char *name)
{
  return g_build_filename (a->dir, name, NULL);
}

gboolean
authority_check_initialised (Authority *a, GError **error)
{
  g_autofree char *key_path = authority_file (a, AUTHORITY_KEY);

  if (!g_file_test (key_path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: no authority here (%s is missing); run \"volact-authority --dir %s init\" "
                 "first",
                 a->dir, AUTHORITY_KEY, a->dir);
    return FALSE;
  }
  return TRUE;
}

/* init */

static char *opt_name;
static int opt_days = 3650;

static const GOptionEntry init_entries[]
    = { { "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name,
          "Common name of the authority certificate (default \"volact authority\")", "CN" },
        { "days", 0, 0, G_OPTION_ARG_INT, &opt_days, "Validity of the certificate (default 3650)",
          "DAYS" },
        { NULL } };

static int
cmd_init (Authority *a, int argc, char **argv)
{
  g_autofree char *key_path = authority_file (a, AUTHORITY_KEY);
  g_autofree char *cert_path = authority_file (a, AUTHORITY_CERT);
  g_autofree char *fingerprint = NULL;
  g_autofree char *subject = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  const char *name = opt_name ? opt_name : "volact authority";

  if (argc > 1) {
    fprintf (stderr, "volact-authority: init takes no arguments\n");
    return EXIT_USAGE;
  }
  if (opt_days < 1 || opt_days > 36500 || *name == '\0' || strlen (name) > 64) {
    fprintf (stderr, "volact-authority: --days must be 1..36500 and --name 1..64 bytes\n");
    return EXIT_USAGE;
  }
  if (g_mkdir_with_parents (a->dir, 0700) != 0) {
    int saved = errno;
    g_set_error (&error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create the folder: %s", a->dir,
                 g_strerror (saved));
    return authority_fail (a, "init", error);
  }
  /* An authority keeps its key for life: never replace either half of the pair. */
  if (g_file_test (key_path, G_FILE_TEST_EXISTS) || g_file_test (cert_path, G_FILE_TEST_EXISTS)) {
    g_set_error (&error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: already holds an authority (%s or %s exists); refusing to overwrite it",
                 a->dir, AUTHORITY_KEY, AUTHORITY_CERT);
    return authority_fail (a, "init", error);
  }
  key = volact_crypto_generate_ec_key (&error);
  if (key == NULL)
    return authority_fail (a, "init", error);
  cert = volact_crypto_make_ca_certificate (key, name, (guint) opt_days, &error);
  if (cert == NULL)
    return authority_fail (a, "init", error);
  if (!volact_crypto_write_private_key (key_path, key, &error))
    return authority_fail (a, "init", error);
  if (!volact_crypto_write_certificate (cert_path, cert, &error)) {
    g_unlink (key_path); /* ours, just created: leave no half authority behind */
    return authority_fail (a, "init", error);
  }

  fingerprint = volact_crypto_fingerprint (cert);
  subject = volact_crypto_subject (cert);
  if (a->json) {
    g_string_append (a->out, "{\"command\": \"init\", \"ok\": true, \"dir\": ");
    authority_json_string (a->out, a->dir);
    g_string_append (a->out, ", \"key\": ");
    authority_json_string (a->out, key_path);
    g_string_append (a->out, ", \"certificate\": ");
    authority_json_string (a->out, cert_path);
    g_string_append (a->out, ", \"subject\": ");
    authority_json_string (a->out, subject);
    g_string_append (a->out, ", \"sha256_fingerprint\": ");
    authority_json_string (a->out, fingerprint);
    g_string_append (a->out, "}\n");
  } else {
    printf ("Created the authority key %s (EC P-256, mode 0600)\n", key_path);
    printf ("Created the authority certificate %s\n", cert_path);
    printf ("  subject: %s\n  SHA-256 fingerprint: %s\n", subject, fingerprint);
    printf ("Hosts trust this authority with: trust = %s\n", cert_path);
  }
  return EXIT_SUCCESS;
}

/* sign and verify: one result per file */

typedef struct {
  Authority *a;
  const char *command;
  guint failed;
  gboolean first;
} FileReport;

static void
report_begin (FileReport *r, Authority *a, const char *command)
{
  r->a = a;
  r->command = command;
  r->failed = 0;
  r->first = TRUE;
  if (a->json) {
    g_string_append (a->out, "{\"command\": ");
    authority_json_string (a->out, command);
    g_string_append (a->out, ", \"files\": [");
  }
}

/* Reports FILE: OK_TEXT when ERROR is NULL, else the error. */
static void
report_file (FileReport *r, const char *file, const char *ok_text, const GError *error)
{
  if (error != NULL)
    r->failed++;
  if (r->a->json) {
    g_string_append (r->a->out, r->first ? "\n  {\"file\": " : ",\n  {\"file\": ");
    authority_json_string (r->a->out, file);
    g_string_append_printf (r->a->out, ", \"ok\": %s", error ? "false" : "true");
    if (error != NULL) {
      g_string_append (r->a->out, ", ");
      json_error (r->a->out, error);
    }
    g_string_append (r->a->out, "}");
  } else if (error == NULL) {
    printf ("%s: %s\n", file, ok_text);
  } else {
    fflush (stdout);
    /* Messages name their file; say which file only when this one does not. */
    if (!g_str_has_prefix (error->message, file))
      fprintf (stderr, "%s: FAILED\n", file);
    print_error (error);
  }
  r->first = FALSE;
}

static int
report_end (FileReport *r)
{
  if (r->a->json)
    g_string_append_printf (r->a->out, "\n], \"ok\": %s, \"failed\": %u}\n",
                            r->failed ? "false" : "true", r->failed);
  return r->failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static gboolean
need_files (int argc, const char *command)
{
  if (argc < 2) {
    fprintf (stderr, "volact-authority: %s needs at least one FILE\n", command);
    return FALSE;
  }
  return TRUE;
}

/*
 * Signs FILE in place: safe read, sign, validate the signed document against
 * its schema (so broken data is never signed), check that the result
 * verifies with the authority certificate, then replace the file atomically.
 */
static gboolean
sign_file (const char *file, const char *key_path, const char *cert_path, const VolactTrust *self,
           GError **error)
{
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlDoc) check = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) text = NULL;
  xmlChar *out = NULL;
  int out_len = 0;
  struct stat st;
  gboolean ok;

  if (g_stat (file, &st) != 0)
    st.st_mode = 0644;
  doc = volact_license_read (file, error);
  if (doc == NULL)
    return FALSE;
  if (!volact_xmlsig_sign (doc, key_path, cert_path, error))
    return FALSE;
  if (volact_license_validate (doc, file, error) == NULL)
    return FALSE;

  xmlDocDumpMemoryEnc (doc, &out, &out_len, "UTF-8");
  if (out == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: cannot serialise", file);
    return FALSE;
  }
  if ((guint) out_len > VOLACT_LICENSE_MAX_BYTES) {
    xmlFree (out);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s: signed, it would have %d bytes; hosts accept at most %u", file, out_len,
                 VOLACT_LICENSE_MAX_BYTES);
    return FALSE;
  }
  /* What hosts will read is the serialised form: verify exactly that. */
  check = volact_xml_parse ((const char *) out, (gsize) out_len, file, error);
  if (check == NULL || !volact_xmlsig_verify (check, self, file, error)) {
    xmlFree (out);
    return FALSE;
  }
  /* A final line break (outside the root, so outside what is signed) keeps it a text file. */
  text = g_string_new_len ((const char *) out, out_len);
  xmlFree (out);
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append_c (text, '\n');
  ok = g_file_set_contents_full (file, text->str, (gssize) text->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, (int) (st.st_mode & 0777), &local);
  if (!ok) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", file, local->message);
    return FALSE;
  }
  return TRUE;
}

static int
cmd_sign (Authority *a, int argc, char **argv)
{
  g_autofree char *key_path = authority_file (a, AUTHORITY_KEY);
  g_autofree char *cert_path = authority_file (a, AUTHORITY_CERT);
  g_autoptr (VolactTrust) self = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  FileReport r;

  if (!need_files (argc, "sign"))
    return EXIT_USAGE;
  /* Check the key pair once, so a missing authority is one clear error. */
  key = volact_crypto_load_private_key (key_path, &error);
  if (key == NULL || (self = volact_trust_load (cert_path, &error)) == NULL) {
    g_prefix_error (&error, "no usable authority in %s (run init first?): ", a->dir);
    return authority_fail (a, "sign", error);
  }

  report_begin (&r, a, "sign");
  for (int i = 1; i < argc; i++) {
    g_clear_error (&error);
    sign_file (argv[i], key_path, cert_path, self, &error);
    report_file (&r, argv[i], "signed", error);
  }
  return report_end (&r);
}

static int
cmd_verify (Authority *a, int argc, char **argv)
{
  g_autofree char *cert_path = authority_file (a, AUTHORITY_CERT);
  g_autoptr (VolactTrust) trust = NULL;
  g_autoptr (GError) error = NULL;
  FileReport r;

  if (!need_files (argc, "verify"))
    return EXIT_USAGE;
  trust = volact_trust_load (cert_path, &error);
  if (trust == NULL)
    return authority_fail (a, "verify", error);

  report_begin (&r, a, "verify");
  for (int i = 1; i < argc; i++) {
    g_autoptr (VolactLicense) lic = NULL;
    g_clear_error (&error);
    lic = volact_license_load (argv[i], trust, &error);
    report_file (&r, argv[i], "OK", error);
  }
  return report_end (&r);
}

/* The command table */

static const Command commands[] = {
  { "init", "", "Create the authority key pair and certificate in DIR", init_entries, cmd_init },
  { "sign", "FILE...", "Validate and sign license files in place", NULL, cmd_sign },
  { "verify", "FILE...", "Check license files as a host trusting DIR would", NULL, cmd_verify },
  { "issue-key", "--group G [LIMITS]", "Issue a host key and record it in the ledger",
    authority_issue_key_entries, authority_cmd_issue_key },
  { "limits", "KEY [LIMITS]", "Show or change the limits of an issued key",
    authority_limits_entries, authority_cmd_limits },
  { "confirm", "IID...", "Turn an Installation ID into a Confirmation ID (telephone activation)",
    NULL, authority_cmd_confirm },
  { "serve", "--listen ADDR:PORT", "Serve online activation", authority_serve_entries,
    authority_cmd_serve },
};

static char *
commands_help (void)
{
  GString *s = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_autofree char *usage = g_strdup_printf ("%s %s", commands[i].name, commands[i].args);
    g_string_append_printf (s, "  %-28s %s\n", usage, commands[i].summary);
  }
  g_string_append (s, "\nLIMITS: --max-hosts N (default 6) --max-activations N (default 10, "
                      "at most 255)\n");
  g_string_append (s, "\nExit status: 0 success, 1 failure (the error code is printed), "
                      "2 usage error.\nSee volact-authority(8).\n");
  return g_string_free (s, FALSE);
}

static const Command *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* Parses the command's own options (and the common ones again) from ARGV[0] = command. */
static gboolean
parse_command_options (const Command *cmd, int *argc, char ***argv, GError **error)
{
  g_autofree char *param = g_strdup_printf ("%s %s", cmd->name, cmd->args);
  g_autoptr (GOptionContext) ctx = g_option_context_new (param);

  g_option_context_set_summary (ctx, cmd->summary);
  /* A command that is not there yet reports so, whatever its arguments. */
  g_option_context_set_ignore_unknown_options (ctx, cmd->run == NULL);
  g_option_context_add_main_entries (ctx, common_entries, NULL);
  if (cmd->entries != NULL)
    g_option_context_add_main_entries (ctx, cmd->entries, NULL);
  return g_option_context_parse (ctx, argc, argv, error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND [ARGS...]");
  g_autoptr (GError) error = NULL;
  g_autofree char *help = commands_help ();
  Authority a = { 0 };
  const Command *cmd;
  int cmd_argc, status;
  char **cmd_argv;

  setlocale (LC_ALL, "");
  g_option_context_set_summary (ctx, "The volact authority: keys and signed license data.");
  g_option_context_set_description (ctx, help);
  g_option_context_add_main_entries (ctx, common_entries, NULL);
  /* Stop at the command name; what follows belongs to the command. */
  g_option_context_set_strict_posix (ctx, TRUE);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "volact-authority: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (argc < 2) {
    fprintf (stderr, "volact-authority: no command given\n%s", help);
    return EXIT_USAGE;
  }
  cmd = find_command (argv[1]);
  if (cmd == NULL) {
    fprintf (stderr, "volact-authority: unknown command \"%s\"\n%s", argv[1], help);
    return EXIT_USAGE;
  }
  cmd_argc = argc - 1;
  cmd_argv = argv + 1;
  if (!parse_command_options (cmd, &cmd_argc, &cmd_argv, &error)) {
    fprintf (stderr, "volact-authority: %s: %s\n", cmd->name, error->message);
    return EXIT_USAGE;
  }
  if (opt_dir == NULL || *opt_dir == '\0') {
    fprintf (stderr, "volact-authority: --dir DIR is required\n");
    return EXIT_USAGE;
  }

  a.dir = opt_dir;
  a.json = opt_json;
  a.out = g_string_new (NULL);
  if (!volact_xmlsig_init (&error)) {
    status = authority_fail (&a, cmd->name, error);
  } else {
    status = cmd->run (&a, cmd_argc, cmd_argv);
  }
  if (a.json)
    fputs (a.out->str, stdout);
  g_string_free (a.out, TRUE);
  return status;
}
