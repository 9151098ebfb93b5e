/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load generator for volactd's client port (docs/protocol.md): drives a
 * running host with distinct CMIDs over loopback, one connection per
 * activation or persistent connections, at several concurrencies, from one
 * or two threads of non-blocking sockets and epoll. Reports activations per
 * second, p50/p99 latency, the host's CPU time per activation (utime+stime of
 * /proc/PID/stat over the run) and its VmRSS, and compares the CPU figure
 * with a baseline measured in the same run: a bare TCP server forked here
 * (same socket style: epoll, accept4, TCP_DEFER_ACCEPT, read, canned
 * 243-byte reply, close on EOF) driven the same way, plus one ECDSA P-256
 * signature over 211 bytes. Target: host / (bare + signature) <= 1.2.
 *
 * Every response is checked (type, length, nonce, result); a sample (1% by
 * default) is fully verified against the authority certificate, so the
 * generator's own CPU stays low.
 */
#include "config.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define MAX_THREADS 2

static char *opt_host = NULL;
static int opt_port = 0;
static int opt_pid = 0;
static char *opt_trust = NULL;
static char *opt_edition = NULL;
static char *opt_modes = NULL;
static char *opt_concurrency = NULL;
static gint64 opt_requests = 20000;
static double opt_seconds = 5;
static double opt_verify = 1.0;
static int opt_threads = 0;
static gboolean opt_no_baseline = FALSE;
static gint64 opt_fill = 0;
static gboolean opt_free_port = FALSE;
static char *opt_figures = NULL;
/* --figures: one line per measured volactd run, for run-bench.sh's target summary. */
static FILE *figures;

static const GOptionEntry entries[] = {
  { "host", 'H', 0, G_OPTION_ARG_STRING, &opt_host, "Host address (default 127.0.0.1)", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "Host port", "PORT" },
  { "pid", 0, 0, G_OPTION_ARG_INT, &opt_pid, "volactd's process id (CPU time and RSS)", "PID" },
  { "trust", 't', 0, G_OPTION_ARG_FILENAME, &opt_trust,
    "The authority certificate that certified the host (verifies the sample)", "PEM" },
  { "edition", 'e', 0, G_OPTION_ARG_STRING, &opt_edition,
    "Edition to ask for (default win7-enterprise)", "ID" },
  { "modes", 'm', 0, G_OPTION_ARG_STRING, &opt_modes,
    "Comma-separated: conn (a connection per activation), persist (default both)", "LIST" },
  { "concurrency", 'c', 0, G_OPTION_ARG_STRING, &opt_concurrency,
    "Comma-separated concurrencies (default 1,8,64)", "LIST" },
  { "requests", 'n', 0, G_OPTION_ARG_INT64, &opt_requests,
    "Stop each run after N activations (default 20000)", "N" },
  { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
    "Stop each run after S seconds (default 5)", "S" },
  { "verify-percent", 0, 0, G_OPTION_ARG_DOUBLE, &opt_verify,
    "Fully verify this share of responses (default 1)", "P" },
  { "threads", 'j', 0, G_OPTION_ARG_INT, &opt_threads,
    "Generator threads, 1 or 2 (default: 1 below concurrency 8, else 2)", "N" },
  { "no-baseline", 0, 0, G_OPTION_ARG_NONE, &opt_no_baseline,
    "Skip the bare TCP server and signature baselines", NULL },
  { "fill", 0, 0, G_OPTION_ARG_INT64, &opt_fill,
    "Instead of the runs: send N distinct CMIDs as fast as possible (persistent, 64 "
    "connections), then report the host's RSS",
    "N" },
  { "figures", 0, 0, G_OPTION_ARG_FILENAME, &opt_figures,
    "Append each volactd run's figures to FILE as \"activate MODE CONC HOST_US MAIN_US RATIO "
    "P50_MS OTHER_PCT\" or \"fill N HOST_US\" (for bench/run-bench.sh)",
    "FILE" },
  { "free-port", 0, 0, G_OPTION_ARG_NONE, &opt_free_port,
    "Print a free TCP port on 127.0.0.1 and exit", NULL },
  { NULL }
};

/* ---- /proc ---------------------------------------------------------------------------- */

