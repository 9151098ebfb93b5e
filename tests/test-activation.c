/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host activation: fingerprint, identity, certificate, Installation and Confirmation IDs. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "authority-sign.h"
#include "testutil.h"
#include "volact-activation.h"
#include "volact-crypto.h"
#include "volact-error.h"

#define N_SAMPLE_IDS 6

/* Two authorities and three hosts, made once for the whole program. */
typedef struct {
  EVP_PKEY *authority;
  EVP_PKEY *other_authority;
  EVP_PKEY *host[3];
  guint8 host_id[3][VOLACT_HOST_ID_SIZE];
} Keys;

static Keys keys;

static GRand *
test_rand (void)
{
  /* Fixed by default so failures reproduce; VOLACT_TEST_SEED overrides. */
  const char *env = g_getenv ("VOLACT_TEST_SEED");
  guint32 seed = env ? (guint32) g_ascii_strtoull (env, NULL, 10) : 0x61637431u;
  return g_rand_new_with_seed (seed);
}

static void
random_bytes (GRand *rand, guint8 *out, gsize len)
{
  for (gsize i = 0; i < len; i++)
    out[i] = (guint8) g_rand_int_range (rand, 0, 256);
}

static VolactInstallationId
random_iid (GRand *rand)
{
  VolactInstallationId iid;
  iid.version = VOLACT_ID_VERSION;
  iid.key_group = (guint16) g_rand_int_range (rand, VOLACT_KEY_GROUP_MIN, VOLACT_KEY_GROUP_MAX + 1);
  iid.key_serial
      = (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand)) & VOLACT_KEY_SERIAL_MAX;
  iid.key_nonce = g_rand_int (rand);
  random_bytes (rand, iid.host_id, sizeof iid.host_id);
  random_bytes (rand, iid.fingerprint, sizeof iid.fingerprint);
  return iid;
}

static VolactConfirmationId
random_cid (GRand *rand)
{
  VolactConfirmationId cid;
  cid.version = VOLACT_ID_VERSION;
  cid.issue_day = (guint16) g_rand_int_range (rand, 0, 65536);
  cid.activation_number = (guint8) g_rand_int_range (rand, 1, 256);
  random_bytes (rand, cid.signature, sizeof cid.signature);
  return cid;
}

static void
assert_same_iid (const VolactInstallationId *a, const VolactInstallationId *b)
{
  assert_int_equal (a->version, b->version);
  assert_int_equal (a->key_group, b->key_group);
  assert_true (a->key_serial == b->key_serial);
  assert_int_equal (a->key_nonce, b->key_nonce);
  assert_memory_equal (a->host_id, b->host_id, VOLACT_HOST_ID_SIZE);
  assert_memory_equal (a->fingerprint, b->fingerprint, VOLACT_FINGERPRINT_SIZE);
}

static void
assert_same_cid (const VolactConfirmationId *a, const VolactConfirmationId *b)
{
  assert_int_equal (a->version, b->version);
  assert_int_equal (a->issue_day, b->issue_day);
  assert_int_equal (a->activation_number, b->activation_number);
  assert_memory_equal (a->signature, b->signature, VOLACT_SIGNATURE_SIZE);
}

/* TEXT has NGROUPS groups of 6 digits separated by '-', the last one LAST digits long. */
static void
assert_shape (const char *text, gsize ngroups, gsize last)
{
  g_auto (GStrv) groups = g_strsplit (text, "-", -1);
  assert_int_equal (g_strv_length (groups), ngroups);
  for (gsize g = 0; g < ngroups; g++) {
    assert_int_equal (strlen (groups[g]), g + 1 == ngroups ? last : 6);
    for (const char *p = groups[g]; *p; p++)
      assert_true (g_ascii_isdigit (*p));
  }
}

/* Decoding must fail with CODE and a message containing WANT (if not NULL). */
static void
assert_iid_error (const char *text, int code, const char *want)
{
  g_autoptr (GError) error = NULL;
  VolactInstallationId iid = { 0 };

  if (volact_installation_id_decode (text, &iid, &error))
    fail_msg ("Installation ID \"%s\" was accepted", text ? text : "(null)");
  assert_true (error != NULL && error->domain == VOLACT_ERROR);
  if (error->code != code)
    fail_msg ("Installation ID \"%s\": code 0x%08X, want 0x%08X (%s)", text ? text : "(null)",
              (guint32) error->code, (guint32) code, error->message);
  if (want != NULL && strstr (error->message, want) == NULL)
    fail_msg ("message \"%s\" lacks \"%s\"", error->message, want);
  assert_int_equal (iid.version, 0); /* untouched */
}

static void
assert_cid_error (const char *text, int code, const char *want)
{
  g_autoptr (GError) error = NULL;
  VolactConfirmationId cid = { 0 };

  if (volact_confirmation_id_decode (text, &cid, &error))
    fail_msg ("Confirmation ID \"%s\" was accepted", text ? text : "(null)");
  assert_true (error != NULL && error->domain == VOLACT_ERROR);
  if (error->code != code)
    fail_msg ("Confirmation ID \"%s\": code 0x%08X, want 0x%08X (%s)", text ? text : "(null)",
              (guint32) error->code, (guint32) code, error->message);
  if (want != NULL && strstr (error->message, want) == NULL)
    fail_msg ("message \"%s\" lacks \"%s\"", error->message, want);
  assert_int_equal (cid.version, 0);
}

/* ---- Digit groups ------------------------------------------------------------------------ */

static gsize
digits_of_max (gsize bytes)
{
  BIGNUM *bn = BN_new ();
  char *dec;
  gsize n;

  assert_non_null (bn);
  assert_true (BN_set_word (bn, 1));
  assert_true (BN_lshift (bn, bn, (int) (8 * bytes)));
  assert_true (BN_sub_word (bn, 1));
  dec = BN_bn2dec (bn);
  n = strlen (dec);
  OPENSSL_free (dec);
  BN_free (bn);
  return n;
}

