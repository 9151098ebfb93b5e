/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog: finishing a builder (cross references, completeness) into an
 * immutable, reference-counted catalog, and the queries on it.
 */
#include "config.h"

#include "volact-catalog-private.h"

#include "volact-error.h"

#include <stdarg.h>
#include <string.h>

/* ---- finishing: cross references and completeness ---- */

static gint
compare_applications (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(VolactApplication *const *) a)->id, (*(VolactApplication *const *) b)->id);
}

static gint
compare_editions (gconstpointer a, gconstpointer b)
{
  const VolactEdition *x = *(VolactEdition *const *) a, *y = *(VolactEdition *const *) b;
  /* Group by application, client editions first, then by id. */
  int c = strcmp (x->application, y->application);
  if (c != 0)
    return c;
  if (x->type != y->type)
    return x->type < y->type ? -1 : 1;
  return strcmp (x->id, y->id);
}

static gint
compare_key_groups (gconstpointer a, gconstpointer b)
{
  guint x = (*(VolactKeyGroup *const *) a)->id, y = (*(VolactKeyGroup *const *) b)->id;
  return x < y ? -1 : x > y;
}

static GPtrArray *
sorted_values (GHashTable *table, GCompareFunc cmp)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, cmp);
  return list;
}

/* A finishing problem: an error when DROPPED is NULL (strict); otherwise
 * recorded in DROPPED, and the caller drops the entry and goes on. */
static gboolean drop_or_fail (GPtrArray *dropped, GError **error, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
drop_or_fail (GPtrArray *dropped, GError **error, const char *format, ...)
{
  va_list ap;
  char *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (dropped != NULL) {
    g_ptr_array_add (dropped, msg);
    return TRUE;
  }
  g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CATALOG, msg);
  g_free (msg);
  return FALSE;
}

static gboolean
finish_applications (VolactCatalogBuilder *b, GPtrArray *dropped, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, b->policies);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    PendingPolicy *pp = value;
    VolactApplication *a = g_hash_table_lookup (b->applications, key);
    if (a == NULL) {
      for (int f = 0; f < N_POLICY_FIELDS; f++)
        if (pp->source[f] != NULL) {
          if (!drop_or_fail (dropped, error,
                             "%s: policy names application \"%s\", which no product license "
                             "defines",
                             pp->source[f], (const char *) key))
            return FALSE;
          break;
        }
    }
  }
  g_hash_table_iter_init (&iter, b->applications);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    VolactApplication *a = value;
    PendingPolicy *pp = g_hash_table_lookup (b->policies, key);
    guint *targets[N_POLICY_FIELDS] = { &a->activation_interval, &a->renewal_interval,
                                        &a->validity_days, &a->retention_days, &a->oob_grace_days };
    for (int f = 0; f < N_POLICY_FIELDS; f++) {
      if (pp == NULL || pp->source[f] == NULL) {
        if (!drop_or_fail (dropped, error, "%s: application \"%s\" has no %s (no %s file sets it)",
                           a->source, a->id, volact_catalog_policy_field_names[f],
                           f == POLICY_OOB ? "oob" : "ppd"))
          return FALSE;
        g_hash_table_iter_remove (&iter);
        break;
      }
      *targets[f] = pp->value[f];
    }
  }
  return TRUE;
}

static gboolean
finish_editions (VolactCatalogBuilder *b, GPtrArray *dropped, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, b->edition_policies);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (b->editions, key)
        && !drop_or_fail (dropped, error,
                          "%s: minimum count for edition \"%s\", which no product license defines",
                          ((PendingEditionPolicy *) value)->source, (const char *) key))
      return FALSE;
  g_hash_table_iter_init (&iter, b->editions);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    VolactEdition *e = value;
    PendingEditionPolicy *ep = g_hash_table_lookup (b->edition_policies, key);
    if (!g_hash_table_contains (b->applications, e->application)) {
      if (!drop_or_fail (dropped, error,
                         "%s: edition \"%s\" belongs to application \"%s\", which is not "
                         "defined",
                         e->source, e->id, e->application))
        return FALSE;
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if (ep == NULL) {
      if (!drop_or_fail (dropped, error,
                         "%s: edition \"%s\" has no minimum count (no ppd file sets one)",
                         e->source, e->id))
        return FALSE;
      g_hash_table_iter_remove (&iter);
      continue;
    }
    e->minimum_count = ep->minimum_count;
    e->vms_count = ep->vms_count;
    e->has_policy = TRUE;
  }
  return TRUE;
}

