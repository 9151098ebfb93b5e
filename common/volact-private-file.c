/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-private-file.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

char *
volact_private_file_read (const char *path, gsize max, const char *what, gsize *len,
                          GError **error)
{
  struct stat st;
  g_autofree char *text = NULL;
  gsize got = 0;
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 || fstat (fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot read: %s", path, g_strerror (e));
    return NULL;
  }
  if (!S_ISREG (st.st_mode) || (st.st_mode & 077) != 0 || (guint64) st.st_size > max) {
    close (fd);
    if (!S_ISREG (st.st_mode))
      g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION, "%s: not a regular file", path);
    else if ((guint64) st.st_size > max)
      g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
                   "%s: %" G_GUINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                   " a file of %s may have",
                   path, (guint64) st.st_size, max, what);
    else
      g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
                   "%s: mode %04o lets others read the %s; it must be 0600 or stricter "
                   "(chmod 600 %s)",
                   path, (unsigned) (st.st_mode & 07777), what, path);
    return NULL;
  }
  /* The size may change under us: read at most MAX, and say so if there is more. */
  text = g_malloc (max + 2);
  while (got <= max) {
    ssize_t n = read (fd, text + got, max + 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      close (fd);
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot read: %s", path, g_strerror (e));
      return NULL;
    }
    if (n == 0)
      break;
    got += (gsize) n;
  }
  close (fd);
  if (got > max) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
                 "%s: more than the %" G_GSIZE_FORMAT " bytes a file of %s may have", path, max,
                 what);
    return NULL;
  }
  text[got] = '\0';
  if (len != NULL)
    *len = got;
  return g_steal_pointer (&text);
}
