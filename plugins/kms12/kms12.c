/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kms12: the Windows 7 / Server 2008 R2 era (family kmsw7), modelled on
 * KMS 1.2. Like KB968915 superseding KB948003 it replaces kms11: it also
 * interprets the kms08 data, so with both in the plugin folder kms11 is
 * skipped. Its data uses the standard XrM kinds, so the core's interpreter
 * does all.
 */
#include "config.h"

#include <volact/plugin.h>

VOLACT_XRM_PLUGIN (kms12, "1.2.0", VOLACT_LIST ("kms08", "kmsw7"), VOLACT_LIST ("kms11"));
