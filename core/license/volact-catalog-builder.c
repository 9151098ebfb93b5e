/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog builder: the entries plugins add through VolactHostApi, each
 * checked (identifiers, ranges) and merged with what other files said.
 */
#include "config.h"

#include "volact-catalog-private.h"

#include "volact-error.h"
#include "volact-xml.h"
#include "volact-xrm-interpret.h"

#include <string.h>

const char *const volact_catalog_policy_field_names[N_POLICY_FIELDS] = {
  "activationInterval", "renewalInterval", "validityDays", "retentionDays", "outOfBoxGrace",
};

static void
application_free (gpointer p)
{
  VolactApplication *a = p;
  g_free (a->id);
  g_free (a->name);
  g_free (a->source);
  g_free (a);
}

static void
edition_free (gpointer p)
{
  VolactEdition *e = p;
  g_free (e->id);
  g_free (e->name);
  g_free (e->application);
  g_free (e->plugin);
  g_free (e->source);
  g_free (e);
}

static void
key_group_free (gpointer p)
{
  VolactKeyGroup *g = p;
  g_free (g->name);
  g_free (g->title);
  g_ptr_array_unref (g->editions);
  g_free (g->phone_contact);
  g_free (g->plugin);
  g_free (g->source);
  g_free (g);
}

static void
pending_policy_free (gpointer p)
{
  PendingPolicy *pp = p;
  for (int i = 0; i < N_POLICY_FIELDS; i++)
    g_free (pp->source[i]);
  g_free (pp);
}

static void
pending_edition_policy_free (gpointer p)
{
  PendingEditionPolicy *ep = p;
  g_free (ep->source);
  g_free (ep);
}

static void
pending_phone_free (gpointer p)
{
  PendingPhone *ph = p;
  g_free (ph->contact);
  g_free (ph->source);
  g_free (ph);
}

static void
plugin_info_free (gpointer p)
{
  g_strfreev (p);
}

static void
refused_file_free (gpointer p)
{
  VolactRefusedFile *r = p;
  g_free (r->path);
  g_error_free (r->error);
  g_free (r);
}

VolactCatalogBuilder *
volact_catalog_builder_new (void)
{
  VolactCatalogBuilder *b = g_new0 (VolactCatalogBuilder, 1);
  b->applications = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, application_free);
  b->editions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, edition_free);
  b->key_groups = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, key_group_free);
  b->policies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_policy_free);
  b->edition_policies
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_edition_policy_free);
  b->phones = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, pending_phone_free);
  b->plugins = g_ptr_array_new_with_free_func (plugin_info_free);
  b->refused_files = g_ptr_array_new_with_free_func (refused_file_free);
  return b;
}

void
volact_catalog_builder_free (VolactCatalogBuilder *b)
{
  if (b == NULL)
    return;
  g_free (b->plugin);
  g_clear_pointer (&b->applications, g_hash_table_unref);
  g_clear_pointer (&b->editions, g_hash_table_unref);
  g_clear_pointer (&b->key_groups, g_hash_table_unref);
  g_clear_pointer (&b->policies, g_hash_table_unref);
  g_clear_pointer (&b->edition_policies, g_hash_table_unref);
  g_clear_pointer (&b->phones, g_hash_table_unref);
  g_clear_pointer (&b->plugins, g_ptr_array_unref);
  g_clear_pointer (&b->refused_files, g_ptr_array_unref);
  g_free (b);
}

void
volact_catalog_builder_set_plugin (VolactCatalogBuilder *b, const char *plugin)
{
  g_free (b->plugin);
  b->plugin = g_strdup (plugin);
}

void
volact_catalog_builder_add_plugin_info (VolactCatalogBuilder *b, const char *name,
                                        const char *version, const char *path)
{
  char **info = g_new0 (char *, 4);
  info[0] = g_strdup (name);
  info[1] = g_strdup (version);
  info[2] = g_strdup (path);
  g_ptr_array_add (b->plugins, info);
}

void
volact_catalog_builder_count_file (VolactCatalogBuilder *b)
{
  b->n_files++;
}

/* Entries keep the file that created them; a later file that only repeats
 * them changes nothing, so removing by source undoes exactly one file. */
typedef struct {
  const char *path;
  gsize offset; /* of the entry's char *source */
} SourceMatch;

static gboolean
added_by (gpointer key, gpointer value, gpointer data)
{
  const SourceMatch *m = data;
  return g_strcmp0 (G_STRUCT_MEMBER (char *, value, m->offset), m->path) == 0;
}

