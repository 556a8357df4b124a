/* The OCI runtime configuration (config.json, runtime-spec 1.0 to 1.2) as
 * typed C structures.  runtime_spec_parse() validates everything up front,
 * so a container is never half set up because of a bad field: every error
 * names the JSON path that is wrong ("linux.namespaces[2].type: unknown
 * namespace type \"foo\""). */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* config.json is read from the bundle, which a user controls. */
#define RUNTIME_SPEC_MAX_SIZE (4 * 1024 * 1024)

enum runtime_ns_type {
	RUNTIME_NS_PID,
	RUNTIME_NS_NETWORK,
	RUNTIME_NS_MOUNT,
	RUNTIME_NS_IPC,
	RUNTIME_NS_UTS,
	RUNTIME_NS_USER,
	RUNTIME_NS_CGROUP,
	RUNTIME_NS_TIME,
	RUNTIME_NS_COUNT,
};

struct runtime_namespace {
	bool enabled; /* listed in linux.namespaces */
	char *path;   /* join this namespace; NULL creates a new one */
};

struct runtime_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct runtime_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft;
	uint64_t hard;
};

/* The five capability sets, as bit masks of CAP_* numbers. */
struct runtime_caps {
	bool present; /* process.capabilities given at all */
	uint64_t bounding;
	uint64_t effective;
	uint64_t inheritable;
	uint64_t permitted;
	uint64_t ambient;
};

struct runtime_process {
	bool terminal;
	unsigned short console_height, console_width;
	char *cwd;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	struct runtime_caps caps;
	struct runtime_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile; /* accepted, not applied: no AppArmor here */
	char *selinux_label;
};

/* Mount flags and the propagation taken from the options list. */
struct runtime_mount {
	char *destination;
	char *type; /* NULL for bind mounts given only by options */
	char *source;
	char **options;		   /* NULL-terminated, as written */
	unsigned long flags;	   /* MS_* to set */
	unsigned long clear_flags; /* MS_* that the options turn off (rw, suid...) */
	unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE(|MS_REC) or 0 */
	bool bind;		   /* bind or rbind */
	bool recursive;		   /* rbind */
	char *data;		   /* the options the kernel takes as data ("size=64m") */
};

struct runtime_device {
	char type; /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major, minor;
	bool has_file_mode;
	mode_t file_mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

/* linux.resources.devices[] */
struct runtime_device_rule {
	bool allow;
	char type;	      /* 'a', 'c' or 'b' */
	int64_t major, minor; /* -1 for any */
	char access[4];	      /* some of "rwm" */
};

/* Every resource field is optional: has_* says whether it was given. */
struct runtime_resources {
	bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_swappiness;
	int64_t memory_limit, memory_reservation, memory_swap;
	uint64_t memory_swappiness;
	bool disable_oom_killer;
	bool has_cpu_shares, has_cpu_quota, has_cpu_period;
	uint64_t cpu_shares;
	int64_t cpu_quota;
	uint64_t cpu_period;
	char *cpuset_cpus;
	char *cpuset_mems;
	bool has_pids_limit;
	int64_t pids_limit;
	bool has_blkio_weight;
	uint16_t blkio_weight;
	struct runtime_device_rule *devices;
	size_t n_devices;
	/* linux.resources.unified (cgroup v2 key/value pairs) */
	char **unified_keys;
	char **unified_values;
	size_t n_unified;
};

enum runtime_hook_kind {
	RUNTIME_HOOK_PRESTART,
	RUNTIME_HOOK_CREATE_RUNTIME,
	RUNTIME_HOOK_CREATE_CONTAINER,
	RUNTIME_HOOK_START_CONTAINER,
	RUNTIME_HOOK_POSTSTART,
	RUNTIME_HOOK_POSTSTOP,
	RUNTIME_HOOK_KIND_COUNT,
};

struct runtime_hook {
	char *path;
	char **args; /* NULL-terminated; may be NULL */
	char **env;  /* NULL-terminated; may be NULL */
	int timeout; /* seconds, 0 for none */
};

struct runtime_hook_list {
	struct runtime_hook *hooks;
	size_t n;
};

enum runtime_seccomp_op {
	RUNTIME_SECCOMP_OP_NE,
	RUNTIME_SECCOMP_OP_LT,
	RUNTIME_SECCOMP_OP_LE,
	RUNTIME_SECCOMP_OP_EQ,
	RUNTIME_SECCOMP_OP_GE,
	RUNTIME_SECCOMP_OP_GT,
	RUNTIME_SECCOMP_OP_MASKED_EQ,
};

struct runtime_seccomp_arg {
	unsigned int index;
	uint64_t value;
	uint64_t value_two;
	enum runtime_seccomp_op op;
};

/* Actions keep the spec's names ("SCMP_ACT_ERRNO"); the seccomp module maps
 * them, so the parser does not depend on libseccomp. */
struct runtime_seccomp_rule {
	char **names; /* NULL-terminated */
	char *action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct runtime_seccomp_arg *args;
	size_t n_args;
};

struct runtime_seccomp {
	char *default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures; /* NULL-terminated, "SCMP_ARCH_X86_64"... */
	char **flags;	      /* NULL-terminated, "SECCOMP_FILTER_FLAG_LOG"... */
	char *listener_path;
	char *listener_metadata;
	struct runtime_seccomp_rule *rules;
	size_t n_rules;
	/* The object as given, compact with sorted keys: what a program
	 * kept from an earlier start must have been made from. */
	char *canonical;
};

struct runtime_sysctl {
	char *key;
	char *value;
};

struct runtime_spec {
	char *oci_version;
	char *root_path; /* as written; relative to the bundle */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct runtime_process *process; /* NULL when absent (allowed for create only by spec) */
	struct runtime_mount *mounts;
	size_t n_mounts;
	struct runtime_hook_list hooks[RUNTIME_HOOK_KIND_COUNT];
	char **annotation_keys;
	char **annotation_values;
	size_t n_annotations;

