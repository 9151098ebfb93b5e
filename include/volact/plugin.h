/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * volact plugin ABI, installed as <volact/plugin.h>.
 *
 * A plugin is a libtool module that exports exactly one const descriptor,
 * `<name>_LTX_volact_plugin` (VOLACT_PLUGIN_DEFINE writes it). The loader
 * checks abi_version and name before it calls anything in the module.
 * Out of tree, build against the installed header with
 * `pkg-config --cflags volact-plugin`; install into
 * `pkg-config --variable=plugindir volact-plugin`.
 *
 * Plugins never read files and never parse XML bytes: the core parses,
 * validates against the XSD and verifies the signature, then hands the plugin
 * a read-only view of the verified document through VolactHostApi. The plugin
 * turns it into catalog entries with the same API. Nothing else from core/ is
 * visible to a plugin, so a plugin links only GLib.
 */
#ifndef VOLACT_PLUGIN_H
#define VOLACT_PLUGIN_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * The ABI version this header describes; bumped on any incompatible change.
 * 2: VolactHostApi gained set_error and interpret_xrm; check_config takes the
 * host API and is called on every load and reload.
 */
#define VOLACT_PLUGIN_ABI_VERSION 2u

/**
 * The core's error domain, by name. Plugins report errors with
 * api->set_error() and never need it; it is kept for the core's own check
 * that the two agree. The code api->set_error() uses is
 * VOLACT_PLUGIN_ERROR_INTERPRET (the core's VOLACT_E_PLUGIN_INTERPRET).
 */
#define VOLACT_PLUGIN_ERROR_DOMAIN_NAME "volact-error-quark"
#define VOLACT_PLUGIN_ERROR_INTERPRET 0xC0AC0107u

/** The largest minimum count an edition can have: the wire field is 16 bits. */
#define VOLACT_PLUGIN_MAX_MINIMUM_COUNT 65535u

/** Read-only element of a verified license document. */
typedef struct _VolactNode VolactNode;
/** The catalog being built by the current load or reload. */
typedef struct _VolactCatalogBuilder VolactCatalogBuilder;

/** Client or server edition: decides nothing by itself, the minimum count does. */
typedef enum {
  VOLACT_EDITION_CLIENT = 0,
  VOLACT_EDITION_SERVER = 1,
} VolactEditionType;

/** An application: one count pool shared by all its editions. */
typedef struct {
  const char *id;   /**< [a-z0-9-]{1,32} */
  const char *name; /**< human-readable */
} VolactApplicationSpec;

/** A product edition that clients ask to activate. */
typedef struct {
  const char *id;          /**< the client's --edition value, [a-z0-9-]{1,32} */
  const char *name;        /**< e.g. "Windows Vista Business" (modelled) */
  const char *application; /**< id of its count pool */
  VolactEditionType type;
} VolactEditionSpec;

/** Counting rule for one edition (from a `ppd` file). */
typedef struct {
  const char *edition;
  guint minimum_count; /**< 1..VOLACT_PLUGIN_MAX_MINIMUM_COUNT (65535, the 16-bit wire
                          count); set_edition_policy refuses anything else */
  gboolean vms_count;  /**< whether virtual machines raise the count */
} VolactEditionPolicySpec;

/** Timing policy of one application (from `ppd` and `oob` files). Zero means "not set here". */
typedef struct {
  const char *application;
  guint activation_interval; /**< minutes, 15..43200 */
  guint renewal_interval;    /**< minutes, 15..43200 */
  guint validity_days;       /**< how long one activation is valid */
  guint retention_days;      /**< how long a client record counts */
  guint oob_grace_days;      /**< out-of-box grace (from `oob`) */
} VolactPolicySpec;

/** A host key group and the editions a host holding such a key activates. */
typedef struct {
  guint id;                    /**< 1..1023, encoded in host keys */
  const char *name;            /**< e.g. "kmsw7-2" */
  const char *title;           /**< e.g. "Windows 7 era, server group A" */
  const char *const *editions; /**< NULL-terminated edition ids */
  guint max_hosts;             /**< distinct hosts per key (authority default) */
  guint max_activations;       /**< activations per host per key */
} VolactKeyGroupSpec;

/** Telephone activation data for a key group (from a `phn` file). */
typedef struct {
  guint key_group;
  gboolean allowed;
  const char *contact; /**< what volactctl dti tells the administrator to call */
} VolactPhoneSpec;

/** Facts about the verified document handed to a plugin. */
typedef struct {
  const char *path;   /**< for error messages only; never open it */
  const char *kind;   /**< "pl", "ppd", "oob", "phn" or "cfg" */
  const char *family; /**< the family the plugin claimed */
  const char *id;     /**< the license id attribute */
  const VolactNode *root;
} VolactDocument;

/**
 * What the core offers a plugin. Node functions only see elements in the XrM
 * namespace; pointers they return stay valid for the duration of the call.
 * Every add function copies its arguments and reports conflicts as GError.
 */
typedef struct _VolactHostApi VolactHostApi;
struct _VolactHostApi {
  guint32 abi_version;
  const VolactNode *(*node_child) (const VolactNode *node, const char *name);
  const VolactNode *(*node_next) (const VolactNode *node, const char *name);
  const char *(*node_name) (const VolactNode *node);
  const char *(*node_attr) (const VolactNode *node, const char *name);
  guint (*node_line) (const VolactNode *node);

