/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-admin.h"

#include "volact-accept.h"
#include "volact-admin-proto.h"
#include "volact-commands.h"
#include "volact-error.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Connections served at once; the last slot is kept for root, so that the
 * administrator always gets in, whatever the admin group holds open. */
#define ADMIN_MAX_CONNECTIONS 16
#define ADMIN_ROOT_SLOTS 1
/* How long a stop waits for the commands in progress. */
#define ADMIN_STOP_WAIT_SECONDS 5
/* Bounds the buffer of a passwd or group lookup. */
#define LOOKUP_BUFFER_MAX (1024 * 1024)

struct _VolactAdmin {
  VolactAccept *accept;
  char *path;
  gboolean have_group;
  gid_t gid;
  guint timeout;
  VolactAdminHandler handler;
  gpointer user_data;
};

/* The first buffer size for getpwuid_r/getgrnam_r (NAME is _SC_GETPW_R_SIZE_MAX or _GR_). */
static gsize
lookup_buffer_size (int name)
{
  long n = sysconf (name);
  return n > 0 && n < LOOKUP_BUFFER_MAX ? (gsize) n : 16384;
}

/*
 * Whether user UID is in group GID by the group list of its passwd entry
 * (thread-safe: the admin socket asks from worker threads). A user without a
 * passwd entry is in no group; a failed lookup is an error.
 */
static gboolean
user_in_group (uid_t uid, gid_t gid, gboolean *member, GError **error)
{
  gsize size = lookup_buffer_size (_SC_GETPW_R_SIZE_MAX);
  g_autofree char *buf = NULL;
  g_autofree gid_t *groups = NULL;
  struct passwd pw, *found = NULL;
  int r, n = 64;

  *member = FALSE;
  for (;;) {
    buf = g_realloc (buf, size);
    r = getpwuid_r (uid, &pw, buf, size, &found);
    if (r != ERANGE || size >= LOOKUP_BUFFER_MAX)
      break;
    size *= 2;
  }
  if (r != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION, "cannot look up user %u: %s",
                 (unsigned) uid, g_strerror (r));
    return FALSE;
  }
  if (found == NULL)
    return TRUE;
  /* The list may grow between two calls: a few tries, each with the size asked for. */
  for (int attempt = 0;; attempt++) {
    int asked = n;
    groups = g_renew (gid_t, groups, n);
    if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &n) >= 0)
      break;
    if (attempt == 3 || n <= asked) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION, "cannot read the groups of user %s",
                   pw.pw_name);
      return FALSE;
    }
  }
  for (int i = 0; i < n; i++)
    if (groups[i] == gid)
      *member = TRUE;
  return TRUE;
}

/* The gid of group NAME (thread-safe lookup). */
static gboolean
group_lookup (const char *name, gid_t *gid, GError **error)
{
  gsize size = lookup_buffer_size (_SC_GETGR_R_SIZE_MAX);
  g_autofree char *buf = NULL;
  struct group gr, *found = NULL;
  int r;

  for (;;) {
    buf = g_realloc (buf, size);
    r = getgrnam_r (name, &gr, buf, size, &found);
    if (r != ERANGE || size >= LOOKUP_BUFFER_MAX)
      break;
    size *= 2;
  }
  if (r != 0 || found == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "admin-group \"%s\": %s", name,
                 r != 0 ? g_strerror (r) : "no such group");
    return FALSE;
  }
  *gid = gr.gr_gid;
  return TRUE;
}

/* The peer may administer if it is root, us, or in the admin group. */
static gboolean
peer_allowed (VolactAdmin *admin, GSocketConnection *conn, GError **error)
{
  g_autoptr (GCredentials) cred
      = g_socket_get_credentials (g_socket_connection_get_socket (conn), error);
  uid_t uid;
  gid_t gid;

  if (cred == NULL)
    return FALSE;
  uid = g_credentials_get_unix_user (cred, NULL);
  gid = (gid_t) -1;
#ifdef __linux__
  {
    struct ucred *uc = g_credentials_get_native (cred, G_CREDENTIALS_TYPE_LINUX_UCRED);
    if (uc != NULL)
      gid = uc->gid;
  }
#endif
  if (uid == 0 || uid == geteuid ())
    return TRUE;
  if (admin->have_group) {
    gboolean member;
    if (gid == admin->gid)
      return TRUE;
    if (!user_in_group (uid, admin->gid, &member, error))
      return FALSE;
    if (member)
      return TRUE;
  }
  g_set_error (error, VOLACT_ERROR, VOLACT_E_PERMISSION,
               "user %u may not administer this host (root or the admin group only)",
               (unsigned) uid);
  return FALSE;
}

static GVariant *
dispatch (VolactAdmin *admin, GVariant *request)
{
  const char *name;
  g_autofree const char **args = NULL;
  g_autoptr (GError) error = NULL;
  const VolactCommand *cmd;

  g_variant_get (request, "(&s^a&s)", &name, &args);
  cmd = volact_command_check (name, args ? g_strv_length ((char **) args) : 0, &error);
  if (cmd == NULL)
    return volact_admin_reply_error (error);
  return admin->handler (cmd, args, admin->user_data);
}

