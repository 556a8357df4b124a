/* Image references as Docker reads them: "busybox", "localhost:5000/app:1",
 * "name@sha256:<hex>".  A reference is parsed by Docker's grammar and
 * normalised the way Docker does it (default domain docker.io, "library/"
 * for official images, default tag "latest"), and formatted back in full or
 * in the familiar short form `docker images` shows. */
#ifndef BERTH_IMAGE_REFERENCE_H
#define BERTH_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* The domain a name without one gets, and the path prefix of official
 * images on it. */
#define IMAGE_REFERENCE_DEFAULT_DOMAIN	"docker.io"
#define IMAGE_REFERENCE_OFFICIAL_PREFIX "library/"
#define IMAGE_REFERENCE_DEFAULT_TAG	"latest"

/* Longest "domain/path", and longest tag, as Docker allows them. */
#define IMAGE_REFERENCE_NAME_MAX 255
#define IMAGE_REFERENCE_TAG_MAX	 128

/* A parsed, normalised reference.  Every string is owned by the struct. */
struct image_reference {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/busybox", "a/b/c" */
	char *tag;    /* "latest"; NULL when the reference has none */
	char *digest; /* "sha256:<64 hex>"; NULL when the reference has none */
};

/* Parses S as `docker pull` does: normalised, and with the tag "latest"
 * added when S names neither a tag nor a digest.  S is borrowed.  On
 * success *out owns a new reference; on failure *out is untouched.  Sets
 * BERR_INVALID with Docker's message ("invalid reference format", "invalid
 * reference format: repository name must be lowercase", ...) or
 * BERR_INTERNAL when out of memory. */
int image_reference_parse(const char *s, struct image_reference **out, struct berr **err);

/* Like image_reference_parse(), but leaves the tag NULL when S has none:
 * for commands that mean every tag of a repository (`docker images NAME`,
 * `docker push NAME`). */
int image_reference_parse_name(const char *s, struct image_reference **out, struct berr **err);

void image_reference_free(struct image_reference *ref);
DEFINE_CLEANUP(struct image_reference *, image_reference_free)

/* The full normalised string, "docker.io/library/busybox:latest" or
 * "domain/path[:tag][@digest]".  The caller owns the result.  Sets
 * BERR_INTERNAL when out of memory. */
char *image_reference_format(const struct image_reference *ref, struct berr **err);

/* The familiar string Docker prints, "busybox:latest",
 * "localhost:5000/app@sha256:...": the domain docker.io and the prefix
 * "library/" of official images are left out.  The caller owns the result.
 * Sets BERR_INTERNAL when out of memory. */
char *image_reference_format_familiar(const struct image_reference *ref, struct berr **err);

/* The repository, without tag or digest: "docker.io/library/busybox".
 * The caller owns the result.  Sets BERR_INTERNAL when out of memory. */
char *image_reference_repository(const struct image_reference *ref, struct berr **err);

/* The familiar repository as the REPOSITORY column of `docker images`
 * shows it: "busybox", "user/app", "localhost:5000/app".  The caller owns
 * the result.  Sets BERR_INTERNAL when out of memory. */
char *image_reference_familiar_name(const struct image_reference *ref, struct berr **err);

/* Whether S is a full image ID: 64 lowercase hex digits, with or without
 * "sha256:" in front. */
bool image_reference_is_id(const char *s);

/* Whether S could be the start of an image ID: 1 to 64 lowercase hex
 * digits, with or without "sha256:" in front.  A string can be both an ID
 * prefix and a valid name ("abc"); lookups try the name first, as Docker
 * does. */
bool image_reference_is_id_prefix(const char *s);

#endif
