/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The license pipeline against real files built at run time: a valid
 * document signed with the reference authority (DEMO ONLY key), then every
 * attack on it as a file of its own. Each attack asserts the exact error code
 * and a piece of the message that only the guarding check produces, so
 * removing that check fails the test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authority-sign.h"
#include "testutil.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-license.h"
#include "volact-xml.h"
#include "volact-xmlsig.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keyinfo.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

typedef struct {
  char *tmp;
  char *ref_key;  /* licenses/reference-authority.key (DEMO ONLY) */
  char *ref_cert; /* licenses/reference-authority.pem */
  char *evil_key; /* an attacker's EC key pair, made at run time */
  char *evil_cert;
  char *rsa_key; /* a second, legitimate authority with an RSA key */
  char *rsa_cert;
  char *evil_rsa_key; /* an attacker's RSA key pair */
  char *evil_rsa_cert;
  char *both_certs;       /* evil_cert then ref_cert in one trust file */
  char *trust_file;       /* ref_cert then rsa_cert: what the host trusts */
  VolactTrust *trust;     /* loaded from trust_file */
  VolactTrust *ref_trust; /* the reference authority only */
} Fixture;

static Fixture *fx;

/* Line 13 is the minimumCount element; test_schema_* rely on it. */
static char *
base_xml (const char *minimum_count_attrs)
{
  return g_strdup_printf (
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<license xmlns=\"urn:volact:xrm:1\" kind=\"ppd\" family=\"testfam\" id=\"test2ppd\" "
      "version=\"1\">\n"
      "  <title>Test family, key group 2: product policy</title>\n"
      "  <issuer name=\"volact test authority\"/>\n"
      "  <grant>\n"
      "    <principal keyGroup=\"2\"/>\n"
      "    <right name=\"activate\"/>\n"
      "    <resource>\n"
      "      <application id=\"testapp\" name=\"Test application\"/>\n"
      "    </resource>\n"
      "    <condition>\n"
      "      <policy application=\"testapp\" activationInterval=\"120\" renewalInterval=\"10080\" "
      "validityDays=\"180\" retentionDays=\"30\"/>\n"
      "      <minimumCount %s/>\n"
      "    </condition>\n"
      "  </grant>\n"
      "  <otherInfo>\n"
      "    <info name=\"note\" value=\"test data\"/>\n"
      "  </otherInfo>\n"
      "</license>\n",
      minimum_count_attrs);
}

#define GOOD_COUNT "edition=\"test-server\" count=\"5\" virtualMachines=\"ignored\""
#define EVIL_COUNT "edition=\"test-server\" count=\"1\" virtualMachines=\"ignored\""

static char *
read_text (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, &error))
    fail_msg ("cannot read %s: %s", path, error->message);
  return data;
}

static void
save_doc (xmlDoc *doc, const char *path)
{
  xmlChar *out = NULL;
  int len = 0;
  xmlDocDumpMemoryEnc (doc, &out, &len, "UTF-8");
  assert_non_null (out);
  test_write_file (path, (const char *) out, len);
  xmlFree (out);
}

/* Signs the file PATH in place with KEY (and CERT in KeyInfo, if given). */
static void
sign_path (const char *path, const char *key, const char *cert)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = volact_license_read (path, &error);
  if (doc == NULL || !volact_xmlsig_sign (doc, key, cert, &error))
    fail_msg ("cannot sign %s: %s", path, error->message);
  save_doc (doc, path);
}

/* Writes XML as DIR/NAME and returns the path. */
static char *
write_xml (const char *dir, const char *name, const char *xml)
{
  char *path = g_build_filename (dir, name, NULL);
  test_write_file (path, xml, -1);
  return path;
}

/* The good file: the base document signed by the reference authority. */
static char *
make_signed (const char *dir, const char *name, const char *count_attrs)
{
  g_autofree char *xml = base_xml (count_attrs);
  char *path = write_xml (dir, name, xml);
  sign_path (path, fx->ref_key, fx->ref_cert);
  return path;
}

/* Replaces the first FROM in file PATH by TO. */
static void
replace_in_file (const char *path, const char *from, const char *to)
{
  g_autofree char *data = read_text (path);
  char *at = strstr (data, from);
  g_autoptr (GString) s = NULL;

  if (at == NULL)
    fail_msg ("%s does not contain \"%s\"", path, from);
  s = g_string_new_len (data, at - data);
  g_string_append (s, to);
  g_string_append (s, at + strlen (from));
  test_write_file (path, s->str, (gssize) s->len);
}

/* The text of DATA from the first START up to and including the first END after it. */
static char *
slice (const char *data, const char *start, const char *end)
{
  const char *a = strstr (data, start);
  const char *b = a ? strstr (a, end) : NULL;
  assert_non_null (b);
  return g_strndup (a, (gsize) (b + strlen (end) - a));
}

static void
assert_refused (const char *path, const VolactTrust *trust, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactLicense) lic = volact_license_load (path, trust, &error);

  if (lic != NULL)
    fail_msg ("%s was accepted; expected 0x%08X", path, (guint32) code);
  assert_non_null (error);
  if (!g_error_matches (error, VOLACT_ERROR, code))
    fail_msg ("%s: expected 0x%08X, got 0x%08X: %s", path, (guint32) code, (guint32) error->code,
              error->message);
  /* Every error names the file. */
  if (strstr (error->message, path) == NULL)
    fail_msg ("message does not name %s: %s", path, error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    fail_msg ("message lacks \"%s\": %s", needle, error->message);
}

