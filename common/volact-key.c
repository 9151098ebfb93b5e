/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host key codec; the format is specified in docs/host-keys.md and summarised in volact-key.h. */
#include "config.h"

#include "volact-key.h"

#include "volact-error.h"

#include <string.h>

#define RADIX 24
#define PAYLOAD_BITS 105
#define HI_BITS (PAYLOAD_BITS - 64) /* payload bits kept in the high word */
#define HI_MASK ((G_GUINT64_CONSTANT (1) << HI_BITS) - 1)

/* Field positions inside the high word (payload bit - 64). */
#define SERIAL_HI_BITS 16 /* serial bits 47..32 live in hi bits 15..0 */
#define GROUP_SHIFT 16
#define VERSION_SHIFT 26
#define RESERVED_SHIFT 30

#define GROUP_FIELD_MASK 0x3FFu
#define VERSION_FIELD_MASK 0xFu
#define RESERVED_FIELD_MASK 0x7FFu

static const char alphabet[] = VOLACT_KEY_ALPHABET;
G_STATIC_ASSERT (sizeof alphabet - 1 == RADIX);
/* 2^105 < 24^23: every payload fits in the data symbols. */
G_STATIC_ASSERT (RESERVED_SHIFT + 11 == HI_BITS);

/* 128-bit unsigned as four 32-bit limbs, most significant first; portable to
 * targets without __int128. */
typedef struct {
  guint32 l[4];
} Wide;

static Wide
wide_from (guint64 hi, guint64 lo)
{
  Wide w = { { (guint32) (hi >> 32), (guint32) hi, (guint32) (lo >> 32), (guint32) lo } };
  return w;
}

static void
wide_split (const Wide *w, guint64 *hi, guint64 *lo)
{
  *hi = ((guint64) w->l[0] << 32) | w->l[1];
  *lo = ((guint64) w->l[2] << 32) | w->l[3];
}

/* w /= 24, returns the remainder. */
static guint
wide_divmod_radix (Wide *w)
{
  guint64 rem = 0;
  for (int i = 0; i < 4; i++) {
    guint64 cur = (rem << 32) | w->l[i];
    w->l[i] = (guint32) (cur / RADIX);
    rem = cur % RADIX;
  }
  return (guint) rem;
}

/* w = w * 24 + digit; cannot overflow for 23 digits (24^23 < 2^106). */
static void
wide_muladd_radix (Wide *w, guint digit)
{
  guint64 carry = digit;
  for (int i = 3; i >= 0; i--) {
    guint64 cur = (guint64) w->l[i] * RADIX + carry;
    w->l[i] = (guint32) cur;
    carry = cur >> 32;
  }
}

/* splitmix64 (Steele, Lea, Flood 2014): the nonce-derived scrambling mask. */
static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* XORs payload bits 104..32 with the mask of the nonce in bits 31..0 (an involution). */
static void
payload_scramble (guint64 *hi, guint64 *lo)
{
  guint64 state = *lo & 0xFFFFFFFFu;
  guint64 m1 = splitmix64 (&state);
  guint64 m2 = splitmix64 (&state);

  *lo ^= m1 << 32;
  *hi ^= ((m1 >> 32) | (m2 << 32)) & HI_MASK;
}

/* The check weight of data symbol I (0..22): distinct, non-zero, and neither
 * equal nor opposite to each other or to the check symbols' weights -24 and -1
 * modulo 571 (see docs/host-keys.md). */
static guint
data_weight (guint i)
{
  return 25 + i;
}

static guint
check_value (const guint8 data[VOLACT_KEY_DATA_SYMBOLS])
{
  guint sum = 0;
  for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
    sum += data_weight (i) * data[i]; /* at most 23 * 47 * 23, no overflow */
  return sum % VOLACT_KEY_CHECK_MODULUS;
}

void
volact_key_check_values (const guint8 data[VOLACT_KEY_DATA_SYMBOLS], guint8 check[2])
{
  guint c = check_value (data);
  check[0] = (guint8) (c / RADIX);
  check[1] = (guint8) (c % RADIX);
}

