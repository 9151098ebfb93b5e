/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host: configuration, catalog, identity key, installed host key,
 * activation certificate and settings, and the administration commands that
 * act on them. All functions are thread-safe (one lock), because the admin
 * socket serves each connection in a worker thread.
 */
#ifndef VOLACT_HOST_H
#define VOLACT_HOST_H

#include <glib.h>

#include "volact-catalog.h"
#include "volact-config.h"

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
/** Rebuilds the catalog (SIGHUP, volactctl reload) and re-checks the hardware. */
gboolean volact_host_reload (VolactHost *host, GError **error);
/** A reference to the current catalog. */
VolactCatalog *volact_host_catalog (VolactHost *host);
/** TRUE if the host holds a valid certificate for its current key and hardware. */
gboolean volact_host_is_activated (VolactHost *host);

/** Answers one administration command (see volact-commands.h) with an a{sv} reply. */
GVariant *volact_host_command (const char *command, const char *const *args, gpointer host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactHost, volact_host_free)

G_END_DECLS

#endif
