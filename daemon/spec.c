/* The OCI runtime config of a container, built as Docker builds it from its
 * defaults and the container's HostConfig (moby's oci/defaults.go and
 * daemon/oci_linux.go): the process from the container's Config with its
 * capabilities, seccomp profile, rlimits and init; Docker's mounts with the
 * container's binds and tmpfs, masked and read-only paths, namespaces as the
 * network mode says, resources and devices, and the container's hostname,
 * hosts and resolv.conf bound in. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/safepath.h"

/* Where Docker puts its init in a container. */
#define INIT_DESTINATION "/sbin/docker-init"

/* The CFS period NanoCpus is spread over (Docker's). */
#define CPU_PERIOD 100000

/* Docker's default capabilities (caps.DefaultCapabilities), in its order. */
const char *const daemon_default_caps[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
	NULL,
};

struct default_mount {
	const char *destination, *type, *source;
	const char *options[8];
};

static const struct default_mount default_mounts[] = {
	{ "/proc", "proc", "proc", { "nosuid", "noexec", "nodev" } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
	{ "/dev/pts",
	  "devpts",
	  "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "ro", "nosuid", "noexec", "nodev" } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
	/* Docker binds a per-container tmpfs of HostConfig.ShmSize; a tmpfs of
	 * that size in the container's mount namespace is the same to it. */
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777" } },
};

/* The container's own files, bound over the image's. */
static const char *const bound_files[][2] = {
	{ "/etc/resolv.conf", DAEMON_FILE_RESOLV },
	{ "/etc/hostname", DAEMON_FILE_HOSTNAME },
	{ "/etc/hosts", DAEMON_FILE_HOSTS },
};

/* The devices the runtime makes in every container; a privileged one does
 * not get them twice. */
static const char *const runtime_devices[] = {
	"/dev/null",	"/dev/zero", "/dev/full",    "/dev/random",
	"/dev/urandom", "/dev/tty",  "/dev/console", "/dev/ptmx",
};

static json_t *strv_json(const char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static bool is_host_network(const json_t *hc)
{
	return strcmp(daemon_hc_str(hc, "NetworkMode"), "host") == 0;
}

/* The host's UTS namespace: with its network (Docker shares both), or
 * asked for alone. */
static bool is_host_uts(const json_t *hc)
{
	return is_host_network(hc) || strcmp(daemon_hc_str(hc, "UTSMode"), "host") == 0;
}

/* Whether the container makes a namespace of TYPE (an OCI name) of its
 * own, or shares the host's. */
static bool private_namespace(const json_t *hc, const char *type)
{
	if (strcmp(type, "network") == 0)
		return !is_host_network(hc);
	if (strcmp(type, "uts") == 0)
		return !is_host_uts(hc);
	if (strcmp(type, "pid") == 0)
		return strcmp(daemon_hc_str(hc, "PidMode"), "host") != 0;
	if (strcmp(type, "ipc") == 0)
		return strcmp(daemon_hc_str(hc, "IpcMode"), "host") != 0;
	return true;
}

char *daemon_default_init_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return str_printf("%s/berth-init", self);
}

static json_t *default_mount_json(const struct default_mount *m, const json_t *hc)
{
	bool privileged = daemon_hc_bool(hc, "Privileged");
	_cleanup_json_ json_t *opts = json_array();

	if (!opts)
		return NULL;
	for (size_t i = 0; i < 8 && m->options[i]; i++) {
		/* A privileged container gets /sys and its cgroups writable. */
		if (privileged && strcmp(m->options[i], "ro") == 0 &&
		    (strcmp(m->destination, "/sys") == 0 ||
		     strcmp(m->destination, "/sys/fs/cgroup") == 0))
			continue;
		if (json_array_append_new(opts, json_string(m->options[i])) < 0)
			return NULL;
	}
	/* --ipc host: the host's /dev/shm with its IPC namespace. */
	if (strcmp(m->destination, "/dev/shm") == 0 &&
	    strcmp(daemon_hc_str(hc, "IpcMode"), "host") == 0)
		return json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", "/dev/shm",
				 "type", "bind", "source", "/dev/shm", "options", "rbind", "nosuid",
				 "noexec", "nodev");
	if (strcmp(m->destination, "/dev/shm") == 0) {
		int64_t shm = daemon_hc_int(hc, "ShmSize");

		if (json_array_append_new(
			    opts, json_sprintf("size=%lld",
					       (long long)(shm > 0 ? shm : DAEMON_SHM_SIZE))) < 0)
			return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:O}", "destination", m->destination, "type", m->type,
			 "source", m->source, "options", opts);
}

