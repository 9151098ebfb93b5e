/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Installation and Confirmation IDs; docs/activation.md is the specification. */
#include "config.h"

#include "volact-activation-id.h"

#include "volact-bytes.h"
#include "volact-error.h"

#include <string.h>

/* ---- Digit groups ------------------------------------------------------------------------ */

typedef struct {
  const char *what; /* for messages */
  gsize payload_size;
  gsize digits;
  gsize groups;
} IdFormat;

static const IdFormat iid_format
    = { "Installation ID", VOLACT_IID_PAYLOAD_SIZE, VOLACT_IID_DIGITS, VOLACT_IID_GROUPS };
static const IdFormat cid_format
    = { "Confirmation ID", VOLACT_CID_PAYLOAD_SIZE, VOLACT_CID_DIGITS, VOLACT_CID_GROUPS };

G_STATIC_ASSERT (VOLACT_IID_GROUPS
                 == (VOLACT_IID_DIGITS + VOLACT_ID_GROUP_DIGITS - 1) / VOLACT_ID_GROUP_DIGITS);
G_STATIC_ASSERT (VOLACT_CID_GROUPS
                 == (VOLACT_CID_DIGITS + VOLACT_ID_GROUP_DIGITS - 1) / VOLACT_ID_GROUP_DIGITS);
G_STATIC_ASSERT (VOLACT_IID_PAYLOAD_SIZE
                 == 1 + 2 + 6 + 4 + VOLACT_HOST_ID_SIZE + VOLACT_FINGERPRINT_SIZE);
G_STATIC_ASSERT (VOLACT_CID_PAYLOAD_SIZE == 1 + 2 + 1 + VOLACT_SIGNATURE_SIZE);

/* Damm's totally anti-symmetric quasigroup of order 10 (zero diagonal). */
static const guint8 damm_table[10][10] = {
  { 0, 3, 1, 7, 5, 9, 8, 6, 4, 2 }, { 7, 0, 9, 2, 1, 5, 4, 8, 6, 3 },
  { 4, 2, 0, 6, 8, 7, 1, 3, 5, 9 }, { 1, 7, 5, 0, 9, 8, 3, 4, 2, 6 },
  { 6, 1, 2, 3, 0, 4, 5, 9, 7, 8 }, { 3, 6, 7, 4, 2, 0, 9, 5, 8, 1 },
  { 5, 8, 6, 9, 7, 2, 0, 1, 3, 4 }, { 8, 9, 4, 5, 3, 6, 2, 0, 1, 7 },
  { 9, 4, 3, 8, 6, 1, 7, 2, 0, 5 }, { 2, 5, 8, 1, 4, 3, 6, 7, 9, 0 },
};

static guint
damm_run (guint interim, const char *digits, gsize len)
{
  for (gsize i = 0; i < len; i++)
    interim = damm_table[interim][digits[i] - '0'];
  return interim;
}

guint
volact_id_check_digit (guint group_number, const char *digits, gsize len)
{
  return damm_run (group_number % 10, digits, len);
}

/* Data digits in group G (0-based). */
static gsize
group_len (const IdFormat *f, gsize g)
{
  gsize start = g * VOLACT_ID_GROUP_DIGITS;
  return MIN ((gsize) VOLACT_ID_GROUP_DIGITS, f->digits - start);
}

/* PAYLOAD as a big-endian integer in decimal, left-padded to F->digits digits.
 * FALSE if it needs more (cannot happen: F->digits holds 256^n - 1). */
static gboolean
payload_to_decimal (const IdFormat *f, const guint8 *payload, char *digits)
{
  guint8 work[VOLACT_CID_PAYLOAD_SIZE];
  gsize n = f->payload_size;

  g_assert (n <= sizeof work);
  memcpy (work, payload, n);
  for (gsize pos = f->digits; pos > 0; pos--) {
    guint rem = 0;
    for (gsize i = 0; i < n; i++) {
      guint cur = (rem << 8) | work[i];
      work[i] = (guint8) (cur / 10);
      rem = cur % 10;
    }
    digits[pos - 1] = (char) ('0' + rem);
  }
  for (gsize i = 0; i < n; i++)
    if (work[i] != 0)
      return FALSE;
  return TRUE;
}

/* F->digits decimal digits into a big-endian payload; FALSE if above 256^n - 1. */
static gboolean
decimal_to_payload (const IdFormat *f, const char *digits, guint8 *payload)
{
  gsize n = f->payload_size;

  memset (payload, 0, n);
  for (gsize d = 0; d < f->digits; d++) {
    guint carry = (guint) (digits[d] - '0');
    for (gsize i = n; i > 0; i--) {
      guint cur = payload[i - 1] * 10u + carry;
      payload[i - 1] = (guint8) cur;
      carry = cur >> 8;
    }
    if (carry != 0)
      return FALSE;
  }
  return TRUE;
}

