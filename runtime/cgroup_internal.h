/* What the cgroup front end (cgroup.c) shares with its two back ends
 * (cgroup_v1.c, cgroup_v2.c): the handle, the table of functions each back
 * end fills, and the small file helpers all three use.  Private to these
 * three files and their unit tests. */
#ifndef BERTH_RUNTIME_CGROUP_INTERNAL_H
#define BERTH_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/berr.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* Bounds for what is read from cgroup files: single values are small, a
 * cgroup.procs list holds at most pid_max lines. */
#define RUNTIME_CGROUP_VALUE_MAX (64 * 1024)
#define RUNTIME_CGROUP_PROCS_MAX (64 * 1024 * 1024)

/* One directory of the container: in v1 one per hierarchy, in v2 exactly
 * one.  NAME is the hierarchy's directory under the root ("memory",
 * "cpu,cpuacct", "systemd"); empty in v2. */
struct runtime_cgroup_dir {
	char *name;
	char *base; /* the hierarchy root: ROOT/NAME (v1) or ROOT (v2) */
	char *path; /* BASE/REL_PATH, the container's directory */
};

struct runtime_cgroup_ops;

struct runtime_cgroup {
	enum runtime_cgroup_mode mode;
	const struct runtime_cgroup_ops *ops;
	char *root;
	char *rel_path;
	struct runtime_cgroup_dir *dirs;
	size_t n_dirs;
	/* Directories this handle made, in creation order (parents first);
	 * destroy removes them backwards.  Empty for an opened handle. */
	char **created;
	size_t n_created;
};

/* What differs between v1 and v2.  Every function sets BERR_* as the
 * public function that calls it documents. */
struct runtime_cgroup_ops {
	/* Fills CG->dirs through runtime_cgroup_add_dir(): v1 one entry per
	 * hierarchy under CG->root, v2 CG->root itself.  Sets
	 * BERR_UNAVAILABLE when there is nothing to use. */
	int (*list_dirs)(struct runtime_cgroup *cg, struct berr **err);
	/* Called once CHILD (a directory under PARENT in DIR's hierarchy)
	 * exists, before anything deeper is made: v1 fills cpuset values,
	 * v2 enables controllers in PARENT's cgroup.subtree_control. */
	int (*prepare_level)(const struct runtime_cgroup_dir *dir, const char *parent,
			     const char *child, struct berr **err);
	int (*apply)(struct runtime_cgroup *cg, const struct runtime_resources *res,
		     struct berr **err);
	int (*freeze)(struct runtime_cgroup *cg, bool frozen, struct berr **err);
	bool (*is_frozen)(struct runtime_cgroup *cg);
	unsigned long (*oom_kills)(struct runtime_cgroup *cg);
	/* The directory whose cgroup.procs lists the container's pids. */
	const struct runtime_cgroup_dir *(*procs_dir)(struct runtime_cgroup *cg);
};

extern const struct runtime_cgroup_ops runtime_cgroup_v1_ops;
extern const struct runtime_cgroup_ops runtime_cgroup_v2_ops;

/* Appends a directory for the hierarchy NAME rooted at BASE; its path is
 * BASE/CG->rel_path.  Sets BERR_INTERNAL (out of memory). */
int runtime_cgroup_add_dir(struct runtime_cgroup *cg, const char *name, const char *base,
			   struct berr **err);

/* Whether DIR's hierarchy carries CONTROLLER: "cpu" is in "cpu,cpuacct",
 * "name=systemd" (or "systemd") is the "systemd" one. */
bool runtime_cgroup_dir_has(const struct runtime_cgroup_dir *dir, const char *controller);

/* The v1 directory whose hierarchy carries CONTROLLER ("memory"), or NULL.
 * Borrowed from CG. */
const struct runtime_cgroup_dir *runtime_cgroup_find_dir(struct runtime_cgroup *cg,
							 const char *controller);

/* Writes VALUE to DIR/NAME in one write(2).  A missing file is
 * BERR_INVALID (the kernel or the hierarchy lacks the feature), a value
 * the kernel refuses (EINVAL, ERANGE, EBUSY, EOVERFLOW) is BERR_INVALID
 * naming the file and the value, anything else BERR_INTERNAL. */
int runtime_cgroup_write(const char *dir, const char *name, const char *value, struct berr **err);
/* The two halves of runtime_cgroup_write(), for many values written to one
 * file: the open, which returns the fd and (PATH_OUT, may be NULL) the
 * file's path for the caller to free, and one write of VALUE to FD. */
int runtime_cgroup_open_file(const char *dir, const char *name, char **path_out, struct berr **err);
int runtime_cgroup_write_fd(int fd, const char *path, const char *value, struct berr **err);

/* Writes two values whose order matters to the kernel (a period and a
 * quota, a limit and a limit+swap): NAME_A first, and when the kernel
 * refuses with EINVAL, NAME_B first.  A NULL value is not written. */
int runtime_cgroup_write_pair(const char *dir, const char *name_a, const char *value_a,
			      const char *name_b, const char *value_b, struct berr **err);

/* Reads DIR/NAME with trailing white space removed; *out is owned by the
 * caller.  A missing file is BERR_NOT_FOUND. */
int runtime_cgroup_read(const char *dir, const char *name, char **out, struct berr **err);

/* Finds the line "KEY VALUE" in DIR/NAME (memory.events, cgroup.events,
 * memory.oom_control) and parses VALUE.  Returns -1 when the file or the
 * key is missing or the value is no number; no error is reported. */
int runtime_cgroup_read_key(const char *dir, const char *name, const char *key,
			    unsigned long *value);

bool runtime_cgroup_file_exists(const char *dir, const char *name);

/* Polls every few milliseconds until DONE(DIR, ARG) is true, for up to
 * TIMEOUT_MS; returns true when it became true. */
bool runtime_cgroup_wait(bool (*done)(const char *dir, void *arg), const char *dir, void *arg,
			 unsigned int timeout_ms);

/* Parses MOUNTINFO (the text of /proc/self/mountinfo) the way
 * runtime_cgroup_detect() does; split out so the rule can be tested with
 * made-up mount tables.  Sets BERR_UNAVAILABLE. */
int runtime_cgroup_detect_mountinfo(const char *mountinfo, const char *root,
				    enum runtime_cgroup_mode *mode, struct berr **err);

/* The eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that enforces RULES: deny
 * by default, the last matching rule decides.  *insns is owned by the
 * caller (an array of struct bpf_insn, *n_insns long).  Sets
 * BERR_INVALID for a rule the program cannot express. */
int runtime_cgroup_devices_program(const struct runtime_device_rule *rules, size_t n_rules,
				   void **insns, size_t *n_insns, struct berr **err);

/* Loads the program for RULES and attaches it to the cgroup directory
 * PATH (BPF_F_ALLOW_MULTI), then detaches the programs attached there
 * before, so the new rules replace the old ones.  Sets BERR_INVALID when
 * the kernel's verifier refuses the program, BERR_UNAVAILABLE when the
 * kernel has no cgroup eBPF. */
int runtime_cgroup_devices_attach(const char *path, const struct runtime_device_rule *rules,
				  size_t n_rules, struct berr **err);

#endif
