/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plugin loader: libltdl with a bind-now loader of our own.
 *
 * Order of a load, and why:
 *  1. list every folder first, so an unreadable folder fails the call before
 *     any module is opened;
 *  2. open each module with RTLD_NOW (an unresolved symbol is a refusal now,
 *     not a crash at the first request), look up the descriptor and check
 *     ABI version, name and duplicates before anything in the module runs;
 *  3. drop plugins that another accepted plugin replaces (kms12 replaces
 *     kms11), then refuse a second claim of the same family;
 *  4. only the survivors get their load callback.
 */
#include "config.h"

#include "volact-plugins.h"

#include "volact-catalog.h"
#include "volact-error.h"

#include <dlfcn.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>

/* A loaded plugin; the public part comes first so the arrays can hand it out. */
typedef struct {
  VolactLoadedPlugin pub;
  lt_dlhandle handle;
  gboolean load_called; /* desc->load succeeded (or is absent): unload is owed */
} Plugin;

struct _VolactPluginSet {
  GPtrArray *plugins;  /* Plugin*, accepted, load order */
  GPtrArray *refused;  /* VolactRefusedPlugin* */
  GPtrArray *replaced; /* char* names */
};

/* A module file found in a plugin folder. */
typedef struct {
  char *dir;  /* absolute folder */
  char *name; /* NAME without .la / .so */
  char *file; /* DIR/NAME.la if present, else DIR/NAME.so */
} Candidate;

/* libltdl keeps global state and is not thread-safe: every lt_dl* call and
 * the attempt log below are guarded by this lock. */
static GMutex ltdl_lock;
/* dlerror() of each existing file the bind-now loader failed to open during
 * the current lt_dlopenext() (glibc's text names the file); libltdl's own error
 * is often only "file not found" because its later fallbacks overwrite it. */
static GPtrArray *open_failures;

/* --- the bind-now loader ------------------------------------------------ */

static lt_module
bind_now_open (lt_user_data data, const char *filename, lt_dladvise advise)
{
  void *module;

  g_debug ("plugin loader: trying %s", filename ? filename : "(the program itself)");
  dlerror ();
  /* RTLD_NOW: every undefined symbol is resolved here, so a module built
   * against a missing symbol is refused at load time. RTLD_LOCAL: plugins
   * cannot see each other's symbols. */
  module = dlopen (filename, RTLD_NOW | RTLD_LOCAL);
  if (module == NULL) {
    const char *why = dlerror ();
    g_debug ("plugin loader: cannot open %s: %s", filename ? filename : "(self)",
             why ? why : "unknown error");
    if (open_failures != NULL && filename != NULL && g_file_test (filename, G_FILE_TEST_EXISTS))
      g_ptr_array_add (open_failures, g_strdup (why ? why : "unknown dlopen error"));
    lt_dlseterror (filename != NULL && !g_file_test (filename, G_FILE_TEST_EXISTS)
                       ? LT_ERROR_FILE_NOT_FOUND
                       : LT_ERROR_CANNOT_OPEN);
  }
  return module;
}

static int
bind_now_close (lt_user_data data, lt_module module)
{
  if (dlclose (module) != 0) {
    g_debug ("plugin loader: dlclose failed: %s", dlerror ());
    lt_dlseterror (LT_ERROR_CANNOT_CLOSE);
    return 1;
  }
  return 0;
}

static void *
bind_now_find_sym (lt_user_data data, lt_module module, const char *symbol)
{
  void *address;

  dlerror ();
  address = dlsym (module, symbol);
  if (address == NULL)
    lt_dlseterror (LT_ERROR_SYMBOL_NOT_FOUND);
  return address;
}

static const lt_dlvtable bind_now_vtable = {
  .name = "volact-bind-now",
  .sym_prefix = NULL,
  .module_open = bind_now_open,
  .module_close = bind_now_close,
  .find_sym = bind_now_find_sym,
  .dlloader_init = NULL,
  .dlloader_exit = NULL,
  .dlloader_data = NULL,
  .priority = LT_DLLOADER_PREPEND,
};

