/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one libxml2 wrapper: safe parsing (no network, no entities, no
 * DOCTYPE), libxml2 errors as GError with file and line, and the read-only
 * VolactNode accessors plugins use.
 */
#ifndef VOLACT_XML_H
#define VOLACT_XML_H

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include <volact/plugin.h>

G_BEGIN_DECLS

#define VOLACT_XRM_NS "urn:volact:xrm:1"

/* Bounds on one document, far above what any license file needs (the largest
 * reference file has 65 elements, 6 deep, 5 attributes on one element). */
#define VOLACT_XML_MAX_ATTRIBUTES 64 /* attributes + namespace declarations per element */
#define VOLACT_XML_MAX_DEPTH 32      /* element nesting */
#define VOLACT_XML_MAX_ELEMENTS 4096 /* elements in the document */

/**
 * Parses DATA (LEN bytes) named PATH for messages. Network access, entity
 * substitution, DTD loading and XInclude are off. A DOCTYPE is refused as
 * soon as the parser meets it, before any declaration in it is read, so no
 * entity is ever declared, let alone expanded or fetched (XML_DOCTYPE).
 * Malformed XML is XML_PARSE, "PATH:LINE: message". A document over one of
 * the VOLACT_XML_MAX_* bounds is refused while it is parsed (TOO_LARGE,
 * naming the bound), so no later step ever works on it.
 */
xmlDoc *volact_xml_parse (const char *data, gsize len, const char *path, GError **error);

/* VolactNode is an xmlNode element in the XrM namespace. */

/** First element child of NODE in the XrM namespace named NAME (any name if NAME is NULL). */
const VolactNode *volact_xml_node_child (const VolactNode *node, const char *name);
/** Next element sibling of NODE in the XrM namespace named NAME (any name if NAME is NULL). */
const VolactNode *volact_xml_node_next (const VolactNode *node, const char *name);
/** Local name of NODE. */
const char *volact_xml_node_name (const VolactNode *node);
/** Value of the un-namespaced attribute NAME of NODE (not copied), or NULL if absent. */
const char *volact_xml_node_attr (const VolactNode *node, const char *name);
/** Line of NODE in its file (0 if unknown). */
guint volact_xml_node_line (const VolactNode *node);

/**
 * Collects libxml2 structured errors (parser, schema parser, schema
 * validator) for one file, to report them as "PATH:LINE: message".
 */
typedef struct _VolactXmlErrors VolactXmlErrors;

VolactXmlErrors *volact_xml_errors_new (const char *path);
void volact_xml_errors_free (VolactXmlErrors *errors);
/* libxml2 2.12 made the structured error argument const. */
#if LIBXML_VERSION >= 21200
#define VOLACT_XML_ERROR_CONST const
#else
#define VOLACT_XML_ERROR_CONST
#endif
/** An xmlStructuredErrorFunc: pass the VolactXmlErrors as its context. */
void volact_xml_errors_handler (void *errors, VOLACT_XML_ERROR_CONST xmlError *error);
/** Number of errors (not warnings) collected. */
guint volact_xml_errors_count (const VolactXmlErrors *errors);
/**
 * Sets ERROR (VOLACT_ERROR, CODE) to the first collected error as
 * "PATH:LINE: message", noting how many more there were; FALLBACK (which
 * should name what failed) is used when libxml2 reported nothing.
 */
void volact_xml_errors_set (const VolactXmlErrors *errors, GError **error, int code,
                            const char *fallback);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactXmlErrors, volact_xml_errors_free)

G_END_DECLS

#endif
