/* SPDX-License-Identifier: Apache-2.0 */
/* The caBundle of a webhook configuration: CA certificates gathered
 * without duplicates (a certificate that is not a CA is refused), written
 * as one PEM text, and base64 for the API field. No file I/O. */
#ifndef ZL_CERTS_CABUNDLE_H
#define ZL_CERTS_CABUNDLE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "certs/certinfo.h"

/* Adds cert to bundle unless the same certificate (byte for byte) is in
 * it; *added says which. ZL_ERR_INVALID when cert is not a CA
 * (basicConstraints CA:TRUE), ZL_ERR_LIMIT when the bundle is full. */
enum zl_err cabundle_add(struct certinfo_list *bundle, X509 *cert, bool *added);

/* Appends the bundle's certificates as PEM, in order, to out. */
enum zl_err cabundle_pem(const struct certinfo_list *bundle, struct buf *out);

/* Appends standard base64 (no line breaks) of data to out. */
enum zl_err cabundle_base64(const void *data, size_t len, struct buf *out);

#endif
