/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Which authorities volactd may trust. There is no default trust store: the
 * configuration must name one (key "trust"). The committed reference
 * authority (licenses/reference-authority.pem, compiled in) has a public
 * private key, so it is refused unless the configuration says
 * demo-authority = true, as the demo and the tests do. See volactd(8).
 */
#ifndef VOLACT_TRUST_POLICY_H
#define VOLACT_TRUST_POLICY_H

#include <glib.h>

#include "volact-config.h"

G_BEGIN_DECLS

/**
 * Checks CFG's trust store against the policy above; warns when it trusts
 * the demo authority as allowed. Errors: CONFIG naming the configuration
 * file and key, or the trust file and the certificate; IO or CRYPTO when the
 * trust file cannot be read.
 */
gboolean volact_trust_policy_check (const VolactConfig *cfg, GError **error);

G_END_DECLS

#endif
