/* Content digests in the OCI form "sha256:<64 lowercase hex>": checking
 * the form, and computing one over a stream of bytes. */
#ifndef BERTH_LIB_DIGEST_H
#define BERTH_LIB_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/berr.h"

/* "sha256:" + 64 hex digits + NUL */
#define DIGEST_STRING_SIZE 72

/* Whether S is "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_is_valid(const char *s);

struct digest_ctx;

/* A new sha256 computation; NULL when out of memory. */
struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *ctx, const void *data, size_t len);
/* Writes "sha256:<hex>" into OUT; the context may not be updated again. */
void digest_final(struct digest_ctx *ctx, char out[DIGEST_STRING_SIZE]);
void digest_free(struct digest_ctx *ctx);

/* The digest of LEN bytes at DATA. */
void digest_bytes(const void *data, size_t len, char out[DIGEST_STRING_SIZE]);

#endif
