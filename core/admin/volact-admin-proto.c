/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-admin-proto.h"

#include "volact-error.h"

/* Frames are read in pieces, the buffer growing as they come: the first piece
 * at most READ_FIRST, each next one as large as what has arrived, at most
 * READ_CHUNK. A peer that claims a large frame and sends little costs little. */
#define READ_FIRST (64u * 1024u)
#define READ_CHUNK (1024u * 1024u)

gboolean
volact_admin_write (GOutputStream *out, GVariant *v, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) normal = g_variant_get_normal_form (v);
  gsize size = g_variant_get_size (normal);
  guint32 be;

  if (size > VOLACT_ADMIN_MAX_REPLY) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE, "message of %zu bytes is too large",
                 size);
    return FALSE;
  }
  be = GUINT32_TO_BE ((guint32) size);
  return g_output_stream_write_all (out, &be, sizeof be, NULL, cancellable, error)
         && g_output_stream_write_all (out, g_variant_get_data (normal), size, NULL, cancellable,
                                       error)
         && g_output_stream_flush (out, cancellable, error);
}

GVariant *
volact_admin_read (GInputStream *in, const GVariantType *type, gsize max,
                   GCancellable *cancellable, GError **error)
{
  guint32 be;
  gsize got = 0, size;
  g_autoptr (GByteArray) buf = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (!g_input_stream_read_all (in, &be, sizeof be, &got, cancellable, error))
    return NULL;
  if (got == 0)
    return NULL;
  if (got != sizeof be) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "connection closed inside a frame");
    return NULL;
  }
  size = GUINT32_FROM_BE (be);
  if (size > max) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "frame of %zu bytes is over the %zu byte limit", size, max);
    return NULL;
  }
  /* Memory follows the bytes that arrive, not the length a peer claims: a 4-byte
   * header alone must not make the reader allocate up to MAX. */
  buf = g_byte_array_sized_new ((guint) MIN (size, READ_FIRST));
  while (buf->len < size) {
    gsize piece = CLAMP ((gsize) buf->len, READ_FIRST, READ_CHUNK);
    gsize want = MIN (size - buf->len, piece), old = buf->len;
    g_byte_array_set_size (buf, (guint) (old + want));
    if (!g_input_stream_read_all (in, buf->data + old, want, &got, cancellable, error))
      return NULL;
    if (got != want) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "connection closed inside a frame");
      return NULL;
    }
  }
  /* The variant keeps the bytes, and frees them with its last reference. */
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&buf));
  return volact_admin_decode (bytes, type, max, error);
}

GVariant *
volact_admin_decode (GBytes *bytes, const GVariantType *type, gsize max, GError **error)
{
  g_autoptr (GVariant) v = NULL;

  if (g_bytes_get_size (bytes) > max) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "message of %zu bytes is over the %zu byte limit", g_bytes_get_size (bytes), max);
    return NULL;
  }
  v = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));
  /* Untrusted bytes: only a normal-form value of the expected type is accepted. */
  if (!g_variant_is_normal_form (v)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "malformed message");
    return NULL;
  }
  return g_steal_pointer (&v);
}

GVariantDict *
volact_admin_reply_new (guint32 code, const char *message)
{
  GVariantDict *d = g_variant_dict_new (NULL);
  g_variant_dict_insert (d, "code", "u", code);
  g_variant_dict_insert (d, "message", "s", message ? message : "");
  return d;
}

GVariant *
volact_admin_reply_error (const GError *error)
{
  guint32 code = error->domain == VOLACT_ERROR ? (guint32) error->code : (guint32) VOLACT_E_FAILED;
  g_autoptr (GVariantDict) d = volact_admin_reply_new (code, error->message);
  return g_variant_dict_end (d);
}
