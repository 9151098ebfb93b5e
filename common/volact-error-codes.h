/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one list of volact's error codes. Each line is
 *
 *   VOLACT_ERROR_CODE (NAME, 0xXXXXXXXXu, "text")
 *
 * and becomes the enum value VOLACT_E_NAME (volact-error.h), the symbolic
 * name "NAME" and the text `volactctl explain` prints (volact-error.c), so
 * the three cannot drift. Where the KMS documents name a code, its code and
 * text are kept; volact's own codes live in 0xC0AC_xxxx. Never renumber a
 * code: scripts and logs depend on them. libvolact's public macros
 * (VOLACT_RESULT_* in client/volact.h) repeat the client-side ones and
 * tests/test-error.c checks they match.
 *
 * No include guard: the includer defines VOLACT_ERROR_CODE first.
 */
VOLACT_ERROR_CODE (OK, 0x00000000u, "The operation completed successfully.")

/* Codes the KMS operations guide and knowledge-base articles name (with their text). */
VOLACT_ERROR_CODE (INVALID_KEY, 0xC004F050u,
                   "The Software Licensing service reported that the product key is invalid.")
VOLACT_ERROR_CODE (COUNT_INSUFFICIENT, 0xC004F038u,
                   "The returned count from your Key Management Service is insufficient.")
VOLACT_ERROR_CODE (VM_NOT_SUPPORTED, 0xC004F068u,
                   "The software Licensing Service determined that it is running in a virtual "
                   "machine. The Key Management Service (KMS) is not supported in this mode.")
VOLACT_ERROR_CODE (NO_DNS_SERVERS, 0x8007267Cu, "No DNS servers configured for local system.")

/* volact's own: files and data. */
VOLACT_ERROR_CODE (FAILED, 0xC0AC0001u, "The operation failed; the message says why.")
VOLACT_ERROR_CODE (IO, 0xC0AC0002u, "A file could not be read or written.")
VOLACT_ERROR_CODE (CONFIG, 0xC0AC0003u,
                   "A configuration value is missing, malformed or out of range.")
VOLACT_ERROR_CODE (TOO_LARGE, 0xC0AC0004u, "The input is larger than volact accepts.")
VOLACT_ERROR_CODE (XML_PARSE, 0xC0AC0005u, "The license file is not well-formed XML.")
VOLACT_ERROR_CODE (
    XML_DOCTYPE, 0xC0AC0006u,
    "The license file contains a DOCTYPE or entity declaration, which volact refuses.")
VOLACT_ERROR_CODE (XML_SCHEMA, 0xC0AC0007u,
                   "The license file does not match the schema of its kind.")
VOLACT_ERROR_CODE (SIGNATURE, 0xC0AC0008u,
                   "A license file or host certificate signature is missing, invalid, or not made "
                   "by a trusted authority.")
VOLACT_ERROR_CODE (UNCLAIMED, 0xC0AC0009u, "No loaded plugin interprets this license family.")
VOLACT_ERROR_CODE (CATALOG, 0xC0AC000Au, "The license data is inconsistent or incomplete.")
VOLACT_ERROR_CODE (CRYPTO, 0xC0AC000Bu, "A cryptographic operation failed.")

/* Plugins. */
VOLACT_ERROR_CODE (PLUGIN_OPEN, 0xC0AC0101u, "The plugin module could not be opened.")
VOLACT_ERROR_CODE (PLUGIN_NO_DESCRIPTOR, 0xC0AC0102u,
                   "The module exports no volact_plugin descriptor.")
VOLACT_ERROR_CODE (PLUGIN_ABI, 0xC0AC0103u,
                   "The plugin was built for a different plugin ABI version.")
VOLACT_ERROR_CODE (PLUGIN_NAME, 0xC0AC0104u,
                   "The plugin's descriptor name does not match its file name.")
VOLACT_ERROR_CODE (PLUGIN_DUPLICATE, 0xC0AC0105u, "A plugin of the same name is already loaded.")
VOLACT_ERROR_CODE (PLUGIN_LOAD, 0xC0AC0106u, "The plugin failed to initialise.")
VOLACT_ERROR_CODE (PLUGIN_INTERPRET, 0xC0AC0107u, "The plugin refused a license document.")

/* Host activation: the authority's ledger limits and the Installation/Confirmation IDs. */
VOLACT_ERROR_CODE (KEY_HOST_LIMIT, 0xC0AC0201u,
                   "The host key has reached the number of hosts it may activate.")
VOLACT_ERROR_CODE (HOST_REACTIVATION_LIMIT, 0xC0AC0202u,
                   "This host has reached the number of times it may be activated with this key.")
VOLACT_ERROR_CODE (ID_GROUP, 0xC0AC0301u,
                   "A group of the Installation or Confirmation ID is mistyped.")
VOLACT_ERROR_CODE (ID_FORMAT, 0xC0AC0302u,
                   "The Installation or Confirmation ID has the wrong length or characters.")
VOLACT_ERROR_CODE (CID_INVALID, 0xC0AC0303u, "The Confirmation ID is not valid for this host.")

/* The host's own state. */
VOLACT_ERROR_CODE (NO_KEY, 0xC0AC0401u,
                   "No host key is installed. Install one with: volactctl ipk KEY")
VOLACT_ERROR_CODE (NOT_ACTIVATED, 0xC0AC0402u,
                   "The host is not activated, so it cannot serve clients. Activate it with "
                   "volactctl ato, or volactctl dti and atp.")
VOLACT_ERROR_CODE (PHONE_NOT_ALLOWED, 0xC0AC0403u,
                   "The license data does not allow telephone activation for this key group.")
VOLACT_ERROR_CODE (AUTHORITY, 0xC0AC0404u,
                   "The activation authority could not be reached or gave an unusable answer.")
VOLACT_ERROR_CODE (NOT_AVAILABLE, 0xC0AC0405u,
                   "This command is not available yet in this version of volact.")
VOLACT_ERROR_CODE (PERMISSION, 0xC0AC0406u,
                   "You may not administer this host (root or the admin group only).")

/* The client protocol (docs/protocol.md). */
VOLACT_ERROR_CODE (EDITION_NOT_COVERED, 0xC0AC0501u,
                   "The host's key does not activate this edition.")
VOLACT_ERROR_CODE (EDITION_UNKNOWN, 0xC0AC0502u, "The host does not know this edition.")
VOLACT_ERROR_CODE (PROTOCOL_VERSION, 0xC0AC0503u, "The host does not speak this protocol version.")
VOLACT_ERROR_CODE (
    RESPONSE_INVALID, 0xC0AC0504u,
    "The host's response failed verification; it is not a trusted, activated volact host.")
VOLACT_ERROR_CODE (REQUEST_MALFORMED, 0xC0AC0505u, "The request is malformed.")
VOLACT_ERROR_CODE (HOST_BUSY, 0xC0AC0506u,
                   "The host cannot store the activation right now; try again later.")
VOLACT_ERROR_CODE (
    HOST_UNREACHABLE, 0xC0AC0507u,
    "No volact host could be reached, or it closed the connection without an answer.")
VOLACT_ERROR_CODE (NEW_CMID_LIMIT, 0xC0AC0508u,
                   "The host has counted as many new machine IDs from this network address as it "
                   "accepts per period (new-cmid-limit); try again later.")
