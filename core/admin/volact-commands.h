/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The administration commands of the command contract (DESIGN.md): names,
 * arguments and help, shared by volactctl (parsing, usage) and volactd
 * (dispatch). Each is also accepted in slmgr form: /ipk KEY or -ipk KEY.
 */
#ifndef VOLACT_COMMANDS_H
#define VOLACT_COMMANDS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;
  guint min_args;
  guint max_args;
  const char *args;    /* e.g. "KEY" */
  const char *summary; /* one line */
  gboolean local;      /* answered by volactctl itself, no daemon needed */
} VolactCommand;

/** Finds a command by name, accepting "/name" and "-name"; NULL if unknown. */
const VolactCommand *volact_command_find (const char *word);
/** All commands, in contract order; *N receives the count. */
const VolactCommand *volact_commands (gsize *n);

G_END_DECLS

#endif
