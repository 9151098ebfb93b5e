/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XrM kinds -> catalog entries, offered to plugins as api->interpret_xrm. The
 * documents reaching it are already XSD-valid and signed, but this code still
 * parses every value strictly: the schema is one layer, this is the next, and
 * an interpreter must not turn a value it does not understand into a default.
 * It adds entries only through the same VolactHostApi a plugin gets, so the
 * catalog's checks apply to it exactly as to third-party code.
 */
#include "config.h"

#include "volact-xrm-interpret.h"

#include "volact-catalog.h"
#include "volact-error.h"

#include <string.h>

/* Authority defaults for a key group (docs/license-format.md, `cfg`). */
#define XRM_DEFAULT_MAX_HOSTS 6u
#define XRM_DEFAULT_MAX_ACTIVATIONS 10u
/* Upper bound for maxHosts / maxActivations: large, but refuses overflow tricks. */
#define XRM_MAX_LIMIT 1000000u

typedef struct {
  const VolactHostApi *api;
  const VolactDocument *doc;
  VolactCatalogBuilder *b;
} Ctx;

static gboolean fail (const Ctx *ctx, const VolactNode *node, GError **error, const char *format,
                      ...) G_GNUC_PRINTF (4, 5);

/* Always returns FALSE, so callers can `return fail (...)`. */
static gboolean
fail (const Ctx *ctx, const VolactNode *node, GError **error, const char *format, ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET, "%s:%u: %s", ctx->doc->path,
               node != NULL ? ctx->api->node_line (node) : 0u, why);
  return FALSE;
}

static const char *
name_of (const Ctx *ctx, const VolactNode *node)
{
  const char *name = ctx->api->node_name (node);
  return name != NULL ? name : "element";
}

static gboolean
req_child (const Ctx *ctx, const VolactNode *parent, const char *name, const VolactNode **out,
           GError **error)
{
  *out = ctx->api->node_child (parent, name);
  if (*out == NULL)
    return fail (ctx, parent, error, "<%s> has no <%s>", name_of (ctx, parent), name);
  return TRUE;
}

static gboolean
req_attr (const Ctx *ctx, const VolactNode *node, const char *attr, const char **out,
          GError **error)
{
  *out = ctx->api->node_attr (node, attr);
  if (*out == NULL || **out == '\0')
    return fail (ctx, node, error, "<%s> has no %s attribute", name_of (ctx, node), attr);
  return TRUE;
}

/* An unsigned decimal in MIN..MAX; if absent, DEF when OPTIONAL, else an error. */
static gboolean
uint_attr (const Ctx *ctx, const VolactNode *node, const char *attr, guint min, guint max,
           gboolean optional, guint def, guint *out, GError **error)
{
  const char *text = ctx->api->node_attr (node, attr);
  guint64 v = 0;

  if (text == NULL && optional) {
    *out = def;
    return TRUE;
  }
  if (text == NULL)
    return fail (ctx, node, error, "<%s> has no %s attribute", name_of (ctx, node), attr);
  /* Strict, like the schema's Number: decimal digits only (no sign, space,
   * 0x or leading zero), within bounds. */
  if ((text[0] == '0' && text[1] != '\0')
      || !g_ascii_string_to_unsigned (text, 10, min, max, &v, NULL))
    return fail (ctx, node, error, "<%s> %s=\"%s\" is not an integer in %u..%u",
                 name_of (ctx, node), attr, text, min, max);
  *out = (guint) v;
  return TRUE;
}

/* One of two words: FALSE_WORD gives FALSE, TRUE_WORD gives TRUE. */
static gboolean
choice_attr (const Ctx *ctx, const VolactNode *node, const char *attr, const char *false_word,
             const char *true_word, gboolean *out, GError **error)
{
  const char *text;

  if (!req_attr (ctx, node, attr, &text, error))
    return FALSE;
  if (strcmp (text, true_word) == 0)
    *out = TRUE;
  else if (strcmp (text, false_word) == 0)
    *out = FALSE;
  else
    return fail (ctx, node, error, "<%s> %s=\"%s\" is neither \"%s\" nor \"%s\"",
                 name_of (ctx, node), attr, text, false_word, true_word);
  return TRUE;
}

#define FOR_EACH_CHILD(ctx, parent, name, var)                                                     \
  for (const VolactNode *var = (ctx)->api->node_child ((parent), (name)); var != NULL;             \
       var = (ctx)->api->node_next (var, (name)))

/* The <resource> of pl, ppd, oob and phn files: the applications (count
 * pools) the file concerns. Declaring one in several files is fine as long as
 * they agree; the catalog checks that. */
