/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host key codec: round trips, refusals, and exhaustive proof of error detection. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authority-sign.h"
#include "testutil.h"
#include "volact-error.h"
#include "volact-key.h"

#define CHECK_MESSAGE "check symbols do not match"
#define N_SAMPLE_KEYS 256

static const char alphabet[] = VOLACT_KEY_ALPHABET;

static GRand *
test_rand (void)
{
  /* Fixed by default so failures reproduce; VOLACT_TEST_SEED overrides. */
  const char *env = g_getenv ("VOLACT_TEST_SEED");
  guint32 seed = env ? (guint32) g_ascii_strtoull (env, NULL, 10) : 0x766F6C61u;
  return g_rand_new_with_seed (seed);
}

static VolactHostKey
random_key (GRand *rand)
{
  VolactHostKey key;
  key.version = VOLACT_KEY_VERSION;
  key.group = (guint) g_rand_int_range (rand, VOLACT_KEY_GROUP_MIN, VOLACT_KEY_GROUP_MAX + 1);
  key.serial = (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand)) & VOLACT_KEY_SERIAL_MAX;
  key.nonce = g_rand_int (rand);
  return key;
}

static void
assert_same_key (const VolactHostKey *a, const VolactHostKey *b)
{
  assert_int_equal (a->version, b->version);
  assert_int_equal (a->group, b->group);
  assert_true (a->serial == b->serial);
  assert_int_equal (a->nonce, b->nonce);
}

/* Decoding TEXT must fail with INVALID_KEY and a message containing WANT (if not NULL). */
static void
assert_invalid (const char *text, const char *want)
{
  g_autoptr (GError) error = NULL;
  VolactHostKey key = { 99, 99, 99, 99 };

  if (volact_key_decode (text, &key, &error)) {
    fail_msg ("key \"%s\" was accepted (group %u serial %" G_GUINT64_FORMAT ")", text, key.group,
              key.serial);
  }
  assert_non_null (error);
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  if (want != NULL && strstr (error->message, want) == NULL)
    fail_msg ("key \"%s\": message \"%s\" lacks \"%s\"", text ? text : "(null)", error->message,
              want);
  /* The output is untouched on failure. */
  assert_int_equal (key.version, 99);
  assert_int_equal (key.group, 99);
}

/* Encodes KEY, checks the text shape, decodes it back and compares. */
static void
round_trip (const VolactHostKey *key, char text[VOLACT_KEY_TEXT_SIZE])
{
  g_autoptr (GError) error = NULL;
  VolactHostKey back = { 0 };
  char again[VOLACT_KEY_TEXT_SIZE];

  if (!volact_key_encode (key, text, &error))
    fail_msg ("encode failed: %s", error->message);
  assert_int_equal (strlen (text), VOLACT_KEY_TEXT_SIZE - 1);
  for (guint i = 0; i < VOLACT_KEY_TEXT_SIZE - 1; i++) {
    if (i % 6 == 5)
      assert_int_equal (text[i], '-');
    else
      assert_non_null (strchr (alphabet, text[i]));
  }
  if (!volact_key_decode (text, &back, &error))
    fail_msg ("decode of %s failed: %s", text, error->message);
  assert_same_key (key, &back);
  assert_true (volact_key_normalize (text, again, &error));
  assert_string_equal (text, again);
}

/* The 25 symbols of a canonical key, without dashes. */
static void
strip_dashes (const char *text, char symbols[VOLACT_KEY_SYMBOLS + 1])
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    if (*p != '-')
      symbols[n++] = *p;
  g_assert (n == VOLACT_KEY_SYMBOLS);
  symbols[n] = '\0';
}

/* Puts the dashes back, to test the dashed form too. */
static void
add_dashes (const char *symbols, char text[VOLACT_KEY_TEXT_SIZE])
{
  char *p = text;
  for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++) {
    if (i > 0 && i % 5 == 0)
      *p++ = '-';
    *p++ = symbols[i];
  }
  *p = '\0';
}

