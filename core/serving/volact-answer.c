/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The answering logic of the client listener, free of sockets so that
 * tests/test-answer.c can call it with a request and a catalog. The license
 * format gives each application (count pool) its own policy, so the
 * intervals are resolved here, per request, from the edition's application;
 * the snapshot only carries the host's sai/sri overrides.
 */
#include "config.h"

#include "volact-answer.h"

#include "volact-error.h"

#include <string.h>

static guint
policy_interval (const VolactApplication *app, gboolean renewal)
{
  return renewal ? app->renewal_interval : app->activation_interval;
}

/*
 * The interval every application of CATALOG shares; *AGREE is FALSE (and the
 * default returned) when they differ. No application: the default.
 */
static guint
shared_interval (const VolactCatalog *catalog, gboolean renewal, gboolean *agree)
{
  guint fallback = renewal ? VOLACT_DEFAULT_RENEWAL_INTERVAL : VOLACT_DEFAULT_ACTIVATION_INTERVAL;
  GPtrArray *apps = catalog != NULL ? volact_catalog_applications (catalog) : NULL;
  guint value;

  *agree = TRUE;
  if (apps == NULL || apps->len == 0)
    return fallback;
  value = policy_interval (apps->pdata[0], renewal);
  for (guint i = 1; i < apps->len; i++)
    if (policy_interval (apps->pdata[i], renewal) != value) {
      *agree = FALSE;
      return fallback;
    }
  return value;
}

static guint
resolve (const VolactServingState *st, const VolactApplication *app, gboolean renewal)
{
  guint override = renewal ? st->renewal_override : st->activation_override;
  gboolean agree;

  if (override != 0)
    return override;
  if (app != NULL)
    return policy_interval (app, renewal);
  return shared_interval (st->catalog, renewal, &agree);
}

void
volact_answer_intervals (const VolactServingState *st, const VolactApplication *app,
                         guint *activation, guint *renewal)
{
  *activation = resolve (st, app, FALSE);
  *renewal = resolve (st, app, TRUE);
}

static void
describe_one (GVariantDict *d, const VolactCatalog *catalog, guint override, gboolean renewal)
{
  GPtrArray *apps = volact_catalog_applications (catalog);
  GVariantBuilder per_pool;
  gboolean agree;
  guint shared = shared_interval (catalog, renewal, &agree);

  /* The contract's single value is always there; 0 (never a valid interval) says the pools
   * differ, and the per-pool map below tells each. */
  g_variant_dict_insert (d, renewal ? "renewal_interval" : "activation_interval", "u",
                         override != 0 ? override : agree ? shared : 0);
  g_variant_builder_init (&per_pool, G_VARIANT_TYPE ("a{su}"));
  for (guint i = 0; i < apps->len; i++) {
    const VolactApplication *a = apps->pdata[i];
    g_variant_builder_add (&per_pool, "{su}", a->id,
                           override != 0 ? override : policy_interval (a, renewal));
  }
  g_variant_dict_insert (d, renewal ? "renewal_intervals" : "activation_intervals", "a{su}",
                         &per_pool);
}

void
volact_answer_describe_intervals (GVariantDict *d, const VolactCatalog *catalog,
                                  guint activation_override, guint renewal_override)
{
  describe_one (d, catalog, activation_override, FALSE);
  describe_one (d, catalog, renewal_override, TRUE);
}

void
volact_answer_decide (const VolactServingState *st, VolactRecords *records,
                      const VolactRequest *req, const char *address, gint64 now, VolactAnswer *out)
{
  volact_answer_decide_from (st, records, req, address, now, NULL, NULL, 0, out);
}

/*
 * The per-source quota of new machine IDs (finding 2 of issue 10: one
 * address inflated the count without limit). Returns FALSE if the request
 * must be refused; *NEW says a counted visit takes from the quota.
 */