static void
encode_groups (const IdFormat *f, const guint8 *payload, char *out)
{
  char digits[VOLACT_CID_DIGITS];
  char *p = out;

  if (!payload_to_decimal (f, payload, digits))
    g_assert_not_reached ();
  for (gsize g = 0; g < f->groups; g++) {
    const char *src = digits + g * VOLACT_ID_GROUP_DIGITS;
    gsize len = group_len (f, g);
    if (g > 0)
      *p++ = '-';
    memcpy (p, src, len);
    p += len;
    *p++ = (char) ('0' + volact_id_check_digit ((guint) g + 1, src, len));
  }
  *p = '\0';
}

static gboolean
is_separator (char c)
{
  return c == '-' || c == ' ' || c == '\t';
}

/* Parses TEXT into F->payload_size bytes, checking characters, length and every group. */
static gboolean
decode_groups (const IdFormat *f, const char *text, guint8 *payload, GError **error)
{
  char typed[VOLACT_CID_TYPED_DIGITS];
  char digits[VOLACT_CID_DIGITS];
  gsize expected = f->digits + f->groups;
  gsize count = 0;
  /* Lengths of the first runs of digits, to name a short or long group. */
  gsize runs[VOLACT_CID_GROUPS + 1] = { 0 };
  gsize n_runs = 0;
  gboolean in_run = FALSE;
  gsize pos = 0;

  if (text == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "no %s given", f->what);
    return FALSE;
  }
  for (const char *p = text; *p != '\0'; p++) {
    pos++;
    if (g_ascii_isdigit (*p)) {
      if (count < expected)
        typed[count] = *p;
      count++;
      if (!in_run && n_runs < G_N_ELEMENTS (runs))
        n_runs++;
      in_run = TRUE;
      if (n_runs <= G_N_ELEMENTS (runs))
        runs[n_runs - 1]++;
    } else if (is_separator (*p) || *p == '\n' || *p == '\r') {
      /* Line breaks are tolerated too: long IDs get pasted across lines. */
      in_run = FALSE;
    } else {
      if (g_ascii_isprint (*p))
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                     "the %s contains '%c' at position %" G_GSIZE_FORMAT
                     "; only digits, '-' and spaces are allowed",
                     f->what, *p, pos);
      else
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                     "the %s contains byte 0x%02x at position %" G_GSIZE_FORMAT
                     "; only digits, '-' and spaces are allowed",
                     f->what, (guint) (guchar) *p, pos);
      return FALSE;
    }
  }

  if (count != expected) {
    /* Typed in all its groups: name the first group of the wrong size. */
    if (n_runs == f->groups) {
      for (gsize g = 0; g < n_runs && g < f->groups; g++) {
        gsize want = group_len (f, g) + 1;
        if (runs[g] != want) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                       "group %" G_GSIZE_FORMAT " of the %s has %" G_GSIZE_FORMAT
                       " digits, expected %" G_GSIZE_FORMAT,
                       g + 1, f->what, runs[g], want);
          return FALSE;
        }
      }
    }
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the %s has %" G_GSIZE_FORMAT " digits; it needs %" G_GSIZE_FORMAT
                 " (%" G_GSIZE_FORMAT " groups)",
                 f->what, count, expected, f->groups);
    return FALSE;
  }

  /* Every group's check, first failure reported; the data digits are gathered meanwhile. */
  {
    const char *src = typed;
    char *dst = digits;
    for (gsize g = 0; g < f->groups; g++) {
      gsize len = group_len (f, g);
      if (damm_run ((guint) (g + 1) % 10, src, len + 1) != 0) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_GROUP,
                     "group %" G_GSIZE_FORMAT " of the %s is mistyped", g + 1, f->what);
        return FALSE;
      }
      memcpy (dst, src, len);
      dst += len;
      src += len + 1;
    }
  }

  if (!decimal_to_payload (f, digits, payload)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the %s is out of range; it was not made by volact", f->what);
    return FALSE;
  }
  return TRUE;
}

/* ---- Installation ID --------------------------------------------------------------------- */

void
volact_installation_id_init (VolactInstallationId *out, const VolactHostKey *key,
                             const guint8 host_id[VOLACT_HOST_ID_SIZE],
                             const guint8 fingerprint[VOLACT_FINGERPRINT_SIZE])
{
  memset (out, 0, sizeof *out);
  out->version = VOLACT_ID_VERSION;
  out->key_group = (guint16) key->group;
  out->key_serial = key->serial;
  out->key_nonce = key->nonce;
  memcpy (out->host_id, host_id, VOLACT_HOST_ID_SIZE);
  memcpy (out->fingerprint, fingerprint, VOLACT_FINGERPRINT_SIZE);
}

const char *
volact_installation_id_problem (const VolactInstallationId *iid)
{
  if (iid->version != VOLACT_ID_VERSION)
    return "unsupported version";
  if (iid->key_group < VOLACT_KEY_GROUP_MIN || iid->key_group > VOLACT_KEY_GROUP_MAX)
    return "key group out of range";
  if (iid->key_serial > VOLACT_KEY_SERIAL_MAX)
    return "key serial out of range";
  return NULL;
}

