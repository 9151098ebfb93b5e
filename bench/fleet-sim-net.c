/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-fleet-sim's network side: one simulated hour's requests, sent by at
 * most --concurrency threads, each request over a new connection as a real
 * client makes it (docs/protocol.md), to the machine's preferred host and, if
 * that one does not answer, to the others in turn. Every answer is checked for
 * form, nonce and result; every (100/P)th one is fully verified against the
 * pinned authority (as bench-activate's --verify-percent does), so the
 * generator's CPU goes to sending rather than to signature checks.
 */
#include "config.h"

#include "fleet-common.h"
#include "volact-bytes.h"
#include "volact-client-cli.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-fleet-sim.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/x509.h>

/* As libvolact's discovering client: a host that does not accept in 2 s is passed over. */
#define SIM_CONNECT_TIMEOUT_MS 2000
#define SIM_IO_TIMEOUT_S 10
/* Offsets of the signed response (docs/protocol.md). */
#define REQ_NONCE 8
#define RSP_NONCE 8
#define RSP_RESULT 24
#define RSP_COUNT 28
#define RSP_ACTIVATION 34
#define RSP_RENEWAL 36

static gboolean
resolve (VolactSimHost *h, const char *arg, GError **error)
{
  g_autofree char *name = NULL;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
  char port[8];
  guint16 p;
  int rc;

  if (!volact_cli_parse_host (arg, &name, &p, &h->label, error)) {
    g_prefix_error (error, "--hosts: ");
    return FALSE;
  }
  g_snprintf (port, sizeof port, "%u", p);
  rc = getaddrinfo (name, port, &hints, &res);
  if (rc != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--hosts: %s: %s", h->label,
                 gai_strerror (rc));
    g_clear_pointer (&h->label, g_free);
    return FALSE;
  }
  memcpy (&h->addr, res->ai_addr, res->ai_addrlen);
  h->addr_len = res->ai_addrlen;
  freeaddrinfo (res);
  return TRUE;
}

gboolean
volact_sim_net_setup (VolactSim *s, const char *hosts, const char *trust, GError **error)
{
  g_auto (GStrv) items = g_strsplit (hosts, ",", -1);
  X509 *cert;

  for (guint i = 0; items[i] != NULL; i++) {
    if (s->n_hosts == VOLACT_SIM_MAX_HOSTS) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--hosts: at most %u hosts",
                   VOLACT_SIM_MAX_HOSTS);
      return FALSE;
    }
    if (!resolve (&s->hosts[s->n_hosts], items[i], error))
      return FALSE;
    s->n_hosts++;
  }
  if (s->n_hosts == 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--hosts: no host given");
    return FALSE;
  }
  cert = volact_crypto_load_certificate (trust, error);
  if (cert == NULL) {
    g_prefix_error (error, "--trust: ");
    return FALSE;
  }
  s->authority = X509_get_pubkey (cert);
  X509_free (cert);
  /* One per sender and host: each keeps its host's checked certificate. */
  s->verifiers = g_new0 (VolactResponseVerifier *, s->concurrency * s->n_hosts);
  for (guint i = 0; i < s->concurrency * s->n_hosts; i++)
    s->verifiers[i] = volact_response_verifier_new (s->authority);
  return TRUE;
}

void
volact_sim_net_clear (VolactSim *s)
{
  for (guint i = 0; s->verifiers != NULL && i < s->concurrency * s->n_hosts; i++)
    volact_response_verifier_free (s->verifiers[i]);
  g_free (s->verifiers);
  EVP_PKEY_free (s->authority);
}