/* On the main loop, before a slot is given: root may take the reserved one. */
static gboolean
peer_is_root (GSocket *sock, gpointer user_data)
{
  g_autoptr (GCredentials) cred = g_socket_get_credentials (sock, NULL);

  return cred != NULL && g_credentials_get_unix_user (cred, NULL) == 0;
}

/* A worker thread: the requests of one connection, each read within the admin timeout. */
static void
serve (VolactAcceptConn *c, gpointer user_data)
{
  VolactAdmin *admin = user_data;
  GSocketConnection *conn = volact_accept_conn_get_connection (c);
  GCancellable *cancel = volact_accept_conn_get_cancellable (c);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_autoptr (GError) error = NULL;

  if (!peer_allowed (admin, conn, &error)) {
    g_autoptr (GVariant) reply = g_variant_ref_sink (volact_admin_reply_error (error));
    g_autoptr (GVariant) request = NULL;
    g_message ("administration refused: %s", error->message);
    /* Read the request first: a client still writing to a closed socket would see only
     * "broken pipe", never why it was refused. */
    volact_accept_conn_set_deadline (c, admin->timeout);
    request = volact_admin_read (in, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST, cancel,
                                 NULL);
    if (request != NULL)
      volact_admin_write (out, reply, NULL, NULL);
    return;
  }
  for (;;) {
    g_autoptr (GVariant) request = NULL;
    g_autoptr (GVariant) reply = NULL;

    volact_accept_conn_set_deadline (c, admin->timeout);
    request = volact_admin_read (in, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST, cancel,
                                 &error);
    if (request == NULL) {
      if (volact_accept_conn_timed_out (c))
        g_debug ("administration connection: closed after %u idle seconds", admin->timeout);
      else if (error != NULL)
        g_debug ("administration connection: %s", error->message);
      break;
    }
    /* A command (ato asks the authority) may take longer than a read may. */
    volact_accept_conn_set_deadline (c, 0);
    reply = g_variant_ref_sink (dispatch (admin, request));
    if (!volact_admin_write (out, reply, NULL, &error)) {
      g_warning ("administration reply to %s failed: %s", g_variant_get_type_string (request),
                 error->message);
      break;
    }
  }
}

VolactAdmin *
volact_admin_start (const char *path, const char *admin_group, guint timeout,
                    VolactAdminHandler handler, gpointer user_data, GError **error)
{
  VolactAcceptConfig accept = {
    .name = "administration socket",
    .max_connections = ADMIN_MAX_CONNECTIONS,
    .reserved = ADMIN_ROOT_SLOTS,
    .threads = ADMIN_MAX_CONNECTIONS, /* never queued: root's slot is served at once */
    .timeout_seconds = timeout,
    .serve = serve,
    .privileged = peer_is_root,
  };
  g_autoptr (GSocketAddress) addr = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  VolactAdmin *admin;
  struct stat st;
  mode_t old_umask;
  gboolean bound;

  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "admin socket folder %s: %s", dir,
                 g_strerror (e));
    return NULL;
  }
  if (g_lstat (path, &st) == 0) {
    if (!S_ISSOCK (st.st_mode)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                   "admin socket %s exists and is not a socket; refusing to replace it", path);
      return NULL;
    }
    g_unlink (path); /* stale socket of an earlier run */
  }
  admin = g_new0 (VolactAdmin, 1);
  admin->path = g_strdup (path);
  admin->handler = handler;
  admin->user_data = user_data;
  admin->timeout = timeout;
  if (admin_group != NULL && *admin_group != '\0') {
    if (!group_lookup (admin_group, &admin->gid, error)) {
      volact_admin_stop (admin);
      return NULL;
    }
    admin->have_group = TRUE;
  }
  accept.user_data = admin;
  admin->accept = volact_accept_new (&accept, error);
  if (admin->accept == NULL) {
    volact_admin_stop (admin);
    return NULL;
  }
  addr = g_unix_socket_address_new (path);
  /* bind creates the socket file: with this umask it is born 0660, never open to others
   * for a moment before the chmod below. */
  old_umask = umask (0117);
  bound = g_socket_listener_add_address (volact_accept_get_listener (admin->accept), addr,
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                         NULL, error);
  umask (old_umask);
  if (!bound) {
    g_prefix_error (error, "admin socket %s: ", path);
    volact_admin_stop (admin);
    return NULL;
  }
  if (g_chmod (path, 0660) != 0
      || (admin->have_group && chown (path, (uid_t) -1, admin->gid) != 0)) {
    int e = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "admin socket %s: %s", path, g_strerror (e));
    volact_admin_stop (admin);
    return NULL;
  }
  volact_accept_start (admin->accept);
  return admin;
}

void
volact_admin_stop (VolactAdmin *admin)
{
  if (admin == NULL)
    return;
  if (admin->accept != NULL) {
    g_unlink (admin->path);
    /* Commands still running after the wait keep ADMIN: it goes with the process. */
    if (volact_accept_stop (admin->accept, ADMIN_STOP_WAIT_SECONDS) > 0)
      return;
  }
  g_free (admin->path);
  g_free (admin);
}
