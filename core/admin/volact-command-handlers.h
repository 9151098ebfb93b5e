/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The handlers of the command table (volact-commands.c), by concern:
 * license and activation (volact-host-commands.c), settings
 * (volact-settings-commands.c), records (volact-records-commands.c), DNS
 * publishing (volact-dns-commands.c), health (volact-health-commands.c). Each is
 * a VolactCommandFunc; all but ato and reload run with the host's lock held.
 */
#ifndef VOLACT_COMMAND_HANDLERS_H
#define VOLACT_COMMAND_HANDLERS_H

#include "volact-commands.h"

G_BEGIN_DECLS

#define VOLACT_COMMAND_HANDLER(name)                                                               \
  GVariant *volact_cmd_##name (struct _VolactHost *host, const char *const *args, GError **error)

VOLACT_COMMAND_HANDLER (ipk);
VOLACT_COMMAND_HANDLER (upk);
VOLACT_COMMAND_HANDLER (ato);
VOLACT_COMMAND_HANDLER (dti);
VOLACT_COMMAND_HANDLER (atp);
VOLACT_COMMAND_HANDLER (dli);
VOLACT_COMMAND_HANDLER (dlv);
VOLACT_COMMAND_HANDLER (reload);
VOLACT_COMMAND_HANDLER (sprt);
VOLACT_COMMAND_HANDLER (sdns);
VOLACT_COMMAND_HANDLER (cdns);
VOLACT_COMMAND_HANDLER (spri);
VOLACT_COMMAND_HANDLER (cpri);
VOLACT_COMMAND_HANDLER (sai);
VOLACT_COMMAND_HANDLER (sri);
VOLACT_COMMAND_HANDLER (clients);
VOLACT_COMMAND_HANDLER (events);
VOLACT_COMMAND_HANDLER (dns);
VOLACT_COMMAND_HANDLER (health);
VOLACT_COMMAND_HANDLER (report); /* volact-report-commands.c */

/** dli's DNS fields (volact-dns-commands.c): dns_publishing, dns_zones, dns_status, dns_published. */
void volact_cmd_describe_dns (struct _VolactHost *host, GVariantDict *d);

/** A --since/--until value OPTION: unix seconds or ISO 8601 (UTC unless it says); else ERROR. */
gboolean volact_cmd_parse_time (const char *option, const char *text, gint64 *out,
                                GError **error);

/** A success reply carrying MESSAGE. */
GVariant *volact_cmd_reply_message (const char *message);

G_END_DECLS

#endif
