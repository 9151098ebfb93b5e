/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The users file of the web listener (docs/web.md): one user a line,
 * `NAME:ROLE:HASH`, ROLE `admin` or `read-only`, HASH a salted scrypt hash
 * `$scrypt$ln=15,r=8,p=1$SALT$KEY` (base64). No user exists until an
 * administrator adds one (`volactctl user add`): there is no default password.
 * The file holds hashes only, is written atomically with mode 0600, and is
 * refused when others may read or write it.
 */
#ifndef VOLACT_USERS_H
#define VOLACT_USERS_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VOLACT_ROLE_READ_ONLY, /* dli, dlv, clients, events, report, health, the dashboard, /metrics */
  VOLACT_ROLE_ADMIN,     /* everything */
} VolactRole;

typedef struct _VolactUsers VolactUsers;

/** An empty list (for a file that does not exist yet). */
VolactUsers *volact_users_new (void);
/**
 * Reads PATH. Errors name the file and line: a malformed line, an unknown
 * role, a hash that is not a bounded scrypt hash, a duplicate user, a file
 * others may read or write (CONFIG, PERMISSION). A missing file is an IO
 * error; callers that accept one check g_file_test first.
 */
VolactUsers *volact_users_load (const char *path, GError **error);
void volact_users_free (VolactUsers *users);
/** Writes USERS to PATH atomically, mode 0600. */
gboolean volact_users_save (VolactUsers *users, const char *path, GError **error);

/** Adds or replaces NAME with ROLE and a new hash of PASSWORD. */
gboolean volact_users_set (VolactUsers *users, const char *name, VolactRole role,
                           const char *password, GError **error);
/** Changes NAME's password, keeping its role; an unknown NAME is an error. */
gboolean volact_users_set_password (VolactUsers *users, const char *name, const char *password,
                                    GError **error);
/** Removes NAME; FALSE and ERROR when there is no such user. */
gboolean volact_users_remove (VolactUsers *users, const char *name, GError **error);
/** The names, in file order: a new array of strings owned by USERS until it changes. */
GPtrArray *volact_users_names (VolactUsers *users);
/** NAME's role and stored hash (a copy in *HASH), or FALSE when there is no such user. */
gboolean volact_users_lookup (VolactUsers *users, const char *name, VolactRole *role,
                              char **hash);

/** Whether NAME is a valid user name: 1..64 of letters, digits, '.', '_', '-', '@'. */
gboolean volact_users_valid_name (const char *name);
/** A role's name in the file, and back. */
const char *volact_role_name (VolactRole role);
gboolean volact_role_parse (const char *text, VolactRole *role);

/** A new salted scrypt hash of PASSWORD (slow on purpose: about 0.1 s and 32 MiB). */
char *volact_password_hash (const char *password, GError **error);
/**
 * Whether PASSWORD matches HASH, compared in constant time. HASH NULL still
 * spends one hash's time, so that unknown users cannot be told from wrong
 * passwords by timing.
 */
gboolean volact_password_check (const char *hash, const char *password);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactUsers, volact_users_free)

G_END_DECLS

#endif
