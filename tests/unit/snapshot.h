/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-written snapshots for kubectl-zenlead's pure modules: a compact
 * description of a source Service, its leader Service and slice, its pods,
 * Events and the controller's Lease, turned into the gather structures by
 * parsing the JSON the API server would send (views_*_parse). Times are
 * seconds before SNAPSHOT_NOW_MS, so every age is fixed. */
#ifndef ZL_TESTS_SNAPSHOT_H
#define ZL_TESTS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "plugin/gather.h"

/* 2026-03-01T12:00:00Z. */
#define SNAPSHOT_NOW_MS INT64_C(1772366400000)
#define SNAPSHOT_MAX_PODS 8

/* One pod of the namespace "shop"; zero fields take the defaults. */
struct snapshot_pod {
    const char *name;     /* NULL ends the list; uid is "uid-<name>" */
    int created_ago;      /* creationTimestamp, seconds before now */
    bool not_ready;       /* condition Ready is "False" */
    int ready_ago;        /* its lastTransitionTime; 0: created_ago */
    const char *phase;    /* NULL: "Running" */
    const char *ip;       /* NULL: 10.0.0.<10 + index>; "": none */
    const char *port;     /* the containerPort's name; NULL: "db" */
    const char *protocol; /* NULL: "TCP" */
    int deleted_ago;      /* > 0: deletionTimestamp that long ago */
    const char *app;      /* label app; NULL: "db" */
};

enum snapshot_leader {
    SNAPSHOT_LEADER_OURS = 0, /* owned by the source, labelled by zen-lead */
    SNAPSHOT_LEADER_ABSENT,   /* 404 */
    SNAPSHOT_LEADER_FOREIGN,  /* exists, made by someone else */
};

/* The leader's IPv4 slice "db-leader-ipv4". */
struct snapshot_slice {
    bool absent;      /* no slice at all */
    const char *pod;  /* the endpoint's targetRef; NULL: no endpoint */
    bool not_ready;   /* conditions.ready false */
    bool terminating; /* conditions.terminating true (serving false) */
};

struct snapshot {
    /* The source's annotations as JSON members, ' for ": NULL is
     * "'zen-lead.io/enabled':'true'", "" none. */
    const char *annotations;
    /* The source's spec as JSON, ' for ": NULL is selector app=db, one
     * port pg 5432 -> targetPort "db" TCP, ipFamilies [IPv4]. */
    const char *spec;
    enum snapshot_leader leader;
    int last_switch_ago; /* > 0: leader-last-switch-time on the leader */
    struct snapshot_slice slice;
    struct snapshot_pod pods[SNAPSHOT_MAX_PODS];
    /* Reads that failed (GATHER_OK, 0, when they did not): the list is
     * then empty and the error says which one. */
    enum gather_state slices_state;
    enum gather_state pods_state;
};

/* The controller's Lease zen-lead-system/zen-lead-controller. */
struct snapshot_lease {
    enum gather_state state; /* GATHER_OK: the fields below apply */
    const char *holder;      /* NULL: "zen-lead-controller-7d9f-x2k4p" */
    bool released;           /* holderIdentity unset */
    int renew_ago;           /* renewTime; 0: 2 s ago */
    int duration_s;          /* 0: 15 */
};

/* Fills *out (gather_service_cleanup frees it); asserts on any failure. */
void snapshot_build(const struct snapshot *s, struct gather_service *out);

/* Appends an Event (the caller keeps them oldest first). */
void snapshot_add_event(struct gather_service *g, const char *type,
                        const char *reason, const char *object, int ago,
                        int count, const char *message);

/* Fills *out (gather_lease_cleanup frees it). */
void snapshot_lease(const struct snapshot_lease *s, struct gather_lease *out);

/* An instant as RFC 3339 text, ago seconds before now. */
void snapshot_time(int ago, char out[32]);

#endif