/* utime + stime of PID in seconds, or -1. */
static double
proc_cpu (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  const char *p;
  unsigned long long ut = 0, st = 0;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strrchr (text, ')'); /* the command name may hold spaces */
  if (p == NULL
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double) (ut + st) / (double) sysconf (_SC_CLK_TCK);
}

/* utime + stime of thread TID of PID in seconds, or -1. */
static double
proc_task_cpu (int pid, int tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/stat", pid, tid);
  g_autofree char *text = NULL;
  const char *p;
  unsigned long long ut = 0, st = 0;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strrchr (text, ')');
  if (p == NULL
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double) (ut + st) / (double) sysconf (_SC_CLK_TCK);
}

/* VmRSS of PID in KiB, or -1. */
static long
proc_rss_kib (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strstr (text, "VmRSS:");
  return p ? strtol (p + 6, NULL, 10) : -1;
}

/* Busy and total jiffies of the whole machine. */
static void
machine_cpu (unsigned long long *busy, unsigned long long *total)
{
  g_autofree char *text = NULL;
  unsigned long long v[8] = { 0 };

  *busy = *total = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL)
      || sscanf (text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &v[6], &v[7])
             < 8)
    return;
  for (int i = 0; i < 8; i++)
    *total += v[i];
  *busy = *total - v[3] - v[4];
}

static double
self_cpu (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

/* ---- the generator ------------------------------------------------------------------- */

typedef enum { MODE_CONN, MODE_PERSIST } Mode;

typedef struct {
  int fd;
  gboolean sent;
  gboolean registered;
  guint32 events;
  gint64 start;
  gsize req_len, got;
  guint8 req[VOLACT_PROTO_REQUEST_MAX];
  guint8 resp[VOLACT_PROTO_RESPONSE_SIZE];
} Slot;

typedef struct _Run Run;

typedef struct {
  Run *run;
  int index;
  GThread *thread;
  int epfd;
  guint64 rng;
  guint n_slots;
  Slot *slots;
  GArray *latencies; /* guint32 µs */
  guint64 done, verified, verify_failed, bad, licensed, insufficient, conn_failed;
  GHashTable *errors; /* error code -> count */
  VolactResponseVerifier *verifier;
} Worker;

struct _Run {
  Mode mode;
  gboolean bare; /* canned replies: check framing only */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  guint concurrency;
  gint64 limit;
  gint64 deadline;
  gint issued; /* atomically claimed activations (bounded by limit) */
  guint64 cmid_prefix;
  gint cmid_counter; /* atomically */
  guint verify_every;
  EVP_PKEY *authority;
  VolactRequest tmpl;
  guint8 tmpl_bytes[VOLACT_PROTO_REQUEST_MAX];
  gsize tmpl_len;
};

static guint64
xorshift (guint64 *s)
{
  guint64 x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* A fresh request in SLOT: new nonce, next CMID. Offsets: docs/protocol.md. */
static void
slot_prepare (Worker *w, Slot *slot)
{
  Run *r = w->run;
  guint64 n1 = xorshift (&w->rng), n2 = xorshift (&w->rng);
  guint64 id = (guint64) g_atomic_int_add (&r->cmid_counter, 1);

  memcpy (slot->req, r->tmpl_bytes, r->tmpl_len);
  slot->req_len = r->tmpl_len;
  memcpy (slot->req + 8, &n1, 8);
  memcpy (slot->req + 16, &n2, 8);
  for (int i = 0; i < 8; i++) {
    slot->req[24 + i] = (guint8) (r->cmid_prefix >> (56 - 8 * i));
    slot->req[32 + i] = (guint8) (id >> (56 - 8 * i));
  }
  slot->got = 0;
  slot->sent = FALSE;
}

static gboolean
claim (Run *r)
{
  if (g_get_monotonic_time () >= r->deadline)
    return FALSE;
  return g_atomic_int_add (&r->issued, 1) < r->limit;
}

static void
slot_close (Worker *w, Slot *slot)
{
  if (slot->fd >= 0)
    close (slot->fd);
  slot->fd = -1;
  slot->registered = FALSE;
}

/* Sends the slot's request; (re)registers for the answer, or for writability. */
static gboolean
slot_send (Worker *w, Slot *slot)
{
  struct epoll_event ev = { .data.ptr = slot };
  ssize_t n = send (slot->fd, slot->req, slot->req_len, MSG_NOSIGNAL | MSG_DONTWAIT);

  if (n == (ssize_t) slot->req_len) {
    slot->sent = TRUE;
    ev.events = EPOLLIN;
  } else if (n < 0 && (errno == EAGAIN || errno == ENOTCONN || errno == EINPROGRESS)) {
    ev.events = EPOLLOUT;
  } else {
    return FALSE;
  }
  if (!slot->registered) {
    if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, slot->fd, &ev) != 0)
      return FALSE;
    slot->registered = TRUE;
  } else if (ev.events != slot->events && epoll_ctl (w->epfd, EPOLL_CTL_MOD, slot->fd, &ev) != 0) {
    return FALSE;
  }
  slot->events = ev.events;
  return TRUE;
}

