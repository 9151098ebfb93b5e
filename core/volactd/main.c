/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactd: the volact host. See volactd(8). */
#include "config.h"

#include "volact-admin.h"
#include "volact-config.h"
#include "volact-dns-publisher.h"
#include "volact-error.h"
#include "volact-host.h"
#include "volact-notify.h"
#include "volact-records.h"
#include "volact-reload.h"
#include "volact-server.h"
#include "volact-web.h"
#include "volact-trust-policy.h"
#include "volact-xmlsig.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

static char *opt_config;
static gboolean opt_foreground;
static gboolean opt_print_catalog;
static gboolean opt_version;
static gboolean daemonized;

static const GOptionEntry entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Read the configuration from FILE",
    "FILE" },
  { "foreground", 'f', 0, G_OPTION_ARG_NONE, &opt_foreground,
    "Stay in the foreground, logging to standard error (or the journal)", NULL },
  { "print-catalog", 0, 0, G_OPTION_ARG_NONE, &opt_print_catalog,
    "Load plugins and license data, print the catalog and exit", NULL },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { NULL }
};

static int
fail (const GError *error)
{
  guint32 code = error->domain == VOLACT_ERROR ? (guint32) error->code : (guint32) VOLACT_E_FAILED;
  g_printerr ("volactd: error 0x%08X: %s\n", code, error->message);
  if (daemonized)
    syslog (LOG_ERR, "error 0x%08X: %s", code, error->message);
  return EXIT_FAILURE;
}

static int
print_catalog (const VolactConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) catalog = NULL;
  g_autofree char *text = NULL;
  VolactCatalogSources src = {
    .plugin_dirs = (const char *const *) cfg->plugin_dirs,
    .license_dir = cfg->license_dir,
    .trust_file = cfg->trust,
  };

  if (!volact_trust_policy_check (cfg, &error))
    return fail (error);
  catalog = volact_catalog_build (&src, NULL, &error);
  if (catalog == NULL)
    return fail (error);
  text = volact_catalog_to_text (catalog);
  fputs (text, stdout);
  /* A check before deploying data: what the host would refuse is a failure here. */
  if (volact_catalog_refused_files (catalog)->len > 0) {
    const VolactRefusedFile *first = volact_catalog_refused_files (catalog)->pdata[0];
    g_autofree char *problems = volact_catalog_problems (catalog);
    g_set_error (&error, VOLACT_ERROR, first->error->code, "license data loaded in part: %s",
                 problems);
    return fail (error);
  }
  return EXIT_SUCCESS;
}

/* Journal when stderr is the journal, syslog once detached, stderr otherwise. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
    return G_LOG_WRITER_HANDLED;
  if (!daemonized)
    return g_log_writer_is_journald (fileno (stderr))
               ? g_log_writer_journald (level, fields, n_fields, user_data)
               : g_log_writer_standard_streams (level, fields, n_fields, user_data);
  {
    const char *message = "";
    int prio = LOG_INFO;
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
      prio = LOG_ERR;
    else if (level & G_LOG_LEVEL_WARNING)
      prio = LOG_WARNING;
    else if (level & G_LOG_LEVEL_DEBUG)
      prio = LOG_DEBUG;
    syslog (prio, "%s", message);
  }
  return G_LOG_WRITER_HANDLED;
}

/*
 * Detaching: fork before any thread exists (the record writer is a thread),
 * initialise in the child with stderr still on the terminal, then tell the
 * waiting parent through a pipe whether start-up worked. The parent exits 0
 * only when the host is ready, so "volactd && echo ok" means what it says.
 */
static int ready_fd = -1;