static int
symbol_value (gunichar c)
{
  const char *p;

  if (c == 0 || c > 0x7F)
    return -1;
  p = strchr (alphabet, g_ascii_toupper ((char) c));
  return p ? (int) (p - alphabet) : -1;
}

static gboolean
check_fields (guint version, guint group, guint64 serial, GError **error)
{
  if (version != VOLACT_KEY_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "host key version %u is not supported (this host writes version %u)", version,
                 (guint) VOLACT_KEY_VERSION);
    return FALSE;
  }
  if (group < VOLACT_KEY_GROUP_MIN || group > VOLACT_KEY_GROUP_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key group %u is out of range (%u..%u)", group, (guint) VOLACT_KEY_GROUP_MIN,
                 (guint) VOLACT_KEY_GROUP_MAX);
    return FALSE;
  }
  if (serial > VOLACT_KEY_SERIAL_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " is out of range (0..%" G_GUINT64_FORMAT ")",
                 serial, VOLACT_KEY_SERIAL_MAX);
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_key_encode (const VolactHostKey *key, char out[VOLACT_KEY_TEXT_SIZE], GError **error)
{
  guint8 v[VOLACT_KEY_SYMBOLS];
  guint64 hi, lo;
  Wide w;
  char *p = out;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  out[0] = '\0';
  if (!check_fields (key->version, key->group, key->serial, error))
    return FALSE;

  lo = (guint64) key->nonce | (key->serial << 32);
  hi = (key->serial >> 32) | ((guint64) key->group << GROUP_SHIFT)
       | ((guint64) key->version << VERSION_SHIFT);
  payload_scramble (&hi, &lo);

  w = wide_from (hi, lo);
  for (int i = VOLACT_KEY_DATA_SYMBOLS - 1; i >= 0; i--)
    v[i] = (guint8) wide_divmod_radix (&w);
  volact_key_check_values (v, &v[VOLACT_KEY_DATA_SYMBOLS]);

  for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++) {
    if (i > 0 && i % 5 == 0)
      *p++ = '-';
    *p++ = alphabet[v[i]];
  }
  *p = '\0';
  return TRUE;
}

/* Writes a character for an error message: printable ones as themselves,
 * others as U+XXXX. */
static char *
describe_char (gunichar c)
{
  if (g_unichar_isprint (c) && c != '\'') {
    char buf[8] = { 0 };
    g_unichar_to_utf8 (c, buf);
    return g_strdup_printf ("'%s'", buf);
  }
  return g_strdup_printf ("U+%04X", (guint) c);
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY, message);
  return FALSE;
}

