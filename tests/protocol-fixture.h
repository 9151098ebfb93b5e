/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keys and host certificates for the protocol and client tests (aborts on failure). */
#ifndef VOLACT_PROTOCOL_FIXTURE_H
#define VOLACT_PROTOCOL_FIXTURE_H

#include <glib.h>
#include <openssl/evp.h>

#include "volact-activation.h"
#include "volact-protocol.h"

typedef struct {
  EVP_PKEY *authority;       /* the pinned authority */
  EVP_PKEY *other_authority; /* someone else's authority */
  EVP_PKEY *host;            /* an activated host's identity key */
  EVP_PKEY *other_host;      /* another host's identity key */
  guint8 host_public[VOLACT_PUBLIC_KEY_SIZE];
  guint8 other_host_public[VOLACT_PUBLIC_KEY_SIZE];
  guint8 host_cert[VOLACT_HOST_CERT_SIZE]; /* HOST certified by AUTHORITY */
} ProtoFixture;

void proto_fixture_init (ProtoFixture *f);
void proto_fixture_clear (ProtoFixture *f);

/**
 * Certifies HOST as AUTHORITY does when it confirms an Installation ID
 * (volact_activation_confirm), and writes the 106-byte certificate.
 */
void proto_fixture_certify (EVP_PKEY *authority, EVP_PKEY *host, guint8 out[VOLACT_HOST_CERT_SIZE]);

/** A request with fixed fields, a random nonce, EDITION and NAME; returns its length. */
gsize proto_fixture_request (const char *edition, const char *name,
                             guint8 out[VOLACT_PROTO_REQUEST_MAX]);

/**
 * Fills RESP as the fixture's host answers REQUEST (its nonce, the host's
 * key and certificate, count 30 of 25, intervals 120/10080, validity 180).
 */
void proto_fixture_response (const ProtoFixture *f, const guint8 *request, VolactResponse *resp);

/** Writes a self-signed certificate of KEY to DIR/NAME; returns its path. */
char *proto_fixture_write_cert (EVP_PKEY *key, const char *dir, const char *name);

#endif