static int
value_of (char c)
{
  const char *p = strchr (alphabet, c);
  g_assert (p != NULL && c != '\0');
  return (int) (p - alphabet);
}

/* ---------------------------------------------------------------------------------------- */

static void
test_alphabet (void **state)
{
  assert_int_equal (strlen (alphabet), 24);
  for (guint i = 0; i < 24; i++)
    for (guint j = i + 1; j < 24; j++)
      assert_true (alphabet[i] != alphabet[j]);
  for (const char *bad = "AEIOUL015SNZ-"; *bad; bad++)
    assert_null (strchr (alphabet, *bad));
}

/* Pinned vectors (also in docs/host-keys.md): keys already issued must keep
 * decoding the same way. Computed independently from the specification. */
static const struct {
  guint group;
  guint64 serial;
  guint32 nonce;
  const char *text;
} known_answers[] = {
  { 11, 1, 0x12345678u, "PVKPF-RV4JY-FCFF6-3HPRW-8QM8Y" },
  { 1, 0, 0, "2FK96-PWRD7-77RJ4-V4HYY-WHM48" },
  { 1023, VOLACT_KEY_SERIAL_MAX, G_MAXUINT32, "W8P7G-6T7D2-QFYG4-7HXDX-999RR" },
};

static void
test_known_answer (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_answers); i++) {
    g_autoptr (GError) error = NULL;
    VolactHostKey key = { VOLACT_KEY_VERSION, known_answers[i].group, known_answers[i].serial,
                          known_answers[i].nonce };
    VolactHostKey back = { 0 };
    char text[VOLACT_KEY_TEXT_SIZE];

    assert_true (volact_key_encode (&key, text, &error));
    assert_string_equal (text, known_answers[i].text);
    assert_true (volact_key_decode (known_answers[i].text, &back, &error));
    assert_same_key (&key, &back);
  }
}

static void
test_round_trip_random (void **state)
{
  g_autoptr (GRand) rand = test_rand ();
  char text[VOLACT_KEY_TEXT_SIZE];

  for (guint n = 0; n < 20000; n++) {
    VolactHostKey key = random_key (rand);
    round_trip (&key, text);
  }
}

static void
test_round_trip_edges (void **state)
{
  static const guint groups[] = { 1, 2, 11, 12, 13, 14, 21, 22, 23, 24, 511, 512, 1022, 1023 };
  static const guint64 serials[] = { 0,
                                     1,
                                     G_MAXUINT32,
                                     (guint64) G_MAXUINT32 + 1,
                                     VOLACT_KEY_SERIAL_MAX - 1,
                                     VOLACT_KEY_SERIAL_MAX };
  static const guint32 nonces[] = { 0, 1, 0x7FFFFFFFu, 0x80000000u, G_MAXUINT32 };
  char text[VOLACT_KEY_TEXT_SIZE];
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0;

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    for (guint s = 0; s < G_N_ELEMENTS (serials); s++)
      for (guint r = 0; r < G_N_ELEMENTS (nonces); r++) {
        VolactHostKey key = { VOLACT_KEY_VERSION, groups[g], serials[s], nonces[r] };
        round_trip (&key, text);
        /* Distinct fields give distinct keys. */
        assert_true (g_hash_table_add (seen, g_strdup (text)));
        n++;
      }
  assert_int_equal (g_hash_table_size (seen), n);
  g_hash_table_unref (seen);
}

