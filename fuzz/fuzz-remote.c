/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The remote administration request (core/web/volact-web.c, POST /api/command):
 * the HTTP body is decoded as one "(sas)" message and checked against the
 * command table, exactly as the listener does before anything runs.
 */
#include "config.h"

#include <stdint.h>

#include "volact-admin-proto.h"
#include "volact-commands.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) request
      = volact_admin_decode (bytes, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST, &error);
  const char *name;
  g_autofree const char **args = NULL;
  const VolactCommand *cmd;

  if (request == NULL) {
    g_assert (error != NULL);
    return 0;
  }
  g_variant_get (request, "(&s^a&s)", &name, &args);
  g_clear_error (&error);
  cmd = volact_command_check (name, args ? g_strv_length ((char **) args) : 0, &error);
  g_assert ((cmd == NULL) == (error != NULL));
  g_assert (cmd == NULL || (!cmd->local && cmd->run != NULL));
  return 0;
}