/* Starts the next activation on SLOT; FALSE when the run is over for it. */
static gboolean
slot_start (Worker *w, Slot *slot)
{
  Run *r = w->run;

  for (;;) {
    if (!claim (r)) {
      slot_close (w, slot);
      return FALSE;
    }
    slot_prepare (w, slot);
    slot->start = g_get_monotonic_time ();
    if (slot->fd >= 0) { /* persistent */
      if (slot_send (w, slot))
        return TRUE;
      slot_close (w, slot);
    }
    slot->fd = socket (r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (slot->fd >= 0
        && (connect (slot->fd, (struct sockaddr *) &r->addr, r->addr_len) == 0
            || errno == EINPROGRESS)
        && slot_send (w, slot))
      return TRUE;
    w->conn_failed++;
    slot_close (w, slot);
    if (w->conn_failed > 1000 && w->done == 0)
      return FALSE; /* nothing listens there */
    g_usleep (1000);
  }
}

static void
count_error (Worker *w, guint32 code)
{
  gpointer key = GUINT_TO_POINTER (code);
  g_hash_table_insert (
      w->errors, key,
      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (w->errors, key)) + 1));
}

/* A whole response arrived: check it, record the latency. */
static void
slot_answered (Worker *w, Slot *slot)
{
  Run *r = w->run;
  guint32 lat = (guint32) MIN (g_get_monotonic_time () - slot->start, (gint64) G_MAXUINT32);
  guint8 type = slot->resp[5];

  w->done++;
  g_array_append_val (w->latencies, lat);
  if (r->bare)
    return;
  if (memcmp (slot->resp + 8, slot->req + 8, VOLACT_PROTO_NONCE_SIZE) != 0) {
    w->bad++;
    return;
  }
  if (type == VOLACT_MSG_ERROR) {
    count_error (w, GUINT32_FROM_BE (*(guint32 *) (slot->resp + 24)));
    return;
  }
  {
    guint32 result = GUINT32_FROM_BE (*(guint32 *) (slot->resp + 24));
    if (result == 0)
      w->licensed++;
    else if (result == (guint32) VOLACT_E_COUNT_INSUFFICIENT)
      w->insufficient++;
    else
      count_error (w, result);
  }
  if (w->verifier != NULL && r->verify_every > 0 && w->done % r->verify_every == 0) {
    g_autoptr (GError) error = NULL;
    w->verified++;
    if (!volact_response_verifier_check (w->verifier, slot->resp, VOLACT_PROTO_RESPONSE_SIZE,
                                         slot->req, slot->req_len, NULL, &error)) {
      if (w->verify_failed++ == 0)
        g_printerr ("bench-activate: %s\n", error->message);
    }
  }
}