static gpointer
ltdl_setup (gpointer data)
{
  lt_dlvtable *lazy;

  /* Register the error domain from the core's own string first, so no
   * plugin's copy of the name ever becomes the quark's stored key. */
  (void) volact_error_quark ();
  /* One lt_dlinit per process, never balanced by lt_dlexit: other libraries
   * (xmlsec) may share libltdl, and our loader must outlive their exits. */
  if (lt_dlinit () != 0) {
    g_warning ("plugin loader: lt_dlinit failed: %s", lt_dlerror ());
    return GINT_TO_POINTER (FALSE);
  }
  if (lt_dlloader_add (&bind_now_vtable) != 0) {
    g_warning ("plugin loader: cannot register the bind-now loader: %s", lt_dlerror ());
    return GINT_TO_POINTER (FALSE);
  }
  /* libltdl tries the next loader when one fails, and its stock "lt_dlopen"
   * loader uses RTLD_LAZY: it would quietly accept the module we just refused
   * for an unresolved function. Remove it so bind-now is the only way in. */
  lazy = lt_dlloader_remove ("lt_dlopen");
  if (lazy == NULL)
    g_warning ("plugin loader: cannot remove libltdl's lazy dlopen loader (%s); "
               "a module with unresolved symbols may load lazily",
               lt_dlerror ());
  /* The removed vtable is the caller's; libltdl malloc()ed it. */
  free (lazy);
  return GINT_TO_POINTER (TRUE);
}

static gboolean
ltdl_ensure (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  if (!GPOINTER_TO_INT (g_once (&once, ltdl_setup, NULL))) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_FAILED,
                         "cannot initialise the plugin loader (libltdl)");
    return FALSE;
  }
  return TRUE;
}

/* --- sets --------------------------------------------------------------- */

static void
candidate_free (Candidate *c)
{
  g_free (c->dir);
  g_free (c->name);
  g_free (c->file);
  g_free (c);
}

static void
refused_free (VolactRefusedPlugin *r)
{
  g_free (r->path);
  g_clear_error (&r->error);
  g_free (r);
}

/* Calls unload if owed, then closes the module. Caller holds ltdl_lock. */
static void
plugin_close (Plugin *p)
{
  if (p->load_called && p->pub.desc->unload != NULL)
    p->pub.desc->unload ();
  if (p->handle != NULL && lt_dlclose (p->handle) != 0)
    g_warning ("plugin loader: closing %s failed: %s", p->pub.path, lt_dlerror ());
  g_free (p->pub.path);
  g_free (p);
}

static void refuse (VolactPluginSet *set, const char *path, gint code, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
refuse (VolactPluginSet *set, const char *path, gint code, const char *format, ...)
{
  VolactRefusedPlugin *r = g_new0 (VolactRefusedPlugin, 1);
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  r->path = g_strdup (path);
  r->error = g_error_new (VOLACT_ERROR, code, "plugin %s refused: %s", path, why);
  g_warning ("%s", r->error->message);
  g_ptr_array_add (set->refused, r);
}

/* Refuses an opened plugin and closes it. Caller holds ltdl_lock. */
static void
refuse_plugin (VolactPluginSet *set, Plugin *p, gint code, const char *why)
{
  refuse (set, p->pub.path, code, "%s", why);
  plugin_close (p);
}

/* [a-z0-9_-]{1,32}: names end up in config groups, logs and JSON. */
static gboolean
name_is_sane (const char *name)
{
  gsize len = 0;

  if (name == NULL)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++, len++)
    if (!(g_ascii_islower (*c) || g_ascii_isdigit (*c) || *c == '_' || *c == '-'))
      return FALSE;
  return len >= 1 && len <= 32;
}

static gboolean
strv_contains0 (const char *const *strv, const char *s)
{
  return strv != NULL && g_strv_contains (strv, s);
}

static Plugin *
find_plugin (GPtrArray *plugins, const char *name)
{
  for (guint i = 0; i < plugins->len; i++) {
    Plugin *p = plugins->pdata[i];
    if (g_strcmp0 (p->pub.desc->name, name) == 0)
      return p;
  }
  return NULL;
}

