/* seccomp filters for containers: the OCI "linux.seccomp" object turned into
 * a libseccomp filter.  runtime_seccomp_prepare() checks every name and builds
 * the whole filter while the runtime can still report errors cleanly; the
 * container process only loads it, as its last step before execve. */
#include "runtime/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include <seccomp.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/unixsock.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* The kernel passes six syscall arguments; the spec numbers them 0 to 5. */
#define SECCOMP_MAX_ARGS 6

/* The errno or trace value travels in the 16 bits of SECCOMP_RET_DATA. */
#define SECCOMP_RET_VALUE_MAX 0xffffu

/* Above this many syscalls libseccomp's binary tree beats its linear list
 * (Docker's default profile has over 300). */
#define SECCOMP_TREE_THRESHOLD 8

struct runtime_seccomp_filter {
	scmp_filter_ctx ctx;
	bool wants_listener; /* a SCMP_ACT_NOTIFY rule made it into the filter */
	bool has_flags;	     /* linux.seccomp.flags asked for load-time flags */
	/* The program as generated once at prepare: loaded as it is when no
	 * listener or flag needs libseccomp's own load, which would generate
	 * it again (a large profile takes milliseconds to generate). */
	struct sock_filter *insns;
	unsigned short n_insns;
};

struct seccomp_action_name {
	const char *name;
	uint32_t action;
	bool takes_value; /* ERRNO and TRACE carry errnoRet in their low bits */
};

static const struct seccomp_action_name seccomp_actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

/* Indexed by enum runtime_seccomp_op. */
static const struct {
	const char *name;
	enum scmp_compare op;
} seccomp_ops[] = {
	[RUNTIME_SECCOMP_OP_NE] = { "SCMP_CMP_NE", SCMP_CMP_NE },
	[RUNTIME_SECCOMP_OP_LT] = { "SCMP_CMP_LT", SCMP_CMP_LT },
	[RUNTIME_SECCOMP_OP_LE] = { "SCMP_CMP_LE", SCMP_CMP_LE },
	[RUNTIME_SECCOMP_OP_EQ] = { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	[RUNTIME_SECCOMP_OP_GE] = { "SCMP_CMP_GE", SCMP_CMP_GE },
	[RUNTIME_SECCOMP_OP_GT] = { "SCMP_CMP_GT", SCMP_CMP_GT },
	[RUNTIME_SECCOMP_OP_MASKED_EQ] = { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct {
	const char *name;
	uint32_t arch;
} seccomp_archs[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
#ifdef SCMP_ARCH_PARISC
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
#endif
#ifdef SCMP_ARCH_RISCV64
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#endif
#ifdef SCMP_ARCH_LOONGARCH64
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#endif
#ifdef SCMP_ARCH_M68K
	{ "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#endif
#ifdef SCMP_ARCH_SH
	{ "SCMP_ARCH_SH", SCMP_ARCH_SH },
	{ "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#endif
};

/* API is the libseccomp API level (seccomp_api_get) at which libseccomp and
 * the running kernel both support the flag. */
static const struct {
	const char *name;
	enum scmp_filter_attr attr;
	unsigned int api;
} seccomp_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, 2 },
	{ "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, 3 },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, 4 },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL, 7 },
#endif
};

/* Syscalls the container process makes between loading the filter and
 * execve, to report to the runtime: if the filter sent them to a listener
 * that nobody holds yet, the container would hang (runc refuses "write" for
 * the same reason). */
static const char *const seccomp_notify_forbidden[] = { "write", "sendmsg" };

static int action_parse(const char *name, bool has_value, uint32_t value, uint32_t *out,
			struct berr **err)
{
	if (name == NULL)
		return berr_set(err, BERR_INVALID, 0, "missing action");
	for (size_t i = 0; i < N_ELEMENTS(seccomp_actions); i++) {
		if (strcmp(seccomp_actions[i].name, name) != 0)
			continue;
		if (!seccomp_actions[i].takes_value) {
			*out = seccomp_actions[i].action;
			return 0;
		}
		/* Without errnoRet, ERRNO and TRACE mean EPERM, as in runc. */
		if (!has_value)
			value = EPERM;
		if (value > SECCOMP_RET_VALUE_MAX)
			return berr_set(err, BERR_INVALID, 0, "%s: errnoRet %u is above %u", name,
					value, SECCOMP_RET_VALUE_MAX);
		*out = seccomp_actions[i].action | value;
		return 0;
	}
	return berr_set(err, BERR_INVALID, 0, "unknown action \"%s\"", name);
}

static int add_archs(scmp_filter_ctx ctx, char **names, struct berr **err)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		size_t k = 0;
		int rc;

		while (k < N_ELEMENTS(seccomp_archs) &&
		       strcmp(seccomp_archs[k].name, names[i]) != 0)
			k++;
		if (k == N_ELEMENTS(seccomp_archs))
			return berr_set(
				err, BERR_INVALID, 0,
				"linux.seccomp.architectures[%zu]: unknown architecture \"%s\"", i,
				names[i]);
		/* The native architecture is in every new filter already. */
		rc = seccomp_arch_add(ctx, seccomp_archs[k].arch);
		if (rc < 0 && rc != -EEXIST)
			/* EDOM: libseccomp cannot mix byte orders in one filter. */
			return berr_set(err, rc == -ENOMEM ? BERR_INTERNAL : BERR_INVALID, -rc,
					"linux.seccomp.architectures[%zu]: cannot add \"%s\"", i,
					names[i]);
	}
	return 0;
}

static int set_flags(scmp_filter_ctx ctx, char **names, struct berr **err)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		size_t k = 0;
		int rc;

		while (k < N_ELEMENTS(seccomp_flags) &&
		       strcmp(seccomp_flags[k].name, names[i]) != 0)
			k++;
		if (k == N_ELEMENTS(seccomp_flags))
			return berr_set(err, BERR_INVALID, 0,
					"linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
					names[i]);
		rc = seccomp_attr_set(ctx, seccomp_flags[k].attr, 1);
		if (rc < 0)
			return berr_set(err, BERR_INVALID, -rc,
					"linux.seccomp.flags[%zu]: \"%s\" is not supported here", i,
					names[i]);
	}
	return 0;
}

