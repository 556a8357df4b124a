/* The names config.json uses for kernel things (namespace types, capability
 * and rlimit names) with their numbers, and the default config that
 * `berth-runc spec` writes.  The capability table is written out here rather
 * than taken from libcap, so a config parses the same whatever libcap knows. */
#include "runtime/spec.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int clone_flag;
} namespaces[RUNTIME_NS_COUNT] = {
	[RUNTIME_NS_PID] = { "pid", CLONE_NEWPID },
	[RUNTIME_NS_NETWORK] = { "network", CLONE_NEWNET },
	[RUNTIME_NS_MOUNT] = { "mount", CLONE_NEWNS },
	[RUNTIME_NS_IPC] = { "ipc", CLONE_NEWIPC },
	[RUNTIME_NS_UTS] = { "uts", CLONE_NEWUTS },
	[RUNTIME_NS_USER] = { "user", CLONE_NEWUSER },
	[RUNTIME_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[RUNTIME_NS_TIME] = { "time", CLONE_NEWTIME },
};

/* Indexed by capability number, as in linux/capability.h. */
static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

const char *runtime_ns_type_name(enum runtime_ns_type type)
{
	if ((unsigned)type >= RUNTIME_NS_COUNT)
		return NULL;
	return namespaces[type].name;
}

int runtime_ns_type_parse(const char *name)
{
	for (int i = 0; i < RUNTIME_NS_COUNT; i++)
		if (strcmp(name, namespaces[i].name) == 0)
			return i;
	return -1;
}

int runtime_ns_clone_flag(enum runtime_ns_type type)
{
	if ((unsigned)type >= RUNTIME_NS_COUNT)
		return 0;
	return namespaces[type].clone_flag;
}

int runtime_cap_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcmp(name, cap_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *runtime_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

const char *runtime_rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (rlimits[i].resource == resource)
			return rlimits[i].name;
	return NULL;
}

int runtime_rlimit_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (strcmp(name, rlimits[i].name) == 0)
			return rlimits[i].resource;
	return -1;
}

/*
 * The default config.  It follows what `runc spec` writes, so bundles made for
 * one runtime work with the other: a read-only "rootfs", `sh` on a terminal,
 * three harmless capabilities (and no inheritable or ambient ones, which let
 * an unprivileged exec'ed program gain them), the usual pseudo-filesystems,
 * and the /proc and /sys paths a container must not see or change.
 */

struct default_mount {
	const char *destination;
	const char *type;
	const char *source;
	const char *options[7];
};

