/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-xml.h"

#include "volact-error.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>

/*
 * No XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
 * XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE or XML_PARSE_HUGE. No XML_PARSE_NOBLANKS
 * either: whitespace is part of what the signature covers.
 */
#define VOLACT_XML_PARSE_OPTIONS                                                                   \
  (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES)

struct _VolactXmlErrors {
  char *path;
  char *first;    /* message of the first error, trimmed */
  int first_line; /* its line, 0 if unknown */
  guint n_errors;
};

VolactXmlErrors *
volact_xml_errors_new (const char *path)
{
  VolactXmlErrors *e = g_new0 (VolactXmlErrors, 1);
  e->path = g_strdup (path);
  return e;
}

void
volact_xml_errors_free (VolactXmlErrors *errors)
{
  if (errors == NULL)
    return;
  g_free (errors->path);
  g_free (errors->first);
  g_free (errors);
}

/* Attributes that identify an XrM element, in order of preference. */
static const char *const identifying_attrs[] = { "id", "edition", "application", "keyGroup" };

/* "<minimumCount edition=\"x\">" for the element a schema error is about
 * (NODE may be the element or one of its attributes), so the message names
 * the entry and not only the line; NULL when there is nothing to name. */
static char *
error_element (void *node)
{
  xmlNode *n = node;

  if (n != NULL && n->type == XML_ATTRIBUTE_NODE)
    n = n->parent;
  if (n == NULL || n->type != XML_ELEMENT_NODE || n->name == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (identifying_attrs); i++) {
    xmlChar *value = xmlGetNoNsProp (n, BAD_CAST identifying_attrs[i]);
    char *where;
    if (value == NULL)
      continue;
    where = g_strdup_printf ("<%s %s=\"%s\">", (const char *) n->name, identifying_attrs[i],
                             (const char *) value);
    xmlFree (value);
    return where;
  }
  return NULL;
}

void
volact_xml_errors_handler (void *errors, VOLACT_XML_ERROR_CONST xmlError *error)
{
  VolactXmlErrors *e = errors;

  if (e == NULL || error == NULL || error->level < XML_ERR_ERROR)
    return;
  e->n_errors++;
  if (e->first == NULL) {
    g_autofree char *where = error_element (error->node);
    g_autofree char *text
        = g_strstrip (g_strdup (error->message ? error->message : "unknown error"));
    e->first
        = where != NULL ? g_strdup_printf ("%s (in %s)", text, where) : g_steal_pointer (&text);
    e->first_line = error->line;
  }
}

guint
volact_xml_errors_count (const VolactXmlErrors *errors)
{
  return errors->n_errors;
}

void
volact_xml_errors_set (const VolactXmlErrors *errors, GError **error, int code,
                       const char *fallback)
{
  g_autoptr (GString) msg = g_string_new (errors->path);

  if (errors->first != NULL && errors->first_line > 0)
    g_string_append_printf (msg, ":%d", errors->first_line);
  g_string_append (msg, ": ");
  g_string_append (msg, errors->first != NULL ? errors->first : fallback);
  if (errors->n_errors > 1)
    g_string_append_printf (msg, " (and %u more error%s)", errors->n_errors - 1,
                            errors->n_errors > 2 ? "s" : "");
  g_set_error_literal (error, VOLACT_ERROR, code, msg->str);
}

typedef struct {
  VolactXmlErrors *errors;
  gboolean doctype;
  int doctype_line;
  guint depth;
  guint elements;
  char *bound; /* which bound stopped the parse, NULL if none */
  int bound_line;
} ParseState;

/* Stops the parse once a document is bigger than any license needs, so the
 * schema, the signature and the error reporting never see such a tree. */
static void
exceed (xmlParserCtxt *ctxt, ParseState *st, char *what)
{
  if (st->bound == NULL) {
    st->bound = what;
    st->bound_line = xmlSAX2GetLineNumber (ctxt);
  } else {
    g_free (what);
  }
  xmlStopParser (ctxt);
}

