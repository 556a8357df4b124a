/* berth's default seccomp profile, to the effect of Docker's (profiles/
 * seccomp/default.json): everything not listed fails with EPERM; the
 * common system calls are allowed, some only with an argument condition
 * (personality, socket, clone) and some only for a container holding a
 * given capability (mount and namespaces with CAP_SYS_ADMIN, ptrace with
 * CAP_SYS_PTRACE, modules with CAP_SYS_MODULE...).  The table is written
 * in Docker's profile format, so that the default and a profile a user
 * sends (`--security-opt seccomp=<profile>`) go through one conversion to
 * the OCI "linux.seccomp" object, which keeps the rules that apply to the
 * container's capabilities and to this machine's architecture. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "daemon/internal.h"
#include "lib/json.h"

/* Largest profile accepted inline in SecurityOpt. */
#define SECCOMP_PROFILE_MAX (1024 * 1024)

/* Every name here is allowed without condition. */
static const char *const allowed[] = {
	"accept",
	"accept4",
	"access",
	"adjtimex",
	"alarm",
	"bind",
	"brk",
	"capget",
	"capset",
	"chdir",
	"chmod",
	"chown",
	"chown32",
	"clock_adjtime",
	"clock_adjtime64",
	"clock_getres",
	"clock_getres_time64",
	"clock_gettime",
	"clock_gettime64",
	"clock_nanosleep",
	"clock_nanosleep_time64",
	"close",
	"close_range",
	"connect",
	"copy_file_range",
	"creat",
	"dup",
	"dup2",
	"dup3",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_ctl_old",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_wait",
	"epoll_wait_old",
	"eventfd",
	"eventfd2",
	"execve",
	"execveat",
	"exit",
	"exit_group",
	"faccessat",
	"faccessat2",
	"fadvise64",
	"fadvise64_64",
	"fallocate",
	"fanotify_mark",
	"fchdir",
	"fchmod",
	"fchmodat",
	"fchown",
	"fchown32",
	"fchownat",
	"fcntl",
	"fcntl64",
	"fdatasync",
	"fgetxattr",
	"flistxattr",
	"flock",
	"fork",
	"fremovexattr",
	"fsetxattr",
	"fstat",
	"fstat64",
	"fstatat64",
	"fstatfs",
	"fstatfs64",
	"fsync",
	"ftruncate",
	"ftruncate64",
	"futex",
	"futex_time64",
	"futex_waitv",
	"futimesat",
	"getcpu",
	"getcwd",
	"getdents",
	"getdents64",
	"getegid",
	"getegid32",
	"geteuid",
	"geteuid32",
	"getgid",
	"getgid32",
	"getgroups",
	"getgroups32",
	"getitimer",
	"getpeername",
	"getpgid",
	"getpgrp",
	"getpid",
	"getppid",
	"getpriority",
	"getrandom",
	"getresgid",
	"getresgid32",
	"getresuid",
	"getresuid32",
	"getrlimit",
	"get_robust_list",
	"getrusage",
	"getsid",
	"getsockname",
	"getsockopt",
	"get_thread_area",
	"gettid",
	"gettimeofday",
	"getuid",
	"getuid32",
	"getxattr",
	"inotify_add_watch",
	"inotify_init",
	"inotify_init1",
	"inotify_rm_watch",
	"io_cancel",
	"ioctl",
	"io_destroy",
	"io_getevents",
	"io_pgetevents",
	"io_pgetevents_time64",
	"ioprio_get",
	"ioprio_set",
	"io_setup",
	"io_submit",
	"io_uring_enter",
	"io_uring_register",
	"io_uring_setup",
	"ipc",
	"kill",
	"landlock_add_rule",
	"landlock_create_ruleset",
	"landlock_restrict_self",
	"lchown",
	"lchown32",
	"lgetxattr",
	"link",
	"linkat",
	"listen",
	"listxattr",
	"llistxattr",
	"_llseek",
	"lremovexattr",
	"lseek",
	"lsetxattr",
	"lstat",
	"lstat64",
	"madvise",
	"membarrier",
	"memfd_create",
	"memfd_secret",
	"mincore",
	"mkdir",
	"mkdirat",
	"mknod",
	"mknodat",
	"mlock",
	"mlock2",
	"mlockall",
	"mmap",
	"mmap2",
	"mprotect",
	"mq_getsetattr",
	"mq_notify",
	"mq_open",
	"mq_timedreceive",
	"mq_timedreceive_time64",
	"mq_timedsend",
	"mq_timedsend_time64",
	"mq_unlink",
	"mremap",
	"msgctl",
	"msgget",
	"msgrcv",
	"msgsnd",
	"msync",
	"munlock",
	"munlockall",
	"munmap",
	"name_to_handle_at",
	"nanosleep",
	"newfstatat",
	"_newselect",
	"open",
	"openat",
	"openat2",
	"pause",
	"pidfd_open",
	"pidfd_send_signal",
	"pipe",
	"pipe2",
	"pkey_alloc",
	"pkey_free",
	"pkey_mprotect",
	"poll",
	"ppoll",
	"ppoll_time64",
	"prctl",
	"pread64",
	"preadv",
	"preadv2",
	"prlimit64",
	"process_mrelease",
	"pselect6",
	"pselect6_time64",
	"pwrite64",
	"pwritev",
	"pwritev2",
	"read",
	"readahead",
	"readlink",
	"readlinkat",
	"readv",
	"recv",
	"recvfrom",
	"recvmmsg",
	"recvmmsg_time64",
	"recvmsg",
	"remap_file_pages",
	"removexattr",
	"rename",
	"renameat",
	"renameat2",
	"restart_syscall",
	"rmdir",
	"rseq",
	"rt_sigaction",
	"rt_sigpending",
	"rt_sigprocmask",
	"rt_sigqueueinfo",
	"rt_sigreturn",
	"rt_sigsuspend",
	"rt_sigtimedwait",
	"rt_sigtimedwait_time64",
	"rt_tgsigqueueinfo",
	"sched_getaffinity",
	"sched_getattr",
	"sched_getparam",
	"sched_get_priority_max",
	"sched_get_priority_min",
	"sched_getscheduler",
	"sched_rr_get_interval",
	"sched_rr_get_interval_time64",
	"sched_setaffinity",
	"sched_setattr",
	"sched_setparam",
	"sched_setscheduler",
	"sched_yield",
	"seccomp",
	"select",
	"semctl",
	"semget",
	"semop",
	"semtimedop",
	"semtimedop_time64",
	"send",
	"sendfile",
	"sendfile64",
	"sendmmsg",
	"sendmsg",
	"sendto",
	"setfsgid",
	"setfsgid32",
	"setfsuid",
	"setfsuid32",
	"setgid",
	"setgid32",
	"setgroups",
	"setgroups32",
	"setitimer",
	"setpgid",
	"setpriority",
	"setregid",
	"setregid32",
	"setresgid",
	"setresgid32",
	"setresuid",
	"setresuid32",
	"setreuid",
	"setreuid32",
	"setrlimit",
	"set_robust_list",
	"setsid",
	"setsockopt",
	"set_thread_area",
	"set_tid_address",
	"setuid",
	"setuid32",
	"setxattr",
	"shmat",
	"shmctl",
	"shmdt",
	"shmget",
	"shutdown",
	"sigaltstack",
	"signalfd",
	"signalfd4",
	"sigprocmask",
	"sigreturn",
	"socketcall",
	"socketpair",
	"splice",
	"stat",
	"stat64",
	"statfs",
	"statfs64",
	"statx",
	"symlink",
	"symlinkat",
	"sync",
	"sync_file_range",
	"syncfs",
	"sysinfo",
	"tee",
	"tgkill",
	"time",
	"timer_create",
	"timer_delete",
	"timer_getoverrun",
	"timer_gettime",
	"timer_gettime64",
	"timer_settime",
	"timer_settime64",
	"timerfd_create",
	"timerfd_gettime",
	"timerfd_gettime64",
	"timerfd_settime",
	"timerfd_settime64",
	"times",
	"tkill",
	"truncate",
	"truncate64",
	"ugetrlimit",
	"umask",
	"uname",
	"unlink",
	"unlinkat",
	"utime",
	"utimensat",
	"utimensat_time64",
	"utimes",
	"vfork",
	"vmsplice",
	"wait4",
	"waitid",
	"waitpid",
	"write",
	"writev",
	NULL,
};

