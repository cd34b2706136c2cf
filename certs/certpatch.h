/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs patch-webhooks: reads the CA bundle, checks it holds only
 * CA certificates, connects to the API server and writes the bundle into
 * every webhook of the named configurations (whsync). */
#ifndef ZL_CERTS_CERTPATCH_H
#define ZL_CERTS_CERTPATCH_H

#include <stdio.h>

#include "certs/certopts.h"

/* Runs patch-webhooks; returns the exit status (0 or 1). */
int certpatch_run(const struct certopts *o, FILE *out, FILE *err);

#endif
