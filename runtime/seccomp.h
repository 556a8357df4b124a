/* seccomp filters from the OCI seccomp schema, through libseccomp.  The
 * filter is built (and every name, action, architecture and operator
 * checked) before the container process exists, and loaded by that process
 * as the last step before execve. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <jansson.h>

#include "lib/berr.h"
#include "lib/cleanup.h"
#include "runtime/spec.h"

struct runtime_seccomp_filter;

/* Builds the filter SPEC describes.  *out owns it.  Sets BERR_INVALID naming
 * the bad action, architecture, flag or operator.  A syscall name unknown
 * to libseccomp on this architecture is skipped (as runc does), not an
 * error. */
int runtime_seccomp_prepare(const struct runtime_seccomp *spec, struct runtime_seccomp_filter **out,
			    struct berr **err);

/* runtime_seccomp_prepare() through a cache of programs in CACHE_DIR
 * (made when missing): a spec made into a program before, by the same
 * libseccomp on the same architecture, gets that program back without
 * libseccomp, which takes milliseconds to build Docker's default profile.
 * A file is used only when the spec it records is SPEC's to the byte and
 * its checksum holds.  Specs with load flags or a listener are never
 * cached.  A cache that cannot be read or written is passed over. */
int runtime_seccomp_prepare_cached(const struct runtime_seccomp *spec, const char *cache_dir,
				   struct runtime_seccomp_filter **out, struct berr **err);

/* The cached program of a profile known by TEXT, the LEN bytes of a
 * config's linux.seccomp as they stand (so that the config need not be
 * parsed for it): true and *out when runtime_seccomp_cache_text() kept
 * one for that very text in CACHE_DIR. */
bool runtime_seccomp_cached_text(const char *text, size_t len, const char *cache_dir,
				 struct runtime_seccomp_filter **out);
/* Keeps FILTER, made from the profile whose config text is TEXT, for
 * runtime_seccomp_cached_text(); only a filter that is its program alone
 * (no listener, no load flags). */
void runtime_seccomp_cache_text(const char *text, size_t len, const char *cache_dir,
				const struct runtime_seccomp_filter *filter);

/* Loads FILTER into the calling process (its threads too with TSYNC).  When
 * the profile asks for a user-notification listener, *listener_fd receives
 * the new notification fd (O_CLOEXEC), else -1. */
int runtime_seccomp_load(struct runtime_seccomp_filter *filter, int *listener_fd,
			 struct berr **err);

/* The program runtime_seccomp_load() loads as it is (*LOADED, borrowed;
 * NULL when libseccomp loads the filter itself) and libseccomp's program of
 * the whole profile (*WHOLE, the caller's to free), to compare the two.
 * Sets BERR_INVALID for a filter read from the cache. */
struct sock_filter;
int runtime_seccomp_programs(const struct runtime_seccomp_filter *filter,
			     const struct sock_filter **loaded, size_t *n_loaded,
			     struct sock_filter **whole, size_t *n_whole, struct berr **err);

/* Whether the filter has SCMP_ACT_NOTIFY rules, so a listener must be
 * handed to spec->listener_path. */
bool runtime_seccomp_wants_listener(const struct runtime_seccomp_filter *filter);

/* Sends LISTENER_FD with STATE_JSON (the container process state of the
 * runtime spec) over the connected unix socket SOCK. */
int runtime_seccomp_send_listener(int sock, int listener_fd, const char *state_json,
				  struct berr **err);

void runtime_seccomp_filter_free(struct runtime_seccomp_filter *filter);
DEFINE_CLEANUP(struct runtime_seccomp_filter *, runtime_seccomp_filter_free)

/* The "linux.seccomp" object of `berth-runc features`: actions, operators,
 * archs and flags this build knows.  New reference. */
json_t *runtime_seccomp_features(void);

#endif
