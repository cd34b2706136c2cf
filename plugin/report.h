/* SPDX-License-Identifier: Apache-2.0 */
/* What kubectl-zenlead says about one annotated Service, decided from a
 * gathered snapshot with the controller's own rules (common/zenlead): the
 * settings as normalized, who the slice routes to and who the rules would
 * choose now, each pod's verdict, the current problems with their fixes,
 * the last switches and the controller's Lease. Pure: no I/O, no clock
 * (the instant is given), so every output is table-tested. */
#ifndef ZL_PLUGIN_REPORT_H
#define ZL_PLUGIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "plugin/gather.h"
#include "zenlead/annotations.h"
#include "zenlead/leader.h"

#define REPORT_MAX_EVENTS 8

/* The component whose Events are shown (SPEC section 4). */
#define REPORT_COMPONENT "zen-lead-controller"

/* The Service's state in one word (the STATE column). */
enum report_state {
    REPORT_HEALTHY = 0, /* routes to the pod the rules choose, ready */
    REPORT_GRACE,       /* a NotReady leader kept within failover-min-delay */
    REPORT_NO_LEADER,   /* no pod can lead: the slice is empty */
    REPORT_PENDING,     /* the cluster does not show the rules' choice yet:
                           no leader Service or slice, or another pod */
    REPORT_CONFLICT,    /* the leader name is held by an object not ours */
    REPORT_INVALID,     /* the controller refuses the Service as it is */
    REPORT_NOT_ENABLED, /* zen-lead.io/enabled is absent or false */
    REPORT_NOT_FOUND,   /* no such Service */
    REPORT_UNKNOWN,     /* the Service, its leader Service, the leader's
                           slices or the pods could not be read */
};

/* One pod's verdict, in the order the rules test them. */
enum report_verdict {
    REPORT_POD_LEADER = 0,   /* the slice routes to it */
    REPORT_POD_ELIGIBLE,     /* could take over now */
    REPORT_POD_WAITING,      /* a candidate inside min-ready-duration */
    REPORT_POD_TERMINATING,  /* deletionTimestamp set */
    REPORT_POD_NOT_MATCHING, /* the selector no longer matches it */
    REPORT_POD_NO_IP,        /* no IP of the primary family */
    REPORT_POD_PORT_MISSING, /* a named targetPort it does not declare */
    REPORT_POD_NOT_RUNNING,  /* phase is not Running */
    REPORT_POD_NOT_READY,    /* Running, Ready is not True */
};

struct report_pod {
    const struct views_pod *pod; /* borrowed from the snapshot */
    enum report_verdict verdict;
    bool routed;                                   /* the slice names it */
    bool expected;                                 /* the rules choose it now */
    int64_t eligible_at_ms;                        /* WAITING */
    const struct views_service_port *missing_port; /* PORT_MISSING */
};

/* A current problem: one sentence, the command or edit that fixes it, and
 * the Event reason or check it comes from. All three are owned. */
struct report_problem {
    char *what;
    char *fix;  /* "" when there is nothing to run */
    char *code; /* "InvalidAnnotation", "NoReadyPods", "ControllerStale"... */
    bool error; /* false: a warning (leader routes, but look at this) */
};

/* What the controller looks like from its Lease. */
enum report_controller {
    REPORT_CONTROLLER_RUNNING = 0, /* held and renewed within its duration */
    REPORT_CONTROLLER_STALE,       /* held but not renewed in time */
    REPORT_CONTROLLER_RELEASED,    /* no holder */
    REPORT_CONTROLLER_UNKNOWN,     /* absent, forbidden or unreadable */
};

struct report {
    const struct gather_service *g;   /* borrowed */
    const struct gather_lease *lease; /* borrowed; may be NULL */
    int64_t now_ms;
    enum report_state state;
    bool has_enabled;              /* the annotation is present */
    struct annotations_result ann; /* settings as normalized */
    bool leader_ours; /* the leader Service is zen-lead's for this source */
    /* The routed pod, from the leader's primary slice (ours only). */
    const struct views_endpointslice *slice; /* primary family, or NULL */
    const struct views_endpoint *endpoint;   /* NULL: no endpoint */
    const char *routed_name;                 /* targetRef.name or NULL */
    int64_t last_switch_ms; /* zen-lead.io/leader-last-switch-time */
    /* What the rules choose now, with the slice's leader as current. */
    bool has_decision;
    struct leader_decision decision;
    struct report_pod *pods; /* the snapshot's pods, in its order */
    size_t pod_count;
    size_t matching;   /* pods the selector matches */
    size_t candidates; /* of them, candidates (ready to lead or waiting) */
    size_t eligible;   /* of them, eligible now (leader included) */
    struct report_problem *problems;
    size_t problem_count;
    /* Indices into g->events: switches (LeaderElected, LeaderChanged,
     * LeaderLost on the source) and Warnings since the last switch, both
     * from REPORT_COMPONENT, newest last, at most REPORT_MAX_EVENTS
     * each. */
    size_t switches[REPORT_MAX_EVENTS];
    size_t switch_count;
    size_t warnings[REPORT_MAX_EVENTS];
    size_t warning_count;
    enum report_controller controller;
};

/* Builds the report of g (and lease, may be NULL) at now_ms. ZL_OK, or
 * ZL_ERR_NOMEM / ZL_ERR_INVALID (NULL arguments). Clean up with
 * report_cleanup, also after an error. */
enum zl_err report_build(const struct gather_service *g,
                         const struct gather_lease *lease, int64_t now_ms,
                         struct report *out);

void report_cleanup(struct report *r);

/* The one-word names: "Healthy", "Grace", "NoLeader", "Pending",
 * "Conflict", "Invalid", "NotEnabled", "NotFound", "Unknown". */
const char *report_state_name(enum report_state s);

/* "leader", "eligible", "waiting", "terminating", "notMatching", "noIP",
 * "portMissing", "notRunning", "notReady". */
const char *report_verdict_name(enum report_verdict v);

/* "running", "stale", "released", "unknown". */
const char *report_controller_name(enum report_controller c);

/* The pod the slice routes to, or NULL (not among the pods read). */
const struct report_pod *report_routed(const struct report *r);

#endif