static VolactLicense *
assert_loads (const char *path, const VolactTrust *trust)
{
  g_autoptr (GError) error = NULL;
  VolactLicense *lic = volact_license_load (path, trust, &error);
  if (lic == NULL)
    fail_msg ("%s refused: %s", path, error->message);
  return lic;
}

static VolactTrust *
load_trust (const char *path)
{
  g_autoptr (GError) error = NULL;
  VolactTrust *trust = volact_trust_load (path, &error);
  if (trust == NULL)
    fail_msg ("trust %s: %s", path, error->message);
  return trust;
}

/* Creates a key pair (EC unless RSA) with a self-signed certificate in DIR. */
static void
make_authority (const char *dir, const char *name, gboolean rsa, char **key_out, char **cert_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *key_name = g_strdup_printf ("%s.key", name);
  g_autofree char *cert_name = g_strdup_printf ("%s.pem", name);

  key = rsa ? EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048)
            : volact_crypto_generate_ec_key (&error);
  assert_non_null (key);
  cert = volact_crypto_make_ca_certificate (key, name, 30, &error);
  assert_non_null (cert);
  *key_out = g_build_filename (dir, key_name, NULL);
  *cert_out = g_build_filename (dir, cert_name, NULL);
  if (!volact_crypto_write_private_key (*key_out, key, &error)
      || !volact_crypto_write_certificate (*cert_out, cert, &error))
    fail_msg ("%s", error->message);
}

/* Attack builders: each writes one hostile file into DIR and returns its path. */

/* (2) One byte changed after signing, inside a text node: still well-formed. */
static char *
build_flipped_text (const char *dir)
{
  char *path = make_signed (dir, "flipped-text.xrm", GOOD_COUNT);
  replace_in_file (path, "key group 2:", "key group 3:");
  return path;
}

/* (2) One byte changed after signing, inside an attribute value. */
static char *
build_flipped_attr (const char *dir)
{
  char *path = make_signed (dir, "flipped-attr.xrm", GOOD_COUNT);
  replace_in_file (path, "count=\"5\"", "count=\"6\"");
  return path;
}

/* (3) A valid signature by a key nobody trusts. */
static char *
build_untrusted (const char *dir)
{
  g_autofree char *xml = base_xml (EVIL_COUNT);
  char *path = write_xml (dir, "untrusted.xrm", xml);
  sign_path (path, fx->evil_key, NULL);
  return path;
}

/* (4) Signed by the attacker, who ships his certificate in KeyInfo/X509Data. */
static char *
build_keyinfo_x509 (const char *dir)
{
  g_autofree char *xml = base_xml (EVIL_COUNT);
  char *path = write_xml (dir, "keyinfo-x509.xrm", xml);
  sign_path (path, fx->evil_key, fx->evil_cert);
  return path;
}

/*
 * (4) Signed by the attacker, who ships his public key in KeyInfo/KeyValue.
 * RSA, because xmlsec 1.2 reads and writes no EC KeyValue; the host trusts an
 * RSA authority too, so the attempt reaches the key comparison.
 */
static char *
build_keyinfo_keyvalue (const char *dir)
{
  g_autofree char *xml = base_xml (EVIL_COUNT);
  char *path = write_xml (dir, "keyinfo-keyvalue.xrm", xml);
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (EVP_PKEY) pkey = NULL;
  xmlSecKeyInfoCtx *kictx;
  xmlSecKey *key;
  xmlNode *sig, *key_info;

  sign_path (path, fx->evil_rsa_key, NULL);
  doc = volact_license_read (path, &error);
  assert_non_null (doc);
  sig = xmlSecFindChild (xmlDocGetRootElement (doc), xmlSecNodeSignature, xmlSecDSigNs);
  assert_non_null (sig);
  /* KeyInfo is not signed: anyone may add one after the fact. */
  key_info = xmlSecTmplSignatureEnsureKeyInfo (sig, NULL);
  assert_non_null (xmlSecTmplKeyInfoAddKeyValue (key_info));
  pkey = volact_crypto_load_private_key (fx->evil_rsa_key, &error);
  assert_non_null (pkey);
  key = xmlSecKeyCreate ();
  assert_int_equal (xmlSecKeySetValue (key, xmlSecOpenSSLEvpKeyAdopt (g_steal_pointer (&pkey))), 0);
  kictx = xmlSecKeyInfoCtxCreate (NULL);
  kictx->mode = xmlSecKeyInfoModeWrite;
  kictx->keyReq.keyType = xmlSecKeyDataTypePublic;
  assert_int_equal (xmlSecKeyInfoNodeWrite (key_info, key, kictx), 0);
  xmlSecKeyInfoCtxDestroy (kictx);
  xmlSecKeyDestroy (key);
  save_doc (doc, path);
  return path;
}

/* (5) Billion laughs: ten levels of ten references, 10^9 "lol"s if expanded. */
static char *
build_bomb (const char *dir)
{
  g_autoptr (GString) s = g_string_new ("<?xml version=\"1.0\"?>\n<!DOCTYPE license [\n"
                                        "  <!ENTITY lol0 \"lol\">\n");
  g_autofree char *xml = base_xml (GOOD_COUNT);

  for (int i = 1; i <= 9; i++) {
    g_string_append_printf (s, "  <!ENTITY lol%d \"", i);
    for (int j = 0; j < 10; j++)
      g_string_append_printf (s, "&lol%d;", i - 1);
    g_string_append (s, "\">\n");
  }
  g_string_append (s, "]>\n");
  /* The base document without its XML declaration, with the bomb in its title. */
  g_string_append (s, strstr (xml, "<license"));
  g_string_replace (s, "Test family, key group 2", "&lol9;", 1);
  return write_xml (dir, "bomb.xrm", s->str);
}

