/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VOLACTCTL_REMOTE_H
#define VOLACTCTL_REMOTE_H

#include "volact-commands.h"

G_BEGIN_DECLS

/** Where and as whom `volactctl --remote` runs a command (docs/web.md). */
typedef struct {
  const char *url;  /* https://HOST:PORT */
  const char *user; /* NULL: the login name */
  const char *ca;   /* PEM file of the CA (or certificate) to trust, or NULL */
  const char *pin;  /* SHA-256 of the host's certificate (hex, colons allowed), or NULL */
  int password_fd;  /* -1: ask on the terminal */
} VolactctlRemote;

/**
 * Runs CMD with ARGS on the host at R->url through its HTTPS listener's
 * /api/command, as the admin socket would: the a{sv} reply, or NULL and
 * ERROR (a URL that is not https, a certificate that is neither trusted by
 * R->ca or the system nor matching R->pin (checked before anything is sent),
 * a refused password, a host that cannot be reached).
 */
GVariant *volactctl_remote_call (const VolactctlRemote *r, const VolactCommand *cmd,
                                 const char *const *args, GError **error);

G_END_DECLS

#endif
