/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kms13: a modelled third product family (family kmsr2) for
 * tests/third-family.sh, built out of tree against the installed
 * <volact/plugin.h> only. It adds its family next to kms12 and replaces
 * nothing; the core's XrM interpreter does all the work.
 */
#include <volact/plugin.h>

VOLACT_XRM_PLUGIN (kms13, "1.3.0", VOLACT_LIST ("kmsr2"), NULL);
