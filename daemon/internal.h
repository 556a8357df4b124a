/* What the files of the container engine share and nothing outside them
 * (but their unit tests) sees: the engine's layout, Docker's merge of run
 * configs, user lookups in a container's files, the OCI config builder, the
 * container's own files, ids and names, and the helpers that edit a
 * container's State. */
#ifndef BERTH_DAEMON_INTERNAL_H
#define BERTH_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "daemon/container.h"
#include "image/config.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "store/store.h"

/* 64 hex digits and a NUL. */
#define DAEMON_ID_SIZE 65

/* Docker's zero time, for StartedAt and FinishedAt never set. */
#define DAEMON_ZERO_TIME "0001-01-01T00:00:00Z"

/* Largest /etc/passwd, /etc/group or /etc/resolv.conf read. */
#define DAEMON_ETC_FILE_MAX (4 * 1024 * 1024)

/* Docker's default size of /dev/shm (HostConfig.ShmSize). */
#define DAEMON_SHM_SIZE ((int64_t)64 * 1024 * 1024)

struct daemon {
	struct image_store *images; /* borrowed */
	struct store *db;	    /* the image store's */
	char *containers_root;	    /* <data-root>/containers */
	char *volumes_root;	    /* <data-root>/volumes */
	char *run_root;		    /* <exec-root>/containers */
	char *runtime_root;	    /* <exec-root>/runtime */
	struct runtime_config rt;
	bool defer_dir_removal;			     /* see daemon_defer_dir_removal() */
	struct runtime_cgroup_keeper *cgroup_keeper; /* borrowed; NULL: none */
	struct daemon_shim_pool *shim_pool;	     /* borrowed; NULL: none */
	bool trash_pending;
	bool spare_taken; /* a create took the containers' spare dirs, or found none */
	/* berth-init for HostConfig.Init; "": next to the running program.
	 * A buffer, not a pointer, so that the engine's free stays as it is. */
	char init_path[4096];
};

/* How long a keeper goes on after a container's create, start or exec:
 * the next of a burst finds the kernel's cgroup-move lock ready. */
#define DAEMON_CGROUP_HOLD_MS 2000

/* Removes C, whose lock (*LOCK) the caller holds and whose record it
 * has just read: the runtime's state, the directory, the record, and with
 * VOLUMES the volumes berth named for it (into C->volumes_removed).  A
 * running C is killed; *LOCK may be let go and taken again meanwhile. */
int daemon_container_remove_held(struct daemon *d, struct daemon_container *c, int *lock,
				 bool volumes, struct berr **err);

/* Notes the root file system a start mounted (LOWER, the flags of
 * image_mount_overlay_flags()), for daemon_tidy() to mount ahead on the
 * next container's spare directory. */
void daemon_note_mount(char *const *lower, unsigned flags);

/* Tells D's keeper, if any, that a process will soon move into a
 * container's cgroup. */
void daemon_cgroup_move_ahead(struct daemon *d);

/* Under the data root: the init layer every container shares (see
 * daemon_init_layer()). */
#define DAEMON_DIR_INIT_LAYER "init-layer"

/* The files of one container in its directory, which lasts as long as
 * the container. */
#define DAEMON_FILE_HOSTNAME "hostname"
#define DAEMON_FILE_HOSTS    "hosts"
#define DAEMON_FILE_RESOLV   "resolv.conf"
/* A container's own init layer, made by berth before the shared one. */
#define DAEMON_DIR_INIT "init"
/* The spare directory's empty log, to be renamed to a container's (see
 * daemon_container_log_path()). */
#define DAEMON_FILE_SPARE_LOG "spare-json.log"

/* The files of a container's run directory (daemon_container_run_dir()):
 * the bundle's OCI config and the waiter's lock; left by berth-shim, the
 * container's end and the control sockets of the shim and its execs. */
#define DAEMON_FILE_CONFIG	"config.json"
#define DAEMON_FILE_WAITER	"waiter.lock"
#define DAEMON_FILE_EXIT	"exit.json"
#define DAEMON_FILE_ATTACH_SOCK "attach.sock"

/* names.c */