static void
slot_event (Worker *w, Slot *slot, guint32 events)
{
  Run *r = w->run;
  ssize_t n;

  if (!slot->sent) {
    if (!slot_send (w, slot))
      goto broken;
    return;
  }
  n = recv (slot->fd, slot->resp + slot->got, sizeof slot->resp - slot->got, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    goto broken;
  slot->got += (gsize) n;
  if (slot->got < VOLACT_PROTO_HEADER_SIZE)
    return;
  {
    gsize want
        = slot->resp[5] == VOLACT_MSG_ERROR ? VOLACT_PROTO_ERROR_SIZE : VOLACT_PROTO_RESPONSE_SIZE;
    if (memcmp (slot->resp, VOLACT_PROTO_MAGIC, 4) != 0) {
      w->bad++;
      goto broken_counted;
    }
    if (slot->got < want)
      return;
  }
  slot_answered (w, slot);
  if (r->mode == MODE_CONN)
    slot_close (w, slot);
  slot_start (w, slot);
  return;

broken:
  w->bad++;
broken_counted:
  slot_close (w, slot);
  slot_start (w, slot);
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  Run *r = w->run;
  struct epoll_event events[256];
  guint live = 0;

  for (guint i = 0; i < w->n_slots; i++) {
    w->slots[i].fd = -1;
    if (slot_start (w, &w->slots[i]))
      live++;
  }
  while (live > 0) {
    int n = epoll_wait (w->epfd, events, G_N_ELEMENTS (events), 100);
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < n; i++)
      slot_event (w, events[i].data.ptr, events[i].events);
    live = 0;
    for (guint i = 0; i < w->n_slots; i++)
      live += w->slots[i].fd >= 0;
    /* A stuck host must not hang the bench: the deadline plus a grace period bounds it. */
    if (g_get_monotonic_time () > r->deadline + 5 * G_USEC_PER_SEC)
      break;
  }
  for (guint i = 0; i < w->n_slots; i++)
    slot_close (w, &w->slots[i]);
  return NULL;
}

typedef struct {
  guint64 done, verified, verify_failed, bad, licensed, insufficient, conn_failed;
  double seconds, rate, p50_ms, p99_ms, max_ms;
  double host_cpu, host_main_cpu, gen_cpu;
  double machine_busy; /* share of all CPUs, 0..1 */
  double other_cpu;    /* CPU seconds used by neither the host nor this process */
  long rss_kib;
  GHashTable *errors;
} Result;

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static void
run_load (Run *r, int pid, int threads, Result *res)
{
  Worker workers[MAX_THREADS];
  unsigned long long b0, t0, b1, t1;
  double cpu0 = proc_cpu (pid), main0 = proc_task_cpu (pid, pid), self0 = self_cpu ();
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (guint32));
  gint64 start;

  threads = CLAMP (threads, 1, MAX_THREADS);
  if ((guint) threads > r->concurrency)
    threads = (int) r->concurrency;
  memset (res, 0, sizeof *res);
  res->errors = g_hash_table_new (NULL, NULL);
  machine_cpu (&b0, &t0);
  start = g_get_monotonic_time ();
  r->deadline = start + (gint64) (opt_seconds * G_USEC_PER_SEC);
  r->issued = 0;
  for (int i = 0; i < threads; i++) {
    Worker *w = &workers[i];
    memset (w, 0, sizeof *w);
    w->run = r;
    w->index = i;
    w->epfd = epoll_create1 (EPOLL_CLOEXEC);
    w->rng = g_random_int () | ((guint64) g_random_int () << 32) | 1;
    w->n_slots = r->concurrency / (guint) threads + ((guint) i < r->concurrency % (guint) threads);
    w->slots = g_new0 (Slot, w->n_slots);
    w->latencies = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 1 << 16);
    w->errors = g_hash_table_new (NULL, NULL);
    if (r->authority != NULL && !r->bare)
      w->verifier = volact_response_verifier_new (r->authority);
  }
  for (int i = 0; i < threads; i++)
    workers[i].thread = g_thread_new ("load", worker_main, &workers[i]);
  for (int i = 0; i < threads; i++)
    g_thread_join (workers[i].thread);
  res->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  machine_cpu (&b1, &t1);
  res->host_cpu = cpu0 >= 0 ? proc_cpu (pid) - cpu0 : -1;
  res->host_main_cpu = main0 >= 0 ? proc_task_cpu (pid, pid) - main0 : -1;
  res->gen_cpu = self_cpu () - self0;
  res->machine_busy = t1 > t0 ? (double) (b1 - b0) / (double) (t1 - t0) : 0;
  res->other_cpu
      = (double) (b1 - b0) / (double) sysconf (_SC_CLK_TCK) - res->gen_cpu - MAX (res->host_cpu, 0);
  res->rss_kib = proc_rss_kib (pid);
  for (int i = 0; i < threads; i++) {
    Worker *w = &workers[i];
    GHashTableIter it;
    gpointer k, v;
    res->done += w->done;
    res->verified += w->verified;
    res->verify_failed += w->verify_failed;
    res->bad += w->bad;
    res->licensed += w->licensed;
    res->insufficient += w->insufficient;
    res->conn_failed += w->conn_failed;
    g_array_append_vals (all, w->latencies->data, w->latencies->len);
    g_hash_table_iter_init (&it, w->errors);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (res->errors, k,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (res->errors, k))
                                             + GPOINTER_TO_UINT (v)));
    g_array_free (w->latencies, TRUE);
    g_hash_table_unref (w->errors);
    volact_response_verifier_free (w->verifier);
    g_free (w->slots);
    close (w->epfd);
  }
  res->rate = res->seconds > 0 ? (double) res->done / res->seconds : 0;
  if (all->len > 0) {
    g_array_sort (all, cmp_u32);
    res->p50_ms = g_array_index (all, guint32, all->len / 2) / 1000.0;
    res->p99_ms = g_array_index (all, guint32, (guint) ((all->len - 1) * 0.99)) / 1000.0;
    res->max_ms = g_array_index (all, guint32, all->len - 1) / 1000.0;
  }
}