#define SECRET "TOP-SECRET-4711-do-not-leak"

/* (6) An external entity pointing at a file next to it. */
static char *
build_xxe (const char *dir)
{
  g_autofree char *secret = g_build_filename (dir, "secret.txt", NULL);
  g_autofree char *xml = base_xml (GOOD_COUNT);
  g_autoptr (GString) s = NULL;

  test_write_file (secret, SECRET "\n", -1);
  s = g_string_new (NULL);
  g_string_printf (s,
                   "<?xml version=\"1.0\"?>\n"
                   "<!DOCTYPE license [ <!ENTITY xxe SYSTEM \"file://%s\"> ]>\n%s",
                   secret, strstr (xml, "<license"));
  g_string_replace (s, "Test family, key group 2", "&xxe;", 1);
  return write_xml (dir, "xxe.xrm", s->str);
}

/* (6) An external DTD (no internal subset at all). */
static char *
build_external_dtd (const char *dir)
{
  g_autofree char *dtd = g_build_filename (dir, "evil.dtd", NULL);
  g_autofree char *xml = base_xml (GOOD_COUNT);
  g_autofree char *doc = NULL;

  test_write_file (dtd, "<!ENTITY title \"" SECRET "\">\n", -1);
  doc = g_strdup_printf ("<?xml version=\"1.0\"?>\n<!DOCTYPE license SYSTEM \"file://%s\">\n%s",
                         dtd, strstr (xml, "<license"));
  return write_xml (dir, "external-dtd.xrm", doc);
}

/* (7) count="0" is out of range; signed, so only the schema stands in the way. */
static char *
build_schema_range (const char *dir)
{
  return make_signed (dir, "schema-range.xrm",
                      "edition=\"test-server\" count=\"0\" virtualMachines=\"ignored\"");
}

/* (7) Defect 2: a minimum count the 16-bit wire count can never reach. */
static char *
build_schema_minimum_too_large (const char *dir)
{
  return make_signed (dir, "schema-minimum-too-large.xrm",
                      "edition=\"test-server\" count=\"65536\" virtualMachines=\"ignored\"");
}

/* (7) virtualMachines is missing. */
static char *
build_schema_missing (const char *dir)
{
  return make_signed (dir, "schema-missing.xrm", "edition=\"test-server\" count=\"5\"");
}

/* (7) Foreign content where only info elements may be. */
static char *
build_schema_foreign (const char *dir)
{
  g_autofree char *xml = base_xml (GOOD_COUNT);
  char *path = write_xml (dir, "schema-foreign.xrm", xml);
  replace_in_file (path, "</otherInfo>", "  <evil xmlns=\"urn:example:evil\"/>\n  </otherInfo>");
  sign_path (path, fx->ref_key, fx->ref_cert);
  return path;
}

/* (8) A valid signed file padded past 256 KiB with a comment (which c14n drops). */
static char *
build_oversized (const char *dir)
{
  char *path = make_signed (dir, "oversized.xrm", GOOD_COUNT);
  g_autofree char *pad = g_strnfill (VOLACT_LICENSE_MAX_BYTES, 'x');
  g_autofree char *comment = g_strdup_printf ("<!--%s-->\n<license ", pad);
  replace_in_file (path, "<license ", comment);
  return path;
}

/* (9) The signed original hidden in otherInfo of a forged license that carries its signature. */
static char *
build_wrap_otherinfo (const char *dir)
{
  g_autofree char *orig_path = make_signed (dir, "orig-for-wrap.tmp", GOOD_COUNT);
  g_autofree char *orig = read_text (orig_path);
  g_autofree char *orig_license = slice (orig, "<license", "</license>");
  g_autofree char *orig_sig = slice (orig, "<Signature", "</Signature>");
  g_autofree char *xml = base_xml (EVIL_COUNT);
  g_autofree char *wrapped = g_strdup_printf ("%s</otherInfo>\n%s", orig_license, orig_sig);
  char *path = write_xml (dir, "wrap-otherinfo.xrm", xml);

  g_unlink (orig_path);
  replace_in_file (path, "</otherInfo>", wrapped);
  return path;
}

/* (9) The original signature moved into a forged license, the original kept in ds:Object. */
static char *
build_wrap_object (const char *dir)
{
  g_autofree char *orig_path = make_signed (dir, "orig-for-object.tmp", GOOD_COUNT);
  g_autofree char *orig = read_text (orig_path);
  g_autofree char *unsigned_orig = base_xml (GOOD_COUNT);
  g_autofree char *orig_license = slice (unsigned_orig, "<license", "</license>");
  g_autofree char *object = g_strdup_printf ("<Object>%s</Object></Signature>", orig_license);
  g_autofree char *orig_sig = slice (orig, "<Signature", "</Signature>");
  g_autoptr (GString) sig = g_string_new (orig_sig);
  g_autofree char *xml = base_xml (EVIL_COUNT);
  char *path = write_xml (dir, "wrap-object.xrm", xml);

  g_unlink (orig_path);
  g_string_replace (sig, "</Signature>", object, 1);
  g_string_append (sig, "\n</license>");
  replace_in_file (path, "</license>", sig->str);
  return path;
}

/* (9) A second license element after the signed one, as a second root. */
static char *
build_second_root (const char *dir)
{
  char *path = make_signed (dir, "second-root.xrm", GOOD_COUNT);
  g_autofree char *forged = base_xml (EVIL_COUNT);
  g_autofree char *forged_license = slice (forged, "<license", "</license>");
  g_autofree char *tail = g_strdup_printf ("</license>\n%s", forged_license);
  replace_in_file (path, "</license>", tail);
  return path;
}

