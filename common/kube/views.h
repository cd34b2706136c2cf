/* SPDX-License-Identifier: Apache-2.0 */
/* Compact, reference-counted views of Pods, Services and EndpointSlices, and
 * their parsing from the API server's JSON. A view keeps only the fields the
 * rules, the store and the webhook need; it is defined here once and nobody
 * re-declares it. Parsing does no I/O. */
#ifndef ZL_KUBE_VIEWS_H
#define ZL_KUBE_VIEWS_H

#include <stdatomic.h>
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
/* The API allows at most 1000 endpoints per EndpointSlice. */
#define VIEWS_MAX_ENDPOINTS 1000
/* Addresses kept per endpoint; the API allows up to 100 but kube-proxy uses
 * only the first, so later ones are dropped (not an error). */
#define VIEWS_ENDPOINT_ADDRESSES 4

/* Well-known EndpointSlice labels. */
#define VIEWS_LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define VIEWS_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"

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

enum views_address_type {
    VIEWS_ADDR_IPV4 = 0,
    VIEWS_ADDR_IPV6,
    VIEWS_ADDR_FQDN, /* deprecated by the API, still accepted */
};

/* The reference count of a view. It counts the references beyond the first,
 * so a zero-initialised (hand-built) view holds exactly one. Touch it only
 * through views_retain and views_release. 32 bits, so that it and the kind
 * share one word: four billion holders of one view would be a leak. */