/* A new random id: 64 hex digits whose first 12 are not all digits (Docker
 * never shows a short id that reads as a number).  Sets BERR_INTERNAL. */
int daemon_id_generate(char out[DAEMON_ID_SIZE], struct berr **err);
/* Docker's name rule, [a-zA-Z0-9][a-zA-Z0-9_.-]+ after an optional "/".
 * Sets BERR_INVALID with Docker's message. */
int daemon_name_validate(const char *name, struct berr **err);
/* A random Docker-style "adjective_surname"; ATTEMPT > 0 appends a digit
 * as Docker does after collisions.  The caller frees it; NULL when out of
 * memory. */
char *daemon_name_generate(unsigned attempt);

/* config.c */

/* Checks the types of the Config members of a create BODY (Hostname,
 * User, Env, Cmd, Entrypoint, ExposedPorts, Healthcheck, Labels...): Cmd,
 * Entrypoint and Shell may be a string or an array of strings, as Docker's
 * strslice takes them.  Sets BERR_INVALID naming the member. */
int daemon_config_check(const json_t *body, struct berr **err);

/* Docker's merge of a container's run config (daemon/commit.go's merge):
 * the create BODY (checked by daemon_config_check()) over the image's run
 * config IMAGE: Env (the body's, then the image's keys the body did not
 * set), Cmd and Entrypoint as `docker run` treats them, WorkingDir, User,
 * StopSignal, OnBuild and Healthcheck when not given, Labels, ExposedPorts
 * and Volumes the image's and the body's.  *config gets a new "Config"
 * object in Docker's inspect order; *path and *args (new, owned) the
 * command the container runs.  HOSTNAME is the container's host name.
 * Sets BERR_INVALID (no command, a relative working dir, a bad port),
 * BERR_INTERNAL. */
int daemon_config_merge(const struct image_run_config *image, const json_t *body,
			const char *hostname, json_t **config, char **path, json_t **args,
			struct berr **err);

/* The environment of the container's process from its CONFIG: PATH (the
 * default), HOSTNAME, then Config.Env replacing or adding ("KEY" alone
 * removes KEY), then HOME=HOME unless set.  A new vector the caller frees;
 * NULL (BERR_INTERNAL) when out of memory. */
char **daemon_config_env(const json_t *config, const char *home, struct berr **err);

/* user.c */

/* A user as the container's files resolve it. */
struct daemon_user {
	uid_t uid;
	gid_t gid;
	gid_t *gids; /* additional groups, the primary group first; owned */
	size_t n_gids;
	char *home; /* owned */
};

void daemon_user_clear(struct daemon_user *u);

/* Resolves SPEC ("", "name", "uid", "name:group", "uid:gid"...) with the
 * files /etc/passwd and /etc/group of the root file system ROOTFD (read
 * inside it, symlinks kept inside), as Docker does: a name must exist, a
 * number need not; without an explicit group, the user's primary group and
 * the groups listing the user as a member.  On success *out is filled (the
 * caller clears it).  Sets BERR_INVALID ("unable to find user x: no
 * matching entries in passwd file"), BERR_INTERNAL. */
int daemon_user_resolve(int rootfd, const char *spec, struct daemon_user *out, struct berr **err);

/* hostconfig.c */

/* Docker's default capabilities (caps.DefaultCapabilities), NULL-ended. */
extern const char *const daemon_default_caps[];
/* Docker's masked and read-only paths, NULL-ended. */
extern const char *const daemon_masked_paths[];
extern const char *const daemon_readonly_paths[];

/* Whether the memory controller accounts swap; without it Docker sets no
 * swap limit. */
#define DAEMON_MEMSW_FILE "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"

/* The HostConfig a container keeps, from GIVEN (the body's, NULL for
 * none): every member Docker 20.10's inspect shows, with its zero value
 * when not given, checked and validated as Docker does (memory, CPU, restart
 * policy, log driver, capabilities, security options, mounts, devices,
 * ports, extra hosts, network mode).  Docker's warnings are appended to
 * WARNINGS.  On success *out owns the new object.  Sets BERR_INVALID with
 * Docker's message (or naming the wrongly typed member), BERR_NOT_FOUND (an
 * unknown network), BERR_NOT_IMPLEMENTED (named volumes, a container's
 * network, a log driver other than json-file and none), BERR_INTERNAL. */