static int arg_check(const struct runtime_seccomp_arg *arg, struct berr **err)
{
	if (arg->index >= SECCOMP_MAX_ARGS)
		return berr_set(err, BERR_INVALID, 0, "index %u is above %d", arg->index,
				SECCOMP_MAX_ARGS - 1);
	if ((unsigned int)arg->op >= N_ELEMENTS(seccomp_ops))
		return berr_set(err, BERR_INVALID, 0, "unknown operator %d", (int)arg->op);
	return 0;
}

/* The libseccomp comparison of ARG, which arg_check() accepted. */
static struct scmp_arg_cmp arg_cmp(const struct runtime_seccomp_arg *arg)
{
	/* For MASKED_EQ, value is the mask and valueTwo the expected result:
	 * libseccomp's datum_a and datum_b. */
	return (struct scmp_arg_cmp){
		.arg = arg->index,
		.op = seccomp_ops[arg->op].op,
		.datum_a = arg->value,
		.datum_b = arg->op == RUNTIME_SECCOMP_OP_MASKED_EQ ? arg->value_two : 0,
	};
}

static bool notify_forbidden(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(seccomp_notify_forbidden); i++)
		if (strcmp(seccomp_notify_forbidden[i], name) == 0)
			return true;
	return false;
}

/* Adds the rules for syscall NR.  libseccomp ANDs the conditions of one rule
 * and cannot AND two conditions on the same argument; when an index repeats,
 * each condition becomes a rule of its own, so they act as OR (runc's
 * reading of such profiles). */