/* ---- baselines --------------------------------------------------------------------------- */

static const guint8 canned[VOLACT_PROTO_RESPONSE_SIZE] = { 'V', 'L', 'A', 'C', 1, 2, 0, 243 };

typedef struct {
  int fd;
  gsize len;
  guint8 in[256];
} BareConn;

/* Answers one buffered request if whole; FALSE to close. */
static gboolean
bare_serve (BareConn *c)
{
  while (c->len >= VOLACT_PROTO_HEADER_SIZE) {
    gsize total = ((gsize) c->in[6] << 8) | c->in[7];
    if (total < VOLACT_PROTO_HEADER_SIZE || total > sizeof c->in)
      return FALSE;
    if (c->len < total)
      return TRUE;
    if (send (c->fd, canned, sizeof canned, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof canned)
      return FALSE;
    memmove (c->in, c->in + total, c->len - total);
    c->len -= total;
  }
  return TRUE;
}

static gboolean
bare_read (BareConn *c)
{
  ssize_t n = recv (c->fd, c->in + c->len, sizeof c->in - c->len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return TRUE;
  if (n <= 0)
    return FALSE;
  c->len += (gsize) n;
  return bare_serve (c);
}

/* The forked bare server: what volactd's listener does minus protocol, records and signing. */
static G_GNUC_NORETURN void
bare_server (int lfd)
{
  int epfd = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, events[128];

  epoll_ctl (epfd, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait (epfd, events, G_N_ELEMENTS (events), 1000);
    if (getppid () == 1)
      _exit (0); /* the bench died */
    for (int i = 0; i < n; i++) {
      BareConn *c = events[i].data.ptr;
      if (c == NULL) {
        for (int k = 0; k < 64; k++) {
          int fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0)
            break;
          c = g_new0 (BareConn, 1);
          c->fd = fd;
          if (!bare_read (c)) {
            close (fd);
            g_free (c);
            continue;
          }
          ev.events = EPOLLIN;
          ev.data.ptr = c;
          epoll_ctl (epfd, EPOLL_CTL_ADD, fd, &ev);
        }
      } else if (!bare_read (c)) {
        close (c->fd);
        g_free (c);
      }
    }
  }
}

static int
listen_loopback (struct sockaddr_in *out)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  int on = 1, defer = 10;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  setsockopt (fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen (fd, SOMAXCONN) != 0
      || getsockname (fd, (struct sockaddr *) &sa, &len) != 0) {
    close (fd);
    return -1;
  }
  if (out != NULL)
    *out = sa;
  return fd;
}

/* Microseconds per ECDSA P-256 signature over 211 bytes: the context set up once and copied
 * per signature (what volactd does), and set up from scratch each time. */
