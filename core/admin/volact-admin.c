/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"


#include "volact-admin.h"

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

struct _VolactAdmin {
  GSocketService *service;
  char *path;
  gboolean have_group;
  gid_t gid;
  VolactAdminHandler handler;
  gpointer user_data;
};

/* The peer may administer if it is root, us, or in the admin group. */
static gboolean
peer_allowed (VolactAdmin *admin, GSocketConnection *conn, GError **error)
{
  g_autoptr (GCredentials) cred = g_socket_get_credentials (g_socket_connection_get_socket (conn),
                                                            error);
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
    struct passwd *pw;
    if (gid == admin->gid)
      return TRUE;
    pw = getpwuid (uid);
    if (pw != NULL) {
      int n = 64;
      g_autofree gid_t *groups = g_new (gid_t, n);
      if (getgrouplist (pw->pw_name, pw->pw_gid, groups, &n) < 0) {
        groups = g_renew (gid_t, groups, n);
        getgrouplist (pw->pw_name, pw->pw_gid, groups, &n);
      }
      for (int i = 0; i < n; i++)
        if (groups[i] == admin->gid)
          return TRUE;
    }
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
  const VolactCommand *cmd;
  guint n;

  g_variant_get (request, "(&s^a&s)", &name, &args);
  cmd = volact_command_find (name);
  n = args ? g_strv_length ((char **) args) : 0;
  if (cmd == NULL || cmd->local) {
    g_autofree char *msg = g_strdup_printf ("unknown command \"%s\"", name);
    return g_variant_dict_end (volact_admin_reply_new ((guint32) VOLACT_E_FAILED, msg));
  }
  if (n < cmd->min_args || n > cmd->max_args) {
    g_autofree char *msg = g_strdup_printf ("usage: %s %s", cmd->name, cmd->args);
    return g_variant_dict_end (volact_admin_reply_new ((guint32) VOLACT_E_FAILED, msg));
  }
  return admin->handler (cmd, args, admin->user_data);
}

static gboolean
on_run (GThreadedSocketService *service, GSocketConnection *conn, GObject *source,
        gpointer user_data)
{
  VolactAdmin *admin = user_data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_autoptr (GError) error = NULL;

  if (!peer_allowed (admin, conn, &error)) {
    g_autoptr (GVariant) reply = g_variant_ref_sink (volact_admin_reply_error (error));
    g_message ("administration refused: %s", error->message);
    volact_admin_write (out, reply, NULL, NULL);
    return TRUE;
  }
  for (;;) {
    g_autoptr (GVariant) request = volact_admin_read (in, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST, NULL,
                                                         &error);
    g_autoptr (GVariant) reply = NULL;
    if (request == NULL) {
      if (error != NULL)
        g_debug ("administration connection: %s", error->message);
      break;
    }
    reply = g_variant_ref_sink (dispatch (admin, request));
    if (!volact_admin_write (out, reply, NULL, &error)) {
      g_warning ("administration reply to %s failed: %s", g_variant_get_type_string (request),
                 error->message);
      break;
    }
  }
  return TRUE;
}

VolactAdmin *
volact_admin_start (const char *path, const char *admin_group, VolactAdminHandler handler,
                    gpointer user_data, GError **error)
{
  g_autoptr (GSocketAddress) addr = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  VolactAdmin *admin;
  struct stat st;

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
  if (admin_group != NULL && *admin_group != '\0') {
    struct group *gr = getgrnam (admin_group);
    if (gr == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "admin-group \"%s\" does not exist",
                   admin_group);
      volact_admin_stop (admin);
      return NULL;
    }
    admin->have_group = TRUE;
    admin->gid = gr->gr_gid;
  }
  admin->service = g_threaded_socket_service_new (8);
  addr = g_unix_socket_address_new (path);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (admin->service), addr,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL,
                                      error)) {
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
  g_signal_connect (admin->service, "run", G_CALLBACK (on_run), admin);
  g_socket_service_start (admin->service);
  return admin;
}

void
volact_admin_stop (VolactAdmin *admin)
{
  if (admin == NULL)
    return;
  if (admin->service != NULL) {
    g_socket_service_stop (admin->service);
    g_socket_listener_close (G_SOCKET_LISTENER (admin->service));
    g_object_unref (admin->service);
    g_unlink (admin->path);
  }
  g_free (admin->path);
  g_free (admin);
}