static void
test_digit_counts (void **state)
{
  VolactInstallationId iid = { VOLACT_ID_VERSION, 1, 1, 1, { 0 }, { 0 } };
  VolactConfirmationId cid = { VOLACT_ID_VERSION, 1, 1, { 0 } };
  char itext[VOLACT_IID_TEXT_SIZE];
  char ctext[VOLACT_CID_TEXT_SIZE];

  /* The fixed lengths are the digits of 256^n - 1, as the spec says. */
  assert_int_equal (digits_of_max (VOLACT_IID_PAYLOAD_SIZE), VOLACT_IID_DIGITS);
  assert_int_equal (digits_of_max (VOLACT_CID_PAYLOAD_SIZE), VOLACT_CID_DIGITS);
  assert_int_equal (VOLACT_IID_DIGITS, 94);
  assert_int_equal (VOLACT_CID_DIGITS, 164);
  assert_int_equal (digits_of_max (VOLACT_SIGNATURE_SIZE), 155);
  assert_int_equal (VOLACT_IID_GROUPS, 19);
  assert_int_equal (VOLACT_CID_GROUPS, 33);

  assert_true (volact_installation_id_encode (&iid, itext, NULL));
  assert_int_equal (strlen (itext), VOLACT_IID_TEXT_SIZE - 1);
  assert_int_equal (strlen (itext), 131);
  assert_shape (itext, VOLACT_IID_GROUPS, 5);
  assert_true (volact_confirmation_id_encode (&cid, ctext, NULL));
  assert_int_equal (strlen (ctext), VOLACT_CID_TEXT_SIZE - 1);
  assert_int_equal (strlen (ctext), 229);
  assert_shape (ctext, VOLACT_CID_GROUPS, 5);
}

/* Known answer: payload 01 0001 000000000001 00000001 00.. 00.. is a fixed number. */
static void
test_known_answer (void **state)
{
  VolactInstallationId iid = { VOLACT_ID_VERSION, 1, 1, 1, { 0 }, { 0 } };
  char text[VOLACT_IID_TEXT_SIZE];
  g_autoptr (GString) digits = g_string_new (NULL);
  BIGNUM *bn = NULL;
  char *dec;
  guint8 payload[VOLACT_IID_PAYLOAD_SIZE] = { 0 };
  g_auto (GStrv) groups = NULL;

  payload[0] = 1;
  payload[2] = 1;
  payload[8] = 1;
  payload[12] = 1;
  bn = BN_bin2bn (payload, sizeof payload, NULL);
  dec = BN_bn2dec (bn);
  for (gsize i = strlen (dec); i < VOLACT_IID_DIGITS; i++)
    g_string_append_c (digits, '0');
  g_string_append (digits, dec);
  OPENSSL_free (dec);
  BN_free (bn);

  assert_true (volact_installation_id_encode (&iid, text, NULL));
  groups = g_strsplit (text, "-", -1);
  for (guint g = 0; groups[g] != NULL; g++) {
    gsize len = strlen (groups[g]) - 1;
    /* The data digits are the decimal payload, in order... */
    assert_memory_equal (groups[g], digits->str + 5 * g, len);
    /* ...and the check digit is Damm's with the interim starting at the group number. */
    assert_int_equal (groups[g][len] - '0', volact_id_check_digit (g + 1, groups[g], len));
  }
  /* Damm's published example: 572 -> 4 with interim 0 (group 10). */
  assert_int_equal (volact_id_check_digit (10, "572", 3), 4);
  assert_int_equal (volact_id_check_digit (20, "5724", 4), 0);
}

/* Runs Damm over TYPED (data + check) from START; 0 means it checks. */
static guint
damm_verify (guint group_number, const char *typed, gsize len)
{
  /* check_digit(data || c) is the interim after c: 0 exactly when c is right. */
  return volact_id_check_digit (group_number, typed, len);
}

/* Every single substitution and every neighbour swap in every 5- and 4-digit
 * group, for every interim start, is caught: the property the spec claims. */
static void
test_check_digit_exhaustive (void **state)
{
  for (guint start = 1; start <= 10; start++) {
    for (gsize len = 4; len <= 5; len++) {
      guint limit = len == 5 ? 100000 : 10000;
      for (guint v = 0; v < limit; v++) {
        char typed[7];
        guint x = v;
        for (gsize i = len; i > 0; i--) {
          typed[i - 1] = (char) ('0' + x % 10);
          x /= 10;
        }
        typed[len] = (char) ('0' + volact_id_check_digit (start, typed, len));
        assert_int_equal (damm_verify (start, typed, len + 1), 0);
        for (gsize i = 0; i <= len; i++) {
          char orig = typed[i];
          for (char d = '0'; d <= '9'; d++) {
            if (d == orig)
              continue;
            typed[i] = d;
            if (damm_verify (start, typed, len + 1) == 0)
              fail_msg ("substitution not caught: start %u pos %zu", start, i);
          }
          typed[i] = orig;
        }
        for (gsize i = 0; i < len; i++) {
          char a = typed[i], b = typed[i + 1];
          if (a == b)
            continue;
          typed[i] = b;
          typed[i + 1] = a;
          if (damm_verify (start, typed, len + 1) == 0)
            fail_msg ("swap not caught: start %u pos %zu", start, i);
          typed[i] = a;
          typed[i + 1] = b;
        }
      }
    }
  }
}

static void
test_iid_round_trip (void **state)
{
  g_autoptr (GRand) rand = test_rand ();

  for (int n = 0; n < 500; n++) {
    VolactInstallationId iid = random_iid (rand);
    VolactInstallationId back = { 0 };
    char text[VOLACT_IID_TEXT_SIZE];
    g_autoptr (GError) error = NULL;
    g_autofree char *spaced = NULL;
    g_autofree char *bare = NULL;

    assert_true (volact_installation_id_encode (&iid, text, &error));
    assert_null (error);
    assert_shape (text, VOLACT_IID_GROUPS, 5);
    assert_true (volact_installation_id_decode (text, &back, &error));
    assert_same_iid (&iid, &back);

    /* Spaces instead of dashes, nothing at all, padding and line breaks. */
    spaced = g_strdelimit (g_strdup (text), "-", ' ');
    memset (&back, 0, sizeof back);
    assert_true (volact_installation_id_decode (spaced, &back, NULL));
    assert_same_iid (&iid, &back);
    {
      GString *s = g_string_new (NULL);
      for (const char *p = text; *p; p++)
        if (*p != '-')
          g_string_append_c (s, *p);
      bare = g_string_free (s, FALSE);
    }
    memset (&back, 0, sizeof back);
    assert_true (volact_installation_id_decode (bare, &back, NULL));
    assert_same_iid (&iid, &back);
    if (n == 0) {
      g_autofree char *padded = g_strdup_printf ("  %s\n", text);
      g_autofree char *mixed = g_strdup (text);
      mixed[6] = ' ';
      mixed[13] = '\t';
      assert_true (volact_installation_id_decode (padded, NULL, NULL));
      assert_true (volact_installation_id_decode (mixed, NULL, NULL));
    }
  }
}

