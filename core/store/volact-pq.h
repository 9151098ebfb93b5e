/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * libpq, opened when the host first needs the shared store instead of linked
 * into volactd: a host that counts alone (`store = sqlite`, the default) never
 * maps libpq nor the libraries it brings (GnuTLS, OpenLDAP, Cyrus SASL,
 * Kerberos: about 2.6 MiB of its memory), and its package only suggests
 * libpq5. Code that includes this header (through volact-pg.h) calls the PQ
 * functions by their usual names; the names below lead to the functions
 * volact_pq_load resolved, which must have succeeded first
 * (volact_pg_uri_check and volact_pg_connect call it).
 */
#ifndef VOLACT_PQ_H
#define VOLACT_PQ_H

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

/** libpq's soname, unchanged since PostgreSQL 8.0. */
#define VOLACT_PQ_LIBRARY "libpq.so.5"

/* Every libpq function volact calls. */
/* clang-format off */
#define VOLACT_PQ_FUNCTIONS(F) \
  F (PQclear) F (PQcmdStatus) F (PQconnectdbParams) F (PQconninfoFree) F (PQconninfoParse) \
  F (PQconsumeInput) F (PQerrorMessage) F (PQfinish) F (PQfreemem) F (PQgetResult) \
  F (PQgetvalue) F (PQisBusy) F (PQntuples) F (PQreset) F (PQresultErrorField) \
  F (PQresultStatus) F (PQsendPrepare) F (PQsendQuery) F (PQsendQueryPrepared) \
  F (PQsetNoticeProcessor) F (PQsocket) F (PQstatus) F (PQtransactionStatus)
/* clang-format on */

typedef struct {
#define VOLACT_PQ_POINTER(name) __typeof__ (name) *name;
  VOLACT_PQ_FUNCTIONS (VOLACT_PQ_POINTER)
#undef VOLACT_PQ_POINTER
} VolactPqFunctions;

extern VolactPqFunctions volact_pq;

/**
 * Opens libpq and resolves every function above, once per process
 * (thread-safe; later calls return the first outcome). FALSE with a
 * VOLACT_E_CONFIG error naming the library, the package that holds it, and
 * the loader's reason when it cannot.
 */
gboolean volact_pq_load (GError **error);

G_END_DECLS

/* Not in volact-pq.c, which resolves them by these names. */
#ifndef VOLACT_PQ_RESOLVING
#define PQclear (volact_pq.PQclear)
#define PQcmdStatus (volact_pq.PQcmdStatus)
#define PQconnectdbParams (volact_pq.PQconnectdbParams)
#define PQconninfoFree (volact_pq.PQconninfoFree)
#define PQconninfoParse (volact_pq.PQconninfoParse)
#define PQconsumeInput (volact_pq.PQconsumeInput)
#define PQerrorMessage (volact_pq.PQerrorMessage)
#define PQfinish (volact_pq.PQfinish)
#define PQfreemem (volact_pq.PQfreemem)
#define PQgetResult (volact_pq.PQgetResult)
#define PQgetvalue (volact_pq.PQgetvalue)
#define PQisBusy (volact_pq.PQisBusy)
#define PQntuples (volact_pq.PQntuples)
#define PQreset (volact_pq.PQreset)
#define PQresultErrorField (volact_pq.PQresultErrorField)
#define PQresultStatus (volact_pq.PQresultStatus)
#define PQsendPrepare (volact_pq.PQsendPrepare)
#define PQsendQuery (volact_pq.PQsendQuery)
#define PQsendQueryPrepared (volact_pq.PQsendQueryPrepared)
#define PQsetNoticeProcessor (volact_pq.PQsetNoticeProcessor)
#define PQsocket (volact_pq.PQsocket)
#define PQstatus (volact_pq.PQstatus)
#define PQtransactionStatus (volact_pq.PQtransactionStatus)
#endif

#endif
