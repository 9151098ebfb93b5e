/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host: configuration, catalog, identity key, installed host key,
 * activation certificate and settings. The administration commands that act
 * on them are in core/admin/ (volact-commands.h). All functions are
 * thread-safe (one lock), because the admin socket serves each connection in
 * a worker thread.
 */
#ifndef VOLACT_HOST_H
#define VOLACT_HOST_H

#include <glib.h>

#include "volact-catalog.h"
#include "volact-commands.h"
#include "volact-config.h"

#include <openssl/types.h>

G_BEGIN_DECLS

typedef struct _VolactHost VolactHost;

/**
 * Creates the state folder if needed, loads the catalog, the identity key
 * (generated on first start), the saved state and the hardware fingerprint.
 * A significant hardware change since activation drops the host back to
 * unactivated (and logs it). Takes ownership of CFG.
 */
VolactHost *volact_host_new (VolactConfig *cfg, GError **error);
void volact_host_free (VolactHost *host);

const VolactConfig *volact_host_config (VolactHost *host);
/**
 * Rebuilds the catalog (SIGHUP, volactctl reload) and re-checks the hardware.
 * Records event 1007 with a one-line SUMMARY (optional, for the caller), or
 * 1008 with the error. On failure (nothing usable is left) the previous
 * catalog stays. A load without some refused files succeeds: 1007, then 1008
 * naming each refused file, and the SUMMARY says so too. Thread-safe, and
 * reloads are serialised, so SIGHUP may run it off the main loop.
 */
gboolean volact_host_reload (VolactHost *host, char **summary, GError **error);

/**
 * Raises host event ID (a VOLACT_EVENT_*, volact-records.h; docs/events.md):
 * to the event log and the journal or syslog.
 */
void volact_host_event (VolactHost *host, guint id, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/**
 * What the client server needs to answer a request, as one immutable,
 * reference-counted snapshot: replaced (never modified) whenever the
 * activation, the catalog or a setting changes, so the hot path takes one
 * reference and no lock.
 */
typedef struct {
  gint refcount;
  gboolean activated;                /* FALSE: answer NOT_ACTIVATED error responses */
  EVP_PKEY *identity;                /* the host's signing key (shared, do not free) */
  guint8 public_key[33];             /* compressed */
  guint8 certificate[106];           /* valid when activated */
  guint key_group;                   /* valid when activated */
  VolactCatalog *catalog;            /* a reference */
  guint activation_override;         /* minutes, the sai setting; 0: each application's policy */
  guint renewal_override;            /* minutes, the sri setting; 0: each application's policy */
} VolactServingState;

/** A new reference to the current serving snapshot. Thread-safe, lock-free for readers. */
VolactServingState *volact_host_serving_state (VolactHost *host);
void volact_serving_state_unref (VolactServingState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactServingState, volact_serving_state_unref)

/** The TCP port to bind at start: the sprt setting, else the configuration's. */
guint volact_host_port (VolactHost *host);
/** Records the port the client server actually listens on (dli shows it). */
void volact_host_set_listening_port (VolactHost *host, guint port);

typedef struct _VolactRecords VolactRecords;
/** The host's client records and event log. */
VolactRecords *volact_host_records (VolactHost *host);

/**
 * Lowers (nice 10) or restores (nice 0) the scheduling priority of every
 * thread of the process; restoring needs root or CAP_SYS_NICE.
 */
gboolean volact_host_set_low_priority (gboolean low, GError **error);

/**
 * Runs one administration command of the command table (volact-commands.h),
 * with the host's lock unless the command takes it itself; an a{sv} reply.
 */
GVariant *volact_host_command (const VolactCommand *cmd, const char *const *args, gpointer host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactHost, volact_host_free)

G_END_DECLS

#endif
