/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs patch-webhooks: reads the CA bundle, checks it holds only
 * CA certificates, connects to the API server and writes the bundle into
 * every webhook of the named configurations (whsync). */
#ifndef ZL_CERTS_CERTPATCH_H
#define ZL_CERTS_CERTPATCH_H

#include <stdio.h>

#include "base/err.h"
#include "certs/certopts.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

/* Loads the kubeconfig as kubectl does (kubeconfig NULL: $KUBECONFIG,
 * ~/.kube/config, in-cluster) into cfg and makes a client; says why on err
 * when it cannot. The caller frees both (cfg also on error). */
enum zl_err certpatch_connect(const char *kubeconfig, struct kube_config *cfg,
                              struct client **c, FILE *err);

/* Runs patch-webhooks; returns the exit status (0 or 1). */
int certpatch_run(const struct certopts *o, FILE *out, FILE *err);

#endif