static void
test_encode_refuses (void **state)
{
  static const VolactHostKey bad[] = {
    { VOLACT_KEY_VERSION, 0, 1, 1 },
    { VOLACT_KEY_VERSION, 1024, 1, 1 },
    { VOLACT_KEY_VERSION, G_MAXUINT, 1, 1 },
    { VOLACT_KEY_VERSION, 11, VOLACT_KEY_SERIAL_MAX + 1, 1 },
    { VOLACT_KEY_VERSION, 11, G_MAXUINT64, 1 },
    { 0, 11, 1, 1 },
    { 2, 11, 1, 1 },
    { 16, 11, 1, 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    char text[VOLACT_KEY_TEXT_SIZE] = "unchanged";
    assert_false (volact_key_encode (&bad[i], text, &error));
    assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
    assert_string_equal (text, "");
  }
  {
    g_autoptr (GError) error = NULL;
    char text[VOLACT_KEY_TEXT_SIZE];
    VolactHostKey key = { VOLACT_KEY_VERSION, 0, 1, 1 };
    assert_false (volact_key_encode (&key, text, &error));
    assert_non_null (strstr (error->message, "key group 0 is out of range (1..1023)"));
  }
}

static void
test_generate (void **state)
{
  g_autoptr (GError) error = NULL;
  VolactHostKey key, prev = { 0 };
  char text[VOLACT_KEY_TEXT_SIZE];
  guint same_nonce = 0;

  for (guint i = 0; i < 16; i++) {
    assert_true (volact_key_generate (12, 42, &key, &error));
    assert_int_equal (key.version, VOLACT_KEY_VERSION);
    assert_int_equal (key.group, 12);
    assert_true (key.serial == 42);
    round_trip (&key, text);
    if (i > 0 && key.nonce == prev.nonce)
      same_nonce++;
    prev = key;
  }
  /* 15 collisions of 32 random bits in a row would mean no randomness at all. */
  assert_true (same_nonce < 15);

  assert_false (volact_key_generate (0, 1, &key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_false (volact_key_generate (1024, 1, &key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_false (volact_key_generate (1, VOLACT_KEY_SERIAL_MAX + 1, &key, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
  g_clear_error (&error);
  assert_true (volact_key_generate (1023, VOLACT_KEY_SERIAL_MAX, &key, &error));
  round_trip (&key, text);
}

static void
test_accepted_forms (void **state)
{
  g_autoptr (GRand) rand = test_rand ();

  for (guint n = 0; n < 200; n++) {
    VolactHostKey key = random_key (rand);
    char text[VOLACT_KEY_TEXT_SIZE], symbols[VOLACT_KEY_SYMBOLS + 1];
    char norm[VOLACT_KEY_TEXT_SIZE];
    g_autofree char *lower = NULL, *lower_nodash = NULL, *spaced = NULL, *mixed = NULL;
    const char *forms[6];

    round_trip (&key, text);
    strip_dashes (text, symbols);
    lower = g_ascii_strdown (text, -1);
    lower_nodash = g_ascii_strdown (symbols, -1);
    spaced = g_strdup_printf (" \t%s \r\n", text);
    mixed = g_strdup (text);
    for (char *p = mixed; *p; p++)
      if ((p - mixed) % 2 == 0)
        *p = g_ascii_tolower (*p);
    forms[0] = text;
    forms[1] = symbols;
    forms[2] = lower;
    forms[3] = lower_nodash;
    forms[4] = spaced;
    forms[5] = mixed;
    for (guint f = 0; f < G_N_ELEMENTS (forms); f++) {
      g_autoptr (GError) error = NULL;
      VolactHostKey back = { 0 };
      if (!volact_key_decode (forms[f], &back, &error))
        fail_msg ("form \"%s\" refused: %s", forms[f], error->message);
      assert_same_key (&key, &back);
      assert_true (volact_key_normalize (forms[f], norm, &error));
      assert_string_equal (norm, text);
    }
  }
}

static void
test_malformed (void **state)
{
  VolactHostKey key = { VOLACT_KEY_VERSION, 21, 123456789, 0xCAFEF00Du };
  char good[VOLACT_KEY_TEXT_SIZE], symbols[VOLACT_KEY_SYMBOLS + 1];
  g_autoptr (GError) error = NULL;

  assert_true (volact_key_encode (&key, good, &error));
  strip_dashes (good, symbols);

  assert_invalid (NULL, "no host key");
  assert_invalid ("", "empty");
  assert_invalid (" \t\n ", "empty");
  assert_invalid ("-", "has 0 symbols");
  assert_invalid ("----", "has 0 symbols");

  /* Characters outside the alphabet, named with their position. */
  for (const char *bad = "A015EIOLSUZNa#. _"; *bad; bad++) {
    char text[VOLACT_KEY_TEXT_SIZE];
    g_autofree char *want = NULL;
    strcpy (text, good);
    text[6] = *bad; /* character 7, in the second group */
    want = g_strdup_printf ("character 7 '%c' is not in the host key alphabet", *bad);
    assert_invalid (text, want);
  }
  {
    g_autofree char *t = g_strdup_printf ("%.10s\xC3\x84%s", good, good + 11); /* U+00C4 */
    assert_invalid (t, "character 11 '\xC3\x84' is not in the host key alphabet");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%.5s\t%s", good, good + 6);
    assert_invalid (t, "character 6 U+0009 is not");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%.5s'%s", good, good + 6);
    assert_invalid (t, "character 6 U+0027 is not");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%.3s\xFF%s", good, good + 4);
    assert_invalid (t, "not valid UTF-8");
    g_clear_pointer (&t, g_free);
    /* Leading whitespace does not shift the positions. */
    t = g_strdup_printf ("   %.2s0%s", good, good + 3);
    assert_invalid (t, "character 3 '0'");
    g_clear_pointer (&t, g_free);
  }
  /* Spaces instead of dashes, or inside. */
  {
    g_autofree char *t = g_strdup (good);
    g_strdelimit (t, "-", ' ');
    assert_invalid (t, "character 6 ' ' is not in the host key alphabet");
  }

  /* Wrong number of symbols. */
  {
    g_autofree char *t = g_strndup (good, strlen (good) - 1);
    assert_invalid (t, "has 24 symbols; it needs 25");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%sB", good);
    assert_invalid (t, "has 26 symbols");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%s-%.5s", good, good);
    assert_invalid (t, "has 30 symbols");
    g_clear_pointer (&t, g_free);
    t = g_strndup (symbols, 20);
    assert_invalid (t, "has 20 symbols");
    g_clear_pointer (&t, g_free);
    assert_invalid ("B", "has 1 symbol;");
  }

  /* Dashes in the wrong places. */
  {
    g_autofree char *t = NULL;
    char moved[VOLACT_KEY_TEXT_SIZE];

    strcpy (moved, good); /* XXXX-XXXXXX-... */
    moved[5] = moved[4];
    moved[4] = '-';
    assert_invalid (moved, "character 5 '-' of the host key is misplaced");
    t = g_strdup_printf ("-%s", symbols);
    assert_invalid (t, "character 1 '-' of the host key is misplaced");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%s-", good);
    assert_invalid (t, "character 30 '-' of the host key is misplaced");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("-%s", good);
    assert_invalid (t, "character 1 '-' of the host key is misplaced");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%.5s--%s", good, good + 6);
    assert_invalid (t, "character 7 '-' of the host key is misplaced");
    g_clear_pointer (&t, g_free);
    /* Only some dashes. */
    t = g_strdup_printf ("%.5s-%s", symbols, symbols + 5);
    assert_invalid (t, "character 12 of the host key should be a dash");
    g_clear_pointer (&t, g_free);
    t = g_strdup_printf ("%.23s%s", good, good + 24); /* the last dash dropped */
    assert_invalid (t, "character 24 of the host key should be a dash");
    g_clear_pointer (&t, g_free);
    /* Dashes every four. */
    t = g_strdup_printf ("%.4s-%.4s-%.4s-%.4s-%.4s-%.5s", symbols, symbols + 4, symbols + 8,
                         symbols + 12, symbols + 16, symbols + 20);
    assert_invalid (t, "character 5 '-' of the host key is misplaced");
  }

  /* Well-formed text that passes the check but is no volact key. */
  {
    guint8 data[VOLACT_KEY_DATA_SYMBOLS], check[2];
    char sym[VOLACT_KEY_SYMBOLS + 1];
    for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
      data[i] = 23;
    volact_key_check_values (data, check);
    for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
      sym[i] = alphabet[data[i]];
    sym[23] = alphabet[check[0]];
    sym[24] = alphabet[check[1]];
    sym[25] = '\0';
    assert_invalid (sym, "payload is out of range");
    assert_invalid ("BBBBB-BBBBB-BBBBB-BBBBB-BBBBB", "is not");
  }
}

/* Every decode of a check-valid string either fails cleanly or yields a key
 * that encodes back to exactly that string (decoding is one-to-one). */
static void
test_check_valid_garbage (void **state)
{
  g_autoptr (GRand) rand = test_rand ();
  guint accepted = 0;

  for (guint n = 0; n < 20000; n++) {
    guint8 v[VOLACT_KEY_SYMBOLS];
    char sym[VOLACT_KEY_SYMBOLS + 1], text[VOLACT_KEY_TEXT_SIZE], again[VOLACT_KEY_TEXT_SIZE];
    g_autoptr (GError) error = NULL;
    VolactHostKey key;

    for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
      v[i] = (guint8) g_rand_int_range (rand, 0, 24);
    volact_key_check_values (v, &v[VOLACT_KEY_DATA_SYMBOLS]);
    for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++)
      sym[i] = alphabet[v[i]];
    sym[VOLACT_KEY_SYMBOLS] = '\0';
    add_dashes (sym, text);
    if (volact_key_decode (text, &key, &error)) {
      accepted++;
      assert_true (volact_key_encode (&key, again, &error));
      assert_string_equal (text, again);
    } else {
      assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY));
      assert_null (strstr (error->message, CHECK_MESSAGE));
    }
  }
  /* About 1 in 2^15 random check-valid strings carries a valid payload. */
  assert_true (accepted < 20);
}

static void
test_check_values_match_encode (void **state)
{
  g_autoptr (GRand) rand = test_rand ();

  for (guint n = 0; n < 1000; n++) {
    VolactHostKey key = random_key (rand);
    char text[VOLACT_KEY_TEXT_SIZE], sym[VOLACT_KEY_SYMBOLS + 1];
    guint8 data[VOLACT_KEY_DATA_SYMBOLS], check[2];
    g_autoptr (GError) error = NULL;

    assert_true (volact_key_encode (&key, text, &error));
    strip_dashes (text, sym);
    for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
      data[i] = (guint8) value_of (sym[i]);
    volact_key_check_values (data, check);
    assert_int_equal (sym[23], alphabet[check[0]]);
    assert_int_equal (sym[24], alphabet[check[1]]);
    /* Two symbols hold the value modulo 571: never above 570. */
    assert_true (check[0] * 24 + check[1] < VOLACT_KEY_CHECK_MODULUS);
  }
}

/* Decoding must fail, and fail at the check (not earlier, not later). */
static void
assert_check_refuses (const char *symbols, gboolean dashed)
{
  char text[VOLACT_KEY_TEXT_SIZE];
  if (dashed) {
    add_dashes (symbols, text);
    assert_invalid (text, CHECK_MESSAGE);
  } else {
    assert_invalid (symbols, CHECK_MESSAGE);
  }
}

/* The brief's exhaustive test on real keys: for N_SAMPLE_KEYS random valid
 * keys, every substitution of every position by every other symbol, and every
 * swap of two differing neighbours (over the 25 symbols, so across group
 * boundaries too), is refused. Also every non-adjacent swap and twin error. */
static void
test_detect_sample_keys (void **state)
{
  g_autoptr (GRand) rand = test_rand ();
  guint n_subst = 0, n_adjacent = 0, n_far = 0, n_twin = 0;

  for (guint k = 0; k < N_SAMPLE_KEYS; k++) {
    VolactHostKey key = random_key (rand);
    char text[VOLACT_KEY_TEXT_SIZE], sym[VOLACT_KEY_SYMBOLS + 1], work[VOLACT_KEY_SYMBOLS + 1];

    round_trip (&key, text);
    strip_dashes (text, sym);

    for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++)
      for (guint a = 0; a < 24; a++) {
        if (alphabet[a] == sym[i])
          continue;
        strcpy (work, sym);
        work[i] = alphabet[a];
        assert_check_refuses (work, TRUE);
        /* The lower-case, dash-less form is checked the same way. */
        work[i] = g_ascii_tolower (alphabet[a]);
        assert_check_refuses (work, FALSE);
        n_subst++;
      }

    for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++)
      for (guint j = i + 1; j < VOLACT_KEY_SYMBOLS; j++) {
        if (sym[i] == sym[j])
          continue;
        strcpy (work, sym);
        work[i] = sym[j];
        work[j] = sym[i];
        assert_check_refuses (work, TRUE);
        if (j == i + 1)
          n_adjacent++;
        else
          n_far++;
      }

    /* Twin errors: aa -> bb on neighbours. */
    for (guint i = 0; i + 1 < VOLACT_KEY_SYMBOLS; i++) {
      if (sym[i] != sym[i + 1])
        continue;
      for (guint b = 0; b < 24; b++) {
        if (alphabet[b] == sym[i])
          continue;
        strcpy (work, sym);
        work[i] = work[i + 1] = alphabet[b];
        assert_check_refuses (work, TRUE);
        n_twin++;
      }
    }
  }
  print_message ("[          ] %u keys: %u substitutions (x2 forms), %u adjacent swaps, "
                 "%u other swaps, %u twin errors refused\n",
                 N_SAMPLE_KEYS, n_subst, n_adjacent, n_far, n_twin);
  assert_int_equal (n_subst, N_SAMPLE_KEYS * 25 * 23);
  assert_true (n_adjacent > N_SAMPLE_KEYS * 20);
}

/* Fills V with a check-valid string: data symbols from FIXED where it is not
 * -1, random otherwise, retried until the check symbols are WANT_C0 and
 * WANT_C1 (where those are not -1). */
static void
find_valid (GRand *rand, guint8 v[VOLACT_KEY_SYMBOLS], const int fixed[VOLACT_KEY_DATA_SYMBOLS],
            int want_c0, int want_c1)
{
  for (guint tries = 0; tries < 1000000; tries++) {
    for (guint i = 0; i < VOLACT_KEY_DATA_SYMBOLS; i++)
      v[i] = fixed[i] >= 0 ? (guint8) fixed[i] : (guint8) g_rand_int_range (rand, 0, 24);
    volact_key_check_values (v, &v[VOLACT_KEY_DATA_SYMBOLS]);
    if ((want_c0 < 0 || v[23] == want_c0) && (want_c1 < 0 || v[24] == want_c1))
      return;
  }
  fail_msg ("no data found for check symbols %d %d", want_c0, want_c1);
}

static void
to_symbols (const guint8 v[VOLACT_KEY_SYMBOLS], char sym[VOLACT_KEY_SYMBOLS + 1])
{
  for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++)
    sym[i] = alphabet[v[i]];
  sym[VOLACT_KEY_SYMBOLS] = '\0';
}

/* The original must pass the check (it may still fail as a payload). */
static void
assert_passes_check (const char *sym)
{
  g_autoptr (GError) error = NULL;
  if (!volact_key_decode (sym, NULL, &error))
    assert_null (strstr (error->message, CHECK_MESSAGE));
}

/* The complete proof. The check is linear: whether changing symbol i from a to
 * b (or swapping a, b at i, i+1) keeps a check-valid string check-valid
 * depends only on (i, a, b), never on the other 23 symbols (docs/host-keys.md).
 * So one check-valid string per (i, a, b) covers every one of the 24^23
 * possible keys. This test enumerates all of them: 25 x 24 x 23
 * substitutions and 24 x 24 x 23 adjacent swaps (less the pairs the check
 * symbols can never hold). */
static void
test_detect_every_position_and_pair (void **state)
{
  g_autoptr (GRand) rand = test_rand ();
  guint n_subst = 0, n_swap = 0, n_impossible = 0;

  for (guint i = 0; i < VOLACT_KEY_SYMBOLS; i++)
    for (int a = 0; a < 24; a++) {
      int fixed[VOLACT_KEY_DATA_SYMBOLS];
      guint8 v[VOLACT_KEY_SYMBOLS];
      char sym[VOLACT_KEY_SYMBOLS + 1];

      for (guint k = 0; k < VOLACT_KEY_DATA_SYMBOLS; k++)
        fixed[k] = -1;
      if (i < VOLACT_KEY_DATA_SYMBOLS)
        fixed[i] = a;
      find_valid (rand, v, fixed, i == 23 ? a : -1, i == 24 ? a : -1);
      g_assert (v[i] == a);
      to_symbols (v, sym);
      assert_passes_check (sym);
      for (int b = 0; b < 24; b++) {
        if (b == a)
          continue;
        sym[i] = alphabet[b];
        assert_check_refuses (sym, FALSE);
        n_subst++;
      }
    }

  for (guint i = 0; i + 1 < VOLACT_KEY_SYMBOLS; i++)
    for (int a = 0; a < 24; a++)
      for (int b = 0; b < 24; b++) {
        int fixed[VOLACT_KEY_DATA_SYMBOLS];
        guint8 v[VOLACT_KEY_SYMBOLS];
        char sym[VOLACT_KEY_SYMBOLS + 1];
        int want[VOLACT_KEY_SYMBOLS];

        if (a == b)
          continue;
        if (i == 23 && a * 24 + b >= VOLACT_KEY_CHECK_MODULUS) {
          n_impossible++; /* no key has these check symbols */
          continue;
        }
        for (guint k = 0; k < VOLACT_KEY_SYMBOLS; k++)
          want[k] = -1;
        want[i] = a;
        want[i + 1] = b;
        for (guint k = 0; k < VOLACT_KEY_DATA_SYMBOLS; k++)
          fixed[k] = want[k];
        find_valid (rand, v, fixed, want[23], want[24]);
        g_assert (v[i] == a && v[i + 1] == b);
        to_symbols (v, sym);
        assert_passes_check (sym);
        sym[i] = alphabet[b];
        sym[i + 1] = alphabet[a];
        assert_check_refuses (sym, TRUE);
        n_swap++;
      }

  print_message ("[          ] all positions: %u substitutions, %u adjacent swaps refused "
                 "(%u pairs the check symbols cannot hold)\n",
                 n_subst, n_swap, n_impossible);
  assert_int_equal (n_subst, 25 * 24 * 23);
  assert_int_equal (n_swap + n_impossible, 24 * 24 * 23);
}

static void
test_partial (void **state)
{
  VolactHostKey key = { VOLACT_KEY_VERSION, 13, 77, 0xDEADBEEFu };
  char text[VOLACT_KEY_TEXT_SIZE], sym[VOLACT_KEY_SYMBOLS + 1], part[VOLACT_KEY_PARTIAL_SIZE];
  g_autofree char *lower = NULL, *spaced = NULL;
  g_autoptr (GError) error = NULL;

  assert_true (volact_key_encode (&key, text, &error));
  volact_key_partial (text, part);
  assert_string_equal (part, text + 24);
  strip_dashes (text, sym);
  lower = g_ascii_strdown (sym, -1);
  volact_key_partial (lower, part);
  assert_string_equal (part, text + 24);
  spaced = g_strdup_printf ("  %s \n", text);
  volact_key_partial (spaced, part);
  assert_string_equal (part, text + 24);
  volact_key_partial ("AB-CD", part);
  assert_string_equal (part, "");
  volact_key_partial ("", part);
  assert_string_equal (part, "");
  volact_key_partial (NULL, part);
  assert_string_equal (part, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_alphabet),
    cmocka_unit_test (test_known_answer),
    cmocka_unit_test (test_round_trip_random),
    cmocka_unit_test (test_round_trip_edges),
    cmocka_unit_test (test_encode_refuses),
    cmocka_unit_test (test_generate),
    cmocka_unit_test (test_accepted_forms),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_check_valid_garbage),
    cmocka_unit_test (test_check_values_match_encode),
    cmocka_unit_test (test_detect_sample_keys),
    cmocka_unit_test (test_detect_every_position_and_pair),
    cmocka_unit_test (test_partial),
  };
  return cmocka_run_group_tests_name ("key", tests, NULL, NULL);
}
