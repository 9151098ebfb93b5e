/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libpq opened at first use (volact-pq.h). */
#include "config.h"

#define VOLACT_PQ_RESOLVING
#include "volact-pq.h"

#include "volact-error.h"

#include <dlfcn.h>

VolactPqFunctions volact_pq;

static char *load_error; /* why the load failed, or NULL */

static gpointer
load_once (gpointer unused)
{
  /* RTLD_NOW: a libpq without one of the functions is refused here, not at its first call.
   * RTLD_LOCAL: its symbols stay out of the global scope. Never closed. */
  void *lib = dlopen (VOLACT_PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);

  if (lib == NULL) {
    load_error = g_strdup (dlerror ());
    return NULL;
  }
#define VOLACT_PQ_RESOLVE(name)                                                                    \
  if ((volact_pq.name = (__typeof__ (name) *) dlsym (lib, #name)) == NULL) {                       \
    load_error = g_strdup_printf ("%s has no %s", VOLACT_PQ_LIBRARY, #name);                       \
    return NULL;                                                                                   \
  }
  VOLACT_PQ_FUNCTIONS (VOLACT_PQ_RESOLVE)
#undef VOLACT_PQ_RESOLVE
  return lib;
}

gboolean
volact_pq_load (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  if (g_once (&once, load_once, NULL) != NULL)
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
               "store: a shared store needs PostgreSQL's client library %s (Debian package "
               "libpq5), which cannot be opened: %s",
               VOLACT_PQ_LIBRARY, load_error);
  return FALSE;
}