static int add_syscall(scmp_filter_ctx ctx, int nr, uint32_t action,
		       const struct runtime_seccomp_rule *rule, bool index_repeats)
{
	struct scmp_arg_cmp conds[SECCOMP_MAX_ARGS];
	int rc;

	if (!index_repeats) {
		/* One condition per index at most, so they fit. */
		for (size_t j = 0; j < rule->n_args; j++)
			conds[j] = arg_cmp(&rule->args[j]);
		return seccomp_rule_add_array(ctx, action, nr, (unsigned int)rule->n_args, conds);
	}
	for (size_t j = 0; j < rule->n_args; j++) {
		conds[0] = arg_cmp(&rule->args[j]);
		rc = seccomp_rule_add_array(ctx, action, nr, 1, conds);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Names, sorted for bsearch(). */
struct name_set {
	const char **names;
	size_t n;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool name_set_has(const struct name_set *set, const char *name)
{
	return set && set->n && bsearch(&name, set->names, set->n, sizeof(*set->names), name_cmp);
}

/* Adds rule IDX of SPEC to CTX but for the names in SKIP (may be NULL). */
static int add_rule(scmp_filter_ctx ctx, bool *wants_listener, const struct runtime_seccomp *spec,
		    size_t idx, uint32_t default_action, const struct name_set *skip,
		    struct berr **err)
{
	const struct runtime_seccomp_rule *rule = &spec->rules[idx];
	unsigned int per_index[SECCOMP_MAX_ARGS] = { 0 };
	bool index_repeats = false;
	uint32_t action;

	if (action_parse(rule->action, rule->has_errno_ret, rule->errno_ret, &action, err) < 0)
		return berr_prefix(err, "linux.seccomp.syscalls[%zu].action", idx);
	for (size_t j = 0; j < rule->n_args; j++) {
		if (arg_check(&rule->args[j], err) < 0)
			return berr_prefix(err, "linux.seccomp.syscalls[%zu].args[%zu]", idx, j);
		if (++per_index[rule->args[j].index] > 1)
			index_repeats = true;
	}
	if (action == SCMP_ACT_NOTIFY) {
		if (spec->listener_path == NULL || spec->listener_path[0] == '\0')
			return berr_set(err, BERR_INVALID, 0,
					"linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY needs "
					"linux.seccomp.listenerPath",
					idx);
		for (size_t i = 0; rule->names != NULL && rule->names[i] != NULL; i++)
			if (notify_forbidden(rule->names[i]))
				return berr_set(
					err, BERR_INVALID, 0,
					"linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot "
					"be used for \"%s\"",
					idx, rule->names[i]);
	}
	/* libseccomp refuses a rule that repeats the default action; it would
	 * change nothing anyway. */
	if (action == default_action)
		return 0;

	for (size_t i = 0; rule->names != NULL && rule->names[i] != NULL; i++) {
		const char *name = rule->names[i];
		int nr = seccomp_syscall_resolve_name(name);
		int rc;

		if (name_set_has(skip, name))
			continue;

		/* Profiles list syscalls of newer kernels and other
		 * architectures; runc skips the ones it cannot resolve. */
		if (nr == __NR_SCMP_ERROR) {
			blog_debug("seccomp: unknown syscall \"%s\" skipped", name);
			continue;
		}
		rc = add_syscall(ctx, nr, action, rule, index_repeats);
		if (rc < 0)
			return berr_set(err, rc == -ENOMEM ? BERR_INTERNAL : BERR_INVALID, -rc,
					"linux.seccomp.syscalls[%zu]: add rule for \"%s\"", idx,
					name);
		if (action == SCMP_ACT_NOTIFY)
			*wants_listener = true;
	}
	return 0;
}

static size_t count_syscalls(const struct runtime_seccomp *spec)
{
	size_t n = 0;

	for (size_t i = 0; i < spec->n_rules; i++)
		for (size_t k = 0; spec->rules[i].names != NULL && spec->rules[i].names[k]; k++)
			n++;
	return n;
}

static int set_base_attrs(scmp_filter_ctx ctx, const struct runtime_seccomp *spec,
			  struct berr **err)
{
	int rc;

	/* no_new_privs is process.noNewPrivileges' business, not the
	 * filter's: libseccomp would set it on load by default. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return berr_set(err, BERR_INTERNAL, -rc,
				"seccomp: clear the no_new_privs attribute");
	/* Report the kernel's own errno from seccomp_load(). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc < 0)
		return berr_set(err, BERR_INTERNAL, -rc, "seccomp: ask for raw return codes");
	if (count_syscalls(spec) > SECCOMP_TREE_THRESHOLD) {
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
		if (rc < 0)
			blog_debug("seccomp: binary tree optimization unavailable: %s",
				   strerror(-rc));
	}
	return 0;
}

/* A libseccomp filter of SPEC but for the rules of the names in SKIP (may be
 * NULL); NULL on errors, which name what is wrong. */
static scmp_filter_ctx new_ctx(const struct runtime_seccomp *spec, uint32_t default_action,
			       const struct name_set *skip, bool *wants_listener, struct berr **err)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);

	if (ctx == NULL) {
		berr_set(err, BERR_INVALID, 0,
			 "linux.seccomp.defaultAction: %s is not supported here",
			 spec->default_action);
		return NULL;
	}
	if (set_base_attrs(ctx, spec, err) < 0 || add_archs(ctx, spec->architectures, err) < 0 ||
	    set_flags(ctx, spec->flags, err) < 0)
		goto fail;
	for (size_t i = 0; i < spec->n_rules; i++)
		if (add_rule(ctx, wants_listener, spec, i, default_action, skip, err) < 0)
			goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

/* libseccomp's program of CTX: *OUT (malloc'ed) and its length *N; *OUT
 * NULL when it could not be read back. */
static int export_program(scmp_filter_ctx ctx, struct sock_filter **out, size_t *n,
			  struct berr **err)
{
	_cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	struct stat st;
	int rc;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return berr_set(err, rc == -ENOMEM ? BERR_INTERNAL : BERR_INVALID, -rc,
				"seccomp: generate the filter");
	if (fstat(fd, &st) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "seccomp: stat the filter");
	*n = (size_t)st.st_size / sizeof(struct sock_filter);
	*out = malloc((size_t)st.st_size + 1);
	if (*out && pread(fd, *out, (size_t)st.st_size, 0) != st.st_size)
		free(steal_ptr(out));
	return 0;
}

/* Generates the BPF program once, so a filter that libseccomp cannot
 * render or that the kernel would refuse for its size fails here and not in
 * the container process. */
static int check_program(struct runtime_seccomp_filter *filter, struct berr **err)
{
	struct sock_filter *insns = NULL;
	size_t n = 0;

	if (export_program(filter->ctx, &insns, &n, err) < 0)
		return -1;
	if (n > BPF_MAXINSNS) {
		free(insns);
		return berr_set(
			err, BERR_INVALID, 0,
			"linux.seccomp: the filter needs %zu instructions, the kernel takes "
			"at most %d",
			n, BPF_MAXINSNS);
	}
	/* Not read back: libseccomp's load generates it again. */
	filter->insns = insns;
	filter->n_insns = insns ? (unsigned short)n : 0;
	return 0;
}

/*
 * The compact program.  libseccomp gives each syscall of each architecture a
 * comparison of its own: Docker's default profile comes to over 1,200
 * instructions for x86-64, x86 and x32, which the kernel checks, converts,
 * compiles and runs once per syscall number (for its cache of allowed ones)
 * at every load, half a millisecond of each container's start.  Most of a
 * profile is syscalls with one action whatever their arguments; numbered
 * per architecture, they fall into a few dozen runs of consecutive numbers.
 * The compact program answers those by run and hands every other syscall
 * (and architecture) to libseccomp's program of the rest of the profile,
 * which follows it.
 */

#define X32_SYSCALL_BIT 0x40000000u

/* A name of the profile and what its rules say. */
struct profile_name {
	const char *name;
	uint32_t action;
	bool simple; /* one action, no conditions: answered by run */
};

/* The syscalls of one architecture that the compact program answers. */
struct arch_calls {
	uint32_t arch; /* libseccomp's */
	struct {
		uint32_t nr, action;
	} * calls;
	size_t n;
};

/* seccomp_data.arch of libseccomp's ARCH, for the architectures whose
 * numbering this knows; 0 for others. */
static uint32_t arch_token(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X32:
		return SCMP_ARCH_X86_64; /* x32 numbers carry X32_SYSCALL_BIT */
	case SCMP_ARCH_X86_64:
	case SCMP_ARCH_X86:
	case SCMP_ARCH_AARCH64:
	case SCMP_ARCH_ARM:
		return arch;
	default:
		return 0;
	}
}

static int profile_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct profile_name *)a)->name,
		      ((const struct profile_name *)b)->name);
}

static int call_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* The names of SPEC's rules that change something, in *OUT (sorted, one
 * each), each simple unless a rule gives it conditions or another action. */
static int profile_names(const struct runtime_seccomp *spec, uint32_t default_action,
			 struct profile_name **out, size_t *n_out)
{
	struct profile_name *names = NULL;
	size_t n = 0, cap = 0, w = 0;

