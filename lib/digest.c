/* sha256 digests through OpenSSL's EVP interface. */
#include "lib/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct digest_ctx {
	EVP_MD_CTX *md;
};

bool digest_is_valid(const char *s)
{
	if (s == NULL || strncmp(s, "sha256:", 7) != 0)
		return false;
	s += 7;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

struct digest_ctx *digest_new(void)
{
	struct digest_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->md = EVP_MD_CTX_new();
	if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		digest_free(ctx);
		return NULL;
	}
	return ctx;
}

void digest_update(struct digest_ctx *ctx, const void *data, size_t len)
{
	EVP_DigestUpdate(ctx->md, data, len);
}

void digest_final(struct digest_ctx *ctx, char out[DIGEST_STRING_SIZE])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(ctx->md, raw, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
	out[7 + 64] = '\0';
}

void digest_free(struct digest_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

void digest_bytes(const void *data, size_t len, char out[DIGEST_STRING_SIZE])
{
	unsigned char raw[32];
	unsigned int n = 0;

	EVP_Digest(data, len, raw, &n, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
	out[7 + 64] = '\0';
}
