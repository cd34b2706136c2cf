/* SPDX-License-Identifier: Apache-2.0 */
/* Desired versus actual leader objects: says whether the cluster's object
 * already is what the rules rendered, so reconcile writes only what
 * differs. The desired side is the rendered document read back as a view
 * (the same parser the informers use), so both sides are compared in one
 * shape. Pure. */
#ifndef ZL_CONTROLLER_DIFF_H
#define ZL_CONTROLLER_DIFF_H

#include <stdbool.h>

#include "kube/views.h"

/* What differs between a desired and an actual object (bit set). */
enum diff_bits {
    DIFF_NONE = 0,
    DIFF_MISSING = 1 << 0,     /* no actual object */
    DIFF_LABELS = 1 << 1,      /* a desired label absent or other value */
    DIFF_ANNOTATIONS = 1 << 2, /* desired annotation absent/other, or a
                                  zen-lead.io/ one we no longer want */
    DIFF_OWNER = 1 << 3,       /* controlling ownerReference */
    DIFF_SPEC = 1 << 4,        /* type, selector, ports, ip families */
    DIFF_ENDPOINTS = 1 << 5,   /* slice endpoints (who routes) */
    DIFF_PORTS = 1 << 6,       /* slice ports */
    DIFF_ADDRESS_TYPE = 1 << 7 /* immutable: the slice must be replaced */
};

/* Labels: every desired label present with its value (others' extra
 * labels are left alone). Annotations: the same, plus no zen-lead.io/ key
 * that desired lacks (a stale leader-pod-uid would name the wrong pod).
 * Spec: type, no selector, ports (name, protocol, port, targetPort,
 * appProtocol, in order), ipFamilies and ipFamilyPolicy when desired sets
 * them. actual NULL gives DIFF_MISSING. */
unsigned diff_service(const struct views_service *desired,
                      const struct views_service *actual);

/* Labels as above; owner uid; addressType; endpoints (count, first
 * address, ready, serving, terminating, targetRef name and uid, nodeName);
 * ports (name, port, protocol, appProtocol). */
unsigned diff_slice(const struct views_endpointslice *desired,
                    const struct views_endpointslice *actual);

/* True when labels hold every key of want with the same value. */
bool diff_labels_subset(const struct views_map *want,
                        const struct views_map *have);

#endif
