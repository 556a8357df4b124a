/* Unit tests for the container engine (run as root): Docker's merge of an
 * image's run config with the options of `docker create` (Cmd, Entrypoint,
 * Env, WorkingDir, User), the process environment, user and group lookups
 * in a container's own files, names and ids, the resolv.conf a container
 * gets, the OCI config of a container (args, env, cwd, user, capabilities,
 * mounts, namespaces, masked paths) checked as JSON and by the runtime's own
 * parser, and, on an imported image, create, lookup, inspect and removal,
 * and a container that runs (with busybox) or whose command is missing. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/internal.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "runtime/spec.h"

#define TAR_MAX (8 * 1024 * 1024)
#define BUSYBOX "/bin/busybox"

static void expect_error(struct berr **err, enum berr_kind kind, const char *msg)
{
	assert_non_null(*err);
	if ((*err)->kind != kind || (msg && strcmp((*err)->msg, msg) != 0))
		fprintf(stderr, "unexpected error: %s\n", (*err)->msg);
	assert_int_equal((*err)->kind, kind);
	if (msg)
		assert_string_equal((*err)->msg, msg);
	berr_clear(err);
}

/* The JSON text of V, for comparisons; the caller frees it. */
static char *text(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(s);
	return s;
}

static void expect_json(const json_t *v, const char *want)
{
	char *s = text(v);

	if (strcmp(s, want) != 0)
		fprintf(stderr, "got %s\nwant %s\n", s, want);
	assert_string_equal(s, want);
	free(s);
}

/*
 * Docker's merge.
 */

struct merged {
	json_t *config;
	char *path;
	json_t *args;
};