static gint
compare_candidates (gconstpointer a, gconstpointer b)
{
  const Candidate *ca = *(const Candidate *const *) a;
  const Candidate *cb = *(const Candidate *const *) b;
  return strcmp (ca->name, cb->name);
}

/* Appends DIR's modules (NAME.la / NAME.so, once per NAME) sorted by NAME. */
static gboolean
list_dir (const char *dir, GPtrArray *candidates, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *abs = g_canonicalize_filename (dir, NULL);
  g_autoptr (GDir) d = g_dir_open (abs, 0, &local);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  const char *entry;

  if (d == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot read plugin folder %s: %s", abs,
                 local->message);
    return FALSE;
  }
  while ((entry = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = NULL;
    g_autofree char *name = NULL;

    if (entry[0] == '.' || !(g_str_has_suffix (entry, ".la") || g_str_has_suffix (entry, ".so")))
      continue;
    path = g_build_filename (abs, entry, NULL);
    /* Skips .libs and any other folder; follows symlinks to files. */
    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
      continue;
    name = g_strndup (entry, strlen (entry) - 3);
    if (name[0] == '\0' || g_hash_table_contains (seen, name))
      continue;
    g_hash_table_add (seen, g_strdup (name));
  }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL)) {
      Candidate *c = g_new0 (Candidate, 1);
      g_autofree char *la = g_strconcat (key, ".la", NULL);
      g_autofree char *so = g_strconcat (key, ".so", NULL);
      g_autofree char *la_path = g_build_filename (abs, la, NULL);

      c->dir = g_strdup (abs);
      c->name = g_strdup (key);
      /* lt_dlopenext prefers NAME.la, so name that file when it exists. */
      c->file = g_file_test (la_path, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&la_path)
                                                              : g_build_filename (abs, so, NULL);
      g_ptr_array_add (found, c);
    }
  }
  g_ptr_array_sort (found, compare_candidates);
  g_ptr_array_extend_and_steal (candidates, g_steal_pointer (&found));
  return TRUE;
}

/* Opens one module and checks its descriptor; adds it to set->plugins or
 * set->refused. Nothing in the module runs here. Caller holds ltdl_lock. */