static void
test_cid_round_trip (void **state)
{
  g_autoptr (GRand) rand = test_rand ();

  for (int n = 0; n < 500; n++) {
    VolactConfirmationId cid = random_cid (rand);
    VolactConfirmationId back = { 0 };
    char text[VOLACT_CID_TEXT_SIZE];
    g_autoptr (GError) error = NULL;
    g_autofree char *spaced = NULL;

    assert_true (volact_confirmation_id_encode (&cid, text, &error));
    assert_shape (text, VOLACT_CID_GROUPS, 5);
    assert_true (volact_confirmation_id_decode (text, &back, &error));
    assert_null (error);
    assert_same_cid (&cid, &back);
    spaced = g_strdelimit (g_strdup (text), "-", ' ');
    memset (&back, 0, sizeof back);
    assert_true (volact_confirmation_id_decode (spaced, &back, NULL));
    assert_same_cid (&cid, &back);
  }
}

static void
test_round_trip_edges (void **state)
{
  VolactInstallationId lo = { VOLACT_ID_VERSION, VOLACT_KEY_GROUP_MIN, 0, 0, { 0 }, { 0 } };
  VolactInstallationId hi = {
    VOLACT_ID_VERSION, VOLACT_KEY_GROUP_MAX, VOLACT_KEY_SERIAL_MAX, G_MAXUINT32, { 0 }, { 0 }
  };
  VolactConfirmationId clo = { VOLACT_ID_VERSION, 0, 1, { 0 } };
  VolactConfirmationId chi = { VOLACT_ID_VERSION, G_MAXUINT16, 255, { 0 } };
  VolactInstallationId iid_back;
  VolactConfirmationId cid_back;
  char itext[VOLACT_IID_TEXT_SIZE];
  char ctext[VOLACT_CID_TEXT_SIZE];

  memset (hi.host_id, 0xFF, sizeof hi.host_id);
  memset (hi.fingerprint, 0xFF, sizeof hi.fingerprint);
  memset (chi.signature, 0xFF, sizeof chi.signature);

  assert_true (volact_installation_id_encode (&lo, itext, NULL));
  assert_true (volact_installation_id_decode (itext, &iid_back, NULL));
  assert_same_iid (&lo, &iid_back);
  assert_true (volact_installation_id_encode (&hi, itext, NULL));
  assert_true (volact_installation_id_decode (itext, &iid_back, NULL));
  assert_same_iid (&hi, &iid_back);
  assert_true (volact_confirmation_id_encode (&clo, ctext, NULL));
  assert_true (volact_confirmation_id_decode (ctext, &cid_back, NULL));
  assert_same_cid (&clo, &cid_back);
  assert_true (volact_confirmation_id_encode (&chi, ctext, NULL));
  assert_true (volact_confirmation_id_decode (ctext, &cid_back, NULL));
  assert_same_cid (&chi, &cid_back);
}

static void
test_encode_refuses (void **state)
{
  VolactInstallationId iid = { VOLACT_ID_VERSION, 1, 1, 1, { 0 }, { 0 } };
  VolactConfirmationId cid = { VOLACT_ID_VERSION, 1, 1, { 0 } };
  char itext[VOLACT_IID_TEXT_SIZE];
  char ctext[VOLACT_CID_TEXT_SIZE];
  GError *error = NULL;

  iid.key_group = 0;
  assert_false (volact_installation_id_encode (&iid, itext, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT));
  assert_string_equal (itext, "");
  g_clear_error (&error);
  iid.key_group = 1024;
  assert_false (volact_installation_id_encode (&iid, itext, NULL));
  iid.key_group = 1;
  iid.key_serial = VOLACT_KEY_SERIAL_MAX + 1;
  assert_false (volact_installation_id_encode (&iid, itext, NULL));
  iid.key_serial = 1;
  iid.version = 2;
  assert_false (volact_installation_id_encode (&iid, itext, NULL));

  cid.activation_number = 0;
  assert_false (volact_confirmation_id_encode (&cid, ctext, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT));
  g_clear_error (&error);
  cid.activation_number = 1;
  cid.version = 0;
  assert_false (volact_confirmation_id_encode (&cid, ctext, NULL));
}

/* The typed group (1-based) holding character index I of the dashed text. */
static guint
group_of (gsize i)
{
  return (guint) (i / 7) + 1;
}

/* Every other digit in every position of TEXT must be reported as its group. */
static void
check_substitutions (const char *text, gboolean iid)
{
  g_autofree char *copy = g_strdup (text);
  const char *what = iid ? "Installation ID" : "Confirmation ID";

  for (gsize i = 0; copy[i]; i++) {
    char orig = copy[i];
    g_autofree char *want = NULL;
    if (orig == '-')
      continue;
    want = g_strdup_printf ("group %u of the %s is mistyped", group_of (i), what);
    for (char d = '0'; d <= '9'; d++) {
      if (d == orig)
        continue;
      copy[i] = d;
      if (iid)
        assert_iid_error (copy, VOLACT_E_ID_GROUP, want);
      else
        assert_cid_error (copy, VOLACT_E_ID_GROUP, want);
    }
    copy[i] = orig;
  }
}