gboolean
volact_key_decode (const char *text, VolactHostKey *key, GError **error)
{
  static const char layout[] = "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX";
  g_autofree char *trimmed = NULL;
  guint8 v[VOLACT_KEY_SYMBOLS];
  guint8 expect[2];
  guint n_chars = 0, n_symbols = 0, n_dashes = 0;
  guint64 hi, lo;
  guint version, group, reserved;
  Wide w = { { 0 } };

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text == NULL)
    return invalid (error, "no host key given");
  if (!g_utf8_validate (text, -1, NULL))
    return invalid (error, "the host key is not valid UTF-8 text");
  trimmed = g_strstrip (g_strdup (text));
  if (*trimmed == '\0')
    return invalid (error, "the host key is empty");

  /* Pass 1: every character is a key symbol or a dash. Positions are 1-based
   * characters of the trimmed text, which is what the user typed as the key. */
  for (const char *p = trimmed; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    int value;

    n_chars++;
    if (c == '-') {
      n_dashes++;
      continue;
    }
    value = symbol_value (c);
    if (value < 0) {
      g_autofree char *what = describe_char (c);
      g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                   "character %u %s is not in the host key alphabet (%s)", n_chars, what,
                   VOLACT_KEY_ALPHABET);
      return FALSE;
    }
    if (n_symbols < VOLACT_KEY_SYMBOLS)
      v[n_symbols] = (guint8) value;
    n_symbols++;
  }

  /* Pass 2: 25 symbols, with all four dashes in place or none at all. */
  if (n_symbols != VOLACT_KEY_SYMBOLS) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "the host key has %u symbol%s; it needs %u, as %s", n_symbols,
                 n_symbols == 1 ? "" : "s", (guint) VOLACT_KEY_SYMBOLS, layout);
    return FALSE;
  }
  if (n_dashes > 0) {
    /* All characters are ASCII here, so byte index = character index. */
    gsize len = strlen (trimmed);
    for (gsize i = 0; i < MAX (len, sizeof layout - 1); i++) {
      gboolean want_dash = i < sizeof layout - 1 && layout[i] == '-';
      gboolean is_dash = i < len && trimmed[i] == '-';
      if (want_dash && !is_dash) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                     "character %u of the host key should be a dash: write it as %s or "
                     "without dashes",
                     (guint) i + 1, layout);
        return FALSE;
      }
      if (is_dash && !want_dash) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                     "character %u '-' of the host key is misplaced: write it as %s or "
                     "without dashes",
                     (guint) i + 1, layout);
        return FALSE;
      }
    }
  }

  /* The check: the two check symbols spell the weighted sum of the data
   * symbols mod 571 in base 24; the canonical spelling only. */
  volact_key_check_values (v, expect);
  if (v[VOLACT_KEY_DATA_SYMBOLS] != expect[0] || v[VOLACT_KEY_DATA_SYMBOLS + 1] != expect[1])
    return invalid (error,
                    "the host key's check symbols do not match "
                    "(a character is mistyped or two are swapped)");

  /* The payload. These only fail for keys with several errors or keys that
   * were never issued by a volact authority. */
  for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
    wide_muladd_radix (&w, v[i]);
  wide_split (&w, &hi, &lo);
  if (hi > HI_MASK)
    return invalid (error, "the host key is not a volact host key (its payload is out of range)");
  payload_scramble (&hi, &lo);
  version = (guint) (hi >> VERSION_SHIFT) & VERSION_FIELD_MASK;
  group = (guint) (hi >> GROUP_SHIFT) & GROUP_FIELD_MASK;
  reserved = (guint) (hi >> RESERVED_SHIFT) & RESERVED_FIELD_MASK;
  if (version != VOLACT_KEY_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "host key version %u is not supported (this host reads version %u)", version,
                 (guint) VOLACT_KEY_VERSION);
    return FALSE;
  }
  if (reserved != 0 || group < VOLACT_KEY_GROUP_MIN)
    return invalid (error, "the host key is not a volact host key (its payload is malformed)");

  if (key != NULL) {
    key->version = version;
    key->group = group;
    key->serial = ((hi & ((G_GUINT64_CONSTANT (1) << SERIAL_HI_BITS) - 1)) << 32) | (lo >> 32);
    key->nonce = (guint32) lo;
  }
  return TRUE;
}

gboolean
volact_key_normalize (const char *text, char out[VOLACT_KEY_TEXT_SIZE], GError **error)
{
  VolactHostKey key;

  g_return_val_if_fail (out != NULL, FALSE);
  out[0] = '\0';
  if (!volact_key_decode (text, &key, error))
    return FALSE;
  return volact_key_encode (&key, out, error);
}

void
volact_key_partial (const char *canonical, char out[VOLACT_KEY_PARTIAL_SIZE])
{
  guint n = 0;

  g_return_if_fail (out != NULL);
  out[0] = '\0';
  if (canonical == NULL)
    return;
  /* Walk backwards collecting the last five characters that are not dashes or spaces. */
  for (gssize i = (gssize) strlen (canonical) - 1; i >= 0 && n < 5; i--) {
    char c = canonical[i];
    if (c == '-' || g_ascii_isspace (c))
      continue;
    out[4 - n] = g_ascii_toupper (c);
    n++;
  }
  if (n < 5) {
    out[0] = '\0';
    return;
  }
  out[5] = '\0';
}