static void
detach_begin (void)
{
  int fds[2];
  pid_t pid;

  if (pipe (fds) != 0 || (pid = fork ()) < 0) {
    g_printerr ("volactd: cannot detach: %s\n", g_strerror (errno));
    exit (EXIT_FAILURE);
  }
  if (pid > 0) {
    char status = 1;
    close (fds[1]);
    if (read (fds[0], &status, 1) != 1)
      status = 1; /* the child died before it was ready; it said why on stderr */
    _exit (status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
  }
  close (fds[0]);
  ready_fd = fds[1];
  setsid ();
}

static void
detach_finish (void)
{
  char ok = 0;
  int null = open ("/dev/null", O_RDWR);

  openlog ("volactd", LOG_PID, LOG_DAEMON);
  daemonized = TRUE;
  if (null >= 0) {
    dup2 (null, STDIN_FILENO);
    dup2 (null, STDOUT_FILENO);
    dup2 (null, STDERR_FILENO);
    if (null > STDERR_FILENO)
      close (null);
  }
  if (write (ready_fd, &ok, 1) != 1)
    g_warning ("could not tell the starting process that the host is ready");
  close (ready_fd);
  ready_fd = -1;
}

static gboolean
on_quit (gpointer loop)
{
  g_message ("stopping");
  volact_notify ("STOPPING=1");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/*
 * SIGHUP reloads on a thread of its own: the client port and the web
 * listener run on the main loop, and must keep serving however long a
 * reload takes. Signals during a reload ask for one more after it.
 */
typedef struct {
  VolactHost *host;
  GMutex lock;
  GThread *thread; /* the last reload thread, joined before the next or at exit */
  gboolean running;
  gboolean pending;
} Reloader;

static gpointer
reload_thread (gpointer data)
{
  Reloader *r = data;

  for (;;) {
    g_mutex_lock (&r->lock);
    if (!r->pending) {
      r->running = FALSE;
      g_mutex_unlock (&r->lock);
      return NULL;
    }
    r->pending = FALSE;
    g_mutex_unlock (&r->lock);
    /* The host records the outcome (event 1007 or 1008) and logs it. */
    volact_notify ("RELOADING=1");
    volact_host_reload (r->host, NULL, NULL);
    volact_notify ("READY=1");
  }
}

static gboolean
on_hangup (gpointer data)
{
  Reloader *r = data;
  GThread *finished = NULL;

  g_mutex_lock (&r->lock);
  r->pending = TRUE;
  if (!r->running) {
    r->running = TRUE;
    finished = r->thread;
    r->thread = g_thread_new ("reload", reload_thread, r);
  }
  g_mutex_unlock (&r->lock);
  if (finished != NULL)
    g_thread_join (finished); /* it said it was done: returns at once */
  return G_SOURCE_CONTINUE;
}

/*
 * Raises the soft descriptor limit to the hard one: at the usual 1,024, about
 * 1,100 idle client connections were enough to make accept fail and lock
 * out clients and volactctl alike (issue 10, finding 1). The client listener
 * then fits max-connections into what we got (volact-server.c).
 */
static void
raise_descriptor_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0) {
    int e = errno;
    g_warning ("cannot read the descriptor limit: %s", g_strerror (e));
    return;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0) {
      int e = errno;
      g_warning ("cannot raise the descriptor limit from %llu to %llu: %s",
                 (unsigned long long) was, (unsigned long long) rl.rlim_max, g_strerror (e));
      rl.rlim_cur = was;
    }
  }
  if (rl.rlim_cur == RLIM_INFINITY)
    g_message ("descriptor limit: unlimited");
  else
    g_message ("descriptor limit: %llu", (unsigned long long) rl.rlim_cur);
}

/* At exit: no new round, and the current one finishes before the host goes. */
static void
reloader_stop (Reloader *r)
{
  g_mutex_lock (&r->lock);
  r->pending = FALSE;
  g_mutex_unlock (&r->lock);
  if (r->thread != NULL)
    g_thread_join (r->thread);
  r->thread = NULL;
  g_mutex_clear (&r->lock);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the volact activation host");
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactConfig) cfg = NULL;
  g_autoptr (VolactHost) host = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  VolactAdmin *admin;
  VolactServer *server;
  VolactDnsPublisher *dns;
  VolactWeb *web = NULL;
  Reloader reloader = { 0 };

