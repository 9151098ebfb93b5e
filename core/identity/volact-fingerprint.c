/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware fingerprint; docs/activation.md is the specification. */
#include "config.h"

#include "volact-fingerprint.h"

#include "volact-error.h"

#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <glib/gstdio.h>
#include <openssl/sha.h>

#define FP_DOMAIN "volact-fp-v1"
#define OVERRIDE_MAX_BYTES (64u * 1024u)

static const char *const fp_names[VOLACT_FINGERPRINT_COMPONENTS] = {
  "machine-id", "cpu", "memory", "mac", "disk",
};

const char *
volact_fingerprint_component_name (guint index)
{
  return index < VOLACT_FINGERPRINT_COMPONENTS ? fp_names[index] : NULL;
}

void
volact_fingerprint_component_hash (const char *name, const char *value, guint8 out[2])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[SHA256_DIGEST_LENGTH];
  gsize len = sizeof digest;
  const guint8 zero = 0;

  g_checksum_update (sum, (const guchar *) FP_DOMAIN, strlen (FP_DOMAIN));
  g_checksum_update (sum, (const guchar *) name, (gssize) strlen (name));
  g_checksum_update (sum, &zero, 1);
  if (value != NULL)
    g_checksum_update (sum, (const guchar *) value, (gssize) strlen (value));
  g_checksum_get_digest (sum, digest, &len);
  out[0] = digest[0];
  out[1] = digest[1];
}

void
volact_fingerprint_from_values (const char *const values[VOLACT_FINGERPRINT_COMPONENTS],
                                guint8 out[VOLACT_FINGERPRINT_SIZE])
{
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    volact_fingerprint_component_hash (fp_names[i], values[i], out + 2 * i);
}

/* The five component values being read; NULL = unreadable. */
typedef struct {
  char *v[VOLACT_FINGERPRINT_COMPONENTS];
} FpValues;

static void
fp_values_clear (FpValues *values)
{
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    g_clear_pointer (&values->v[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FpValues, fp_values_clear)

gboolean
volact_fingerprint_read_file (const char *path, guint8 out[VOLACT_FINGERPRINT_SIZE], GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (FpValues) values = { { NULL } };
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, local->message);
    return FALSE;
  }
  if (len > OVERRIDE_MAX_BYTES || memchr (data, '\0', len) != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: not a fingerprint override file (binary or over %u bytes)", path,
                 OVERRIDE_MAX_BYTES);
    return FALSE;
  }

  lines = g_strsplit (data, "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++) {
    char *line = g_strstrip (lines[n]);
    char *eq;
    guint i;

    if (*line == '\0' || *line == '#')
      continue;
    eq = strchr (line, '=');
    if (eq == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s:%u: expected component=value", path,
                   n + 1);
      return FALSE;
    }
    *eq = '\0';
    g_strstrip (line);
    for (i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
      if (strcmp (line, fp_names[i]) == 0)
        break;
    if (i == VOLACT_FINGERPRINT_COMPONENTS) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s:%u: unknown component \"%s\" (expected machine-id, cpu, memory, mac or "
                   "disk)",
                   path, n + 1, line);
      return FALSE;
    }
    if (values.v[i] != NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s:%u: component \"%s\" given twice",
                   path, n + 1, line);
      return FALSE;
    }
    values.v[i] = g_strdup (g_strstrip (eq + 1));
  }

  volact_fingerprint_from_values ((const char *const *) values.v, out);
  return TRUE;
}

/* The stripped contents of a small text file, or NULL. */
static char *
read_text (const char *path)
{
  char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return g_strstrip (data);
}

static char *
read_machine_id (void)
{
  return read_text ("/etc/machine-id");
}

/* The value of the first "KEY : value" line of a /proc file. */
static char *
read_proc_field (const char *path, const char *key)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  gsize key_len = strlen (key);

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *p = lines[i];
    if (strncmp (p, key, key_len) != 0)
      continue;
    p += key_len;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != ':')
      continue;
    return g_strstrip (g_strdup (p + 1));
  }
  return NULL;
}

static char *
read_cpu (void)
{
  return read_proc_field ("/proc/cpuinfo", "model name");
}

/* MemTotal rounded to whole GiB, so small firmware reservations do not count as a change. */
static char *
read_memory (void)
{
  g_autofree char *total = read_proc_field ("/proc/meminfo", "MemTotal");
  guint64 kib;
  char *end = NULL;

  if (total == NULL)
    return NULL;
  kib = g_ascii_strtoull (total, &end, 10);
  if (end == total)
    return NULL;
  return g_strdup_printf ("%" G_GUINT64_FORMAT, (kib + 512u * 1024u) / (1024u * 1024u));
}

