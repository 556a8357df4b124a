/* Linux capabilities of the container process: the spec's "CAP_*" names
 * turned into bit masks, and the five sets (bounding, effective, permitted,
 * inheritable, ambient) read and written with capget/capset and prctl.
 * process.c decides when in the identity switch each step happens. */
#include "runtime/process.h"
#include "runtime/caps_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

#define CAPS_WORDS _LINUX_CAPABILITY_U32S_3

/* 0 means "not read yet"; cap_last_cap is never 0 on a real kernel. */
static int cached_last_cap;

/* When /proc is not mounted (between pivot_root and the proc mount), ask
 * the kernel directly: PR_CAPBSET_READ fails with EINVAL past the last. */
static int probe_last_cap(void)
{
	int cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	}
	return cap > 0 ? cap - 1 : CAP_LAST_CAP;
}

static int read_last_cap(void)
{
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16];
	ssize_t n;
	char *end;
	long v;

	if (fd < 0)
		return probe_last_cap();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return probe_last_cap();
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v < 0 || v > 63)
		return probe_last_cap();
	return (int)v;
}

/* Read once and cached; cannot fail. */
int runtime_caps_last_cap(void)
{
	if (cached_last_cap == 0)
		cached_last_cap = read_last_cap();
	return cached_last_cap;
}

uint64_t runtime_caps_known_mask(void)
{
	int last = runtime_caps_last_cap();

	if (last >= 63)
		return UINT64_MAX;
	return (UINT64_C(1) << (last + 1)) - 1;
}

/* NAMES (NULL-terminated, may be NULL) is borrowed; *MASK is written only on
 * success.  Sets BERR_INVALID naming the first unknown capability. */
int runtime_caps_from_names(char *const *names, uint64_t *mask, struct berr **err)
{
	uint64_t m = 0;

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		int cap = runtime_cap_parse(names[i]);

		if (cap < 0 || cap > 63)
			return berr_set(err, BERR_INVALID, 0, "unknown capability \"%s\"",
					names[i]);
		m |= UINT64_C(1) << cap;
	}
	*mask = m;
	return 0;
}

/* Writes the names of the capabilities in MASK, comma separated, into BUF
 * (truncated when it does not fit; it only feeds error messages). */
static const char *mask_names(uint64_t mask, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int cap = 0; cap < 64 && used < size; cap++) {
		const char *name;
		int n;

		if (!(mask & (UINT64_C(1) << cap)))
			continue;
		name = runtime_cap_name(cap);
		if (name != NULL)
			n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
		else
			n = snprintf(buf + used, size - used, "%scapability %d", used ? ", " : "",
				     cap);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

static uint64_t join_words(__u32 low, __u32 high)
{
	return (uint64_t)low | ((uint64_t)high << 32);
}

int runtime_caps_get(struct runtime_caps *out, struct berr **err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[CAPS_WORDS];
	struct runtime_caps c = { .present = true };
	int last = runtime_caps_last_cap();

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "capget");
	c.effective = join_words(data[0].effective, data[1].effective);
	c.permitted = join_words(data[0].permitted, data[1].permitted);
	c.inheritable = join_words(data[0].inheritable, data[1].inheritable);
	for (int cap = 0; cap <= last; cap++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

		if (r < 0)
			return berr_set(err, BERR_INTERNAL, errno, "read bounding capability %d",
					cap);
		if (r > 0)
			c.bounding |= UINT64_C(1) << cap;
		r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0, 0);
		/* EINVAL: a kernel without ambient capabilities (before 4.3). */
		if (r < 0 && errno != EINVAL)
			return berr_set(err, BERR_INTERNAL, errno, "read ambient capability %d",
					cap);
		if (r > 0)
			c.ambient |= UINT64_C(1) << cap;
	}
	*out = c;
	return 0;
}

int runtime_caps_drop_bounding(uint64_t keep, struct berr **err)
{
	int last = runtime_caps_last_cap();

	for (int cap = 0; cap <= last; cap++) {
		const char *name;
		int e;

		if (keep & (UINT64_C(1) << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) == 0)
			continue;
		e = errno;
		/* Without CAP_SETPCAP, one already gone is fine. */
		if (e == EPERM && prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == 0)
			continue;
		name = runtime_cap_name(cap);
		return berr_set(err, e == EPERM ? BERR_FORBIDDEN : BERR_INTERNAL, e,
				"drop %s from the bounding set", name ? name : "capability");
	}
	return 0;
}

/* capset(2) failed with EPERM: find which rule the request broke, so the
 * message names the capabilities instead of a bare "Operation not
 * permitted".  The common case is a spec asking for a capability that the
 * host itself does not have (this host's bounding set lacks
 * CAP_SYS_RESOURCE). */
static int capset_denied(const struct runtime_caps *want, int sys_errno, struct berr **err)
{
	struct runtime_caps have;
	char names[2048];
	uint64_t missing;

	if (runtime_caps_get(&have, err) < 0)
		return berr_prefix(err, "capset");
	missing = (want->permitted | want->effective) & ~have.permitted;
	if (missing)
		return berr_set(err, BERR_FORBIDDEN, sys_errno,
				"capset: %s not available to this process",
				mask_names(missing, names, sizeof(names)));
	missing = want->effective & ~want->permitted;
	if (missing)
		return berr_set(err, BERR_FORBIDDEN, sys_errno,
				"capset: effective %s not in the permitted set",
				mask_names(missing, names, sizeof(names)));
	missing = want->inheritable & ~(have.inheritable | have.bounding);
	if (missing)
		return berr_set(err, BERR_FORBIDDEN, sys_errno,
				"capset: inheritable %s not in the bounding set",
				mask_names(missing, names, sizeof(names)));
	return berr_set(err, BERR_FORBIDDEN, sys_errno, "capset");
}

static void split_words(struct __user_cap_data_struct *data, uint64_t eff, uint64_t perm,
			uint64_t inh)
{
	for (int i = 0; i < 2; i++) {
		data[i].effective = (__u32)(eff >> (32 * i));
		data[i].permitted = (__u32)(perm >> (32 * i));
		data[i].inheritable = (__u32)(inh >> (32 * i));
	}
}

int runtime_caps_set(const struct runtime_caps *caps, struct berr **err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[CAPS_WORDS];
	uint64_t known = runtime_caps_known_mask();
	struct runtime_caps want = *caps;
	int last = runtime_caps_last_cap();

	want.effective &= known;
	want.permitted &= known;
	want.inheritable &= known;
	want.ambient &= known;

	memset(data, 0, sizeof(data));
	split_words(data, want.effective, want.permitted, want.inheritable);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		if (errno == EPERM)
			return capset_denied(&want, errno, err);
		return berr_set(err, BERR_INTERNAL, errno, "capset");
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* A kernel without ambient capabilities has none to clear. */
		if (errno == EINVAL && want.ambient == 0)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "clear ambient capabilities");
	}
	for (int cap = 0; cap <= last; cap++) {
		const char *name;

		if (!(want.ambient & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) == 0)
			continue;
		name = runtime_cap_name(cap);
		/* The kernel keeps ambient a subset of permitted and inheritable;
		 * configs that list more are common (runc's own default), and
		 * runc only warns about them. */
		if (errno == EPERM) {
			blog_debug("cannot raise ambient %s: it must also be permitted and "
				   "inheritable",
				   name ? name : "capability");
			continue;
		}
		return berr_set(err, BERR_INTERNAL, errno, "raise ambient %s",
				name ? name : "capability");
	}
	return 0;
}
