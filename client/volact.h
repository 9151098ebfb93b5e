/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * libvolact: activate against a volact host (installed as <volact.h>).
 *
 * A VolactClient holds one TCP connection to one host and the pinned
 * authority certificate, which the caller always names (there is no default). Each
 * volact_client_activate() sends one request (docs/protocol.md) and accepts the answer only if it
 * is signed by a host key that the pinned authority certified. Several activations may use the same
 * client; the connection stays open between them.
 *
 *   g_autoptr (VolactClient) c
 *       = volact_client_new ("kms.example", 0, "/etc/myapp/authority.pem", &error);
 *   VolactClientRequest req = { .edition = "win7-enterprise", .name = "ws1.example" };
 *   VolactClientResult res;
 *   memcpy (req.cmid, machine_uuid, 16);
 *   if (volact_client_activate (c, &req, &res, &error) && res.licensed)
 *     ... licensed; ask again in res.renewal_interval minutes ...
 *
 * Or let the client find its host in DNS (SRV records, RFC 2782) and fail over
 * between hosts: volact_client_new_discover().
 *
 * Errors are GErrors in VOLACT_CLIENT_ERROR whose code is the 32-bit volact
 * code (cast to gint), e.g. VOLACT_RESULT_RESPONSE_INVALID for a response that
 * fails verification;
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

/*
 * Result and error codes a client meets, as in volact's one code table
 * (`volactctl explain CODE` and volact_client_result_text() give the text),
 * so embedders need not write hex. A verified response carries OK,
 * COUNT_INSUFFICIENT, EDITION_NOT_COVERED or EDITION_UNKNOWN in res->result;
 * the others arrive as the code of a GError in VOLACT_CLIENT_ERROR (cast to
 * gint), and res->result repeats it.
 */
/** Licensed. */
#define VOLACT_RESULT_OK 0x00000000u
/** The host's count for the edition's pool is below the edition's minimum. */
#define VOLACT_RESULT_COUNT_INSUFFICIENT 0xC004F038u
/** The host is not activated, so it serves no clients. */
#define VOLACT_RESULT_NOT_ACTIVATED 0xC0AC0402u
/** The host's key does not activate this edition. */
#define VOLACT_RESULT_EDITION_NOT_COVERED 0xC0AC0501u
/** The host does not know this edition. */
#define VOLACT_RESULT_EDITION_UNKNOWN 0xC0AC0502u
/** The host does not speak this protocol version. */
#define VOLACT_RESULT_PROTOCOL_VERSION 0xC0AC0503u
/** The response failed verification (not signed by a host the pinned authority certified). */
#define VOLACT_RESULT_RESPONSE_INVALID 0xC0AC0504u
/** A request field is out of range. */
#define VOLACT_RESULT_REQUEST_MALFORMED 0xC0AC0505u
/** The host cannot store the activation right now; try again later. */
#define VOLACT_RESULT_HOST_BUSY 0xC0AC0506u
/** No connection, or no answer. */
#define VOLACT_RESULT_HOST_UNREACHABLE 0xC0AC0507u
/**
 * The host has counted as many new machine IDs from this network address as it
 * accepts per period (its new-cmid-limit); try again later.
 */
#define VOLACT_RESULT_NEW_CMID_LIMIT 0xC0AC0508u
/** A missing or invalid argument to volact_client_new(): no host, no trusted authority. */
#define VOLACT_RESULT_CONFIG 0xC0AC0003u
/** The trusted authority certificate could not be read. */
#define VOLACT_RESULT_IO 0xC0AC0002u
/** The trusted authority certificate holds no usable EC P-256 key, or a nonce could not be made. */
#define VOLACT_RESULT_CRYPTO 0xC0AC000Bu

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
  guint32 result;            /* VOLACT_RESULT_OK, else why not (VOLACT_RESULT_COUNT_INSUFFICIENT) */
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
 * @trust_cert_path: PEM certificate of the authority to pin: the client
 *   accepts only hosts this authority activated. Required: there is no
 *   default (the reference authority installed with volact is for demos only
 *   and must be named explicitly to be trusted).
 *
 * Loads the authority certificate; does not connect yet. Fails with
 * VOLACT_RESULT_CONFIG when @host or @trust_cert_path is NULL or empty,
 * VOLACT_RESULT_IO when the certificate cannot be read and
 * VOLACT_RESULT_CRYPTO when it holds no EC P-256 key.
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
 * and res->result tells whether the client is licensed (VOLACT_RESULT_OK) or
 * why not (for example VOLACT_RESULT_COUNT_INSUFFICIENT). Returns FALSE with
 * @error set otherwise: the host's error response (its code, for example
 * VOLACT_RESULT_NOT_ACTIVATED), VOLACT_RESULT_RESPONSE_INVALID when the
 * response fails verification, VOLACT_RESULT_HOST_UNREACHABLE when no answer
 * arrived, VOLACT_RESULT_REQUEST_MALFORMED for a request field out of range.
 * On FALSE only res->result (the code) is set; the other fields are 0.
 */
