/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The catalog: everything the loaded license data defines. Built once by a
 * VolactCatalogBuilder (driven by plugins), then immutable and reference
 * counted, so a reload can swap in a new one while requests hold the old.
 */
#ifndef VOLACT_CATALOG_H
#define VOLACT_CATALOG_H

#include <glib.h>

#include <volact/plugin.h>

G_BEGIN_DECLS

typedef struct {
  char *id;
  char *name;
  guint activation_interval; /* minutes */
  guint renewal_interval;    /* minutes */
  guint validity_days;
  guint retention_days;
  guint oob_grace_days;
  char *source; /* file that defined it */
} VolactApplication;

typedef struct {
  char *id;
  char *name;
  char *application;
  VolactEditionType type;
  guint minimum_count;
  gboolean vms_count;
  gboolean has_policy;
  char *plugin; /* name of the plugin that interpreted it */
  char *source;
} VolactEdition;

typedef struct {
  guint id;
  char *name;
  char *title;
  GPtrArray *editions; /* char* edition ids, sorted */
  guint max_hosts;
  guint max_activations;
  gboolean phone_allowed;
  char *phone_contact;
  char *plugin;
  char *source;
} VolactKeyGroup;

typedef struct _VolactCatalog VolactCatalog;

/** A license file a build refused. */
typedef struct {
  char *path;
  GError *error; /* why (VOLACT_ERROR code; the message names the file) */
} VolactRefusedFile;

VolactCatalogBuilder *volact_catalog_builder_new (void);
void volact_catalog_builder_free (VolactCatalogBuilder *b);
/** Sets the plugin name recorded on entries added from now on. */
void volact_catalog_builder_set_plugin (VolactCatalogBuilder *b, const char *plugin);
/** Records a loaded plugin (for the catalog view). */
void volact_catalog_builder_add_plugin_info (VolactCatalogBuilder *b, const char *name,
                                             const char *version, const char *path);
/** Checks cross references and completeness; consumes B on success and failure. */
VolactCatalog *volact_catalog_builder_finish (VolactCatalogBuilder *b, GError **error);
/**
 * Forgets every entry PATH added to B (plugins add entries as they go, so a
 * document refused half way must not leave any) and records PATH as refused
 * with (a copy of) REASON, whose message names the file.
 */
void volact_catalog_builder_refuse_file (VolactCatalogBuilder *b, const char *path,
                                         const GError *reason);
/**
 * Like volact_catalog_builder_finish, but an entry that cannot be served (an
 * edition whose ppd file was refused, a key group whose editions are all gone)
 * is dropped and recorded (volact_catalog_unavailable) instead of failing.
 * Consumes B; never fails.
 */
VolactCatalog *volact_catalog_builder_finish_partial (VolactCatalogBuilder *b);

/** The VolactHostApi the core gives plugins (node accessors + builder functions). */
const VolactHostApi *volact_catalog_host_api (void);

VolactCatalog *volact_catalog_ref (VolactCatalog *c);
void volact_catalog_unref (VolactCatalog *c);

const VolactEdition *volact_catalog_edition (const VolactCatalog *c, const char *id);
const VolactApplication *volact_catalog_application (const VolactCatalog *c, const char *id);
const VolactKeyGroup *volact_catalog_key_group (const VolactCatalog *c, guint id);
/** Looks a key group up by name ("kmsw7-2") or number ("22"). */
const VolactKeyGroup *volact_catalog_key_group_lookup (const VolactCatalog *c, const char *text);
gboolean volact_key_group_activates (const VolactKeyGroup *g, const char *edition_id);

/** Arrays in stable (sorted) order, owned by the catalog. */
GPtrArray *volact_catalog_applications (const VolactCatalog *c); /* VolactApplication* */
GPtrArray *volact_catalog_editions (const VolactCatalog *c);     /* VolactEdition* */
GPtrArray *volact_catalog_key_groups (const VolactCatalog *c);   /* VolactKeyGroup* */
/** Loaded plugins as "name version path" triples (char*[3] each). */
GPtrArray *volact_catalog_plugins (const VolactCatalog *c);
/** Number of license files that went into the catalog. */
guint volact_catalog_n_files (const VolactCatalog *c);
void volact_catalog_builder_count_file (VolactCatalogBuilder *b);
/** License files the build refused (VolactRefusedFile*), in the order met. */
GPtrArray *volact_catalog_refused_files (const VolactCatalog *c);
/** What a partial build could not serve and why (char*, each naming a file). */
GPtrArray *volact_catalog_unavailable (const VolactCatalog *c);
/** Whether the build refused a file or dropped an entry. */
gboolean volact_catalog_is_partial (const VolactCatalog *c);
/** One line for events and health: "refused REASON; ...; not served: WHAT; ...". */
char *volact_catalog_problems (const VolactCatalog *c);

/** Human-readable dump: plugins, applications with policy, editions, key groups. */
char *volact_catalog_to_text (const VolactCatalog *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactCatalog, volact_catalog_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactCatalogBuilder, volact_catalog_builder_free)

G_END_DECLS

#endif