static void
forget (GHashTable *table, const char *path, gsize offset)
{
  SourceMatch m = { path, offset };
  g_hash_table_foreach_remove (table, added_by, &m);
}

void
volact_catalog_builder_refuse_file (VolactCatalogBuilder *b, const char *path, const GError *reason)
{
  GHashTableIter iter;
  gpointer value;
  VolactRefusedFile *entry = g_new0 (VolactRefusedFile, 1);

  forget (b->applications, path, G_STRUCT_OFFSET (VolactApplication, source));
  forget (b->editions, path, G_STRUCT_OFFSET (VolactEdition, source));
  forget (b->key_groups, path, G_STRUCT_OFFSET (VolactKeyGroup, source));
  forget (b->edition_policies, path, G_STRUCT_OFFSET (PendingEditionPolicy, source));
  forget (b->phones, path, G_STRUCT_OFFSET (PendingPhone, source));
  g_hash_table_iter_init (&iter, b->policies);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    PendingPolicy *pp = value;
    for (int f = 0; f < N_POLICY_FIELDS; f++)
      if (g_strcmp0 (pp->source[f], path) == 0)
        g_clear_pointer (&pp->source[f], g_free);
  }
  entry->path = g_strdup (path);
  entry->error = g_error_copy (reason);
  g_ptr_array_add (b->refused_files, entry);
}

/* ---- validation helpers ---- */

static gboolean
valid_identifier (const char *s)
{
  gsize n = 0;
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; s[n]; n++)
    if (!(g_ascii_islower (s[n]) || g_ascii_isdigit (s[n]) || s[n] == '-'))
      return FALSE;
  return n <= 32;
}

static gboolean
valid_text (const char *s)
{
  return s != NULL && *s != '\0' && strlen (s) <= 200 && g_utf8_validate (s, -1, NULL);
}

static gboolean
check_identifier (const VolactDocument *doc, const char *what, const char *id, GError **error)
{
  if (valid_identifier (id))
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG, "%s: %s id \"%s\" is not [a-z0-9-]{1,32}",
               doc->path, what, id ? id : "");
  return FALSE;
}

static gboolean
check_text (const VolactDocument *doc, const char *what, const char *s, GError **error)
{
  if (valid_text (s))
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG, "%s: %s must be 1..200 characters of UTF-8",
               doc->path, what);
  return FALSE;
}

static gboolean
conflict (GError **error, const VolactDocument *doc, const char *other_source, const char *what,
          const char *id)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
               "%s: %s \"%s\" conflicts with its definition in %s", doc->path, what, id,
               other_source);
  return FALSE;
}

/* ---- the builder functions plugins call through VolactHostApi ---- */

static gboolean
builder_add_application (VolactCatalogBuilder *b, const VolactDocument *doc,
                         const VolactApplicationSpec *spec, GError **error)
{
  VolactApplication *a;

  if (!check_identifier (doc, "application", spec->id, error)
      || !check_text (doc, "application name", spec->name, error))
    return FALSE;
  a = g_hash_table_lookup (b->applications, spec->id);
  if (a != NULL)
    return g_str_equal (a->name, spec->name)
           || conflict (error, doc, a->source, "application", spec->id);
  a = g_new0 (VolactApplication, 1);
  a->id = g_strdup (spec->id);
  a->name = g_strdup (spec->name);
  a->source = g_strdup (doc->path);
  g_hash_table_insert (b->applications, a->id, a);
  return TRUE;
}

static gboolean
builder_add_edition (VolactCatalogBuilder *b, const VolactDocument *doc,
                     const VolactEditionSpec *spec, GError **error)
{
  VolactEdition *e;

  if (!check_identifier (doc, "edition", spec->id, error)
      || !check_text (doc, "edition name", spec->name, error)
      || !check_identifier (doc, "application", spec->application, error))
    return FALSE;
  if (spec->type != VOLACT_EDITION_CLIENT && spec->type != VOLACT_EDITION_SERVER) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG, "%s: edition \"%s\" has an unknown type",
                 doc->path, spec->id);
    return FALSE;
  }
  e = g_hash_table_lookup (b->editions, spec->id);
  if (e != NULL)
    return (g_str_equal (e->name, spec->name) && g_str_equal (e->application, spec->application)
            && e->type == spec->type)
           || conflict (error, doc, e->source, "edition", spec->id);
  e = g_new0 (VolactEdition, 1);
  e->id = g_strdup (spec->id);
  e->name = g_strdup (spec->name);
  e->application = g_strdup (spec->application);
  e->type = spec->type;
  e->plugin = g_strdup (b->plugin);
  e->source = g_strdup (doc->path);
  g_hash_table_insert (b->editions, e->id, e);
  return TRUE;
}