int daemon_hostconfig_normalize(const json_t *given, json_t *warnings, json_t **out,
				struct berr **err);

/* Members of a normalized HostConfig HC (NULL reads as zero values). */
int64_t daemon_hc_int(const json_t *hc, const char *key);
bool daemon_hc_bool(const json_t *hc, const char *key);
const char *daemon_hc_str(const json_t *hc, const char *key); /* never NULL */

/* "80/tcp", "8000-8010", "53/udp".  Sets BERR_INVALID ("invalid port
 * specification: \"abc\""). */
int daemon_port_validate(const char *spec, struct berr **err);

/* Splits "name:ip" of ExtraHosts; *name and *ip point into *buf, a copy
 * the caller frees.  Sets BERR_INVALID ("bad format for add-host"). */
int daemon_extra_host_split(const char *entry, char **buf, const char **name, const char **ip,
			    struct berr **err);

/* Every capability of the host's bounding set that the runtime knows. */
uint64_t daemon_caps_host(void);
/* The capabilities of a container with HC as a mask of CAP_* bits:
 * Docker's defaults less CapDrop plus CapAdd ("ALL" and names with or
 * without "CAP_", any case), or all the host has when Privileged.  Sets
 * BERR_INVALID ("invalid CapAdd: unknown capability: \"CAP_FOO\""). */
int daemon_hostconfig_caps(const json_t *hc, uint64_t *out, struct berr **err);

/* SecurityOpt of a HostConfig. */
struct daemon_security {
	bool no_new_privileges;
	bool seccomp_unconfined;
	const char *seccomp_profile; /* inline JSON, borrowed from the HostConfig; NULL: default */
};

/* Parses SecurityOpt of HC: "no-new-privileges[:true|false]",
 * "seccomp=unconfined", "seccomp=<profile JSON>", "apparmor=..." and
 * "label=..." (accepted, nothing to apply here).  Sets BERR_INVALID with
 * Docker's message ("invalid --security-opt 2: ..."). */
int daemon_hostconfig_security(const json_t *hc, struct daemon_security *out, struct berr **err);

/* The container's mounts of Binds ("src:dst[:ro|rw|z|Z|nocopy|propagation]",
 * SRC a host path or a volume's name), Mounts (types bind, volume and tmpfs)
 * and Tmpfs, as new arrays: *oci of OCI mounts, *points of Docker's inspect
 * "Mounts" entries (Tmpfs has none).  A bind's source must exist.  A
 * volume's OCI entry (type "volume") only holds its place; its point's
 * Source is empty, and its Name too for one berth names
 * (daemon_volumes_resolve() fills them).  Sets BERR_INVALID with Docker's
 * messages ("invalid mount config for type \"bind\": bind source path does
 * not exist: /x", "Duplicate mount point: /x"). */
int daemon_hostconfig_mounts(const json_t *hc, json_t **oci, json_t **points, struct berr **err);

/* Drops the volumes' entries of daemon_hostconfig_mounts()'s OCI list. */
void daemon_mounts_drop_volumes(json_t *oci);

/* Docker's VolumesFrom ("container[:ro|rw]") of HC at create: the mount
 * points (inspect "Mounts" entries) of each container named, at the same
 * destinations, read-only when the source's is or the mode says "ro", a
 * later source winning a destination; appended to POINTS unless OCI (the
 * container's own mounts, from daemon_hostconfig_mounts()) has the
 * destination.  Sets BERR_NOT_FOUND ("No such container: X"), BERR_INVALID
 * ("invalid mode: x"), BERR_INTERNAL. */
int daemon_volumes_from(struct daemon *d, const json_t *hc, const json_t *oci, json_t *points,
			struct berr **err);

/* Appends to OCI (daemon_hostconfig_mounts()'s, without its volumes) a
 * bind of each mount point of POINTS (the container's inspect "Mounts")
 * whose destination OCI has not: its volumes and what it took with
 * VolumesFrom.  Sets BERR_INTERNAL. */
