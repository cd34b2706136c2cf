/* SPDX-License-Identifier: Apache-2.0 */
/* The objects the benchmarks put in the cluster: namespaces, a Ready Node,
 * enabled Services and pods bound to the node, whose status is written the
 * way a kubelet would (e2e/lib/k8s.bash does the same from shell). It
 * does not wait for anything to react. */
#ifndef ZL_BENCH_FIXTURE_H
#define ZL_BENCH_FIXTURE_H

#include <stdbool.h>

#include "base/err.h"
#include "benchkube.h"

#define FIXTURE_IP_MAX 16
#define FIXTURE_PORT 8080

/* The n-th test pod address (10.244.x.y, as k8s_ipv4 in k8s.bash). */
void fixture_ipv4(unsigned n, char out[FIXTURE_IP_MAX]);

enum zl_err fixture_namespace(struct bk *b, const char *ns);
/* Force-deletes its pods (bound to a node with no kubelet, they would
 * stay terminating and hold the namespace forever), then starts deleting
 * the namespace (does not wait). */
void fixture_namespace_delete(struct bk *b, const char *ns);
/* Creates the Node (AlreadyExists is fine) and marks it Ready. */
enum zl_err fixture_node(struct bk *b, const char *node);
/* A ClusterIP Service selecting app=<name>, port 80 -> 8080, annotated
 * zen-lead.io/enabled=true. */
enum zl_err fixture_service(struct bk *b, const char *ns, const char *name);
/* A pod labelled app=<app>, bound to node, one container port 8080. */
enum zl_err fixture_pod(struct bk *b, const char *ns, const char *name,
                        const char *app, const char *node);
/* Phase Running with Ready/ContainersReady = ready and the IP (NULL keeps
 * the IPs as they are). */
enum zl_err fixture_pod_status(struct bk *b, const char *ns, const char *name,
                               bool ready, const char *ip);
/* Clears status.podIP and podIPs. */
enum zl_err fixture_pod_clear_ip(struct bk *b, const char *ns,
                                 const char *name);
/* The pod, Running and Ready with its IP: create + status. */
enum zl_err fixture_ready_pod(struct bk *b, const char *ns, const char *name,
                              const char *app, const char *node,
                              const char *ip);

#endif