/* (9) Two Signature elements at the end of the license. */
static char *
build_two_signatures (const char *dir)
{
  char *path = make_signed (dir, "two-signatures.xrm", GOOD_COUNT);
  g_autofree char *data = read_text (path);
  g_autofree char *sig = slice (data, "<Signature", "</Signature>");
  g_autofree char *tail = g_strdup_printf ("%s\n</license>", sig);
  replace_in_file (path, "</license>", tail);
  return path;
}

/* (9) A second Signature hidden in the (unsigned, schema-skipped) KeyInfo of the first. */
static char *
build_signature_in_keyinfo (const char *dir)
{
  char *path = make_signed (dir, "signature-in-keyinfo.xrm", GOOD_COUNT);
  g_autofree char *data = read_text (path);
  g_autofree char *sig = slice (data, "<Signature", "</Signature>");
  g_autofree char *tail = g_strdup_printf ("%s</KeyInfo>", sig);
  replace_in_file (path, "</KeyInfo>", tail);
  return path;
}

/* An Id on the license to point a Reference at (the first step of ID-based wrapping). */
static char *
build_reference_by_id (const char *dir)
{
  char *path = make_signed (dir, "reference-by-id.xrm", GOOD_COUNT);
  replace_in_file (path, "<license ", "<license Id=\"x\" ");
  replace_in_file (path, "URI=\"\"", "URI=\"#x\"");
  return path;
}

/* An empty Signature element where the signature should be. */
static char *
build_empty_signature (const char *dir)
{
  g_autofree char *xml = base_xml (GOOD_COUNT);
  char *path = write_xml (dir, "empty-signature.xrm", xml);
  replace_in_file (path, "</license>",
                   "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"/>\n</license>");
  return path;
}

/* No Signature element at all. */
static char *
build_unsigned (const char *dir)
{
  g_autofree char *xml = base_xml (GOOD_COUNT);
  return write_xml (dir, "unsigned.xrm", xml);
}

/* Not well-formed. */
static char *
build_malformed (const char *dir)
{
  char *path = make_signed (dir, "malformed.xrm", GOOD_COUNT);
  replace_in_file (path, "</grant>", "</grnat>");
  return path;
}

/* (16) 20,000 attributes on one element: refused while parsing, before the
 * schema (whose error reporting is quadratic in them) ever sees the tree. */
static char *
build_many_attributes (const char *dir)
{
  g_autoptr (GString) attrs = g_string_new (GOOD_COUNT);
  g_autofree char *xml = NULL;

  for (guint i = 0; i < 20000; i++)
    g_string_append_printf (attrs, " a%u=\"x\"", i);
  xml = base_xml (attrs->str);
  g_assert_cmpuint (strlen (xml), <, VOLACT_LICENSE_MAX_BYTES);
  return write_xml (dir, "many-attributes.xrm", xml);
}

/* A good signed file NAME with OPEN N times, then CLOSE N times, at the start of otherInfo. */
static char *
make_with_other_info (const char *dir, const char *name, const char *open, const char *close,
                      guint n)
{
  char *path = make_signed (dir, name, GOOD_COUNT);
  g_autoptr (GString) extra = g_string_new ("<otherInfo>\n");

  for (guint i = 0; i < n; i++)
    g_string_append (extra, open);
  for (guint i = 0; i < n; i++)
    g_string_append (extra, close);
  replace_in_file (path, "<otherInfo>\n", extra->str);
  return path;
}

/* (17) Elements nested 100 deep inside otherInfo. */
static char *
build_deep (const char *dir)
{
  return make_with_other_info (dir, "deep.xrm", "<info>", "</info>", 100);
}

/* (18) 5,000 small elements: each cheap, together more than a license has. */
static char *
build_many_elements (const char *dir)
{
  return make_with_other_info (dir, "many-elements.xrm", "<info name=\"n\" value=\"v\"/>", "",
                               5000);
}

/* (19) A FIFO named like a license file: refused at once, never waited on. */
static char *
build_fifo (const char *dir)
{
  char *path = g_build_filename (dir, "fifo.xrm", NULL);
  assert_int_equal (mkfifo (path, 0600), 0);
  return path;
}

/* (20) A symbolic link to a good file: refused, license files are regular files. */
static char *
build_symlink (const char *dir)
{
  g_autofree char *target = make_signed (dir, "link-target.xml", GOOD_COUNT);
  char *path = g_build_filename (dir, "symlink.xrm", NULL);
  assert_int_equal (symlink (target, path), 0);
  return path;
}

typedef struct {
  const char *name;
  char *(*build) (const char *dir);
  int code;
  const char *needle; /* a piece of the message only the guarding check writes */
} Attack;

static const Attack attacks[] = {
  { "flipped-text", build_flipped_text, VOLACT_E_SIGNATURE, "does not verify" },
  { "flipped-attr", build_flipped_attr, VOLACT_E_SIGNATURE, "does not verify" },
  { "untrusted", build_untrusted, VOLACT_E_SIGNATURE, "does not verify with any trusted" },
  { "keyinfo-x509", build_keyinfo_x509, VOLACT_E_SIGNATURE, "does not verify with any trusted" },
  { "keyinfo-keyvalue", build_keyinfo_keyvalue, VOLACT_E_SIGNATURE,
    "does not verify with any trusted" },
  { "bomb", build_bomb, VOLACT_E_XML_DOCTYPE, ":2: DOCTYPE refused" },
  { "xxe", build_xxe, VOLACT_E_XML_DOCTYPE, ":2: DOCTYPE refused" },
  { "external-dtd", build_external_dtd, VOLACT_E_XML_DOCTYPE, ":2: DOCTYPE refused" },
  { "schema-range", build_schema_range, VOLACT_E_XML_SCHEMA,
    ":13: Element '{urn:volact:xrm:1}minimumCount'" },
  /* The message names the edition, not only the line. */
  { "schema-minimum-too-large", build_schema_minimum_too_large, VOLACT_E_XML_SCHEMA,
    "'65536' is greater than the maximum value allowed ('65535'). (in <minimumCount "
    "edition=\"test-server\">)" },
  { "schema-missing", build_schema_missing, VOLACT_E_XML_SCHEMA,
    ":13: Element '{urn:volact:xrm:1}minimumCount'" },
  { "schema-foreign", build_schema_foreign, VOLACT_E_XML_SCHEMA, "{urn:example:evil}evil" },
  { "oversized", build_oversized, VOLACT_E_TOO_LARGE, "at most 262144 bytes" },
  { "wrap-otherinfo", build_wrap_otherinfo, VOLACT_E_XML_SCHEMA, "{urn:volact:xrm:1}license" },
  { "wrap-object", build_wrap_object, VOLACT_E_SIGNATURE,
    "may hold only SignedInfo, SignatureValue and KeyInfo" },
  { "second-root", build_second_root, VOLACT_E_XML_PARSE, "Extra content" },
  { "two-signatures", build_two_signatures, VOLACT_E_XML_SCHEMA,
    "{http://www.w3.org/2000/09/xmldsig#}Signature" },
  { "signature-in-keyinfo", build_signature_in_keyinfo, VOLACT_E_SIGNATURE,
    "more than one Signature element" },
  { "reference-by-id", build_reference_by_id, VOLACT_E_XML_SCHEMA, "attribute 'Id'" },
  { "empty-signature", build_empty_signature, VOLACT_E_SIGNATURE, "Signature may hold only" },
  { "unsigned", build_unsigned, VOLACT_E_XML_SCHEMA, "Missing child element" },
  { "malformed", build_malformed, VOLACT_E_XML_PARSE, ":15: " },
  { "many-attributes", build_many_attributes, VOLACT_E_TOO_LARGE,
    ":13: refused before parsing: an element has 20003 attributes and namespace "
    "declarations; at most 64 are allowed" },
  { "deep", build_deep, VOLACT_E_TOO_LARGE, "elements are nested more than 32 deep" },
  { "many-elements", build_many_elements, VOLACT_E_TOO_LARGE, "more than 4096 elements" },
  { "fifo", build_fifo, VOLACT_E_IO, "not a regular file (a FIFO)" },
  { "symlink", build_symlink, VOLACT_E_IO, "a symbolic link" },
};

static const Attack *
attack (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (attacks); i++)
    if (strcmp (attacks[i].name, name) == 0)
      return &attacks[i];
  fail_msg ("no attack %s", name);
  return NULL;
}

