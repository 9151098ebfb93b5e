/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin socket's framing (core/admin/volact-admin-proto.c): the host reads
 * "(sas)" requests from any peer the socket admits, volactctl reads a{sv}
 * replies. Frames are read from the input until the first error, each as the
 * host reads a request, then the same bytes as replies; what is accepted is
 * then taken apart as the command table and volactctl do.
 */
#include "config.h"

#include <stdint.h>

#include "volact-admin-proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Reads frames of TYPE from DATA until the end or an error; returns how many. */
static guint
read_frames (const uint8_t *data, size_t size, const GVariantType *type, gsize max)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  guint n = 0;

  for (;;) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) v = volact_admin_read (in, type, max, NULL, &error);

    if (v == NULL)
      break;
    g_assert (g_variant_is_of_type (v, type));
    if (g_variant_is_of_type (v, VOLACT_ADMIN_REQUEST_TYPE)) {
      const char *command;
      g_autofree const char **args = NULL;
      g_variant_get (v, "(&s^a&s)", &command, &args);
      g_assert (command != NULL && args != NULL);
    } else {
      g_autoptr (GVariantDict) d = g_variant_dict_new (v);
      guint32 code = 0;
      const char *message = NULL;
      g_autofree char *text = g_variant_print (v, TRUE);
      (void) g_variant_dict_lookup (d, "code", "u", &code);
      (void) g_variant_dict_lookup (d, "message", "&s", &message);
      g_assert (text != NULL);
    }
    n++;
  }
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  read_frames (data, size, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST);
  /* volactctl's own cap: the reader's memory follows the bytes that arrive, not the length
   * field (it once allocated what the field said, and held the fuzzer at 6 runs/s). */
  read_frames (data, size, VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY);
  return 0;
}