  gboolean (*add_application) (VolactCatalogBuilder *b, const VolactDocument *doc,
                               const VolactApplicationSpec *spec, GError **error);
  gboolean (*add_edition) (VolactCatalogBuilder *b, const VolactDocument *doc,
                           const VolactEditionSpec *spec, GError **error);
  gboolean (*set_edition_policy) (VolactCatalogBuilder *b, const VolactDocument *doc,
                                  const VolactEditionPolicySpec *spec, GError **error);
  gboolean (*set_policy) (VolactCatalogBuilder *b, const VolactDocument *doc,
                          const VolactPolicySpec *spec, GError **error);
  gboolean (*add_key_group) (VolactCatalogBuilder *b, const VolactDocument *doc,
                             const VolactKeyGroupSpec *spec, GError **error);
  gboolean (*set_phone) (VolactCatalogBuilder *b, const VolactDocument *doc,
                         const VolactPhoneSpec *spec, GError **error);

  /**
   * Sets *ERROR (if ERROR is non-NULL) in the core's error domain with code
   * VOLACT_PLUGIN_ERROR_INTERPRET and the printf-style message. Name the file
   * (doc->path) and line (node_line) in it.
   */
  void (*set_error) (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);
  /**
   * The core's interpreter of the standard XrM kinds (pl, ppd, oob, phn, cfg,
   * docs/license-format.md): checks that doc->family is one of FAMILIES
   * (NULL-terminated; NULL skips the check), then adds what DOC declares to
   * BUILDER. A plugin whose families use these kinds needs nothing else; see
   * VOLACT_XRM_PLUGIN.
   */
  gboolean (*interpret_xrm) (const char *const *families, const VolactDocument *doc,
                             VolactCatalogBuilder *builder, GError **error);
};

/** The one descriptor a plugin exports. All fields are read before any call. */
typedef struct {
  guint32 abi_version;         /**< VOLACT_PLUGIN_ABI_VERSION */
  const char *name;            /**< must equal the module's file name, e.g. "kms12" */
  const char *version;         /**< the plugin's own version string */
  const char *const *replaces; /**< NULL-terminated plugin names this one supersedes, or NULL */
  const char *const *families; /**< NULL-terminated license families it interprets */
  /** Optional; called once after the checks pass, before check_config. */
  gboolean (*load) (const VolactHostApi *api, GError **error);
  /** Optional; called before the module is closed. */
  void (*unload) (void);
  /** Turns one verified document of a claimed family into catalog entries. */
  gboolean (*interpret) (const VolactHostApi *api, const VolactDocument *doc,
                         VolactCatalogBuilder *builder, GError **error);
  /**
   * Optional; checks the plugin's group GROUP ("plugin:<name>") of the host
   * config on every load and reload, before any license file is interpreted.
   * Called even when the group is absent (CONFIG then has no such group).
   * Failing it fails the load or reload. Without check_config, a non-empty
   * `[plugin:<name>]` group is refused as unknown.
   */
  gboolean (*check_config) (const VolactHostApi *api, GKeyFile *config, const char *group,
                            GError **error);
} VolactPlugin;

/* libtool's -module symbol prefixing: NAME_LTX_volact_plugin. */
#define VOLACT_PLUGIN_SYMBOL_(name) name##_LTX_volact_plugin
#define VOLACT_PLUGIN_SYMBOL(name) VOLACT_PLUGIN_SYMBOL_ (name)

/** Defines the exported descriptor of plugin NAME (an identifier). */
#define VOLACT_PLUGIN_DEFINE(name)                                                                 \
  VOLACT_PLUGIN_EXPORT extern const VolactPlugin VOLACT_PLUGIN_SYMBOL (name);                      \
  VOLACT_PLUGIN_EXPORT const VolactPlugin VOLACT_PLUGIN_SYMBOL (name)

#define VOLACT_PLUGIN_EXPORT __attribute__ ((visibility ("default")))

/** A NULL-terminated string list usable in a descriptor: VOLACT_LIST ("a", "b"). */
#define VOLACT_LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

/**
 * A whole plugin for families stored in the standard XrM kinds: ID (a C
 * identifier, equal to the module's file name and used as the plugin's name),
 * VERSION (a string), FAMILIES (a VOLACT_LIST) and REPLACES (a VOLACT_LIST or
 * NULL). A plugin whose name is not a C identifier uses VOLACT_PLUGIN_DEFINE. Interpretation is the
 * core's, through api->interpret_xrm:
 *
 *   VOLACT_XRM_PLUGIN (kms12, "1.2.0", VOLACT_LIST ("kms08", "kmsw7"), VOLACT_LIST ("kms11"));
 */
#define VOLACT_XRM_PLUGIN(id_, version_, families_, replaces_)                                     \
  VOLACT_PLUGIN_EXPORT extern const VolactPlugin VOLACT_PLUGIN_SYMBOL (id_);                       \
  static gboolean id_##_xrm_interpret (const VolactHostApi *api, const VolactDocument *doc,        \
                                       VolactCatalogBuilder *builder, GError **error)              \
  {                                                                                                \
    return api->interpret_xrm (VOLACT_PLUGIN_SYMBOL (id_).families, doc, builder, error);          \
  }                                                                                                \
  VOLACT_PLUGIN_DEFINE (id_) = {                                                                   \
    .abi_version = VOLACT_PLUGIN_ABI_VERSION,                                                      \
    .name = #id_,                                                                                  \
    .version = (version_),                                                                         \
    .replaces = (replaces_),                                                                       \
    .families = (families_),                                                                       \
    .interpret = id_##_xrm_interpret,                                                              \
  }

G_END_DECLS

#endif /* VOLACT_PLUGIN_H */
