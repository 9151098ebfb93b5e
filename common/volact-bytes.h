/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Big-endian field helpers shared by the binary formats (protocol, host
 * certificate, Installation and Confirmation IDs), so each writes its
 * multi-byte integers the same way; and bytes as hexadecimal text.
 */
#ifndef VOLACT_BYTES_H
#define VOLACT_BYTES_H

#include <glib.h>

G_BEGIN_DECLS

/** Writes the low @bytes bytes of @value to @out, most significant first. */
static inline void
volact_put_be (guint8 *out, guint64 value, guint bytes)
{
  for (guint i = 0; i < bytes; i++)
    out[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
}

/** Reads @bytes bytes (at most 8) of @in as a big-endian integer. */
static inline guint64
volact_get_be (const guint8 *in, guint bytes)
{
  guint64 v = 0;
  for (guint i = 0; i < bytes; i++)
    v = (v << 8) | in[i];
  return v;
}

/** @data (@len bytes) as lower-case hexadecimal, NUL-terminated (g_free it). */
static inline char *
volact_hex (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (2 * len + 1);

  for (gsize i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0f];
  }
  out[2 * len] = '\0';
  return out;
}

G_END_DECLS

#endif
