/* SPDX-License-Identifier: Apache-2.0 */
/* Memory BIO to buffer. */
#include "certs/certbio.h"

enum zl_err certbio_drain(BIO *bio, struct buf *out)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0 || (n > 0 && data == NULL))
        return ZL_ERR_INTERNAL;
    return buf_append(out, data, (size_t)n);
}
