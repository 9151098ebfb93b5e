/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-license.h"

#include "volact-resources.h"

#include "volact-error.h"
#include "volact-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlschemas.h>

struct _VolactLicense {
  char *path;
  char *kind;
  char *family;
  char *id;
  xmlDoc *doc;
  VolactDocument document;
};

/* The kinds, in the order of their compiled schemas. */
static const char *const license_kinds[] = { "pl", "ppd", "oob", "phn", "cfg" };

/* Embedded schemas */

/* XSDs are read from the GResource only; xs:include resolves through this URI space. */
#define SCHEMA_URI_PREFIX "resource:///org/volact/schemas/"

typedef struct {
  GBytes *bytes;
  gsize offset;
} ResourceStream;

static int
resource_match (const char *uri)
{
  return uri != NULL && g_str_has_prefix (uri, SCHEMA_URI_PREFIX) && strstr (uri, "..") == NULL;
}

static void *
resource_open (const char *uri)
{
  /* "resource://" + "/org/volact/schemas/NAME" */
  const char *rpath = uri + strlen ("resource://");
  GBytes *bytes
      = g_resource_lookup_data (volact_get_resource (), rpath, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  ResourceStream *s;

  if (bytes == NULL)
    return NULL;
  s = g_new0 (ResourceStream, 1);
  s->bytes = bytes;
  return s;
}

static int
resource_read (void *context, char *buffer, int len)
{
  ResourceStream *s = context;
  gsize size = 0;
  const char *data = g_bytes_get_data (s->bytes, &size);
  gsize n = MIN ((gsize) MAX (len, 0), size - s->offset);

  memcpy (buffer, data + s->offset, n);
  s->offset += n;
  return (int) n;
}

static int
resource_close (void *context)
{
  ResourceStream *s = context;

  g_bytes_unref (s->bytes);
  g_free (s);
  return 0;
}

typedef struct {
  xmlSchema *schemas[G_N_ELEMENTS (license_kinds)];
  char *failure;
} SchemaSet;

static xmlSchema *
compile_schema (const char *kind, char **failure)
{
  g_autofree char *rpath = g_strdup_printf ("/org/volact/schemas/xrm-%s.xsd", kind);
  g_autofree char *uri = g_strconcat ("resource://", rpath, NULL);
  g_autoptr (VolactXmlErrors) errors = volact_xml_errors_new (uri);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  xmlSchemaParserCtxt *pctxt;
  xmlSchema *schema;
  xmlDoc *xsd;
  gsize size = 0;
  const char *data;

  bytes = g_resource_lookup_data (volact_get_resource (), rpath, G_RESOURCE_LOOKUP_FLAGS_NONE,
                                  &error);
  if (bytes == NULL) {
    *failure = g_strdup_printf ("%s: %s", uri, error->message);
    return NULL;
  }
  data = g_bytes_get_data (bytes, &size);
  /* The document URL is the base xs:include resolves against. */
  xsd = xmlReadMemory (data, (int) size, uri, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (xsd == NULL) {
    *failure = g_strdup_printf ("%s: not well-formed", uri);
    return NULL;
  }
  pctxt = xmlSchemaNewDocParserCtxt (xsd);
  xmlSchemaSetParserStructuredErrors (pctxt, volact_xml_errors_handler, errors);
  schema = xmlSchemaParse (pctxt);
  xmlSchemaFreeParserCtxt (pctxt);
  if (schema == NULL || volact_xml_errors_count (errors) > 0) {
    volact_xml_errors_set (errors, &error, VOLACT_E_FAILED, "cannot compile the schema");
    *failure = g_strdup (error->message);
    if (schema != NULL)
      xmlSchemaFree (schema);
    xmlFreeDoc (xsd);
    return NULL;
  }
  /* XSD is kept: a schema built from a document may point into it. */
  return schema;
}

static gpointer
compile_schemas (gpointer data)
{
  SchemaSet *set = g_new0 (SchemaSet, 1);

  xmlInitParser ();
  if (xmlRegisterInputCallbacks (resource_match, resource_open, resource_read, resource_close)
      < 0) {
    set->failure = g_strdup ("cannot register the schema resource reader");
    return set;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (license_kinds); i++) {
    set->schemas[i] = compile_schema (license_kinds[i], &set->failure);
    if (set->schemas[i] == NULL)
      break;
  }
  return set;
}

/* The compiled schema of KIND (index into license_kinds); compiled once per process. */
static xmlSchema *
get_schema (gsize kind, GError **error)
{
  static GOnce once = G_ONCE_INIT;
  SchemaSet *set = g_once (&once, compile_schemas, NULL);

  if (set->failure != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "built-in license schemas: %s",
                 set->failure);
    return NULL;
  }
  return set->schemas[kind];
}

/* The pipeline */

xmlDoc *
volact_license_read (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  struct stat st;
  gsize len = 0;
  int fd, saved;

  /* Non-blocking, so that opening a FIFO cannot hang the host (it is refused
   * below); not through a symbolic link, which could lead anywhere. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot open: %s", path,
                 saved == ELOOP ? "a symbolic link (license files must be regular files)"
                                : g_strerror (saved));
    return NULL;
  }
  if (fstat (fd, &st) != 0) {
    saved = errno;
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot stat: %s", path, g_strerror (saved));
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: not a regular file (%s)", path,
                 S_ISFIFO (st.st_mode)                          ? "a FIFO"
                 : S_ISSOCK (st.st_mode)                        ? "a socket"
                 : S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) ? "a device"
                                                                : "not a plain file");
    return NULL;
  }
  if (st.st_size > (off_t) VOLACT_LICENSE_MAX_BYTES) {
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s: %lld bytes; a license file may have at most %u bytes", path,
                 (long long) st.st_size, VOLACT_LICENSE_MAX_BYTES);
    return NULL;
  }

  /* Read at most one byte past the cap: the file may have grown since fstat. */
  data = g_malloc (VOLACT_LICENSE_MAX_BYTES + 1);
  while (len <= VOLACT_LICENSE_MAX_BYTES) {
    ssize_t n = read (fd, data + len, VOLACT_LICENSE_MAX_BYTES + 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      saved = errno;
      close (fd);
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot read: %s", path,
                   g_strerror (saved));
      return NULL;
    }
    if (n == 0)
      break;
    len += (gsize) n;
  }
  close (fd);
  if (len > VOLACT_LICENSE_MAX_BYTES) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s: larger than the %u bytes a license file may have", path,
                 VOLACT_LICENSE_MAX_BYTES);
    return NULL;
  }
  return volact_xml_parse (data, len, path, error);
}

