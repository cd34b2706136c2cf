/* SPDX-License-Identifier: Apache-2.0 */
/* Renders the desired leader Service and its EndpointSlice(s) (SPEC section
 * 2) as json-c objects, complete documents ready for server-side apply. Pure:
 * it neither reads the cluster nor decides who leads (see leader.h); it
 * never renders a selector, a nodePort or more than one endpoint. */
#ifndef ZL_ZENLEAD_RENDER_H
#define ZL_ZENLEAD_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/views.h"
#include "zenlead/annotations.h"

struct json_object;

#define RENDER_MANAGER "zen-lead"
#define RENDER_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define RENDER_LABEL_SOURCE "zen-lead.io/source-service"
#define RENDER_LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define RENDER_LABEL_SLICE_MANAGED_BY "endpointslice.kubernetes.io/managed-by"

/* Longest EndpointSlice name, terminator included: "<L>-ipv4". */
#define RENDER_MAX_SLICE_NAME (ANNOTATIONS_MAX_NAME + sizeof("-ipv4"))

/* What both renderings read; all borrowed, nothing kept.
 * - source: the user's Service (name, namespace, uid, labels, annotations,
 *   ports, ipFamilies, ipFamilyPolicy are read).
 * - leader_name: <L>, already validated (a DNS-1035 label).
 * - leader: the pod to route to (leader_choose's decision), NULL for none.
 * - endpoint_ready: the decision's endpoint_ready.
 * - last_switch_ms: when the routed pod last changed, none included; the
 *   caller keeps it (it changes only when the routed pod changes) and
 *   VIEWS_TIME_NONE omits the annotation. */
struct render_input {
    const struct views_service *source;
    const char *leader_name;
    const struct views_pod *leader;
    bool endpoint_ready;
    int64_t last_switch_ms;
};

/* Renders the leader Service <L>:
 * - metadata: name, namespace; labels = the source's minus
 *   render_label_copied rejects, then app.kubernetes.io/managed-by:
 *   zen-lead and zen-lead.io/source-service: <source>; annotations = the
 *   source's minus render_annotation_copied rejects, then, with a leader,
 *   zen-lead.io/current-leader and leader-pod-name (the pod name) and
 *   leader-pod-uid, and leader-last-switch-time (RFC 3339 UTC) when
 *   last_switch_ms is set; one ownerReference to the source (v1 Service,
 *   controller true, no blockOwnerDeletion: on clusters enforcing
 *   OwnerReferencesPermissionEnforcement it needs services/finalizers
 *   permission, which zen-lead's RBAC does not grant).
 * - spec: type ClusterIP, no selector, no clusterIP, no nodePorts; ports
 *   mirrored (name when not "", protocol, port, appProtocol when set);
 *   targetPort is the number resolved against the leader; a named
 *   targetPort with no leader keeps its name (valid, and unused by
 *   kube-proxy for a selector-less Service). ipFamilies and ipFamilyPolicy
 *   are mirrored when the source has them.
 * On success *out is a new object the caller releases with json_object_put.
 * ZL_ERR_INVALID when in, source (or its name, namespace or uid) or
 * leader_name is missing; ZL_ERR_NOMEM. */
enum zl_err render_leader_service(const struct render_input *in,
                                  struct json_object **out);

/* The IP families of the leader Service, which mirrors the source's: the
 * source's ipFamilies in order, or IPv4 alone when the API server has not
 * set them. Returns the count (1 or 2); one EndpointSlice per family. */
size_t render_slice_families(const struct views_service *source,
                             enum views_ip_family families[static 2]);

/* Writes "<leader_name>-ipv4" or "-ipv6" into out. */
void render_slice_name(const char *leader_name, enum views_ip_family family,
                       char out[static RENDER_MAX_SLICE_NAME]);

/* Renders the EndpointSlice of <L> for one family:
 * - metadata: name <L>-ipv4/<L>-ipv6, namespace, the four zen-lead labels
 *   (kubernetes.io/service-name: <L>, both managed-by labels, source);
 *   no source labels are copied (some would make kube-proxy ignore it).
 *   One ownerReference to the leader Service (controller true, no
 *   blockOwnerDeletion, as above), which needs its uid: the
 *   slice cannot be rendered before the leader Service exists, so the
 *   caller applies the Service first and passes the uid it got back.
 * - addressType IPv4/IPv6 (immutable in the API, hence a slice per family).
 * - endpoints: [] without a leader or when the leader has no IP of this
 *   family; else exactly one: addresses [ip], conditions {ready =
 *   endpoint_ready, serving = the pod's Ready, terminating = false},
 *   targetRef {kind Pod, namespace, name, uid}, nodeName when known.
 * - ports: one per source port: name ("" for an unnamed port, as
 *   kube-proxy expects), port = the resolved target port (omitted when a
 *   named targetPort cannot be resolved, i.e. without a leader), protocol,
 *   appProtocol when set.
 * On success *out is a new object (json_object_put). ZL_ERR_INVALID as for
 * render_leader_service, or when leader_service_uid is NULL or "";
 * ZL_ERR_NOMEM. */
enum zl_err render_endpoint_slice(const struct render_input *in,
                                  const char *leader_service_uid,
                                  enum views_ip_family family,
                                  struct json_object **out);

/* False for source labels never copied to the leader Service: GitOps
 * tracking labels (app.kubernetes.io/instance, managed-by, part-of,
 * version, argocd.argoproj.io/instance, fluxcd.io/part-of,
 * kustomize.toolkit.fluxcd.io/<any>). zen-lead.io/source-service is
 * overwritten, not filtered. */
bool render_label_copied(const char *key);

/* False for source annotations never copied: zen-lead.io/<any>,
 * kubectl.kubernetes.io/last-applied-configuration, argocd.argoproj.io/<any>,
 * fluxcd.io/<any>, kustomize.toolkit.fluxcd.io/<any>. */
bool render_annotation_copied(const char *key);

/* Serializes a rendered object as compact JSON text for an apply body.
 * *out is a new string the caller frees; ZL_ERR_NOMEM. */
enum zl_err render_to_string(struct json_object *obj, char **out);

#endif