/* Removes from ARR the mounts at DESTINATION: the container's own mounts
 * win over Docker's defaults (a Tmpfs at /dev/shm, say). */
static void drop_destination(json_t *arr, const char *destination)
{
	for (size_t i = 0; i < json_array_size(arr);) {
		const char *d =
			json_string_value(json_object_get(json_array_get(arr, i), "destination"));

		if (d && strcmp(d, destination) == 0)
			json_array_remove(arr, i);
		else
			i++;
	}
}

static json_t *mounts_json(const struct daemon_spec_input *in, const json_t *hc,
			   const char *init_path, struct berr **err)
{
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_json_ json_t *user = NULL, *points = NULL;
	size_t i;
	json_t *m;

	if (!arr)
		goto nomem;
	for (i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
		/* --ipc none: no /dev/shm at all. */
		if (strcmp(default_mounts[i].destination, "/dev/shm") == 0 &&
		    strcmp(daemon_hc_str(hc, "IpcMode"), "none") == 0)
			continue;
		if (json_array_append_new(arr, default_mount_json(&default_mounts[i], hc)) < 0)
			goto nomem;
	}
	for (i = 0; i < sizeof(bound_files) / sizeof(bound_files[0]); i++) {
		_cleanup_free_ char *source = str_printf("%s/%s", in->dir, bound_files[i][1]);

		if (!source || json_array_append_new(
				       arr, json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination",
						      bound_files[i][0], "type", "bind", "source",
						      source, "options", "rbind", "rprivate")) < 0)
			goto nomem;
	}
	if (init_path &&
	    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
						 INIT_DESTINATION, "type", "bind", "source",
						 init_path, "options", "bind", "ro", "rprivate")) <
		    0)
		goto nomem;
	/* Volumes and what VolumesFrom gave are in the document's Mounts,
	 * resolved at create: VolumesFrom's sources may be gone since. */
	if (daemon_hostconfig_mounts(hc, &user, &points, err) < 0)
		return NULL;
	daemon_mounts_drop_volumes(user);
	if (daemon_mounts_inherited(user, json_object_get(in->doc, "Mounts"), err) < 0)
		return NULL;
	json_array_foreach (user, i, m) {
		drop_destination(arr, json_string_value(json_object_get(m, "destination")));
		if (json_array_append(arr, m) < 0)
			goto nomem;
	}
	return steal_ptr(&arr);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "container mounts");
	return NULL;
}

static int add_device(json_t *devices, json_t *rules, const char *path, char type, int64_t major,
		      int64_t minor, unsigned mode, const char *access)
{
	char t[2] = { type, '\0' };

	if (devices && json_array_append_new(devices, json_pack("{s:s, s:s, s:I, s:I, s:i, s:i,"
								" s:i}",
								"path", path, "type", t, "major",
								(json_int_t)major, "minor",
								(json_int_t)minor, "fileMode",
								(int)mode, "uid", 0, "gid", 0)) < 0)
		return -1;
	if (rules &&
	    json_array_append_new(rules, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type",
						   t, "major", (json_int_t)major, "minor",
						   (json_int_t)minor, "access", access)) < 0)
		return -1;
	return 0;
}

/* Every device node under DIR of the host (Docker's HostDevices for a
 * privileged container), but the runtime's own and the pseudo-terminals. */