int daemon_mounts_inherited(json_t *oci, const json_t *points, struct berr **err);

/* One entry of HostConfig.Devices, resolved on the host. */
struct daemon_device {
	const char *path_in_container; /* borrowed */
	const char *permissions;       /* "rwm" or part of it; borrowed */
	char type;		       /* 'c' or 'b' */
	int64_t major, minor;
	unsigned mode;
};

/* Resolves DEV (PathOnHost, PathInContainer, CgroupPermissions).  Sets
 * BERR_INVALID (no such device, a bad mode). */
int daemon_device_of(const json_t *dev, struct daemon_device *out, struct berr **err);

/* seccomp_default.c */

/* berth's default seccomp profile in Docker's profile format (a new
 * object; NULL when out of memory). */
json_t *daemon_seccomp_default_profile(void);
/* Parses TEXT, a Docker seccomp profile, into *out.  Sets BERR_INVALID
 * ("Decoding seccomp profile failed: ..."). */
int daemon_seccomp_profile_load(const char *text, json_t **out, struct berr **err);
/* The OCI linux.seccomp object of the Docker profile PROFILE for a
 * container holding CAPS on this machine's architecture: the rules whose
 * includes and excludes (caps, arches, minKernel) fit.  A new object;
 * NULL with BERR_INVALID or BERR_INTERNAL. */
json_t *daemon_seccomp_oci(const json_t *profile, uint64_t caps, struct berr **err);

/* spec.c */

/* What the OCI config of a container is built from; all borrowed. */
struct daemon_spec_input {
	const char *id;
	const char *rootfs; /* the merged dir */
	const char *dir;    /* holds hostname, hosts, resolv.conf */
	const json_t *doc;  /* the container's document: Path, Args, Config, HostConfig */
	const struct daemon_user *user;
	bool unprivileged_ports; /* net.ipv4.ip_unprivileged_port_start exists */
	const char *init_path;	 /* berth-init; NULL: daemon_default_init_path() */
	/* The PID and network namespaces of other containers (PidMode and
	 * NetworkMode "container:X") as paths to join, /proc/PID/ns/...; NULL
	 * for none.  With another's network, DIR is its directory, with its
	 * hosts and resolv.conf (its host name is in DOC's Config by then). */
	const char *pid_ns;
	const char *net_ns;
};

/* berth-init next to the running program (/proc/self/exe's directory); the
 * caller frees it.  NULL when out of memory or unreadable. */
char *daemon_default_init_path(void);

/* The OCI runtime config of a container, as Docker makes it: Entrypoint +
 * Cmd (behind /sbin/docker-init -- with HostConfig.Init), the environment of
 * daemon_config_env(), the working dir ("/" by default), the user and
 * GroupAdd, the capabilities of daemon_hostconfig_caps() (bounding only for
 * a user other than root), Docker's mounts, masked and read-only paths
 * (none when privileged), the seccomp profile (berth's default, none, or the
 * one given), no_new_privileges, rlimits, resources (memory, swap, CPU,
 * pids, blkio, devices), namespaces as NetworkMode, PidMode, IpcMode,
 * UTSMode and CgroupnsMode say (each new but for "host"; "container:X"
 * joins in->pid_ns and in->net_ns), the host name, the container's hostname,
 * hosts and resolv.conf bound in, Binds, Mounts and Tmpfs, sysctls, and the
 * cgroup /berth/<id>.  A new object the caller owns; NULL with
 * BERR_INVALID (a bad seccomp profile, a device gone, a group name) or
 * BERR_INTERNAL. */
json_t *daemon_spec_build(const struct daemon_spec_input *in, struct berr **err);
/* daemon_spec_build()'s config as compact JSON text, the same text
 * json_dumps() gives; the default seccomp profile's part is dumped once
 * per capability set, not at every start.  The caller frees it. */
char *daemon_spec_dumps(const struct daemon_spec_input *in, struct berr **err);

