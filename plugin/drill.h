/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl zenlead drill: a failover drill on one annotated Service. It
 * says what it will do and asks (unless told yes), deletes the leader pod
 * gracefully (or only watches), and reports the time from the delete to a
 * new leader in the leader Service's EndpointSlice, which pod took over,
 * and with a probe URL the gap a client saw. */
#ifndef ZL_PLUGIN_DRILL_H
#define ZL_PLUGIN_DRILL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kube/client.h"

struct drill_options {
    const char *namespace_name;
    const char *service;
    bool yes;              /* skip the confirmation */
    bool watch_only;       /* delete nothing; wait for the leader to change */
    bool force;            /* run with fewer than 2 ready candidates */
    const char *probe_url; /* NULL: no probe */
    int64_t timeout_ms;    /* give up waiting for a new leader */
    bool json;             /* -o json */
    bool color;
    const char *lease_namespace; /* the controller's Lease, for the plan */
    const char *lease_name;
    FILE *out; /* the report (stdout) */
    FILE *err; /* questions and progress (stderr) */
    FILE *in;  /* the answer to the question (stdin) */
    bool in_is_tty;
};

/* Runs the drill; returns the process exit code: 0 a new leader was seen
 * in time, 1 it was refused or no new leader came (the reason printed),
 * 2 bad options. */
int drill_run(struct client *c, const struct drill_options *o);

#endif
