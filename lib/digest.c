/* sha256 digests through OpenSSL's EVP interface. */
#include "lib/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/evp.h>

struct digest_ctx {
	EVP_MD_CTX *md;
};

static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 fetched from its provider once: EVP_sha256() looks it up again
 * at every use. */
static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched ? sha256_fetched : EVP_sha256();
}

static const char hex_digits[] = "0123456789abcdef";

static void format_digest(const unsigned char raw[32], char out[DIGEST_STRING_SIZE])
{
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex_digits[raw[i] >> 4];
		out[8 + 2 * i] = hex_digits[raw[i] & 0xf];
	}
	out[7 + 64] = '\0';
}

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
	if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, sha256(), NULL) != 1) {
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
	unsigned char raw[EVP_MAX_MD_SIZE] = { 0 };
	unsigned int n = 0;

	EVP_DigestFinal_ex(ctx->md, raw, &n);
	format_digest(raw, out);
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

	EVP_Digest(data, len, raw, &n, sha256(), NULL);
	format_digest(raw, out);
}
