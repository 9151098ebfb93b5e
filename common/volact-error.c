/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-error.h"

#include <stdlib.h>

/* The domain's string is VOLACT_PLUGIN_ERROR_DOMAIN_NAME: plugins name it by string. */
// clang-format off
G_DEFINE_QUARK (volact-error-quark, volact_error)
// clang-format on

typedef struct {
  guint32 code;
  const char *name;
  const char *text;
} ErrorEntry;

/* The one table of codes: add a code here and everything (explain, JSON, logs) knows it. */
static const ErrorEntry error_table[] = {
  { 0x00000000u, "OK", "The operation completed successfully." },
  { 0xC004F050u, "INVALID_KEY",
    "The Software Licensing service reported that the product key is invalid." },
  { 0xC004F038u, "COUNT_INSUFFICIENT",
    "The returned count from your Key Management Service is insufficient." },
  { 0xC004F068u, "VM_NOT_SUPPORTED",
    "The software Licensing Service determined that it is running in a virtual machine. "
    "The Key Management Service (KMS) is not supported in this mode." },
  { 0x8007267Cu, "NO_DNS_SERVERS", "No DNS servers configured for local system." },
  { 0xC0AC0001u, "FAILED", "The operation failed; the message says why." },
  { 0xC0AC0002u, "IO", "A file could not be read or written." },
  { 0xC0AC0003u, "CONFIG", "A configuration value is missing, malformed or out of range." },
  { 0xC0AC0004u, "TOO_LARGE", "The input is larger than volact accepts." },
  { 0xC0AC0005u, "XML_PARSE", "The license file is not well-formed XML." },
  { 0xC0AC0006u, "XML_DOCTYPE",
    "The license file contains a DOCTYPE or entity declaration, which volact refuses." },
  { 0xC0AC0007u, "XML_SCHEMA", "The license file does not match the schema of its kind." },
  { 0xC0AC0008u, "SIGNATURE",
    "A license file or host certificate signature is missing, invalid, or not made by a "
    "trusted authority." },
  { 0xC0AC0009u, "UNCLAIMED", "No loaded plugin interprets this license family." },
  { 0xC0AC000Au, "CATALOG", "The license data is inconsistent or incomplete." },
  { 0xC0AC000Bu, "CRYPTO", "A cryptographic operation failed." },
  { 0xC0AC0101u, "PLUGIN_OPEN", "The plugin module could not be opened." },
  { 0xC0AC0102u, "PLUGIN_NO_DESCRIPTOR", "The module exports no volact_plugin descriptor." },
  { 0xC0AC0103u, "PLUGIN_ABI", "The plugin was built for a different plugin ABI version." },
  { 0xC0AC0104u, "PLUGIN_NAME", "The plugin's descriptor name does not match its file name." },
  { 0xC0AC0105u, "PLUGIN_DUPLICATE", "A plugin of the same name is already loaded." },
  { 0xC0AC0106u, "PLUGIN_LOAD", "The plugin failed to initialise." },
  { 0xC0AC0107u, "PLUGIN_INTERPRET", "The plugin refused a license document." },
  { 0xC0AC0201u, "KEY_HOST_LIMIT",
    "The host key has reached the number of hosts it may activate." },
  { 0xC0AC0202u, "HOST_REACTIVATION_LIMIT",
    "This host has reached the number of times it may be activated with this key." },
  { 0xC0AC0301u, "ID_GROUP", "A group of the Installation or Confirmation ID is mistyped." },
  { 0xC0AC0302u, "ID_FORMAT",
    "The Installation or Confirmation ID has the wrong length or characters." },
  { 0xC0AC0303u, "CID_INVALID", "The Confirmation ID is not valid for this host." },
  { 0xC0AC0401u, "NO_KEY", "No host key is installed. Install one with: volactctl ipk KEY" },
  { 0xC0AC0402u, "NOT_ACTIVATED",
    "The host is not activated, so it cannot serve clients. Activate it with volactctl ato, "
    "or volactctl dti and atp." },
  { 0xC0AC0403u, "PHONE_NOT_ALLOWED",
    "The license data does not allow telephone activation for this key group." },
  { 0xC0AC0404u, "AUTHORITY",
    "The activation authority could not be reached or gave an unusable answer." },
  { 0xC0AC0405u, "NOT_AVAILABLE", "This command is not available yet in this version of volact." },
  { 0xC0AC0406u, "PERMISSION", "You may not administer this host (root or the admin group only)." },
  { 0xC0AC0501u, "EDITION_NOT_COVERED", "The host's key does not activate this edition." },
  { 0xC0AC0502u, "EDITION_UNKNOWN", "The host does not know this edition." },
  { 0xC0AC0503u, "PROTOCOL_VERSION", "The host does not speak this protocol version." },
  { 0xC0AC0504u, "RESPONSE_INVALID",
    "The host's response failed verification; it is not a trusted, activated volact host." },
  { 0xC0AC0505u, "REQUEST_MALFORMED", "The request is malformed." },
  { 0xC0AC0506u, "HOST_BUSY", "The host cannot store the activation right now; try again later." },
  { 0xC0AC0507u, "HOST_UNREACHABLE",
    "No volact host could be reached, or it closed the connection without an answer." },
};

static const ErrorEntry *
find_entry (guint32 code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++)
    if (error_table[i].code == code)
      return &error_table[i];
  return NULL;
}

const char *
volact_error_text (guint32 code)
{
  const ErrorEntry *e = find_entry (code);
  return e ? e->text : NULL;
}

const char *
volact_error_name (guint32 code)
{
  const ErrorEntry *e = find_entry (code);
  return e ? e->name : NULL;
}

gboolean
volact_error_parse_code (const char *text, guint32 *out)
{
  const char *p = text;
  char *end = NULL;
  guint64 v;
  int base = 10;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    base = 16;
  } else {
    for (const char *q = p; *q; q++)
      if (g_ascii_isalpha (*q))
        base = 16;
  }
  if (!g_ascii_isxdigit (*p))
    return FALSE;
  v = g_ascii_strtoull (p, &end, base);
  if (*end != '\0' || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

void
volact_error_foreach (void (*func) (guint32, const char *, const char *, gpointer),
                      gpointer user_data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++)
    func (error_table[i].code, error_table[i].name, error_table[i].text, user_data);
}