/* A connected socket to H with I/O timeouts, or -1 if H does not accept in time. */
static int
connect_host (const VolactSimHost *h)
{
  struct timeval tv = { .tv_sec = SIM_IO_TIMEOUT_S };
  struct pollfd pfd;
  int fd, err = 0;
  socklen_t len = sizeof err;

  fd = socket (h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (const struct sockaddr *) &h->addr, h->addr_len) != 0) {
    if (errno != EINPROGRESS)
      goto fail;
    pfd = (struct pollfd) { .fd = fd, .events = POLLOUT };
    if (poll (&pfd, 1, SIM_CONNECT_TIMEOUT_MS) != 1
        || getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
      goto fail;
  }
  /* Back to blocking, with timeouts: the thread waits for its one answer. */
  if (fcntl (fd, F_SETFL, 0) != 0 || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0
      || setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    goto fail;
  return fd;
fail:
  close (fd);
  return -1;
}

/* Reads one whole message into BUF; its length, or 0 if none arrived. */
static gsize
read_message (int fd, guint8 *buf, gsize size)
{
  gsize got = 0, want = VOLACT_PROTO_HEADER_SIZE;
  VolactMessageType type;

  while (got < want) {
    ssize_t n = recv (fd, buf + got, want - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return 0;
    got += (gsize) n;
    if (got == VOLACT_PROTO_HEADER_SIZE && want == VOLACT_PROTO_HEADER_SIZE
        && (!volact_proto_peek (buf, got, &type, &want, NULL) || want > size))
      return 0;
  }
  return got;
}

/* Checks the answer in BUF (LEN bytes) to the request REQ and books it into J. */
static void
check_answer (VolactSim *s, guint worker, VolactSimJob *j, const guint8 *buf, gsize len,
              const guint8 *req, gsize req_len)
{
  g_autoptr (GError) error = NULL;
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE];
  guint32 code;

  j->outcome = VOLACT_SIM_FAILED;
  j->code = VOLACT_E_RESPONSE_INVALID;
  if (len == VOLACT_PROTO_ERROR_SIZE) {
    /* Not signed: the nonce tells it answers this request; it is never a license. */
    if (volact_error_response_decode (buf, len, nonce, &code, NULL)
        && memcmp (nonce, req + REQ_NONCE, sizeof nonce) == 0) {
      j->outcome = VOLACT_SIM_ERROR;
      j->code = code;
    }
    return;
  }
  if (len != VOLACT_PROTO_RESPONSE_SIZE || memcmp (buf + RSP_NONCE, req + REQ_NONCE, VOLACT_PROTO_NONCE_SIZE) != 0)
    return;
  if (s->verify_every > 0
      && (guint) g_atomic_int_add (&s->answers, 1) % s->verify_every == 0) {
    VolactResponse resp;
    g_atomic_int_inc (&s->verified);
    if (!volact_response_verifier_check (s->verifiers[worker * s->n_hosts + j->host], buf, len, req, req_len, &resp,
                                         &error)) {
      g_printerr ("volact-fleet-sim: %s\n", error->message);
      return;
    }
  }
  j->code = (guint32) volact_get_be (buf + RSP_RESULT, 4);
  j->count = (guint32) volact_get_be (buf + RSP_COUNT, 4);
  j->activation = (guint16) volact_get_be (buf + RSP_ACTIVATION, 2);
  j->renewal = (guint16) volact_get_be (buf + RSP_RENEWAL, 2);
  /* The intervals a host may set (15..43200 minutes) and a count that includes the asker. */
  if (j->activation < 15 || j->renewal < 15 || j->count == 0) {
    j->code = VOLACT_E_RESPONSE_INVALID;
    return;
  }
  j->outcome = VOLACT_SIM_ANSWERED;
}

static void
send_one (VolactSim *s, guint worker, VolactSimJob *j)
{
  VolactRequest r = { 0 };
  guint8 req[VOLACT_PROTO_REQUEST_MAX], buf[VOLACT_PROTO_MESSAGE_MAX];
  guint first = volact_sim_preferred_host (s, j->machine);
  gint64 t0 = g_get_monotonic_time (), elapsed;
  gsize req_len, len = 0;

  volact_sim_machine_cmid (s, j->machine, r.cmid);
  if (RAND_bytes (r.nonce, sizeof r.nonce) != 1)
    g_error ("volact-fleet-sim: no random nonce");
  g_strlcpy (r.edition, s->edition, sizeof r.edition);
  volact_fleet_machine_name (r.name, sizeof r.name, j->machine);
  r.state = s->licensed[j->machine] ? VOLACT_STATE_LICENSED : VOLACT_STATE_OOB_GRACE;
  r.minutes_left = s->licensed[j->machine] ? 180 * 24 * 60 : 30 * 24 * 60;
  req_len = volact_request_encode (&r, req, NULL);
  j->outcome = VOLACT_SIM_FAILED;
  j->code = VOLACT_E_HOST_UNREACHABLE;
  /* The preferred host, then the others in turn: fail-over as a discovering client does. */
  for (guint k = 0; k < s->n_hosts && req_len > 0 && len == 0; k++) {
    guint h = (first + k) % s->n_hosts;
    int fd = connect_host (&s->hosts[h]);
    if (fd < 0)
      continue;
    if (send (fd, req, req_len, MSG_NOSIGNAL) == (ssize_t) req_len)
      len = read_message (fd, buf, sizeof buf);
    close (fd);
    j->host = (guint8) h;
  }
  elapsed = g_get_monotonic_time () - t0;
  j->latency_us = (guint32) MIN (elapsed, (gint64) G_MAXUINT32);
  if (len > 0)
    check_answer (s, worker, j, buf, len, req, req_len);
  elapsed = (g_get_monotonic_time () - s->start) / G_USEC_PER_SEC;
  if (elapsed >= 0 && (guint64) elapsed < s->n_seconds)
    g_atomic_int_inc (&s->per_second[elapsed]);
  j->done = TRUE;
}

typedef struct {
  VolactSim *sim;
  guint index;
} Sender;

static gpointer
sender_main (gpointer data)
{
  Sender *w = data;
  VolactSim *s = w->sim;

  for (;;) {
    gint i = g_atomic_int_add (&s->claimed, 1);
    if ((guint) i >= s->n_jobs || g_get_monotonic_time () >= s->deadline)
      break;
    send_one (s, w->index, &s->jobs[i]);
  }
  return NULL;
}

void
volact_sim_send_batch (VolactSim *s)
{
  guint n = MIN (s->concurrency, s->n_jobs);
  g_autofree GThread **threads = g_new (GThread *, n);
  g_autofree Sender *senders = g_new (Sender, n);

  s->claimed = 0;
  for (guint i = 0; i < n; i++) {
    senders[i] = (Sender) { s, i };
    threads[i] = g_thread_new ("sender", sender_main, &senders[i]);
  }
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
}

guint
volact_sim_peak_per_second (const VolactSim *s)
{
  guint peak = 0;

  for (guint i = 0; i < s->n_seconds; i++)
    peak = MAX (peak, (guint) s->per_second[i]);
  return peak;
}