gboolean
volact_installation_id_encode (const VolactInstallationId *iid, char out[VOLACT_IID_TEXT_SIZE],
                               GError **error)
{
  guint8 payload[VOLACT_IID_PAYLOAD_SIZE];
  const char *problem = volact_installation_id_problem (iid);

  out[0] = '\0';
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "cannot make the Installation ID: %s",
                 problem);
    return FALSE;
  }
  payload[0] = iid->version;
  volact_put_be (payload + 1, iid->key_group, 2);
  volact_put_be (payload + 3, iid->key_serial, 6);
  volact_put_be (payload + 9, iid->key_nonce, 4);
  memcpy (payload + 13, iid->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (payload + 29, iid->fingerprint, VOLACT_FINGERPRINT_SIZE);
  encode_groups (&iid_format, payload, out);
  return TRUE;
}

gboolean
volact_installation_id_decode (const char *text, VolactInstallationId *out, GError **error)
{
  guint8 payload[VOLACT_IID_PAYLOAD_SIZE];
  VolactInstallationId iid;
  const char *problem;

  if (!decode_groups (&iid_format, text, payload, error))
    return FALSE;
  iid.version = payload[0];
  iid.key_group = (guint16) volact_get_be (payload + 1, 2);
  iid.key_serial = volact_get_be (payload + 3, 6);
  iid.key_nonce = (guint32) volact_get_be (payload + 9, 4);
  memcpy (iid.host_id, payload + 13, VOLACT_HOST_ID_SIZE);
  memcpy (iid.fingerprint, payload + 29, VOLACT_FINGERPRINT_SIZE);
  problem = volact_installation_id_problem (&iid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the Installation ID is not a version-%u volact Installation ID (%s)",
                 VOLACT_ID_VERSION, problem);
    return FALSE;
  }
  if (out != NULL)
    *out = iid;
  return TRUE;
}

/* ---- Confirmation ID --------------------------------------------------------------------- */

const char *
volact_confirmation_id_problem (const VolactConfirmationId *cid)
{
  if (cid->version != VOLACT_ID_VERSION)
    return "unsupported version";
  if (cid->activation_number == 0)
    return "activation number 0";
  return NULL;
}

gboolean
volact_confirmation_id_encode (const VolactConfirmationId *cid, char out[VOLACT_CID_TEXT_SIZE],
                               GError **error)
{
  guint8 payload[VOLACT_CID_PAYLOAD_SIZE];
  const char *problem = volact_confirmation_id_problem (cid);

  out[0] = '\0';
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "cannot make the Confirmation ID: %s",
                 problem);
    return FALSE;
  }
  payload[0] = cid->version;
  volact_put_be (payload + 1, cid->issue_day, 2);
  payload[3] = cid->activation_number;
  memcpy (payload + 4, cid->signature, VOLACT_SIGNATURE_SIZE);
  encode_groups (&cid_format, payload, out);
  return TRUE;
}

gboolean
volact_confirmation_id_decode (const char *text, VolactConfirmationId *out, GError **error)
{
  guint8 payload[VOLACT_CID_PAYLOAD_SIZE];
  VolactConfirmationId cid;
  const char *problem;

  if (!decode_groups (&cid_format, text, payload, error))
    return FALSE;
  cid.version = payload[0];
  cid.issue_day = (guint16) volact_get_be (payload + 1, 2);
  cid.activation_number = payload[3];
  memcpy (cid.signature, payload + 4, VOLACT_SIGNATURE_SIZE);
  problem = volact_confirmation_id_problem (&cid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the Confirmation ID is not a version-%u volact Confirmation ID (%s)",
                 VOLACT_ID_VERSION, problem);
    return FALSE;
  }
  if (out != NULL)
    *out = cid;
  return TRUE;
}

/* ---- Issue day and certificate body ------------------------------------------------------ */

/* 2020-01-01T00:00:00Z */
#define ISSUE_DAY_EPOCH G_GINT64_CONSTANT (1577836800)

guint16
volact_activation_issue_day_from_unix (gint64 unix_seconds)
{
  gint64 days;

  if (unix_seconds < ISSUE_DAY_EPOCH)
    return 0;
  days = (unix_seconds - ISSUE_DAY_EPOCH) / 86400;
  return (guint16) MIN (days, (gint64) G_MAXUINT16);
}

guint16
volact_activation_issue_day (GDateTime *when)
{
  return volact_activation_issue_day_from_unix (g_date_time_to_unix (when));
}

void
volact_installation_id_cert_body (const VolactInstallationId *iid, guint16 issue_day,
                                  guint8 activation_number, VolactHostCertBody *body)
{
  memset (body, 0, sizeof *body);
  body->version = VOLACT_HOST_CERT_VERSION;
  body->key_group = iid->key_group;
  body->key_serial = iid->key_serial;
  memcpy (body->host_id, iid->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (body->fingerprint, iid->fingerprint, VOLACT_FINGERPRINT_SIZE);
  body->issue_day = issue_day;
  body->activation_number = activation_number;
}
