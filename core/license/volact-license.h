/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The license pipeline: size cap, safe parse, XSD validation and signature
 * verification against the trust store. Only a document that passed all four
 * is ever handed to a plugin. See docs/license-format.md.
 */
#ifndef VOLACT_LICENSE_H
#define VOLACT_LICENSE_H

#include <glib.h>

#include <volact/plugin.h>
#include "volact-xmlsig.h"

G_BEGIN_DECLS

/** Files larger than this are refused before parsing. */
#define VOLACT_LICENSE_MAX_BYTES (256u * 1024u)

typedef struct _VolactLicense VolactLicense;

/**
 * Loads PATH through the whole pipeline. Every error names PATH (and the line
 * where libxml2 knows it) and carries a VOLACT_ERROR code: TOO_LARGE, IO,
 * XML_PARSE, XML_DOCTYPE, XML_SCHEMA or SIGNATURE.
 */
VolactLicense *volact_license_load (const char *path, const VolactTrust *trust, GError **error);
/**
 * The same pipeline on LEN bytes at DATA (NAME stands for the path in errors
 * and in the result), for callers that hold the bytes already: fuzz targets,
 * tests. The size cap applies as for a file.
 */
VolactLicense *volact_license_load_data (const char *data, gsize len, const char *name,
                                         const VolactTrust *trust, GError **error);
void volact_license_free (VolactLicense *lic);

/**
 * The first two steps, for tools that need the document itself: reads PATH
 * (refusing more than VOLACT_LICENSE_MAX_BYTES before reading it all) and
 * parses it safely. Errors: IO, TOO_LARGE, XML_PARSE, XML_DOCTYPE.
 */
xmlDoc *volact_license_read (const char *path, GError **error);

/**
 * Checks that DOC's root is {urn:volact:xrm:1}license with a known kind and
 * validates DOC against the built-in schema of that kind. Returns the kind
 * (a static string) or NULL with an XML_SCHEMA error "PATH:LINE: message".
 * Validation never changes DOC.
 */
const char *volact_license_validate (xmlDoc *doc, const char *path, GError **error);

const char *volact_license_path (const VolactLicense *lic);
const char *volact_license_kind (const VolactLicense *lic);
const char *volact_license_family (const VolactLicense *lic);
const char *volact_license_id (const VolactLicense *lic);
/** The read-only view a plugin receives; valid while LIC lives. */
const VolactDocument *volact_license_document (const VolactLicense *lic);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactLicense, volact_license_free)

G_END_DECLS

#endif
