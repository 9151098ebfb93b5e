/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The settings commands: sprt, sdns, cdns, spri, cpri, sai, sri. Each changes a
 * copy of the state, saves it, and only then swaps it in (volact_host_commit). */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-dns-publisher.h"
#include "volact-error.h"
#include "volact-host-private.h"

static gboolean
parse_minutes (const char *text, const char *what, guint *out, GError **error)
{
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, 15, 43200, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "the %s must be a whole number of minutes from 15 to 43200 (30 days), not \"%s\"",
                 what, text);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

/* Saves NEXT (a changed copy of the state) and answers MESSAGE. */
static GVariant *
commit_reply (VolactHost *host, VolactState *next, const char *message, GError **error)
{
  if (!volact_host_commit (host, next, error))
    return NULL;
  return volact_cmd_reply_message (message);
}

static GVariant *
set_interval (VolactHost *host, const char *text, gboolean renewal, GError **error)
{
  VolactState *next;
  guint v;
  g_autofree char *msg = NULL;

  if (!parse_minutes (text, renewal ? "renewal interval" : "activation interval", &v, error))
    return NULL;
  next = volact_state_copy (host->state);
  if (renewal)
    next->renewal_interval = v;
  else
    next->activation_interval = v;
  msg = g_strdup_printf ("Volume %s interval set to %u minutes successfully. Clients "
                         "receive it in their next response.",
                         renewal ? "renewal" : "activation", v);
  return commit_reply (host, next, msg, error);
}

GVariant *
volact_cmd_sai (VolactHost *host, const char *const *args, GError **error)
{
  return set_interval (host, args[0], FALSE, error);
}

GVariant *
volact_cmd_sri (VolactHost *host, const char *const *args, GError **error)
{
  return set_interval (host, args[0], TRUE, error);
}

GVariant *
volact_cmd_sprt (VolactHost *host, const char *const *args, GError **error)
{
  VolactState *next;
  guint64 v;
  guint now;
  g_autofree char *msg = NULL;

  if (!g_ascii_string_to_unsigned (args[0], 10, 1, 65535, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "the port must be a whole number from 1 to 65535, not \"%s\"", args[0]);
    return NULL;
  }
  /* The port clients use until the restart is the one bound, whatever set it. */
  now = host->listening_port ? host->listening_port : volact_host_configured_port (host);
  next = volact_state_copy (host->state);
  next->port = (guint) v;
  msg = g_strdup_printf ("KMS TCP port set to %u successfully. It takes effect when volactd "
                         "restarts; until then clients keep using port %u.",
                         (guint) v, now);
  return commit_reply (host, next, msg, error);
}

GVariant *
volact_cmd_sdns (VolactHost *host, const char *const *args, GError **error)
{
  VolactState *next = volact_state_copy (host->state);
  next->dns_publishing = TRUE;
  if (!volact_host_commit (host, next, error))
    return NULL;
  if (host->dns == NULL || host->cfg->dns_zones[0] == NULL)
    return volact_cmd_reply_message ("DNS publishing enabled, but no dns-zones are configured, "
                                     "so nothing is published (docs/dns.md).");
  volact_dns_publisher_set_enabled (host->dns, TRUE);
  if (volact_dns_publisher_waits_for_activation (host->dns))
    return volact_cmd_reply_message ("DNS publishing enabled; the SRV record is published once "
                                     "the host is activated (docs/dns.md).");
  return volact_cmd_reply_message ("DNS publishing enabled; publishing the SRV record now "
                                   "(volactctl dli shows the result).");
}

GVariant *
volact_cmd_cdns (VolactHost *host, const char *const *args, GError **error)
{
  VolactState *next = volact_state_copy (host->state);
  next->dns_publishing = FALSE;
  if (!volact_host_commit (host, next, error))
    return NULL;
  if (host->dns == NULL || host->cfg->dns_zones[0] == NULL)
    return volact_cmd_reply_message ("DNS publishing disabled.");
  volact_dns_publisher_set_enabled (host->dns, FALSE);
  return volact_cmd_reply_message ("DNS publishing disabled; removing the SRV record now "
                                   "(volactctl dli shows the result).");
}

/* The priority changes at once, so it is put back if the setting cannot be saved. */
static GVariant *
set_priority (VolactHost *host, gboolean low, GError **error)
{
  VolactState *next;
  g_autoptr (GError) undo = NULL;

  if (!volact_host_set_low_priority (low, error))
    return NULL;
  next = volact_state_copy (host->state);
  next->low_priority = low;
  if (volact_host_commit (host, next, error))
    return volact_cmd_reply_message (low ? "KMS priority set to Low."
                                         : "KMS priority set to Normal.");
  if (!volact_host_set_low_priority (host->state->low_priority, &undo))
    g_warning ("the priority setting was not saved, and restoring it failed: %s", undo->message);
  return NULL;
}

GVariant *
volact_cmd_cpri (VolactHost *host, const char *const *args, GError **error)
{
  return set_priority (host, TRUE, error);
}

GVariant *
volact_cmd_spri (VolactHost *host, const char *const *args, GError **error)
{
  return set_priority (host, FALSE, error);
}
