/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's request parser, as the serving loop runs it (core/serving/volact-conn.c):
 * the header first, then the whole message. A request that decodes must encode
 * again and decode to the same fields: the parser accepts nothing the encoder
 * would refuse, and re-encoding gives the very bytes read.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "volact-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  guint8 again[VOLACT_PROTO_REQUEST_MAX];
  VolactRequest req, req2;
  VolactMessageType type;
  gsize total, len;

  if (!volact_proto_peek (data, size, &type, &total, &error)) {
    g_assert (error != NULL);
    return 0;
  }
  g_assert (total <= VOLACT_PROTO_MESSAGE_MAX);
  if (type != VOLACT_MSG_REQUEST || total > size)
    return 0;
  if (!volact_request_decode (data, total, &req, &error)) {
    g_assert (error != NULL);
    return 0;
  }
  g_assert (volact_proto_edition_valid (req.edition, strlen (req.edition)));
  g_assert (volact_proto_name_valid (req.name, strlen (req.name)));
  len = volact_request_encode (&req, again, &error);
  g_assert_no_error (error);
  g_assert (len == total && memcmp (again, data, len) == 0);
  g_assert (volact_request_decode (again, len, &req2, &error));
  g_assert (memcmp (req.nonce, req2.nonce, sizeof req.nonce) == 0
            && req.minutes_left == req2.minutes_left && g_str_equal (req.name, req2.name));
  return 0;
}