static gboolean
builder_set_edition_policy (VolactCatalogBuilder *b, const VolactDocument *doc,
                            const VolactEditionPolicySpec *spec, GError **error)
{
  PendingEditionPolicy *ep;

  if (!check_identifier (doc, "edition", spec->edition, error))
    return FALSE;
  /* The wire's count fields are 16 bits (docs/protocol.md): a larger minimum
   * could never be reached, so refuse it here, where the file is known. */
  if (spec->minimum_count < 1 || spec->minimum_count > VOLACT_PLUGIN_MAX_MINIMUM_COUNT) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
                 "%s: minimum count %u of edition \"%s\" is outside 1..%u", doc->path,
                 spec->minimum_count, spec->edition, VOLACT_PLUGIN_MAX_MINIMUM_COUNT);
    return FALSE;
  }
  ep = g_hash_table_lookup (b->edition_policies, spec->edition);
  if (ep != NULL)
    return (ep->minimum_count == spec->minimum_count && ep->vms_count == !!spec->vms_count)
           || conflict (error, doc, ep->source, "minimum count of edition", spec->edition);
  ep = g_new0 (PendingEditionPolicy, 1);
  ep->minimum_count = spec->minimum_count;
  ep->vms_count = !!spec->vms_count;
  ep->source = g_strdup (doc->path);
  g_hash_table_insert (b->edition_policies, g_strdup (spec->edition), ep);
  return TRUE;
}

static gboolean
check_range (const VolactDocument *doc, const char *app, PolicyField f, guint v, guint lo, guint hi,
             GError **error)
{
  if (v >= lo && v <= hi)
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
               "%s: %s %u of application \"%s\" is outside %u..%u", doc->path,
               volact_catalog_policy_field_names[f], v, app, lo, hi);
  return FALSE;
}