/* The lowest permanent (addr_assign_type 0) MAC address of a non-loopback interface. */
static char *
read_mac (void)
{
  const char *sys = "/sys/class/net";
  g_autoptr (GDir) dir = g_dir_open (sys, 0, NULL);
  char *best = NULL;
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *type_path = g_build_filename (sys, name, "type", NULL);
    g_autofree char *assign_path = g_build_filename (sys, name, "addr_assign_type", NULL);
    g_autofree char *addr_path = g_build_filename (sys, name, "address", NULL);
    g_autofree char *type = read_text (type_path);
    g_autofree char *assign = read_text (assign_path);
    g_autofree char *addr = NULL;

    /* ARPHRD_LOOPBACK is 772. */
    if (strcmp (name, "lo") == 0 || g_strcmp0 (type, "772") == 0)
      continue;
    if (g_strcmp0 (assign, "0") != 0)
      continue;
    addr = read_text (addr_path);
    if (addr == NULL || *addr == '\0' || strspn (addr, "0:") == strlen (addr))
      continue;
    {
      char *lower = g_ascii_strdown (addr, -1);
      if (best == NULL || strcmp (lower, best) < 0) {
        g_free (best);
        best = lower;
      } else {
        g_free (lower);
      }
    }
  }
  return best;
}

/* The UUID of the file system holding STATE_DIR, else its device number "major:minor". */
static char *
read_disk (const char *state_dir)
{
  const char *by_uuid = "/dev/disk/by-uuid";
  g_autoptr (GDir) dir = NULL;
  struct stat st;
  const char *name;

  if (state_dir == NULL || g_stat (state_dir, &st) != 0)
    return NULL;
  dir = g_dir_open (by_uuid, 0, NULL);
  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (by_uuid, name, NULL);
      struct stat dev;
      if (g_stat (path, &dev) == 0 && S_ISBLK (dev.st_mode) && dev.st_rdev == st.st_dev)
        return g_strdup (name);
    }
  }
  return g_strdup_printf ("%u:%u", major (st.st_dev), minor (st.st_dev));
}

gboolean
volact_fingerprint_read (const char *state_dir, guint8 out[VOLACT_FINGERPRINT_SIZE],
                         gboolean *overridden, GError **error)
{
  const char *override = g_getenv (VOLACT_FINGERPRINT_ENV);
  g_auto (FpValues) values = { { NULL } };

  if (overridden != NULL)
    *overridden = FALSE;
  if (override != NULL && *override != '\0') {
    /* Never let a caller's environment steer a privileged process. */
    if (getauxval (AT_SECURE) != 0) {
      g_warning ("%s is set but ignored in a set-user-ID or privileged process",
                 VOLACT_FINGERPRINT_ENV);
    } else {
      static gsize warned = 0;
      /* Once per process: the host re-reads the fingerprint on every status query. */
      if (g_once_init_enter (&warned)) {
        g_warning ("Hardware fingerprint: TEST OVERRIDE from %s (%s is set; never use this in "
                   "production)",
                   override, VOLACT_FINGERPRINT_ENV);
        g_once_init_leave (&warned, 1);
      }
      if (!volact_fingerprint_read_file (override, out, error)) {
        g_prefix_error (error, "%s: ", VOLACT_FINGERPRINT_ENV);
        return FALSE;
      }
      if (overridden != NULL)
        *overridden = TRUE;
      return TRUE;
    }
  }

  values.v[0] = read_machine_id ();
  values.v[1] = read_cpu ();
  values.v[2] = read_memory ();
  values.v[3] = read_mac ();
  values.v[4] = read_disk (state_dir);
  volact_fingerprint_from_values ((const char *const *) values.v, out);
  return TRUE;
}

guint
volact_fingerprint_changed_components (const guint8 a[VOLACT_FINGERPRINT_SIZE],
                                       const guint8 b[VOLACT_FINGERPRINT_SIZE])
{
  guint changed = 0;
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    if (a[2 * i] != b[2 * i] || a[2 * i + 1] != b[2 * i + 1])
      changed++;
  return changed;
}

gboolean
volact_fingerprint_significant_change (const guint8 old_fp[VOLACT_FINGERPRINT_SIZE],
                                       const guint8 new_fp[VOLACT_FINGERPRINT_SIZE])
{
  return volact_fingerprint_changed_components (old_fp, new_fp) >= VOLACT_FINGERPRINT_SIGNIFICANT;
}
