/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Framing on the administration socket between volactctl and volactd.
 *
 * A frame is a 4-byte big-endian length followed by a serialised GVariant in
 * normal form, at most VOLACT_ADMIN_MAX_REQUEST or _MAX_REPLY bytes. A request is "(sas)":
 * command and arguments; a reply is "a{sv}" holding at least "code" (u, 0 on
 * success) and "message" (s), plus the command's fields.
 */
#ifndef VOLACT_ADMIN_PROTO_H
#define VOLACT_ADMIN_PROTO_H

#include <gio/gio.h>

G_BEGIN_DECLS

/* Requests come from peers and stay small; replies (client lists, event
 * exports) come from the daemon and may be large. */
#define VOLACT_ADMIN_MAX_REQUEST (64u * 1024u)
#define VOLACT_ADMIN_MAX_REPLY (512u * 1024u * 1024u)
#define VOLACT_ADMIN_REQUEST_TYPE ((const GVariantType *) "(sas)")
#define VOLACT_ADMIN_REPLY_TYPE G_VARIANT_TYPE_VARDICT

/** Writes V as one frame. */
gboolean volact_admin_write (GOutputStream *out, GVariant *v, GCancellable *cancellable,
                             GError **error);
/**
 * Reads one frame of TYPE of at most MAX bytes; a clean end of stream before
 * the frame gives NULL without error.
 */
GVariant *volact_admin_read (GInputStream *in, const GVariantType *type, gsize max,
                             GCancellable *cancellable, GError **error);

/**
 * One message of TYPE from BYTES (the frame's body, as the remote
 * administration API carries it in an HTTP body), at most MAX bytes, in
 * normal form; else NULL and ERROR (TOO_LARGE, FAILED).
 */
GVariant *volact_admin_decode (GBytes *bytes, const GVariantType *type, gsize max,
                               GError **error);

/** A reply a{sv} with "code" and "message" set, for the caller to add fields to. */
GVariantDict *volact_admin_reply_new (guint32 code, const char *message);
/** A failure reply from ERROR (its VOLACT_ERROR code, or FAILED). */
GVariant *volact_admin_reply_error (const GError *error);

G_END_DECLS

#endif