const char *
volact_license_validate (xmlDoc *doc, const char *path, GError **error)
{
  const VolactNode *root = (const VolactNode *) xmlDocGetRootElement (doc);
  const xmlNode *r = (const xmlNode *) root;
  g_autoptr (VolactXmlErrors) errors = NULL;
  xmlSchemaValidCtxt *vctxt;
  xmlSchema *schema;
  const char *kind;
  gsize k;
  int ret;

  if (r == NULL || r->ns == NULL || strcmp ((const char *) r->ns->href, VOLACT_XRM_NS) != 0
      || strcmp ((const char *) r->name, "license") != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_SCHEMA,
                 "%s:%u: the root element must be {" VOLACT_XRM_NS "}license, not {%s}%s", path,
                 volact_xml_node_line (root), r && r->ns ? (const char *) r->ns->href : "",
                 r ? (const char *) r->name : "");
    return NULL;
  }
  kind = volact_xml_node_attr (root, "kind");
  if (kind == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_SCHEMA,
                 "%s:%u: the license element has no kind attribute", path,
                 volact_xml_node_line (root));
    return NULL;
  }
  for (k = 0; k < G_N_ELEMENTS (license_kinds); k++)
    if (strcmp (kind, license_kinds[k]) == 0)
      break;
  if (k == G_N_ELEMENTS (license_kinds)) {
    g_autofree char *shown = g_strescape (kind, NULL);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_SCHEMA,
                 "%s:%u: unknown license kind \"%.40s\" (expected pl, ppd, oob, phn or cfg)", path,
                 volact_xml_node_line (root), shown);
    return NULL;
  }
  schema = get_schema (k, error);
  if (schema == NULL)
    return NULL;

  /* One validation context per call: the compiled schema is shared, contexts are not. */
  errors = volact_xml_errors_new (path);
  vctxt = xmlSchemaNewValidCtxt (schema);
  if (vctxt == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_XML_SCHEMA, "%s: out of memory", path);
    return NULL;
  }
  xmlSchemaSetValidStructuredErrors (vctxt, volact_xml_errors_handler, errors);
  ret = xmlSchemaValidateDoc (vctxt, doc);
  xmlSchemaFreeValidCtxt (vctxt);
  if (ret != 0 || volact_xml_errors_count (errors) > 0) {
    volact_xml_errors_set (errors, error, VOLACT_E_XML_SCHEMA,
                           ret < 0 ? "schema validation could not run"
                                   : "does not match its schema");
    return NULL;
  }
  return license_kinds[k];
}