static void
bounded_start (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
               int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
               const xmlChar **attributes)
{
  xmlParserCtxt *ctxt = ctx;
  ParseState *st = ctxt->_private;

  if (st->bound != NULL)
    return;
  if ((guint) nb_attributes + (guint) nb_namespaces > VOLACT_XML_MAX_ATTRIBUTES) {
    exceed (ctxt, st,
            g_strdup_printf ("element <%s> has %d attributes and namespace declarations; at "
                             "most %u are allowed",
                             (const char *) localname, nb_attributes + nb_namespaces,
                             VOLACT_XML_MAX_ATTRIBUTES));
    return;
  }
  if (++st->depth > VOLACT_XML_MAX_DEPTH) {
    exceed (ctxt, st,
            g_strdup_printf ("elements are nested more than %u deep", VOLACT_XML_MAX_DEPTH));
    return;
  }
  if (++st->elements > VOLACT_XML_MAX_ELEMENTS) {
    exceed (ctxt, st, g_strdup_printf ("more than %u elements", VOLACT_XML_MAX_ELEMENTS));
    return;
  }
  xmlSAX2StartElementNs (ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                         nb_defaulted, attributes);
}

static void
bounded_end (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
  xmlParserCtxt *ctxt = ctx;
  ParseState *st = ctxt->_private;

  if (st->bound != NULL)
    return;
  st->depth--;
  xmlSAX2EndElementNs (ctx, localname, prefix, uri);
}

/*
 * SAX internalSubset is called as soon as "<!DOCTYPE name ...>" has been read
 * and before any markup declaration inside it. Stopping the parser here means
 * no entity is ever declared, so none can be expanded (billion laughs) or
 * fetched (external entities), whatever libxml2's own limits are.
 */
static void
refuse_doctype (void *ctx, const xmlChar *name, const xmlChar *external_id,
                const xmlChar *system_id)
{
  xmlParserCtxt *ctxt = ctx;
  ParseState *st = ctxt->_private;

  st->doctype = TRUE;
  st->doctype_line = xmlSAX2GetLineNumber (ctxt);
  xmlStopParser (ctxt);
}

static void
collect_parse_error (void *ctx, VOLACT_XML_ERROR_CONST xmlError *error)
{
  xmlParserCtxt *ctxt = ctx;
  ParseState *st = ctxt->_private;

  volact_xml_errors_handler (st->errors, error);
}

/* The end of the markup that starts at P ("<!--", "<![CDATA[", "<?", other "<!"), or END. */
static const char *
skip_markup (const char *p, const char *end)
{
  const char *close = ">";

  if (end - p >= 4 && memcmp (p, "<!--", 4) == 0)
    close = "-->";
  else if (end - p >= 9 && memcmp (p, "<![CDATA[", 9) == 0)
    close = "]]>";
  else if (p[1] == '?')
    close = "?>";
  for (; p + strlen (close) <= end; p++)
    if (memcmp (p, close, strlen (close)) == 0)
      return p + strlen (close);
  return end;
}

/*
 * libxml2 checks each attribute of a start tag against the ones before it,
 * so one tag with thousands of attributes costs quadratic time before any
 * SAX callback could stop it. This linear scan of the bytes counts the '='
 * outside quoted values in each start tag first (exact for well-formed XML;
 * the parser refuses the rest). Returns FALSE with *LINE set when a tag has
 * more than VOLACT_XML_MAX_ATTRIBUTES.
 */
static gboolean
attributes_within_bound (const char *data, gsize len, int *line, guint *count)
{
  const char *p = data, *end = data + len;
  int at = 1;

  while (p < end) {
    guint n = 0;
    char quote = 0;
    if (*p == '\n')
      at++;
    if (*p != '<') {
      p++;
      continue;
    }
    if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
      const char *q = skip_markup (p, end);
      for (; p < q; p++)
        at += *p == '\n';
      continue;
    }
    for (p++; p < end && (quote != 0 || *p != '>'); p++) {
      if (*p == '\n')
        at++;
      if (quote != 0)
        quote = *p == quote ? 0 : quote;
      else if (*p == '"' || *p == '\'')
        quote = *p;
      else if (*p == '=' && ++n > VOLACT_XML_MAX_ATTRIBUTES) {
        *line = at;
        for (p++; p < end && (quote != 0 || *p != '>'); p++)
          if (quote != 0)
            quote = *p == quote ? 0 : quote;
          else if (*p == '"' || *p == '\'')
            quote = *p;
          else
            n += *p == '=';
        *count = n;
        return FALSE;
      }
    }
  }
  return TRUE;
}