	for (size_t i = 0; i < spec->n_rules; i++) {
		const struct runtime_seccomp_rule *rule = &spec->rules[i];
		uint32_t action;

		if (action_parse(rule->action, rule->has_errno_ret, rule->errno_ret, &action,
				 NULL) < 0)
			goto fail;
		/* Skipped by add_rule() as well. */
		if (action == default_action)
			continue;
		for (size_t k = 0; rule->names && rule->names[k]; k++) {
			if (seccomp_syscall_resolve_name(rule->names[k]) == __NR_SCMP_ERROR)
				continue;
			if (n == cap) {
				struct profile_name *more;

				cap = cap ? 2 * cap : 256;
				more = realloc(names, cap * sizeof(*names));
				if (!more)
					goto fail;
				names = more;
			}
			names[n++] = (struct profile_name){ rule->names[k], action,
							    rule->n_args == 0 &&
								    action != SCMP_ACT_NOTIFY };
		}
	}
	if (n)
		qsort(names, n, sizeof(*names), profile_name_cmp);
	/* One entry a name; simple only if every rule of it agrees. */
	for (size_t r = 0; r < n; r++) {
		if (w && strcmp(names[w - 1].name, names[r].name) == 0) {
			if (!names[r].simple || names[r].action != names[w - 1].action)
				names[w - 1].simple = false;
			continue;
		}
		names[w++] = names[r];
	}
	*out = names;
	*n_out = w;
	return 0;
fail:
	free(names);
	return -1;
}

/* Fills each of ARCHS (N_ARCHS) with the simple names of NAMES as numbered
 * there.  A name that libseccomp rewrites on some architecture (a
 * multiplexed socketcall or ipc), or that shares its number there with a
 * name of other treatment, stops being simple; true when one did, for the
 * caller to fill them again. */
static bool fill_calls(struct profile_name *names, size_t n_names, struct arch_calls *archs,
		       size_t n_archs, bool *failed)
{
	bool demoted = false;

	for (size_t a = 0; a < n_archs; a++) {
		struct arch_calls *ac = &archs[a];
		struct {
			uint32_t nr;
			size_t name;
		} *all = calloc(n_names + 1, sizeof(*all));
		size_t n_all = 0;

		if (!all) {
			*failed = true;
			return false;
		}
		ac->n = 0;
		for (size_t i = 0; i < n_names; i++) {
			int nr = seccomp_syscall_resolve_name_arch(ac->arch, names[i].name);

			/* Not on this architecture: libseccomp numbers the
			 * syscalls it knows of elsewhere from -10000 down. */
			if (nr == __NR_SCMP_ERROR || nr <= -10000)
				continue;
			/* One that libseccomp rewrites here (x86's socketcall
			 * and ipc multiplex others): its own program's. */
			if (nr < 0) {
				demoted |= names[i].simple;
				names[i].simple = false;
				continue;
			}
			all[n_all].nr = (uint32_t)nr;
			all[n_all++].name = i;
		}
		qsort(all, n_all, sizeof(*all), call_cmp);
		for (size_t k = 0; k + 1 < n_all; k++) {
			struct profile_name *x = &names[all[k].name], *y = &names[all[k + 1].name];

			if (all[k].nr != all[k + 1].nr)
				continue;
			if (x->simple && y->simple && x->action == y->action)
				continue;
			demoted |= x->simple || y->simple;
			x->simple = y->simple = false;
		}
		for (size_t k = 0; k < n_all; k++) {
			const struct profile_name *x = &names[all[k].name];

			if (!x->simple || (ac->n && ac->calls[ac->n - 1].nr == all[k].nr))
				continue;
			ac->calls[ac->n].nr = all[k].nr;
			ac->calls[ac->n++].action = x->action;
		}
		free(all);
	}
	return demoted;
}

/* Consecutive numbers with one action. */
struct call_run {
	uint32_t lo, hi, action;
};

/* The runs of AC's syscalls (ascending) in RUNS; returns how many. */
static size_t make_runs(const struct arch_calls *ac, struct call_run *runs)
{
	size_t n = 0;

	for (size_t k = 0; k < ac->n; k++) {
		if (n && runs[n - 1].hi + 1 == ac->calls[k].nr &&
		    runs[n - 1].action == ac->calls[k].action) {
			runs[n - 1].hi = ac->calls[k].nr;
			continue;
		}
		runs[n++] =
			(struct call_run){ ac->calls[k].nr, ac->calls[k].nr, ac->calls[k].action };
	}
	return n;
}

#define STMT(code, k)	      ((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))

/* Runs are found by a binary search down to leaves of a few runs each,
 * checked one after the other: few instructions run per number, which
 * matters to the kernel, which runs the program for every syscall number
 * at each load to cache the ones always allowed. */
#define RUNS_PER_LEAF 8

/* Emits the check of the N runs (ascending, at most RUNS_PER_LEAF) into P
 * at AT (P NULL: counts only): from the highest run down, a compare of each
 * run's bounds; then a jump to SUB for a number in none, and a return of
 * each action.  Returns the end. */
