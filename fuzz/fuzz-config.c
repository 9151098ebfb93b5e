/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host configuration parser (core/volact-config.c) through
 * volact_config_load_data(), the same checks volact_config_load() runs on a
 * file: every key of [host] through its typed, range-checked setter.
 */
#include "config.h"

#include <stdint.h>

#include "volact-config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactConfig) cfg = volact_config_load_data ((const char *) data, size, "fuzz.conf",
                                                           &error);

  if (cfg == NULL) {
    g_assert (error != NULL);
    return 0;
  }
  g_assert (cfg->port >= 1 && cfg->port <= 65535);
  g_assert (cfg->listen != NULL && cfg->state_dir != NULL);
  return 0;
}
