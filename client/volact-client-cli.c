/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by volact-client and bench/volact-fleet; see volact-client-cli.h. */
#include "config.h"

#include "volact-client-cli.h"

#include "volact-client-state.h"
#include "volact-error.h"
#include "volact-json.h"
#include "volact.h"

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

int
volact_cli_usage_error (const char *program, const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "%s: %s\nRun \"%s --help\" for usage.\n", program, msg, program);
  return VOLACT_CLI_EXIT_USAGE;
}

void
volact_cli_print_error_line (guint32 code, const char *extra, const char *detail)
{
  const char *text = volact_error_text (code);

  fprintf (stderr, "Error: 0x%08X %s%s\n", code, text ? text : "Unknown error.",
           extra ? extra : "");
  if (detail != NULL && (text == NULL || strstr (detail, text) == NULL))
    fprintf (stderr, "       %s\n", detail);
}

void
volact_cli_print_json (GVariantBuilder *b)
{
  g_autoptr (GVariant) v = g_variant_ref_sink (g_variant_builder_end (b));
  g_autofree char *text = volact_json_from_variant (v, TRUE);
  fputs (text, stdout);
}

gboolean
volact_cli_parse_uint (const char *text, guint64 min, guint64 max, guint64 *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, min, max, out, NULL);
}

gboolean
volact_cli_parse_host (const char *arg, char **host, guint16 *port, char **label, GError **error)
{
  g_autoptr (GSocketConnectable) addr = NULL;
  g_autofree char *text = NULL;
  const char *h;
  guint16 p;

  if (arg == NULL)
    arg = "127.0.0.1";
  if (*arg == '\0') {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: empty");
    return FALSE;
  }
  addr = g_network_address_parse (arg, VOLACT_CLIENT_DEFAULT_PORT, error);
  if (addr == NULL)
    return FALSE;
  h = g_network_address_get_hostname (G_NETWORK_ADDRESS (addr));
  p = g_network_address_get_port (G_NETWORK_ADDRESS (addr));
  if (h == NULL || *h == '\0' || p == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: \"%s\" is not HOST[:PORT]", arg);
    return FALSE;
  }
  text = strchr (h, ':') ? g_strdup_printf ("[%s]:%u", h, p) : g_strdup_printf ("%s:%u", h, p);
  if (strlen (text) >= VOLACT_CLIENT_HOST_SIZE) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: too long");
    return FALSE;
  }
  *host = g_strdup (h);
  *port = p;
  *label = g_steal_pointer (&text);
  return TRUE;
}