/* Every swap of two different neighbouring digits inside a group (check digit included). */
static void
check_swaps (const char *text, gboolean iid)
{
  g_autofree char *copy = g_strdup (text);
  const char *what = iid ? "Installation ID" : "Confirmation ID";
  guint swaps = 0;

  for (gsize i = 0; copy[i] && copy[i + 1]; i++) {
    char a = copy[i], b = copy[i + 1];
    g_autofree char *want = NULL;
    if (a == '-' || b == '-' || a == b)
      continue;
    want = g_strdup_printf ("group %u of the %s is mistyped", group_of (i), what);
    copy[i] = b;
    copy[i + 1] = a;
    if (iid)
      assert_iid_error (copy, VOLACT_E_ID_GROUP, want);
    else
      assert_cid_error (copy, VOLACT_E_ID_GROUP, want);
    copy[i] = a;
    copy[i + 1] = b;
    swaps++;
  }
  assert_true (swaps > 0);
}

static void
test_detect_errors (void **state)
{
  g_autoptr (GRand) rand = test_rand ();

  for (int n = 0; n < N_SAMPLE_IDS; n++) {
    VolactInstallationId iid = random_iid (rand);
    VolactConfirmationId cid = random_cid (rand);
    char itext[VOLACT_IID_TEXT_SIZE];
    char ctext[VOLACT_CID_TEXT_SIZE];

    assert_true (volact_installation_id_encode (&iid, itext, NULL));
    assert_true (volact_confirmation_id_encode (&cid, ctext, NULL));
    check_substitutions (itext, TRUE);
    check_swaps (itext, TRUE);
    check_substitutions (ctext, FALSE);
    check_swaps (ctext, FALSE);
  }
}

/* Writes DIGITS (data digits only) as a typed ID with correct check digits. */
static char *
typed_from_digits (const char *digits)
{
  GString *s = g_string_new (NULL);
  gsize n = strlen (digits);

  for (gsize g = 0; g * 5 < n; g++) {
    gsize len = MIN ((gsize) 5, n - g * 5);
    if (g > 0)
      g_string_append_c (s, '-');
    g_string_append_len (s, digits + g * 5, (gssize) len);
    g_string_append_c (s,
                       (char) ('0' + volact_id_check_digit ((guint) g + 1, digits + g * 5, len)));
  }
  return g_string_free (s, FALSE);
}

static void
test_format_errors (void **state)
{
  VolactInstallationId iid = { VOLACT_ID_VERSION, 7, 42, 99, { 1 }, { 2 } };
  VolactConfirmationId cid = { VOLACT_ID_VERSION, 100, 1, { 3 } };
  char itext[VOLACT_IID_TEXT_SIZE];
  char ctext[VOLACT_CID_TEXT_SIZE];
  g_autofree char *nines = NULL;
  g_autofree char *typed = NULL;

  assert_true (volact_installation_id_encode (&iid, itext, NULL));
  assert_true (volact_confirmation_id_encode (&cid, ctext, NULL));

  assert_iid_error (NULL, VOLACT_E_ID_FORMAT, NULL);
  assert_iid_error ("", VOLACT_E_ID_FORMAT, "has 0 digits");
  assert_iid_error ("   ", VOLACT_E_ID_FORMAT, NULL);
  /* One digit short, one too many. */
  {
    g_autofree char *shorter = g_strndup (itext, strlen (itext) - 1);
    g_autofree char *longer = g_strconcat (itext, "0", NULL);
    g_autofree char *cshorter = g_strndup (ctext, strlen (ctext) - 1);
    g_autofree char *missing = g_strdup (itext);
    g_autofree char *bare = g_strdup (itext);
    g_autofree char *cbare = g_strdup (ctext);
    /* Typed in groups, the message names the group of the wrong size. */
    assert_iid_error (shorter, VOLACT_E_ID_FORMAT,
                      "group 19 of the Installation ID has 4 digits, "
                      "expected 5");
    assert_iid_error (longer, VOLACT_E_ID_FORMAT, "group 19");
    assert_cid_error (cshorter, VOLACT_E_ID_FORMAT, "group 33 of the Confirmation ID has 4");
    /* Without separators, the count. */
    for (char *p = bare; *p; p++)
      if (*p == '-')
        memmove (p, p + 1, strlen (p));
    bare[strlen (bare) - 1] = '\0';
    assert_iid_error (bare, VOLACT_E_ID_FORMAT, "has 112 digits; it needs 113");
    for (char *p = cbare; *p; p++)
      if (*p == '-')
        memmove (p, p + 1, strlen (p));
    strcat (cbare, "1");
    assert_cid_error (cbare, VOLACT_E_ID_FORMAT, "has 198 digits; it needs 197");
    /* A digit dropped from group 3: the typed groups show which. */
    memmove (missing + 15, missing + 16, strlen (missing + 16) + 1);
    assert_iid_error (missing, VOLACT_E_ID_FORMAT, "group 3 of the Installation ID has 5 digits");
  }
  /* Letters and other characters, by position. */
  {
    g_autofree char *letter = g_strdup (itext);
    g_autofree char *oh = g_strdup (ctext);
    g_autofree char *slash = g_strdup (itext);
    letter[3] = 'A';
    oh[0] = 'O';
    slash[6] = '/';
    assert_iid_error (letter, VOLACT_E_ID_FORMAT, "'A' at position 4");
    assert_cid_error (oh, VOLACT_E_ID_FORMAT, "'O' at position 1");
    assert_iid_error (slash, VOLACT_E_ID_FORMAT, "'/' at position 7");
  }
  /* The other kind of ID is the wrong length. */
  assert_iid_error (ctext, VOLACT_E_ID_FORMAT, NULL);
  assert_cid_error (itext, VOLACT_E_ID_FORMAT, NULL);

  /* All nines with valid checks: above 256^n - 1. */
  nines = g_strnfill (VOLACT_IID_DIGITS, '9');
  typed = typed_from_digits (nines);
  assert_iid_error (typed, VOLACT_E_ID_FORMAT, "out of range");
  g_free (nines);
  g_free (typed);
  nines = g_strnfill (VOLACT_CID_DIGITS, '9');
  typed = typed_from_digits (nines);
  assert_cid_error (typed, VOLACT_E_ID_FORMAT, "out of range");
  g_free (typed);
  /* All zeros: checks fine, but version 0 is not an ID volact made. */
  g_free (nines);
  nines = g_strnfill (VOLACT_IID_DIGITS, '0');
  typed = typed_from_digits (nines);
  assert_iid_error (typed, VOLACT_E_ID_FORMAT, "version");
  g_free (typed);
  g_free (nines);
  nines = g_strnfill (VOLACT_CID_DIGITS, '0');
  typed = typed_from_digits (nines);
  assert_cid_error (typed, VOLACT_E_ID_FORMAT, "version");
}