static size_t emit_leaf(struct sock_filter *p, size_t at, const struct call_run *runs, size_t n,
			size_t sub)
{
	uint32_t actions[RUNS_PER_LEAF];
	size_t n_actions = 0, ends = at + 2 * n;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < n_actions && actions[k] != runs[i].action)
			k++;
		if (k == n_actions)
			actions[n_actions++] = runs[i].action;
	}
	for (size_t i = n; p && i-- > 0;) {
		size_t k = 0, pc = at + 2 * (n - 1 - i);

		while (actions[k] != runs[i].action)
			k++;
		/* Below this run: the next one down; above it (and so below
		 * the one checked before): none. */
		p[pc] = JUMP(BPF_JMP | BPF_JGE | BPF_K, runs[i].lo, 0, 1);
		p[pc + 1] = JUMP(BPF_JMP | BPF_JGT | BPF_K, runs[i].hi, (uint8_t)(ends - (pc + 2)),
				 (uint8_t)(ends + 1 + k - (pc + 2)));
	}
	if (p) {
		p[ends] = STMT(BPF_JMP | BPF_JA, (uint32_t)(sub - (ends + 1)));
		for (size_t k = 0; k < n_actions; k++)
			p[ends + 1 + k] = STMT(BPF_RET | BPF_K, actions[k]);
	}
	return ends + 1 + n_actions;
}

/* Emits the search of the N runs (ascending) into P at AT (P NULL: counts
 * only): a compare with the middle run's start picks a half, the upper
 * half following it; a number in no run goes to SUB.  Returns the end. */
static size_t emit_runs(struct sock_filter *p, size_t at, const struct call_run *runs, size_t n,
			size_t sub)
{
	size_t mid = n / 2, left;

	if (n <= RUNS_PER_LEAF)
		return emit_leaf(p, at, runs, n, sub);
	left = emit_runs(NULL, at + 2, runs + mid, n - mid, sub);
	if (p) {
		p[at] = JUMP(BPF_JMP | BPF_JGE | BPF_K, runs[mid].lo, 1, 0);
		p[at + 1] = STMT(BPF_JMP | BPF_JA, (uint32_t)(left - (at + 2)));
		emit_runs(p, at + 2, runs + mid, n - mid, sub);
	}
	return emit_runs(p, left, runs, mid, sub);
}

#define MAX_COMPACT_ARCHS 8

/* The architectures of a filter of SPEC, native first, in ARCHS; 0 when
 * the compact program cannot cover one of them. */
static size_t filter_archs(const struct runtime_seccomp *spec, struct arch_calls *archs)
{
	size_t n = 0;
	bool x86_64 = false, x32 = false;

	archs[n++].arch = seccomp_arch_native();
	for (size_t i = 0; spec->architectures && spec->architectures[i]; i++) {
		uint32_t arch = 0;
		size_t k;

		for (k = 0; k < N_ELEMENTS(seccomp_archs); k++)
			if (strcmp(seccomp_archs[k].name, spec->architectures[i]) == 0)
				arch = seccomp_archs[k].arch;
		for (k = 0; k < n && archs[k].arch != arch; k++)
			;
		if (k < n)
			continue;
		if (n == MAX_COMPACT_ARCHS)
			return 0;
		archs[n++].arch = arch;
	}
	for (size_t k = 0; k < n; k++) {
		if (arch_token(archs[k].arch) == 0)
			return 0;
		x86_64 |= archs[k].arch == SCMP_ARCH_X86_64;
		x32 |= archs[k].arch == SCMP_ARCH_X32;
	}
	return x32 && !x86_64 ? 0 : n;
}

static ssize_t arch_index(const struct arch_calls *archs, size_t n, uint32_t arch)
{
	for (size_t k = 0; k < n; k++)
		if (archs[k].arch == arch)
			return (ssize_t)k;
	return -1;
}

/* The compact program of SPEC, whose filter FILTER holds libseccomp's: it
 * takes that program's place when it can be made (and is shorter). */
