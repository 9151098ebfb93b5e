/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one GError domain of volact and its code table.
 *
 * Codes are 32-bit values printed as 0xXXXXXXXX. Where the KMS documents name
 * a code it is kept (0xC004F050 ...); volact's own codes live in 0xC0AC_xxxx.
 * volact_error_text() gives the text `volactctl explain` prints. The codes,
 * names and texts come from one list, volact-error-codes.h.
 */
#ifndef VOLACT_ERROR_H
#define VOLACT_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define VOLACT_ERROR (volact_error_quark ())
GQuark volact_error_quark (void);

/*
 * One VOLACT_E_NAME per line of volact-error-codes.h. GError codes are gint;
 * the table stores them as guint32 and casts.
 */
typedef enum {
#define VOLACT_ERROR_CODE(name, code, text) VOLACT_E_##name = (gint) (code),
#include "volact-error-codes.h"
#undef VOLACT_ERROR_CODE
  /* Other spellings in use. */
  VOLACT_OK = VOLACT_E_OK,
  VOLACT_E_PLUGIN_NO_DESC = VOLACT_E_PLUGIN_NO_DESCRIPTOR,
} VolactErrorCode;

/** Text for a code (the knowledge-base articles' text where they give one), or NULL if unknown. */
const char *volact_error_text (guint32 code);
/** Short symbolic name, e.g. "INVALID_KEY", or NULL if unknown. */
const char *volact_error_name (guint32 code);
/** Parses "0xC004F050", "C004F050" or a decimal number. */
gboolean volact_error_parse_code (const char *text, guint32 *out);
/** Calls FUNC for every known code in table order. */
void volact_error_foreach (void (*func) (guint32 code, const char *name, const char *text,
                                         gpointer user_data),
                           gpointer user_data);

G_END_DECLS

#endif
