/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by volact-pg.c (connection, statements, transactions) and
 * volact-pg-schema.c (migrations, host upsert). */
#ifndef VOLACT_PG_PRIVATE_H
#define VOLACT_PG_PRIVATE_H

#include "volact-pg.h"

G_BEGIN_DECLS

/** Runs constant SQL without parameters (one or more statements, simple protocol). */
gboolean volact_pg_exec_simple (VolactPg *pg, const char *sql, GError **error);

/** Creates volact_schema if missing, then applies each missing step in its own transaction. */
gboolean volact_pg_migrate (VolactPg *pg, GError **error);

G_END_DECLS

#endif
