/* SPDX-License-Identifier: Apache-2.0 */
/* Leader choice (SPEC section 3): from a source Service, its parsed
 * annotations, the pods of its namespace, the leader the cluster's own
 * objects name and the current instant, decide which pod leads, why it
 * changed, what is wrong when none can, and when to look again. Pure: no
 * I/O and no clock; nothing here writes or logs. */
#ifndef ZL_ZENLEAD_LEADER_H
#define ZL_ZENLEAD_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/views.h"
#include "zenlead/annotations.h"

/* At most this many pod names are listed in a PortResolutionFailed message;
 * the rest are counted ("and 3 more"). */
#define LEADER_MAX_NAMED_PODS 10

/* Why a current leader was replaced or lost (the failover metric's reason
 * label). Checked in this order, the first that applies wins:
 *   deleted        no pod with the current leader's uid exists any more,
 *                  including a pod recreated under the same name with a new
 *                  uid (a StatefulSet pod);
 *   terminating    it has a deletionTimestamp;
 *   relabeled      its labels no longer match the selector;
 *   noIP           it has no IP of the Service's primary family;
 *   portResolution it no longer declares every named targetPort;
 *   notReady       phase is not Running or Ready is not True;
 *   preempted      sticky is off and another pod is preferred although the
 *                  current leader is still a candidate. */
enum leader_reason {
    LEADER_REASON_NONE = 0, /* no change, or a first election */
    LEADER_REASON_TERMINATING,
    LEADER_REASON_NOT_READY,
    LEADER_REASON_NO_IP,
    LEADER_REASON_DELETED,
    LEADER_REASON_RELABELED,
    LEADER_REASON_PORT_RESOLUTION,
    LEADER_REASON_PREEMPTED,
};

/* Why there is no leader; the names are the Event reasons. */
enum leader_problem {
    LEADER_PROBLEM_NONE = 0,
    LEADER_PROBLEM_NO_PODS_FOUND,          /* no pod matches the selector */
    LEADER_PROBLEM_PORT_RESOLUTION_FAILED, /* pods match, none declares
                                              every named targetPort */
    LEADER_PROBLEM_NO_READY_PODS,          /* otherwise */
};

/* The leader the cluster's own objects name: the leader Service annotations
 * zen-lead.io/leader-pod-uid and leader-pod-name, or the targetRef of the
 * endpoint in its EndpointSlice. Both strings are borrowed; NULL or "" when
 * unknown. With a uid, the pod is found by uid (a pod of the same name but
 * another uid means the leader was deleted and recreated: reason deleted).
 * With a name only, the pod of that name is taken as the current leader. */
struct leader_current {
    const char *uid;
    const char *name;
};

/* Everything leader_choose reads; all borrowed, nothing kept.
 * - service: the source Service; its selector must be non-empty (an
 *   empty selector matches no pod here: annotations_check_service refuses
 *   selector-less Services before leader choice).
 * - settings: sticky, min_ready_ms and failover_min_delay_ms are read.
 * - pods: the pods of the namespace (any order); pods of another namespace
 *   are ignored.
 * - now_ms: the current instant, milliseconds since the epoch. */
struct leader_input {
    const struct views_service *service;
    const struct annotations_settings *settings;
    const struct views_pod *const *pods;
    size_t pod_count;
    struct leader_current current;
    int64_t now_ms;
};

/* The decision.
 * - leader: the pod to route to, borrowed from input.pods; NULL for none.
 * - endpoint_ready: the endpoint's ready condition; false without a leader
 *   and while a NotReady leader is kept within failover-min-delay (grace is
 *   then true).
 * - changed: the routed pod differs from the current one (by uid; none
 *   counts as a value, so losing a leader or electing a first one is a
 *   change; an unknown current leader and no new leader is not).
 * - reason: why the current leader was replaced or lost; NONE unless
 *   changed and a current leader was known (a first election has none).
 * - problem: set when leader is NULL; problem_port (the named targetPort
 *   the pods lack, borrowed from the Service; the port_name metric label)
 *   and problem_message (owned; one sentence naming the port, its
 *   protocol and the pods) are set for PORT_RESOLUTION_FAILED only.
 * - candidate_count: pods that pass every candidate test (the
 *   pods_available metric); min-ready is not applied here.
 * - next_check_ms: the exact instant the decision may change by the clock
 *   alone, VIEWS_TIME_NONE if it cannot. */
struct leader_decision {
    const struct views_pod *leader;
    bool endpoint_ready;
    bool grace;
    bool changed;
    enum leader_reason reason;
    enum leader_problem problem;
    const char *problem_port;
    char *problem_message;
    size_t candidate_count;
    int64_t next_check_ms;
};

