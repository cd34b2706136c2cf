/* SPDX-License-Identifier: Apache-2.0 */
/* Equality label selectors, as in a Service's spec.selector: a pod matches
 * when every selector key is among its labels with the same value. No set
 * expressions (Services have none). Pure. */
#ifndef ZL_ZENLEAD_SELECTOR_H
#define ZL_ZENLEAD_SELECTOR_H

#include <stdbool.h>

#include "kube/views.h"

/* True when labels hold every key of selector with an equal value. Both maps
 * must be sorted by key with unique keys (as views are). An EMPTY selector
 * matches NOTHING: for Kubernetes an empty Service selector selects no pods
 * through the endpoints controller, and zen-lead refuses selector-less
 * sources, so treating it as "match all" would only route to strangers. */
bool selector_matches(const struct views_map *selector,
                      const struct views_map *labels);

/* selector_matches against a pod's labels; false for an empty selector or a
 * service without one. */
bool selector_matches_pod(const struct views_service *svc,
                          const struct views_pod *pod);

#endif