/* ---- Fingerprint ------------------------------------------------------------------------- */

static void
test_fingerprint_component_hash (void **state)
{
  guint8 got[2];
  guint8 want[SHA256_DIGEST_LENGTH];
  static const char msg[] = "volact-fp-v1"
                            "cpu\0Example CPU @ 3.00GHz";

  SHA256 ((const unsigned char *) msg, sizeof msg - 1, want);
  volact_fingerprint_component_hash ("cpu", "Example CPU @ 3.00GHz", got);
  assert_memory_equal (got, want, 2);

  /* NULL (unreadable) hashes like "". */
  {
    guint8 a[2], b[2];
    volact_fingerprint_component_hash ("mac", NULL, a);
    volact_fingerprint_component_hash ("mac", "", b);
    assert_memory_equal (a, b, 2);
  }
  assert_string_equal (volact_fingerprint_component_name (0), "machine-id");
  assert_string_equal (volact_fingerprint_component_name (4), "disk");
  assert_null (volact_fingerprint_component_name (5));
}

static void
test_fingerprint_override (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "fp.txt", NULL);
  const char *values[5] = { "0123456789abcdef0123456789abcdef", "Test CPU", "16",
                            "52:54:00:12:34:56", "0a1b2c3d-uuid" };
  const char *partial[5] = { "m", NULL, NULL, NULL, "d" };
  guint8 want[VOLACT_FINGERPRINT_SIZE], got[VOLACT_FINGERPRINT_SIZE];
  gboolean overridden = FALSE;
  g_autoptr (GError) error = NULL;

  test_write_file (path,
                   "# test fingerprint\n"
                   "\n"
                   "machine-id=0123456789abcdef0123456789abcdef\n"
                   "  cpu = Test CPU  \n"
                   "memory=16\r\n"
                   "mac=52:54:00:12:34:56\n"
                   "disk=0a1b2c3d-uuid",
                   -1);
  volact_fingerprint_from_values (values, want);
  assert_true (g_setenv (VOLACT_FINGERPRINT_ENV, path, TRUE));
  assert_true (volact_fingerprint_read (dir, got, &overridden, &error));
  assert_null (error);
  assert_true (overridden);
  assert_memory_equal (got, want, sizeof want);

  /* Missing components hash the empty string. */
  test_write_file (path, "machine-id=m\ndisk=d\n", -1);
  volact_fingerprint_from_values (partial, want);
  assert_true (volact_fingerprint_read_file (path, got, NULL));
  assert_memory_equal (got, want, sizeof want);

  /* Unknown, repeated, malformed lines; a missing file. */
  test_write_file (path, "machine-id=m\ngpu=x\n", -1);
  assert_false (volact_fingerprint_read (dir, got, &overridden, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  assert_non_null (strstr (error->message, ":2: unknown component \"gpu\""));
  assert_false (overridden);
  g_clear_error (&error);
  test_write_file (path, "cpu=a\ncpu=b\n", -1);
  assert_false (volact_fingerprint_read_file (path, got, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  assert_non_null (strstr (error->message, "twice"));
  g_clear_error (&error);
  test_write_file (path, "cpu\n", -1);
  assert_false (volact_fingerprint_read_file (path, got, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CONFIG));
  g_clear_error (&error);
  g_unlink (path);
  assert_false (volact_fingerprint_read (dir, got, NULL, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  g_clear_error (&error);

  /* Without the variable the hardware is read, and it is stable. */
  g_unsetenv (VOLACT_FINGERPRINT_ENV);
  {
    guint8 again[VOLACT_FINGERPRINT_SIZE];
    assert_true (volact_fingerprint_read (dir, got, &overridden, &error));
    assert_false (overridden);
    assert_true (volact_fingerprint_read (dir, again, NULL, &error));
    assert_memory_equal (got, again, sizeof got);
  }
  test_rmtree (dir);
}

static void
test_fingerprint_significant_change (void **state)
{
  const char *base[5] = { "machine", "cpu", "16", "00:11:22:33:44:55", "uuid" };
  guint8 a[VOLACT_FINGERPRINT_SIZE], b[VOLACT_FINGERPRINT_SIZE];

  volact_fingerprint_from_values (base, a);
  volact_fingerprint_from_values (base, b);
  assert_int_equal (volact_fingerprint_changed_components (a, b), 0);
  assert_false (volact_fingerprint_significant_change (a, b));

  /* Every subset of changed components: significant exactly from two on. */
  for (guint mask = 0; mask < 32; mask++) {
    const char *changed[5];
    guint n = 0;
    for (guint i = 0; i < 5; i++) {
      changed[i] = (mask & (1u << i)) ? "changed" : base[i];
      n += (mask >> i) & 1;
    }
    volact_fingerprint_from_values (changed, b);
    assert_int_equal (volact_fingerprint_changed_components (a, b), n);
    assert_int_equal (volact_fingerprint_significant_change (a, b), n >= 2);
  }
  /* A change in either byte of a component counts once. */
  memcpy (b, a, sizeof b);
  b[1] ^= 1;
  assert_int_equal (volact_fingerprint_changed_components (a, b), 1);
  b[0] ^= 1;
  assert_int_equal (volact_fingerprint_changed_components (a, b), 1);
  b[9] ^= 0x80;
  assert_int_equal (volact_fingerprint_changed_components (a, b), 2);
  assert_true (volact_fingerprint_significant_change (a, b));
}

/* ---- Identity and key ids ---------------------------------------------------------------- */

static void
test_identity_key (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "identity.key", NULL);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_PKEY) again = NULL;
  g_autoptr (EVP_PKEY) imported = NULL;
  g_autoptr (GError) error = NULL;
  guint8 id1[VOLACT_HOST_ID_SIZE], id2[VOLACT_HOST_ID_SIZE], id3[VOLACT_HOST_ID_SIZE];
  guint8 pub[VOLACT_PUBLIC_KEY_SIZE];
  guint8 digest[SHA256_DIGEST_LENGTH];
  gboolean created = FALSE;
  struct stat st;

  key = volact_identity_load_or_create (path, &created, &error);
  assert_non_null (key);
  assert_true (created);
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_true (volact_identity_host_id (key, id1, &error));

  /* The host id is the first 16 bytes of SHA-256 of the 33-byte compressed key. */
  assert_true (volact_identity_public_key (key, pub, &error));
  assert_true (pub[0] == 0x02 || pub[0] == 0x03);
  SHA256 (pub, sizeof pub, digest);
  assert_memory_equal (id1, digest, VOLACT_HOST_ID_SIZE);
  {
    /* Same bytes as OpenSSL's own compressed encoding. */
    unsigned char buf[65];
    size_t len = 0;
    g_autoptr (EVP_PKEY) dup = EVP_PKEY_dup (key);
    assert_true (EVP_PKEY_set_utf8_string_param (dup, "point-format", "compressed"));
    assert_true (EVP_PKEY_get_octet_string_param (dup, "pub", buf, sizeof buf, &len));
    assert_int_equal (len, VOLACT_PUBLIC_KEY_SIZE);
    assert_memory_equal (buf, pub, len);
  }

  /* Reloading gives the same key and host id; nothing is rewritten. */
  again = volact_identity_load_or_create (path, &created, &error);
  assert_non_null (again);
  assert_false (created);
  assert_true (volact_identity_host_id (again, id2, &error));
  assert_memory_equal (id1, id2, sizeof id1);
  assert_int_equal (EVP_PKEY_eq (key, again), 1);

  /* A client rebuilds the public key from the 33 bytes. */
  imported = volact_identity_import_public_key (pub, &error);
  assert_non_null (imported);
  assert_true (volact_identity_host_id (imported, id3, &error));
  assert_memory_equal (id1, id3, sizeof id1);
  assert_int_equal (EVP_PKEY_eq (key, imported), 1);
  pub[0] = 0x04;
  assert_null (volact_identity_import_public_key (pub, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CRYPTO));
  g_clear_error (&error);

  /* A key file that is not P-256 is refused. */
  {
    g_autofree char *p384_path = g_build_filename (dir, "p384.key", NULL);
    g_autoptr (EVP_PKEY) p384 = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
    assert_non_null (p384);
    assert_true (volact_crypto_write_private_key (p384_path, p384, NULL));
    assert_null (volact_identity_load_or_create (p384_path, NULL, &error));
    assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CRYPTO));
    g_clear_error (&error);
  }
  test_rmtree (dir);
}

static void
test_authority_key_id (void **state)
{
  guint8 id[VOLACT_AUTHORITY_KEY_ID_SIZE], from_cert[VOLACT_AUTHORITY_KEY_ID_SIZE];
  guint8 digest[SHA256_DIGEST_LENGTH];
  unsigned char *der = NULL;
  int der_len;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;

  /* First 4 bytes of SHA-256 of the DER SubjectPublicKeyInfo OpenSSL writes. */
  assert_true (volact_authority_key_id (keys.authority, id, &error));
  der_len = i2d_PUBKEY (keys.authority, &der);
  assert_int_equal (der_len, 91);
  SHA256 (der, (size_t) der_len, digest);
  OPENSSL_free (der);
  assert_memory_equal (id, digest, sizeof id);

  /* The certificate of the key gives the same id. */
  cert = volact_crypto_make_ca_certificate (keys.authority, "test authority", 30, &error);
  assert_non_null (cert);
  assert_true (volact_authority_key_id_from_cert (cert, from_cert, &error));
  assert_memory_equal (id, from_cert, sizeof id);

  /* So do the committed reference authority's key and certificate. */
  {
    g_autofree char *key_path = test_srcpath ("licenses/reference-authority.key");
    g_autofree char *pem_path = test_reference_trust ();
    g_autoptr (EVP_PKEY) ref_key = volact_crypto_load_private_key (key_path, &error);
    g_autoptr (X509) ref_cert = volact_crypto_load_certificate (pem_path, &error);
    assert_non_null (ref_key);
    assert_non_null (ref_cert);
    assert_true (volact_authority_key_id (ref_key, id, &error));
    assert_true (volact_authority_key_id_from_cert (ref_cert, from_cert, &error));
    assert_memory_equal (id, from_cert, sizeof id);
  }

  /* A different key, a different id. */
  assert_true (volact_authority_key_id (keys.other_authority, from_cert, &error));
  assert_memory_not_equal (id, from_cert, sizeof id);
}

/* ---- Certificate ------------------------------------------------------------------------- */

static VolactHostCertBody
sample_body (void)
{
  VolactHostCertBody body = { 0 };
  body.version = VOLACT_HOST_CERT_VERSION;
  body.key_group = 3;
  body.key_serial = G_GUINT64_CONSTANT (0x123456789ABC);
  memcpy (body.host_id, keys.host_id[0], VOLACT_HOST_ID_SIZE);
  for (guint i = 0; i < VOLACT_FINGERPRINT_SIZE; i++)
    body.fingerprint[i] = (guint8) (0xA0 + i);
  body.issue_day = 2200;
  body.activation_number = 1;
  return body;
}

static void
test_cert_round_trip (void **state)
{
  VolactHostCertBody body = sample_body ();
  VolactHostCert cert, back;
  guint8 bytes[VOLACT_HOST_CERT_SIZE];
  guint8 body_bytes[VOLACT_HOST_CERT_BODY_SIZE];
  guint8 key_id[VOLACT_AUTHORITY_KEY_ID_SIZE];
  g_autoptr (GError) error = NULL;

  memset (body.authority_key_id, 0xEE, sizeof body.authority_key_id); /* ignored by sign */
  assert_true (volact_host_cert_sign (&body, keys.authority, &cert, &error));
  assert_true (volact_authority_key_id (keys.authority, key_id, NULL));
  assert_memory_equal (cert.body.authority_key_id, key_id, sizeof key_id);
  assert_true (volact_host_cert_verify (&cert, keys.authority, &error));
  assert_null (error);

  /* The byte layout of the spec. */
  volact_host_cert_serialize (&cert, bytes);
  volact_host_cert_body_serialize (&cert.body, body_bytes);
  assert_memory_equal (bytes, body_bytes, sizeof body_bytes);
  assert_int_equal (bytes[0], 1);
  assert_memory_equal (bytes + 1, key_id, 4);
  assert_int_equal (bytes[5], 0x00);
  assert_int_equal (bytes[6], 0x03);
  {
    static const guint8 serial[6] = { 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC };
    assert_memory_equal (bytes + 7, serial, 6);
  }
  assert_memory_equal (bytes + 13, keys.host_id[0], 16);
  assert_memory_equal (bytes + 29, body.fingerprint, 10);
  assert_int_equal (bytes[39], 2200 >> 8);
  assert_int_equal (bytes[40], 2200 & 0xFF);
  assert_int_equal (bytes[41], 1);
  assert_memory_equal (bytes + 42, cert.signature, 64);

  assert_true (volact_host_cert_parse (bytes, sizeof bytes, &back, &error));
  assert_memory_equal (&back.body.authority_key_id, &cert.body.authority_key_id, 4);
  assert_int_equal (back.body.key_group, 3);
  assert_true (back.body.key_serial == body.key_serial);
  assert_int_equal (back.body.issue_day, 2200);
  assert_memory_equal (back.signature, cert.signature, 64);
  assert_true (volact_host_cert_verify (&back, keys.authority, &error));

  /* Strict length. */
  assert_false (volact_host_cert_parse (bytes, sizeof bytes - 1, &back, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_SIGNATURE));
  g_clear_error (&error);
  {
    guint8 longer[VOLACT_HOST_CERT_SIZE + 1] = { 0 };
    memcpy (longer, bytes, sizeof bytes);
    assert_false (volact_host_cert_parse (longer, sizeof longer, &back, NULL));
  }

  /* Another authority's key: the key id does not match. */
  assert_false (volact_host_cert_verify (&cert, keys.other_authority, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_SIGNATURE));
  assert_non_null (strstr (error->message, "not by the trusted authority"));
  g_clear_error (&error);

  /* Out-of-range bodies are not signed. */
  body.activation_number = 0;
  assert_false (volact_host_cert_sign (&body, keys.authority, &cert, NULL));
  body.activation_number = 1;
  body.key_group = 0;
  assert_false (volact_host_cert_sign (&body, keys.authority, &cert, NULL));
  body.key_group = 1;
  body.key_serial = VOLACT_KEY_SERIAL_MAX + 1;
  assert_false (volact_host_cert_sign (&body, keys.authority, &cert, NULL));
}

static void
test_cert_tamper (void **state)
{
  VolactHostCertBody body = sample_body ();
  VolactHostCert cert;
  guint8 bytes[VOLACT_HOST_CERT_SIZE];

  assert_true (volact_host_cert_sign (&body, keys.authority, &cert, NULL));
  volact_host_cert_serialize (&cert, bytes);

  /* Any changed bit in any byte: either parse or verify refuses it. */
  for (gsize i = 0; i < sizeof bytes; i++) {
    static const guint8 flips[] = { 0x01, 0x80, 0xFF };
    for (gsize f = 0; f < G_N_ELEMENTS (flips); f++) {
      guint8 copy[VOLACT_HOST_CERT_SIZE];
      VolactHostCert parsed;
      g_autoptr (GError) error = NULL;

      memcpy (copy, bytes, sizeof copy);
      copy[i] ^= flips[f];
      if (!volact_host_cert_parse (copy, sizeof copy, &parsed, &error)) {
        assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_SIGNATURE));
        continue;
      }
      if (volact_host_cert_verify (&parsed, keys.authority, &error))
        fail_msg ("byte %zu ^ 0x%02x still verifies", i, flips[f]);
      assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_SIGNATURE));
    }
  }
}

