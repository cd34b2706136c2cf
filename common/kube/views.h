/* SPDX-License-Identifier: Apache-2.0 */
/* Compact views of the Kubernetes objects the rules read (Pod, Service), and
 * their parsing from the API server's JSON. A view keeps only the fields the
 * rules, the controller's store and the webhook need; it is defined here once
 * and nobody re-declares it. Parsing does no I/O. */
#ifndef ZL_KUBE_VIEWS_H
#define ZL_KUBE_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct json_object;

/* Instants are milliseconds since the Unix epoch (UTC). */
#define VIEWS_TIME_NONE INT64_MIN

/* Limits checked while parsing; anything larger is ZL_ERR_LIMIT. */
#define VIEWS_MAX_LABELS 512
#define VIEWS_MAX_PORTS 1024
#define VIEWS_MAX_STRING 65536
/* Annotation values may be longer than VIEWS_MAX_STRING; keys and values
 * together are bounded by the API server's own limit (256 KiB). */
#define VIEWS_MAX_ANNOTATIONS_BYTES ((size_t)256 * 1024)

enum views_protocol {
    VIEWS_PROTO_TCP = 0, /* the API default when protocol is omitted */
    VIEWS_PROTO_UDP,
    VIEWS_PROTO_SCTP,
};

enum views_pod_phase {
    VIEWS_PHASE_UNKNOWN = 0, /* absent or unrecognised */
    VIEWS_PHASE_PENDING,
    VIEWS_PHASE_RUNNING,
    VIEWS_PHASE_SUCCEEDED,
    VIEWS_PHASE_FAILED,
};

enum views_service_type {
    VIEWS_SVC_CLUSTER_IP = 0, /* the API default */
    VIEWS_SVC_NODE_PORT,
    VIEWS_SVC_LOAD_BALANCER,
    VIEWS_SVC_EXTERNAL_NAME,
};

enum views_ip_family {
    VIEWS_IPV4 = 0,
    VIEWS_IPV6 = 1,
};

/* One key/value pair; both strings are owned by the enclosing view. */
struct views_kv {
    const char *key;
    const char *value;
};

/* Labels, annotations or a selector: sorted by key, keys unique. */
struct views_map {
    struct views_kv *items;
    size_t count;
};

/* A port declared by a container (regular, or restartable init container,
 * i.e. a sidecar with restartPolicy: Always). Unnamed ports have name "". */
struct views_container_port {
    const char *name;
    int32_t port;
    enum views_protocol protocol;
};

struct views_pod {
    const char *namespace_name;
    const char *name;
    const char *uid;
    const char *resource_version;
    const char *node_name; /* "" when unscheduled */
    struct views_map labels;
    int64_t created_ms; /* creationTimestamp */
    int64_t deleted_ms; /* deletionTimestamp, VIEWS_TIME_NONE if absent */
    enum views_pod_phase phase;
    bool ready;               /* condition Ready is "True" */
    int64_t ready_changed_ms; /* lastTransitionTime of the Ready condition,
                                 VIEWS_TIME_NONE when absent */
    const char *ip[2];        /* first IPv4 / IPv6 of status.podIPs (or
                                 podIP); NULL when the pod has none */
    struct views_container_port *ports; /* containers first, in order, then
                                           restartable init containers */
    size_t port_count;
    void *mem; /* owns every string and array above */
};

/* A service port; target_port_name is non-NULL for a named targetPort, else
 * target_port holds the number (defaulted to port when omitted). */
struct views_service_port {
    const char *name; /* "" when unnamed */
    enum views_protocol protocol;
    int32_t port;
    int32_t target_port;
    const char *target_port_name;
    const char *app_protocol; /* NULL when absent */
};

/* The controlling ownerReference of an object, if any. */
struct views_owner {
    const char *api_version;
    const char *kind;
    const char *name;
    const char *uid;
};

struct views_service {
    const char *namespace_name;
    const char *name;
    const char *uid;
    const char *resource_version;
    struct views_map labels;
    struct views_map annotations;
    bool has_selector; /* spec.selector present and non-empty */
    struct views_map selector;
    enum views_service_type type;
    bool headless; /* clusterIP: None */
    enum views_ip_family ip_families[2];
    size_t ip_family_count;       /* 0 when not yet set by the API server */
    const char *ip_family_policy; /* NULL when absent */
    struct views_service_port *ports;
    size_t port_count;
    bool has_owner; /* controller ownerReference present */
    struct views_owner owner;
    int64_t created_ms;
    int64_t deleted_ms;
    void *mem;
};

/* Parses a Pod from its JSON (a json-c object, borrowed). On success *out is
 * a new view the caller frees with views_pod_free. ZL_ERR_PARSE names the
 * first field of the wrong type; ZL_ERR_LIMIT for oversized input.
 * Details: absent or null fields take their defaults (strings "", times
 * VIEWS_TIME_NONE); a field of the wrong type, an unknown protocol, an
 * integer outside int32, a malformed timestamp or a string with an embedded
 * NUL is ZL_ERR_PARSE (the field is named in a debug log line); more than
 * VIEWS_MAX_LABELS labels (annotations, selector entries), VIEWS_MAX_PORTS
 * ports or a string over VIEWS_MAX_STRING is ZL_ERR_LIMIT. Pod IPs that are
 * not IP addresses are ignored. A parsed view is one allocation (mem is the
 * view itself); views_pod_free also accepts a hand-built heap view whose
 * mem is a separate block (or NULL). The _parse variants take JSON text,
 * which must hold exactly one value (ZL_ERR_LIMIT past 64 levels of
 * nesting). */
enum zl_err views_pod_from_json(struct json_object *obj,
                                struct views_pod **out);
enum zl_err views_pod_parse(const char *json, size_t json_len,
                            struct views_pod **out);
void views_pod_free(struct views_pod *pod);

/* Same for a Service. Unknown spec.type or ipFamilies values are
 * ZL_ERR_PARSE, more than two ipFamilies ZL_ERR_LIMIT. targetPort 0 or ""
 * means unset (defaulted to port). Only the first ownerReference with
 * controller: true is kept. */
enum zl_err views_service_from_json(struct json_object *obj,
                                    struct views_service **out);
enum zl_err views_service_parse(const char *json, size_t json_len,
                                struct views_service **out);
void views_service_free(struct views_service *svc);

/* Looks a key up in a map; NULL when absent. */
const char *views_map_get(const struct views_map *map, const char *key);

/* RFC 3339 timestamp ("2024-05-01T10:00:00Z", fractions and offsets allowed)
 * to milliseconds since the epoch. ZL_ERR_PARSE when malformed. */
enum zl_err views_parse_time(const char *text, int64_t *out_ms);

/* Formats an instant as RFC 3339 UTC with second precision
 * ("2024-05-01T10:00:00Z") into out (at least 21 bytes). */
void views_format_time(int64_t ms, char out[static 21]);

const char *views_protocol_name(enum views_protocol proto);
enum zl_err views_protocol_parse(const char *text, enum views_protocol *out);

#endif
