/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs: the webhook's CA and serving certificate (make, inspect,
 * bundle, renew) and the caBundle of its webhook configurations, for
 * clusters without cert-manager. */
#include <stdio.h>
#include <time.h>

#include "base/log.h"
#include "certs/certcmd.h"
#include "certs/certopts.h"

#ifndef ZL_VERSION
#define ZL_VERSION "0.0.0"
#endif
#ifndef ZL_COMMIT
#define ZL_COMMIT "unknown"
#endif

int main(int argc, char **argv)
{
    struct certopts o;
    char err[CERTOPTS_ERR];
    int code = CERTCMD_EXIT_USAGE;
    log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, stderr);
    if (certopts_parse(argc, argv, &o, err, sizeof(err)) != ZL_OK) {
        fprintf(stderr, "zen-lead-certs: %s\n", err);
        goto out;
    }
    code = CERTCMD_EXIT_OK;
    if (o.cmd == CERTOPTS_HELP || o.help)
        printf("usage: zen-lead-certs %s\n",
               certopts_usage(o.cmd == CERTOPTS_HELP ? CERTOPTS_NONE : o.cmd));
    else if (o.cmd == CERTOPTS_VERSION)
        printf("zen-lead-certs %s (commit %s)\n", ZL_VERSION, ZL_COMMIT);
    else
        code = certcmd_run(&o, time(NULL), stdout, stderr);
out:
    certopts_cleanup(&o);
    return code;
}