/* Builds attack NAME in a fresh folder and asserts it is refused as expected. */
static char *
run_attack (const char *name, char **dir_out)
{
  const Attack *a = attack (name);
  char *dir = test_tmpdir ();
  char *path = a->build (dir);

  assert_refused (path, fx->trust, a->code, a->needle);
  *dir_out = dir;
  return path;
}

static void
cleanup_attack (char *dir, char *path)
{
  test_rmtree (dir);
  g_free (dir);
  g_free (path);
}

/* Tests */

/* (1) The valid signed file loads, and the plugin view reads it. */
static void
test_valid_loads (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = make_signed (dir, "good.xrm", GOOD_COUNT);
  g_autoptr (VolactLicense) lic = assert_loads (path, fx->trust);
  const VolactDocument *doc = volact_license_document (lic);
  const VolactNode *grant, *cond, *n;

  assert_string_equal (volact_license_path (lic), path);
  assert_string_equal (volact_license_kind (lic), "ppd");
  assert_string_equal (volact_license_family (lic), "testfam");
  assert_string_equal (volact_license_id (lic), "test2ppd");
  assert_string_equal (doc->kind, "ppd");
  assert_string_equal (doc->family, "testfam");
  assert_string_equal (volact_xml_node_name (doc->root), "license");
  assert_int_equal (volact_xml_node_line (doc->root), 2);

  grant = volact_xml_node_child (doc->root, "grant");
  assert_non_null (grant);
  cond = volact_xml_node_child (grant, "condition");
  n = volact_xml_node_child (cond, "minimumCount");
  assert_non_null (n);
  assert_string_equal (volact_xml_node_attr (n, "count"), "5");
  assert_string_equal (volact_xml_node_attr (n, "edition"), "test-server");
  assert_null (volact_xml_node_attr (n, "missing"));
  assert_int_equal (volact_xml_node_line (n), 13);
  assert_string_equal (volact_xml_node_name (volact_xml_node_child (cond, NULL)), "policy");
  assert_null (volact_xml_node_next (n, NULL));
  assert_string_equal (volact_xml_node_name (volact_xml_node_next (grant, NULL)), "otherInfo");
  /* The signature is not in the XrM namespace, so plugins never see it. */
  assert_null (volact_xml_node_next (volact_xml_node_child (doc->root, "otherInfo"), NULL));
  assert_null (volact_xml_node_child (doc->root, "Signature"));

  test_rmtree (dir);
}

