/* Tests of the capability names and of the identity switch of a container
 * process: each case runs in a forked child that changes its own user,
 * groups and capability sets, then reports its /proc/self/status to the
 * parent, which checks the masks the kernel shows. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "tests/unit/child_testutil.h"
#include "runtime/caps_internal.h"
#include "runtime/process.h"

#define BIT(cap)		(UINT64_C(1) << (cap))
#define CAP_NET_BIND_SERVICE_NR 10
#define CAP_SYS_TIME_NR		25

static int report_status(int out)
{
	_cleanup_free_ char *status = NULL;
	struct berr *err = NULL;

	if (fs_read_file("/proc/self/status", 65536, &status, NULL, &err) < 0)
		return report_error(out, err);
	dprintf(out, "%s", status);
	return 0;
}

/* The text after "KEY:\t" up to the end of its line, in BUF. */
static const char *status_field(const char *text, const char *key, char *buf, size_t size)
{
	_cleanup_free_ char *needle = str_printf("\n%s:", key);
	const char *p = strstr(text, needle);
	size_t n;

	assert_non_null(p);
	p += strlen(needle);
	p += strspn(p, " \t");
	n = strcspn(p, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* Groups: ends with a space after the last gid. */
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

static uint64_t status_hex(const char *text, const char *key)
{
	char buf[64];

	return strtoull(status_field(text, key, buf, sizeof(buf)), NULL, 16);
}

struct identity_case {
	struct runtime_process proc;
	bool setgroups_allowed;
	/* Runs in the child before the switch. */
	int (*prepare)(int out);
};

static int child_identity(int out, void *arg)
{
	struct identity_case *c = arg;
	struct berr *err = NULL;

	if (c->prepare != NULL && c->prepare(out) != 0)
		return 2;
	if (runtime_process_apply_identity(&c->proc, c->setgroups_allowed, &err) < 0)
		return report_error(out, err);
	return report_status(out);
}

static void caps_all(struct runtime_caps *caps, uint64_t mask)
{
	caps->present = true;
	caps->bounding = mask;
	caps->effective = mask;
	caps->permitted = mask;
	caps->inheritable = mask;
	caps->ambient = mask;
}

static void test_last_cap_matches_kernel(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct berr *err = NULL;
	int last = runtime_caps_last_cap();

	(void)state;
	assert_int_equal(fs_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL, &err), 0);
	assert_int_equal(last, atoi(text));
	/* The kernel agrees: the last one is valid, the next is not. */
	assert_true(prctl(PR_CAPBSET_READ, (unsigned long)last, 0, 0, 0) >= 0);
	assert_int_equal(prctl(PR_CAPBSET_READ, (unsigned long)last + 1, 0, 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(runtime_caps_known_mask(),
			 last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1);
}

static void test_from_names(void **state)
{
	char *names[] = { "CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", NULL };
	char *bad[] = { "CAP_CHOWN", "CAP_FLY", NULL };
	uint64_t mask = 0;
	struct berr *err = NULL;

	(void)state;
	assert_int_equal(runtime_caps_from_names(names, &mask, &err), 0);
	assert_int_equal(mask, BIT(0) | BIT(10) | BIT(21));

	assert_int_equal(runtime_caps_from_names(NULL, &mask, &err), 0);
	assert_int_equal(mask, 0);

	mask = 42;
	assert_int_equal(runtime_caps_from_names(bad, &mask, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "\"CAP_FLY\""));
	assert_int_equal(mask, 42); /* untouched on failure */
	berr_free(err);
}

/* Root becomes uid 1000 with CAP_NET_BIND_SERVICE only, in all five sets. */
static void test_drop_to_user_keeps_requested_caps(void **state)
{
	struct identity_case c = { .proc = { .uid = 1000, .gid = 1000 },
				   .setgroups_allowed = true };
	struct child_result res;
	char buf[64];

	(void)state;
	caps_all(&c.proc.caps, BIT(CAP_NET_BIND_SERVICE_NR));
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(status_hex(res.text, "CapEff"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapPrm"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapInh"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapBnd"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapAmb"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_string_equal(status_field(res.text, "Uid", buf, sizeof(buf)),
			    "1000\t1000\t1000\t1000");
	assert_string_equal(status_field(res.text, "Gid", buf, sizeof(buf)),
			    "1000\t1000\t1000\t1000");
	assert_string_equal(status_field(res.text, "NoNewPrivs", buf, sizeof(buf)), "0");
}

/* Without process.capabilities the sets stay as they were, across the uid
 * change too. */
static void test_no_caps_keeps_current(void **state)
{
	struct identity_case c = { .proc = { .uid = 1000, .gid = 1000 },
				   .setgroups_allowed = true };
	struct child_result res;
	struct runtime_caps now;
	struct berr *err = NULL;
	char buf[64];

	(void)state;
	assert_int_equal(runtime_caps_get(&now, &err), 0);
	assert_true(now.effective != 0); /* the tests run as root */
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(status_hex(res.text, "CapEff"), now.effective);
	assert_int_equal(status_hex(res.text, "CapPrm"), now.permitted);
	assert_int_equal(status_hex(res.text, "CapBnd"), now.bounding);
	assert_string_equal(status_field(res.text, "Uid", buf, sizeof(buf)),
			    "1000\t1000\t1000\t1000");
}

static void test_no_new_privileges(void **state)
{
	struct identity_case c = { .proc = { .uid = 0, .gid = 0, .no_new_privileges = true },
				   .setgroups_allowed = true };
	struct child_result res;
	char buf[64];

	(void)state;
	caps_all(&c.proc.caps, BIT(CAP_NET_BIND_SERVICE_NR));
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(status_field(res.text, "NoNewPrivs", buf, sizeof(buf)), "1");
	assert_int_equal(status_hex(res.text, "CapEff"), BIT(CAP_NET_BIND_SERVICE_NR));
}

static void test_additional_gids(void **state)
{
	gid_t gids[] = { 10, 20, 30 };
	struct identity_case c = { .proc = { .uid = 1000,
					     .gid = 1000,
					     .additional_gids = gids,
					     .n_additional_gids = 3 },
				   .setgroups_allowed = true };
	struct child_result res;
	char buf[128];

	(void)state;
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(status_field(res.text, "Groups", buf, sizeof(buf)), "10 20 30");

	/* An empty list clears the groups. */
	c.proc.n_additional_gids = 0;
	c.proc.additional_gids = NULL;
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(status_field(res.text, "Groups", buf, sizeof(buf)), "");
}

static int prepare_groups(int out)
{
	gid_t g[] = { 5 };

	if (setgroups(1, g) < 0) {
		dprintf(out, "setgroups: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* In a user namespace with setgroups denied, the groups stay as they are. */
static void test_setgroups_not_allowed(void **state)
{
	gid_t gids[] = { 10, 20 };
	struct identity_case c = { .proc = { .uid = 1000,
					     .gid = 1000,
					     .additional_gids = gids,
					     .n_additional_gids = 2 },
				   .setgroups_allowed = false,
				   .prepare = prepare_groups };
	struct child_result res;
	char buf[128];

	(void)state;
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(status_field(res.text, "Groups", buf, sizeof(buf)), "5");
}

/* Capabilities past the kernel's cap_last_cap are ignored, not an error. */
static void test_caps_unknown_to_kernel_dropped(void **state)
{
	struct identity_case c = { .proc = { .uid = 1000, .gid = 1000 },
				   .setgroups_allowed = true };
	struct child_result res;

	(void)state;
	if (runtime_caps_last_cap() >= 63)
		skip();
	caps_all(&c.proc.caps, BIT(CAP_NET_BIND_SERVICE_NR) | BIT(63));
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(status_hex(res.text, "CapEff"), BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapAmb"), BIT(CAP_NET_BIND_SERVICE_NR));
}

/* Takes CAP_SYS_TIME out of this process, as a host without it would be. */
static int prepare_without_sys_time(int out)
{
	struct runtime_caps caps;
	struct berr *err = NULL;

	if (runtime_caps_get(&caps, &err) < 0)
		return report_error(out, err);
	caps.effective &= ~BIT(CAP_SYS_TIME_NR);
	caps.permitted &= ~BIT(CAP_SYS_TIME_NR);
	caps.inheritable = 0;
	caps.ambient = 0;
	if (runtime_caps_set(&caps, &err) < 0)
		return report_error(out, err);
	return 0;
}

/* Asking for a capability the process does not have fails and names it. */
static void test_unavailable_cap_named(void **state)
{
	struct identity_case c = { .proc = { .uid = 0, .gid = 0 },
				   .setgroups_allowed = true,
				   .prepare = prepare_without_sys_time };
	struct child_result res;

	(void)state;
	caps_all(&c.proc.caps, BIT(CAP_NET_BIND_SERVICE_NR) | BIT(CAP_SYS_TIME_NR));
	c.proc.caps.ambient = 0;
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 1);
	assert_int_equal(error_kind(&res), BERR_FORBIDDEN);
	assert_non_null(strstr(res.text, "CAP_SYS_TIME not available"));
	assert_null(strstr(res.text, "CAP_NET_BIND_SERVICE"));
}

/* An ambient capability must also be inheritable; one that is not is left
 * out with a warning, as runc does, and the rest still applies. */
static void test_ambient_needs_inheritable(void **state)
{
	struct identity_case c = { .proc = { .uid = 1000, .gid = 1000 },
				   .setgroups_allowed = true };
	struct child_result res;

	(void)state;
	caps_all(&c.proc.caps, BIT(CAP_NET_BIND_SERVICE_NR));
	c.proc.caps.inheritable = 0;
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(status_hex(res.text, "CapAmb"), 0);
	assert_int_equal(status_hex(res.text, "CapEff"), BIT(CAP_NET_BIND_SERVICE_NR));
}

/* The bounding set keeps only what is asked, even when the other sets
 * ask for less. */
static void test_bounding_independent_of_other_sets(void **state)
{
	struct identity_case c = { .proc = { .uid = 0, .gid = 0 }, .setgroups_allowed = true };
	struct child_result res;

	(void)state;
	caps_all(&c.proc.caps, 0);
	c.proc.caps.bounding = BIT(0) | BIT(CAP_NET_BIND_SERVICE_NR);
	c.proc.caps.permitted = BIT(0);
	c.proc.caps.effective = BIT(0);
	run_child(child_identity, &c, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(status_hex(res.text, "CapBnd"), BIT(0) | BIT(CAP_NET_BIND_SERVICE_NR));
	assert_int_equal(status_hex(res.text, "CapPrm"), BIT(0));
	assert_int_equal(status_hex(res.text, "CapEff"), BIT(0));
	assert_int_equal(status_hex(res.text, "CapInh"), 0);
	assert_int_equal(status_hex(res.text, "CapAmb"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_cap_matches_kernel),
		cmocka_unit_test(test_from_names),
		cmocka_unit_test(test_drop_to_user_keeps_requested_caps),
		cmocka_unit_test(test_no_caps_keeps_current),
		cmocka_unit_test(test_no_new_privileges),
		cmocka_unit_test(test_additional_gids),
		cmocka_unit_test(test_setgroups_not_allowed),
		cmocka_unit_test(test_caps_unknown_to_kernel_dropped),
		cmocka_unit_test(test_unavailable_cap_named),
		cmocka_unit_test(test_ambient_needs_inheritable),
		cmocka_unit_test(test_bounding_independent_of_other_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