/* The clone flags that make namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS,
 * NEWIPC, NEWUSER, NEWPID, NEWNET): without CAP_SYS_ADMIN, clone is
 * allowed only when none of them is set. */
#define CLONE_NS_FLAGS 0x7E020000ULL

/* personality(2) personas a container may switch to: PER_LINUX,
 * PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query 0xffffffff. */
static const unsigned long long personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffffULL };

/* AF_VSOCK: the host's sockets stay out of reach. */
#define AF_VSOCK_NUMBER 40

/* A rule allowed only with a capability, or only without one. */
struct cap_rule {
	const char *cap;
	const char *const names[24];
};

static const struct cap_rule with_cap[] = {
	{ "CAP_DAC_READ_SEARCH", { "open_by_handle_at" } },
	{ "CAP_SYS_ADMIN",
	  { "bpf",	     "clone",	      "clone3",	     "fanotify_init",	"fsconfig",
	    "fsmount",	     "fsopen",	      "fspick",	     "lookup_dcookie",	"mount",
	    "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
	    "quotactl_fd",   "setdomainname", "sethostname", "setns",		"syslog",
	    "umount",	     "umount2",	      "unshare" } },
	{ "CAP_SYS_BOOT", { "reboot" } },
	{ "CAP_SYS_CHROOT", { "chroot" } },
	{ "CAP_SYS_MODULE", { "delete_module", "init_module", "finit_module" } },
	{ "CAP_SYS_PACCT", { "acct" } },
	{ "CAP_SYS_PTRACE",
	  { "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
	    "ptrace" } },
	{ "CAP_SYS_RAWIO", { "iopl", "ioperm" } },
	{ "CAP_SYS_TIME", { "settimeofday", "stime", "clock_settime", "clock_settime64" } },
	{ "CAP_SYS_TTY_CONFIG", { "vhangup" } },
	{ "CAP_SYS_NICE",
	  { "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node" } },
	{ "CAP_SYSLOG", { "syslog" } },
	{ "CAP_BPF", { "bpf" } },
	{ "CAP_PERFMON", { "perf_event_open" } },
};

