/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The license document path (core/license/): size cap, safe parse, schema
 * validation, signature verification against the reference trust store
 * (DEMO ONLY), then interpretation into a catalog. Mutated files almost never
 * keep a valid signature, so every schema-valid document is also interpreted
 * as if it had verified: the interpreter must hold against anything a careless
 * signer could sign.
 */
#include "config.h"

#include <stdint.h>

#include "volact-catalog.h"
#include "volact-license.h"
#include "volact-xml.h"
#include "volact-xrm-interpret.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static VolactTrust *trust;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  trust = volact_trust_load (FUZZ_SRCDIR "/licenses/reference-authority.pem", &error);
  g_assert_no_error (error);
  return 0;
}

/* Interprets DOC into a fresh catalog, as a plugin that uses the core's interpreter does. */
static void
interpret (const VolactDocument *doc)
{
  g_autoptr (GError) error = NULL;
  VolactCatalogBuilder *b = volact_catalog_builder_new ();
  g_autoptr (VolactCatalog) catalog = NULL;

  volact_catalog_builder_set_plugin (b, "fuzz");
  if (!volact_xrm_interpret (NULL, doc, b, &error)) {
    g_assert (error != NULL);
    volact_catalog_builder_free (b);
    return;
  }
  volact_catalog_builder_count_file (b);
  catalog = volact_catalog_builder_finish (b, &error);
  if (catalog != NULL) {
    g_autofree char *text = volact_catalog_to_text (catalog);
    g_assert (text != NULL);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactLicense) lic = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  const VolactNode *root;
  VolactDocument view;

  lic = volact_license_load_data ((const char *) data, size, "fuzz.xrm", trust, &error);
  if (lic != NULL) {
    interpret (volact_license_document (lic));
    return 0;
  }
  g_assert (error != NULL);
  g_clear_error (&error);

  /* The unverified path: parse and validate again, then interpret. */
  if (size > VOLACT_LICENSE_MAX_BYTES)
    return 0;
  doc = volact_xml_parse ((const char *) data, size, "fuzz.xrm", &error);
  if (doc == NULL)
    return 0;
  view.path = "fuzz.xrm";
  view.kind = volact_license_validate (doc, "fuzz.xrm", &error);
  if (view.kind == NULL)
    return 0;
  root = (const VolactNode *) xmlDocGetRootElement (doc);
  view.family = volact_xml_node_attr (root, "family");
  view.id = volact_xml_node_attr (root, "id");
  view.root = root;
  interpret (&view);
  return 0;
}
