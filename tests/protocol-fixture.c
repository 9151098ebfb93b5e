/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "protocol-fixture.h"

#include "authority-sign.h"
#include "volact-crypto.h"

#include <string.h>

#include <openssl/rand.h>

static EVP_PKEY *
new_key (void)
{
  g_autoptr (GError) error = NULL;
  EVP_PKEY *key = volact_crypto_generate_ec_key (&error);
  if (key == NULL)
    g_error ("cannot generate a key: %s", error->message);
  return key;
}

static void
public_key (EVP_PKEY *key, guint8 out[VOLACT_PUBLIC_KEY_SIZE])
{
  g_autoptr (GError) error = NULL;
  if (!volact_identity_public_key (key, out, &error))
    g_error ("cannot read a public key: %s", error->message);
}

void
proto_fixture_certify (EVP_PKEY *authority, EVP_PKEY *host, guint8 out[VOLACT_HOST_CERT_SIZE])
{
  g_autoptr (GError) error = NULL;
  VolactInstallationId iid = { 0 };
  VolactConfirmationId cid;
  VolactHostCert cert;

  iid.version = VOLACT_ID_VERSION;
  iid.key_group = 3;
  iid.key_serial = 42;
  iid.key_nonce = 0x1234abcd;
  memset (iid.fingerprint, 0x5a, sizeof iid.fingerprint);
  if (!volact_identity_host_id (host, iid.host_id, &error)
      || !volact_activation_confirm (&iid, authority, 2000, 1, &cid, &cert, &error))
    g_error ("cannot certify a host: %s", error->message);
  volact_host_cert_serialize (&cert, out);
}

void
proto_fixture_init (ProtoFixture *f)
{
  f->authority = new_key ();
  f->other_authority = new_key ();
  f->host = new_key ();
  f->other_host = new_key ();
  public_key (f->host, f->host_public);
  public_key (f->other_host, f->other_host_public);
  proto_fixture_certify (f->authority, f->host, f->host_cert);
}

void
proto_fixture_clear (ProtoFixture *f)
{
  EVP_PKEY_free (f->authority);
  EVP_PKEY_free (f->other_authority);
  EVP_PKEY_free (f->host);
  EVP_PKEY_free (f->other_host);
  memset (f, 0, sizeof *f);
}

gsize
proto_fixture_request (const char *edition, const char *name, guint8 out[VOLACT_PROTO_REQUEST_MAX])
{
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  gsize len;

  RAND_bytes (req.nonce, sizeof req.nonce);
  memset (req.cmid, 0xc1, sizeof req.cmid);
  req.state = VOLACT_STATE_OOB_GRACE;
  req.minutes_left = 43200;
  g_strlcpy (req.edition, edition, sizeof req.edition);
  g_strlcpy (req.name, name, sizeof req.name);
  len = volact_request_encode (&req, out, &error);
  if (len == 0)
    g_error ("cannot encode a request: %s", error->message);
  return len;
}

void
proto_fixture_response (const ProtoFixture *f, const guint8 *request, VolactResponse *resp)
{
  memset (resp, 0, sizeof *resp);
  memcpy (resp->nonce, request + VOLACT_PROTO_HEADER_SIZE, VOLACT_PROTO_NONCE_SIZE);
  resp->result = 0;
  resp->count = 30;
  resp->minimum_count = 25;
  resp->activation_interval = 120;
  resp->renewal_interval = 10080;
  resp->validity_days = 180;
  memcpy (resp->host_public_key, f->host_public, sizeof resp->host_public_key);
  memcpy (resp->certificate, f->host_cert, sizeof resp->certificate);
}

char *
proto_fixture_write_cert (EVP_PKEY *key, const char *dir, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X509) cert
      = volact_crypto_make_ca_certificate (key, "volact test authority", 30, &error);
  char *path = g_build_filename (dir, name, NULL);

  if (cert == NULL || !volact_crypto_write_certificate (path, cert, &error))
    g_error ("cannot write %s: %s", path, error->message);
  return path;
}
