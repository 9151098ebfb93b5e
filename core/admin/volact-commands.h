/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The administration commands of the command contract (DESIGN.md): one
 * table of names, arguments, help and handlers. volactctl uses it for help
 * and argument checks, volactd's admin socket to dispatch. Each command is
 * also accepted in slmgr form: /ipk KEY or -ipk KEY.
 */
#ifndef VOLACT_COMMANDS_H
#define VOLACT_COMMANDS_H

#include <glib.h>

G_BEGIN_DECLS

struct _VolactHost;

/**
 * Runs a command on HOST with ARGS (already checked against min_args and
 * max_args): an a{sv} reply (volact_admin_reply_new), or NULL and ERROR.
 */
typedef GVariant *(*VolactCommandFunc) (struct _VolactHost *host, const char *const *args,
                                        GError **error);

typedef struct {
  const char *name;
  guint min_args;
  guint max_args;
  const char *args;      /* e.g. "KEY" */
  const char *summary;   /* one line */
  VolactCommandFunc run; /* NULL for local commands */
  gboolean local;        /* answered by volactctl itself, no daemon needed */
  gboolean self_locking; /* run takes the host's lock itself (network, reload) */
  gboolean read_only;    /* changes nothing: a read-only remote user may run it */
} VolactCommand;

/** Finds a command by name, accepting "/name" and "-name"; NULL if unknown. */
const VolactCommand *volact_command_find (const char *word);
/**
 * The command NAME names, if a daemon runs it (not a local one) and N_ARGS
 * is within its bounds; else NULL and ERROR ("unknown command", "usage: ...").
 */
const VolactCommand *volact_command_check (const char *name, guint n_args, GError **error);
/** All commands, in contract order; *N receives the count. */
const VolactCommand *volact_commands (gsize *n);

G_END_DECLS

#endif
