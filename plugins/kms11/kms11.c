/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kms11: the Vista / Server 2008 era (family kms08), modelled on KMS 1.1.
 * Its data uses the standard XrM kinds, so the core's interpreter does all.
 */
#include "config.h"

#include <volact/plugin.h>

VOLACT_XRM_PLUGIN (kms11, "1.1.0", VOLACT_LIST ("kms08"), NULL);