static int add_host_devices(json_t *devices, const char *dir, int depth)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	if (!d || depth > 4)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		struct stat st;
		bool skip = false;

		if (de->d_name[0] == '.')
			continue;
		path = str_printf("%s/%s", dir, de->d_name);
		if (!path)
			return -1;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (strcmp(path, "/dev/pts") != 0 && strcmp(path, "/dev/shm") != 0 &&
			    strcmp(path, "/dev/mqueue") != 0 &&
			    add_host_devices(devices, path, depth + 1) < 0)
				return -1;
			continue;
		}
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			continue;
		for (size_t i = 0; i < sizeof(runtime_devices) / sizeof(runtime_devices[0]); i++)
			skip |= strcmp(path, runtime_devices[i]) == 0;
		if (skip)
			continue;
		if (add_device(devices, NULL, path, S_ISCHR(st.st_mode) ? 'c' : 'b',
			       major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777, NULL) < 0)
			return -1;
	}
	return 0;
}

/* linux.resources: devices, memory, cpu, pids and blockIO as HC asks. */
static json_t *resources_json(const json_t *hc, json_t *devices, struct berr **err)
{
	bool privileged = daemon_hc_bool(hc, "Privileged");
	_cleanup_json_ json_t *res = NULL;
	_cleanup_json_ json_t *rules =
		json_pack("[{s:b, s:s}]", "allow", privileged, "access", "rwm");
	_cleanup_json_ json_t *mem = json_object(), *cpu = json_object();
	int64_t memory = daemon_hc_int(hc, "Memory"), swap = daemon_hc_int(hc, "MemorySwap");
	int64_t reservation = daemon_hc_int(hc, "MemoryReservation");
	int64_t nano = daemon_hc_int(hc, "NanoCpus"), shares = daemon_hc_int(hc, "CpuShares");
	int64_t quota = daemon_hc_int(hc, "CpuQuota"), period = daemon_hc_int(hc, "CpuPeriod");
	int64_t pids = daemon_hc_int(hc, "PidsLimit"), weight = daemon_hc_int(hc, "BlkioWeight");
	json_t *swappiness = json_object_get(hc, "MemorySwappiness");
	size_t i;
	json_t *e;

	if (!rules || !mem || !cpu)
		goto nomem;
	json_array_foreach (json_object_get(hc, "Devices"), i, e) {
		struct daemon_device dev;

		if (daemon_device_of(e, &dev, err) < 0)
			return NULL;
		if (add_device(devices, rules, dev.path_in_container, dev.type, dev.major,
			       dev.minor, dev.mode, dev.permissions) < 0)
			goto nomem;
	}
	if ((memory > 0 && json_object_set_new(mem, "limit", json_integer(memory)) < 0) ||
	    (reservation > 0 &&
	     json_object_set_new(mem, "reservation", json_integer(reservation)) < 0) ||
	    (swap != 0 && (memory > 0 || swap < 0) &&
	     json_object_set_new(mem, "swap", json_integer(swap)) < 0) ||
	    (json_is_integer(swappiness) && json_integer_value(swappiness) >= 0 &&
	     json_object_set(mem, "swappiness", swappiness) < 0) ||
	    (daemon_hc_bool(hc, "OomKillDisable") &&
	     json_object_set_new(mem, "disableOOMKiller", json_true()) < 0))
		goto nomem;
	if (nano > 0) {
		quota = nano * CPU_PERIOD / 1000000000LL;
		period = CPU_PERIOD;
	}
	if ((shares > 0 && json_object_set_new(cpu, "shares", json_integer(shares)) < 0) ||
	    (quota != 0 && json_object_set_new(cpu, "quota", json_integer(quota)) < 0) ||
	    (period > 0 && json_object_set_new(cpu, "period", json_integer(period)) < 0) ||
	    (*daemon_hc_str(hc, "CpusetCpus") &&
	     json_object_set_new(cpu, "cpus", json_string(daemon_hc_str(hc, "CpusetCpus"))) < 0) ||
	    (*daemon_hc_str(hc, "CpusetMems") &&
	     json_object_set_new(cpu, "mems", json_string(daemon_hc_str(hc, "CpusetMems"))) < 0))
		goto nomem;
	res = json_pack("{s:O}", "devices", rules);
	if (!res || (json_object_size(mem) && json_object_set(res, "memory", mem) < 0) ||
	    (json_object_size(cpu) && json_object_set(res, "cpu", cpu) < 0) ||
	    (pids > 0 &&
	     json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)pids)) < 0) ||
	    (weight > 0 &&
	     json_object_set_new(res, "blockIO", json_pack("{s:I}", "weight", (json_int_t)weight)) <
		     0))
		goto nomem;
	return steal_ptr(&res);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "container resources");
	return NULL;
}

