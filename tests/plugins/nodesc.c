/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: a valid shared object that exports something, but no
 * volact_plugin descriptor. The loader must refuse it with VOLACT_E_PLUGIN_NO_DESC. */
#include "config.h"

#include <volact/plugin.h>

VOLACT_PLUGIN_EXPORT extern const int nodesc_LTX_something_else;
VOLACT_PLUGIN_EXPORT const int nodesc_LTX_something_else = 42;

VOLACT_PLUGIN_EXPORT int nodesc_LTX_answer (void);

VOLACT_PLUGIN_EXPORT int
nodesc_LTX_answer (void)
{
  return nodesc_LTX_something_else;
}