static gboolean
cmid_quota (VolactRecords *records, const char *pool, const VolactRequest *req,
            VolactLimits *limits, VolactSource *source, gint64 mono, gboolean *new)
{
  *new = FALSE;
  if (limits == NULL || !volact_limits_cmid_applies (limits, source))
    return TRUE;
  if (volact_records_known (records, pool, req->cmid))
    return TRUE; /* a known machine is always served */
  *new = TRUE;
  return volact_limits_cmid_allowed (limits, source, mono);
}

void
volact_answer_decide_from (const VolactServingState *st, VolactRecords *records,
                           const VolactRequest *req, const char *address, gint64 now,
                           VolactLimits *limits, VolactSource *source, gint64 mono,
                           VolactAnswer *out)
{
  const VolactEdition *edition = NULL;
  const VolactApplication *app = NULL;
  const VolactKeyGroup *group;
  VolactResponse *resp = &out->response;
  VolactVisit visit;
  guint64 ticket = 0;
  guint32 result;
  guint count = 0, activation, renewal;

  memset (out, 0, sizeof *out);
  out->edition = "";
  visit = (VolactVisit){
    .time = now,
    .cmid = req->cmid,
    .name = req->name,
    .edition = req->edition,
    .address = address,
    .virtual_machine = req->virtual_machine,
    .state = req->state,
    .minutes_left = req->minutes_left,
  };
  if (st != NULL && st->catalog != NULL)
    edition = volact_catalog_edition (st->catalog, req->edition);
  if (edition != NULL)
    out->edition = edition->id; /* the metrics count by it (bounded by the catalog) */
  if (st == NULL || !st->activated) {
    /* Nothing to sign with that a client could trust: an unsigned error response, at once. */
    volact_records_log_refusal (records, &visit, (guint32) VOLACT_E_NOT_ACTIVATED, &ticket);
    out->error_code = (guint32) VOLACT_E_NOT_ACTIVATED;
    return;
  }

  if (edition != NULL)
    app = volact_catalog_application (st->catalog, edition->application);
  if (edition == NULL || app == NULL) {
    result = (guint32) VOLACT_E_EDITION_UNKNOWN;
    volact_records_log_refusal (records, &visit, result, &ticket);
  } else {
    visit.pool = edition->application;
    visit.counts = !req->virtual_machine || edition->vms_count;
    visit.retention_days = app->retention_days;
    visit.minimum_count = edition->minimum_count;
    group = volact_catalog_key_group (st->catalog, st->key_group);
    if (group == NULL || !volact_key_group_activates (group, edition->id)) {
      result = (guint32) VOLACT_E_EDITION_NOT_COVERED;
      volact_records_log_refusal (records, &visit, result, &ticket);
    } else {
      gboolean new_cmid;
      if (!cmid_quota (records, edition->application, req, limits, source, mono, &new_cmid)) {
        /* Nothing recorded: not even the refusal's event, which a flood would fill. */
        out->error_code = (guint32) VOLACT_E_NEW_CMID_LIMIT;
        return;
      }
      count = volact_records_count (records, &visit, &result, &ticket);
      if (result == VOLACT_RECORDS_HOST_BUSY) {
        /* The writer is far behind: nothing was counted; the client retries later. */
        out->error_code = (guint32) VOLACT_E_HOST_BUSY;
        return;
      }
      if (new_cmid)
        volact_limits_cmid_taken (limits, source);
    }
  }

  volact_answer_intervals (st, app, &activation, &renewal);
  memcpy (resp->nonce, req->nonce, VOLACT_PROTO_NONCE_SIZE);
  resp->result = result;
  resp->count = count;
  resp->minimum_count = edition ? (guint16) MIN (edition->minimum_count, G_MAXUINT16) : 0;
  resp->activation_interval = (guint16) MIN (activation, G_MAXUINT16);
  resp->renewal_interval = (guint16) MIN (renewal, G_MAXUINT16);
  resp->validity_days = app ? (guint16) MIN (app->validity_days, G_MAXUINT16) : 0;
  memcpy (resp->host_public_key, st->public_key, sizeof resp->host_public_key);
  memcpy (resp->certificate, st->certificate, sizeof resp->certificate);
  out->ticket = ticket;
}
