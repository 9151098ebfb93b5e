/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper for tests/records-admin.sh: runs SQL on a database through its own
 * SQLite connection, the way an administrator's mistake or a damaged disk
 * would change clients.db under a running volactd.
 *
 *   records-sql DATABASE SQL
 */
#include "config.h"

#include <stdio.h>
#include <sqlite3.h>

int
main (int argc, char **argv)
{
  sqlite3 *db = NULL;
  char *msg = NULL;
  int rc;

  if (argc != 3) {
    fprintf (stderr, "usage: records-sql DATABASE SQL\n");
    return 2;
  }
  /* No CREATE: a missing database is the caller's mistake, not an empty one. */
  if (sqlite3_open_v2 (argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    fprintf (stderr, "records-sql: %s: %s\n", argv[1], db ? sqlite3_errmsg (db) : "out of memory");
    sqlite3_close (db);
    return 1;
  }
  sqlite3_busy_timeout (db, 5000);
  rc = sqlite3_exec (db, argv[2], NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fprintf (stderr, "records-sql: %s: %s\n", argv[1], msg ? msg : sqlite3_errmsg (db));
  sqlite3_free (msg);
  sqlite3_close (db);
  return rc == SQLITE_OK ? 0 : 1;
}