static gboolean
interpret_resource (const Ctx *ctx, const VolactNode *grant, const VolactNode **resource,
                    GError **error)
{
  if (!req_child (ctx, grant, "resource", resource, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, *resource, "application", n)
  {
    VolactApplicationSpec spec = { 0 };
    if (!req_attr (ctx, n, "id", &spec.id, error) || !req_attr (ctx, n, "name", &spec.name, error)
        || !ctx->api->add_application (ctx->b, ctx->doc, &spec, error))
      return FALSE;
  }
  return TRUE;
}

/* pl: <resource> applications, then editions. */
static gboolean
interpret_pl (const Ctx *ctx, const VolactNode *grant, GError **error)
{
  const VolactNode *resource;
  guint n_editions = 0;

  if (!interpret_resource (ctx, grant, &resource, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, resource, "edition", n)
  {
    VolactEditionSpec spec = { 0 };
    gboolean server = FALSE;
    if (!req_attr (ctx, n, "id", &spec.id, error) || !req_attr (ctx, n, "name", &spec.name, error)
        || !req_attr (ctx, n, "application", &spec.application, error)
        || !choice_attr (ctx, n, "type", "client", "server", &server, error))
      return FALSE;
    spec.type = server ? VOLACT_EDITION_SERVER : VOLACT_EDITION_CLIENT;
    if (!ctx->api->add_edition (ctx->b, ctx->doc, &spec, error))
      return FALSE;
    n_editions++;
  }
  if (n_editions == 0)
    return fail (ctx, resource, error, "a product license declares no <edition>");
  return TRUE;
}

/* ppd: <condition> application policy and per-edition minimum counts. */
static gboolean
interpret_ppd (const Ctx *ctx, const VolactNode *grant, GError **error)
{
  const VolactNode *resource, *condition;
  guint n_entries = 0;

  if (!interpret_resource (ctx, grant, &resource, error)
      || !req_child (ctx, grant, "condition", &condition, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, condition, "policy", n)
  {
    VolactPolicySpec spec = { 0 };
    if (!req_attr (ctx, n, "application", &spec.application, error)
        || !uint_attr (ctx, n, "activationInterval", 15, 43200, FALSE, 0, &spec.activation_interval,
                       error)
        || !uint_attr (ctx, n, "renewalInterval", 15, 43200, FALSE, 0, &spec.renewal_interval,
                       error)
        || !uint_attr (ctx, n, "validityDays", 1, 3650, FALSE, 0, &spec.validity_days, error)
        || !uint_attr (ctx, n, "retentionDays", 1, 3650, FALSE, 0, &spec.retention_days, error)
        || !ctx->api->set_policy (ctx->b, ctx->doc, &spec, error))
      return FALSE;
    n_entries++;
  }
  FOR_EACH_CHILD (ctx, condition, "minimumCount", n)
  {
    VolactEditionPolicySpec spec = { 0 };
    if (!req_attr (ctx, n, "edition", &spec.edition, error)
        || !uint_attr (ctx, n, "count", 1, VOLACT_PLUGIN_MAX_MINIMUM_COUNT, FALSE, 0,
                       &spec.minimum_count, error)
        || !choice_attr (ctx, n, "virtualMachines", "ignored", "counted", &spec.vms_count, error)
        || !ctx->api->set_edition_policy (ctx->b, ctx->doc, &spec, error))
      return FALSE;
    n_entries++;
  }
  if (n_entries == 0)
    return fail (ctx, condition, error, "a product policy has no <policy> or <minimumCount>");
  return TRUE;
}

/* oob: <condition><outOfBoxGrace>; only the grace field of the policy is set. */
static gboolean
interpret_oob (const Ctx *ctx, const VolactNode *grant, GError **error)
{
  const VolactNode *resource, *condition;
  guint n_entries = 0;

  if (!interpret_resource (ctx, grant, &resource, error)
      || !req_child (ctx, grant, "condition", &condition, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, condition, "outOfBoxGrace", n)
  {
    VolactPolicySpec spec = { 0 };
    if (!req_attr (ctx, n, "application", &spec.application, error)
        || !uint_attr (ctx, n, "days", 0, 365, FALSE, 0, &spec.oob_grace_days, error)
        || !ctx->api->set_policy (ctx->b, ctx->doc, &spec, error))
      return FALSE;
    n_entries++;
  }
  if (n_entries == 0)
    return fail (ctx, condition, error, "an out-of-box grace file has no <outOfBoxGrace>");
  return TRUE;
}

/* phn: <condition><telephoneActivation>. */
static gboolean
interpret_phn (const Ctx *ctx, const VolactNode *grant, GError **error)
{
  const VolactNode *resource, *condition;
  guint n_entries = 0;

  if (!interpret_resource (ctx, grant, &resource, error)
      || !req_child (ctx, grant, "condition", &condition, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, condition, "telephoneActivation", n)
  {
    VolactPhoneSpec spec = { 0 };
    if (!uint_attr (ctx, n, "keyGroup", 1, 1023, FALSE, 0, &spec.key_group, error)
        || !choice_attr (ctx, n, "allowed", "false", "true", &spec.allowed, error)
        || !req_attr (ctx, n, "contact", &spec.contact, error)
        || !ctx->api->set_phone (ctx->b, ctx->doc, &spec, error))
      return FALSE;
    n_entries++;
  }
  if (n_entries == 0)
    return fail (ctx, condition, error, "a telephone activation file has no <telephoneActivation>");
  return TRUE;
}

/* One <keyGroup> with its <activates> children. */
static gboolean
interpret_key_group (const Ctx *ctx, const VolactNode *n, GError **error)
{
  g_autoptr (GPtrArray) editions = g_ptr_array_new ();
  VolactKeyGroupSpec spec = { 0 };

  if (!uint_attr (ctx, n, "id", 1, 1023, FALSE, 0, &spec.id, error)
      || !req_attr (ctx, n, "name", &spec.name, error)
      || !req_attr (ctx, n, "title", &spec.title, error)
      || !uint_attr (ctx, n, "maxHosts", 1, XRM_MAX_LIMIT, TRUE, XRM_DEFAULT_MAX_HOSTS,
                     &spec.max_hosts, error)
      || !uint_attr (ctx, n, "maxActivations", 1, XRM_MAX_LIMIT, TRUE, XRM_DEFAULT_MAX_ACTIVATIONS,
                     &spec.max_activations, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, n, "activates", a)
  {
    const char *edition;
    if (!req_attr (ctx, a, "edition", &edition, error))
      return FALSE;
    /* The strings belong to the document, which outlives this call. */
    g_ptr_array_add (editions, (gpointer) edition);
  }
  if (editions->len == 0)
    return fail (ctx, n, error, "key group %u activates no edition", spec.id);
  g_ptr_array_add (editions, NULL);
  spec.editions = (const char *const *) editions->pdata;
  return ctx->api->add_key_group (ctx->b, ctx->doc, &spec, error);
}

/* cfg: <resource> key groups. */
static gboolean
interpret_cfg (const Ctx *ctx, const VolactNode *grant, GError **error)
{
  const VolactNode *resource;
  guint n_groups = 0;

  if (!req_child (ctx, grant, "resource", &resource, error))
    return FALSE;
  FOR_EACH_CHILD (ctx, resource, "keyGroup", n)
  {
    if (!interpret_key_group (ctx, n, error))
      return FALSE;
    n_groups++;
  }
  if (n_groups == 0)
    return fail (ctx, resource, error, "a key group file has no <keyGroup>");
  return TRUE;
}

static const struct {
  const char *kind;
  gboolean (*interpret) (const Ctx *ctx, const VolactNode *grant, GError **error);
} kinds[] = {
  { "pl", interpret_pl },   { "ppd", interpret_ppd }, { "oob", interpret_oob },
  { "phn", interpret_phn }, { "cfg", interpret_cfg },
};

gboolean
volact_xrm_interpret (const char *const *families, const VolactDocument *doc,
                      VolactCatalogBuilder *b, GError **error)
{
  const Ctx ctx = { volact_catalog_host_api (), doc, b };
  const VolactNode *grant;
  const char *root_name;

  if (families != NULL && (doc->family == NULL || !g_strv_contains (families, doc->family))) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PLUGIN_INTERPRET,
                 "%s: license family \"%s\" is not one this plugin interprets", doc->path,
                 doc->family ? doc->family : "(none)");
    return FALSE;
  }
  if (doc->root == NULL)
    return fail (&ctx, NULL, error, "the document has no root element");
  root_name = ctx.api->node_name (doc->root);
  if (g_strcmp0 (root_name, "license") != 0)
    return fail (&ctx, doc->root, error, "the root element is <%s>, not <license>",
                 root_name ? root_name : "?");
  if (!req_child (&ctx, doc->root, "grant", &grant, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (g_strcmp0 (doc->kind, kinds[i].kind) == 0)
      return kinds[i].interpret (&ctx, grant, error);
  return fail (&ctx, doc->root, error, "unknown license kind \"%s\"",
               doc->kind ? doc->kind : "(none)");
}