static gboolean
builder_set_policy (VolactCatalogBuilder *b, const VolactDocument *doc,
                    const VolactPolicySpec *spec, GError **error)
{
  /* oob_grace_days may legitimately be 0, so "set" is signalled per field by
   * the kind of file: ppd sets the first four, oob only the grace. */
  const gboolean from_oob = g_strcmp0 (doc->kind, "oob") == 0;
  guint values[N_POLICY_FIELDS]
      = { spec->activation_interval, spec->renewal_interval, spec->validity_days,
          spec->retention_days, spec->oob_grace_days };
  static const guint lo[N_POLICY_FIELDS] = { 15, 15, 1, 1, 0 };
  static const guint hi[N_POLICY_FIELDS] = { 43200, 43200, 3650, 3650, 365 };
  PendingPolicy *pp;

  if (!check_identifier (doc, "application", spec->application, error))
    return FALSE;
  pp = g_hash_table_lookup (b->policies, spec->application);
  if (pp == NULL) {
    pp = g_new0 (PendingPolicy, 1);
    g_hash_table_insert (b->policies, g_strdup (spec->application), pp);
  }
  for (int f = 0; f < N_POLICY_FIELDS; f++) {
    gboolean given = from_oob ? (f == POLICY_OOB) : (f != POLICY_OOB);
    if (!given)
      continue;
    if (!check_range (doc, spec->application, f, values[f], lo[f], hi[f], error))
      return FALSE;
    if (pp->source[f] != NULL) {
      if (pp->value[f] != values[f]) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
                     "%s: %s %u of application \"%s\" conflicts with %u set in %s", doc->path,
                     volact_catalog_policy_field_names[f], values[f], spec->application,
                     pp->value[f], pp->source[f]);
        return FALSE;
      }
      continue;
    }
    pp->value[f] = values[f];
    pp->source[f] = g_strdup (doc->path);
  }
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
same_editions (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!g_str_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
builder_add_key_group (VolactCatalogBuilder *b, const VolactDocument *doc,
                       const VolactKeyGroupSpec *spec, GError **error)
{
  g_autoptr (GPtrArray) editions = g_ptr_array_new_with_free_func (g_free);
  VolactKeyGroup *g;
  GHashTableIter iter;
  gpointer value;

  if (spec->id < 1 || spec->id > 1023) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG, "%s: key group id %u is outside 1..1023",
                 doc->path, spec->id);
    return FALSE;
  }
  if (!check_identifier (doc, "key group", spec->name, error)
      || !check_text (doc, "key group title", spec->title, error))
    return FALSE;
  if (spec->max_hosts < 1 || spec->max_activations < 1) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
                 "%s: key group %u: maxHosts and maxActivations must be at least 1", doc->path,
                 spec->id);
    return FALSE;
  }
  for (const char *const *e = spec->editions; e != NULL && *e != NULL; e++) {
    if (!check_identifier (doc, "edition", *e, error))
      return FALSE;
    if (!g_ptr_array_find_with_equal_func (editions, *e, g_str_equal, NULL))
      g_ptr_array_add (editions, g_strdup (*e));
  }
  if (editions->len == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG, "%s: key group %u activates no edition",
                 doc->path, spec->id);
    return FALSE;
  }
  g_ptr_array_sort (editions, compare_strings);

  g = g_hash_table_lookup (b->key_groups, GUINT_TO_POINTER (spec->id));
  if (g != NULL) {
    char idtext[16];
    g_snprintf (idtext, sizeof idtext, "%u", spec->id);
    return (g_str_equal (g->name, spec->name) && g_str_equal (g->title, spec->title)
            && g->max_hosts == spec->max_hosts && g->max_activations == spec->max_activations
            && same_editions (g->editions, editions))
           || conflict (error, doc, g->source, "key group", idtext);
  }
  g_hash_table_iter_init (&iter, b->key_groups);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    VolactKeyGroup *other = value;
    if (g_str_equal (other->name, spec->name)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CATALOG,
                   "%s: key group name \"%s\" is already used by group %u in %s", doc->path,
                   spec->name, other->id, other->source);
      return FALSE;
    }
  }
  g = g_new0 (VolactKeyGroup, 1);
  g->id = spec->id;
  g->name = g_strdup (spec->name);
  g->title = g_strdup (spec->title);
  g->editions = g_steal_pointer (&editions);
  g->max_hosts = spec->max_hosts;
  g->max_activations = spec->max_activations;
  g->plugin = g_strdup (b->plugin);
  g->source = g_strdup (doc->path);
  g_hash_table_insert (b->key_groups, GUINT_TO_POINTER (g->id), g);
  return TRUE;
}

static gboolean
builder_set_phone (VolactCatalogBuilder *b, const VolactDocument *doc, const VolactPhoneSpec *spec,
                   GError **error)
{
  PendingPhone *ph;

  if (!check_text (doc, "telephone contact", spec->contact, error))
    return FALSE;
  ph = g_hash_table_lookup (b->phones, GUINT_TO_POINTER (spec->key_group));
  if (ph != NULL) {
    char idtext[16];
    g_snprintf (idtext, sizeof idtext, "%u", spec->key_group);
    return (ph->allowed == !!spec->allowed && g_str_equal (ph->contact, spec->contact))
           || conflict (error, doc, ph->source, "telephone activation of key group", idtext);
  }
  ph = g_new0 (PendingPhone, 1);
  ph->allowed = !!spec->allowed;
  ph->contact = g_strdup (spec->contact);
  ph->source = g_strdup (doc->path);
  g_hash_table_insert (b->phones, GUINT_TO_POINTER (spec->key_group), ph);
  return TRUE;
}

static void host_set_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* The plugin's way into VOLACT_ERROR: a plugin cannot link volact_error_quark(). */
static void
host_set_error (GError **error, const char *format, ...)
{
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  g_propagate_error (error,
                     g_error_new_valist (VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET, format, args));
  va_end (args);
}

static const VolactHostApi host_api = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .node_child = volact_xml_node_child,
  .node_next = volact_xml_node_next,
  .node_name = volact_xml_node_name,
  .node_attr = volact_xml_node_attr,
  .node_line = volact_xml_node_line,
  .add_application = builder_add_application,
  .add_edition = builder_add_edition,
  .set_edition_policy = builder_set_edition_policy,
  .set_policy = builder_set_policy,
  .add_key_group = builder_add_key_group,
  .set_phone = builder_set_phone,
  .set_error = host_set_error,
  .interpret_xrm = volact_xrm_interpret,
};

const VolactHostApi *
volact_catalog_host_api (void)
{
  return &host_api;
}
