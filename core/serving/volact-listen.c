/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client listener's sockets: configured addresses or systemd's (socket activation). */
#include "config.h"

#include "volact-listen.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFER_ACCEPT_SECONDS 10

static void
listener_free (gpointer data)
{
  VolactListener *l = data;

  if (l->fd >= 0)
    close (l->fd);
  g_free (l->where);
  g_free (l);
}

static char *
sockaddr_text (const struct sockaddr *sa)
{
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  socklen_t len
      = sa->sa_family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);

  if (getnameinfo (sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)
      != 0)
    return g_strdup ("?");
  return g_strdup_printf ("%s port %s", host, serv);
}

static guint
sockaddr_port (const struct sockaddr_storage *sa)
{
  return ntohs (sa->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *) sa)->sin6_port
                                          : ((const struct sockaddr_in *) sa)->sin_port);
}

static void
add_listener (GPtrArray *out, int fd, const struct sockaddr_storage *sa)
{
  VolactListener *l = g_new0 (VolactListener, 1);
  int on = 1, defer = DEFER_ACCEPT_SECONDS;

  l->fd = fd;
  l->where = sockaddr_text ((const struct sockaddr *) sa);
  g_ptr_array_add (out, l);
  /* Inherited by accepted sockets: responses are single writes, never worth delaying. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  /* Wake up only once the request has arrived: one event less per connection. */
  setsockopt (fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
}

static gboolean
listen_on (GPtrArray *out, const char *address, guint *port, GError **error)
{
  struct addrinfo hints = { 0 }, *ai = NULL;
  char service[16];
  int fd, on = 1, rc, e;
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;

  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  g_snprintf (service, sizeof service, "%u", *port);
  rc = getaddrinfo (address, service, &hints, &ai);
  if (rc != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "listen: \"%s\" is not an IPv4 or IPv6 address (%s)", address, gai_strerror (rc));
    return FALSE;
  }
  fd = socket (ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    freeaddrinfo (ai);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot listen on %s: %s", address,
                 g_strerror (e));
    return FALSE;
  }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  /* "::" must not claim IPv4 too, so that "0.0.0.0;::" binds both. */
  if (ai->ai_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (bind (fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen (fd, SOMAXCONN) != 0
      || getsockname (fd, (struct sockaddr *) &bound, &bound_len) != 0) {
    e = errno;
    freeaddrinfo (ai);
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot listen on %s port %u: %s", address,
                 *port, g_strerror (e));
    return FALSE;
  }
  freeaddrinfo (ai);
  add_listener (out, fd, &bound);
  /* Port 0 (tests): every further address uses the port the first one got. */
  *port = sockaddr_port (&bound);
  g_message ("listening for clients on %s", ((VolactListener *) out->pdata[out->len - 1])->where);
  return TRUE;
}

/* systemd socket activation: 0 if not activated, -1 on error, else the number of sockets. */
static int
take_passed_sockets (GPtrArray *out, guint *port, GError **error)
{
  const char *pid_text = g_getenv ("LISTEN_PID");
  const char *fds_text = g_getenv ("LISTEN_FDS");
  guint64 pid, n;

  if (pid_text == NULL || fds_text == NULL
      || !g_ascii_string_to_unsigned (pid_text, 10, 1, G_MAXINT, &pid, NULL)
      || (pid_t) pid != getpid ())
    return 0;
  if (!g_ascii_string_to_unsigned (fds_text, 10, 0, 1024, &n, NULL) || n == 0)
    return 0;
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
  for (int fd = 3; fd < 3 + (int) n; fd++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa, ilen = sizeof (int);
    int type = 0, accepting = 0, flags;

    if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &ilen) != 0 || type != SOCK_STREAM
        || getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &ilen) != 0 || !accepting
        || getsockname (fd, (struct sockaddr *) &sa, &len) != 0
        || (sa.ss_family != AF_INET && sa.ss_family != AF_INET6)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "socket activation: descriptor %d is not a listening TCP socket", fd);
      return -1;
    }
    flags = fcntl (fd, F_GETFL);
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
    fcntl (fd, F_SETFD, FD_CLOEXEC);
    add_listener (out, fd, &sa);
    if (out->len == 1)
      *port = sockaddr_port (&sa);
    g_message ("listening for clients on %s (socket activation)",
               ((VolactListener *) out->pdata[out->len - 1])->where);
  }
  return (int) n;
}

GPtrArray *
volact_listen_open (const char *const *addresses, guint *port, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (listener_free);
  int passed = take_passed_sockets (out, port, error);

  if (passed < 0)
    return NULL;
  if (passed > 0)
    return g_steal_pointer (&out);
  if (addresses == NULL || addresses[0] == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "listen: no address to listen on");
    return NULL;
  }
  for (guint i = 0; addresses[i] != NULL; i++)
    if (!listen_on (out, addresses[i], port, error))
      return NULL;
  return g_steal_pointer (&out);
}
