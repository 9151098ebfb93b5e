/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactctl user: the web listener's users file (docs/web.md), edited here, not through volactd. */
#include "config.h"

#include "volactctl-user.h"

#include "volact-admin-proto.h"
#include "volact-config.h"
#include "volact-error.h"
#include "volact-users.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define USER_USAGE                                                                                 \
  "usage: user add NAME [--role admin|read-only] | user passwd NAME | user del NAME | user list; " \
  "options --password-fd N, --users-file PATH"
#define PASSWORD_MAX 1024

static GVariant *
fail (GError *error)
{
  return volact_admin_reply_error (error);
}

/* One line from FD, without its newline; at most PASSWORD_MAX bytes. */
static char *
read_line (int fd, GError **error)
{
  GString *s = g_string_new (NULL);
  char c;

  for (;;) {
    ssize_t n = read (fd, &c, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "reading the password: %s", g_strerror (e));
      break;
    }
    if (n == 0 || c == '\n')
      return g_string_free (s, FALSE);
    if (s->len >= PASSWORD_MAX) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "a password may have at most %d bytes",
                   PASSWORD_MAX);
      break;
    }
    g_string_append_c (s, c);
  }
  OPENSSL_cleanse (s->str, s->len);
  g_string_free (s, TRUE);
  return NULL;
}

/* Asks on the terminal, without echo. */
static char *
prompt (int tty, const char *question, GError **error)
{
  struct termios old, quiet;
  char *line;

  if (tcgetattr (tty, &old) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "no terminal to ask for the password on: use --password-fd N");
    return NULL;
  }
  quiet = old;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  quiet.c_lflag |= ECHONL;
  if (write (tty, question, strlen (question)) < 0 || tcsetattr (tty, TCSAFLUSH, &quiet) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot turn off the terminal's echo");
    return NULL;
  }
  line = read_line (tty, error);
  tcsetattr (tty, TCSAFLUSH, &old);
  return line;
}

/* The new password: the first line of FD, or asked twice on the terminal. */
static char *
new_password (int fd, GError **error)
{
  g_autofree char *again = NULL;
  char *first;
  int tty;

  if (fd >= 0)
    first = read_line (fd, error);
  else {
    tty = open ("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "no terminal to ask for the password on: use --password-fd N");
      return NULL;
    }
    first = prompt (tty, "New password: ", error);
    again = first ? prompt (tty, "Again: ", error) : NULL;
    close (tty);
    if (first != NULL && (again == NULL || !g_str_equal (first, again))) {
      if (again != NULL)
        g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "the two passwords differ");
      OPENSSL_cleanse (first, strlen (first));
      g_clear_pointer (&first, g_free);
    }
    if (again != NULL)
      OPENSSL_cleanse (again, strlen (again));
  }
  if (first != NULL && strlen (first) < 8) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "a password needs at least 8 characters");
    OPENSSL_cleanse (first, strlen (first));
    g_clear_pointer (&first, g_free);
  }
  return first;
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