static void
signature_cost (double *copied_us, double *fresh_us)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  guint8 msg[211], sig[80];
  EVP_MD_CTX *tmpl = EVP_MD_CTX_new (), *work = EVP_MD_CTX_new ();
  gint64 t0;
  int n;

  memset (msg, 0x5a, sizeof msg);
  *copied_us = *fresh_us = -1;
  if (key == NULL || EVP_DigestSignInit_ex (tmpl, NULL, "SHA256", NULL, NULL, key, NULL) != 1)
    goto out;
  for (int pass = 0; pass < 2; pass++) {
    t0 = g_get_monotonic_time ();
    for (n = 0; n < 200000 && g_get_monotonic_time () - t0 < 700000; n++) {
      size_t len = sizeof sig;
      if (pass == 0) {
        EVP_MD_CTX_copy_ex (work, tmpl);
      } else {
        EVP_MD_CTX_reset (work);
        EVP_DigestSignInit_ex (work, NULL, "SHA256", NULL, NULL, key, NULL);
      }
      if (EVP_DigestSign (work, sig, &len, msg, sizeof msg) != 1)
        goto out;
    }
    *(pass == 0 ? copied_us : fresh_us) = (double) (g_get_monotonic_time () - t0) / n;
  }
out:
  EVP_MD_CTX_free (tmpl);
  EVP_MD_CTX_free (work);
}

/* ---- main -------------------------------------------------------------------------------- */

static void
print_result (const char *label, const char *mode, guint conc, const Result *res, double base_us,
              double sign_us)
{
  double host_us = res->host_cpu >= 0 && res->done ? res->host_cpu * 1e6 / res->done : -1;
  double gen_us = res->done ? res->gen_cpu * 1e6 / res->done : -1;

  printf ("%-6s %-7s %4u %8" G_GUINT64_FORMAT " %6.2f %9.0f %7.3f %7.3f %7.2f", label, mode, conc,
          res->done, res->seconds, res->rate, res->p50_ms, res->p99_ms, res->max_ms);
  printf (" %8.1f %7.1f %7.1f %4.0f%% %5.0f%%", host_us,
          res->host_main_cpu >= 0 && res->done ? res->host_main_cpu * 1e6 / res->done : -1, gen_us,
          res->machine_busy * 100,
          res->seconds > 0 ? MAX (res->other_cpu, 0) * 100 / res->seconds : 0);
  if (base_us > 0 && host_us > 0)
    printf (" %7.1f %6.1f %6.2f", base_us, sign_us, host_us / (base_us + sign_us));
  if (res->rss_kib > 0)
    printf (" %7.1f", res->rss_kib / 1024.0);
  printf ("\n");
  if (figures != NULL && g_str_equal (label, "volact"))
    fprintf (figures, "activate %s %u %.1f %.1f %.3f %.3f %.1f\n", mode, conc, host_us,
             res->host_main_cpu >= 0 && res->done ? res->host_main_cpu * 1e6 / res->done : -1,
             base_us > 0 && host_us > 0 ? host_us / (base_us + sign_us) : -1, res->p50_ms,
             res->seconds > 0 ? MAX (res->other_cpu, 0) * 100 / res->seconds : 0);
}

static void
print_checks (const Result *res)
{
  GHashTableIter it;
  gpointer k, v;

  printf ("       checked %" G_GUINT64_FORMAT ": licensed %" G_GUINT64_FORMAT
          ", count insufficient %" G_GUINT64_FORMAT ", bad %" G_GUINT64_FORMAT
          ", verified %" G_GUINT64_FORMAT " (failed %" G_GUINT64_FORMAT ")",
          res->done, res->licensed, res->insufficient, res->bad, res->verified, res->verify_failed);
  if (res->conn_failed)
    printf (", connect failures %" G_GUINT64_FORMAT, res->conn_failed);
  g_hash_table_iter_init (&it, res->errors);
  while (g_hash_table_iter_next (&it, &k, &v))
    printf (", 0x%08X x%u", GPOINTER_TO_UINT (k), GPOINTER_TO_UINT (v));
  printf ("\n");
}