/* ---- Activation ------------------------------------------------------------------------ */

static VolactInstallationId
host_iid (guint host, guint64 serial)
{
  VolactHostKey key = { VOLACT_KEY_VERSION, 5, serial, 0xC0FFEE };
  guint8 fp[VOLACT_FINGERPRINT_SIZE];
  const char *values[5] = { "machine", "cpu", "16", "00:11:22:33:44:55", "disk" };
  VolactInstallationId iid;

  volact_fingerprint_from_values (values, fp);
  volact_installation_id_init (&iid, &key, keys.host_id[host], fp);
  return iid;
}

static void
assert_cid_refused (const VolactInstallationId *iid, const VolactConfirmationId *cid,
                    EVP_PKEY *trusted)
{
  g_autoptr (GError) error = NULL;
  VolactHostCert cert;

  assert_false (volact_activation_apply (iid, cid, trusted, &cert, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_CID_INVALID));
  assert_non_null (strstr (error->message, "not valid for this host"));
}

static void
test_confirm_apply (void **state)
{
  VolactInstallationId iid = host_iid (0, 77);
  VolactInstallationId decoded_iid, other;
  VolactConfirmationId cid, decoded_cid, bad;
  VolactHostCert authority_cert, cert;
  char itext[VOLACT_IID_TEXT_SIZE];
  char ctext[VOLACT_CID_TEXT_SIZE];
  g_autoptr (GError) error = NULL;
  guint16 today = volact_activation_issue_day_from_unix (1700000000);

  /* Host shows its IID; the authority decodes it, confirms; the host applies the CID. */
  assert_true (volact_installation_id_encode (&iid, itext, &error));
  assert_true (volact_installation_id_decode (itext, &decoded_iid, &error));
  assert_true (volact_activation_confirm (&decoded_iid, keys.authority, today, 3, &cid,
                                          &authority_cert, &error));
  assert_int_equal (cid.version, VOLACT_ID_VERSION);
  assert_int_equal (cid.issue_day, today);
  assert_int_equal (cid.activation_number, 3);
  assert_true (volact_confirmation_id_encode (&cid, ctext, &error));
  assert_true (volact_confirmation_id_decode (ctext, &decoded_cid, &error));
  assert_true (volact_activation_apply (&iid, &decoded_cid, keys.authority, &cert, &error));
  assert_null (error);

  /* The certificate both sides see is the same, and it verifies. */
  {
    guint8 a[VOLACT_HOST_CERT_SIZE], b[VOLACT_HOST_CERT_SIZE];
    volact_host_cert_serialize (&authority_cert, a);
    volact_host_cert_serialize (&cert, b);
    assert_memory_equal (a, b, sizeof a);
  }
  assert_true (volact_host_cert_verify (&cert, keys.authority, &error));
  assert_memory_equal (cert.body.host_id, keys.host_id[0], VOLACT_HOST_ID_SIZE);
  assert_memory_equal (cert.body.fingerprint, iid.fingerprint, VOLACT_FINGERPRINT_SIZE);
  assert_int_equal (cert.body.key_group, 5);
  assert_true (cert.body.key_serial == 77);
  assert_int_equal (cert.body.activation_number, 3);

  /* Another host. */
  other = host_iid (1, 77);
  assert_cid_refused (&other, &cid, keys.authority);
  /* Same host, another fingerprint (one component is enough). */
  other = iid;
  other.fingerprint[4] ^= 0x01;
  assert_cid_refused (&other, &cid, keys.authority);
  /* Same host, another key serial or group. */
  other = iid;
  other.key_serial = 78;
  assert_cid_refused (&other, &cid, keys.authority);
  other = iid;
  other.key_group = 6;
  assert_cid_refused (&other, &cid, keys.authority);
  /* Changed fields of the CID itself. */
  bad = cid;
  bad.issue_day++;
  assert_cid_refused (&iid, &bad, keys.authority);
  bad = cid;
  bad.activation_number = 4;
  assert_cid_refused (&iid, &bad, keys.authority);
  bad = cid;
  bad.signature[10] ^= 0x40;
  assert_cid_refused (&iid, &bad, keys.authority);
  /* A host that trusts another authority. */
  assert_cid_refused (&iid, &cid, keys.other_authority);
  /* A CID signed by another authority. */
  assert_true (
      volact_activation_confirm (&iid, keys.other_authority, today, 3, &bad, NULL, &error));
  assert_cid_refused (&iid, &bad, keys.authority);
  /* Zero activation number is never valid. */
  bad = cid;
  bad.activation_number = 0;
  assert_cid_refused (&iid, &bad, keys.authority);

  /* The key nonce is not certified: the authority checked it, the certificate
   * names the key by group and serial. */
  other = iid;
  other.key_nonce ^= 1;
  assert_true (volact_activation_apply (&other, &cid, keys.authority, &cert, &error));
}