static void
open_candidate (VolactPluginSet *set, const Candidate *c)
{
  g_autofree char *base = g_build_filename (c->dir, c->name, NULL);
  const lt_dlinfo *info;
  const VolactPlugin *desc;
  Plugin *p, *other;
  lt_dlhandle handle;

  g_debug ("plugin loader: opening %s (NAME.la, then NAME.so)", base);
  open_failures = g_ptr_array_new_with_free_func (g_free);
  handle = lt_dlopenext (base);
  if (handle == NULL) {
    const char *lt_why = lt_dlerror ();
    g_autoptr (GString) why = g_string_new (NULL);

    /* The dlerror of each existing file tried says more than libltdl's summary. */
    for (guint i = 0; i < open_failures->len; i++)
      g_string_append_printf (why, "%s%s", i > 0 ? "; " : "",
                              (const char *) open_failures->pdata[i]);
    /* libltdl's own text only when the loader saw no file (after a failed
     * .la, its fallbacks leave a misleading "file not found"). */
    if (why->len == 0)
      g_string_append_printf (why, "libltdl: %s", lt_why ? lt_why : "unknown error");
    refuse (set, c->file, VOLACT_E_PLUGIN_OPEN, "cannot open the module: %s", why->str);
    g_clear_pointer (&open_failures, g_ptr_array_unref);
    return;
  }
  g_clear_pointer (&open_failures, g_ptr_array_unref);

  p = g_new0 (Plugin, 1);
  p->handle = handle;
  info = lt_dlgetinfo (handle);
  p->pub.path = g_strdup (info != NULL && info->filename != NULL ? info->filename : c->file);
  g_debug ("plugin loader: opened %s", p->pub.path);

  /* libltdl looks up NAME_LTX_volact_plugin first, then volact_plugin. */
  desc = lt_dlsym (handle, "volact_plugin");
  if (desc == NULL) {
    g_autofree char *why
        = g_strdup_printf ("the module exports no plugin descriptor (neither %s_LTX_volact_plugin "
                           "nor volact_plugin; was the file renamed?)",
                           info != NULL && info->name != NULL ? info->name : c->name);
    refuse_plugin (set, p, VOLACT_E_PLUGIN_NO_DESC, why);
    return;
  }
  /* abi_version is the first field in every ABI; read nothing else before it matches. */
  if (desc->abi_version != VOLACT_PLUGIN_ABI_VERSION) {
    g_autofree char *why
        = g_strdup_printf ("plugin ABI version %u, but this host needs version %u; rebuild the "
                           "plugin against this <volact/plugin.h>",
                           (guint) desc->abi_version, (guint) VOLACT_PLUGIN_ABI_VERSION);
    refuse_plugin (set, p, VOLACT_E_PLUGIN_ABI, why);
    return;
  }
  p->pub.desc = desc;
  if (!name_is_sane (desc->name)) {
    g_autofree char *why = g_strdup_printf ("descriptor name \"%s\" is not 1 to 32 of [a-z0-9_-]",
                                            desc->name ? desc->name : "(null)");
    refuse_plugin (set, p, VOLACT_E_PLUGIN_NAME, why);
    return;
  }
  if (strcmp (desc->name, c->name) != 0) {
    g_autofree char *why = g_strdup_printf (
        "descriptor name \"%s\" does not match the file name \"%s\"", desc->name, c->name);
    refuse_plugin (set, p, VOLACT_E_PLUGIN_NAME, why);
    return;
  }
  if (desc->families == NULL || desc->interpret == NULL) {
    g_autofree char *why
        = g_strdup_printf ("descriptor of \"%s\" has no %s", desc->name,
                           desc->families == NULL ? "families list" : "interpret callback");
    refuse_plugin (set, p, VOLACT_E_PLUGIN_NAME, why);
    return;
  }
  other = find_plugin (set->plugins, desc->name);
  if (other != NULL) {
    g_autofree char *why = g_strdup_printf ("a plugin named \"%s\" is already loaded from %s",
                                            desc->name, other->pub.path);
    refuse_plugin (set, p, VOLACT_E_PLUGIN_DUPLICATE, why);
    return;
  }
  g_ptr_array_add (set->plugins, p);
}

/* Drops every plugin named in another accepted plugin's `replaces`. A plugin
 * that is itself dropped replaces nothing, so a cycle keeps the first. */
static void
apply_replaces (VolactPluginSet *set)
{
  g_autoptr (GHashTable) dropped = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < set->plugins->len; i++) {
    Plugin *p = set->plugins->pdata[i];
    if (g_hash_table_contains (dropped, p) || p->pub.desc->replaces == NULL)
      continue;
    for (const char *const *r = p->pub.desc->replaces; *r != NULL; r++) {
      Plugin *victim = find_plugin (set->plugins, *r);
      if (victim == NULL || victim == p || g_hash_table_contains (dropped, victim))
        continue;
      g_message ("plugin %s (%s) is replaced by %s (%s); skipping it", victim->pub.desc->name,
                 victim->pub.path, p->pub.desc->name, p->pub.path);
      g_hash_table_add (dropped, victim);
      g_ptr_array_add (set->replaced, g_strdup (victim->pub.desc->name));
    }
  }
  for (guint i = set->plugins->len; i > 0; i--) {
    Plugin *p = set->plugins->pdata[i - 1];
    if (g_hash_table_contains (dropped, p)) {
      g_ptr_array_steal_index (set->plugins, i - 1);
      plugin_close (p);
    }
  }
}