xmlDoc *
volact_xml_parse (const char *data, gsize len, const char *path, GError **error)
{
  g_autoptr (VolactXmlErrors) errors = volact_xml_errors_new (path);
  g_autoptr (xmlDoc) doc = NULL;
  ParseState st = { errors, FALSE, 0, 0, 0, NULL, 0 };
  xmlParserCtxt *ctxt;
  gboolean well_formed;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > G_MAXINT) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE, "%s: too large to parse", path);
    return NULL;
  }
  {
    int line = 0;
    guint count = 0;
    if (!attributes_within_bound (data, len, &line, &count)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                   "%s:%d: refused before parsing: an element has %u attributes and namespace "
                   "declarations; at most %u are allowed (docs/license-format.md, limits)",
                   path, line, count, VOLACT_XML_MAX_ATTRIBUTES);
      return NULL;
    }
  }
  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_PARSE, "%s: out of memory", path);
    return NULL;
  }
  ctxt->_private = &st;
  ctxt->sax->internalSubset = refuse_doctype;
  ctxt->sax->serror = collect_parse_error;
  ctxt->sax->startElementNs = bounded_start;
  ctxt->sax->endElementNs = bounded_end;

  doc = xmlCtxtReadMemory (ctxt, data, (int) len, path, NULL, VOLACT_XML_PARSE_OPTIONS);
  well_formed = ctxt->wellFormed;
  xmlFreeParserCtxt (ctxt);

  if (st.bound != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s:%d: refused before validation: %s (docs/license-format.md, limits)", path,
                 st.bound_line, st.bound);
    g_free (st.bound);
    return NULL;
  }
  /* Belt and braces: no subset may survive, whichever way it got there. */
  if (st.doctype || (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL))) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_DOCTYPE,
                 "%s:%d: DOCTYPE refused: a license file may not declare a DTD or entities", path,
                 st.doctype_line);
    return NULL;
  }
  if (doc == NULL || !well_formed || volact_xml_errors_count (errors) > 0) {
    volact_xml_errors_set (errors, error, VOLACT_E_XML_PARSE, "not well-formed XML");
    return NULL;
  }
  if (xmlDocGetRootElement (doc) == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_PARSE, "%s: no root element", path);
    return NULL;
  }
  return g_steal_pointer (&doc);
}

static gboolean
is_xrm_element (const xmlNode *n, const char *name)
{
  return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL
         && strcmp ((const char *) n->ns->href, VOLACT_XRM_NS) == 0
         && (name == NULL || strcmp ((const char *) n->name, name) == 0);
}

static const VolactNode *
find_element (const xmlNode *n, const char *name)
{
  for (; n != NULL; n = n->next)
    if (is_xrm_element (n, name))
      return (const VolactNode *) n;
  return NULL;
}

const VolactNode *
volact_xml_node_child (const VolactNode *node, const char *name)
{
  if (node == NULL)
    return NULL;
  return find_element (((const xmlNode *) node)->children, name);
}

const VolactNode *
volact_xml_node_next (const VolactNode *node, const char *name)
{
  if (node == NULL)
    return NULL;
  return find_element (((const xmlNode *) node)->next, name);
}

const char *
volact_xml_node_name (const VolactNode *node)
{
  if (node == NULL)
    return NULL;
  return (const char *) ((const xmlNode *) node)->name;
}

const char *
volact_xml_node_attr (const VolactNode *node, const char *name)
{
  if (node == NULL || name == NULL)
    return NULL;
  for (const xmlAttr *a = ((const xmlNode *) node)->properties; a != NULL; a = a->next) {
    if (a->ns != NULL || strcmp ((const char *) a->name, name) != 0)
      continue;
    /* Without entities an attribute value is one text node (or none when empty). */
    if (a->children == NULL)
      return "";
    if (a->children->type == XML_TEXT_NODE && a->children->next == NULL)
      return (const char *) a->children->content;
    return NULL;
  }
  return NULL;
}

guint
volact_xml_node_line (const VolactNode *node)
{
  long line;

  if (node == NULL)
    return 0;
  line = xmlGetLineNo ((const xmlNode *) node);
  return line > 0 && line <= G_MAXUINT ? (guint) line : 0;
}
