/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge between OpenSSL's memory BIOs and our buffers, shared by the
 * certificate modules. */
#ifndef ZL_CERTS_CERTBIO_H
#define ZL_CERTS_CERTBIO_H

#include <openssl/bio.h>

#include "base/buf.h"
#include "base/err.h"

/* Appends everything written to the memory BIO bio to out. */
enum zl_err certbio_drain(BIO *bio, struct buf *out);

#endif