struct views_ref {
    atomic_uint_least32_t extra;
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

/* What a view is; NONE only in a hand-built view that did not set it. */
enum views_kind {
    VIEWS_KIND_NONE = 0,
    VIEWS_KIND_POD,
    VIEWS_KIND_SERVICE,
    VIEWS_KIND_ENDPOINTSLICE,
};

/* The part every view starts with (its first member, meta): identity,
 * labels, lifetime and the bookkeeping of its one allocation. The store and
 * the lifecycle functions work on it through a pointer to the view. */
struct views_meta {
    const char *namespace_name;
    const char *name;
    const char *uid;
    const char *resource_version;
    struct views_map labels;
    int64_t created_ms; /* creationTimestamp, VIEWS_TIME_NONE if absent */
    int64_t deleted_ms; /* deletionTimestamp, VIEWS_TIME_NONE if absent */
    void *mem;          /* owns every string and array of the view */
    struct views_ref ref;
    enum views_kind kind;
};

/* A port declared by a container (regular, or restartable init container,
 * i.e. a sidecar with restartPolicy: Always). Unnamed ports have name "". */
struct views_container_port {
    const char *name;
    int32_t port;
    enum views_protocol protocol;
};

struct views_pod {
    struct views_meta meta; /* first member: a view is its meta */
    const char *node_name;  /* "" when unscheduled */
    enum views_pod_phase phase;
    bool ready;               /* condition Ready is "True" */
    int64_t ready_changed_ms; /* lastTransitionTime of the Ready condition,
                                 VIEWS_TIME_NONE when absent */
    const char *ip[2];        /* first IPv4 / IPv6 of status.podIPs (or
                                 podIP); NULL when the pod has none */
    struct views_container_port *ports; /* containers first, in order, then
                                           restartable init containers */
    size_t port_count;
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
    struct views_meta meta; /* first member: a view is its meta */
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
};

/* A targetRef: fields NULL when the reference or the field is absent. */
struct views_object_ref {
    const char *kind;
    const char *name;
    const char *uid;
};

/* One endpoint of an EndpointSlice. The conditions carry the API's nil
 * semantics already: ready and serving default to true, terminating to
 * false. */
struct views_endpoint {
    const char *addresses[VIEWS_ENDPOINT_ADDRESSES]; /* first ones only */
    size_t address_count;
    bool ready;
    bool serving;
    bool terminating;
    struct views_object_ref target_ref;
    const char *node_name; /* NULL when absent */
};

/* An EndpointSlice port. name and port are NULL / 0 when absent, which
 * kube-proxy treats as "ignore this port"; "" is the unnamed port. */
struct views_endpoint_port {
    const char *name;
    int32_t port;
    enum views_protocol protocol;
    const char *app_protocol; /* NULL when absent */
};

struct views_endpointslice {
    struct views_meta meta;   /* first member: a view is its meta */
    const char *service_name; /* label VIEWS_LABEL_SERVICE_NAME or NULL */
    const char *managed_by;   /* label VIEWS_LABEL_MANAGED_BY or NULL */
    enum views_address_type address_type;
    bool has_owner; /* controller ownerReference present */
    struct views_owner owner;
    struct views_endpoint *endpoints;
    size_t endpoint_count;
    struct views_endpoint_port *ports;
    size_t port_count;
};

/* Parses an object of one kind from its JSON (a json-c object, borrowed;
 * a list item or a watch event's object). On success *out is a new view
 * with one reference, released with views_release. ZL_ERR_INVALID for
 * VIEWS_KIND_NONE.
 * Every kind: absent or null fields take their defaults (strings "", times
 * VIEWS_TIME_NONE); a field of the wrong type, an unknown protocol, an
 * integer outside int32, a malformed timestamp or a string with an embedded
 * NUL is ZL_ERR_PARSE (the field is named in a debug log line); more than
 * VIEWS_MAX_LABELS labels (annotations, selector entries), VIEWS_MAX_PORTS
 * ports or a string over VIEWS_MAX_STRING is ZL_ERR_LIMIT. A parsed view is
 * one allocation (mem is the view itself), sized by a first pass over the
 * JSON; should the second pass need more (a bug), the view is dropped and
 * the answer is ZL_ERR_INTERNAL.
 * Pods: pod IPs that are not IP addresses are ignored.
 * Services: unknown spec.type or ipFamilies values are ZL_ERR_PARSE, more
 * than two ipFamilies ZL_ERR_LIMIT. targetPort 0 or "" means unset
 * (defaulted to port). Only the first ownerReference with controller: true
 * is kept (EndpointSlices too).
 * EndpointSlices: an unknown addressType or a condition that is not a
 * boolean is ZL_ERR_PARSE; more than VIEWS_MAX_ENDPOINTS endpoints or
 * VIEWS_MAX_PORTS ports is ZL_ERR_LIMIT. Addresses past
 * VIEWS_ENDPOINT_ADDRESSES are dropped, and so are hostname, zone and
 * hints. */
enum zl_err views_from_json(enum views_kind kind, struct json_object *obj,
                            void **out);

/* The same from JSON text (json_parse_object's rules: exactly one object,
 * ZL_ERR_LIMIT past its depth or size). */
enum zl_err views_parse(enum views_kind kind, const char *json, size_t json_len,
                        void **out);

/* The same for each kind, typed: from a json-c object, and from text. */
enum zl_err views_pod_from_json(struct json_object *obj,
                                struct views_pod **out);
enum zl_err views_service_from_json(struct json_object *obj,
                                    struct views_service **out);
enum zl_err views_endpointslice_from_json(struct json_object *obj,
                                          struct views_endpointslice **out);
enum zl_err views_pod_parse(const char *json, size_t json_len,
                            struct views_pod **out);
enum zl_err views_service_parse(const char *json, size_t json_len,
                                struct views_service **out);
enum zl_err views_endpointslice_parse(const char *json, size_t json_len,
                                      struct views_endpointslice **out);

/* Reference counting of any view (a pod, service or endpointslice), for
 * views shared between the store and its readers (a parsed view starts
 * with one reference). retain adds one; release drops one and frees the
 * view when it was the last. Both are atomic, so any thread may call them
 * on a view it holds; NULL is a no-op. A view must not be modified once it
 * is shared. release also frees a hand-built heap view whose mem is a
 * separate block (or NULL). */
void views_retain(const void *view);
void views_release(const void *view);

/* The shared part of any view (NULL for NULL), and a view as its own kind:
 * NULL when view is NULL or of another kind. */
const struct views_meta *views_meta_of(const void *view);
const struct views_pod *views_pod_of(const void *view);
const struct views_service *views_service_of(const void *view);
const struct views_endpointslice *views_endpointslice_of(const void *view);

/* Test hook: every later parse sizes its block this many bytes short of
 * what it measured (0, the default, turns it off), so a test can make the
 * second pass outgrow the block and see ZL_ERR_INTERNAL. Not thread
 * safe; not for production code. */
void views_test_arena_shortfall(size_t bytes);

/* Looks a key up in a map; NULL when absent. */
const char *views_map_get(const struct views_map *map, const char *key);

const char *views_protocol_name(enum views_protocol proto);
/* The API's words for a protocol, a Service type and an IP family, exactly
 * as spelled there; ZL_ERR_PARSE for anything else. */
enum zl_err views_protocol_parse(const char *text, enum views_protocol *out);
enum zl_err views_service_type_parse(const char *text,
                                     enum views_service_type *out);
enum zl_err views_ip_family_parse(const char *text, enum views_ip_family *out);

#endif
