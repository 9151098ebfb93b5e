/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The client configuration file (volact-client --config, volact-client(1)):
 * what the packaged timer activates without a command line written by hand.
 */
#ifndef VOLACT_CLIENT_CONFIG_H
#define VOLACT_CLIENT_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

/** The key file group holding every client key. */
#define VOLACT_CLIENT_CONFIG_GROUP "client"

/** What a client configuration file says; a NULL member was not set. */
typedef struct {
  char **editions;   /* edition ids to activate, in order; never NULL after a load */
  char *trust;       /* authority certificate to pin */
  char *host;        /* H[:PORT]; with it, no discovery */
  char *domain;      /* discovery domain */
  char *dns_server;  /* ADDR[:PORT] for discovery */
  char *state_dir;   /* folder of the per-edition state files */
} VolactClientConfig;

/**
 * volact_client_config_load:
 * @path: the key file
 * @cfg: (out caller-allocates): filled on success; clear with volact_client_config_clear()
 *
 * Reads group [client] of PATH: editions (a ';'-separated list, may be
 * empty), trust, host, domain, dns-server, state-dir. A missing file fails
 * with VOLACT_E_IO; a missing group, an unknown key, an invalid edition id, a
 * relative path or host and domain both set fail with VOLACT_E_CONFIG naming
 * the file, group and key.
 */
gboolean volact_client_config_load (const char *path, VolactClientConfig *cfg, GError **error);

/** Frees what CFG holds and zeroes it. */
void volact_client_config_clear (VolactClientConfig *cfg);

/**
 * The state file of EDITION in STATE_DIR: STATE_DIR/EDITION.state, so each
 * edition keeps its own schedule. Free with g_free().
 */
char *volact_client_config_state_path (const char *state_dir, const char *edition);

/**
 * The folder of the per-edition state files: CFG's state-dir, else the first
 * folder systemd made for the unit ($STATE_DIRECTORY, StateDirectory=), else
 * the default state file's folder. Free with g_free().
 */
char *volact_client_config_state_dir (const VolactClientConfig *cfg);

/**
 * The CMID in the state file of any of EDITIONS in STATE_DIR, so that an
 * edition's new state file shares it (the machine counts once), or NULL if
 * none has a state file yet. Free with g_free().
 */
char *volact_client_config_machine_cmid (const char *state_dir, char **editions);

G_END_DECLS

#endif