static const struct default_mount default_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts",
	  "devpts",
	  "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
	{ "/dev/shm",
	  "tmpfs",
	  "shm",
	  { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup",
	  "cgroup",
	  "cgroup",
	  { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Without privilege sysfs cannot be mounted afresh: bind the host's. */
static const struct default_mount rootless_sys = {
	"/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL }
};

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
					    NULL };

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL
};

static const char *const default_masked[] = { "/proc/acpi",
					      "/proc/asound",
					      "/proc/kcore",
					      "/proc/keys",
					      "/proc/latency_stats",
					      "/proc/timer_list",
					      "/proc/timer_stats",
					      "/proc/sched_debug",
					      "/sys/firmware",
					      "/proc/scsi",
					      "/sys/devices/virtual/tpm",
					      NULL };

static const char *const default_readonly[] = { "/proc/bus",	       "/proc/fs",
						"/proc/irq",	       "/proc/sys",
						"/proc/sysrq-trigger", NULL };

static const enum runtime_ns_type default_namespaces[] = {
	RUNTIME_NS_PID, RUNTIME_NS_NETWORK, RUNTIME_NS_IPC,
	RUNTIME_NS_UTS, RUNTIME_NS_MOUNT,   RUNTIME_NS_CGROUP,
};

/* Each builder returns a new value, or NULL when memory runs out.  jansson's
 * *_set_new() and *_append_new() take a NULL value as a failure, so builders
 * nest without checks in between. */

static json_t *strv_to_json(const char *const *v, bool rootless_filter)
{
	_cleanup_json_ json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (; *v; v++) {
		/* Rootless: the ids of a one-id user namespace do not exist. */
		if (rootless_filter && (str_has_prefix(*v, "uid=") || str_has_prefix(*v, "gid=")))
			continue;
		if (json_array_append_new(arr, json_string(*v)) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

static json_t *mount_to_json(const struct default_mount *m, bool rootless)
{
	_cleanup_json_ json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	if (json_object_set_new(obj, "destination", json_string(m->destination)) < 0 ||
	    json_object_set_new(obj, "type", json_string(m->type)) < 0 ||
	    json_object_set_new(obj, "source", json_string(m->source)) < 0)
		return NULL;
	if (m->options[0] != NULL &&
	    json_object_set_new(obj, "options", strv_to_json(m->options, rootless)) < 0)
		return NULL;
	return steal_ptr(&obj);
}

static json_t *default_process(void)
{
	_cleanup_json_ json_t *proc = json_object();
	_cleanup_json_ json_t *caps = json_object();
	_cleanup_json_ json_t *rlimit = NULL;

	if (proc == NULL || caps == NULL)
		return NULL;
	if (json_object_set_new(caps, "bounding", strv_to_json(default_caps, false)) < 0 ||
	    json_object_set_new(caps, "effective", strv_to_json(default_caps, false)) < 0 ||
	    json_object_set_new(caps, "permitted", strv_to_json(default_caps, false)) < 0)
		return NULL;
	rlimit =
		json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024);
	if (json_object_set_new(proc, "terminal", json_true()) < 0 ||
	    json_object_set_new(proc, "user", json_pack("{s:i, s:i}", "uid", 0, "gid", 0)) < 0 ||
	    json_object_set_new(proc, "args", json_pack("[s]", "sh")) < 0 ||
	    json_object_set_new(proc, "env", strv_to_json(default_env, false)) < 0 ||
	    json_object_set_new(proc, "cwd", json_string("/")) < 0 ||
	    json_object_set_new(proc, "capabilities", steal_ptr(&caps)) < 0 ||
	    json_object_set_new(proc, "rlimits", steal_ptr(&rlimit)) < 0 ||
	    json_object_set_new(proc, "noNewPrivileges", json_true()) < 0)
		return NULL;
	return steal_ptr(&proc);
}

static json_t *default_mounts_json(bool rootless)
{
	_cleanup_json_ json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		const struct default_mount *m = &default_mounts[i];

		if (rootless && strcmp(m->destination, "/sys") == 0)
			m = &rootless_sys;
		if (json_array_append_new(arr, mount_to_json(m, rootless)) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

static json_t *id_mapping(unsigned int host_id)
{
	return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id,
			 "size", 1);
}

static json_t *default_linux(bool rootless)
{
	_cleanup_json_ json_t *lnx = json_object();
	_cleanup_json_ json_t *ns = json_array();

	if (lnx == NULL || ns == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(default_namespaces); i++) {
		/* Rootless: creating a network namespace would cut the
		 * container off, since it cannot make a veth pair. */
		if (rootless && default_namespaces[i] == RUNTIME_NS_NETWORK)
			continue;
		if (json_array_append_new(
			    ns, json_pack("{s:s}", "type",
					  runtime_ns_type_name(default_namespaces[i]))) < 0)
			return NULL;
	}
	if (rootless) {
		if (json_array_append_new(ns, json_pack("{s:s}", "type", "user")) < 0 ||
		    json_object_set_new(lnx, "uidMappings", id_mapping(geteuid())) < 0 ||
		    json_object_set_new(lnx, "gidMappings", id_mapping(getegid())) < 0)
			return NULL;
	} else {
		/* Rootless containers cannot set cgroup limits, so only the
		 * privileged default denies every device. */
		if (json_object_set_new(lnx, "resources",
					json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0,
						  "access", "rwm")) < 0)
			return NULL;
	}
	if (json_object_set_new(lnx, "namespaces", steal_ptr(&ns)) < 0 ||
	    json_object_set_new(lnx, "maskedPaths", strv_to_json(default_masked, false)) < 0 ||
	    json_object_set_new(lnx, "readonlyPaths", strv_to_json(default_readonly, false)) < 0)
		return NULL;
	return steal_ptr(&lnx);
}

char *runtime_spec_default_json(bool rootless)
{
	_cleanup_json_ json_t *doc = json_object();

	if (doc == NULL)
		return NULL;
	if (json_object_set_new(doc, "ociVersion", json_string("1.0.2-dev")) < 0 ||
	    json_object_set_new(doc, "process", default_process()) < 0 ||
	    json_object_set_new(doc, "root",
				json_pack("{s:s, s:b}", "path", "rootfs", "readonly", 1)) < 0 ||
	    json_object_set_new(doc, "hostname", json_string("berth")) < 0 ||
	    json_object_set_new(doc, "mounts", default_mounts_json(rootless)) < 0 ||
	    json_object_set_new(doc, "linux", default_linux(rootless)) < 0)
		return NULL;
	return json_dumps(doc, JSON_INDENT(2));
}
