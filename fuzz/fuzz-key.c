/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host key codec (common/volact-key.c) on text as an administrator types
 * it (volactctl ipk). A key that decodes must normalise, encode to the same
 * canonical text, and decode from it to the same fields.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "volact-key.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size); /* stops at a NUL, as argv would */
  g_autoptr (GError) error = NULL;
  char canonical[VOLACT_KEY_TEXT_SIZE], encoded[VOLACT_KEY_TEXT_SIZE];
  char partial[VOLACT_KEY_PARTIAL_SIZE];
  VolactHostKey key, again;

  volact_key_partial (text, partial);
  g_assert (strlen (partial) == 0 || strlen (partial) == VOLACT_KEY_PARTIAL_SIZE - 1);
  if (!volact_key_decode (text, &key, &error)) {
    g_assert (error != NULL);
    g_clear_error (&error);
    g_assert (!volact_key_normalize (text, canonical, &error));
    return 0;
  }
  g_assert (volact_key_normalize (text, canonical, &error));
  g_assert (volact_key_encode (&key, encoded, &error));
  g_assert_cmpstr (canonical, ==, encoded);
  memset (&again, 0, sizeof again);
  g_assert (volact_key_decode (encoded, &again, &error));
  g_assert (again.version == key.version && again.group == key.group
            && again.serial == key.serial && again.nonce == key.nonce);
  return 0;
}