static void merged_clear(struct merged *m)
{
	json_decref(m->config);
	json_decref(m->args);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* The merge of the body the CLI's OPTS make. */
static int merge(const struct image_run_config *rc, const struct daemon_create_opts *opts,
		 struct merged *m, struct berr **err)
{
	json_t *body = daemon_create_opts_body(opts, err);
	int r;

	assert_non_null(body);
	r = daemon_config_merge(rc, body, "abcdef012345", &m->config, &m->path, &m->args, err);
	json_decref(body);
	return r;
}

static void test_merge(void **state)
{
	char *image_env[] = { "PATH=/image/bin", "A=1", "KEEP=yes", NULL };
	char *image_cmd[] = { "sh", NULL };
	char *image_ep[] = { "/entry", "-x", NULL };
	char *user_cmd[] = { "echo", "hi there", NULL };
	char *user_env[] = { "A=2", "B=3", NULL };
	char *empty[] = { NULL };
	struct image_run_config rc = {
		.env = image_env,
		.cmd = image_cmd,
		.working_dir = "/srv",
		.user = "nobody",
	};
	struct daemon_create_opts opts = { .image = "busybox" };
	struct merged m = { 0 };
	struct berr *err = NULL;

	/* Nothing given: the image's Cmd, Env, WorkingDir and User. */
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	assert_string_equal(m.path, "sh");
	expect_json(m.args, "[]");
	expect_json(json_object_get(m.config, "Env"), "[\"PATH=/image/bin\",\"A=1\",\"KEEP=yes\"]");
	expect_json(json_object_get(m.config, "Cmd"), "[\"sh\"]");
	expect_json(json_object_get(m.config, "Entrypoint"), "null");
	expect_json(json_object_get(m.config, "WorkingDir"), "\"/srv\"");
	expect_json(json_object_get(m.config, "User"), "\"nobody\"");
	expect_json(json_object_get(m.config, "Image"), "\"busybox\"");
	expect_json(json_object_get(m.config, "Hostname"), "\"abcdef012345\"");
	expect_json(json_object_get(m.config, "Tty"), "false");
	merged_clear(&m);

	/* The caller's command, env (first, then the image's others),
	 * working dir and user win. */
	opts.cmd = user_cmd;
	opts.env = user_env;
	opts.working_dir = "/tmp";
	opts.user = "1000:1000";
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	assert_string_equal(m.path, "echo");
	expect_json(m.args, "[\"hi there\"]");
	expect_json(json_object_get(m.config, "Env"),
		    "[\"A=2\",\"B=3\",\"PATH=/image/bin\",\"KEEP=yes\"]");
	expect_json(json_object_get(m.config, "WorkingDir"), "\"/tmp\"");
	expect_json(json_object_get(m.config, "User"), "\"1000:1000\"");
	merged_clear(&m);

	/* An image entrypoint takes the Cmd as its arguments. */
	rc.entrypoint = image_ep;
	opts = (struct daemon_create_opts){ .image = "busybox" };
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	assert_string_equal(m.path, "/entry");
	expect_json(m.args, "[\"-x\",\"sh\"]");
	merged_clear(&m);

	/* --entrypoint drops the image's Cmd... */
	opts.entrypoint = "/bin/date";
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	assert_string_equal(m.path, "/bin/date");
	expect_json(m.args, "[]");
	expect_json(json_object_get(m.config, "Cmd"), "null");
	expect_json(json_object_get(m.config, "Entrypoint"), "[\"/bin/date\"]");
	merged_clear(&m);

	/* ...and --entrypoint "" resets it: the command is the caller's. */
	opts.entrypoint = "";
	opts.cmd = user_cmd;
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	assert_string_equal(m.path, "echo");
	expect_json(json_object_get(m.config, "Entrypoint"), "null");
	merged_clear(&m);
	opts.cmd = empty;
	assert_int_equal(merge(&rc, &opts, &m, &err), -1);
	expect_error(&err, BERR_INVALID, "No command specified");

	/* Neither an entrypoint nor a command at all. */
	rc = (struct image_run_config){ 0 };
	opts = (struct daemon_create_opts){ .image = "x" };
	assert_int_equal(merge(&rc, &opts, &m, &err), -1);
	expect_error(&err, BERR_INVALID, "No command specified");

	opts.cmd = user_cmd;
	opts.working_dir = "relative";
	assert_int_equal(merge(&rc, &opts, &m, &err), -1);
	expect_error(&err, BERR_INVALID,
		     "the working directory 'relative' is invalid, it needs to be an absolute "
		     "path");
}

static void test_env(void **state)
{
	json_t *config = json_pack("{s:s, s:[s, s, s, s, s]}", "Hostname", "h1", "Env",
				   "PATH=/image/bin", "A=1", "HOSTNAME", "B=2", "A=3");
	char **env;
	struct berr *err = NULL;

	/* HOSTNAME alone removes it; A is replaced in place; HOME added. */
	env = daemon_config_env(config, "/root", &err);
	assert_non_null(env);
	assert_int_equal(strv_length(env), 4);
	assert_string_equal(env[0], "PATH=/image/bin");
	assert_string_equal(env[1], "A=3");
	assert_string_equal(env[2], "B=2");
	assert_string_equal(env[3], "HOME=/root");
	strv_free(env);
	json_decref(config);

	/* Docker's defaults, and a HOME of the caller's kept. */
	config = json_pack("{s:s, s:[s]}", "Hostname", "h2", "Env", "HOME=/mine");
	env = daemon_config_env(config, "/root", &err);
	assert_non_null(env);
	assert_int_equal(strv_length(env), 3);
	assert_string_equal(env[0], "PATH=" DAEMON_DEFAULT_PATH);
	assert_string_equal(env[1], "HOSTNAME=h2");
	assert_string_equal(env[2], "HOME=/mine");
	strv_free(env);
	json_decref(config);
}

/*
 * Users.
 */

struct rootfs {
	char dir[64];
	int fd;
};

static void write_at(const char *dir, const char *name, const char *content)
{
	char *path = str_printf("%s/%s", dir, name);

	assert_non_null(path);
	assert_int_equal(fs_write_file_replace(path, content, strlen(content), 0644, NULL), 0);
	free(path);
}

static void rootfs_make(struct rootfs *r)
{
	char *etc;

	snprintf(r->dir, sizeof(r->dir), "/tmp/berth-daemon-root-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	etc = str_printf("%s/etc", r->dir);
	assert_int_equal(mkdir(etc, 0755), 0);
	free(etc);
	write_at(r->dir, "etc/passwd",
		 "root:x:0:0:root:/root:/bin/sh\n"
		 "\n"
		 "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
		 "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
	write_at(r->dir, "etc/group",
		 "root:x:0:\n"
		 "daemon:x:1:\n"
		 "wheel:x:10:root,alice\n"
		 "staff:x:50:alice\n"
		 "alice:x:1000:\n"
		 "nogroup:x:65534:\n");
	r->fd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(r->fd >= 0);
}

static void rootfs_remove(struct rootfs *r)
{
	close(r->fd);
	fs_remove_tree(r->dir, NULL);
}

static void expect_user(int rootfd, const char *spec, uid_t uid, gid_t gid, const char *gids,
			const char *home)
{
	struct daemon_user u = { 0 };
	struct berr *err = NULL;
	char got[128] = "";
	size_t used = 0;

	if (daemon_user_resolve(rootfd, spec, &u, &err) < 0)
		fail_msg("user \"%s\": %s", spec, err->msg);
	for (size_t i = 0; i < u.n_gids; i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%u", i ? "," : "",
					 (unsigned)u.gids[i]);
	if (u.uid != uid || u.gid != gid || strcmp(got, gids) != 0 || strcmp(u.home, home) != 0)
		fail_msg("user \"%s\": got %u:%u [%s] %s, want %u:%u [%s] %s", spec,
			 (unsigned)u.uid, (unsigned)u.gid, got, u.home, (unsigned)uid,
			 (unsigned)gid, gids, home);
	daemon_user_clear(&u);
}

static void test_user_resolve(void **state)
{
	struct rootfs r;
	struct daemon_user u = { 0 };
	struct berr *err = NULL;
	char *link;

	rootfs_make(&r);
	/* root by default, with the groups listing it. */
	expect_user(r.fd, "", 0, 0, "0,10", "/root");
	expect_user(r.fd, "root", 0, 0, "0,10", "/root");
	expect_user(r.fd, "alice", 1000, 1000, "1000,10,50", "/home/alice");
	expect_user(r.fd, "1000", 1000, 1000, "1000,10,50", "/home/alice");
	expect_user(r.fd, "nobody", 65534, 65534, "65534", "/nonexistent");
	/* An explicit group replaces the primary one and drops the others. */
	expect_user(r.fd, "alice:staff", 1000, 50, "50", "/home/alice");
	expect_user(r.fd, "alice:7", 1000, 7, "7", "/home/alice");
	/* Numbers need no entry. */
	expect_user(r.fd, "4242", 4242, 0, "0", "/");
	expect_user(r.fd, "4242:4343", 4242, 4343, "4343", "/");

	assert_int_equal(daemon_user_resolve(r.fd, "ghost", &u, &err), -1);
	expect_error(&err, BERR_INVALID,
		     "unable to find user ghost: no matching entries in passwd file");
	assert_int_equal(daemon_user_resolve(r.fd, "alice:ghosts", &u, &err), -1);
	expect_error(&err, BERR_INVALID,
		     "unable to find group ghosts: no matching entries in group file");

	/* The files are read inside the root: an absolute symlink does not
	 * lead to the host's. */
	link = str_printf("%s/etc/passwd", r.dir);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("/../../../etc/group", link), 0);
	free(link);
	/* The container's group file read as a passwd file: "daemon:x:1:"
	 * has no gid or home, where the host's daemon has both. */
	expect_user(r.fd, "daemon", 1, 0, "0", "/");
	link = str_printf("%s/etc/passwd", r.dir);
	assert_int_equal(unlink(link), 0);
	free(link);
	/* Without a passwd file, root and numbers still work, names not. */
	expect_user(r.fd, "", 0, 0, "0", "/");
	expect_user(r.fd, "7", 7, 0, "0", "/");
	assert_int_equal(daemon_user_resolve(r.fd, "alice", &u, &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	rootfs_remove(&r);
}

/*
 * Names, ids, files.
 */

static void test_names_and_ids(void **state)
{
	char id[DAEMON_ID_SIZE];
	struct berr *err = NULL;

	assert_int_equal(daemon_name_validate("web", &err), 0);
	assert_int_equal(daemon_name_validate("/web-1.a_b", &err), 0);
	assert_int_equal(daemon_name_validate("w", &err), -1);
	expect_error(&err, BERR_INVALID,
		     "Invalid container name (w), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
	assert_int_equal(daemon_name_validate("-web", &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(daemon_name_validate("we b", &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(daemon_name_validate("we/b", &err), -1);
	expect_error(&err, BERR_INVALID, NULL);

	for (int i = 0; i < 50; i++) {
		char *name = daemon_name_generate((unsigned)(i % 2));
		char *sep;

		assert_non_null(name);
		sep = strchr(name, '_');
		assert_non_null(sep);
		assert_int_equal(daemon_name_validate(name, &err), 0);
		assert_string_not_equal(name, "boring_wozniak");
		free(name);

		assert_int_equal(daemon_id_generate(id, &err), 0);
		assert_int_equal(strlen(id), 64);
		assert_int_equal(strspn(id, "0123456789abcdef"), 64);
		assert_true(strspn(id, "0123456789") < 12);
	}
}

static void test_resolv_conf(void **state)
{
	char *r;

	r = daemon_resolv_conf("# host\nsearch example.com\nnameserver 127.0.0.53\n"
			       "nameserver 10.0.0.2\nnameserver ::1\noptions ndots:2\n");
	assert_non_null(r);
	assert_string_equal(r, "# host\nsearch example.com\nnameserver 10.0.0.2\n"
			       "options ndots:2\n");
	free(r);
	/* Only loopback servers: Docker's defaults. */
	r = daemon_resolv_conf("nameserver 127.0.0.1\n");
	assert_non_null(r);
	assert_string_equal(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	free(r);
	r = daemon_resolv_conf("");
	assert_non_null(r);
	assert_string_equal(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	free(r);
}

/*
 * The OCI config.
 */

/* Docker's default capabilities, in the order of their numbers. */
static const char *const docker_caps =
	"[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
	"\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\","
	"\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"]";

/* The mounts of SPEC as "destination type source" lines. */
static char *mount_lines(const json_t *spec)
{
	const json_t *mounts = json_object_get(spec, "mounts");
	size_t size = 0, i;
	char *out = NULL;
	FILE *f = open_memstream(&out, &size);
	json_t *m;

	assert_non_null(f);
	json_array_foreach (mounts, i, m)
		fprintf(f, "%s %s %s\n", json_string_value(json_object_get(m, "destination")),
			json_string_value(json_object_get(m, "type")),
			json_string_value(json_object_get(m, "source")));
	fclose(f);
	return out;
}

static void test_spec(void **state)
{
	char *cmd[] = { "echo", "hi", NULL };
	char *env[] = { "FOO=bar", NULL };
	char *image_env[] = { "PATH=/usr/bin:/bin", NULL };
	gid_t gids[] = { 1000, 10 };
	struct daemon_user user = { .uid = 1000, .gid = 1000, .gids = gids, .n_gids = 2 };
	struct image_run_config rc = { .env = image_env, .cmd = cmd };
	struct daemon_create_opts opts = { .image = "busybox",
					   .env = env,
					   .working_dir = "/w//x/" };
	struct merged m = { 0 };
	struct berr *err = NULL;
	struct runtime_spec *parsed = NULL;
	json_t *doc, *spec, *proc, *lnx;
	char *lines, *spec_text;

	user.home = "/home/alice";
	assert_int_equal(merge(&rc, &opts, &m, &err), 0);
	doc = json_pack("{s:s, s:O, s:O}", "Path", m.path, "Args", m.args, "Config", m.config);
	assert_non_null(doc);

	struct daemon_spec_input in = {
		.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.rootfs = "/var/lib/berth/containers/x/merged",
		.dir = "/var/lib/berth/containers/x",
		.doc = doc,
		.user = &user,
		.unprivileged_ports = true,
	};
	spec = daemon_spec_build(&in, &err);
	assert_non_null(spec);
	proc = json_object_get(spec, "process");
	expect_json(json_object_get(proc, "args"), "[\"echo\",\"hi\"]");
	expect_json(json_object_get(proc, "env"),
		    "[\"PATH=/usr/bin:/bin\",\"HOSTNAME=abcdef012345\",\"FOO=bar\","
		    "\"HOME=/home/alice\"]");
	expect_json(json_object_get(proc, "cwd"), "\"/w/x\"");
	expect_json(json_object_get(proc, "terminal"), "false");
	expect_json(json_object_get(proc, "user"),
		    "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,10]}");
	/* Another user than root gets the bounding set only. */
	lines = text(json_object_get(proc, "capabilities"));
	assert_non_null(strstr(lines, docker_caps));
	assert_null(strstr(lines, "effective"));
	assert_null(strstr(lines, "permitted"));
	free(lines);
	expect_json(json_object_get(spec, "hostname"), "\"abcdef012345\"");
	expect_json(json_object_get(spec, "root"),
		    "{\"path\":\"/var/lib/berth/containers/x/merged\",\"readonly\":false}");

	lines = mount_lines(spec);
	assert_string_equal(lines, "/proc proc proc\n"
				   "/dev tmpfs tmpfs\n"
				   "/dev/pts devpts devpts\n"
				   "/sys sysfs sysfs\n"
				   "/sys/fs/cgroup cgroup cgroup\n"
				   "/dev/mqueue mqueue mqueue\n"
				   "/dev/shm tmpfs shm\n"
				   "/etc/resolv.conf bind /var/lib/berth/containers/x/resolv.conf\n"
				   "/etc/hostname bind /var/lib/berth/containers/x/hostname\n"
				   "/etc/hosts bind /var/lib/berth/containers/x/hosts\n");
	free(lines);
	expect_json(json_object_get(json_array_get(json_object_get(spec, "mounts"), 3), "options"),
		    "[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]");

	lnx = json_object_get(spec, "linux");
	expect_json(json_object_get(lnx, "namespaces"),
		    "[{\"type\":\"mount\"},{\"type\":\"network\"},{\"type\":\"uts\"},"
		    "{\"type\":\"pid\"},{\"type\":\"ipc\"}]");
	expect_json(json_object_get(lnx, "cgroupsPath"),
		    "\"/berth/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"");
	expect_json(json_object_get(lnx, "readonlyPaths"),
		    "[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
		    "\"/proc/sysrq-trigger\"]");
	lines = text(json_object_get(lnx, "maskedPaths"));
	assert_non_null(strstr(lines, "\"/proc/kcore\""));
	assert_non_null(strstr(lines, "\"/sys/firmware\""));
	free(lines);
	expect_json(json_object_get(json_object_get(lnx, "sysctl"),
				    "net.ipv4.ip_unprivileged_port_start"),
		    "\"0\"");

	/* The runtime takes it as it is. */
	spec_text = text(spec);
	if (runtime_spec_parse(spec_text, strlen(spec_text), &parsed, &err) < 0)
		fail_msg("runtime parser: %s", err->msg);
	assert_true(parsed->namespaces[RUNTIME_NS_NETWORK].enabled);
	assert_null(parsed->namespaces[RUNTIME_NS_NETWORK].path);
	assert_false(parsed->namespaces[RUNTIME_NS_USER].enabled);
	runtime_spec_free(parsed);
	free(spec_text);
	/* The text written for the runtime is the config's own compact dump,
	 * from the default profile's text dumped once (the second time too). */
	spec_text = json_dumps(spec, JSON_COMPACT);
	assert_non_null(strstr(spec_text, "\"seccomp\":{\"defaultAction\""));
	for (int i = 0; i < 2; i++) {
		char *dumped = daemon_spec_dumps(&in, &err);

		assert_non_null(dumped);
		assert_string_equal(dumped, spec_text);
		free(dumped);
	}
	free(spec_text);
	json_decref(spec);

	/* Root keeps Docker's caps in the effective and permitted sets. */
	user = (struct daemon_user){ .uid = 0, .gid = 0, .gids = gids, .n_gids = 0, .home = "/" };
	spec = daemon_spec_build(&in, &err);
	assert_non_null(spec);
	proc = json_object_get(spec, "process");
	expect_json(json_object_get(json_object_get(proc, "capabilities"), "effective"),
		    docker_caps);
	expect_json(json_object_get(json_object_get(proc, "capabilities"), "permitted"),
		    docker_caps);
	json_decref(spec);
	json_decref(doc);
	merged_clear(&m);
}

/*
 * Containers of an imported image.
 */

struct fixture {
	char dir[64];
	char *data_root, *exec_root;
	struct image_store *st;
	struct daemon *d;
	char image[DIGEST_STRING_SIZE];
	bool have_busybox;
};

/* Appends a file (or, with CONTENT NULL, a directory) to A. */
static void tar_add(struct archive *a, const char *name, const void *content, size_t len,
		    mode_t mode)
{
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, content ? AE_IFREG : AE_IFDIR);
	archive_entry_set_perm(ae, mode);
	archive_entry_set_mtime(ae, 1600000000, 0);
	archive_entry_set_size(ae, content ? (la_int64_t)len : 0);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	if (content && len)
		assert_int_equal(archive_write_data(a, content, len), (la_ssize_t)len);
	archive_entry_free(ae);
}

static void add_symlink(struct archive *a, const char *name, const char *target)
{
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFLNK);
	archive_entry_set_perm(ae, 0777);
	archive_entry_set_symlink(ae, target);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	archive_entry_free(ae);
}

/* A memfd holding a root file system: /etc files, and busybox as /bin/sh
 * when the host has a static one. */
static int rootfs_tar(bool *have_busybox)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
	struct archive *a = archive_write_new();
	char *buf = malloc(TAR_MAX);
	char *bb = NULL;
	size_t used = 0, bb_len = 0;
	int fd;

	assert_non_null(buf);
	*have_busybox = fs_read_file(BUSYBOX, TAR_MAX / 2, &bb, &bb_len, NULL) == 0;
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	tar_add(a, "etc", NULL, 0, 0755);
	tar_add(a, "etc/passwd", passwd, strlen(passwd), 0644);
	tar_add(a, "bin", NULL, 0, 0755);
	if (*have_busybox) {
		tar_add(a, "bin/busybox", bb, bb_len, 0755);
		add_symlink(a, "bin/sh", "busybox");
		add_symlink(a, "bin/echo", "busybox");
	}
	tar_add(a, "bin/plain", "data", 4, 0644);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(bb);

	fd = memfd_create("rootfs", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, buf, used), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *changes[] = { "CMD [\"sh\"]", "ENV PATH=/bin" };
	struct berr *err = NULL;
	int fd;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-daemon-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->data_root = str_printf("%s/data", f->dir);
	f->exec_root = str_printf("%s/exec", f->dir);
	assert_non_null(f->data_root);
	assert_non_null(f->exec_root);
	if (image_store_open(f->data_root, &f->st, &err) < 0)
		fail_msg("open store: %s", err->msg);
	fd = rootfs_tar(&f->have_busybox);
	if (image_import(f->st, fd, changes, 2, "base:1", NULL, f->image, &err) < 0)
		fail_msg("import: %s", err->msg);
	close(fd);
	if (daemon_new(f->st, f->exec_root, &f->d, &err) < 0)
		fail_msg("engine: %s", err->msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct daemon_container **list = NULL;
	size_t n = 0;

	/* Whatever a failed test left: containers, mounts, runtime state. */
	if (daemon_container_list(f->d, &list, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++)
			daemon_container_remove(f->d, list[i]->id, true, false, NULL, NULL);
		daemon_container_list_free(list, n);
	}
	daemon_free(f->d);
	image_store_free(f->st);
	fs_remove_tree(f->dir, NULL);
	free(f->data_root);
	free(f->exec_root);
	free(f);
	return 0;
}

static char *container_path(struct fixture *f, const char *id, const char *name)
{
	char *p = str_printf("%s/containers/%s/%s", f->data_root, id, name);

	assert_non_null(p);
	return p;
}

static void expect_file(struct fixture *f, const char *id, const char *name, const char *want)
{
	char *path = container_path(f, id, name);
	char *got = NULL;
	size_t len;

	assert_int_equal(fs_read_file(path, 65536, &got, &len, NULL), 0);
	if (want)
		assert_string_equal(got, want);
	free(got);
	free(path);
}

static void test_create_lookup_remove(void **state)
{
	struct fixture *f = *state;
	char *cmd[] = { "echo", "hi", NULL };
	struct daemon_create_opts opts = { .image = "base:1", .name = "web", .cmd = cmd };
	struct daemon_container *c = NULL, *found = NULL, **list = NULL;
	struct berr *err = NULL;
	char *users_prefix, *path, prefix[13];
	char **users = NULL, **lower = NULL;
	json_t *info = NULL, *gd;
	char conflict[512];
	size_t n = 0;

	if (daemon_container_create(f->d, &opts, &c, &err) < 0)
		fail_msg("create: %s", err->msg);
	assert_string_equal(c->name, "/web");
	assert_string_equal(c->image_id, f->image);
	assert_string_equal(daemon_container_status(c), "created");
	expect_json(json_object_get(c->doc, "Path"), "\"echo\"");
	expect_json(json_object_get(c->doc, "Args"), "[\"hi\"]");
	expect_json(json_object_get(json_object_get(c->doc, "Config"), "Env"), "[\"PATH=/bin\"]");
	expect_json(json_object_get(json_object_get(c->doc, "State"), "StartedAt"),
		    "\"" DAEMON_ZERO_TIME "\"");

	/* Its files: the host name is the short id. */
	snprintf(prefix, sizeof(prefix), "%.12s", c->id);
	users_prefix = str_printf("%s\n", prefix);
	expect_file(f, c->id, "hostname", users_prefix);
	free(users_prefix);
	expect_file(f, c->id, "hosts", NULL);
	expect_file(f, c->id, "resolv.conf", NULL);
	/* Its top lower layer is the init layer all containers share. */
	assert_int_equal(daemon_container_lower_dirs(f->d, c, &lower, &err), 0);
	path = str_printf("%s/init-layer", f->data_root);
	assert_string_equal(lower[strv_length(lower) - 1], path);
	free(path);
	path = str_printf("%s/init-layer/etc/hosts", f->data_root);
	assert_true(fs_exists(path));
	free(path);
	strv_free(lower);
	path = container_path(f, c->id, "init");
	assert_false(fs_exists(path));
	free(path);
	path = container_path(f, c->id, "upper");
	assert_true(fs_exists(path));
	free(path);

	/* It uses its image. */
	assert_int_equal(store_image_users(image_store_db(f->st), f->image, &users, &err), 0);
	assert_non_null(users[0]);
	assert_string_equal(users[0], c->id);
	strv_free(users);

	/* Found by name, "/name", prefix. */
	assert_int_equal(daemon_container_lookup(f->d, "/web", &found, &err), 0);
	assert_string_equal(found->id, c->id);
	daemon_container_free(found);
	assert_int_equal(daemon_container_lookup(f->d, prefix, &found, &err), 0);
	assert_string_equal(found->id, c->id);
	daemon_container_free(found);

	/* The name is taken now; nothing of the refused one stays. */
	assert_int_equal(daemon_container_create(f->d, &opts, &found, &err), -1);
	snprintf(conflict, sizeof(conflict),
		 "Conflict. The container name \"/web\" is already in use by container \"%s\". "
		 "You have to remove (or rename) that container to be able to reuse that name.",
		 c->id);
	expect_error(&err, BERR_CONFLICT, conflict);
	opts.name = NULL;
	opts.image = "nosuch";
	assert_int_equal(daemon_container_create(f->d, &opts, &found, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, NULL);
	opts.image = "base:1";
	opts.tty = true;
	/* A terminal is the shim's to make: create records it. */
	assert_int_equal(daemon_container_create(f->d, &opts, &found, &err), 0);
	assert_true(json_is_true(json_object_get(json_object_get(found->doc, "Config"), "Tty")));
	assert_int_equal(daemon_container_remove(f->d, found->id, false, false, NULL, &err), 0);
	daemon_container_free(found);
	found = NULL;
	assert_int_equal(daemon_container_list(f->d, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	daemon_container_list_free(list, n);
	path = str_printf("%s/containers", f->data_root);
	{
		_cleanup_closedir_ DIR *dir = opendir(path);
		struct dirent *de;
		size_t entries = 0;

		assert_non_null(dir);
		while ((de = readdir(dir)))
			entries += de->d_name[0] != '.';
		assert_int_equal(entries, 1);
	}
	free(path);

	/* A random name when none is given. */
	opts.tty = false;
	if (daemon_container_create(f->d, &opts, &found, &err) < 0)
		fail_msg("create: %s", err->msg);
	assert_non_null(strchr(found->name, '_'));
	assert_int_equal(daemon_container_remove(f->d, found->id, false, false, NULL, &err), 0);
	daemon_container_free(found);

	/* inspect: the paths of its files and its overlay. */
	assert_int_equal(daemon_container_inspect(f->d, c, &info, &err), 0);
	expect_json(json_object_get(info, "Name"), "\"/web\"");
	path = container_path(f, c->id, "hostname");
	assert_string_equal(json_string_value(json_object_get(info, "HostnamePath")), path);
	free(path);
	gd = json_object_get(info, "GraphDriver");
	expect_json(json_object_get(gd, "Name"), "\"overlay2\"");
	path = container_path(f, c->id, "upper");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(gd, "Data"), "UpperDir")), path);
	free(path);
	/* The init layer on top of the image's. */
	path = str_printf("%s/init-layer:", f->data_root);
	assert_true(str_has_prefix(
		json_string_value(json_object_get(json_object_get(gd, "Data"), "LowerDir")), path));
	free(path);
	json_decref(info);

	/* Removed: its directory, its record and its use of the image. */
	assert_int_equal(daemon_container_remove(f->d, "web", false, false, NULL, &err), 0);
	path = container_path(f, c->id, "");
	assert_false(fs_exists(path));
	free(path);
	assert_int_equal(daemon_container_lookup(f->d, c->id, &found, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, NULL);
	assert_int_equal(store_image_users(image_store_db(f->st), f->image, &users, &err), 0);
	assert_null(users[0]);
	strv_free(users);
	assert_int_equal(daemon_container_remove(f->d, "web", false, false, NULL, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, "No such container: web");
	daemon_container_free(c);
}

static void test_missing_command(void **state)
{
	struct fixture *f = *state;
	char *missing[] = { "nosuch", NULL };
	char *plain[] = { "/bin/plain", NULL };
	struct daemon_create_opts opts = { .image = "base:1", .cmd = missing };
	struct daemon_container *c = NULL;
	struct berr *err = NULL;
	char *merged;
	pid_t pid = 0;

	assert_int_equal(daemon_container_create(f->d, &opts, &c, &err), 0);
	assert_int_equal(daemon_container_start(f->d, c, &pid, &err), -1);
	expect_error(&err, BERR_NOT_FOUND,
		     "unable to start container process: exec: \"nosuch\": executable file not "
		     "found in $PATH");
	/* Docker's record of it: still created, 127, the error. */
	assert_string_equal(daemon_container_status(c), "created");
	assert_int_equal(daemon_container_exit_code(c), DAEMON_EXIT_NOT_FOUND);
	daemon_container_free(c);
	{
		struct daemon_container **list = NULL;
		size_t n = 0;

		assert_int_equal(daemon_container_list(f->d, &list, &n, &err), 0);
		assert_int_equal(n, 1);
		assert_int_equal(daemon_container_exit_code(list[0]), DAEMON_EXIT_NOT_FOUND);
		assert_non_null(strstr(json_string_value(json_object_get(
					       json_object_get(list[0]->doc, "State"), "Error")),
				       "executable file not found"));
		/* Nothing stays mounted. */
		merged = container_path(f, list[0]->id, "merged");
		assert_int_equal(image_unmount(merged, &err), -1);
		expect_error(&err, BERR_NOT_FOUND, NULL);
		free(merged);
		daemon_container_list_free(list, n);
	}

	/* A file that is not executable: 126. */
	opts.cmd = plain;
	assert_int_equal(daemon_container_create(f->d, &opts, &c, &err), 0);
	assert_int_equal(daemon_container_start(f->d, c, &pid, &err), -1);
	expect_error(&err, BERR_FORBIDDEN, NULL);
	assert_int_equal(daemon_container_exit_code(c), DAEMON_EXIT_NOT_EXECUTABLE);
	daemon_container_free(c);
}

static void test_run(void **state)
{
	struct fixture *f = *state;
	char *cmd[] = { "sh", "-c", "echo changed > /out; exit 3", NULL };
	struct daemon_create_opts opts = { .image = "base:1", .cmd = cmd, .auto_remove = false };
	struct daemon_container *c = NULL;
	struct image_change *changes = NULL;
	struct berr *err = NULL;
	char *path;
	size_t n = 0;
	pid_t pid = 0;
	int code = -1;

	if (!f->have_busybox)
		skip();
	assert_int_equal(daemon_container_create(f->d, &opts, &c, &err), 0);
	if (daemon_container_start(f->d, c, &pid, &err) < 0)
		fail_msg("start: %s", err->msg);
	assert_true(pid > 0);
	assert_string_equal(daemon_container_status(c), "running");
	/* Started twice: refused. */
	{
		pid_t again = 0;

		assert_int_equal(daemon_container_start(f->d, c, &again, &err), -1);
		expect_error(&err, BERR_CONFLICT, NULL);
	}
	if (daemon_container_wait(f->d, c, pid, &code, &err) < 0)
		fail_msg("wait: %s", err->msg);
	assert_int_equal(code, 3);
	assert_string_equal(daemon_container_status(c), "exited");
	assert_int_equal(daemon_container_exit_code(c), 3);

	/* What it wrote is its change, and nothing of the mount points. */
	assert_int_equal(daemon_container_changes(f->d, c, &changes, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(changes[0].path, "/out");
	assert_int_equal(changes[0].kind, IMAGE_CHANGE_ADD);
	image_changes_free(changes, n);

	/* Nothing of it runs or stays mounted; the runtime forgot it. */
	path = str_printf("%s/runtime/%s", f->exec_root, c->id);
	assert_false(fs_exists(path));
	free(path);
	path = container_path(f, c->id, "merged/bin");
	assert_false(fs_exists(path));
	free(path);
	daemon_container_free(c);

	/* --rm: gone once it ends. */
	opts.auto_remove = true;
	assert_int_equal(daemon_container_create(f->d, &opts, &c, &err), 0);
	if (daemon_container_start(f->d, c, &pid, &err) < 0)
		fail_msg("start: %s", err->msg);
	assert_int_equal(daemon_container_wait(f->d, c, pid, &code, &err), 0);
	assert_int_equal(code, 3);
	path = container_path(f, c->id, "");
	assert_false(fs_exists(path));
	free(path);
	daemon_container_free(c);
}

/* The Engine API's create body: members checked and named, HostConfig kept
 * in Docker's shape, Warnings empty, the container's files as HostConfig
 * asks, nothing left of a refused body. */
static void test_create_api(void **state)
{
	struct fixture *f = *state;
	struct daemon_container *c = NULL, **list = NULL;
	struct berr *err = NULL;
	json_t *warnings = NULL, *body;
	char *hosts, *path;
	size_t n = 0, len = 0;

	body = json_pack("{s:s, s:s, s:{s:I, s:[s], s:{s:s}}}", "Image", "base:1", "Cmd", "echo hi",
			 "HostConfig", "Memory", (json_int_t)64 * 1024 * 1024, "ExtraHosts",
			 "db:10.0.0.5", "RestartPolicy", "Name", "always");
	assert_non_null(body);
	if (daemon_container_create_api(f->d, "api", body, &c, &warnings, &err) < 0)
		fail_msg("create: %s", err->msg);
	json_decref(body);
	expect_json(warnings, "[]");
	json_decref(warnings);
	/* A string Cmd is one word, as Docker's strslice has it. */
	expect_json(json_object_get(c->doc, "Path"), "\"echo hi\"");
	expect_json(json_object_get(json_object_get(c->doc, "HostConfig"), "Memory"), "67108864");
	expect_json(json_object_get(json_object_get(c->doc, "HostConfig"), "RestartPolicy"),
		    "{\"Name\":\"always\",\"MaximumRetryCount\":0}");
	expect_json(json_object_get(json_object_get(c->doc, "NetworkSettings"), "Networks"),
		    "{\"bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
		    "\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\","
		    "\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\","
		    "\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}");
	expect_json(json_object_get(c->doc, "Mounts"), "[]");
	path = container_path(f, c->id, "hosts");
	assert_int_equal(fs_read_file(path, 65536, &hosts, &len, &err), 0);
	assert_non_null(strstr(hosts, "10.0.0.5\tdb\n"));
	free(hosts);
	free(path);
	daemon_container_free(c);

	/* Refused bodies leave nothing. */
	body = json_pack("{s:s, s:{s:s}}", "Image", "base:1", "HostConfig", "Memory", "64m");
	assert_int_equal(daemon_container_create_api(f->d, NULL, body, &c, NULL, &err), -1);
	expect_error(&err, BERR_INVALID, "HostConfig.Memory: expected an integer");
	json_decref(body);
	body = json_pack("{s:s, s:[s]}", "Image", "base:1", "Entrypoint", "");
	json_object_set_new(body, "Cmd", json_null());
	/* The image's Cmd goes with an entrypoint given, even [""]. */
	assert_int_equal(daemon_container_create_api(f->d, NULL, body, &c, NULL, &err), -1);
	expect_error(&err, BERR_INVALID, "No command specified");
	json_decref(body);
	body = json_pack("{s:s}", "Cmd", "sh");
	assert_int_equal(daemon_container_create_api(f->d, NULL, body, &c, NULL, &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	json_decref(body);
	assert_int_equal(daemon_container_list(f->d, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	daemon_container_list_free(list, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_user_resolve),
		cmocka_unit_test(test_names_and_ids),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_spec),
		cmocka_unit_test_setup_teardown(test_create_lookup_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