/* The default profile's OCI form for the last capability set asked for:
 * most containers have the default set, and building it took a tenth of a
 * start.  Shared read-only (jansson's reference counts are atomic). */
static struct {
	pthread_mutex_t lock;
	uint64_t caps;
	json_t *oci;
	char *text; /* OCI as compact JSON: most of a config's text */
} default_seccomp = { .lock = PTHREAD_MUTEX_INITIALIZER };

static json_t *default_seccomp_oci(uint64_t caps, struct berr **err)
{
	_cleanup_json_ json_t *profile = NULL;
	json_t *oci = NULL;
	char *text;

	pthread_mutex_lock(&default_seccomp.lock);
	if (default_seccomp.oci && default_seccomp.caps == caps)
		oci = json_incref(default_seccomp.oci);
	pthread_mutex_unlock(&default_seccomp.lock);
	if (oci)
		return oci;
	profile = daemon_seccomp_default_profile();
	if (!profile) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "seccomp profile");
		return NULL;
	}
	oci = daemon_seccomp_oci(profile, caps, err);
	if (!oci)
		return NULL;
	text = jsontext_dump(oci);
	pthread_mutex_lock(&default_seccomp.lock);
	json_decref(default_seccomp.oci);
	free(default_seccomp.text);
	default_seccomp.oci = json_incref(oci);
	default_seccomp.text = text;
	default_seccomp.caps = caps;
	pthread_mutex_unlock(&default_seccomp.lock);
	return oci;
}

/* The text of SECCOMP when it is the default profile's cached OCI form;
 * NULL otherwise or when out of memory.  The caller frees it. */
static char *default_seccomp_text(const json_t *seccomp)
{
	char *text = NULL;

	pthread_mutex_lock(&default_seccomp.lock);
	if (seccomp && seccomp == default_seccomp.oci && default_seccomp.text)
		text = strdup(default_seccomp.text);
	pthread_mutex_unlock(&default_seccomp.lock);
	return text;
}

/* linux.seccomp: none for a privileged or unconfined container, else the
 * profile given or berth's default, for the capabilities CAPS. */
static int seccomp_json(const struct daemon_security *sec, bool privileged, uint64_t caps,
			json_t **out, struct berr **err)
{
	_cleanup_json_ json_t *profile = NULL;

	*out = NULL;
	if (privileged || sec->seccomp_unconfined)
		return 0;
	if (!sec->seccomp_profile) {
		*out = default_seccomp_oci(caps, err);
		return *out ? 0 : -1;
	}
	if (daemon_seccomp_profile_load(sec->seccomp_profile, &profile, err) < 0)
		return -1;
	*out = daemon_seccomp_oci(profile, caps, err);
	return *out ? 0 : -1;
}

/* "linux": namespaces, cgroup, resources, devices, masked and read-only
 * paths, sysctls and seccomp. */
static json_t *linux_json(const struct daemon_spec_input *in, const json_t *hc, json_t *seccomp,
			  struct berr **err)
{
	static const char *const private_ns[] = { "mount", "network", "uts", "pid", "ipc", NULL };
	bool privileged = daemon_hc_bool(hc, "Privileged");
	bool host_net = is_host_network(hc);
	_cleanup_json_ json_t *lnx = NULL, *sysctl = json_object(), *devices = json_array();
	_cleanup_json_ json_t *ns = json_array(), *resources = NULL;
	_cleanup_free_ char *cgroup = str_printf("/berth/%s", in->id);
	json_t *masked = json_object_get(hc, "MaskedPaths");
	json_t *readonly = json_object_get(hc, "ReadonlyPaths");
	const char *key;
	json_t *v;