static void
test_issue_day (void **state)
{
  g_autoptr (GDateTime) epoch = g_date_time_new_utc (2020, 1, 1, 0, 0, 0);
  g_autoptr (GDateTime) end_of_day = g_date_time_new_utc (2020, 1, 1, 23, 59, 59.5);
  g_autoptr (GDateTime) next = g_date_time_new_utc (2020, 1, 2, 0, 0, 0);
  g_autoptr (GDateTime) year = g_date_time_new_utc (2021, 1, 1, 12, 0, 0);
  g_autoptr (GDateTime) before = g_date_time_new_utc (2019, 12, 31, 23, 0, 0);
  g_autoptr (GTimeZone) tz = g_time_zone_new_offset (-5 * 3600);
  /* 2020-01-01 20:00 at -05:00 is 2020-01-02 01:00 UTC. */
  g_autoptr (GDateTime) offset = g_date_time_new (tz, 2020, 1, 1, 20, 0, 0);

  assert_int_equal (volact_activation_issue_day (epoch), 0);
  assert_int_equal (volact_activation_issue_day (end_of_day), 0);
  assert_int_equal (volact_activation_issue_day (next), 1);
  assert_int_equal (volact_activation_issue_day (year), 366); /* 2020 is a leap year */
  assert_int_equal (volact_activation_issue_day (before), 0);
  assert_int_equal (volact_activation_issue_day (offset), 1);
  assert_int_equal (volact_activation_issue_day_from_unix (1577836800), 0);
  assert_int_equal (volact_activation_issue_day_from_unix (G_MAXINT64), G_MAXUINT16);
}