/* (2) One changed byte after signing. */
static void
test_flipped_byte (void **state)
{
  const char *names[] = { "flipped-text", "flipped-attr" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    char *dir, *path = run_attack (names[i], &dir);
    cleanup_attack (dir, path);
  }
}

/* (3) A valid signature by an untrusted key: refused; trusting that key, it loads. */
static void
test_untrusted_key (void **state)
{
  char *dir, *path = run_attack ("untrusted", &dir);
  g_autoptr (VolactTrust) evil = load_trust (fx->evil_cert);
  g_autoptr (VolactTrust) both = load_trust (fx->both_certs);
  g_autoptr (VolactLicense) a = NULL;
  g_autoptr (VolactLicense) b = NULL;

  /* The signature itself is sound: only trust separates good from bad. */
  a = assert_loads (path, evil);
  /* Every trusted key is tried, not only the first. */
  assert_int_equal (volact_trust_n_keys (both), 2);
  b = assert_loads (path, both);
  cleanup_attack (dir, path);
}

/* Whether a verifier that takes the key from KeyInfo would accept PATH. */
static gboolean
naive_keyinfo_verify (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = volact_license_read (path, &error);
  xmlSecKeysMngr *mngr = xmlSecKeysMngrCreate ();
  xmlSecDSigCtx *ctx;
  gboolean ok;

  assert_non_null (doc);
  assert_int_equal (xmlSecCryptoAppDefaultKeysMngrInit (mngr), 0);
  ctx = xmlSecDSigCtxCreate (mngr);
  ctx->keyInfoReadCtx.flags |= XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS;
  ok = xmlSecDSigCtxVerify (
           ctx, xmlSecFindChild (xmlDocGetRootElement (doc), xmlSecNodeSignature, xmlSecDSigNs))
           == 0
       && ctx->status == xmlSecDSigStatusSucceeded;
  xmlSecDSigCtxDestroy (ctx);
  xmlSecKeysMngrDestroy (mngr);
  return ok;
}

/* (4) The attacker's key in KeyInfo (certificate or bare key value) is never used. */
static void
test_keyinfo_ignored (void **state)
{
  const char *names[] = { "keyinfo-x509", "keyinfo-keyvalue" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    char *dir, *path = run_attack (names[i], &dir);
    /* The files are real attacks: trusting KeyInfo would accept them. */
    assert_true (naive_keyinfo_verify (path));
    cleanup_attack (dir, path);
  }
}

/* (5) An entity bomb is refused at the DOCTYPE, before anything is declared or expanded. */
static void
test_entity_bomb (void **state)
{
  struct rusage before, after;
  char *dir, *path;

  getrusage (RUSAGE_SELF, &before);
  path = run_attack ("bomb", &dir);
  getrusage (RUSAGE_SELF, &after);
  /* 10^9 expansions would need gigabytes; refusing needs next to nothing (ru_maxrss is KiB). */
  assert_true (after.ru_maxrss - before.ru_maxrss < 16 * 1024);
  cleanup_attack (dir, path);
}

/* (6) External entities and DTDs are refused without being read. */
static void
test_external_entity (void **state)
{
  const char *names[] = { "xxe", "external-dtd" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    const Attack *a = attack (names[i]);
    g_autofree char *dir = test_tmpdir ();
    g_autofree char *path = a->build (dir);
    g_autoptr (GError) error = NULL;
    g_autoptr (VolactLicense) lic = volact_license_load (path, fx->trust, &error);

    assert_null (lic);
    assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_XML_DOCTYPE));
    assert_non_null (strstr (error->message, path));
    assert_null (strstr (error->message, SECRET));
    assert_null (strstr (error->message, "TOP-SECRET"));
    test_rmtree (dir);
  }
}

/* (7) Schema violations name the file and the line of the offending element. */
static void
test_schema_invalid (void **state)
{
  const char *names[]
      = { "schema-range", "schema-minimum-too-large", "schema-missing", "schema-foreign" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    char *dir, *path = run_attack (names[i], &dir);
    cleanup_attack (dir, path);
  }
}

/* Unknown kinds and foreign roots never reach a schema. */
static void
test_schema_kind_and_root (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *xml = base_xml (GOOD_COUNT);
  g_autofree char *path = write_xml (dir, "kind.xrm", xml);
  g_autofree char *wrapped = NULL;

  replace_in_file (path, "kind=\"ppd\"", "kind=\"xyz\"");
  assert_refused (path, fx->trust, VOLACT_E_XML_SCHEMA, ":2: unknown license kind \"xyz\"");

  replace_in_file (path, "kind=\"xyz\"", "kind=\"pl\"");
  assert_refused (path, fx->trust, VOLACT_E_XML_SCHEMA, ":8: Element '{urn:volact:xrm:1}resource'");

  wrapped = g_strdup_printf ("<wrapper xmlns=\"urn:volact:xrm:1\">%s</wrapper>",
                             strstr (xml, "<license"));
  test_write_file (path, wrapped, -1);
  assert_refused (path, fx->trust, VOLACT_E_XML_SCHEMA, "root element must be");
  test_rmtree (dir);
}

/* (8) Files over 256 KiB are refused; the same padding below the cap loads. */
static void
test_oversized (void **state)
{
  char *dir, *path = run_attack ("oversized", &dir);
  g_autofree char *small = make_signed (dir, "small.xrm", GOOD_COUNT);
  g_autoptr (VolactLicense) lic = NULL;

  replace_in_file (small, "<license ", "<!-- short padding -->\n<license ");
  lic = assert_loads (small, fx->trust);
  cleanup_attack (dir, path);
}

