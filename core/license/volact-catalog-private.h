/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals shared by the catalog builder (volact-catalog-builder.c: what
 * plugins call through VolactHostApi) and the catalog itself
 * (volact-catalog.c: finishing and queries). Not for any other file.
 */
#ifndef VOLACT_CATALOG_PRIVATE_H
#define VOLACT_CATALOG_PRIVATE_H

#include "volact-catalog.h"

G_BEGIN_DECLS

/* Policy fields an application can receive piecewise from ppd and oob files. */
typedef enum {
  POLICY_ACTIVATION,
  POLICY_RENEWAL,
  POLICY_VALIDITY,
  POLICY_RETENTION,
  POLICY_OOB,
  N_POLICY_FIELDS
} PolicyField;

/* Their names in XrM files, for messages. */
extern const char *const volact_catalog_policy_field_names[N_POLICY_FIELDS];

typedef struct {
  guint value[N_POLICY_FIELDS];
  char *source[N_POLICY_FIELDS]; /* file that set each field, NULL if unset */
} PendingPolicy;

typedef struct {
  guint minimum_count;
  gboolean vms_count;
  char *source;
} PendingEditionPolicy;

typedef struct {
  gboolean allowed;
  char *contact;
  char *source;
} PendingPhone;

struct _VolactCatalogBuilder {
  char *plugin;
  GHashTable *applications;     /* id -> VolactApplication* */
  GHashTable *editions;         /* id -> VolactEdition* */
  GHashTable *key_groups;       /* GUINT id -> VolactKeyGroup* */
  GHashTable *policies;         /* application id -> PendingPolicy* */
  GHashTable *edition_policies; /* edition id -> PendingEditionPolicy* */
  GHashTable *phones;           /* GUINT key group -> PendingPhone* */
  GPtrArray *plugins;           /* char*[3] */
  GPtrArray *refused_files;     /* VolactRefusedFile* */
  guint n_files;
};

struct _VolactCatalog {
  gint refcount;
  GHashTable *applications;
  GHashTable *editions;
  GHashTable *key_groups;
  GPtrArray *application_list;
  GPtrArray *edition_list;
  GPtrArray *key_group_list;
  GPtrArray *plugins;
  GPtrArray *refused_files; /* VolactRefusedFile* */
  GPtrArray *unavailable;   /* char*: entries a partial finish dropped, and why */
  guint n_files;
};

G_END_DECLS

#endif
