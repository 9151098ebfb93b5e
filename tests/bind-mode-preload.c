/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An LD_PRELOAD shim for tests/admin-socket-mode.sh: after each successful
 * bind of a Unix socket, appends "PATH MODE" (octal) to the file named by
 * $VOLACT_TEST_BIND_MODES, so a test sees the mode the socket file is born
 * with, before the program can chmod it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int bind (int fd, const struct sockaddr *addr, socklen_t len);

int
bind (int fd, const struct sockaddr *addr, socklen_t len)
{
  int (*real) (int, const struct sockaddr *, socklen_t)
      = (int (*) (int, const struct sockaddr *, socklen_t)) dlsym (RTLD_NEXT, "bind");
  int r = real (fd, addr, len);
  const char *out = getenv ("VOLACT_TEST_BIND_MODES");
  struct stat st;

  if (r == 0 && out != NULL && addr->sa_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *) addr;
    if (un->sun_path[0] != '\0' && stat (un->sun_path, &st) == 0) {
      FILE *f = fopen (out, "a");
      if (f != NULL) {
        fprintf (f, "%s %o\n", un->sun_path, (unsigned) (st.st_mode & 0777));
        fclose (f);
      }
    }
  }
  return r;
}
