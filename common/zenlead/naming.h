/* SPDX-License-Identifier: Apache-2.0 */
/* The name of a source's leader Service: "<source>-leader" unless the
 * zen-lead.io/leader-service-name annotation gives one. Every name must be a
 * DNS-1035 label, as the API server requires of Service names. Pure. */
#ifndef ZL_ZENLEAD_NAMING_H
#define ZL_ZENLEAD_NAMING_H

#include <stdbool.h>

#include "base/err.h"

#define NAMING_SUFFIX "-leader"
/* A DNS-1035 label holds at most this many characters. */
#define NAMING_MAX_LABEL 63
/* Longest source name whose derived name "<source>-leader" still fits. */
#define NAMING_MAX_DERIVED_SOURCE (NAMING_MAX_LABEL - 7)

/* True when name is a DNS-1035 label: 1 to 63 characters of [a-z0-9-],
 * starting with a letter and ending with a letter or digit. NULL is false. */
bool naming_is_dns1035_label(const char *name);

/* Writes the leader Service name of source into out. explicit_name is the
 * (already normalized) annotation value, or NULL when the annotation is
 * absent. Errors, out set to "" on each:
 * ZL_ERR_INVALID  explicit_name is not a DNS-1035 label (an empty one
 *                 included), or equals source;
 * ZL_ERR_LIMIT    no explicit_name and source is longer than
 *                 NAMING_MAX_DERIVED_SOURCE: the annotation is required;
 * ZL_ERR_PARSE    no explicit_name and source itself is not a DNS-1035
 *                 label, so "<source>-leader" would not be one either. */
enum zl_err naming_leader_name(const char *source, const char *explicit_name,
                               char out[static NAMING_MAX_LABEL + 1]);

#endif