static void compact_program(struct runtime_seccomp_filter *filter,
			    const struct runtime_seccomp *spec, uint32_t default_action)
{
	struct arch_calls archs[MAX_COMPACT_ARCHS] = { 0 };
	struct call_run *runs[MAX_COMPACT_ARCHS] = { 0 };
	size_t n_runs[MAX_COMPACT_ARCHS] = { 0 };
	size_t n_archs = filter_archs(spec, archs);
	_cleanup_free_ struct profile_name *names = NULL;
	_cleanup_free_ struct sock_filter *sub_insns = NULL;
	_cleanup_free_ struct sock_filter *prog = NULL;
	struct name_set simple = { 0 };
	scmp_filter_ctx sub = NULL;
	size_t n_names = 0, n_sub = 0, at, total, sub_at;
	size_t section[MAX_COMPACT_ARCHS] = { 0 };
	ssize_t x32 = arch_index(archs, n_archs, SCMP_ARCH_X32);
	bool failed = false, wants_listener = false;

	if (n_archs == 0 || profile_names(spec, default_action, &names, &n_names) < 0)
		return;
	for (size_t a = 0; a < n_archs; a++)
		if (!(archs[a].calls = calloc(n_names + 1, sizeof(*archs[a].calls))))
			goto out;
	while (fill_calls(names, n_names, archs, n_archs, &failed))
		;
	simple.names = calloc(n_names + 1, sizeof(*simple.names));
	if (failed || !simple.names)
		goto out;
	for (size_t i = 0; i < n_names; i++)
		if (names[i].simple)
			simple.names[simple.n++] = names[i].name;
	sub = new_ctx(spec, default_action, &simple, &wants_listener, NULL);
	if (!sub || export_program(sub, &sub_insns, &n_sub, NULL) < 0 || !sub_insns)
		goto out;

	/* Laid out: the dispatch on the architecture (a compare and a jump
	 * each, x32 sharing x86-64's), the section of each, x32's after
	 * x86-64's, then libseccomp's program of the rest. */
	total = 1 + 2 * (n_archs - (x32 >= 0)) + 1;
	for (size_t a = 0; a < n_archs; a++) {
		if (!(runs[a] = calloc(archs[a].n + 1, sizeof(*runs[a]))))
			goto out;
		n_runs[a] = make_runs(&archs[a], runs[a]);
	}
	for (size_t a = 0; a < n_archs; a++) {
		if ((ssize_t)a == x32)
			continue;
		section[a] = total;
		total = emit_runs(NULL, total + 1 + (archs[a].arch == SCMP_ARCH_X86_64 ? 2 : 0),
				  runs[a], n_runs[a], 0);
		if (archs[a].arch == SCMP_ARCH_X86_64 && x32 >= 0) {
			section[x32] = total;
			total = emit_runs(NULL, total, runs[x32], n_runs[x32], 0);
		}
	}
	sub_at = total;
	total += n_sub;
	if (total > BPF_MAXINSNS || total >= filter->n_insns ||
	    !(prog = calloc(total, sizeof(*prog))))
		goto out;

	at = 0;
	prog[at++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t a = 0; a < n_archs; a++) {
		if ((ssize_t)a == x32)
			continue;
		prog[at] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch_token(archs[a].arch), 0, 1);
		prog[at + 1] = STMT(BPF_JMP | BPF_JA, (uint32_t)(section[a] - (at + 2)));
		at += 2;
	}
	prog[at] = STMT(BPF_JMP | BPF_JA, (uint32_t)(sub_at - (at + 1)));
	at++;
	for (size_t a = 0; a < n_archs; a++) {
		if ((ssize_t)a == x32)
			continue;
		prog[at++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		if (archs[a].arch == SCMP_ARCH_X86_64) {
			/* x32's numbers, and with no x32 in the filter, what
			 * libseccomp's program does with them. */
			size_t to = x32 >= 0 ? section[x32] : sub_at;

			prog[at] = JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
			prog[at + 1] = STMT(BPF_JMP | BPF_JA, (uint32_t)(to - (at + 2)));
			at += 2;
		}
		at = emit_runs(prog, at, runs[a], n_runs[a], sub_at);
		if (archs[a].arch == SCMP_ARCH_X86_64 && x32 >= 0)
			at = emit_runs(prog, at, runs[x32], n_runs[x32], sub_at);
	}
	/* Laid out as counted, with no gap. */
	if (at != sub_at)
		goto out;
	memcpy(prog + sub_at, sub_insns, n_sub * sizeof(*prog));
	free(filter->insns);
	filter->insns = steal_ptr(&prog);
	filter->n_insns = (unsigned short)total;
out:
	for (size_t a = 0; a < n_archs; a++) {
		free(archs[a].calls);
		free(runs[a]);
	}
	free(simple.names);
	if (sub)
		seccomp_release(sub);
}

/* Builds the filter SPEC describes.  *out owns it (free with
 * runtime_seccomp_filter_free).  Sets BERR_INVALID naming the JSON path of
 * a bad action, errnoRet, architecture, flag, operator or argument index,
 * and of a rule libseccomp refuses; BERR_INTERNAL when memory runs out. */
int runtime_seccomp_prepare(const struct runtime_seccomp *spec, struct runtime_seccomp_filter **out,
			    struct berr **err)
{
	_cleanup_(runtime_seccomp_filter_free_cleanup) struct runtime_seccomp_filter *filter = NULL;
	uint32_t default_action;

	if (action_parse(spec->default_action, spec->has_default_errno_ret, spec->default_errno_ret,
			 &default_action, err) < 0)
		return berr_prefix(err, "linux.seccomp.defaultAction");
	/* The container process still talks to the runtime after loading. */
	if (default_action == SCMP_ACT_NOTIFY)
		return berr_set(err, BERR_INVALID, 0,
				"linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
				"default action");

	filter = calloc(1, sizeof(*filter));
	if (filter == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "seccomp: allocate filter");
	filter->ctx = new_ctx(spec, default_action, NULL, &filter->wants_listener, err);
	if (filter->ctx == NULL)
		return -1;
	filter->has_flags = spec->flags && spec->flags[0];
	if (check_program(filter, err) < 0)
		return -1;
	/* What runtime_seccomp_load() loads alone; a listener or load flags
	 * need libseccomp's own load, of the whole filter. */
	if (filter->insns && !filter->wants_listener && !filter->has_flags)
		compact_program(filter, spec, default_action);
	*out = steal_ptr(&filter);
	return 0;
}

/*
 * The program cache.  A file holds, in native byte order: a magic, the
 * length of the spec's canonical text, that text, the number of
 * instructions, the instructions, and an FNV-1a checksum of all that
 * precedes it (a file cut short by a crash fails it).
 */

#define SECCOMP_CACHE_MAGIC 0x62736333u /* "bsc3" */

/* A 64-bit hash of LEN bytes at DATA, eight at a time, each word mixed
 * with FNV's prime and its high bits folded down: a cache file's name from
 * its profile's text (which the file holds whole, compared before use) and
 * the check of the whole file.  FNV-1a a byte at a time took 20 us for a
 * default profile's text and file, in both the runtime and the init. */
static uint64_t hash64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t word;

	for (; len >= sizeof(word); p += sizeof(word), len -= sizeof(word)) {
		memcpy(&word, p, sizeof(word));
		h = (h ^ word) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; len > 0; p++, len--)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ull

static bool cacheable(const struct runtime_seccomp *spec)
{
	if (!spec->canonical || (spec->flags && spec->flags[0]) || spec->listener_path)
		return false;
	for (size_t i = 0; i < spec->n_rules; i++)
		if (spec->rules[i].action && strcmp(spec->rules[i].action, "SCMP_ACT_NOTIFY") == 0)
			return false;
	return true;
}

