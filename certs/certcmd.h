/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands of zen-lead-certs, run from parsed options: they read
 * and write the files, print what they did on out and one line per
 * problem on err, and return the exit status. Time is an argument. */
#ifndef ZL_CERTS_CERTCMD_H
#define ZL_CERTS_CERTCMD_H

#include <stdio.h>
#include <time.h>

#include "certs/certopts.h"

#define CERTCMD_EXIT_OK 0
#define CERTCMD_EXIT_FAIL 1  /* an error, or a check that did not pass */
#define CERTCMD_EXIT_USAGE 2 /* bad command line */

/* Runs o->cmd (CERTOPTS_CA and after) at time now. */
int certcmd_run(const struct certopts *o, time_t now, FILE *out, FILE *err);

#endif
