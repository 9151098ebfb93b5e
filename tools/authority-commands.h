/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to volact-authority: what the command files share with the option
 * parsing and dispatch in volact-authority.c.
 */
#ifndef VOLACT_AUTHORITY_COMMANDS_H
#define VOLACT_AUTHORITY_COMMANDS_H

#include <glib.h>

G_BEGIN_DECLS

#define EXIT_USAGE 2

#define AUTHORITY_KEY "authority.key"
#define AUTHORITY_CERT "authority.pem"

/* One run of the tool. */
typedef struct {
  const char *dir;
  gboolean json;
  GString *out; /* the JSON document being built; main prints it at the end */
} Authority;

/* Appends S as a JSON string literal. */
void authority_json_string (GString *out, const char *s);

/*
 * Ends a command that failed as a whole: the JSON error document, or on
 * stderr "volact-authority: error 0xXXXXXXXX: message" and the code's text.
 * Returns EXIT_FAILURE.
 */
int authority_fail (Authority *a, const char *command, const GError *error);

/* DIR/NAME, to be freed. */
char *authority_file (Authority *a, const char *name);

/* Fails with VOLACT_E_IO unless DIR holds an authority (init was run). */
gboolean authority_check_initialised (Authority *a, GError **error);

/* authority-keys.c: issue-key and limits. */
extern const GOptionEntry authority_issue_key_entries[];
extern const GOptionEntry authority_limits_entries[];
int authority_cmd_issue_key (Authority *a, int argc, char **argv);
int authority_cmd_limits (Authority *a, int argc, char **argv);

/* authority-confirm.c: confirm (telephone) and serve (online), one activation path. */
extern const GOptionEntry authority_serve_entries[];
int authority_cmd_confirm (Authority *a, int argc, char **argv);
int authority_cmd_serve (Authority *a, int argc, char **argv);

G_END_DECLS

#endif
