/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The authority's ledger: which host keys it issued and which hosts each key
 * activated, in SQLite (DIR/ledger.db, mode 0600, WAL, synchronous=FULL).
 *
 * Tables (schema version 1, PRAGMA user_version):
 *   issued_keys     serial (primary key, 1..2^48-1), key_group, nonce, max_hosts,
 *                   max_activations, issued_at (Unix seconds)
 *   key_hosts       (serial, host_id BLOB(16)) primary key, first_activation,
 *                   last_activation, activations
 *   activation_log  every activation request, granted or refused: time, serial,
 *                   key group, host id, fingerprint, result code, activation number
 *
 * A key activates at most max_hosts distinct hosts (default 6) and each host at
 * most max_activations times (default 10); the authority may change both per
 * key. Reactivating a host it already activated does not use up a host.
 */
#ifndef VOLACT_AUTHORITY_LEDGER_H
#define VOLACT_AUTHORITY_LEDGER_H

#include <glib.h>

#include "volact-activation-id.h"
#include "volact-key.h"

G_BEGIN_DECLS

/** The ledger's file name inside the authority's folder. */
#define VOLACT_LEDGER_FILE "ledger.db"
#define VOLACT_LEDGER_DEFAULT_MAX_HOSTS 6
#define VOLACT_LEDGER_DEFAULT_MAX_ACTIVATIONS 10
/** Upper bounds of the limits: activation numbers are one byte in the certificate. */
#define VOLACT_LEDGER_MAX_HOSTS_LIMIT 1000000
#define VOLACT_LEDGER_MAX_ACTIVATIONS_LIMIT 255

typedef struct _VolactLedger VolactLedger;

/** What the ledger knows about one issued key. */
typedef struct {
  VolactHostKey key;     /* version, group, serial, nonce */
  guint max_hosts;       /* limit of distinct hosts */
  guint max_activations; /* limit of activations per host */
  guint hosts;           /* distinct hosts activated so far */
  gint64 issued_at;      /* Unix seconds */
} VolactLedgerKeyInfo;

/**
 * volact_ledger_open:
 * @dir: the authority's folder (must exist)
 *
 * Opens DIR/ledger.db, creating it with mode 0600 if it does not exist, in
 * WAL mode with synchronous=FULL and foreign keys on, and creates the tables.
 * A ledger of a newer schema version is refused. Errors: VOLACT_E_IO.
 */
VolactLedger *volact_ledger_open (const char *dir, GError **error);

/** Closes the ledger (NULL is allowed). */
void volact_ledger_close (VolactLedger *ledger);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactLedger, volact_ledger_close)

/** The ledger's file path. */
const char *volact_ledger_path (VolactLedger *ledger);

/**
 * volact_ledger_issue_key:
 * @group: key group, 1..1023
 * @max_hosts: 0 for the default (6), else 1..VOLACT_LEDGER_MAX_HOSTS_LIMIT
 * @max_activations: 0 for the default (10), else 1..255
 * @out: (out): receives the new key (serial = highest issued + 1, starting at
 *       1; a fresh random nonce)
 *
 * Errors: VOLACT_E_INVALID_KEY for a bad group, VOLACT_E_CONFIG for limits
 * out of range, VOLACT_E_IO for the database.
 */
gboolean volact_ledger_issue_key (VolactLedger *ledger, guint group, guint max_hosts,
                                  guint max_activations, VolactHostKey *out, GError **error);

/**
 * volact_ledger_set_limits:
 * @max_hosts: 0 keeps the current value, else 1..VOLACT_LEDGER_MAX_HOSTS_LIMIT
 * @max_activations: 0 keeps the current value, else 1..255
 *
 * The authority's per-key override. Lowering a limit below what is used
 * already only refuses further activations. Errors: VOLACT_E_INVALID_KEY for
 * a serial the ledger does not hold, VOLACT_E_CONFIG, VOLACT_E_IO.
 */
gboolean volact_ledger_set_limits (VolactLedger *ledger, guint64 serial, guint max_hosts,
                                   guint max_activations, GError **error);

/**
 * volact_ledger_get_key:
 * @out: (out): receives the key and its usage
 *
 * Errors: VOLACT_E_INVALID_KEY for an unknown serial, VOLACT_E_IO.
 */
gboolean volact_ledger_get_key (VolactLedger *ledger, guint64 serial, VolactLedgerKeyInfo *out,
                                GError **error);

/**
 * volact_ledger_activate:
 * @iid: the host's decoded Installation ID
 * @activation_number_out: (out): this host's activation number with this key (1..255)
 *
 * Decides an activation in one transaction, and logs it granted or refused:
 *
 * - the key must be in the ledger with the same group and nonce, else
 *   VOLACT_E_INVALID_KEY (the message does not say which part differs);
 * - a host new to this key when max_hosts hosts are activated already:
 *   VOLACT_E_KEY_HOST_LIMIT ("key serial 3 has already activated 6 of 6 hosts");
 * - a known host that was activated max_activations times:
 *   VOLACT_E_HOST_REACTIVATION_LIMIT;
 * - otherwise the host's count goes up by one and is returned.
 *
 * Database failures: VOLACT_E_IO, and nothing is changed.
 */
gboolean volact_ledger_activate (VolactLedger *ledger, const VolactInstallationId *iid,
                                 guint8 *activation_number_out, GError **error);

G_END_DECLS

#endif