	for (size_t i = 0; ns && private_ns[i]; i++) {
		json_t *entry;

		if (!private_namespace(hc, private_ns[i]))
			continue;
		entry = json_pack("{s:s}", "type", private_ns[i]);
		if (entry && in->pid_ns && strcmp(private_ns[i], "pid") == 0)
			json_object_set_new(entry, "path", json_string(in->pid_ns));
		if (entry && in->net_ns && strcmp(private_ns[i], "network") == 0)
			json_object_set_new(entry, "path", json_string(in->net_ns));
		if (json_array_append_new(ns, entry) < 0)
			goto nomem;
	}
	/* --cgroupns private: the container sees its own cgroup as the root. */
	if (ns && strcmp(daemon_hc_str(hc, "CgroupnsMode"), "private") == 0 &&
	    json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup")) < 0)
		goto nomem;
	if (!ns || !cgroup || !sysctl || !devices)
		goto nomem;
	resources = resources_json(hc, devices, err);
	if (!resources)
		return NULL;
	if (privileged && add_host_devices(devices, "/dev", 0) < 0)
		goto nomem;
	lnx = json_pack("{s:O, s:s, s:O}", "resources", resources, "cgroupsPath", cgroup,
			"namespaces", ns);
	if (!lnx || (json_array_size(devices) && json_object_set(lnx, "devices", devices) < 0))
		goto nomem;
	if (!privileged) {
		if (json_object_set_new(lnx, "maskedPaths",
					json_is_array(masked)
						? json_deep_copy(masked)
						: strv_json(daemon_masked_paths)) < 0 ||
		    json_object_set_new(lnx, "readonlyPaths",
					json_is_array(readonly)
						? json_deep_copy(readonly)
						: strv_json(daemon_readonly_paths)) < 0)
			goto nomem;
	}
	/* moby's WithSysctls: ports below 1024 and ping for every user in a
	 * network namespace of the container's own (not another's). */
	if (in->unprivileged_ports && !host_net && !in->net_ns &&
	    (json_object_set_new(sysctl, "net.ipv4.ip_unprivileged_port_start", json_string("0")) <
		     0 ||
	     json_object_set_new(sysctl, "net.ipv4.ping_group_range", json_string("0 2147483647")) <
		     0))
		goto nomem;
	json_object_foreach ((json_t *)json_object_get(hc, "Sysctls"), key, v)
		if (json_object_set(sysctl, key, v) < 0)
			goto nomem;
	if (json_object_size(sysctl) && json_object_set(lnx, "sysctl", sysctl) < 0)
		goto nomem;
	if (seccomp && json_object_set(lnx, "seccomp", seccomp) < 0)
		goto nomem;
	return steal_ptr(&lnx);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "container %s: OCI config", in->id);
	return NULL;
}

/* Docker gives a user other than root the bounding set only: execve(2)
 * would clear the others anyway (oci.SetCapabilities). */
static json_t *caps_json(uint64_t caps, uid_t uid)
{
	_cleanup_json_ json_t *names = json_array();

	for (int cap = 0; names && cap < 64; cap++)
		if ((caps & ((uint64_t)1 << cap)) && runtime_cap_name(cap) &&
		    json_array_append_new(names, json_string(runtime_cap_name(cap))) < 0)
			return NULL;
	if (!names)
		return NULL;
	if (uid != 0)
		return json_pack("{s:O}", "bounding", names);
	return json_pack("{s:O, s:O, s:O}", "bounding", names, "effective", names, "permitted",
			 names);
}

