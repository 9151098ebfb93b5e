/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver for tests/durability.sh: activates COUNT distinct machines against
 * a host through libvolact and prints the machine ID of every activation the
 * host acknowledged (a verified signed response), one per line, flushed at
 * once. It stops at the first failure: the host has been killed.
 *
 *   durability-client HOST PORT TRUST PREFIX COUNT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <volact.h>

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactClient) client = NULL;
  guint64 prefix, count;

  if (argc != 6 || !g_ascii_string_to_unsigned (argv[2], 10, 1, 65535, NULL, NULL)
      || !g_ascii_string_to_unsigned (argv[4], 16, 0, G_MAXUINT32, &prefix, NULL)
      || !g_ascii_string_to_unsigned (argv[5], 10, 1, 1000000, &count, NULL)) {
    fprintf (stderr, "usage: durability-client HOST PORT TRUST PREFIX(hex) COUNT\n");
    return 2;
  }
  client = volact_client_new (argv[1], (guint16) atoi (argv[2]), argv[3], &error);
  if (client == NULL) {
    fprintf (stderr, "durability-client: %s\n", error->message);
    return 1;
  }
  for (guint64 i = 0; i < count; i++) {
    VolactClientRequest req = { .edition = "win7-enterprise", .name = "durability.example" };
    VolactClientResult res;
    /* CMID: 4 bytes of PREFIX, then the index: distinct across drivers and runs. */
    for (int b = 0; b < 4; b++)
      req.cmid[b] = (guint8) (prefix >> (24 - 8 * b));
    for (int b = 0; b < 8; b++)
      req.cmid[8 + b] = (guint8) (i >> (56 - 8 * b));
    if (!volact_client_activate (client, &req, &res, &error)) {
      fprintf (stderr, "durability-client: stopped after %" G_GUINT64_FORMAT ": %s\n", i,
               error->message);
      return 0;
    }
    printf ("%02x%02x%02x%02x-0000-0000-%02x%02x-%02x%02x%02x%02x%02x%02x\n", req.cmid[0],
            req.cmid[1], req.cmid[2], req.cmid[3], req.cmid[8], req.cmid[9], req.cmid[10],
            req.cmid[11], req.cmid[12], req.cmid[13], req.cmid[14], req.cmid[15]);
    fflush (stdout);
  }
  return 0;
}