/* Writes the hosts and resolv.conf of a container in DIR as its HostConfig
 * HC asks: ExtraHosts appended to the hosts file; Dns, DnsSearch and
 * DnsOptions replacing the host's; with NetworkMode "host", the host's own
 * /etc/hosts and resolv.conf.  Sets BERR_INTERNAL. */
int daemon_files_apply_hostconfig(const char *dir, const json_t *hc, struct berr **err);

/* files.c */

/* Writes TEXT into DIR/NAME in place, made when missing: a new container's
 * files, which nobody reads before its create ends (the spare's empty ones
 * are kept, see daemon_tidy()).  Not synced: a crash in a create loses the
 * container.  Sets BERR_INTERNAL. */
int daemon_file_write(const char *dir, const char *name, const char *text, struct berr **err);

/* Writes DIR/hostname (HOSTNAME), DIR/hosts (Docker's for a container
 * without a network) and DIR/resolv.conf (the host's without loopback name
 * servers, or Google's when none is left).  HOST_RESOLV is the host file to
 * copy (NULL: /etc/resolv.conf).  Sets BERR_INTERNAL. */
int daemon_files_write(const char *dir, const char *hostname, const char *host_resolv,
		       struct berr **err);
/* The path of the init layer under DATA_ROOT, made on first use: the
 * mount points the runtime needs (/proc, /sys, /dev, /etc/hostname,
 * /etc/hosts, /etc/resolv.conf...) as the top lower layer of every container,
 * so they never land in a container's changes.  Read-only under overlay,
 * so one serves all.  The caller frees the path; NULL with *ERR set. */
char *daemon_init_layer(const char *data_root, struct berr **err);

/* The resolv.conf a container gets from the host's TEXT; the caller
 * frees it.  NULL when out of memory. */
char *daemon_resolv_conf(const char *text);

/* shim.c */

/* Spawns berth-shim (O->shim) for C, whose bundle is RUN_DIR (its run
 * directory) and whose log goes to LOG_PATH, handing it LOCK (the waiter's
 * lock; may be -1) and O's clients, and
 * reads its report: *pid the container's pid, *shim the shim's, and
 * *end_fd the report pipe, which reads end-of-file once the shim has
 * recorded the container's end.  Sets the error the shim reports. */
int daemon_shim_start(struct daemon *d, const struct daemon_container *c, const char *run_dir,
		      const char *log_path, int lock, const struct daemon_start_opts *o, pid_t *pid,
		      pid_t *shim, int *end_fd, struct berr **err);
/* Spawns berth-shim for an exec of the OCI process in PROCESS_FILE into
 * container ID; the shim is the caller's child (*shim), exits with the
 * process's exit code, and *pid is the process's pid. */
int daemon_shim_exec(struct daemon *d, const char *id, const char *process_file,
		     const struct daemon_start_opts *o, bool tty, bool in, pid_t *pid, pid_t *shim,
		     struct berr **err);
/* The end the shim recorded in RUN_DIR: *found, *wait_status and *finished
 * (RFC 3339, new; may be NULL). */
int daemon_shim_exit_record(const char *run_dir, bool *found, int *wait_status, char **finished,
			    struct berr **err);
int daemon_shim_attach(const char *run_dir, const struct daemon_attach *a, const char *detach_keys,
		       struct berr **err);
/* Resizes the terminal of the shim whose control socket is SOCK_NAME in
 * RUN_DIR (NULL: a container's shim). */
int daemon_shim_resize(const char *run_dir, const char *sock_name, unsigned height, unsigned width,
		       struct berr **err);

/* state.c: the State object of a document. */

void daemon_state_set_created(json_t *doc);
/* STARTED: when the start began, so that an end the process records
 * before the daemon does never precedes it. */
void daemon_state_set_running(json_t *doc, pid_t pid, const char *started);
void daemon_state_set_exited(json_t *doc, int exit_code, bool oom_killed, const char *finished);
/* A failed start: the status stays, Error and ExitCode are set. */
void daemon_state_set_error(json_t *doc, const char *msg, int exit_code);
/* A new State object for a container just created. */
json_t *daemon_state_new(void);

/* container.c */