/* (9) Signature wrapping and signature count. */
static void
test_wrapping (void **state)
{
  const char *names[] = { "wrap-otherinfo", "wrap-object", "second-root", "two-signatures",
                          "signature-in-keyinfo" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    char *dir, *path = run_attack (names[i], &dir);
    cleanup_attack (dir, path);
  }
}

/* The signature-in-KeyInfo file is what a plain xmlsec verification accepts. */
static void
test_signature_in_keyinfo_is_real (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = build_signature_in_keyinfo (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = volact_license_read (path, &error);
  xmlSecDSigCtx *ctx = xmlSecDSigCtxCreate (NULL);
  xmlSecKeyData *data;
  g_autoptr (EVP_PKEY) key = NULL;

  assert_non_null (doc);
  key = EVP_PKEY_dup (volact_trust_key (fx->trust, 0));
  data = xmlSecOpenSSLEvpKeyAdopt (g_steal_pointer (&key));
  ctx->signKey = xmlSecKeyCreate ();
  assert_int_equal (xmlSecKeySetValue (ctx->signKey, data), 0);
  assert_int_equal (xmlSecDSigCtxVerify (ctx, xmlSecFindChild (xmlDocGetRootElement (doc),
                                                               xmlSecNodeSignature, xmlSecDSigNs)),
                    0);
  assert_int_equal (ctx->status, xmlSecDSigStatusSucceeded);
  xmlSecDSigCtxDestroy (ctx);
  test_rmtree (dir);
}

/* Shape checks of volact_xmlsig_verify called directly (no schema in front). */
static void
test_signature_shape (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = make_signed (dir, "shape.xrm", GOOD_COUNT);
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = volact_license_read (path, &error);
  xmlNode *root = xmlDocGetRootElement (doc);
  xmlNode *sig = xmlSecFindChild (root, xmlSecNodeSignature, xmlSecDSigNs);
  xmlNode *extra;

  assert_true (volact_xmlsig_verify (doc, fx->trust, path, &error));

  /* An element after the Signature. */
  extra = xmlNewChild (root, root->ns, BAD_CAST "otherInfo", NULL);
  assert_false (volact_xmlsig_verify (doc, fx->trust, path, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_SIGNATURE));
  assert_non_null (strstr (error->message, "not the last child"));
  g_clear_error (&error);
  xmlUnlinkNode (extra);
  xmlFreeNode (extra);

  /* No Signature at all. */
  xmlUnlinkNode (sig);
  assert_false (volact_xmlsig_verify (doc, fx->trust, path, &error));
  assert_non_null (strstr (error->message, "no Signature element"));
  g_clear_error (&error);
  xmlAddChild (root, sig);
  assert_true (volact_xmlsig_verify (doc, fx->trust, path, &error));

  /* A root other than license. */
  xmlNodeSetName (root, BAD_CAST "wrapper");
  assert_false (volact_xmlsig_verify (doc, fx->trust, path, &error));
  assert_non_null (strstr (error->message, "root element"));
  g_clear_error (&error);
  test_rmtree (dir);
}

/* Algorithm suite: RSA works with an RSA authority; an EC-only trust names what it lacks. */
static void
test_rsa_authority (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *xml = base_xml (GOOD_COUNT);
  g_autofree char *path = write_xml (dir, "rsa.xrm", xml);
  g_autoptr (VolactTrust) rsa = load_trust (fx->rsa_cert);
  g_autoptr (VolactLicense) lic = NULL;
  g_autoptr (VolactLicense) lic2 = NULL;
  g_autofree char *data = NULL;

  sign_path (path, fx->rsa_key, fx->rsa_cert);
  data = read_text (path);
  assert_non_null (strstr (data, "xmldsig-more#rsa-sha256"));
  lic = assert_loads (path, rsa);
  lic2 = assert_loads (path, fx->trust);
  assert_refused (path, fx->ref_trust, VOLACT_E_SIGNATURE, "has no RSA key");
  test_rmtree (dir);
}

/* The Reference must be URI="" and the whole algorithm suite is fixed. */
static void
test_reference_shape (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = make_signed (dir, "ref.xrm", GOOD_COUNT);
  g_autofree char *orig = read_text (path);
  struct {
    const char *from, *to, *needle;
  } edits[] = {
    { "URI=\"\"", "URI=\"#x\"", "URI=\"\"" },
    { "<Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>", "",
      "exactly enveloped-signature then exclusive c14n" },
    { "xmlenc#sha256", "xmldsig#sha1", "digest method must be SHA-256" },
    { "<CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
      "<CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
      "canonicalization must be exclusive c14n" },
    { "xmldsig-more#ecdsa-sha256", "xmldsig#dsa-sha1", "ECDSA-SHA256 or RSA-SHA256" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (edits); i++) {
    test_write_file (path, orig, -1);
    replace_in_file (path, edits[i].from, edits[i].to);
    assert_refused (path, fx->trust, VOLACT_E_SIGNATURE, edits[i].needle);
  }
  test_rmtree (dir);
}

/* Unsigned and malformed files. */
static void
test_unsigned_and_malformed (void **state)
{
  const char *names[] = { "empty-signature", "unsigned", "malformed" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    char *dir, *path = run_attack (names[i], &dir);
    cleanup_attack (dir, path);
  }
}

/* (16-18) Documents over the bounds are refused naming the file and the bound;
 * the reference data is far below them. */
static void
run_attacks (const char *const *names)
{
  for (; *names != NULL; names++) {
    char *dir, *path = run_attack (*names, &dir);
    cleanup_attack (dir, path);
  }
}

static void
test_bounds (void **state)
{
  static const char *const names[] = { "many-attributes", "deep", "many-elements", NULL };
  run_attacks (names);
}

/* (19-20) A FIFO or a symbolic link is refused (and a FIFO without a writer
 * would have blocked open() for good without O_NONBLOCK). */
static void
test_not_regular (void **state)
{
  static const char *const names[] = { "fifo", "symlink", NULL };
  run_attacks (names);
}

/* (10) All attack files in one folder with a good one: only the good one loads. */
static void
test_folder (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *good = make_signed (dir, "zz-good.xrm", GOOD_COUNT);
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GDir) d = NULL;
  const char *name;
  guint loaded = 0, refused = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (attacks); i++)
    g_hash_table_insert (expected, attacks[i].build (dir), (gpointer) &attacks[i]);

  d = g_dir_open (dir, 0, NULL);
  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (VolactLicense) lic = NULL;
    const Attack *a;

    if (!g_str_has_suffix (name, ".xrm"))
      continue; /* secret.txt, evil.dtd */
    lic = volact_license_load (path, fx->trust, &error);
    if (lic != NULL) {
      assert_string_equal (path, good);
      loaded++;
      continue;
    }
    a = g_hash_table_lookup (expected, path);
    if (a == NULL)
      fail_msg ("%s refused: %s", path, error->message);
    if (!g_error_matches (error, VOLACT_ERROR, a->code))
      fail_msg ("%s: expected 0x%08X: %s", path, (guint32) a->code, error->message);
    refused++;
  }
  assert_int_equal (loaded, 1);
  assert_int_equal (refused, G_N_ELEMENTS (attacks));
  test_rmtree (dir);
}