gboolean volact_client_activate (VolactClient *client, const VolactClientRequest *req,
                                 VolactClientResult *res, GError **error);

/* ---- Finding hosts in DNS (docs/client.md, "Discovery") ---------------------------------- */

/** How long a discovering client waits for one host to accept a connection, by default. */
#define VOLACT_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 2000

/** Discovery flags. */
typedef enum {
  VOLACT_CLIENT_DISCOVERY_NONE = 0,
  /** Ignore VolactClientDiscovery.cached_host: always look the hosts up (the KMS guides' /ckhc). */
  VOLACT_CLIENT_DISCOVERY_NO_HOST_CACHE = 1 << 0,
} VolactClientDiscoveryFlags;

/** Where and how to look for hosts. Every field may be 0/NULL. */
typedef struct {
  /* Domain to look up _volact._tcp.DOMAIN in; NULL: each of the system's search domains
   * (/etc/resolv.conf search or domain) in turn until one has the record. */
  const char *domain;
  /* DNS server "ADDR", "ADDR:PORT" or "[V6]:PORT" to ask, for the SRV records and the
   * targets' addresses; NULL: the system's name servers (addresses through getaddrinfo). */
  const char *dns_server;
  /* Milliseconds to wait for each host to accept, and for each DNS answer; 0: the default. */
  guint connect_timeout_ms;
  /* "name:port" of the host that answered last time (volact_client_get_host()), tried before
   * any lookup; if it does not accept, discovery runs. NULL: none. The caller keeps it. */
  const char *cached_host;
  VolactClientDiscoveryFlags flags;
} VolactClientDiscovery;

/**
 * volact_client_new_discover:
 * @discovery: where to look; NULL for all defaults
 * @trust_cert_path: as for volact_client_new(): required
 *
 * A client that finds its host itself: it tries the cached host first (unless
 * VOLACT_CLIENT_DISCOVERY_NO_HOST_CACHE), then looks up the SRV records of
 * _volact._tcp.DOMAIN (RFC 2782), orders them by priority and, within a
 * priority, by weighted random choice, and tries each in turn, giving each
 * address at most connect_timeout_ms to accept. So when the main host is
 * down, the next activation goes to the backup. Nothing is looked up or
 * connected until the first volact_client_activate(), which fails with
 * VOLACT_RESULT_HOST_UNREACHABLE when no host accepts (the message names each
 * one tried) and 0x8007267C when there is no DNS server or domain to ask.
 * Returns: (transfer full) (nullable): a client, or NULL with @error set as
 * volact_client_new() does (and VOLACT_RESULT_CONFIG for a malformed dns_server).
 */
VolactClient *volact_client_new_discover (const VolactClientDiscovery *discovery,
                                          const char *trust_cert_path, GError **error);

/**
 * volact_client_get_host:
 *
 * The host of the current or last connection, "name:port" (or "[v6]:port"):
 * after a successful volact_client_activate(), the one that answered. Store it
 * and pass it as VolactClientDiscovery.cached_host next time to cache hosts.
 * Returns: (nullable): NULL when a discovering client has not connected yet.
 */
const char *volact_client_get_host (VolactClient *client);

/** TRUE if the current or last connection went to the cached host, without a lookup. */
gboolean volact_client_get_host_from_cache (VolactClient *client);

/** One host found in DNS. */
typedef struct {
  char *target;     /* the SRV target's name */
  guint16 port;
  guint16 priority; /* lower is tried first */
  guint16 weight;   /* share within one priority */
  char **addresses; /* its addresses as text, NULL-terminated (empty if it did not resolve) */
  char *error;      /* why it did not resolve, or NULL */
} VolactClientHost;

/** What volact_client_discover() found. */
typedef struct {
  char *name;              /* the SRV name that answered: "_volact._tcp.example.org" */
  guint n_hosts;
  VolactClientHost *hosts; /* in the order a client would try them (one random draw) */
} VolactClientHostList;

/**
 * volact_client_discover:
 * @discovery: where to look (cached_host and flags are not used)
 *
 * Looks the hosts up as a discovering client does, without connecting, and
 * resolves each one's addresses. Returns: (transfer full) (nullable): the
 * hosts in the order a client would try them, free with
 * volact_client_host_list_free(); NULL with @error set (as for
 * volact_client_activate() on a discovering client).
 */
VolactClientHostList *volact_client_discover (const VolactClientDiscovery *discovery,
                                              GError **error);

/** Frees @list (NULL is ignored). */
void volact_client_host_list_free (VolactClientHostList *list);

/** Closes the connection, if any; the next activation opens a new one. */
void volact_client_close (VolactClient *client);

/** Closes the connection and frees @client (NULL is ignored). */
void volact_client_free (VolactClient *client);

/** The text for a result or error code (the knowledge-base articles' text where they give one), or NULL. */
const char *volact_client_result_text (guint32 code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactClient, volact_client_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactClientHostList, volact_client_host_list_free)

G_END_DECLS

#endif
