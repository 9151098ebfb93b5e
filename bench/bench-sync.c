/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-sync: what one durable write costs on the disk under a folder, the
 * floor under any acknowledgement that waits for its record (bench/README.md,
 * "Where the targets stand"). Writes 128 bytes and calls fdatasync N times
 * into a preallocated file, as the records journal does, and prints the wall
 * time and the CPU time (user + system) per write.
 *
 *   bench-sync [--runs N] DIR
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#define PREALLOC (2u << 20)
#define RECORD 128

static int opt_runs = 2000;

static const GOptionEntry entries[]
    = { { "runs", 'n', 0, G_OPTION_ARG_INT, &opt_runs, "Durable writes to time (default 2000)", "N" },
        { NULL } };

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR - time pwrite + fdatasync");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree guint8 *zeros = NULL;
  guint8 record[RECORD];
  double cpu0, cpu1;
  gint64 t0, t1;
  int fd;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || opt_runs < 1
      || opt_runs > 1000000) {
    fprintf (stderr, "bench-sync: %s\n", error ? error->message : "usage: bench-sync [--runs N] DIR");
    return 2;
  }
  path = g_build_filename (argv[1], "bench-sync.dat", NULL);
  fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  zeros = g_malloc0 (PREALLOC);
  if (fd < 0 || write (fd, zeros, PREALLOC) != (ssize_t) PREALLOC || fsync (fd) != 0) {
    fprintf (stderr, "bench-sync: %s: %s\n", path, g_strerror (errno));
    return 1;
  }
  memset (record, 0x5a, sizeof record);
  cpu0 = cpu_seconds ();
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < opt_runs; i++) {
    off_t at = (off_t) ((guint) i % (PREALLOC / RECORD)) * RECORD;
    if (pwrite (fd, record, sizeof record, at) != (ssize_t) sizeof record || fdatasync (fd) != 0) {
      fprintf (stderr, "bench-sync: %s: %s\n", path, g_strerror (errno));
      close (fd);
      g_unlink (path);
      return 1;
    }
  }
  t1 = g_get_monotonic_time ();
  cpu1 = cpu_seconds ();
  close (fd);
  g_unlink (path);
  printf ("durable write (%d B pwrite + fdatasync, preallocated file, %d runs): %.1f us wall, "
          "%.1f us CPU each\n",
          RECORD, opt_runs, (double) (t1 - t0) / opt_runs, (cpu1 - cpu0) * 1e6 / opt_runs);
  return 0;
}