/* The steps after reading, shared by the file and the memory entry points; takes DOC. */
static VolactLicense *
license_finish (xmlDoc *doc_in, const char *path, const VolactTrust *trust, GError **error)
{
  g_autoptr (xmlDoc) doc = doc_in;
  const VolactNode *root;
  VolactLicense *lic;
  const char *kind;

  if (doc == NULL)
    return NULL;
  kind = volact_license_validate (doc, path, error);
  if (kind == NULL)
    return NULL;
  if (!volact_xmlsig_verify (doc, trust, path, error))
    return NULL;

  root = (const VolactNode *) xmlDocGetRootElement (doc);
  lic = g_new0 (VolactLicense, 1);
  lic->path = g_strdup (path);
  lic->kind = g_strdup (kind);
  lic->family = g_strdup (volact_xml_node_attr (root, "family"));
  lic->id = g_strdup (volact_xml_node_attr (root, "id"));
  lic->doc = g_steal_pointer (&doc);
  lic->document.path = lic->path;
  lic->document.kind = lic->kind;
  lic->document.family = lic->family;
  lic->document.id = lic->id;
  lic->document.root = root;
  return lic;
}

VolactLicense *
volact_license_load (const char *path, const VolactTrust *trust, GError **error)
{
  g_return_val_if_fail (path != NULL && trust != NULL, NULL);

  if (!volact_xmlsig_init (error))
    return NULL;
  return license_finish (volact_license_read (path, error), path, trust, error);
}

VolactLicense *
volact_license_load_data (const char *data, gsize len, const char *name, const VolactTrust *trust,
                          GError **error)
{
  g_return_val_if_fail ((data != NULL || len == 0) && name != NULL && trust != NULL, NULL);

  if (!volact_xmlsig_init (error))
    return NULL;
  if (len > VOLACT_LICENSE_MAX_BYTES) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s: %zu bytes; a license file may have at most %u bytes", name, len,
                 VOLACT_LICENSE_MAX_BYTES);
    return NULL;
  }
  return license_finish (volact_xml_parse (data, len, name, error), name, trust, error);
}

void
volact_license_free (VolactLicense *lic)
{
  if (lic == NULL)
    return;
  g_free (lic->path);
  g_free (lic->kind);
  g_free (lic->family);
  g_free (lic->id);
  if (lic->doc != NULL)
    xmlFreeDoc (lic->doc);
  g_free (lic);
}

const char *
volact_license_path (const VolactLicense *lic)
{
  return lic->path;
}

const char *
volact_license_kind (const VolactLicense *lic)
{
  return lic->kind;
}

const char *
volact_license_family (const VolactLicense *lic)
{
  return lic->family;
}

const char *
volact_license_id (const VolactLicense *lic)
{
  return lic->id;
}

const VolactDocument *
volact_license_document (const VolactLicense *lic)
{
  return &lic->document;
}