/* The cache file of a spec whose text is TEXT (LEN bytes): named by KIND
 * ("" for a spec's canonical text, "t" for the text as a config holds it),
 * a hash of the text, the libseccomp version and the architecture; the
 * text inside tells collisions apart. */
static char *cache_path(const char *dir, const char *kind, const char *text, size_t len)
{
	const struct scmp_version *v = seccomp_version();
	uint64_t h = hash64(HASH_SEED, text, len);

	return str_printf("%s/%s%016llx-%u.%u.%u-%x.bpf", dir, kind, (unsigned long long)h,
			  v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
			  seccomp_arch_native());
}

/* The program of the spec whose text is TEXT (TEXT_LEN bytes) from PATH
 * into FILTER; false when there is none to trust. */
static bool cache_read(const char *path, const char *text, size_t text_len,
		       struct runtime_seccomp_filter *filter)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, off = 0;
	uint32_t magic, stored_len, n;
	uint64_t sum;

	if (fs_read_file(path,
			 2 * sizeof(uint32_t) + text_len + sizeof(uint32_t) +
				 BPF_MAXINSNS * sizeof(struct sock_filter) + sizeof(uint64_t),
			 &data, &len, NULL) < 0)
		return false;
	if (len < 3 * sizeof(uint32_t) + text_len + sizeof(uint64_t))
		return false;
	memcpy(&magic, data, sizeof(magic));
	memcpy(&stored_len, data + sizeof(magic), sizeof(stored_len));
	off = 2 * sizeof(uint32_t);
	if (magic != SECCOMP_CACHE_MAGIC || stored_len != text_len ||
	    memcmp(data + off, text, text_len) != 0)
		return false;
	off += text_len;
	memcpy(&n, data + off, sizeof(n));
	off += sizeof(n);
	if (n == 0 || n > BPF_MAXINSNS || len != off + n * sizeof(struct sock_filter) + sizeof(sum))
		return false;
	memcpy(&sum, data + len - sizeof(sum), sizeof(sum));
	if (sum != hash64(HASH_SEED, data, len - sizeof(sum)))
		return false;
	filter->insns = malloc(n * sizeof(struct sock_filter));
	if (!filter->insns)
		return false;
	memcpy(filter->insns, data + off, n * sizeof(struct sock_filter));
	filter->n_insns = (unsigned short)n;
	return true;
}

static void cache_write(const char *dir, const char *path, const char *text, size_t text_len,
			const struct runtime_seccomp_filter *filter)
{
	size_t prog_len = filter->n_insns * sizeof(struct sock_filter);
	size_t len = 3 * sizeof(uint32_t) + text_len + prog_len + sizeof(uint64_t), off = 0;
	_cleanup_free_ char *data = malloc(len);
	uint32_t magic = SECCOMP_CACHE_MAGIC, stored_len = (uint32_t)text_len, n = filter->n_insns;
	uint64_t sum;
	struct berr *err = NULL;

	if (!data || fs_mkdir_p(dir, 0700, &err) < 0) {
		berr_free(err);
		return;
	}
	memcpy(data, &magic, sizeof(magic));
	memcpy(data + sizeof(magic), &stored_len, sizeof(stored_len));
	off = 2 * sizeof(uint32_t);
	memcpy(data + off, text, text_len);
	off += text_len;
	memcpy(data + off, &n, sizeof(n));
	off += sizeof(n);
	memcpy(data + off, filter->insns, prog_len);
	off += prog_len;
	sum = hash64(HASH_SEED, data, off);
	memcpy(data + off, &sum, sizeof(sum));
	/* Not synced: a lost file is made again, a torn one fails its sum. */
	if (fs_write_file_replace(path, data, len, 0600, &err) < 0) {
		blog_debug("seccomp: keep the program: %s", err->msg);
		berr_free(err);
	}
}

int runtime_seccomp_prepare_cached(const struct runtime_seccomp *spec, const char *cache_dir,
				   struct runtime_seccomp_filter **out, struct berr **err)
{
	_cleanup_free_ char *path = NULL;
	struct runtime_seccomp_filter *filter;
	size_t text_len;

	if (!cache_dir || !cacheable(spec))
		return runtime_seccomp_prepare(spec, out, err);
	text_len = strlen(spec->canonical);
	path = cache_path(cache_dir, "", spec->canonical, text_len);
	if (!path)
		return runtime_seccomp_prepare(spec, out, err);
	filter = calloc(1, sizeof(*filter));
	if (filter == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "seccomp: allocate filter");
	if (cache_read(path, spec->canonical, text_len, filter)) {
		*out = filter;
		return 0;
	}
	runtime_seccomp_filter_free(filter);
	if (runtime_seccomp_prepare(spec, out, err) < 0)
		return -1;
	if ((*out)->insns)
		cache_write(cache_dir, path, spec->canonical, text_len, *out);
	return 0;
}

/* A filter that runtime_seccomp_load() loads as its program alone. */
static bool plain(const struct runtime_seccomp_filter *filter)
{
	return filter->insns && !filter->wants_listener && !filter->has_flags;
}

bool runtime_seccomp_cached_text(const char *text, size_t len, const char *cache_dir,
				 struct runtime_seccomp_filter **out)
{
	_cleanup_free_ char *path = cache_path(cache_dir, "t", text, len);
	struct runtime_seccomp_filter *filter = NULL;

	if (!path || !(filter = calloc(1, sizeof(*filter))))
		return false;
	if (!cache_read(path, text, len, filter)) {
		runtime_seccomp_filter_free(filter);
		return false;
	}
	*out = filter;
	return true;
}

