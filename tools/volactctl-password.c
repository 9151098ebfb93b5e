/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Passwords for volactctl: never from argv, only a file descriptor or the terminal without echo. */
#include "config.h"

#include "volactctl-password.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

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

char *
volactctl_password_read (int fd, gboolean confirm, GError **error)
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
    first = prompt (tty, confirm ? "New password: " : "Password: ", error);
    again = first && confirm ? prompt (tty, "Again: ", error) : NULL;
    close (tty);
    if (confirm && first != NULL && (again == NULL || !g_str_equal (first, again))) {
      if (again != NULL)
        g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "the two passwords differ");
      OPENSSL_cleanse (first, strlen (first));
      g_clear_pointer (&first, g_free);
    }
    if (again != NULL)
      OPENSSL_cleanse (again, strlen (again));
  }
  return first;
}

