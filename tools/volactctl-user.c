/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactctl user: the web listener's users file (docs/web.md), edited here, not through volactd. */
#include "config.h"

#include "volactctl-user.h"

#include "volactctl-password.h"

#include "volact-admin-proto.h"
#include "volact-config.h"
#include "volact-error.h"
#include "volact-users.h"

#include <openssl/crypto.h>
#include <string.h>

#define USER_USAGE                                                                                 \
  "usage: user add NAME [--role admin|read-only] | user passwd NAME | user del NAME | user list; " \
  "options --password-fd N, --users-file PATH"

static GVariant *
fail (GError *error)
{
  return volact_admin_reply_error (error);
}

/* The new password: the first line of FD, or asked twice on the terminal; 8 characters at least. */
static char *
new_password (int fd, GError **error)
{
  char *password = volactctl_password_read (fd, TRUE, error);

  if (password != NULL && strlen (password) < 8) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "a password needs at least 8 characters");
    OPENSSL_cleanse (password, strlen (password));
    g_clear_pointer (&password, g_free);
  }
  return password;
}

static GVariant *
list (VolactUsers *users)
{
  g_autoptr (GPtrArray) names = volact_users_names (users);
  g_autoptr (GVariantDict) d = volact_admin_reply_new (0, "");
  GVariantBuilder rows;
  const char *columns[] = { "user", "role", NULL };

  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aav"));
  for (guint i = 0; i < names->len; i++) {
    VolactRole role = VOLACT_ROLE_READ_ONLY;
    volact_users_lookup (users, names->pdata[i], &role, NULL);
    g_variant_builder_open (&rows, G_VARIANT_TYPE ("av"));
    g_variant_builder_add (&rows, "v", g_variant_new_string (names->pdata[i]));
    g_variant_builder_add (&rows, "v", g_variant_new_string (volact_role_name (role)));
    g_variant_builder_close (&rows);
  }
  g_variant_dict_insert (d, "columns", "^as", columns);
  g_variant_dict_insert_value (d, "rows", g_variant_builder_end (&rows));
  return g_variant_dict_end (d);
}

GVariant *
volactctl_user (const char *const *args)
{
  g_autoptr (VolactConfig) defaults = volact_config_new_default ();
  g_autoptr (VolactUsers) users = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup (defaults->web_users);
  g_autofree char *password = NULL;
  g_autofree char *message = NULL;
  const char *verb = args[0], *name = NULL;
  VolactRole role = VOLACT_ROLE_READ_ONLY;
  int fd = -1;

  for (guint i = 1; args[i] != NULL; i++) {
    if (g_str_equal (args[i], "--role") && args[i + 1] != NULL) {
      if (!volact_role_parse (args[++i], &role)) {
        g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED,
                     "--role %s: a role is admin or read-only", args[i]);
        return fail (error);
      }
    } else if (g_str_equal (args[i], "--password-fd") && args[i + 1] != NULL) {
      guint64 n;
      if (!g_ascii_string_to_unsigned (args[++i], 10, 0, G_MAXINT, &n, NULL)) {
        g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED,
                     "--password-fd %s: not a file descriptor", args[i]);
        return fail (error);
      }
      fd = (int) n;
    } else if (g_str_equal (args[i], "--users-file") && args[i + 1] != NULL) {
      g_free (path);
      path = g_strdup (args[++i]);
    } else if (name == NULL && args[i][0] != '-') {
      name = args[i];
    } else {
      g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED, USER_USAGE);
      return fail (error);
    }
  }
  if (verb == NULL || (!g_str_equal (verb, "list") && name == NULL)
      || !g_strv_contains ((const char *const[]){ "add", "passwd", "del", "list", NULL }, verb)) {
    g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED, USER_USAGE);
    return fail (error);
  }
  users = g_file_test (path, G_FILE_TEST_EXISTS) || !g_str_equal (verb, "add")
              ? volact_users_load (path, &error)
              : volact_users_new ();
  if (users == NULL)
    return fail (error);
  if (g_str_equal (verb, "list"))
    return list (users);
  if (g_str_equal (verb, "del")) {
    if (!volact_users_remove (users, name, &error))
      return fail (error);
    message = g_strdup_printf ("Removed user %s from %s.", name, path);
  } else {
    gboolean exists = volact_users_lookup (users, name, NULL, NULL);
    if (g_str_equal (verb, "add") && exists) {
      g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "user %s exists already (volactctl user passwd %s changes the password)",
                   name, name);
      return fail (error);
    }
    if (!volact_users_valid_name (name)) {
      g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "\"%s\" is not a user name (1 to 64 letters, digits, '.', '_', '-' or '@')",
                   name);
      return fail (error);
    }
    if (g_str_equal (verb, "passwd") && !exists) {
      g_set_error (&error, VOLACT_ERROR, VOLACT_E_FAILED, "no user %s in %s", name, path);
      return fail (error);
    }
    password = new_password (fd, &error);
    if (password == NULL)
      return fail (error);
    if (!(g_str_equal (verb, "add") ? volact_users_set (users, name, role, password, &error)
                                    : volact_users_set_password (users, name, password, &error))) {
      OPENSSL_cleanse (password, strlen (password));
      return fail (error);
    }
    OPENSSL_cleanse (password, strlen (password));
    volact_users_lookup (users, name, &role, NULL);
    message = g_strdup_printf (g_str_equal (verb, "add") ? "Added user %s (%s) to %s."
                                                         : "Changed the password of %s (%s) in %s.",
                               name, volact_role_name (role), path);
  }
  if (!volact_users_save (users, path, &error))
    return fail (error);
  return g_variant_dict_end (volact_admin_reply_new (0, message));
}