/* A GroupAdd entry: a number, or a group of the container's /etc/group. */
static int group_of(const struct daemon_spec_input *in, const char *name, gid_t *gid,
		    struct berr **err)
{
	_cleanup_close_ int rootfd = -1;
	_cleanup_free_ char *spec = NULL;
	struct daemon_user u = { 0 };
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(name, &end, 10);
	if (*name && !*end && !errno && n <= UINT32_MAX) {
		*gid = (gid_t)n;
		return 0;
	}
	rootfd = open(in->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	spec = str_printf("0:%s", name);
	if (rootfd < 0 || !spec)
		return berr_set(err, BERR_INVALID, errno, "Unable to find group %s", name);
	if (daemon_user_resolve(rootfd, spec, &u, err) < 0)
		return berr_prefix(err, "GroupAdd");
	*gid = u.gid;
	daemon_user_clear(&u);
	return 0;
}

static json_t *user_json(const struct daemon_spec_input *in, const json_t *hc, struct berr **err)
{
	const struct daemon_user *u = in->user;
	_cleanup_json_ json_t *gids = json_array();
	size_t i;
	json_t *e;

	for (i = 0; gids && i < u->n_gids; i++)
		if (json_array_append_new(gids, json_integer(u->gids[i])) < 0)
			gids = NULL;
	json_array_foreach (json_object_get(hc, "GroupAdd"), i, e) {
		gid_t gid = 0;

		if (group_of(in, json_string_value(e), &gid, err) < 0)
			return NULL;
		if (gids && json_array_append_new(gids, json_integer(gid)) < 0)
			gids = NULL;
	}
	if (!gids) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "container user");
		return NULL;
	}
	return json_pack("{s:I, s:I, s:O}", "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid,
			 "additionalGids", gids);
}

/* Path followed by Args, behind Docker's init when there is one. */
static json_t *args_json(const json_t *doc, bool init)
{
	const char *path = json_string_value(json_object_get(doc, "Path"));
	json_t *rest = json_object_get(doc, "Args");
	_cleanup_json_ json_t *args = NULL;

	if (!path)
		return NULL;
	args = init ? json_pack("[s, s, s]", INIT_DESTINATION, "--", path) : json_pack("[s]", path);
	if (!args || (json_is_array(rest) && json_array_extend(args, rest) < 0))
		return NULL;
	return steal_ptr(&args);
}

