/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin socket's framing (core/admin/volact-admin-proto.c): frames of every
 * size come back as written, and what a peer claims costs only what it sends.
 */
#include "config.h"

#include <string.h>

#include "volact-admin-proto.h"
#include "volact-error.h"

/* Writes V as a frame into memory and returns the bytes. */
static GBytes *
frame_of (GVariant *v)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_assert_true (volact_admin_write (out, v, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static GVariant *
read_one (GBytes *bytes, const GVariantType *type, gsize max, GError **error)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);
  return volact_admin_read (in, type, max, NULL, error);
}

/* A reply of SIZE bytes of text comes back equal, whatever pieces it is read in. */
static void
check_round_trip (gsize size)
{
  g_autofree char *text = g_strnfill (size, 'v');
  g_autoptr (GVariantDict) d = volact_admin_reply_new (0, text);
  g_autoptr (GVariant) sent = g_variant_ref_sink (g_variant_dict_end (d));
  g_autoptr (GBytes) frame = frame_of (sent);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = read_one (frame, VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY, &error);

  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_true (g_variant_equal (sent, got));
}

static void
test_round_trip (void)
{
  /* Below the first piece, on its edge, and across several growing pieces. */
  check_round_trip (10);
  check_round_trip (64 * 1024 - 40);
  check_round_trip (64 * 1024 + 1);
  check_round_trip (3 * 1024 * 1024 + 17);
}

static void
test_request (void)
{
  const char *args[] = { "one", "two", NULL };
  g_autoptr (GVariant) sent = g_variant_ref_sink (g_variant_new ("(s^as)", "dli", args));
  g_autoptr (GBytes) frame = frame_of (sent);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = read_one (frame, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST,
                                       &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (sent, got));
}

/* A clean end before a frame is no frame and no error. */
static void
test_empty (void)
{
  g_autoptr (GBytes) none = g_bytes_new_static ("", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = read_one (none, VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY,
                                       &error);
  g_assert_null (got);
  g_assert_no_error (error);
}

/* A length over the limit is refused before anything is read or allocated. */
static void
test_over_limit (void)
{
  static const guint8 head[] = { 0x00, 0x01, 0x00, 0x01, 'x' };
  g_autoptr (GBytes) bytes = g_bytes_new_static (head, sizeof head);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = read_one (bytes, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST,
                                       &error);
  g_assert_null (got);
  g_assert_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "65537"));
}

/* A peer that claims 500 MiB and sends 5 bytes gets an error, not a wait or a crash. */
static void
test_short_frame (void)
{
  static const guint8 head[] = { 0x1f, 0x40, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e' };
  g_autoptr (GBytes) bytes = g_bytes_new_static (head, sizeof head);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = read_one (bytes, VOLACT_ADMIN_REPLY_TYPE, VOLACT_ADMIN_MAX_REPLY,
                                       &error);
  g_assert_null (got);
  g_assert_error (error, VOLACT_ERROR, VOLACT_E_FAILED);
  g_assert_nonnull (strstr (error->message, "closed inside a frame"));
}

/* Bytes that are not a normal-form value of the type asked for are refused. */
static void
test_malformed (void)
{
  const char *args[] = { "x", NULL };
  g_autoptr (GVariant) sent = g_variant_ref_sink (g_variant_new ("(s^as)", "dli", args));
  g_autoptr (GBytes) frame = frame_of (sent);
  g_autoptr (GByteArray) bad = g_byte_array_new ();
  g_autoptr (GBytes) bad_bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) got = NULL;

  g_byte_array_append (bad, g_bytes_get_data (frame, NULL), (guint) g_bytes_get_size (frame));
  bad->data[bad->len - 1] = 0x7f; /* the framing offset of the string now points outside */
  bad_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&bad));
  got = read_one (bad_bytes, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST, &error);
  g_assert_null (got);
  g_assert_error (error, VOLACT_ERROR, VOLACT_E_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/admin-proto/round-trip", test_round_trip);
  g_test_add_func ("/admin-proto/request", test_request);
  g_test_add_func ("/admin-proto/empty", test_empty);
  g_test_add_func ("/admin-proto/over-limit", test_over_limit);
  g_test_add_func ("/admin-proto/short-frame", test_short_frame);
  g_test_add_func ("/admin-proto/malformed", test_malformed);
  return g_test_run ();
}