/* Allowed on some architectures only (Go's names, as Docker's profile
 * writes them). */
struct arch_rule {
	const char *arches[3];
	const char *const names[8];
};

static const struct arch_rule arch_rules[] = {
	{ { "amd64", "x32" }, { "arch_prctl" } },
	{ { "amd64", "x32", "x86" }, { "modify_ldt" } },
	{ { "arm", "arm64" },
	  { "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
	    "cacheflush", "set_tls" } },
	{ { "s390", "s390x" },
	  { "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr" } },
	{ { "riscv64" }, { "riscv_flush_icache" } },
	{ { "ppc64le" }, { "sync_file_range2", "swapcontext" } },
};

static json_t *names_json(const char *const *names, size_t max)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < max && names[i]; i++)
		if (json_array_append_new(arr, json_string(names[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *arches_json(const char *const *arches)
{
	return names_json(arches, 3);
}

static int append(json_t *rules, json_t *rule)
{
	return rule ? json_array_append_new(rules, rule) : -1;
}

json_t *daemon_seccomp_default_profile(void)
{
	_cleanup_json_ json_t *rules = json_array();

	if (!rules || append(rules, json_pack("{s:o, s:s}", "names", names_json(allowed, SIZE_MAX),
					      "action", "SCMP_ACT_ALLOW")) < 0)
		return NULL;
	/* ptrace and process_vm_* are safe from kernel 4.8 on. */
	if (append(rules, json_pack("{s:[s, s, s], s:s, s:{s:s}}", "names", "process_vm_readv",
				    "process_vm_writev", "ptrace", "action", "SCMP_ACT_ALLOW",
				    "includes", "minKernel", "4.8")) < 0)
		return NULL;
	if (append(rules, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", "socket",
				    "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
				    (json_int_t)AF_VSOCK_NUMBER, "op", "SCMP_CMP_NE")) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		if (append(rules,
			   json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", "personality",
				     "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
				     (json_int_t)personas[i], "op", "SCMP_CMP_EQ")) < 0)
			return NULL;
	for (size_t i = 0; i < sizeof(arch_rules) / sizeof(arch_rules[0]); i++)
		if (append(rules,
			   json_pack("{s:o, s:s, s:{s:o}}", "names",
				     names_json(arch_rules[i].names, 8), "action", "SCMP_ACT_ALLOW",
				     "includes", "arches", arches_json(arch_rules[i].arches))) < 0)
			return NULL;
	for (size_t i = 0; i < sizeof(with_cap) / sizeof(with_cap[0]); i++)
		if (append(rules,
			   json_pack("{s:o, s:s, s:{s:[s]}}", "names",
				     names_json(with_cap[i].names, 24), "action", "SCMP_ACT_ALLOW",
				     "includes", "caps", with_cap[i].cap)) < 0)
			return NULL;
	/* Without CAP_SYS_ADMIN: clone without namespace flags (its flags
	 * are the second argument on s390), and clone3, whose flags sit in
	 * memory a filter cannot read, fails with ENOSYS so that libcs fall
	 * back to clone. */
	if (append(rules, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}], s:{s:[s], s:[s, s]}}",
				    "names", "clone", "action", "SCMP_ACT_ALLOW", "args", "index",
				    0, "value", (json_int_t)CLONE_NS_FLAGS, "valueTwo",
				    (json_int_t)0, "op", "SCMP_CMP_MASKED_EQ", "excludes", "caps",
				    "CAP_SYS_ADMIN", "arches", "s390", "s390x")) < 0 ||
	    append(rules, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}], s:{s:[s, s]},"
				    " s:{s:[s]}}",
				    "names", "clone", "action", "SCMP_ACT_ALLOW", "args", "index",
				    1, "value", (json_int_t)CLONE_NS_FLAGS, "valueTwo",
				    (json_int_t)0, "op", "SCMP_CMP_MASKED_EQ", "includes", "arches",
				    "s390", "s390x", "excludes", "caps", "CAP_SYS_ADMIN")) < 0 ||
	    append(rules, json_pack("{s:[s], s:s, s:i, s:{s:[s]}}", "names", "clone3", "action",
				    "SCMP_ACT_ERRNO", "errnoRet", ENOSYS, "excludes", "caps",
				    "CAP_SYS_ADMIN")) < 0)
		return NULL;
	return json_pack("{s:s, s:i, s:[{s:s, s:[s, s]}, {s:s, s:[s]}], s:O}", "defaultAction",
			 "SCMP_ACT_ERRNO", "defaultErrnoRet", EPERM, "archMap", "architecture",
			 "SCMP_ARCH_X86_64", "subArchitectures", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
			 "architecture", "SCMP_ARCH_AARCH64", "subArchitectures", "SCMP_ARCH_ARM",
			 "syscalls", rules);
}