/* process.rlimits of Ulimits ("nofile" -> RLIMIT_NOFILE). */
static json_t *rlimits_json(const json_t *hc, struct berr **err)
{
	_cleanup_json_ json_t *arr = json_array();
	size_t i;
	json_t *e;

	json_array_foreach (json_object_get(hc, "Ulimits"), i, e) {
		const char *name = json_string_value(json_object_get(e, "Name"));
		_cleanup_free_ char *type = str_printf("RLIMIT_%s", name ? name : "");

		for (char *p = type; p && *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (!type || !arr)
			break;
		if (runtime_rlimit_parse(type) < 0) {
			berr_set(err, BERR_INVALID, 0, "invalid ulimit type: %s", name);
			return NULL;
		}
		if (json_array_append_new(arr, json_pack("{s:s, s:O, s:O}", "type", type, "hard",
							 json_object_get(e, "Hard"), "soft",
							 json_object_get(e, "Soft"))) < 0)
			arr = NULL;
	}
	if (!arr)
		berr_set(err, BERR_INTERNAL, ENOMEM, "rlimits");
	return steal_ptr(&arr);
}

json_t *daemon_spec_build(const struct daemon_spec_input *in, struct berr **err)
{
	const json_t *config = json_object_get(in->doc, "Config");
	const json_t *hc = json_object_get(in->doc, "HostConfig");
	const char *workdir = json_string_value(json_object_get(config, "WorkingDir"));
	const char *hostname = json_string_value(json_object_get(config, "Hostname"));
	bool init = json_is_true(json_object_get(hc, "Init"));
	bool privileged = daemon_hc_bool(hc, "Privileged");
	_cleanup_strv_ char **env = NULL;
	_cleanup_free_ char *cwd = NULL, *init_path = NULL;
	_cleanup_json_ json_t *seccomp = NULL, *mounts = NULL, *lnx = NULL, *rlimits = NULL;
	_cleanup_json_ json_t *user = NULL;
	struct daemon_security sec;
	uint64_t caps;
	json_t *spec;

	if (daemon_hostconfig_caps(hc, &caps, err) < 0 ||
	    daemon_hostconfig_security(hc, &sec, err) < 0 ||
	    seccomp_json(&sec, privileged, caps, &seccomp, err) < 0)
		return NULL;
	if (init) {
		init_path = in->init_path ? strdup(in->init_path) : daemon_default_init_path();
		if (!init_path) {
			berr_set(err, BERR_INTERNAL, errno, "container %s: berth-init", in->id);
			return NULL;
		}
	}
	env = daemon_config_env(config, in->user->home, err);
	if (!env)
		return NULL;
	cwd = safepath_clean(workdir && *workdir ? workdir : "/", err);
	if (!cwd)
		return NULL;
	mounts = mounts_json(in, hc, init_path, err);
	if (!mounts || !(lnx = linux_json(in, hc, seccomp, err)) ||
	    !(rlimits = rlimits_json(hc, err)) || !(user = user_json(in, hc, err)))
		return NULL;
	/* "O" takes a reference, also when packing fails; a NULL value (no
	 * memory) makes the pack fail. */
	spec = json_pack("{s:s, s:{s:b, s:O, s:o, s:o, s:s, s:o, s:O, s:b, s:I}, s:{s:s, s:b},"
			 " s:s, s:O, s:O}",
			 "ociVersion", "1.0.2-dev", "process", "terminal",
			 json_is_true(json_object_get(config, "Tty")), "user", user, "args",
			 args_json(in->doc, init), "env", strv_json((const char *const *)env),
			 "cwd", cwd, "capabilities", caps_json(caps, in->user->uid), "rlimits",
			 rlimits, "noNewPrivileges", sec.no_new_privileges, "oomScoreAdj",
			 (json_int_t)daemon_hc_int(hc, "OomScoreAdj"), "root", "path", in->rootfs,
			 "readonly", daemon_hc_bool(hc, "ReadonlyRootfs"), "hostname",
			 is_host_uts(hc) ? "" : (hostname ? hostname : ""), "mounts", mounts,
			 "linux", lnx);
	if (!spec)
		berr_set(err, BERR_INTERNAL, ENOMEM, "container %s: OCI config", in->id);
	return spec;
}

/* Stands for linux.seccomp in the dump of daemon_spec_dumps(): a string
 * with a random part, which nothing a client sends can guess. */
static char seccomp_marker[48];
static pthread_once_t seccomp_marker_once = PTHREAD_ONCE_INIT;

static void seccomp_marker_make(void)
{
	uint64_t nonce = 0;

	if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	snprintf(seccomp_marker, sizeof(seccomp_marker), "berth-seccomp-%016llx",
		 (unsigned long long)nonce);
}

/* TEXT with the marker's string value replaced by SECCOMP_TEXT; NULL when
 * the marker is not there or when out of memory. */
static char *seccomp_splice(const char *text, const char *seccomp_text)
{
	_cleanup_free_ char *placeholder = str_printf("\"%s\"", seccomp_marker);
	const char *at = placeholder ? strstr(text, placeholder) : NULL;

	if (!at)
		return NULL;
	return str_printf("%.*s%s%s", (int)(at - text), text, seccomp_text,
			  at + strlen(placeholder));
}

char *daemon_spec_dumps(const struct daemon_spec_input *in, struct berr **err)
{
	_cleanup_json_ json_t *spec = daemon_spec_build(in, err);
	_cleanup_json_ json_t *seccomp = NULL;
	_cleanup_free_ char *seccomp_text = NULL;
	json_t *lnx = json_object_get(spec, "linux");
	char *out = NULL;

	if (!spec)
		return NULL;
	seccomp = json_incref(json_object_get(lnx, "seccomp"));
	seccomp_text = default_seccomp_text(seccomp);
	/* The default profile's text, dumped once, goes in whole where a
	 * marker stood in the dump of the rest. */
	if (seccomp_text) {
		_cleanup_free_ char *text = NULL;

		pthread_once(&seccomp_marker_once, seccomp_marker_make);
		if (json_object_set_new(lnx, "seccomp", json_string(seccomp_marker)) == 0 &&
		    (text = jsontext_dump(spec)) && (out = seccomp_splice(text, seccomp_text)))
			return out;
		json_object_set(lnx, "seccomp", seccomp);
	}
	out = jsontext_dump(spec);
	if (!out)
		berr_set(err, BERR_INTERNAL, ENOMEM, "container %s: OCI config", in->id);
	return out;
}
