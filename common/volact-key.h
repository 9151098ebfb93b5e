/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Host keys: the 25-character keys an administrator installs with `volactctl ipk`.
 *
 * Text form: five groups of five symbols separated by dashes,
 * "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX", over the 24-symbol alphabet
 * BCDFGHJKMPQRTVWXY2346789 (value 0 = 'B' ... 23 = '9'; no vowels, and no
 * 0/O, 1/I/L, 5/S, A, E, N, U or Z to confuse). docs/host-keys.md is the full
 * specification; this is its summary.
 *
 * Symbols 1..23 are data: the base-24 digits (most significant first) of a
 * 105-bit payload P. Symbols 24 and 25 are the check.
 *
 * Payload, before masking (bit 0 = least significant):
 *
 *   bits 104..94  reserved, 11 bits, must be 0
 *   bits  93..90  version, 4 bits (VOLACT_KEY_VERSION = 1)
 *   bits  89..80  key group, 10 bits (1..1023; 0 is invalid)
 *   bits  79..32  serial, 48 bits (0..VOLACT_KEY_SERIAL_MAX)
 *   bits  31..0   nonce, 32 random bits
 *
 * Bits 104..32 are then XORed with a mask derived from the nonce (two
 * splitmix64 outputs seeded with the nonce), so keys of one group or of
 * consecutive serials do not share visible prefixes. This is scrambling, not
 * secrecy: the authority's ledger decides whether a key is genuine.
 *
 * Check: with v[0..24] the symbol values and weights W[i] = 25 + i for the 23
 * data symbols, W[23] = -24 and W[24] = -1, a key is valid only if
 *
 *   sum W[i] * v[i] = 0 (mod 571)    and    24 * v[23] + v[24] <= 570,
 *
 * i.e. the two check symbols spell, in base 24, the weighted sum of the data
 * symbols modulo the prime 571 (the largest prime that two symbols can
 * hold). Because 571 is a prime larger than any difference of two symbol
 * values, and the 25 weights are non-zero and pairwise distinct modulo 571,
 * every single-symbol substitution and every transposition of two different
 * symbols (adjacent or not, across group boundaries too) changes the sum and
 * is refused. Twin errors (aa -> bb) are caught as well, because no two
 * weights sum to 0 modulo 571.
 */
#ifndef VOLACT_KEY_H
#define VOLACT_KEY_H

#include <glib.h>

G_BEGIN_DECLS

/** The 24 key symbols in value order. */
#define VOLACT_KEY_ALPHABET "BCDFGHJKMPQRTVWXY2346789"
/** Number of symbols in a key, without dashes. */
#define VOLACT_KEY_SYMBOLS 25
/** Data symbols (the first 23); the last two are check symbols. */
#define VOLACT_KEY_DATA_SYMBOLS 23
/** Size of the canonical text form including the trailing NUL. */
#define VOLACT_KEY_TEXT_SIZE 30
/** Size of a partial key (the last group) including the trailing NUL. */
#define VOLACT_KEY_PARTIAL_SIZE 6

/** The payload version this code writes and reads. */
#define VOLACT_KEY_VERSION 1
#define VOLACT_KEY_GROUP_MIN 1
#define VOLACT_KEY_GROUP_MAX 1023
#define VOLACT_KEY_SERIAL_MAX G_GUINT64_CONSTANT (0xFFFFFFFFFFFF) /* 2^48 - 1 */

/** The modulus of the check: a prime, the largest that two symbols can hold. */
#define VOLACT_KEY_CHECK_MODULUS 571

/** What a host key carries. */
typedef struct {
  guint version;  /* VOLACT_KEY_VERSION */
  guint group;    /* key group, VOLACT_KEY_GROUP_MIN..VOLACT_KEY_GROUP_MAX */
  guint64 serial; /* issued by the authority, 0..VOLACT_KEY_SERIAL_MAX */
  guint32 nonce;  /* random, so keys cannot be guessed from serials */
} VolactHostKey;

/**
 * volact_key_encode:
 * @key: the fields to encode
 * @out: receives the canonical text "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" + NUL
 *
 * Fails with VOLACT_E_INVALID_KEY (and leaves @out an empty string) when the
 * version is not VOLACT_KEY_VERSION, the group is outside 1..1023 or the serial
 * is above VOLACT_KEY_SERIAL_MAX.
 */
gboolean volact_key_encode (const VolactHostKey *key, char out[VOLACT_KEY_TEXT_SIZE],
                            GError **error);

/**
 * volact_key_decode:
 * @text: the key as typed
 * @key: (out) (optional): receives the fields
 *
 * Accepts upper or lower case, the key with its four dashes in place or with
 * no dashes at all, and surrounding whitespace. Anything else fails with
 * VOLACT_E_INVALID_KEY and a message naming what is wrong: a character
 * outside the alphabet (by its 1-based position in the text without the
 * surrounding whitespace), the wrong number of symbols, a misplaced dash,
 * check symbols that do not match, or content that is not a version-1 volact
 * host key. @key is only written on success.
 */
gboolean volact_key_decode (const char *text, VolactHostKey *key, GError **error);

/**
 * volact_key_normalize:
 * @text: the key as typed
 * @out: receives the canonical text form
 *
 * Decodes @text and writes its canonical form (upper case, with dashes);
 * fails like volact_key_decode().
 */
gboolean volact_key_normalize (const char *text, char out[VOLACT_KEY_TEXT_SIZE], GError **error);

/**
 * volact_key_partial:
 * @canonical: a key in any form volact_key_decode() accepts
 * @out: receives the last five symbols in upper case, as slmgr's
 *       "Partial Product Key" shows them
 *
 * Does not validate the key: it takes the last five characters that are not
 * dashes or whitespace. Writes "" if @canonical is NULL or holds fewer than five.
 */
void volact_key_partial (const char *canonical, char out[VOLACT_KEY_PARTIAL_SIZE]);

/**
 * volact_key_check_values:
 * @data: the values (0..23) of the 23 data symbols
 * @check: (out): the values of the two check symbols
 *
 * The check computation on its own, for tools and for the tests that prove
 * error detection over every position and every symbol pair.
 */
void volact_key_check_values (const guint8 data[VOLACT_KEY_DATA_SYMBOLS], guint8 check[2]);

G_END_DECLS

#endif