/* Chooses the leader. The rules, in order:
 *
 * Candidates: same namespace, labels match the selector, phase Running,
 * Ready=True, no deletionTimestamp, an IP of the primary family
 * (ip_families[0]; IPv4 when the Service has none yet), and every named
 * targetPort declared with the same name and protocol.
 *
 * Ready since: the Ready condition's lastTransitionTime. A Ready pod with
 * no lastTransitionTime counts as Ready since forever (the API server always
 * sets it, so its absence means an old or hand-made object, and waiting on
 * an unknown instant could never end). A NotReady pod with none counts as
 * NotReady since forever, so failover-min-delay grants it no grace.
 *
 * Eligible (may BECOME leader): candidates with now - ready_since >=
 * min_ready_ms; a pod qualifies at exactly ready_since + min_ready_ms.
 * Preferred: the eligible pod with the earliest creationTimestamp, ties
 * broken by name, byte-wise (strcmp).
 *
 * 1. Sticky on: a current leader that is a candidate stays (min-ready does
 *    not apply to a sitting leader).
 *    Sticky off: the current leader, if a candidate, competes with the
 *    eligible pods (even when itself younger than min-ready, so leadership
 *    does not flap while it re-qualifies); the preferred one of that pool
 *    leads, and displacing the current leader is reason preempted.
 * 2. A current leader whose only fault is notReady (phase Running, Ready
 *    not True, not terminating, still matching, IP and ports intact) stays
 *    with endpoint_ready false while now < not_ready_since +
 *    failover_min_delay_ms; at exactly that instant it is replaced. With
 *    sticky off the grace is only granted when the leader would still be
 *    preferred over every eligible pod on recovery; otherwise the preferred
 *    pod takes over at once (reason notReady).
 * 3. Otherwise the preferred pod leads.
 * 4. No eligible pod: no leader. problem is NO_PODS_FOUND when no pod
 *    matches the selector; PORT_RESOLUTION_FAILED when pods match and none
 *    declares every named targetPort (the message names the first port, in
 *    Service order, that the first such pod by name lacks, and the pods
 *    that lack it); NO_READY_PODS otherwise.
 *
 * next_check_ms is the earliest of: the end of a grace; the instant a
 * waiting candidate (Ready, younger than min-ready) becomes eligible, when
 * that can change the decision (no leader, or sticky off and the waiting
 * pod would be preferred over the leader). With sticky on and a leader in
 * place, waiting pods are not relevant.
 *
 * Returns ZL_OK and fills *out (the caller calls leader_decision_cleanup
 * afterwards, also on error); ZL_ERR_INVALID when service, settings or
 * out is NULL or pods is NULL with pod_count > 0; ZL_ERR_NOMEM when the
 * problem message cannot be allocated. */
enum zl_err leader_choose(const struct leader_input *in,
                          struct leader_decision *out);

/* One pod as the rules see it, for explanations (kubectl-zenlead): the
 * same tests leader_choose applies, so an explanation cannot disagree with
 * a decision.
 * - fault: the first test the pod fails, in leader_choose's order:
 *   TERMINATING, RELABELED (the selector does not match), NO_IP (none of
 *   the primary family), PORT_RESOLUTION, NOT_READY (phase not Running or
 *   Ready not True); NONE for a candidate.
 * - missing_port: for PORT_RESOLUTION, the first named targetPort (Service
 *   order) the pod lacks, borrowed from the Service.
 * - eligible_at_ms: for a candidate, the instant it may become leader
 *   (INT64_MIN: at any time, no min-ready wait applies). */
struct leader_pod_check {
    enum leader_reason fault;
    const struct views_service_port *missing_port;
    int64_t eligible_at_ms;
};

/* Checks one pod against service and settings. ZL_ERR_INVALID when an
 * argument is NULL; ZL_OK otherwise. */
enum zl_err leader_check_pod(const struct views_service *service,
                             const struct annotations_settings *settings,
                             const struct views_pod *pod,
                             struct leader_pod_check *out);

/* Frees what a decision owns and empties it. NULL is a no-op. */
void leader_decision_cleanup(struct leader_decision *decision);

/* The metric label of a reason: "terminating", "notReady", "noIP",
 * "deleted", "relabeled", "portResolution", "preempted"; "" for NONE. */
const char *leader_reason_name(enum leader_reason reason);

/* The Event reason of a problem: "NoPodsFound", "PortResolutionFailed",
 * "NoReadyPods"; "" for NONE. */
const char *leader_problem_name(enum leader_problem problem);

#endif
