/* SPDX-License-Identifier: Apache-2.0 */
/* What kubectl-zenlead reads from the API server: an annotated Service with
 * its leader Service, the leader's EndpointSlices, the pods its selector
 * matches, the Events on both Services, and the controller's Lease. Only
 * GET and LIST requests (read rights are enough). The results are plain
 * data for the pure report module; nothing here decides anything. */
#ifndef ZL_PLUGIN_GATHER_H
#define ZL_PLUGIN_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/views.h"

#define GATHER_ERROR_MAX 512

/* How one read went: the object, absent, or why it could not be read. */
enum gather_state {
    GATHER_OK = 0,
    GATHER_ABSENT,    /* 404 */
    GATHER_FORBIDDEN, /* 401/403: the user may not read it */
    GATHER_FAILED,    /* anything else; error says what */
};

/* One core Event (events.k8s.io is the same object; core v1 is read). */
struct gather_event {
    char *type;   /* "Normal" / "Warning" */
    char *reason; /* "LeaderChanged", ... */
    char *message;
    char *object_kind; /* involvedObject.kind */
    char *object_name; /* involvedObject.name */
    char *component;   /* source.component, else reportingComponent */
    int32_t count;     /* at least 1 */
    int64_t first_ms;  /* firstTimestamp (or eventTime) */
    int64_t last_ms;   /* lastTimestamp, else series.lastObservedTime,
                          else eventTime, else firstTimestamp */
    uint64_t order;    /* metadata.resourceVersion when it is a number (it
                          is etcd's revision), else 0: orders Events of the
                          same second, which their timestamps cannot */
};

/* The controller's Lease (coordination.k8s.io/v1). */
struct gather_lease {
    enum gather_state state;
    char *namespace_name;
    char *name;
    char *holder;        /* spec.holderIdentity; NULL when unset */
    int64_t renew_ms;    /* spec.renewTime, VIEWS_TIME_NONE if unset */
    int64_t duration_s;  /* spec.leaseDurationSeconds, 0 if unset */
    int64_t transitions; /* spec.leaseTransitions */
    char error[GATHER_ERROR_MAX];
};

/* One source Service and everything around it. Views are owned (one
 * reference each); strings are owned. */
struct gather_service {
    char *namespace_name;
    char *name;
    enum gather_state source_state;
    struct views_service *source; /* NULL unless source_state is OK */
    /* The Service named by the source's leader name (the annotation, else
     * <source>-leader), read whoever manages it. */
    char *leader_name; /* NULL when the source has no valid leader name */
    enum gather_state leader_state;
    struct views_service *leader;
    /* EndpointSlices labelled kubernetes.io/service-name=<leader_name>,
     * sorted by name (ours are <L>-ipv4 / <L>-ipv6; others are listed
     * too, so a foreign slice is visible). */
    struct views_endpointslice **slices;
    size_t slice_count;
    enum gather_state slices_state;
    /* Pods of the namespace that the selector matches, plus the pod a
     * leader slice names when it no longer matches; sorted by name. */
    struct views_pod **pods;
    size_t pod_count;
    enum gather_state pods_state;
    /* Events on the source and on the leader Service, oldest first by
     * last_ms. */
    struct gather_event *events;
    size_t event_count;
    enum gather_state events_state;
    char error[GATHER_ERROR_MAX]; /* the first read that failed */
};

/* Reads one Service by namespace and name and everything around it. A
 * part that cannot be read is recorded in its state (and error), not an
 * error: status shows what it can. Returns ZL_ERR_NOMEM only, or
 * ZL_ERR_INVALID for NULL arguments. Clean up with gather_service_cleanup
 * (also after an error). */
enum zl_err gather_service(struct client *c, const char *ns, const char *name,
                           struct gather_service *out);

/* Every Service in ns (NULL: all namespaces) that has the annotation
 * zen-lead.io/enabled, each gathered as gather_service does but from three
 * LISTs (Services, pods, managed slices) instead of reads per Service, and
 * without Events. *out is an array of *count entries, sorted by namespace
 * then name, freed with gather_services_free. ZL_ERR_FORBIDDEN /
 * ZL_ERR_TRANSIENT / ... when the Services cannot be listed (err says
 * which request and the API server's answer). */
enum zl_err gather_annotated(struct client *c, const char *ns,
                             struct gather_service **out, size_t *count,
                             char err[GATHER_ERROR_MAX]);

/* Reads the Lease ns/name into out (state tells how it went). Returns
 * ZL_ERR_NOMEM only. Clean up with gather_lease_cleanup. */
enum zl_err gather_lease(struct client *c, const char *ns, const char *name,
                         struct gather_lease *out);

/* Parses a core v1 EventList body (a LIST answer) and appends its Events
 * to *items (count in *count, capacity managed here; both start as
 * NULL/0). Missing strings become "", missing times VIEWS_TIME_NONE, a
 * count below 1 becomes 1. Errors as listpage_walk and json_parse_object;
 * the Events parsed before an error stay. Free with gather_events_free. */
enum zl_err gather_events_parse(const char *body, size_t len,
                                struct gather_event **items, size_t *count);

/* Sorts Events oldest first: by last_ms, then order, then reason. */
void gather_events_sort(struct gather_event *items, size_t count);

void gather_events_free(struct gather_event *items, size_t count);

void gather_service_cleanup(struct gather_service *g);
void gather_services_free(struct gather_service *list, size_t count);
void gather_lease_cleanup(struct gather_lease *l);

/* The state of a failed read from the client's error. */
enum gather_state gather_state_of(enum zl_err err);

#endif