static gboolean
finish_key_groups (VolactCatalogBuilder *b, GPtrArray *dropped, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, b->phones);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    PendingPhone *ph = value;
    VolactKeyGroup *g = g_hash_table_lookup (b->key_groups, key);
    if (g == NULL) {
      if (!drop_or_fail (dropped, error,
                         "%s: telephone activation data for key group %u, which no cfg file "
                         "defines",
                         ph->source, GPOINTER_TO_UINT (key)))
        return FALSE;
      continue;
    }
    g->phone_allowed = ph->allowed;
    g->phone_contact = g_strdup (ph->contact);
  }
  g_hash_table_iter_init (&iter, b->key_groups);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    VolactKeyGroup *g = value;
    /* A group keeps the editions that can be served; one left with none goes. */
    for (guint i = g->editions->len; i-- > 0;)
      if (!g_hash_table_contains (b->editions, g->editions->pdata[i])) {
        if (!drop_or_fail (dropped, error,
                           "%s: key group %u (%s) activates edition \"%s\", which is not defined",
                           g->source, g->id, g->name, (const char *) g->editions->pdata[i]))
          return FALSE;
        g_ptr_array_remove_index (g->editions, i);
      }
    if (g->editions->len == 0 && dropped != NULL) {
      g_ptr_array_add (dropped, g_strdup_printf ("%s: key group %u (%s) activates no edition "
                                                 "that can be served",
                                                 g->source, g->id, g->name));
      g_hash_table_iter_remove (&iter);
    }
  }
  return TRUE;
}

/* Strict when DROPPED is NULL; consumes B either way. */
static VolactCatalog *
finish (VolactCatalogBuilder *b, GPtrArray *dropped, GError **error)
{
  VolactCatalog *c;

  if (!finish_applications (b, dropped, error) || !finish_editions (b, dropped, error)
      || !finish_key_groups (b, dropped, error)) {
    volact_catalog_builder_free (b);
    return NULL;
  }
  c = g_new0 (VolactCatalog, 1);
  c->refcount = 1;
  c->applications = g_steal_pointer (&b->applications);
  c->editions = g_steal_pointer (&b->editions);
  c->key_groups = g_steal_pointer (&b->key_groups);
  c->plugins = g_steal_pointer (&b->plugins);
  c->refused_files = g_steal_pointer (&b->refused_files);
  c->unavailable
      = dropped != NULL ? g_ptr_array_ref (dropped) : g_ptr_array_new_with_free_func (g_free);
  c->n_files = b->n_files;
  c->application_list = sorted_values (c->applications, compare_applications);
  c->edition_list = sorted_values (c->editions, compare_editions);
  c->key_group_list = sorted_values (c->key_groups, compare_key_groups);
  volact_catalog_builder_free (b);
  return c;
}

VolactCatalog *
volact_catalog_builder_finish (VolactCatalogBuilder *b, GError **error)
{
  return finish (b, NULL, error);
}

VolactCatalog *
volact_catalog_builder_finish_partial (VolactCatalogBuilder *b)
{
  g_autoptr (GPtrArray) dropped = g_ptr_array_new_with_free_func (g_free);
  return finish (b, dropped, NULL);
}

VolactCatalog *
volact_catalog_ref (VolactCatalog *c)
{
  g_atomic_int_inc (&c->refcount);
  return c;
}

void
volact_catalog_unref (VolactCatalog *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test (&c->refcount))
    return;
  g_ptr_array_unref (c->application_list);
  g_ptr_array_unref (c->edition_list);
  g_ptr_array_unref (c->key_group_list);
  g_ptr_array_unref (c->plugins);
  g_ptr_array_unref (c->refused_files);
  g_ptr_array_unref (c->unavailable);
  g_hash_table_unref (c->applications);
  g_hash_table_unref (c->editions);
  g_hash_table_unref (c->key_groups);
  g_free (c);
}

const VolactEdition *
volact_catalog_edition (const VolactCatalog *c, const char *id)
{
  return id ? g_hash_table_lookup (c->editions, id) : NULL;
}

const VolactApplication *
volact_catalog_application (const VolactCatalog *c, const char *id)
{
  return id ? g_hash_table_lookup (c->applications, id) : NULL;
}

const VolactKeyGroup *
volact_catalog_key_group (const VolactCatalog *c, guint id)
{
  return g_hash_table_lookup (c->key_groups, GUINT_TO_POINTER (id));
}

const VolactKeyGroup *
volact_catalog_key_group_lookup (const VolactCatalog *c, const char *text)
{
  guint64 n;

  if (text == NULL)
    return NULL;
  if (g_ascii_string_to_unsigned (text, 10, 1, 1023, &n, NULL))
    return volact_catalog_key_group (c, (guint) n);
  for (guint i = 0; i < c->key_group_list->len; i++) {
    const VolactKeyGroup *g = c->key_group_list->pdata[i];
    if (g_str_equal (g->name, text))
      return g;
  }
  return NULL;
}