int daemon_seccomp_profile_load(const char *text, json_t **out, struct berr **err)
{
	_cleanup_json_ json_t *p = NULL;
	const char *s;
	json_t *arr, *rule;
	size_t i;

	if (bjson_load(text, strlen(text), SECCOMP_PROFILE_MAX, &p, err) < 0 ||
	    bjson_as_object(p, NULL, err) < 0 ||
	    bjson_get_string(p, NULL, "defaultAction", BJSON_REQUIRED, &s, err) < 0 ||
	    bjson_get_array(p, NULL, "syscalls", BJSON_OPTIONAL, &arr, err) < 0 ||
	    bjson_get_array(p, NULL, "architectures", BJSON_OPTIONAL, &arr, err) < 0 ||
	    bjson_get_array(p, NULL, "archMap", BJSON_OPTIONAL, &arr, err) < 0)
		return berr_prefix(err, "Decoding seccomp profile failed");
	/* Each rule: an action and its names (or Docker's older "name"). */
	json_array_foreach (json_object_get(p, "syscalls"), i, rule) {
		const struct bjson_path *rp = BJSON_INDEX(BJSON_KEY(NULL, "syscalls"), i);
		_cleanup_strv_ char **names = NULL;

		if (bjson_as_object(rule, rp, err) < 0 ||
		    bjson_get_string(rule, rp, "action", BJSON_REQUIRED, &s, err) < 0 ||
		    bjson_get_strv(rule, rp, "names", BJSON_OPTIONAL, &names, err) < 0 ||
		    bjson_get_string(rule, rp, "name", names ? BJSON_OPTIONAL : BJSON_REQUIRED, &s,
				     err) < 0 ||
		    bjson_get_array(rule, rp, "args", BJSON_OPTIONAL, &arr, err) < 0)
			return berr_prefix(err, "Decoding seccomp profile failed");
	}
	*out = steal_ptr(&p);
	return 0;
}

/* This machine's architecture, as libseccomp and as Go name it. */
static void native_arch(const char **scmp, const char **go)
{
	struct utsname u;

	*scmp = "SCMP_ARCH_X86_64";
	*go = "amd64";
	if (uname(&u) < 0)
		return;
	if (strcmp(u.machine, "aarch64") == 0) {
		*scmp = "SCMP_ARCH_AARCH64";
		*go = "arm64";
	} else if (strcmp(u.machine, "s390x") == 0) {
		*scmp = "SCMP_ARCH_S390X";
		*go = "s390x";
	} else if (strcmp(u.machine, "riscv64") == 0) {
		*scmp = "SCMP_ARCH_RISCV64";
		*go = "riscv64";
	} else if (strcmp(u.machine, "ppc64le") == 0) {
		*scmp = "SCMP_ARCH_PPC64LE";
		*go = "ppc64le";
	}
}

/* Whether the running kernel is at least "MAJOR.MINOR". */
static bool kernel_at_least(const char *want)
{
	struct utsname u;
	int wmaj = 0, wmin = 0, maj = 0, min = 0;

	if (uname(&u) < 0 || sscanf(want, "%d.%d", &wmaj, &wmin) < 1 ||
	    sscanf(u.release, "%d.%d", &maj, &min) < 1)
		return true;
	return maj > wmaj || (maj == wmaj && min >= wmin);
}

