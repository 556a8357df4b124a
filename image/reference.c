/* Docker's image reference grammar, written out as small hand-made checks
 * rather than regular expressions: a name is split into domain and path the
 * way Docker splits it, each part is checked against its rule, and the
 * result is normalised (docker.io, "library/", "latest"). */
#include "image/reference.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/fsutil.h"

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define ID_HEX_LEN	      64
#define SHA256_PREFIX	      "sha256:"
/* The shortest hex part the grammar takes for any digest algorithm. */
#define DIGEST_HEX_MIN 32

#define INVALID_FORMAT "invalid reference format"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool has_upper(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return true;
	return false;
}

/* Number of lowercase hex digits S starts with. */
static size_t lower_hex_span(const char *s)
{
	size_t n = 0;

	while (is_lower_hex(s[n]))
		n++;
	return n;
}

/* One path component: lowercase alphanumerics joined by '.', '_', "__" or
 * a run of '-'; no separator at either end. */
static bool path_component_ok(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && is_lower_alnum(p[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (p[i] == '.') {
			i++;
		} else if (p[i] == '_') {
			i++;
			if (i < n && p[i] == '_')
				i++;
		} else if (p[i] == '-') {
			while (i < n && p[i] == '-')
				i++;
		} else {
			return false;
		}
	}
}

/* Path components joined by single slashes. */
static bool path_ok(const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (!path_component_ok(p + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* A DNS label: alphanumerics (either case) and inner hyphens. */
static bool domain_label_ok(const char *p, size_t n)
{
	if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(p[i]) && p[i] != '-')
			return false;
	return true;
}

/* host [":" port], where host is labels joined by dots or a bracketed IPv6
 * address ("[::1]"; Docker only asks for hex digits and colons there). */
static bool domain_ok(const char *p, size_t n)
{
	size_t host_end = 0;

	if (n > 0 && p[0] == '[') {
		size_t i = 1;

		while (i < n && (is_hex(p[i]) || p[i] == ':'))
			i++;
		if (i == 1 || i == n || p[i] != ']')
			return false;
		host_end = i + 1;
	} else {
		size_t start = 0;

		while (host_end < n && p[host_end] != ':')
			host_end++;
		for (size_t i = 0; i <= host_end; i++) {
			if (i == host_end || p[i] == '.') {
				if (!domain_label_ok(p + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (host_end == n)
		return true;
	if (p[host_end] != ':' || host_end + 1 == n)
		return false;
	for (size_t i = host_end + 1; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

/* [\w][\w.-]{0,127} */
static bool tag_ok(const char *p, size_t n)
{
	if (n == 0 || n > IMAGE_REFERENCE_TAG_MAX || !is_word(p[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(p[i]) && p[i] != '.' && p[i] != '-')
			return false;
	return true;
}

/* The grammar's digest: algorithm components ([A-Za-z][A-Za-z0-9]*) joined
 * by '+', '.', '_' or '-', a colon, then at least 32 hex digits of either
 * case.  Which algorithms and lengths are supported is checked after. */
static bool digest_grammar_ok(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		if (i == n || !((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			return false;
		while (i < n && is_alnum(p[i]))
			i++;
		if (i == n)
			return false;
		if (p[i] == ':')
			break;
		if (!strchr("+._-", p[i]))
			return false;
		i++;
	}
	i++;
	if (n - i < DIGEST_HEX_MIN)
		return false;
	for (; i < n; i++)
		if (!is_hex(p[i]))
			return false;
	return true;
}

/* Docker's reason for a digest that has the grammar's form but is not one
 * it can use; berth keeps sha256 only, as its blob store does. */
static int digest_check(const char *digest, struct berr **err)
{
	if (digest_is_valid(digest))
		return 0;
	if (!str_has_prefix(digest, SHA256_PREFIX))
		return berr_set(err, BERR_INVALID, 0,
				INVALID_FORMAT ": unsupported digest algorithm");
	if (strlen(digest) != strlen(SHA256_PREFIX) + ID_HEX_LEN)
		return berr_set(err, BERR_INVALID, 0,
				INVALID_FORMAT ": invalid checksum digest length");
	return berr_set(err, BERR_INVALID, 0, INVALID_FORMAT ": invalid checksum digest format");
}

/* Docker's domain rule: the part before the first slash is a domain when it
 * has a '.' or ':', is "localhost", or has an uppercase letter (a path may
 * not); otherwise the whole string is a path on docker.io. */
static bool looks_like_domain(const char *p, size_t n)
{
	if (memchr(p, '.', n) || memchr(p, ':', n))
		return true;
	if (n == strlen("localhost") && memcmp(p, "localhost", n) == 0)
		return true;
	return has_upper(p, n);
}

static int reference_parse(const char *s, bool default_tag, struct image_reference **out,
			   struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *remainder = NULL;
	const char *slash, *at, *colon, *rest;
	size_t path_len, name_len, tag_len = 0;

	if (s == NULL)
		return berr_set(err, BERR_INVALID, 0, INVALID_FORMAT);
	if (strlen(s) == ID_HEX_LEN && lower_hex_span(s) == ID_HEX_LEN)
		return berr_set(err, BERR_INVALID, 0,
				"invalid repository name (%s), cannot specify 64-byte hexadecimal "
				"strings",
				s);

	ref = calloc(1, sizeof(*ref));
	if (ref == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");

	slash = strchr(s, '/');
	if (slash != NULL && looks_like_domain(s, (size_t)(slash - s))) {
		ref->domain = strndup(s, (size_t)(slash - s));
		rest = slash + 1;
	} else {
		ref->domain = strdup(IMAGE_REFERENCE_DEFAULT_DOMAIN);
		rest = s;
	}
	if (ref->domain == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");
	if (strcmp(ref->domain, LEGACY_DEFAULT_DOMAIN) == 0) {
		free(ref->domain);
		ref->domain = strdup(IMAGE_REFERENCE_DEFAULT_DOMAIN);
		if (ref->domain == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");
	}
	/* Official images live under "library/" on Docker Hub. */
	if (strcmp(ref->domain, IMAGE_REFERENCE_DEFAULT_DOMAIN) == 0 && !strchr(rest, '/'))
		remainder = str_printf("%s%s", IMAGE_REFERENCE_OFFICIAL_PREFIX, rest);
	else
		remainder = strdup(rest);
	if (remainder == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");

	/* remainder = path [":" tag] ["@" digest]; neither path nor tag may
	 * hold '@', and the path may not hold ':'. */
	at = strchr(remainder, '@');
	path_len = at ? (size_t)(at - remainder) : strlen(remainder);
	colon = memchr(remainder, ':', path_len);
	if (colon != NULL) {
		tag_len = path_len - (size_t)(colon - remainder) - 1;
		path_len = (size_t)(colon - remainder);
	}

	/* Docker checks the case of the path before the rest of the grammar,
	 * so "Busybox!" is reported as a case problem. */
	if (has_upper(remainder, path_len))
		return berr_set(err, BERR_INVALID, 0,
				INVALID_FORMAT ": repository name must be lowercase");

	/* Docker's regular expression quietly reads a first component that
	 * looked like a domain but is not one ("a_b.c/x") as part of the path
	 * with no domain at all; berth refuses it instead. */
	if (!domain_ok(ref->domain, strlen(ref->domain)) || !path_ok(remainder, path_len))
		return berr_set(err, BERR_INVALID, 0, INVALID_FORMAT);
	if (colon != NULL && !tag_ok(colon + 1, tag_len))
		return berr_set(err, BERR_INVALID, 0, INVALID_FORMAT);
	if (at != NULL && !digest_grammar_ok(at + 1, strlen(at + 1)))
		return berr_set(err, BERR_INVALID, 0, INVALID_FORMAT);

	name_len = strlen(ref->domain) + 1 + path_len;
	if (name_len > IMAGE_REFERENCE_NAME_MAX)
		return berr_set(err, BERR_INVALID, 0,
				INVALID_FORMAT
				": repository name must not be more than %d characters",
				IMAGE_REFERENCE_NAME_MAX);
	if (at != NULL && digest_check(at + 1, err) < 0)
		return -1;

	ref->path = strndup(remainder, path_len);
	if (ref->path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");
	if (colon != NULL || (at == NULL && default_tag)) {
		/* A reference with only a digest stays without a tag. */
		ref->tag =
			colon ? strndup(colon + 1, tag_len) : strdup(IMAGE_REFERENCE_DEFAULT_TAG);
		if (ref->tag == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");
	}
	if (at != NULL) {
		ref->digest = strdup(at + 1);
		if (ref->digest == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse reference");
	}
	*out = steal_ptr(&ref);
	return 0;
}

int image_reference_parse(const char *s, struct image_reference **out, struct berr **err)
{
	return reference_parse(s, true, out, err);
}

int image_reference_parse_name(const char *s, struct image_reference **out, struct berr **err)
{
	return reference_parse(s, false, out, err);
}

void image_reference_free(struct image_reference *ref)
{
	if (ref == NULL)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	free(ref);
}

/* The path Docker shows for a docker.io name: "library/x" becomes "x",
 * but only when nothing is nested below it. */
static const char *familiar_path(const struct image_reference *ref)
{
	const char *rest;

	if (!str_has_prefix(ref->path, IMAGE_REFERENCE_OFFICIAL_PREFIX))
		return ref->path;
	rest = ref->path + strlen(IMAGE_REFERENCE_OFFICIAL_PREFIX);
	return strchr(rest, '/') ? ref->path : rest;
}

static bool on_default_domain(const struct image_reference *ref)
{
	return strcmp(ref->domain, IMAGE_REFERENCE_DEFAULT_DOMAIN) == 0;
}

/* DOMAIN (may be NULL for none) "/" PATH [":" tag] ["@" digest]. */
static char *join(const char *domain, const char *path, const char *tag, const char *digest,
		  struct berr **err)
{
	char *s =
		str_printf("%s%s%s%s%s%s%s", domain ? domain : "", domain ? "/" : "", path,
			   tag ? ":" : "", tag ? tag : "", digest ? "@" : "", digest ? digest : "");

	if (s == NULL)
		berr_set(err, BERR_INTERNAL, ENOMEM, "format reference");
	return s;
}

char *image_reference_format(const struct image_reference *ref, struct berr **err)
{
	return join(ref->domain, ref->path, ref->tag, ref->digest, err);
}

char *image_reference_format_familiar(const struct image_reference *ref, struct berr **err)
{
	if (on_default_domain(ref))
		return join(NULL, familiar_path(ref), ref->tag, ref->digest, err);
	return join(ref->domain, ref->path, ref->tag, ref->digest, err);
}

char *image_reference_repository(const struct image_reference *ref, struct berr **err)
{
	return join(ref->domain, ref->path, NULL, NULL, err);
}

char *image_reference_familiar_name(const struct image_reference *ref, struct berr **err)
{
	if (on_default_domain(ref))
		return join(NULL, familiar_path(ref), NULL, NULL, err);
	return join(ref->domain, ref->path, NULL, NULL, err);
}

/* S without a leading "sha256:". */
static const char *id_hex(const char *s)
{
	return str_has_prefix(s, SHA256_PREFIX) ? s + strlen(SHA256_PREFIX) : s;
}

bool image_reference_is_id(const char *s)
{
	const char *hex;

	if (s == NULL)
		return false;
	hex = id_hex(s);
	return strlen(hex) == ID_HEX_LEN && lower_hex_span(hex) == ID_HEX_LEN;
}

bool image_reference_is_id_prefix(const char *s)
{
	const char *hex;
	size_t n;

	if (s == NULL)
		return false;
	hex = id_hex(s);
	n = strlen(hex);
	return n >= 1 && n <= ID_HEX_LEN && lower_hex_span(hex) == n;
}