gboolean
volact_key_group_activates (const VolactKeyGroup *g, const char *edition_id)
{
  return g_ptr_array_find_with_equal_func (g->editions, edition_id, g_str_equal, NULL);
}

GPtrArray *
volact_catalog_applications (const VolactCatalog *c)
{
  return c->application_list;
}

GPtrArray *
volact_catalog_editions (const VolactCatalog *c)
{
  return c->edition_list;
}

GPtrArray *
volact_catalog_key_groups (const VolactCatalog *c)
{
  return c->key_group_list;
}

GPtrArray *
volact_catalog_plugins (const VolactCatalog *c)
{
  return c->plugins;
}

guint
volact_catalog_n_files (const VolactCatalog *c)
{
  return c->n_files;
}

GPtrArray *
volact_catalog_refused_files (const VolactCatalog *c)
{
  return c->refused_files;
}

GPtrArray *
volact_catalog_unavailable (const VolactCatalog *c)
{
  return c->unavailable;
}

gboolean
volact_catalog_is_partial (const VolactCatalog *c)
{
  return c->refused_files->len > 0 || c->unavailable->len > 0;
}

char *
volact_catalog_problems (const VolactCatalog *c)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < c->refused_files->len; i++) {
    const VolactRefusedFile *r = c->refused_files->pdata[i];
    /* The reason names the file already (every pipeline error does). */
    g_string_append_printf (s, "%srefused %s", s->len ? "; " : "", r->error->message);
  }
  for (guint i = 0; i < c->unavailable->len; i++)
    g_string_append_printf (s, "%snot served: %s", s->len ? "; " : "",
                            (const char *) c->unavailable->pdata[i]);
  return g_string_free (s, FALSE);
}

char *
volact_catalog_to_text (const VolactCatalog *c)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "Plugins (%u):\n", c->plugins->len);
  for (guint i = 0; i < c->plugins->len; i++) {
    char **p = c->plugins->pdata[i];
    g_string_append_printf (s, "  %-8s %-8s %s\n", p[0], p[1], p[2]);
  }
  g_string_append_printf (s, "\nApplications (count pools) from %u license files:\n", c->n_files);
  for (guint i = 0; i < c->application_list->len; i++) {
    const VolactApplication *a = c->application_list->pdata[i];
    g_string_append_printf (s,
                            "  %s (%s): activation interval %u min, renewal interval %u min, "
                            "validity %u days, records kept %u days, out-of-box grace %u days\n",
                            a->id, a->name, a->activation_interval, a->renewal_interval,
                            a->validity_days, a->retention_days, a->oob_grace_days);
  }
  g_string_append_printf (s, "\nEditions (%u):\n", c->edition_list->len);
  g_string_append_printf (s, "  %-26s %-49s %-7s %-10s %-8s %s\n", "ID", "NAME", "TYPE",
                          "MIN COUNT", "VMS", "PLUGIN");
  for (guint i = 0; i < c->edition_list->len; i++) {
    const VolactEdition *e = c->edition_list->pdata[i];
    g_string_append_printf (s, "  %-26s %-49s %-7s %-10u %-8s %s\n", e->id, e->name,
                            e->type == VOLACT_EDITION_SERVER ? "server" : "client",
                            e->minimum_count, e->vms_count ? "counted" : "ignored", e->plugin);
  }
  g_string_append_printf (s, "\nKey groups (%u):\n", c->key_group_list->len);
  for (guint i = 0; i < c->key_group_list->len; i++) {
    const VolactKeyGroup *g = c->key_group_list->pdata[i];
    g_autoptr (GString) list = g_string_new (NULL);
    for (guint j = 0; j < g->editions->len; j++)
      g_string_append_printf (list, "%s%s", j ? ", " : "", (const char *) g->editions->pdata[j]);
    g_string_append_printf (s, "  %-4u %-9s %s (up to %u hosts, %u activations each%s)\n", g->id,
                            g->name, g->title, g->max_hosts, g->max_activations,
                            g->phone_allowed ? ", telephone activation" : "");
    g_string_append_printf (s, "       activates: %s\n", list->str);
  }
  if (volact_catalog_is_partial (c)) {
    g_string_append (s, "\nRefused license data (docs/license-format.md):\n");
    for (guint i = 0; i < c->refused_files->len; i++)
      g_string_append_printf (s, "  refused %s\n",
                              ((VolactRefusedFile *) c->refused_files->pdata[i])->error->message);
    for (guint i = 0; i < c->unavailable->len; i++)
      g_string_append_printf (s, "  not served: %s\n", (const char *) c->unavailable->pdata[i]);
  }
  return g_string_free (s, FALSE);
}
