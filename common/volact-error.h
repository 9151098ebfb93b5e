/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one GError domain of volact and its code table.
 *
 * Codes are 32-bit values printed as 0xXXXXXXXX. Where a seed document names
 * a code it is kept (0xC004F050 ...); volact's own codes live in 0xC0AC_xxxx.
 * volact_error_text() gives the text `volactctl explain` prints.
 */
#ifndef VOLACT_ERROR_H
#define VOLACT_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define VOLACT_ERROR (volact_error_quark ())
GQuark volact_error_quark (void);

/* GError codes are gint; the table stores them as guint32 and casts. */
typedef enum {
  VOLACT_OK = 0,
  /* Codes the seeds name. */
  VOLACT_E_INVALID_KEY = (gint) 0xC004F050u,       /* product key is invalid */
  VOLACT_E_COUNT_INSUFFICIENT = (gint) 0xC004F038u, /* count too low */
  VOLACT_E_VM_NOT_SUPPORTED = (gint) 0xC004F068u,   /* host in a VM, policy forbids */
  VOLACT_E_NO_DNS_SERVERS = (gint) 0x8007267Cu,     /* no DNS servers configured */
  /* volact's own: files and data. */
  VOLACT_E_FAILED = (gint) 0xC0AC0001u,        /* generic failure, text says why */
  VOLACT_E_IO = (gint) 0xC0AC0002u,            /* reading or writing a file failed */
  VOLACT_E_CONFIG = (gint) 0xC0AC0003u,        /* bad configuration value */
  VOLACT_E_TOO_LARGE = (gint) 0xC0AC0004u,     /* input over its size cap */
  VOLACT_E_XML_PARSE = (gint) 0xC0AC0005u,     /* license file is not well-formed XML */
  VOLACT_E_XML_DOCTYPE = (gint) 0xC0AC0006u,   /* DOCTYPE / entities refused */
  VOLACT_E_XML_SCHEMA = (gint) 0xC0AC0007u,    /* license file fails its XSD */
  VOLACT_E_SIGNATURE = (gint) 0xC0AC0008u,     /* signature missing, invalid or untrusted */
  VOLACT_E_UNCLAIMED = (gint) 0xC0AC0009u,     /* no loaded plugin interprets the family */
  VOLACT_E_CATALOG = (gint) 0xC0AC000Au,       /* license data conflicts or is incomplete */
  VOLACT_E_CRYPTO = (gint) 0xC0AC000Bu,        /* a cryptographic operation failed */
  /* Plugins. */
  VOLACT_E_PLUGIN_OPEN = (gint) 0xC0AC0101u,      /* module could not be opened */
  VOLACT_E_PLUGIN_NO_DESC = (gint) 0xC0AC0102u,   /* no volact_plugin descriptor */
  VOLACT_E_PLUGIN_ABI = (gint) 0xC0AC0103u,       /* ABI version mismatch */
  VOLACT_E_PLUGIN_NAME = (gint) 0xC0AC0104u,      /* descriptor name != file name */
  VOLACT_E_PLUGIN_DUPLICATE = (gint) 0xC0AC0105u, /* a plugin of that name is loaded */
  VOLACT_E_PLUGIN_LOAD = (gint) 0xC0AC0106u,      /* the plugin's load callback failed */
  VOLACT_E_PLUGIN_INTERPRET = (gint) 0xC0AC0107u, /* the plugin refused a document */
  /* Host activation: the authority's ledger limits and the Installation/Confirmation IDs. */
  VOLACT_E_KEY_HOST_LIMIT = (gint) 0xC0AC0201u,          /* key activated its max hosts */
  VOLACT_E_HOST_REACTIVATION_LIMIT = (gint) 0xC0AC0202u, /* host at its max activations */
  VOLACT_E_ID_GROUP = (gint) 0xC0AC0301u,                /* IID/CID group check digit fails */
  VOLACT_E_ID_FORMAT = (gint) 0xC0AC0302u,               /* IID/CID length, chars, content */
  VOLACT_E_CID_INVALID = (gint) 0xC0AC0303u,             /* CID does not verify for this host */
  /* The host's own state. */
  VOLACT_E_NO_KEY = (gint) 0xC0AC0401u,            /* no host key installed */
  VOLACT_E_NOT_ACTIVATED = (gint) 0xC0AC0402u,     /* host not activated */
  VOLACT_E_PHONE_NOT_ALLOWED = (gint) 0xC0AC0403u, /* key group has no telephone activation */
  VOLACT_E_AUTHORITY = (gint) 0xC0AC0404u,         /* authority unreachable or answered badly */
  VOLACT_E_NOT_AVAILABLE = (gint) 0xC0AC0405u,     /* command not available in this version */
  VOLACT_E_PERMISSION = (gint) 0xC0AC0406u,        /* caller may not administer the host */
  /* The client protocol (docs/protocol.md). */
  VOLACT_E_EDITION_NOT_COVERED = (gint) 0xC0AC0501u, /* host key does not activate edition */
  VOLACT_E_EDITION_UNKNOWN = (gint) 0xC0AC0502u,     /* no plugin defines the edition */
  VOLACT_E_PROTOCOL_VERSION = (gint) 0xC0AC0503u,    /* unsupported protocol version */
  VOLACT_E_RESPONSE_INVALID = (gint) 0xC0AC0504u,    /* response failed the client's checks */
  VOLACT_E_REQUEST_MALFORMED = (gint) 0xC0AC0505u,   /* a request field is out of range */
  VOLACT_E_HOST_BUSY = (gint) 0xC0AC0506u,           /* record cannot be stored now */
  VOLACT_E_HOST_UNREACHABLE = (gint) 0xC0AC0507u,    /* no connection / no answer */
} VolactErrorCode;

/** Text for a code (the seed's text where it has one), or NULL if unknown. */
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
