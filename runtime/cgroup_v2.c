/* cgroup v2: the container is one directory of the unified tree.  This
 * file enables controllers down the path, converts the OCI values to the
 * v2 files (shares to cpu.weight, memory+swap to memory.swap.max...),
 * writes linux.resources.unified, freezes through cgroup.freeze, and
 * enforces device rules with an eBPF program, v2 having no devices files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "runtime/cgroup_internal.h"

#define V2_FREEZE_TIMEOUT_MS 5000
/* Programs attached directly to one cgroup that we look at. */
#define V2_MAX_ATTACHED	     64
#define V2_VERIFIER_LOG_SIZE (64 * 1024)

static int v2_list_dirs(struct runtime_cgroup *cg, struct berr **err)
{
	if (!fs_exists(cg->root))
		return berr_set(err, BERR_UNAVAILABLE, ENOENT, "no cgroup tree at %s", cg->root);
	return runtime_cgroup_add_dir(cg, "", cg->root, err);
}

static bool word_in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

/* A controller only reaches a child through the parent's
 * cgroup.subtree_control; enable there every controller the parent has,
 * so that limits given now or in a later `update` can be written. */
static int v2_prepare_level(const struct runtime_cgroup_dir *dir, const char *parent,
			    const char *child, struct berr **err)
{
	_cleanup_free_ char *avail = NULL;
	_cleanup_free_ char *enabled = NULL;
	_cleanup_free_ char *want = NULL;
	char *word, *save = NULL;
	size_t used = 0, cap;

	if (runtime_cgroup_read(parent, "cgroup.controllers", &avail, NULL) < 0 || !avail[0])
		return 0;
	if (runtime_cgroup_read(parent, "cgroup.subtree_control", &enabled, NULL) < 0)
		enabled = strdup("");
	/* "+a +b": at most two more bytes per word than the list. */
	cap = 2 * strlen(avail) + 2;
	want = malloc(cap);
	if (want == NULL || enabled == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup controllers");
	want[0] = '\0';
	for (word = strtok_r(avail, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		if (word_in_list(enabled, word))
			continue;
		used += (size_t)snprintf(want + used, cap - used, "%s+%s", used ? " " : "", word);
	}
	if (used == 0)
		return 0;
	if (runtime_cgroup_write(parent, "cgroup.subtree_control", want, NULL) == 0)
		return 0;
	/* One controller the kernel will not enable here (a parent with
	 * processes of its own, a threaded subtree) must not keep the others
	 * away: try them one by one.  A limit that then lacks its controller
	 * fails when it is written, naming the file. */
	save = NULL;
	for (word = strtok_r(want, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		_cleanup_berr_ struct berr *one = NULL;

		if (runtime_cgroup_write(parent, "cgroup.subtree_control", word, &one) < 0)
			blog_debug("enable %s in %s: %s", word + 1, parent,
				   one ? one->msg : "failed");
	}
	return 0;
}

static int write_u64(const char *dir, const char *name, uint64_t v, struct berr **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return runtime_cgroup_write(dir, name, buf, err);
}

/* OCI's memory.swap is memory+swap; v2's memory.swap.max is swap alone. */
static int apply_memory(const char *dir, const struct runtime_resources *res, struct berr **err)
{
	bool want_limit = res->has_memory_limit && res->memory_limit != 0;
	bool want_swap = res->has_memory_swap && res->memory_swap != 0;

	if (want_limit) {
		if (res->memory_limit < 0) {
			if (runtime_cgroup_write(dir, "memory.max", "max", err) < 0)
				return -1;
		} else if (write_u64(dir, "memory.max", (uint64_t)res->memory_limit, err) < 0) {
			return -1;
		}
	}
	if (want_swap) {
		bool has_file = runtime_cgroup_file_exists(dir, "memory.swap.max");

		if (res->memory_swap < 0) {
			if (has_file &&
			    runtime_cgroup_write(dir, "memory.swap.max", "max", err) < 0)
				return -1;
		} else if (!want_limit || res->memory_limit < 0) {
			return berr_set(err, BERR_INVALID, 0,
					"a memory+swap limit needs a memory limit");
		} else if (res->memory_swap < res->memory_limit) {
			return berr_set(err, BERR_INVALID, 0,
					"memory+swap limit %" PRId64
					" is below the memory limit %" PRId64,
					res->memory_swap, res->memory_limit);
		} else if (!has_file && res->memory_swap != res->memory_limit) {
			return berr_set(err, BERR_INVALID, 0,
					"a swap limit was asked for but the kernel does not "
					"account swap (no memory.swap.max)");
		} else if (has_file &&
			   write_u64(dir, "memory.swap.max",
				     (uint64_t)(res->memory_swap - res->memory_limit), err) < 0) {
			return -1;
		}
	}
	if (res->has_memory_reservation && res->memory_reservation != 0) {
		if (res->memory_reservation < 0) {
			if (runtime_cgroup_write(dir, "memory.low", "max", err) < 0)
				return -1;
		} else if (write_u64(dir, "memory.low", (uint64_t)res->memory_reservation, err) <
			   0) {
			return -1;
		}
	}
	/* Neither has a v2 file; runc and crun let them pass as well. */
	if (res->has_memory_swappiness && res->memory_swappiness != UINT64_MAX)
		blog_warn("memory swappiness is not supported on cgroup v2; ignored");
	if (res->disable_oom_killer)
		blog_warn("disabling the OOM killer is not supported on cgroup v2; ignored");
	return 0;
}

/* The conversion runc and crun share: shares 2..262144 onto weight
 * 1..10000, so that the default 1024 lands near v2's default 100. */
static uint64_t shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_cpu(const char *dir, const struct runtime_resources *res, struct berr **err)
{
	bool want_quota = res->has_cpu_quota && res->cpu_quota != 0;
	bool want_period = res->has_cpu_period && res->cpu_period != 0;
	char quota[32] = "max", value[72];

	if (res->has_cpu_shares && res->cpu_shares != 0 &&
	    write_u64(dir, "cpu.weight", shares_to_weight(res->cpu_shares), err) < 0)
		return -1;
	if (!want_quota && !want_period)
		return 0;
	if (want_quota && res->cpu_quota > 0) {
		snprintf(quota, sizeof(quota), "%" PRId64, res->cpu_quota);
	} else if (!want_quota) {
		/* A new period alone keeps the quota in place. */
		_cleanup_free_ char *cur = NULL;

		if (runtime_cgroup_read(dir, "cpu.max", &cur, NULL) == 0 && cur[0]) {
			size_t n = strcspn(cur, " ");

			if (n < sizeof(quota))
				snprintf(quota, sizeof(quota), "%.*s", (int)n, cur);
		}
	}
	if (want_period)
		snprintf(value, sizeof(value), "%s %" PRIu64, quota, res->cpu_period);
	else
		snprintf(value, sizeof(value), "%s", quota);
	return runtime_cgroup_write(dir, "cpu.max", value, err);
}

/* blkio weight 10..1000 onto io.weight 1..10000. */
static uint64_t blkio_to_io_weight(uint64_t weight)
{
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

static int apply_io(const char *dir, const struct runtime_resources *res, struct berr **err)
{
	if (!res->has_blkio_weight || res->blkio_weight == 0)
		return 0;
	if (runtime_cgroup_file_exists(dir, "io.weight"))
		return write_u64(dir, "io.weight", blkio_to_io_weight(res->blkio_weight), err);
	/* BFQ's own file takes the v1 scale as it is. */
	if (runtime_cgroup_file_exists(dir, "io.bfq.weight"))
		return write_u64(dir, "io.bfq.weight", res->blkio_weight, err);
	return berr_set(err, BERR_INVALID, 0,
			"blkio weight %u asked for, but %s has neither io.weight nor io.bfq.weight",
			(unsigned int)res->blkio_weight, dir);
}

static int apply_unified(const char *dir, const struct runtime_resources *res, struct berr **err)
{
	size_t i;

	for (i = 0; i < res->n_unified; i++) {
		const char *key = res->unified_keys[i];

		/* A key names a file of this cgroup and nothing else. */
		if (key[0] == '\0' || strchr(key, '/') || strstr(key, ".."))
			return berr_set(err, BERR_INVALID, 0,
					"linux.resources.unified: invalid key \"%s\"", key);
		if (runtime_cgroup_write(dir, key, res->unified_values[i], err) < 0)
			return berr_prefix(err, "linux.resources.unified[\"%s\"]", key);
	}
	return 0;
}

static int v2_apply(struct runtime_cgroup *cg, const struct runtime_resources *res,
		    struct berr **err)
{
	const char *dir = cg->dirs[0].path;

	if (apply_memory(dir, res, err) < 0 || apply_cpu(dir, res, err) < 0)
		return -1;
	if (res->cpuset_cpus && res->cpuset_cpus[0] &&
	    runtime_cgroup_write(dir, "cpuset.cpus", res->cpuset_cpus, err) < 0)
		return -1;
	if (res->cpuset_mems && res->cpuset_mems[0] &&
	    runtime_cgroup_write(dir, "cpuset.mems", res->cpuset_mems, err) < 0)
		return -1;
	if (res->has_pids_limit) {
		int rc = res->pids_limit <= 0
				 ? runtime_cgroup_write(dir, "pids.max", "max", err)
				 : write_u64(dir, "pids.max", (uint64_t)res->pids_limit, err);

		if (rc < 0)
			return -1;
	}
	if (apply_io(dir, res, err) < 0)
		return -1;
	if (res->n_devices > 0 &&
	    runtime_cgroup_devices_attach(dir, res->devices, res->n_devices, err) < 0)
		return -1;
	/* Last, so that a unified value overrides the one derived above. */
	return apply_unified(dir, res, err);
}

static bool v2_frozen_is(const char *dir, void *arg)
{
	unsigned long v;

	if (runtime_cgroup_read_key(dir, "cgroup.events", "frozen", &v) < 0)
		return false;
	return v == (unsigned long)*(bool *)arg;
}

static int v2_freeze(struct runtime_cgroup *cg, bool frozen, struct berr **err)
{
	const char *dir = cg->dirs[0].path;

	if (!runtime_cgroup_file_exists(dir, "cgroup.freeze")) {
		if (!fs_exists(dir))
			return berr_set(err, BERR_NOT_FOUND, ENOENT, "cgroup %s does not exist",
					dir);
		return berr_set(err, BERR_UNAVAILABLE, 0, "the kernel has no cgroup.freeze in %s",
				dir);
	}
	if (runtime_cgroup_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	if (runtime_cgroup_wait(v2_frozen_is, dir, &frozen, V2_FREEZE_TIMEOUT_MS))
		return 0;
	if (frozen)
		runtime_cgroup_write(dir, "cgroup.freeze", "0", NULL);
	return berr_set(err, BERR_INTERNAL, ETIMEDOUT, "%s/cgroup.events did not report frozen %d",
			dir, frozen ? 1 : 0);
}

static bool v2_is_frozen(struct runtime_cgroup *cg)
{
	bool yes = true;

	return v2_frozen_is(cg->dirs[0].path, &yes);
}

static unsigned long v2_oom_kills(struct runtime_cgroup *cg)
{
	unsigned long n = 0;

	if (runtime_cgroup_read_key(cg->dirs[0].path, "memory.events", "oom_kill", &n) < 0)
		return 0;
	return n;
}

static const struct runtime_cgroup_dir *v2_procs_dir(struct runtime_cgroup *cg)
{
	return &cg->dirs[0];
}

const struct runtime_cgroup_ops runtime_cgroup_v2_ops = {
	.list_dirs = v2_list_dirs,
	.prepare_level = v2_prepare_level,
	.apply = v2_apply,
	.freeze = v2_freeze,
	.is_frozen = v2_is_frozen,
	.oom_kills = v2_oom_kills,
	.procs_dir = v2_procs_dir,
};

/* ---- device rules as an eBPF program ----
 *
 * The program sees struct bpf_cgroup_dev_ctx: access_type holds the
 * device type in its low 16 bits and the access bits above, then major
 * and minor.  It loads them into w2 (type), w3 (access), w4 (major) and w5
 * (minor), then tests the rules from the last to the first: the first hit
 * from the end (the last matching rule) returns its verdict, and a device
 * no rule matches is denied. */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off)	INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV32_REG(dst, src)	INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_IMM(dst, imm)	INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP32_IMM(op, dst, imm) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, 0, imm)
#define EXIT_INSN()		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define DEV_ACCESS_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static int access_bits(const char *access, int *bits)
{
	const char *p;

	*bits = 0;
	if (access[0] == '\0') {
		*bits = DEV_ACCESS_ALL;
		return 0;
	}
	for (p = access; *p; p++) {
		if (*p == 'r')
			*bits |= BPF_DEVCG_ACC_READ;
		else if (*p == 'w')
			*bits |= BPF_DEVCG_ACC_WRITE;
		else if (*p == 'm')
			*bits |= BPF_DEVCG_ACC_MKNOD;
		else
			return -1;
	}
	return 0;
}

int runtime_cgroup_devices_program(const struct runtime_device_rule *rules, size_t n_rules,
				   void **insns, size_t *n_insns, struct berr **err)
{
	/* 6 to load, at most 8 per rule, 2 for the default. */
	_cleanup_free_ struct bpf_insn *prog = calloc(6 + 8 * n_rules + 2, sizeof(*prog));
	size_t n = 0, i;

	if (prog == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "device program");
	prog[n++] = LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	prog[n++] = MOV32_REG(BPF_REG_3, BPF_REG_2);
	prog[n++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff);
	prog[n++] = ALU32_IMM(BPF_RSH, BPF_REG_3, 16);
	prog[n++] = LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
	prog[n++] = LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
	for (i = n_rules; i-- > 0;) {
		const struct runtime_device_rule *r = &rules[i];
		size_t jumps[4], n_jumps = 0, j;
		int bits;

		if (access_bits(r->access, &bits) < 0)
			return berr_set(err, BERR_INVALID, 0,
					"device rule %zu: invalid access \"%s\"", i, r->access);
		if (r->major > (int64_t)UINT32_MAX || r->minor > (int64_t)UINT32_MAX)
			return berr_set(err, BERR_INVALID, 0, "device rule %zu: number too large",
					i);
		if (r->type == 'c' || r->type == 'b') {
			jumps[n_jumps++] = n;
			prog[n++] = JMP32_IMM(BPF_JNE, BPF_REG_2,
					      r->type == 'c' ? BPF_DEVCG_DEV_CHAR
							     : BPF_DEVCG_DEV_BLOCK);
		} else if (r->type != 'a') {
			return berr_set(err, BERR_INVALID, 0, "device rule %zu: unknown type '%c'",
					i, r->type);
		}
		if (bits != DEV_ACCESS_ALL) {
			/* An allow rule must cover all that is asked; a deny
			 * rule hits when it covers any of it. */
			prog[n++] = MOV32_REG(BPF_REG_1, BPF_REG_3);
			prog[n++] = ALU32_IMM(BPF_AND, BPF_REG_1,
					      r->allow ? ~bits & DEV_ACCESS_ALL : bits);
			jumps[n_jumps++] = n;
			prog[n++] = JMP32_IMM(r->allow ? BPF_JNE : BPF_JEQ, BPF_REG_1, 0);
		}
		if (r->major >= 0) {
			jumps[n_jumps++] = n;
			prog[n++] = JMP32_IMM(BPF_JNE, BPF_REG_4, (int32_t)(uint32_t)r->major);
		}
		if (r->minor >= 0) {
			jumps[n_jumps++] = n;
			prog[n++] = JMP32_IMM(BPF_JNE, BPF_REG_5, (int32_t)(uint32_t)r->minor);
		}
		prog[n++] = MOV64_IMM(BPF_REG_0, r->allow ? 1 : 0);
		prog[n++] = EXIT_INSN();
		for (j = 0; j < n_jumps; j++)
			prog[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
		/* A rule that matches everything decides alone: the rules
		 * before it could never be reached, and the verifier refuses
		 * unreachable code. */
		if (n_jumps == 0)
			goto done;
	}
	prog[n++] = MOV64_IMM(BPF_REG_0, 0);
	prog[n++] = EXIT_INSN();
done:
	*insns = steal_ptr(&prog);
	*n_insns = n;
	return 0;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int load_program(const struct bpf_insn *insns, size_t n, struct berr **err)
{
	_cleanup_free_ char *log = NULL;
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
	fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (errno == ENOSYS || errno == EPERM)
		return berr_set(err, BERR_UNAVAILABLE, errno, "load device eBPF program");
	/* Load again with the verifier's log, to say why. */
	log = calloc(1, V2_VERIFIER_LOG_SIZE);
	if (log) {
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = V2_VERIFIER_LOG_SIZE;
		attr.log_level = 1;
		fd = bpf_call(BPF_PROG_LOAD, &attr);
		if (fd >= 0)
			return fd;
	}
	return berr_set(err, BERR_INVALID, errno, "load device eBPF program%s%s",
			log && log[0] ? ": " : "", log ? log : "");
}

/* The ids of the device programs attached to DIR_FD itself. */
static int query_attached(int dir_fd, uint32_t *ids, uint32_t *n, struct berr **err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dir_fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = *n;
	if (bpf_call(BPF_PROG_QUERY, &attr) < 0)
		return berr_set(
			err, errno == EINVAL || errno == ENOSYS ? BERR_UNAVAILABLE : BERR_INTERNAL,
			errno, "query device programs");
	*n = attr.query.prog_cnt;
	return 0;
}

static int detach_program(int dir_fd, uint32_t id, struct berr **err)
{
	_cleanup_close_ int prog_fd = -1;
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	prog_fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
	if (prog_fd < 0)
		return errno == ENOENT ? 0
				       : berr_set(err, BERR_INTERNAL, errno, "open program %u", id);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (bpf_call(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return berr_set(err, BERR_INTERNAL, errno, "detach program %u", id);
	return 0;
}

int runtime_cgroup_devices_attach(const char *path, const struct runtime_device_rule *rules,
				  size_t n_rules, struct berr **err)
{
	_cleanup_free_ void *insns = NULL;
	_cleanup_close_ int dir_fd = -1;
	_cleanup_close_ int prog_fd = -1;
	uint32_t old[V2_MAX_ATTACHED];
	uint32_t n_old = V2_MAX_ATTACHED, i;
	union bpf_attr attr;
	size_t n_insns = 0;

	if (runtime_cgroup_devices_program(rules, n_rules, &insns, &n_insns, err) < 0)
		return berr_prefix(err, "linux.resources.devices");
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"open %s", path);
	if (query_attached(dir_fd, old, &n_old, err) < 0)
		return berr_prefix(err, "%s", path);
	prog_fd = load_program(insns, n_insns, err);
	if (prog_fd < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "attach device program to %s", path);
	/* All attached programs must allow an access, so the old rules go
	 * once the new ones are in force: never a moment without rules. */
	for (i = 0; i < n_old && i < V2_MAX_ATTACHED; i++)
		if (detach_program(dir_fd, old[i], err) < 0)
			return berr_prefix(err, "replace device rules of %s", path);
	return 0;
}
