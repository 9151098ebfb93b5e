/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the computed seed inputs of fuzz/corpus/ (fuzz/make-corpus.sh runs
 * it): requests, responses signed with the FUZZING ONLY keys of fuzz-keys.h,
 * admin frames, host keys and activation IDs. Usage: fuzz-seeds CORPUS-DIR
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "authority-sign.h"
#include "fuzz-keys.h"
#include "volact-activation-id.h"
#include "volact-admin-proto.h"
#include "volact-identity.h"
#include "volact-key.h"
#include "volact-protocol.h"

static const char *corpus;

static void
put (const char *target, const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (corpus, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, data, (gssize) len, &error))
    g_error ("%s", error->message);
}

static void
check (gboolean ok, GError *error)
{
  if (!ok)
    g_error ("%s", error ? error->message : "failed");
}

static gsize
request (gboolean vm, const char *edition, const char *name, guint8 out[VOLACT_PROTO_REQUEST_MAX])
{
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  gsize len;

  memset (req.nonce, 0x4e, sizeof req.nonce);
  memset (req.cmid, 0xc1, sizeof req.cmid);
  req.virtual_machine = vm;
  req.minutes_left = 43200;
  g_strlcpy (req.edition, edition, sizeof req.edition);
  g_strlcpy (req.name, name, sizeof req.name);
  len = volact_request_encode (&req, out, &error);
  check (len > 0, error);
  return len;
}

static void
seed_protocol (void)
{
  g_autoptr (GError) error = NULL;
  EVP_PKEY *authority = fuzz_key (FUZZ_AUTHORITY_KEY), *host = fuzz_key (FUZZ_HOST_KEY);
  guint8 req[VOLACT_PROTO_REQUEST_MAX], out[VOLACT_PROTO_RESPONSE_SIZE];
  guint8 err[VOLACT_PROTO_ERROR_SIZE];
  VolactInstallationId iid = { 0 };
  VolactConfirmationId cid;
  VolactHostCert cert;
  VolactResponse resp = { 0 };
  gsize len;

  len = request (FALSE, "vista-business", "", req);
  put ("request", "client-no-name", req, len);
  len = request (TRUE, "server2008r2-datacenter", "a-rather-long-machine-name.branch.example.org", req);
  put ("request", "vm-long-name", req, len);
  len = request (FALSE, FUZZ_REQUEST_EDITION, FUZZ_REQUEST_NAME, req);
  put ("request", "fixed", req, len);

  /* The host certified by the authority, as an activation would (fixed fields). */
  iid.version = VOLACT_ID_VERSION;
  iid.key_group = 3;
  iid.key_serial = 42;
  iid.key_nonce = 0x1234abcd;
  memset (iid.fingerprint, 0x5a, sizeof iid.fingerprint);
  check (volact_identity_host_id (host, iid.host_id, &error), error);
  check (volact_activation_confirm (&iid, authority, 2000, 1, &cid, &cert, &error), error);
  memcpy (resp.nonce, req + VOLACT_PROTO_HEADER_SIZE, sizeof resp.nonce);
  resp.count = 30;
  resp.minimum_count = 25;
  resp.activation_interval = 120;
  resp.renewal_interval = 10080;
  resp.validity_days = 180;
  check (volact_identity_public_key (host, resp.host_public_key, &error), error);
  volact_host_cert_serialize (&cert, resp.certificate);
  check (volact_response_sign (&resp, req, len, host, out, &error), error);
  put ("response", "licensed", out, sizeof out);
  resp.result = 0xC004F038;
  resp.count = 5;
  check (volact_response_sign (&resp, req, len, host, out, &error), error);
  put ("response", "count-insufficient", out, sizeof out);
  volact_error_response_encode (resp.nonce, 0xC004F050, err);
  put ("response", "error", err, sizeof err);

  /* Both IDs of that activation, typed with dashes and without. */
  {
    char iid_text[VOLACT_IID_TEXT_SIZE], cid_text[VOLACT_CID_TEXT_SIZE];
    g_autofree char *plain = NULL;
    check (volact_installation_id_encode (&iid, iid_text, &error), error);
    check (volact_confirmation_id_encode (&cid, cid_text, &error), error);
    put ("activation-id", "iid", iid_text, strlen (iid_text));
    put ("activation-id", "cid", cid_text, strlen (cid_text));
    plain = g_strdelimit (g_strdup (iid_text), "-", ' ');
    put ("activation-id", "iid-spaces", plain, strlen (plain));
  }
  EVP_PKEY_free (authority);
  EVP_PKEY_free (host);
}

static void
seed_key (void)
{
  g_autoptr (GError) error = NULL;
  VolactHostKey key = { VOLACT_KEY_VERSION, 3, 42, 0x1234abcd };
  char text[VOLACT_KEY_TEXT_SIZE];
  g_autofree char *lower = NULL;

  check (volact_key_encode (&key, text, &error), error);
  put ("key", "canonical", text, strlen (text));
  lower = g_ascii_strdown (text, -1);
  g_strdelimit (lower, "-", ' ');
  put ("key", "lower-spaces", lower, strlen (lower));
}

static void
frame (const char *name, GVariant *v)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_variant_ref_sink (v);
  check (volact_admin_write (out, v, NULL, &error), error);
  g_variant_unref (v);
  check (g_output_stream_close (out, NULL, &error), error);
  put ("admin", name, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
       g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)));
}

static void
seed_admin (void)
{
  const char *none[] = { NULL }, *ipk[] = { "BCDFG-HJKMP-QRTVW-XY234-6789B", NULL };
  g_autoptr (GVariantDict) d = volact_admin_reply_new (0, "ok");

  frame ("dli", g_variant_new ("(s^as)", "dli", none));
  frame ("ipk", g_variant_new ("(s^as)", "ipk", ipk));
  g_variant_dict_insert (d, "current_count", "u", 30);
  g_variant_dict_insert (d, "port", "q", 1688);
  frame ("reply", g_variant_dict_end (d));
}

int
main (int argc, char **argv)
{
  if (argc != 2) {
    fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
    return 2;
  }
  corpus = argv[1];
  seed_protocol ();
  seed_key ();
  seed_admin ();
  return 0;
}
