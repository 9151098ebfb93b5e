/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host's persistent state in STATE_DIR/host.state: the installed host
 * key, the certificate from the last activation and the settings volactctl
 * changes. Saved atomically and durably (temporary file, fsync, rename), mode
 * 0600, so a crash leaves either the old or the new state, never a torn one.
 */
#ifndef VOLACT_STATE_H
#define VOLACT_STATE_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *product_key;        /* canonical host key, or NULL */
  GBytes *certificate;      /* serialised host certificate, or NULL if unactivated */
  char *activated_by;       /* "online" or "telephone" */
  gint64 activated_at;      /* unix seconds */
  guint port;               /* 0: use the configuration's */
  guint activation_interval; /* minutes; 0: the license policy's */
  guint renewal_interval;    /* minutes; 0: the license policy's */
  gboolean dns_publishing;
  gboolean low_priority;
} VolactState;

/** Creates STATE_DIR (mode 0700) if needed and checks it is not group/world writable. */
gboolean volact_state_dir_ensure (const char *state_dir, GError **error);
/** Loads STATE_DIR/host.state; a missing file gives the defaults. */
VolactState *volact_state_load (const char *state_dir, GError **error);
/** Saves STATE to STATE_DIR/host.state. Error: IO, naming the file. */
gboolean volact_state_save (const VolactState *state, const char *state_dir, GError **error);
/**
 * A deep copy of STATE. Changes are made on a copy, saved, and only then
 * swapped in, so that memory never shows what the disk does not hold.
 */
VolactState *volact_state_copy (const VolactState *state);
/** Forgets the activation (certificate, method, time); the key stays. */
void volact_state_clear_activation (VolactState *state);
void volact_state_free (VolactState *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactState, volact_state_free)

G_END_DECLS

#endif