/* The directory of container ID; the caller frees it. */
char *daemon_container_dir(const struct daemon *d, const char *id);
/* The json-file log of container ID in its directory DIR, named as Docker
 * names it; the caller frees it. */
char *daemon_container_log_path(const char *dir, const char *id);
/* The run directory of container ID, under the exec root: what belongs to
 * its runs and not to its data (the bundle, the shim's sockets and its
 * record of the end), made by its first start and removed with it.  The
 * exec root is a tmpfs on most hosts, where files come and go without a
 * trace on disk, as runc's bundles under containerd do.  The caller frees
 * it. */
char *daemon_container_run_dir(const struct daemon *d, const char *id);
/* Writes C's document to the store.  Sets BERR_NOT_FOUND when C is gone. */
int daemon_container_save(struct daemon *d, const struct daemon_container *c, struct berr **err);
/* Rereads C's record from the store (another process may have changed it)
 * and shows a lost end as exited; a record unchanged since C was read
 * leaves C's document as it is, so C must not have been changed since.
 * Sets BERR_NOT_FOUND when C is gone. */
int daemon_container_reload(struct daemon *d, struct daemon_container *c, struct berr **err);
/* The same without showing a lost end: for who is recording it. */
int daemon_container_reload_recorded(struct daemon *d, struct daemon_container *c,
				     struct berr **err);
/* Whether container ID, recorded as running, has ended without anyone
 * recording it: no process holds its waiter's lock, and the runtime no
 * longer knows its process alive.  Then *exit_code gets the exit code its
 * shim recorded (DAEMON_EXIT_LOST when none), and *finished when that end
 * was, in RFC 3339 (new; NULL when unknown). */
bool daemon_container_end_unseen(struct daemon *d, const char *id, int *exit_code, char **finished);
/* Takes the container's lock (flock on its directory): state changes of
 * one container by several processes happen one at a time.  Returns the
 * lock's fd, or -1 with BERR_NOT_FOUND when the directory is gone. */
int daemon_container_lock(struct daemon *d, const char *id, struct berr **err);
/* How C's root file system is mounted: volatile (no sync at its
 * unmount) for a container removed at its end, which has nothing to keep
 * on disk. */
unsigned daemon_container_mount_flags(const struct daemon_container *c);
/* The lower dirs of C's root file system, lowest first: its image's layers
 * and its init layer.  A new vector the caller frees. */
int daemon_container_lower_dirs(struct daemon *d, const struct daemon_container *c, char ***out,
				struct berr **err);

/* A create's volumes: each volume mount point of POINTS
 * (daemon_hostconfig_mounts()' and VolumesFrom's) without a Source gets its
 * Name (one drawn for an unnamed one) and Source, its volume made when
 * missing, and each path of CONFIG's Volumes (the image's and the
 * caller's) that no entry of OCI or POINTS covers gets a volume berth
 * names.  *made receives the names of the volumes made
 * (daemon_volumes_undo() removes them if the create fails), *named those of
 * every volume the create named or made (a Docker "create" event each).
 * Sets BERR_INVALID, BERR_INTERNAL. */
int daemon_volumes_resolve(struct daemon *d, const json_t *config, const json_t *oci,
			   json_t *points, char ***made, char ***named, struct berr **err);
/* Removes the volumes MADE names, made by a create that failed. */
void daemon_volumes_undo(struct daemon *d, char *const *made);
/* A create's copy of the image's content into C's empty volumes (see
 * daemon_volumes_populate()), from its layers mounted read-only for the
 * while, as Docker fills them at create. */
int daemon_volumes_fill(struct daemon *d, const struct daemon_container *c, struct berr **err);
/* A start's copy of the image's content into each empty volume of DOC
 * (a container's document) not mounted "nocopy", from the container's
 * root file system ROOTFD. */
int daemon_volumes_populate(const json_t *doc, int rootfd, struct berr **err);
/* Removes the volumes berth named among POINTS (a removed container's
 * "Mounts") that no other container uses; *removed receives their names. */
void daemon_volumes_remove_anonymous(struct daemon *d, const json_t *points, char ***removed);

#endif
