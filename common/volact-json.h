/* SPDX-License-Identifier: LGPL-2.1-or-later */
/** GVariant to JSON, for every command's --json output. */
#ifndef VOLACT_JSON_H
#define VOLACT_JSON_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * Renders V as JSON: dictionaries a{sv}/a{s*} become objects, arrays become
 * arrays, numbers and booleans stay themselves, strings are escaped (RFC 8259).
 * Keys named "code" or "result" holding a number are written as "0xXXXXXXXX"
 * strings, as the command contract requires.
 */
char *volact_json_from_variant (GVariant *v, gboolean pretty);

G_END_DECLS

#endif