static GArray *
parse_list (const char *text)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; parts[i]; i++) {
    guint v = (guint) g_ascii_strtoull (parts[i], NULL, 10);
    if (v > 0 && v <= 4096)
      g_array_append_val (a, v);
  }
  return a;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- drive volactd's client port");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) concs = NULL;
  g_auto (GStrv) modes = NULL;
  g_autoptr (X509) cert = NULL;
  Run run = { 0 };
  struct sockaddr_in bare_addr;
  int bare_fd = -1;
  pid_t bare_pid = -1;
  double sign_copied = -1, sign_fresh = -1, sign_us = -1;
  int status = EXIT_SUCCESS;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "bench-activate: %s\n", error->message);
    return 2;
  }
  if (opt_free_port) {
    struct sockaddr_in sa;
    int fd = listen_loopback (&sa);
    if (fd < 0)
      return EXIT_FAILURE;
    printf ("%u\n", ntohs (sa.sin_port));
    close (fd);
    return EXIT_SUCCESS;
  }
  if (opt_port <= 0 || opt_port > 65535) {
    fprintf (stderr, "bench-activate: --port is required\n");
    return 2;
  }
  if (opt_pid <= 0)
    fprintf (stderr, "bench-activate: no --pid: host CPU and RSS are not measured\n");
  if (opt_trust != NULL) {
    cert = volact_crypto_load_certificate (opt_trust, &error);
    if (cert == NULL) {
      fprintf (stderr, "bench-activate: %s\n", error->message);
      return EXIT_FAILURE;
    }
    run.authority = X509_get0_pubkey (cert);
  } else {
    fprintf (stderr, "bench-activate: no --trust: responses are checked but not verified\n");
  }
  {
    struct sockaddr_in *v4 = (struct sockaddr_in *) &run.addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &run.addr;
    const char *h = opt_host ? opt_host : "127.0.0.1";
    if (inet_pton (AF_INET, h, &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons ((guint16) opt_port);
      run.addr_len = sizeof *v4;
    } else if (inet_pton (AF_INET6, h, &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons ((guint16) opt_port);
      run.addr_len = sizeof *v6;
    } else {
      fprintf (stderr, "bench-activate: --host must be an IP address\n");
      return 2;
    }
  }
  g_strlcpy (run.tmpl.edition, opt_edition ? opt_edition : "win7-enterprise",
             sizeof run.tmpl.edition);
  g_strlcpy (run.tmpl.name, "bench.example.test", sizeof run.tmpl.name);
  run.tmpl.state = VOLACT_STATE_OOB_GRACE;
  run.tmpl.minutes_left = 43200;
  run.tmpl_len = volact_request_encode (&run.tmpl, run.tmpl_bytes, &error);
  if (run.tmpl_len == 0) {
    fprintf (stderr, "bench-activate: %s\n", error->message);
    return 2;
  }
  if (opt_figures != NULL && (figures = fopen (opt_figures, "a")) == NULL) {
    fprintf (stderr, "bench-activate: %s: %s\n", opt_figures, g_strerror (errno));
    return 2;
  }
  /* Each figure reaches the file as it is measured, even if a later run fails. */
  if (figures != NULL)
    setvbuf (figures, NULL, _IOLBF, 0);
  run.cmid_prefix = ((guint64) g_random_int () << 32) | g_random_int ();
  run.verify_every = opt_verify > 0 ? (guint) MAX (1.0, 100.0 / opt_verify) : 0;

  if (opt_fill > 0) {
    Result res;
    run.mode = MODE_PERSIST;
    run.concurrency = 64;
    run.limit = opt_fill;
    printf ("fill: %" G_GINT64_FORMAT " distinct CMIDs (persistent, 64 connections, at most "
            "%.0f s); host RSS before %.1f MiB\n",
            opt_fill, opt_seconds, proc_rss_kib (opt_pid) / 1024.0);
    run_load (&run, opt_pid, opt_threads ? opt_threads : 2, &res);
    printf ("fill: %" G_GUINT64_FORMAT " activations in %.1f s (%.0f/s), host CPU %.1f us each, "
            "host RSS after %.1f MiB\n",
            res.done, res.seconds, res.rate, res.done ? res.host_cpu * 1e6 / res.done : 0,
            res.rss_kib / 1024.0);
    print_checks (&res);
    if (figures != NULL)
      fprintf (figures, "fill %" G_GUINT64_FORMAT " %.1f\n", res.done,
               res.done ? res.host_cpu * 1e6 / res.done : -1);
    status = res.bad || res.verify_failed || res.done < (guint64) opt_fill ? EXIT_FAILURE : 0;
    g_hash_table_unref (res.errors);
    return status;
  }

  concs = parse_list (opt_concurrency ? opt_concurrency : "1,8,64");
  modes = g_strsplit (opt_modes ? opt_modes : "conn,persist", ",", -1);
  if (concs->len == 0) {
    fprintf (stderr, "bench-activate: no valid concurrency\n");
    return 2;
  }

  if (!opt_no_baseline) {
    signature_cost (&sign_copied, &sign_fresh);
    sign_us = sign_copied > 0 && sign_copied < sign_fresh ? sign_copied : sign_fresh;
    printf ("ECDSA P-256 signature over 211 bytes: %.1f us (context copied), %.1f us (set up "
            "each time); baseline uses %.1f us\n",
            sign_copied, sign_fresh, sign_us);
    bare_fd = listen_loopback (&bare_addr);
    if (bare_fd >= 0) {
      fflush (stdout);
      bare_pid = fork ();
      if (bare_pid == 0)
        bare_server (bare_fd);
      close (bare_fd);
    }
    if (bare_pid < 0)
      fprintf (stderr, "bench-activate: cannot start the bare TCP server; no baseline\n");
  }

  printf ("\n%-6s %-7s %4s %8s %6s %9s %7s %7s %7s %8s %7s %7s %5s %6s %7s %6s %6s %7s\n", "server",
          "mode", "conc", "done", "secs", "act/s", "p50ms", "p99ms", "maxms", "host_us", "main_us",
          "gen_us", "cpu", "other", "bare_us", "sign", "ratio", "rss_MiB");
  for (guint m = 0; modes[m] != NULL; m++) {
    Mode mode;
    if (g_str_equal (modes[m], "conn"))
      mode = MODE_CONN;
    else if (g_str_equal (modes[m], "persist"))
      mode = MODE_PERSIST;
    else {
      fprintf (stderr, "bench-activate: unknown mode \"%s\"\n", modes[m]);
      return 2;
    }
    for (guint i = 0; i < concs->len; i++) {
      guint conc = g_array_index (concs, guint, i);
      int threads = opt_threads ? opt_threads : (conc < 8 ? 1 : 2);
      Result host_res, bare_res = { 0 };
      double bare_us = -1;

      if (bare_pid > 0) {
        Run bare = run;
        bare.bare = TRUE;
        bare.mode = mode;
        bare.concurrency = conc;
        bare.limit = opt_requests;
        memset (&bare.addr, 0, sizeof bare.addr);
        memcpy (&bare.addr, &bare_addr, sizeof bare_addr);
        bare.addr_len = sizeof bare_addr;
        run_load (&bare, bare_pid, threads, &bare_res);
        bare_us = bare_res.done ? bare_res.host_cpu * 1e6 / bare_res.done : -1;
        bare_res.rss_kib = 0;
        print_result ("bare", modes[m], conc, &bare_res, -1, -1);
        g_hash_table_unref (bare_res.errors);
      }
      run.mode = mode;
      run.concurrency = conc;
      run.limit = opt_requests;
      run_load (&run, opt_pid, threads, &host_res);
      print_result ("volact", modes[m], conc, &host_res, bare_us, sign_us);
      print_checks (&host_res);
      if (host_res.bad || host_res.verify_failed || host_res.done == 0
          || g_hash_table_size (host_res.errors) > 0)
        status = EXIT_FAILURE;
      g_hash_table_unref (host_res.errors);
      fflush (stdout);
    }
  }
  printf ("\nhost_us: volactd CPU (utime+stime, all threads) per activation; main_us: of that, its "
          "main thread (I/O,\nprotocol, counting, signing; the rest is the record writer); "
          "bare_us: the bare server's CPU per exchange;\nratio = host_us / (bare_us + sign), "
          "target <= 1.2 for mode conn; gen_us: this generator's CPU per activation;\ncpu: "
          "whole-machine CPU use during the run; other: CPU used by other processes (%% of one "
          "CPU; noise).\n");
  if (bare_pid > 0) {
    kill (bare_pid, SIGTERM);
    waitpid (bare_pid, NULL, 0);
  }
  return status;
}
