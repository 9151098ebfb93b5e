/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * What the administration commands (core/admin/volact-*-commands.c) need from
 * the host: its fields and the few operations that keep them consistent. Not
 * for anything else: the daemon and the server use volact-host.h.
 */
#ifndef VOLACT_HOST_PRIVATE_H
#define VOLACT_HOST_PRIVATE_H

#include "volact-activation.h"
#include "volact-host.h"
#include "volact-records.h"
#include "volact-reload.h"
#include "volact-state.h"
#include "volact-xmlsig.h"

G_BEGIN_DECLS

struct _VolactHost {
  GMutex lock; /* guards everything below but the holder, which has its own */
  VolactConfig *cfg;
  VolactCatalogHolder *catalog;
  VolactTrust *trust;
  EVP_PKEY *identity;
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fingerprint[VOLACT_FINGERPRINT_SIZE];
  gboolean fingerprint_overridden;
  VolactState *state;  /* what host.state holds: replaced only after a save */
  VolactHostKey key;   /* valid when state->product_key is set */
  VolactHostCert cert; /* valid when state->certificate is set */
  VolactRecords *records;
  guint listening_port; /* 0 until the client server is up */
  GMutex serving_lock;  /* guards only the pointer swap of serving */
  VolactServingState *serving;
  struct _VolactDnsPublisher *dns; /* NULL unless volactd runs one (core/dns/) */
  char *reload_error; /* why the last reload was refused (event 1008); NULL after a good one */
  GSource *clock_source; /* the once-a-second clock watch (volact_records_clock_check) */
};

/**
 * The one way to change the host's state: NEXT (a changed copy, see
 * volact_state_copy) is saved, and only then swapped in with the key and
 * certificate it holds, and published to the client server. On failure
 * nothing changes. Takes NEXT. Lock held.
 */
gboolean volact_host_commit (VolactHost *host, VolactState *next, GError **error);

/**
 * Re-reads the hardware fingerprint and withdraws an activation that no
 * longer holds (events 1005, 1006). Lock held.
 */
gboolean volact_host_check_activation (VolactHost *host, GError **error);

/** The port to bind at start: a saved sprt setting wins over the config. Lock held. */
guint volact_host_configured_port (VolactHost *host);


G_END_DECLS

#endif