/* One family, one plugin: the later claimant is refused. */
static void
refuse_family_clashes (VolactPluginSet *set)
{
  for (guint i = 0; i < set->plugins->len;) {
    Plugin *p = set->plugins->pdata[i];
    Plugin *owner = NULL;
    const char *family = NULL;

    for (const char *const *f = p->pub.desc->families; *f != NULL && owner == NULL; f++)
      for (guint j = 0; j < i && owner == NULL; j++)
        if (strv_contains0 (((Plugin *) set->plugins->pdata[j])->pub.desc->families, *f)) {
          owner = set->plugins->pdata[j];
          family = *f;
        }
    if (owner == NULL) {
      i++;
      continue;
    }
    {
      g_autofree char *why
          = g_strdup_printf ("plugin %s claims family \"%s\", which plugin %s (%s) already claims",
                             p->pub.desc->name, family, owner->pub.desc->name, owner->pub.path);
      g_ptr_array_steal_index (set->plugins, i);
      refuse_plugin (set, p, VOLACT_E_PLUGIN_DUPLICATE, why);
    }
  }
}

/* Runs each survivor's load callback. */
static void
call_loads (VolactPluginSet *set)
{
  for (guint i = 0; i < set->plugins->len;) {
    Plugin *p = set->plugins->pdata[i];
    g_autoptr (GError) local = NULL;

    if (p->pub.desc->load == NULL || p->pub.desc->load (volact_catalog_host_api (), &local)) {
      p->load_called = TRUE;
      g_info ("plugin %s %s loaded from %s", p->pub.desc->name,
              p->pub.desc->version ? p->pub.desc->version : "(no version)", p->pub.path);
      i++;
      continue;
    }
    {
      g_autofree char *why = g_strdup_printf ("its load callback failed: %s",
                                              local ? local->message : "no reason given");
      g_ptr_array_steal_index (set->plugins, i);
      refuse_plugin (set, p, VOLACT_E_PLUGIN_LOAD, why);
    }
  }
}

VolactPluginSet *
volact_plugin_set_load (const char *const *dirs, GError **error)
{
  g_autoptr (GPtrArray) candidates
      = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  VolactPluginSet *set;

  if (!ltdl_ensure (error))
    return NULL;
  for (const char *const *d = dirs; d != NULL && *d != NULL; d++)
    if (!list_dir (*d, candidates, error))
      return NULL;

  set = g_new0 (VolactPluginSet, 1);
  set->plugins = g_ptr_array_new ();
  set->refused = g_ptr_array_new_with_free_func ((GDestroyNotify) refused_free);
  set->replaced = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&ltdl_lock);
  for (guint i = 0; i < candidates->len; i++)
    open_candidate (set, candidates->pdata[i]);
  apply_replaces (set);
  refuse_family_clashes (set);
  call_loads (set);
  g_mutex_unlock (&ltdl_lock);
  return set;
}

void
volact_plugin_set_free (VolactPluginSet *set)
{
  if (set == NULL)
    return;
  g_mutex_lock (&ltdl_lock);
  /* Reverse load order, like a stack of initialisations. */
  for (guint i = set->plugins->len; i > 0; i--)
    plugin_close (set->plugins->pdata[i - 1]);
  g_mutex_unlock (&ltdl_lock);
  g_ptr_array_unref (set->plugins);
  g_ptr_array_unref (set->refused);
  g_ptr_array_unref (set->replaced);
  g_free (set);
}

GPtrArray *
volact_plugin_set_plugins (const VolactPluginSet *set)
{
  return set->plugins;
}

GPtrArray *
volact_plugin_set_refused (const VolactPluginSet *set)
{
  return set->refused;
}

GPtrArray *
volact_plugin_set_replaced (const VolactPluginSet *set)
{
  return set->replaced;
}

const VolactLoadedPlugin *
volact_plugin_set_claim (const VolactPluginSet *set, const char *family)
{
  if (set == NULL || family == NULL)
    return NULL;
  for (guint i = 0; i < set->plugins->len; i++) {
    const Plugin *p = set->plugins->pdata[i];
    if (strv_contains0 (p->pub.desc->families, family))
      return &p->pub;
  }
  return NULL;
}

const VolactLoadedPlugin *
volact_plugin_set_find (const VolactPluginSet *set, const char *name)
{
  if (set == NULL || name == NULL)
    return NULL;
  return (const VolactLoadedPlugin *) find_plugin (set->plugins, name);
}
