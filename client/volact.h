/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * libvolact: activate against a volact host (installed as <volact.h>).
 *
 * A VolactClient holds one TCP connection to one host and the pinned
 * authority certificate. Each volact_client_activate() sends one request
 * (docs/protocol.md) and accepts the answer only if it is signed by a host
 * key that the pinned authority certified. Several activations may use the
 * same client; the connection stays open between them.
 *
 *   g_autoptr (VolactClient) c = volact_client_new ("kms.example", 0, NULL, &error);
 *   VolactClientRequest req = { .edition = "win7-enterprise", .name = "ws1.example" };
 *   VolactClientResult res;
 *   memcpy (req.cmid, machine_uuid, 16);
 *   if (volact_client_activate (c, &req, &res, &error) && res.licensed)
 *     ... licensed; ask again in res.renewal_interval minutes ...
 *
 * Errors are GErrors in VOLACT_CLIENT_ERROR whose code is the 32-bit volact
 * code (cast to gint), e.g. 0xC0AC0504 for a response that fails verification;
 * volact_client_result_text() explains any code. Not thread-safe: use one
 * client per thread.
 */
#ifndef VOLACT_H
#define VOLACT_H

#include <glib.h>

G_BEGIN_DECLS

/** The port a host listens on unless told otherwise. */
#define VOLACT_CLIENT_DEFAULT_PORT 1688
/** Bytes of a client machine ID (the machine's UUID). */
#define VOLACT_CLIENT_CMID_SIZE 16

/** GError domain of libvolact (volact's one error domain). */
#define VOLACT_CLIENT_ERROR (volact_client_error_quark ())
GQuark volact_client_error_quark (void);

/** The license state a client reports to the host. */
typedef enum {
  VOLACT_CLIENT_STATE_OOB_GRACE = 0,        /* out-of-box grace: never activated */
  VOLACT_CLIENT_STATE_LICENSED = 1,         /* activated and within its validity */
  VOLACT_CLIENT_STATE_OOT_GRACE = 2,        /* out-of-tolerance grace: validity lapsed */
  VOLACT_CLIENT_STATE_NONGENUINE_GRACE = 3, /* non-genuine grace */
  VOLACT_CLIENT_STATE_NOTIFICATION = 4,     /* grace periods over */
  VOLACT_CLIENT_STATE_UNLICENSED = 5,
} VolactClientLicenseState;

/** One activation request. */
typedef struct {
  const char *edition;                  /* edition id, 1..32 of [a-z0-9-] */
  guint8 cmid[VOLACT_CLIENT_CMID_SIZE]; /* client machine ID */
  const char *name;                     /* nullable: machine name, <= 63 printable ASCII */
  gboolean virtual_machine;             /* the client runs in a virtual machine */
  VolactClientLicenseState state;       /* state the client is in now */
  guint32 minutes_left;                 /* minutes left in that state, 0 if it does not expire */
} VolactClientRequest;

/** What the host answered, from a verified signed response. */
typedef struct {
  guint32 result;            /* 0 licensed, else a code (0xC004F038: count insufficient) */
  gboolean licensed;         /* result == 0 */
  guint32 count;             /* the edition's pool count, the requester included */
  guint minimum_count;       /* the count the edition needs */
  guint activation_interval; /* minutes: ask again this soon while not licensed */
  guint renewal_interval;    /* minutes: renew this often while licensed */
  guint validity_days;       /* days a licensed client stays licensed without renewing */
} VolactClientResult;

/** An open (or reopenable) connection to one host. */
typedef struct _VolactClient VolactClient;

/**
 * volact_client_new:
 * @host: host name or address (an IPv6 address without brackets)
 * @port: TCP port, 0 for VOLACT_CLIENT_DEFAULT_PORT
 * @trust_cert_path: (nullable): PEM certificate of the authority to pin;
 *   NULL for the one installed with volact (the reference authority, DEMO ONLY)
 *
 * Loads the authority certificate; does not connect yet.
 * Returns: (transfer full) (nullable): a client, or NULL with @error set.
 */
VolactClient *volact_client_new (const char *host, guint16 port, const char *trust_cert_path,
                                 GError **error);

/**
 * volact_client_activate:
 * @req: the request (a fresh nonce is made for every attempt)
 * @res: (out): the host's answer
 *
 * Connects if needed (10 s timeout for connecting and for each read and
 * write), sends the request and verifies the response. If the exchange
 * fails on the network, it reconnects and tries once more.
 *
 * Returns TRUE when the host sent a verified signed response: @res holds it,
 * and res->result tells whether the client is licensed (0) or why not (for
 * example 0xC004F038 when the count is insufficient). Returns FALSE with
 * @error set otherwise: the host's error response (its code, for example
 * 0xC0AC0402 when the host is not activated), 0xC0AC0504 when the response
 * fails verification, 0xC0AC0507 when no answer arrived, 0xC0AC0505 for a
 * request field out of range. On FALSE only res->result (the code) is set;
 * the other fields are 0.
 */
gboolean volact_client_activate (VolactClient *client, const VolactClientRequest *req,
                                 VolactClientResult *res, GError **error);

/** Closes the connection, if any; the next activation opens a new one. */
void volact_client_close (VolactClient *client);

/** Closes the connection and frees @client (NULL is ignored). */
void volact_client_free (VolactClient *client);

/** The text for a result or error code (the seed's text where it has one), or NULL. */
const char *volact_client_result_text (guint32 code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactClient, volact_client_free)

G_END_DECLS

#endif
