/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Per-source limits of the client listener (docs/limits.md): a token bucket
 * of requests, a cap on concurrent connections and a quota of new machine
 * IDs per time window, for each source. A source is one IPv4 address or one
 * IPv6 /64 (an IPv4-mapped IPv6 address is its IPv4 address), since one
 * IPv6 host can use a whole /64.
 *
 * Socket-free and single-threaded (the listener's thread), so that
 * tests/test-limits.c drives it with addresses and times. Memory is bounded:
 * at most `capacity` sources are tracked, entries come from chunks (nothing
 * is allocated per request), and when the table is full the least recently
 * seen source without an open connection is forgotten. A forgotten source
 * starts again with a full bucket and an empty quota, which is what a quiet
 * source has anyway.
 */
#ifndef VOLACT_LIMITS_H
#define VOLACT_LIMITS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VolactLimits VolactLimits;
typedef struct _VolactSource VolactSource;

/** Room for a source's text: an IPv4 address, or an IPv6 /64 prefix with "/64". */
#define VOLACT_LIMITS_SOURCE_TEXT 52

/** The limits a source can hit. */
typedef enum {
  VOLACT_LIMIT_RATE = 0,  /* the request rate */
  VOLACT_LIMIT_CONNECTIONS, /* concurrent connections */
  VOLACT_LIMIT_NEW_CMIDS, /* new machine IDs per window */
  VOLACT_LIMIT_N_KINDS
} VolactLimitKind;

/** Reports (host events) per minute over all sources; the rest are counted in the next one. */
#define VOLACT_LIMITS_REPORTS_PER_MINUTE 16

typedef struct {
  guint rate;        /* requests per second per source (bucket refill); 0: no rate limit */
  guint burst;       /* bucket size: requests a quiet source may send at once, >= 1 */
  guint connections; /* concurrent connections per source; 0: no cap */
  guint new_cmids;   /* new machine IDs per source per window; 0: no quota */
  guint window;      /* the quota's window, seconds, >= 1 */
  guint capacity;    /* sources tracked at most, >= 1 */
  char **exempt;     /* addresses never limited (IP literals; an IPv6 one exempts its /64) */
} VolactLimitsConfig;

/** A table for CONFIG (copied). Invalid exempt addresses are ignored (the config checked them). */
VolactLimits *volact_limits_new (const VolactLimitsConfig *config);
void volact_limits_free (VolactLimits *limits);

/**
 * The entry of the source of peer ADDR (4 bytes for FAMILY AF_INET, else 16),
 * found or created, and marked as just seen (NOW, monotonic µs). Never NULL:
 * when the table is full the least recently seen source without connections
 * is forgotten. The pointer stays valid while the source has a connection
 * counted by volact_limits_conn_open.
 */
VolactSource *volact_limits_source (VolactLimits *limits, int family, const guint8 *addr,
                                    gint64 now);
/** Counts a new connection of SOURCE; FALSE (nothing counted) if it is at its cap. */
gboolean volact_limits_conn_open (VolactLimits *limits, VolactSource *source);
/** A connection counted by volact_limits_conn_open ended. */
void volact_limits_conn_close (VolactLimits *limits, VolactSource *source);
/** Takes one request token at NOW (monotonic µs); FALSE: over the rate, refuse the request. */
gboolean volact_limits_take (VolactLimits *limits, VolactSource *source, gint64 now);
/** TRUE if SOURCE has a quota of new machine IDs at all (not exempt, new-cmid-limit set). */
gboolean volact_limits_cmid_applies (const VolactLimits *limits, const VolactSource *source);
/** TRUE if SOURCE may still bring a new machine ID in the current window at NOW. */
gboolean volact_limits_cmid_allowed (VolactLimits *limits, VolactSource *source, gint64 now);
/** SOURCE brought a new machine ID (counted against its quota). */
void volact_limits_cmid_taken (VolactLimits *limits, VolactSource *source);

/**
 * SOURCE was refused by limit KIND at NOW. *BECAME is set TRUE when SOURCE
 * just became limited: no refusal of this kind in the minute before (a
 * steady flood is one episode, counted once). Returns TRUE when a host event
 * is due: on becoming limited, at most VOLACT_LIMITS_REPORTS_PER_MINUTE times
 * a minute over all sources; *SUPPRESSED receives how many were held back
 * since the last event that was due.
 */
gboolean volact_limits_refused (VolactLimits *limits, VolactSource *source, VolactLimitKind kind,
                                gint64 now, gboolean *became, guint64 *suppressed);

/** SOURCE as text: "192.0.2.1" or "2001:db8:1:2::/64". */
void volact_limits_source_text (const VolactSource *source, char out[VOLACT_LIMITS_SOURCE_TEXT]);
/**
 * The source the address ADDR (FAMILY AF_INET, 4 bytes, or AF_INET6, 16) belongs to, as
 * volact_limits_source_text gives it: what every per-source cap counts by, so that a peer
 * cannot escape one with the other addresses of its IPv6 /64.
 */
void volact_limits_address_source (int family, const guint8 *addr,
                                   char out[VOLACT_LIMITS_SOURCE_TEXT]);
/** Sources tracked now (at most the capacity). */
guint volact_limits_size (const VolactLimits *limits);
/** Bytes held by the table (entries and index), for tests and `health`. */
gsize volact_limits_memory (const VolactLimits *limits);

G_END_DECLS

#endif