static bool list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return true;
	return false;
}

static bool caps_hold(const json_t *list, uint64_t caps, bool all)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e) {
		int cap = json_is_string(e) ? runtime_cap_parse(json_string_value(e)) : -1;
		bool held = cap >= 0 && (caps & ((uint64_t)1 << cap));

		if (all && !held)
			return false;
		if (!all && held)
			return true;
	}
	return all;
}

/* Whether RULE applies to a container with CAPS on this machine (Docker's
 * includes and excludes). */
static bool rule_applies(const json_t *rule, uint64_t caps, const char *go_arch)
{
	const json_t *inc = json_object_get(rule, "includes");
	const json_t *exc = json_object_get(rule, "excludes");
	const char *min = json_string_value(json_object_get(inc, "minKernel"));

	if (json_array_size(json_object_get(inc, "arches")) &&
	    !list_has(json_object_get(inc, "arches"), go_arch))
		return false;
	if (json_array_size(json_object_get(inc, "caps")) &&
	    !caps_hold(json_object_get(inc, "caps"), caps, true))
		return false;
	if (min && *min && !kernel_at_least(min))
		return false;
	if (list_has(json_object_get(exc, "arches"), go_arch))
		return false;
	if (json_array_size(json_object_get(exc, "caps")) &&
	    caps_hold(json_object_get(exc, "caps"), caps, false))
		return false;
	return true;
}

static json_t *oci_rule(const json_t *rule)
{
	json_t *names = json_object_get(rule, "names");
	const char *name = json_string_value(json_object_get(rule, "name"));
	json_t *args = json_object_get(rule, "args");
	json_t *errno_ret = json_object_get(rule, "errnoRet");
	_cleanup_json_ json_t *o = NULL;

	/* Docker's older profiles name one syscall in "name". */
	o = json_pack("{s:o, s:O}", "names",
		      json_is_array(names) ? json_incref(names)
					   : json_pack("[s]", name ? name : ""),
		      "action", json_object_get(rule, "action"));
	if (!o)
		return NULL;
	if (json_is_integer(errno_ret) && json_object_set(o, "errnoRet", errno_ret) < 0)
		return NULL;
	if (json_array_size(args) && json_object_set(o, "args", args) < 0)
		return NULL;
	return steal_ptr(&o);
}

json_t *daemon_seccomp_oci(const json_t *profile, uint64_t caps, struct berr **err)
{
	_cleanup_json_ json_t *out = NULL;
	_cleanup_json_ json_t *syscalls = json_array();
	_cleanup_json_ json_t *arches = json_array();
	const char *scmp_arch, *go_arch;
	json_t *given_arches = json_object_get(profile, "architectures");
	json_t *e, *def_errno = json_object_get(profile, "defaultErrnoRet");
	const char *action = json_string_value(json_object_get(profile, "defaultAction"));
	size_t i;

	native_arch(&scmp_arch, &go_arch);
	if (!syscalls || !arches)
		goto nomem;
	if (!action) {
		berr_set(err, BERR_INVALID, 0,
			 "Decoding seccomp profile failed: defaultAction: required field is "
			 "missing");
		return NULL;
	}
	if (json_array_size(given_arches)) {
		if (json_array_extend(arches, given_arches) < 0)
			goto nomem;
	} else {
		json_array_foreach (json_object_get(profile, "archMap"), i, e) {
			if (!json_is_string(json_object_get(e, "architecture")) ||
			    strcmp(json_string_value(json_object_get(e, "architecture")),
				   scmp_arch) != 0)
				continue;
			if (json_array_append(arches, json_object_get(e, "architecture")) < 0 ||
			    (json_is_array(json_object_get(e, "subArchitectures")) &&
			     json_array_extend(arches, json_object_get(e, "subArchitectures")) < 0))
				goto nomem;
		}
	}
	json_array_foreach (json_object_get(profile, "syscalls"), i, e) {
		if (!json_is_object(e) || !rule_applies(e, caps, go_arch))
			continue;
		if (json_array_append_new(syscalls, oci_rule(e)) < 0)
			goto nomem;
	}
	out = json_pack("{s:s, s:O, s:O}", "defaultAction", action, "architectures", arches,
			"syscalls", syscalls);
	if (!out ||
	    (json_is_integer(def_errno) && json_object_set(out, "defaultErrnoRet", def_errno) < 0))
		goto nomem;
	return steal_ptr(&out);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "seccomp profile");
	return NULL;
}
