/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The Installation ID and the Confirmation ID of telephone-style activation
 * (docs/activation.md): their fields, the decimal digit groups with one
 * check digit each, and the certificate body both sides build from them. The
 * host and the authority both link this.
 *
 *   Installation ID    39 bytes: version 1 | key group 2 | key serial 6 | key nonce 4 |
 *                      host id 16 | fingerprint 10
 *                      -> 94 digits, 19 groups, 113 digits with checks, 131 characters
 *   Confirmation ID    68 bytes: version 1 | issue day 2 | activation number 1 | r||s 64
 *                      -> 164 digits, 33 groups, 197 digits with checks, 229 characters
 */
#ifndef VOLACT_ACTIVATION_ID_H
#define VOLACT_ACTIVATION_ID_H

#include <glib.h>

#include "volact-host-cert.h"
#include "volact-key.h"

G_BEGIN_DECLS

#define VOLACT_ID_VERSION 1
/** Data digits per group; each group is followed by one check digit. */
#define VOLACT_ID_GROUP_DIGITS 5

#define VOLACT_IID_PAYLOAD_SIZE 39
/** Decimal digits of 256^39 - 1. */
#define VOLACT_IID_DIGITS 94
#define VOLACT_IID_GROUPS 19
/** Digits as typed: data plus one check digit per group. */
#define VOLACT_IID_TYPED_DIGITS (VOLACT_IID_DIGITS + VOLACT_IID_GROUPS)
/** Text form with dashes, plus the NUL. */
#define VOLACT_IID_TEXT_SIZE (VOLACT_IID_TYPED_DIGITS + VOLACT_IID_GROUPS - 1 + 1)

#define VOLACT_CID_PAYLOAD_SIZE 68
/** Decimal digits of 256^68 - 1. */
#define VOLACT_CID_DIGITS 164
#define VOLACT_CID_GROUPS 33
#define VOLACT_CID_TYPED_DIGITS (VOLACT_CID_DIGITS + VOLACT_CID_GROUPS)
#define VOLACT_CID_TEXT_SIZE (VOLACT_CID_TYPED_DIGITS + VOLACT_CID_GROUPS - 1 + 1)

/** What the host tells the authority: its key, its identity and its hardware. */
typedef struct {
  guint8 version;    /* VOLACT_ID_VERSION */
  guint16 key_group; /* 1..1023 */
  guint64 key_serial;
  guint32 key_nonce;
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fingerprint[VOLACT_FINGERPRINT_SIZE];
} VolactInstallationId;

/** What the authority answers: the fields it chose and its signature. */
typedef struct {
  guint8 version; /* VOLACT_ID_VERSION */
  guint16 issue_day;
  guint8 activation_number; /* 1..255 */
  guint8 signature[VOLACT_SIGNATURE_SIZE];
} VolactConfirmationId;

/** Fills @out (version 1) from the installed host key, the host id and the fingerprint. */
void volact_installation_id_init (VolactInstallationId *out, const VolactHostKey *key,
                                  const guint8 host_id[VOLACT_HOST_ID_SIZE],
                                  const guint8 fingerprint[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_installation_id_encode:
 * @out: receives "DDDDDD-DDDDDD-...-DDDDD" (19 groups, 131 characters) + NUL
 *
 * Fails with VOLACT_E_ID_FORMAT (and writes "") when the version is not 1,
 * the group is outside 1..1023 or the serial is above 48 bits.
 */
gboolean volact_installation_id_encode (const VolactInstallationId *iid,
                                        char out[VOLACT_IID_TEXT_SIZE], GError **error);

/**
 * volact_installation_id_decode:
 * @text: the ID as typed
 * @out: (out) (optional): receives the fields; only written on success
 *
 * Accepts '-', spaces and tabs (any number) between and around the groups,
 * or none at all. Errors: VOLACT_E_ID_FORMAT for another character, the wrong
 * number of digits, a value above 256^39 - 1, or content that is not a
 * version-1 Installation ID; VOLACT_E_ID_GROUP naming the first group whose
 * check digit fails ("group 7 of the Installation ID is mistyped").
 */
gboolean volact_installation_id_decode (const char *text, VolactInstallationId *out,
                                        GError **error);

/** Like volact_installation_id_encode(): 33 groups, 229 characters. */
gboolean volact_confirmation_id_encode (const VolactConfirmationId *cid,
                                        char out[VOLACT_CID_TEXT_SIZE], GError **error);

/** Like volact_installation_id_decode(); the activation number must be non-zero. */
gboolean volact_confirmation_id_decode (const char *text, VolactConfirmationId *out,
                                        GError **error);

/**
 * volact_id_check_digit:
 * @group_number: 1-based number of the group in its ID
 * @digits: the group's data digits ('0'..'9')
 * @len: how many
 *
 * The group's check digit (0..9): the Damm check digit of @digits with the
 * interim digit starting at @group_number mod 10.
 */
guint volact_id_check_digit (guint group_number, const char *digits, gsize len);

/**
 * volact_installation_id_problem:
 *
 * NULL when @iid is a version-1 Installation ID with its key group in
 * 1..1023 and its serial within 48 bits, else the reason.
 */
const char *volact_installation_id_problem (const VolactInstallationId *iid);

/** NULL when @cid is version 1 with a non-zero activation number, else the reason. */
const char *volact_confirmation_id_problem (const VolactConfirmationId *cid);

/**
 * volact_installation_id_cert_body:
 * @out: receives the body the authority signs and the host verifies: the
 *       key, host id and fingerprint of @iid, @issue_day and
 *       @activation_number; the authority key id is zeroed (the caller sets it)
 */
void volact_installation_id_cert_body (const VolactInstallationId *iid, guint16 issue_day,
                                       guint8 activation_number, VolactHostCertBody *out);

/**
 * volact_activation_issue_day:
 * @when: a point in time
 *
 * Whole days since 2020-01-01 00:00 UTC, clamped to 0..65535.
 */
guint16 volact_activation_issue_day (GDateTime *when);

/** volact_activation_issue_day() of a Unix time in seconds. */
guint16 volact_activation_issue_day_from_unix (gint64 unix_seconds);

G_END_DECLS

#endif