/* ---- Setup ------------------------------------------------------------------------------- */

static int
setup (void **state)
{
  keys.authority = volact_crypto_generate_ec_key (NULL);
  keys.other_authority = volact_crypto_generate_ec_key (NULL);
  if (keys.authority == NULL || keys.other_authority == NULL)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (keys.host); i++) {
    keys.host[i] = volact_crypto_generate_ec_key (NULL);
    if (keys.host[i] == NULL || !volact_identity_host_id (keys.host[i], keys.host_id[i], NULL))
      return -1;
  }
  return 0;
}

static int
teardown (void **state)
{
  EVP_PKEY_free (keys.authority);
  EVP_PKEY_free (keys.other_authority);
  for (guint i = 0; i < G_N_ELEMENTS (keys.host); i++)
    EVP_PKEY_free (keys.host[i]);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_digit_counts),
    cmocka_unit_test (test_known_answer),
    cmocka_unit_test (test_check_digit_exhaustive),
    cmocka_unit_test (test_iid_round_trip),
    cmocka_unit_test (test_cid_round_trip),
    cmocka_unit_test (test_round_trip_edges),
    cmocka_unit_test (test_encode_refuses),
    cmocka_unit_test (test_detect_errors),
    cmocka_unit_test (test_format_errors),
    cmocka_unit_test (test_fingerprint_component_hash),
    cmocka_unit_test (test_fingerprint_override),
    cmocka_unit_test (test_fingerprint_significant_change),
    cmocka_unit_test (test_identity_key),
    cmocka_unit_test (test_authority_key_id),
    cmocka_unit_test (test_cert_round_trip),
    cmocka_unit_test (test_cert_tamper),
    cmocka_unit_test (test_confirm_apply),
    cmocka_unit_test (test_issue_day),
  };
  /* The fingerprint override must come from the tests, never from the caller. */
  g_unsetenv (VOLACT_FINGERPRINT_ENV);
  return cmocka_run_group_tests_name ("activation", tests, setup, teardown);
}
