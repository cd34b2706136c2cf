/* SPDX-License-Identifier: Apache-2.0 */
/* Named targetPort resolution: a Service port whose targetPort is a name is
 * resolved against the ports a pod declares, matching name AND protocol, in
 * containers first, then restartable init containers (sidecars). Numeric
 * targetPorts resolve to themselves. Pure. */
#ifndef ZL_ZENLEAD_PORTS_H
#define ZL_ZENLEAD_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/views.h"

/* Resolves one service port for a pod. ZL_OK with *out set; ZL_ERR_NOTFOUND
 * when the pod declares no port of that name and protocol (or declares it
 * with a number outside 1..65535: the first match wins, as in kube-proxy).
 * A numeric targetPort outside 1..65535 is ZL_ERR_NOTFOUND too. */
enum zl_err ports_resolve_one(const struct views_service_port *sp,
                              const struct views_pod *pod, int32_t *out);

/* Resolves every port of svc for pod into targets[svc->port_count]. On
 * ZL_ERR_NOTFOUND *failed_index names the first port that did not resolve. */
enum zl_err ports_resolve_all(const struct views_service *svc,
                              const struct views_pod *pod, int32_t *targets,
                              size_t *failed_index);

/* True when the pod declares every named targetPort of svc. */
bool ports_pod_declares_all(const struct views_service *svc,
                            const struct views_pod *pod);

/* True when svc has at least one named targetPort. */
bool ports_has_named(const struct views_service *svc);

#endif