#ifdef __GLIBC__
  /* A fixed threshold: blocks of 128 KiB and more (a backlog's journal group, a large
   * reply) are mapped and go back to the system when freed. Left dynamic, glibc raises
   * the threshold to the largest block freed, and from then on such blocks come from the
   * heaps and keep their pages: 5 MiB more RSS at 1,000,000 records (bench/README.md). */
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
#endif
  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("volactd: %s\n", error->message);
    return 2;
  }
  if (opt_version) {
    printf ("volactd %s\n", PACKAGE_VERSION);
    return EXIT_SUCCESS;
  }
  g_log_set_writer_func (log_writer, NULL, NULL);
  cfg = opt_config ? volact_config_load (opt_config, &error) : volact_config_new_default ();
  if (cfg == NULL)
    return fail (error);
  if (!volact_xmlsig_init (&error))
    return fail (error);
  if (opt_print_catalog)
    return print_catalog (cfg);

  if (!opt_foreground && g_getenv ("NOTIFY_SOCKET") == NULL)
    detach_begin ();
  raise_descriptor_limit ();
  host = volact_host_new (g_steal_pointer (&cfg), &error);
  if (host == NULL)
    return fail (error);
  /* Clients first: once the admin socket exists, scripts take the host as up. */
  server = volact_server_start (host, volact_host_records (host), &error);
  if (server == NULL)
    return fail (error);
  volact_host_set_listening_port (host, volact_server_port (server));
  /* Checks the dns-* keys (a bad TSIG key file stops the start) and publishes
   * the port just bound once the loop runs (docs/dns.md). */
  dns = volact_dns_publisher_start (host, volact_server_port (server), &error);
  if (dns == NULL) {
    volact_server_stop (server);
    return fail (error);
  }
  /* The HTTPS listener, if configured: before the admin socket, for the same reason. */
  if (volact_host_config (host)->web_port != 0) {
    web = volact_web_start (host, server, &error);
    if (web == NULL) {
      g_prefix_error (&error, "%s: [host] ",
                      volact_host_config (host)->file ? volact_host_config (host)->file
                                                      : "configuration");
      volact_dns_publisher_stop (dns);
      volact_server_stop (server);
      return fail (error);
    }
    g_message ("dashboard and /metrics on https://%s:%u/ (docs/web.md)",
               volact_host_config (host)->web_listen[0], volact_web_port (web));
  }
  admin = volact_admin_start (volact_host_config (host)->admin_socket,
                              volact_host_config (host)->admin_group,
                              volact_host_config (host)->admin_timeout, volact_host_command, host,
                              &error);
  if (admin == NULL) {
    volact_web_stop (web);
    volact_dns_publisher_stop (dns);
    volact_server_stop (server);
    return fail (error);
  }
  /* Every start-up error so far went to the terminal; now the parent may go. */
  if (ready_fd >= 0)
    detach_finish ();
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit, loop);
  g_unix_signal_add (SIGINT, on_quit, loop);
  reloader.host = host;
  g_mutex_init (&reloader.lock);
  g_unix_signal_add (SIGHUP, on_hangup, &reloader);
  volact_host_event (host, VOLACT_EVENT_HOST_START,
                     "volactd %s started (pid %d, port %u, admin socket %s)", PACKAGE_VERSION,
                     (int) getpid (), volact_server_port (server),
                     volact_host_config (host)->admin_socket);
  volact_notify ("READY=1");
  g_main_loop_run (loop);
  reloader_stop (&reloader);
  /* The record stays published: a restart must not make DNS flap. */
  volact_web_stop (web);
  volact_dns_publisher_stop (dns);
  volact_server_stop (server);
  volact_admin_stop (admin);
  return EXIT_SUCCESS;
}
