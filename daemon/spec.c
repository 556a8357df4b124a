/* The OCI runtime config of a container, built as Docker builds it from its
 * defaults (moby's oci/defaults.go and daemon/oci_linux.go): the process
 * from the container's Config, Docker's capabilities, mounts, masked and
 * read-only paths and namespaces, and the container's hostname, hosts and
 * resolv.conf bound in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/safepath.h"

/* Docker's default capabilities (caps.DefaultCapabilities), in its order. */
static const char *const default_caps[] = {
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

static const char *const masked_paths[] = {
	"/proc/asound",
	"/proc/acpi",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
	NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* Docker's namespaces for a container with a private network (here none
 * but its loopback). */
static const char *const namespaces[] = { "mount", "network", "uts", "pid", "ipc", NULL };

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
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
};

/* The container's own files, bound over the image's. */
static const char *const bound_files[][2] = {
	{ "/etc/resolv.conf", DAEMON_FILE_RESOLV },
	{ "/etc/hostname", DAEMON_FILE_HOSTNAME },
	{ "/etc/hosts", DAEMON_FILE_HOSTS },
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

static json_t *mounts_json(const struct daemon_spec_input *in)
{
	_cleanup_json_ json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
		const struct default_mount *m = &default_mounts[i];

		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "destination",
							 m->destination, "type", m->type, "source",
							 m->source, "options",
							 strv_json(m->options))) < 0)
			return NULL;
	}
	for (size_t i = 0; i < sizeof(bound_files) / sizeof(bound_files[0]); i++) {
		_cleanup_free_ char *source = str_printf("%s/%s", in->dir, bound_files[i][1]);

		if (!source || json_array_append_new(
				       arr, json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination",
						      bound_files[i][0], "type", "bind", "source",
						      source, "options", "rbind", "rprivate")) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

/* "linux": namespaces, cgroup, devices, masked and read-only paths, and
 * the sysctls Docker sets for a container with its own network. */
static json_t *linux_json(const struct daemon_spec_input *in)
{
	_cleanup_json_ json_t *lnx = NULL;
	_cleanup_json_ json_t *ns = json_array();
	_cleanup_free_ char *cgroup = str_printf("/berth/%s", in->id);

	for (size_t i = 0; ns && namespaces[i]; i++)
		if (json_array_append_new(ns, json_pack("{s:s}", "type", namespaces[i])) < 0)
			return NULL;
	if (!ns || !cgroup)
		return NULL;
	lnx = json_pack("{s:{s:[{s:b, s:s}]}, s:s, s:O, s:o, s:o}", "resources", "devices", "allow",
			0, "access", "rwm", "cgroupsPath", cgroup, "namespaces", ns, "maskedPaths",
			strv_json(masked_paths), "readonlyPaths", strv_json(readonly_paths));
	if (!lnx)
		return NULL;
	/* moby's WithSysctls: ports below 1024 and ping for every user in a
	 * network namespace of the container's own. */
	if (in->unprivileged_ports &&
	    json_object_set_new(lnx, "sysctl",
				json_pack("{s:s, s:s}", "net.ipv4.ip_unprivileged_port_start", "0",
					  "net.ipv4.ping_group_range", "0 2147483647")) < 0)
		return NULL;
	return steal_ptr(&lnx);
}

/* Docker gives a user other than root the bounding set only: execve(2)
 * would clear the others anyway (oci.SetCapabilities). */
static json_t *caps_json(uid_t uid)
{
	if (uid != 0)
		return json_pack("{s:o}", "bounding", strv_json(default_caps));
	return json_pack("{s:o, s:o, s:o}", "bounding", strv_json(default_caps), "effective",
			 strv_json(default_caps), "permitted", strv_json(default_caps));
}

static json_t *user_json(const struct daemon_user *u)
{
	_cleanup_json_ json_t *gids = json_array();

	for (size_t i = 0; gids && i < u->n_gids; i++)
		if (json_array_append_new(gids, json_integer(u->gids[i])) < 0)
			return NULL;
	if (!gids)
		return NULL;
	return json_pack("{s:I, s:I, s:O}", "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid,
			 "additionalGids", gids);
}

/* Path followed by Args. */
static json_t *args_json(const json_t *doc)
{
	const char *path = json_string_value(json_object_get(doc, "Path"));
	json_t *rest = json_object_get(doc, "Args");
	_cleanup_json_ json_t *args = path ? json_pack("[s]", path) : NULL;

	if (!args || (json_is_array(rest) && json_array_extend(args, rest) < 0))
		return NULL;
	return steal_ptr(&args);
}

json_t *daemon_spec_build(const struct daemon_spec_input *in, struct berr **err)
{
	const json_t *config = json_object_get(in->doc, "Config");
	const char *workdir = json_string_value(json_object_get(config, "WorkingDir"));
	const char *hostname = json_string_value(json_object_get(config, "Hostname"));
	_cleanup_strv_ char **env = NULL;
	_cleanup_free_ char *cwd = NULL;
	json_t *spec;

	env = daemon_config_env(config, in->user->home, err);
	if (!env)
		return NULL;
	cwd = safepath_clean(workdir && *workdir ? workdir : "/", err);
	if (!cwd)
		return NULL;
	/* "o" takes each value, also when packing fails, so nothing leaks;
	 * a NULL value (no memory) makes the pack fail. */
	spec = json_pack(
		"{s:s, s:{s:b, s:o, s:o, s:o, s:s, s:o, s:i}, s:{s:s, s:b}, s:s, s:o, s:o}",
		"ociVersion", "1.0.2-dev", "process", "terminal", 0, "user", user_json(in->user),
		"args", args_json(in->doc), "env", strv_json((const char *const *)env), "cwd", cwd,
		"capabilities", caps_json(in->user->uid), "oomScoreAdj", 0, "root", "path",
		in->rootfs, "readonly", 0, "hostname", hostname ? hostname : "", "mounts",
		mounts_json(in), "linux", linux_json(in));
	if (!spec) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "container %s: OCI config", in->id);
		return NULL;
	}
	if (daemon_spec_apply_host(spec, in->doc, in->init_path, err) < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}