	/* linux */
	struct runtime_namespace namespaces[RUNTIME_NS_COUNT];
	struct runtime_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct runtime_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	struct runtime_device *devices;
	size_t n_devices;
	char *cgroups_path;
	struct runtime_resources resources;
	struct runtime_sysctl *sysctls;
	size_t n_sysctls;
	struct runtime_seccomp *seccomp; /* NULL when absent */
	char *rootfs_propagation;	 /* "private", "rslave"... or NULL */
	char **masked_paths;		 /* NULL-terminated */
	char **readonly_paths;		 /* NULL-terminated */
	char *mount_label;
	char *personality_domain; /* "LINUX" or "LINUX32", or NULL */
};

/* Where the value of linux.seccomp lies in the config.json text JSON (LEN
 * bytes), found without parsing: [*start, *end).  False when there is
 * none, or when the text is not plainly an object with one "linux" member
 * holding one "seccomp" object (duplicate or escaped keys included): the
 * caller parses it all then. */
bool runtime_spec_seccomp_span(const char *json, size_t len, size_t *start, size_t *end);

/* Parses and validates a config.json document of LEN bytes.  On success *out
 * owns a new spec.  Sets BERR_INVALID with the JSON path of the first
 * problem. */
int runtime_spec_parse(const char *json, size_t len, struct runtime_spec **out, struct berr **err);

/* Reads BUNDLE/config.json.  A missing file is BERR_NOT_FOUND. */
int runtime_spec_load(const char *bundle, struct runtime_spec **out, struct berr **err);

/* Parses a process object alone (`berth-runc exec --process FILE`). */
int runtime_process_parse(const char *json, size_t len, struct runtime_process **out,
			  struct berr **err);

void runtime_spec_free(struct runtime_spec *spec);
void runtime_process_free(struct runtime_process *process);
DEFINE_CLEANUP(struct runtime_spec *, runtime_spec_free)
DEFINE_CLEANUP(struct runtime_process *, runtime_process_free)

/* "pid", "network", ... and back; -1 when unknown. */
const char *runtime_ns_type_name(enum runtime_ns_type type);
int runtime_ns_type_parse(const char *name);
/* The CLONE_NEW* flag of a namespace type. */
int runtime_ns_clone_flag(enum runtime_ns_type type);

/* "CAP_SYS_ADMIN" -> 21; -1 when unknown. */
int runtime_cap_parse(const char *name);
const char *runtime_cap_name(int cap);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown. */
int runtime_rlimit_parse(const char *name);
/* RLIMIT_NOFILE -> "RLIMIT_NOFILE"; NULL when unknown. */
const char *runtime_rlimit_name(int resource);

/* The default spec that `berth-runc spec` writes, as a JSON text that the
 * caller frees. */
char *runtime_spec_default_json(bool rootless);

#endif