void runtime_seccomp_cache_text(const char *text, size_t len, const char *cache_dir,
				const struct runtime_seccomp_filter *filter)
{
	_cleanup_free_ char *path = NULL;

	if (!plain(filter) || !(path = cache_path(cache_dir, "t", text, len)))
		return;
	cache_write(cache_dir, path, text, len, filter);
}

/* Loads FILTER into the calling process.  LISTENER_FD may be NULL only when
 * the filter wants no listener.  Sets BERR_FORBIDDEN when the process has
 * neither no_new_privs nor CAP_SYS_ADMIN, BERR_INTERNAL otherwise. */
int runtime_seccomp_load(struct runtime_seccomp_filter *filter, int *listener_fd, struct berr **err)
{
	int fd = -1;
	int rc;

	if (filter->wants_listener && listener_fd == NULL)
		return berr_set(err, BERR_INTERNAL, EINVAL,
				"seccomp: the filter has a listener and nobody takes it");
	if (filter->insns && !filter->wants_listener && !filter->has_flags) {
		struct sock_fprog prog = { .len = filter->n_insns, .filter = filter->insns };

		rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
	} else {
		rc = seccomp_load(filter->ctx);
	}
	if (rc == -EACCES)
		return berr_set(err, BERR_FORBIDDEN, -rc,
				"load seccomp filter (needs noNewPrivileges or CAP_SYS_ADMIN)");
	if (rc < 0)
		return berr_set(err, BERR_INTERNAL, -rc, "load seccomp filter");
	if (filter->wants_listener) {
		/* The kernel made it O_CLOEXEC (seccomp_set_mode_filter). */
		fd = seccomp_notify_fd(filter->ctx);
		if (fd < 0)
			return berr_set(err, BERR_INTERNAL, -fd, "seccomp: get the listener fd");
	}
	if (listener_fd != NULL)
		*listener_fd = fd;
	return 0;
}

int runtime_seccomp_programs(const struct runtime_seccomp_filter *filter,
			     const struct sock_filter **loaded, size_t *n_loaded,
			     struct sock_filter **whole, size_t *n_whole, struct berr **err)
{
	*loaded = plain(filter) ? filter->insns : NULL;
	*n_loaded = plain(filter) ? filter->n_insns : 0;
	*whole = NULL;
	*n_whole = 0;
	if (filter->ctx == NULL)
		return berr_set(err, BERR_INVALID, 0, "seccomp: a filter from the cache");
	if (export_program(filter->ctx, whole, n_whole, err) < 0)
		return -1;
	return *whole ? 0 : berr_set(err, BERR_INTERNAL, EIO, "seccomp: read the filter");
}

bool runtime_seccomp_wants_listener(const struct runtime_seccomp_filter *filter)
{
	return filter->wants_listener;
}

/* LISTENER_FD stays the caller's: the receiver gets a copy.  Sets
 * BERR_INVALID for an empty STATE_JSON (a stream socket would drop the fd
 * with no byte to carry it) and BERR_UNAVAILABLE when the peer is gone. */
int runtime_seccomp_send_listener(int sock, int listener_fd, const char *state_json,
				  struct berr **err)
{
	if (state_json == NULL || state_json[0] == '\0')
		return berr_set(err, BERR_INVALID, 0, "seccomp listener: empty state");
	if (unixsock_send_fd(sock, listener_fd, state_json, strlen(state_json), err) < 0)
		return berr_prefix(err, "send seccomp listener");
	return 0;
}

void runtime_seccomp_filter_free(struct runtime_seccomp_filter *filter)
{
	if (filter == NULL)
		return;
	if (filter->ctx != NULL)
		seccomp_release(filter->ctx);
	free(filter->insns);
	free(filter);
}

/* A new array stored in OBJ under KEY; borrowed, OBJ owns it. */
static json_t *new_list(json_t *obj, const char *key)
{
	/* json_object_set_new() takes the array, and refuses NULL. */
	json_t *array = json_array();

	if (json_object_set_new(obj, key, array) < 0)
		return NULL;
	return array;
}

static int push_name(json_t *array, const char *name)
{
	return json_array_append_new(array, json_string(name));
}

/* The "linux.seccomp" object of the runtime-spec features document.
 * supportedFlags are the known flags that this kernel and libseccomp
 * accept.  New reference; NULL when memory runs out. */
json_t *runtime_seccomp_features(void)
{
	_cleanup_(json_decrefp) json_t *obj = json_object();
	json_t *actions, *ops, *archs, *known, *supported;
	unsigned int api = seccomp_api_get();

	if (obj == NULL || json_object_set_new(obj, "enabled", json_true()) < 0)
		return NULL;
	actions = new_list(obj, "actions");
	ops = new_list(obj, "operators");
	archs = new_list(obj, "archs");
	known = new_list(obj, "knownFlags");
	supported = new_list(obj, "supportedFlags");
	if (!actions || !ops || !archs || !known || !supported)
		return NULL;

	for (size_t i = 0; i < N_ELEMENTS(seccomp_actions); i++)
		if (push_name(actions, seccomp_actions[i].name) < 0)
			return NULL;
	for (size_t i = 0; i < N_ELEMENTS(seccomp_ops); i++)
		if (push_name(ops, seccomp_ops[i].name) < 0)
			return NULL;
	for (size_t i = 0; i < N_ELEMENTS(seccomp_archs); i++)
		if (push_name(archs, seccomp_archs[i].name) < 0)
			return NULL;
	for (size_t i = 0; i < N_ELEMENTS(seccomp_flags); i++) {
		if (push_name(known, seccomp_flags[i].name) < 0)
			return NULL;
		if (api >= seccomp_flags[i].api && push_name(supported, seccomp_flags[i].name) < 0)
			return NULL;
	}
	return steal_ptr(&obj);
}