/* Trust store and key loading errors name the file. */
static void
test_trust_errors (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.pem", NULL);
  g_autofree char *empty = write_xml (dir, "empty.pem", "# no certificate here\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  assert_null (volact_trust_load (missing, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, missing));
  g_clear_error (&error);

  assert_null (volact_trust_load (empty, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CRYPTO));
  assert_non_null (strstr (error->message, empty));
  g_clear_error (&error);

  /* The reference key file starts with '#' comment lines; it loads all the same. */
  key = volact_crypto_load_private_key (fx->ref_key, &error);
  assert_non_null (key);
  assert_true (volact_crypto_key_is_ec (key));

  /* A private key is never written over an existing file. */
  assert_false (volact_crypto_write_private_key (fx->evil_key, key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, "refusing to overwrite"));
  test_rmtree (dir);
}

/* Fixture */

static int
setup (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *evil_pem = NULL;
  g_autofree char *ref_pem = NULL;
  g_autofree char *rsa_pem = NULL;
  g_autofree char *both = NULL;
  g_autofree char *trusted = NULL;

  if (!volact_xmlsig_init (&error)) {
    print_error ("%s\n", error->message);
    return -1;
  }
  fx = g_new0 (Fixture, 1);
  fx->tmp = test_tmpdir ();
  fx->ref_key = test_srcpath ("licenses/reference-authority.key");
  fx->ref_cert = test_reference_trust ();
  make_authority (fx->tmp, "evil", FALSE, &fx->evil_key, &fx->evil_cert);
  make_authority (fx->tmp, "rsa", TRUE, &fx->rsa_key, &fx->rsa_cert);
  make_authority (fx->tmp, "evilrsa", TRUE, &fx->evil_rsa_key, &fx->evil_rsa_cert);
  evil_pem = read_text (fx->evil_cert);
  ref_pem = read_text (fx->ref_cert);
  rsa_pem = read_text (fx->rsa_cert);
  both = g_strconcat (evil_pem, ref_pem, NULL);
  fx->both_certs = write_xml (fx->tmp, "both.pem", both);
  trusted = g_strconcat (ref_pem, rsa_pem, NULL);
  fx->trust_file = write_xml (fx->tmp, "trust.pem", trusted);
  fx->trust = load_trust (fx->trust_file);
  fx->ref_trust = load_trust (fx->ref_cert);
  return 0;
}

static int
teardown (void **state)
{
  volact_trust_free (fx->trust);
  volact_trust_free (fx->ref_trust);
  test_rmtree (fx->tmp);
  g_free (fx->tmp);
  g_free (fx->ref_key);
  g_free (fx->ref_cert);
  g_free (fx->evil_key);
  g_free (fx->evil_cert);
  g_free (fx->rsa_key);
  g_free (fx->rsa_cert);
  g_free (fx->evil_rsa_key);
  g_free (fx->evil_rsa_cert);
  g_free (fx->both_certs);
  g_free (fx->trust_file);
  g_clear_pointer (&fx, g_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_valid_loads),
    cmocka_unit_test (test_flipped_byte),
    cmocka_unit_test (test_untrusted_key),
    cmocka_unit_test (test_keyinfo_ignored),
    cmocka_unit_test (test_entity_bomb),
    cmocka_unit_test (test_external_entity),
    cmocka_unit_test (test_schema_invalid),
    cmocka_unit_test (test_schema_kind_and_root),
    cmocka_unit_test (test_oversized),
    cmocka_unit_test (test_wrapping),
    cmocka_unit_test (test_signature_in_keyinfo_is_real),
    cmocka_unit_test (test_signature_shape),
    cmocka_unit_test (test_rsa_authority),
    cmocka_unit_test (test_reference_shape),
    cmocka_unit_test (test_unsigned_and_malformed),
    cmocka_unit_test (test_bounds),
    cmocka_unit_test (test_not_regular),
    cmocka_unit_test (test_folder),
    cmocka_unit_test (test_trust_errors),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
