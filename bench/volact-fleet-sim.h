/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * bench/volact-fleet-sim's state, shared by its schedule (volact-fleet-sim.c) and its
 * network side (fleet-sim-net.c), which sends one simulated hour's requests.
 */
#ifndef VOLACT_FLEET_SIM_H
#define VOLACT_FLEET_SIM_H

#include "volact-protocol.h"

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/** Hosts a simulation asks at most. */
#define VOLACT_SIM_MAX_HOSTS 8u

/** How a request ended. */
typedef enum {
  VOLACT_SIM_FAILED = 0, /* no host answered, or the answer was malformed or did not verify */
  VOLACT_SIM_ERROR,      /* a host answered with an error response (not a signed answer) */
  VOLACT_SIM_ANSWERED,   /* a signed answer (licensed, or why not) */
} VolactSimOutcome;

/** One request of the batch being sent, and its outcome. */
typedef struct {
  guint32 machine, minute;  /* who asks, at which simulated minute */
  guint32 latency_us;       /* connect to the whole answer read */
  guint32 code;             /* the result, or the error (0 licensed) */
  guint32 count;            /* the pool's count in the answer */
  guint16 activation;       /* minutes, from the answer */
  guint16 renewal;          /* minutes, from the answer */
  guint8 host;              /* index of the host that answered */
  guint8 outcome;           /* VolactSimOutcome */
  gboolean done;            /* sent (FALSE when the run ran out of time first) */
} VolactSimJob;

/** A host to ask. */
typedef struct {
  char *label; /* "host:port" */
  struct sockaddr_storage addr;
  socklen_t addr_len;
} VolactSimHost;

typedef struct {
  /* Options. */
  VolactSimHost hosts[VOLACT_SIM_MAX_HOSTS];
  guint n_hosts;
  EVP_PKEY *authority;
  const char *edition;
  guint32 n_machines, seed;
  guint hours, concurrency, verify_every, max_seconds;
  gboolean json;
  /* The fleet: each machine's next request (minute) and whether it is licensed. */
  guint32 *next;
  guint8 *licensed;
  guint32 n_licensed;
  GArray **buckets;             /* per simulated hour: the SimEntry requests due in it */
  guint activation_interval;    /* the last one a host sent */
  /* The batch being sent. */
  VolactSimJob *jobs;
  guint n_jobs, jobs_size;
  gint claimed;                 /* atomically: next job to send */
  gint answers;                 /* atomically: answers so far (every verify_every-th verified) */
  gint verified;
  VolactResponseVerifier **verifiers; /* one per sender thread and host */
  /* Time and totals. */
  gint64 start, deadline;
  gboolean stopped;
  gint *per_second;             /* answers completed in each real second since start */
  guint n_seconds;
  guint64 total_requests, total_failures;
  double max_p99_ms, wall_seconds;
  GHashTable *codes;            /* failures and non-licensed results: code -> count */
} VolactSim;

/** The machine ID of machine M (the same for the same --seed). */
void volact_sim_machine_cmid (const VolactSim *s, guint32 m, guint8 cmid[16]);
/** The index of machine M's preferred host. */
guint volact_sim_preferred_host (const VolactSim *s, guint32 m);

/** Resolves HOSTS ("H1[:P1],H2[:P2]") and loads the authority in TRUST into S. */
gboolean volact_sim_net_setup (VolactSim *s, const char *hosts, const char *trust,
                               GError **error);
/** Frees what volact_sim_net_setup() made. */
void volact_sim_net_clear (VolactSim *s);
/** Sends S's batch, at most S->concurrency at once, each over a new connection; fills the jobs. */
void volact_sim_send_batch (VolactSim *s);
/** The most answers completed within one real second. */
guint volact_sim_peak_per_second (const VolactSim *s);

G_END_DECLS

#endif
