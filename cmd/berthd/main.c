/* berthd, the daemon that serves the Docker Engine API: reads its flags
 * and daemon.json (Docker's keys where they apply), claims its pid file,
 * opens the image store and the container engine, and runs one libuv loop
 * with the API server until SIGTERM or SIGINT.  SIGHUP re-reads the
 * log level from the config file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/tls.h"
#include "berth-config.h"
#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"

#define DEFAULT_HOST	    "unix:///run/berth.sock"
#define DEFAULT_EXEC_ROOT   "/run/berth"
#define DEFAULT_PIDFILE	    "/run/berth.pid"
#define DEFAULT_CONFIG_FILE "/etc/berth/daemon.json"
#define CONFIG_MAX	    (1024 * 1024)
/* The largest block the heap keeps between trims: glibc's own ceiling for
 * its adaptive mmap threshold on 64-bit. */
#define MALLOC_KEEP_MAX (32 * 1024 * 1024)

/* Large enough for any archive `docker load` and `docker import` take. */
#define UPLOAD_MAX ((size_t)IMAGE_IMPORT_MAX)

/* Specific patterns before the ones with parameters: the first match
 * wins. */
static const struct api_route routes[] = {
	{ "GET", "/_ping", berthd_ping, 0, 0 },
	{ "HEAD", "/_ping", berthd_ping, 0, 0 },
	{ "GET", "/version", berthd_version, 0, 0 },
	{ "GET", "/info", berthd_info, 0, 0 },
	{ "GET", "/events", berthd_events, 0, 0 },
	{ "GET", "/system/df", berthd_system_df, 0, 0 },
	{ "POST", "/containers/prune", berthd_containers_prune, 0, 0 },
	{ "POST", "/images/prune", berthd_images_prune, 0, 0 },
	{ "POST", "/networks/prune", berthd_networks_prune, 0, 0 },
	{ "POST", "/build/prune", berthd_build_prune, 0, 0 },
	{ "POST", "/volumes/prune", berthd_volumes_prune, 0, 0 },
	{ "POST", "/volumes/create", berthd_volumes_create, 0, 0 },
	{ "GET", "/volumes", berthd_volumes_list, 0, 0 },
	{ "GET", "/volumes/{name}", berthd_volume_inspect, 0, 0 },
	{ "DELETE", "/volumes/{name}", berthd_volume_delete, 0, 0 },
	{ "GET", "/images/json", berthd_images_list, 0, 0 },
	{ "GET", "/images/get", berthd_images_get, 0, 0 },
	{ "POST", "/images/load", berthd_images_load, API_ROUTE_STREAM_BODY, UPLOAD_MAX },
	{ "POST", "/images/create", berthd_images_create, API_ROUTE_STREAM_BODY, UPLOAD_MAX },
	{ "GET", "/images/{name}/json", berthd_image_inspect, 0, 0 },
	{ "GET", "/images/{name}/history", berthd_image_history, 0, 0 },
	{ "GET", "/images/{name}/get", berthd_image_get, 0, 0 },
	{ "POST", "/images/{name}/tag", berthd_image_tag, 0, 0 },
	{ "DELETE", "/images/{name}", berthd_image_delete, 0, 0 },
	{ "POST", "/containers/create", berthd_container_create, 0, 0 },
	{ "GET", "/containers/json", berthd_containers_list, 0, 0 },
	{ "POST", "/commit", berthd_commit, 0, 0 },
	{ "GET", "/containers/{name}/json", berthd_container_inspect, 0, 0 },
	{ "GET", "/containers/{name}/changes", berthd_container_changes, 0, 0 },
	{ "GET", "/containers/{name}/export", berthd_container_export, 0, 0 },
	{ "HEAD", "/containers/{name}/archive", berthd_container_archive_head, 0, 0 },
	{ "GET", "/containers/{name}/archive", berthd_container_archive_get, 0, 0 },
	{ "PUT", "/containers/{name}/archive", berthd_container_archive_put, API_ROUTE_STREAM_BODY,
	  UPLOAD_MAX },
	{ "POST", "/containers/{name}/start", berthd_container_start, 0, 0 },
	{ "POST", "/containers/{name}/stop", berthd_container_stop_route, 0, 0 },
	{ "POST", "/containers/{name}/restart", berthd_container_restart, 0, 0 },
	{ "POST", "/containers/{name}/kill", berthd_container_kill, 0, 0 },
	{ "POST", "/containers/{name}/wait", berthd_container_wait_route, 0, 0 },
	{ "POST", "/containers/{name}/pause", berthd_container_pause, 0, 0 },
	{ "POST", "/containers/{name}/unpause", berthd_container_unpause, 0, 0 },
	{ "POST", "/containers/{name}/attach", berthd_container_attach, 0, 0 },
	{ "POST", "/containers/{name}/resize", berthd_container_resize, 0, 0 },
	{ "POST", "/containers/{name}/rename", berthd_container_rename, 0, 0 },
	{ "GET", "/containers/{name}/logs", berthd_container_logs, 0, 0 },
	{ "GET", "/containers/{name}/stats", berthd_container_stats, 0, 0 },
	{ "GET", "/containers/{name}/top", berthd_container_top, 0, 0 },
	{ "POST", "/containers/{name}/update", berthd_container_update, 0, 0 },
	{ "POST", "/containers/{name}/exec", berthd_exec_create, 0, 0 },
	{ "DELETE", "/containers/{name}", berthd_container_delete, 0, 0 },
	{ "POST", "/exec/{name}/start", berthd_exec_start, 0, 0 },
	{ "GET", "/exec/{name}/json", berthd_exec_inspect, 0, 0 },
	{ "POST", "/exec/{name}/resize", berthd_exec_resize, 0, 0 },
};

struct options {
	char **hosts;
	char *data_root;
	char *exec_root;
	char *pidfile;
	char *log_level;
	char *config_file;
	bool config_given;
	bool live_restore;
	bool live_restore_set;
	/* dockerd's TLS flags: --tlsverify implies --tls. */
	bool tls, tls_set;
	bool tlsverify, tlsverify_set;
	char *tlscacert;
	char *tlscert;
	char *tlskey;
	struct api_tls *tls_ctx; /* made from the above when TLS is on */
};

static void options_clear(struct options *o)
{
	strv_free(o->hosts);
	free(o->data_root);
	free(o->exec_root);
	free(o->pidfile);
	free(o->log_level);
	free(o->config_file);
	free(o->tlscacert);
	free(o->tlscert);
	free(o->tlskey);
	api_tls_free(o->tls_ctx);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\tberthd [OPTIONS]\n\n"
		"A self-sufficient runtime for containers, serving the Docker Engine API.\n\n"
		"Options:\n"
		"      --config-file string   Daemon configuration file (default \"%s\")\n"
		"      --data-root string     Root directory of persistent state (default "
		"\"%s\")\n"
		"      --exec-root string     Root directory for execution state (default "
		"\"%s\")\n"
		"  -H, --host list            Daemon socket(s) to connect to (default %s)\n"
		"      --live-restore         Keep containers alive when the daemon stops "
		"(default true)\n"
		"  -l, --log-level string     debug, info, warn, error (default \"info\")\n"
		"  -p, --pidfile string       Path to use for daemon PID file (default "
		"\"%s\")\n"
		"      --tls                  Use TLS; implied by --tlsverify\n"
		"      --tlscacert string     Trust certs signed only by this CA (default "
		"\"~/.docker/ca.pem\")\n"
		"      --tlscert string       Path to TLS certificate file (default "
		"\"~/.docker/cert.pem\")\n"
		"      --tlskey string        Path to TLS key file (default "
		"\"~/.docker/key.pem\")\n"
		"      --tlsverify            Use TLS and verify the remote\n"
		"  -v, --version              Print version information and quit\n",
		DEFAULT_CONFIG_FILE, IMAGE_STORE_DEFAULT_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST,
		DEFAULT_PIDFILE);
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

/* Merges daemon.json at PATH into O.  Keys also given as flags are
 * Docker's conflict error; unknown keys Docker's unknown-directive one. */
static int config_load(const char *path, bool required, struct options *o, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *unknown = NULL;
	_cleanup_free_ char *conflicts = NULL;
	size_t len = 0;
	const char *key;
	json_t *v;

	if (fs_read_file(path, CONFIG_MAX, &text, &len, err) < 0) {
		if (!required && (*err)->kind == BERR_NOT_FOUND) {
			berr_clear(err);
			return 0;
		}
		return berr_prefix(err, "unable to configure the berth daemon with file %s", path);
	}
	if (bjson_load(text, len, CONFIG_MAX, &root, err) < 0 ||
	    bjson_as_object(root, NULL, err) < 0)
		return berr_prefix(err, "unable to configure the berth daemon with file %s", path);
	json_object_foreach (root, key, v) {
		static const char *const known[] = {
			"hosts",     "data-root",    "exec-root",   "pidfile",
			"log-level", "live-restore", "config-file", "tls",
			"tlsverify", "tlscacert",    "tlscert",	    "tlskey",
		};
		bool ok = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok = ok || strcmp(key, known[i]) == 0;
		if (!ok) {
			char *n = str_printf("%s%s%s", unknown ? unknown : "", unknown ? ", " : "",
					     key);
			free(unknown);
			unknown = n;
			continue;
		}
		bool given = (strcmp(key, "hosts") == 0 && o->hosts) ||
			     (strcmp(key, "data-root") == 0 && o->data_root) ||
			     (strcmp(key, "exec-root") == 0 && o->exec_root) ||
			     (strcmp(key, "pidfile") == 0 && o->pidfile) ||
			     (strcmp(key, "log-level") == 0 && o->log_level) ||
			     (strcmp(key, "live-restore") == 0 && o->live_restore_set) ||
			     (strcmp(key, "tls") == 0 && o->tls_set) ||
			     (strcmp(key, "tlsverify") == 0 && o->tlsverify_set) ||
			     (strcmp(key, "tlscacert") == 0 && o->tlscacert) ||
			     (strcmp(key, "tlscert") == 0 && o->tlscert) ||
			     (strcmp(key, "tlskey") == 0 && o->tlskey);
		if (given) {
			char *n = str_printf("%s%s%s", conflicts ? conflicts : "",
					     conflicts ? ", " : "", key);
			free(conflicts);
			conflicts = n;
		}
	}
	if (unknown)
		return berr_set(err, BERR_INVALID, 0,
				"unable to configure the berth daemon with file %s: the following "
				"directives don't match any configuration option: %s",
				path, unknown);
	if (conflicts)
		return berr_set(err, BERR_INVALID, 0,
				"unable to configure the berth daemon with file %s: the following "
				"directives are specified both as a flag and in the configuration "
				"file: %s",
				path, conflicts);
	json_object_foreach (root, key, v) {
		const struct bjson_path *kp = BJSON_KEY(NULL, key);
		const char *s;
		int rc = 0;

		if (strcmp(key, "hosts") == 0) {
			rc = bjson_as_strv(v, kp, &o->hosts, err);
		} else if (strcmp(key, "live-restore") == 0) {
			rc = bjson_as_bool(v, kp, &o->live_restore, err);
		} else if (strcmp(key, "tls") == 0) {
			rc = bjson_as_bool(v, kp, &o->tls, err);
		} else if (strcmp(key, "tlsverify") == 0) {
			rc = bjson_as_bool(v, kp, &o->tlsverify, err);
		} else if (strcmp(key, "config-file") == 0) {
			continue;
		} else {
			char **dst = strcmp(key, "data-root") == 0   ? &o->data_root
				     : strcmp(key, "exec-root") == 0 ? &o->exec_root
				     : strcmp(key, "pidfile") == 0   ? &o->pidfile
				     : strcmp(key, "tlscacert") == 0 ? &o->tlscacert
				     : strcmp(key, "tlscert") == 0   ? &o->tlscert
				     : strcmp(key, "tlskey") == 0    ? &o->tlskey
								     : &o->log_level;

			rc = bjson_as_string(v, kp, &s, err);
			if (rc == 0 && set_str(dst, s) < 0)
				rc = berr_set(err, BERR_INTERNAL, ENOMEM, "config");
		}
		if (rc < 0)
			return berr_prefix(err, "unable to configure the berth daemon with file %s",
					   path);
	}
	return 0;
}

/* Parses a Go-style boolean flag value: none, "true"/"1" or
 * "false"/"0". */
static int parse_bool_flag(const char *name, const char *v, bool *out)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "berthd: invalid argument \"%s\" for \"--%s\" flag\n", v, name);
	return -1;
}

/* dockerd's TLS rules: --tlsverify implies --tls; files not named are
 * ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH or ~/.docker.  The
 * context is loaded now, so that a bad file stops the start. */
static int tls_setup(struct options *o, struct berr **err)
{
	const char *dir = getenv("DOCKER_CERT_PATH");
	_cleanup_free_ char *home_dir = NULL;
	struct api_tls_config cfg;

	if (o->tlsverify)
		o->tls = true;
	if (!o->tls)
		return 0;
	if (!dir || !*dir) {
		const char *home = getenv("HOME");

		home_dir = str_printf("%s/.docker", home && *home ? home : "/root");
		if (!home_dir)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
		dir = home_dir;
	}
	if ((!o->tlscacert && !(o->tlscacert = str_printf("%s/ca.pem", dir))) ||
	    (!o->tlscert && !(o->tlscert = str_printf("%s/cert.pem", dir))) ||
	    (!o->tlskey && !(o->tlskey = str_printf("%s/key.pem", dir))))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
	cfg = (struct api_tls_config){
		.ca_file = o->tlscacert,
		.cert_file = o->tlscert,
		.key_file = o->tlskey,
		.verify = o->tlsverify,
	};
	return api_tls_new(&cfg, &o->tls_ctx, err);
}

/* Writes our pid to PATH, refusing when a live process holds it. */
static int pidfile_claim(const char *path, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	char buf[32];
	size_t len;
	int n;

	if (fs_read_file(path, 64, &text, &len, NULL) == 0) {
		long pid = strtol(text, NULL, 10);

		if (pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			return berr_set(err, BERR_CONFLICT, 0,
					"pid file found, ensure berthd is not running or delete %s",
					path);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create pid file %s", path);
	n = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		return berr_set(err, BERR_INTERNAL, errno, "write pid file %s", path);
	return 0;
}

/* The engine's ID, made once and kept in the data root. */
/* The program NAME next to berthd's own executable: the daemon and its
 * helpers are installed (and built) side by side. */
static char *sibling_program(const char *name)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return str_printf("/usr/local/bin/%s", name);
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	return str_printf("%s/%s", self, name);
}

static char *engine_id(const char *data_root)
{
	_cleanup_free_ char *path = str_printf("%s/engine-id", data_root);
	char *id = NULL;
	size_t len = 0;

	if (!path)
		return NULL;
	if (fs_read_file(path, 128, &id, &len, NULL) == 0 && len > 0) {
		id[strcspn(id, "\n")] = '\0';
		return id;
	}
	free(id);
	id = NULL;
	if (fs_read_file("/proc/sys/kernel/random/uuid", 128, &id, &len, NULL) < 0)
		return strdup("berth");
	id[strcspn(id, "\n")] = '\0';
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd >= 0) {
			if (write(fd, id, strlen(id)) < 0)
				blog_warn("write %s: %s", path, strerror(errno));
			close(fd);
		}
	}
	return id;
}

struct signals {
	uv_signal_t term, intr, hup;
	struct berthd *d;
	const char *config_file;
	bool stopping;
};

/* What is left of a stop once no container needs the loop any more. */
static void stop_finish(void *arg)
{
	struct signals *s = arg;

	/* With live restore, containers keep running under their shims. */
	berthd_containers_free(s->d);
	berthd_execs_free(s->d);
	berthd_health_free(s->d);
	berthd_events_close(s->d);
	berthd_logs_close(s->d);
	s->d->trim_ready = false;
	uv_close((uv_handle_t *)&s->d->trim, NULL);
	berthd_tidy_flush(s->d);
	uv_close((uv_handle_t *)&s->d->tidy_timer, NULL);
	uv_close((uv_handle_t *)&s->term, NULL);
	uv_close((uv_handle_t *)&s->intr, NULL);
	uv_close((uv_handle_t *)&s->hup, NULL);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct signals *s = h->data;

	if (s->stopping)
		return;
	s->stopping = true;
	blog_info("received %s, shutting down", strsignal(signum));
	api_server_stop(s->d->server);
	if (!s->d->live_restore && berthd_containers_stop_all(s->d, stop_finish, s)) {
		blog_info("live restore is off: stopping the containers first");
		return;
	}
	stop_finish(s);
}

static void on_hup(uv_signal_t *h, int signum)
{
	struct signals *s = h->data;
	struct options o = { 0 };
	struct berr *err = NULL;
	int level;

	if (config_load(s->config_file, false, &o, &err) < 0) {
		blog_error("reload: %s", err->msg);
		berr_free(err);
	} else if (o.log_level) {
		level = blog_level_parse(o.log_level);
		if (level < 0)
			blog_error("reload: invalid log level %s", o.log_level);
		else
			blog_set_level((enum blog_level)level);
		blog_info("reloaded the configuration: log level %s", o.log_level);
	}
	options_clear(&o);
}

static int run(struct options *o)
{
	struct berthd d = { 0 };
	struct signals sig = { 0 };
	struct berthd_engine *first = NULL;
	struct berr *err = NULL;
	enum runtime_cgroup_mode cgroup_mode;
	uv_loop_t loop;
	int status = 1;
	bool pidfile_ours = false;

	d.data_root = o->data_root;
	d.exec_root = o->exec_root;
	d.live_restore = o->live_restore;
	d.shim = sibling_program("berth-shim");
	d.started = time(NULL);
	/* A job streaming to a slow client (a tar, logs) blocks its pool
	 * thread: more than libuv's four. */
	setenv("UV_THREADPOOL_SIZE", "16", 0);
	/* One malloc arena: the pool threads' own arenas would each keep
	 * what they once held. */
	mallopt(M_ARENA_MAX, 1);
	/* The trim timer gives memory back once the jobs stop (engine.c); a
	 * free in between does not, nor does a large block go to mmap: each
	 * request's directory scans would otherwise shrink the heap and the
	 * next one fault the same pages in again. */
	mallopt(M_TRIM_THRESHOLD, MALLOC_KEEP_MAX);
	mallopt(M_MMAP_THRESHOLD, MALLOC_KEEP_MAX);
	pthread_mutex_init(&d.lock, NULL);
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "berthd: cannot start the event loop\n");
		return 1;
	}
	d.loop = &loop;
	if (fs_mkdir_p(o->exec_root, 0700, &err) < 0 || fs_mkdir_p(o->data_root, 0711, &err) < 0)
		goto out;
	if (pidfile_claim(o->pidfile, &err) < 0)
		goto out;
	pidfile_ours = true;
	if (runtime_cgroup_detect(RUNTIME_DEFAULT_CGROUP_ROOT, &cgroup_mode, NULL) == 0)
		d.cgroup_keeper =
			runtime_cgroup_keeper_new(RUNTIME_DEFAULT_CGROUP_ROOT, cgroup_mode);
	if (d.shim)
		d.shim_pool = daemon_shim_pool_new(d.shim, o->exec_root);
	/* The stores open now, so that a broken data root stops the start. */
	if (berthd_engine_get(&d, &first, &err) < 0)
		goto out;
	berthd_engine_put(&d, first);
	if (berthd_events_open(&d, &err) < 0)
		goto out;
	d.id = engine_id(o->data_root);
	if (!d.id) {
		berr_set(&err, BERR_INTERNAL, ENOMEM, "engine id");
		goto out;
	}
	if (api_server_new(&loop, routes, sizeof(routes) / sizeof(routes[0]),
			   "berth/" BERTH_VERSION " (linux)", &d, &d.server, &err) < 0)
		goto out;
	if (o->tls_ctx)
		api_server_set_tls(d.server, o->tls_ctx);
	for (size_t i = 0; o->hosts[i]; i++) {
		if (api_server_listen(d.server, o->hosts[i], &err) < 0) {
			api_server_stop(d.server);
			uv_run(&loop, UV_RUN_DEFAULT);
			goto out;
		}
		blog_info("API listen on %s", o->hosts[i]);
	}
	sig.d = &d;
	sig.config_file = o->config_file;
	uv_signal_init(&loop, &sig.term);
	uv_signal_init(&loop, &sig.intr);
	uv_signal_init(&loop, &sig.hup);
	sig.term.data = sig.intr.data = sig.hup.data = &sig;
	uv_signal_start(&sig.term, on_stop_signal, SIGTERM);
	uv_signal_start(&sig.intr, on_stop_signal, SIGINT);
	uv_signal_start(&sig.hup, on_hup, SIGHUP);
	uv_timer_init(&loop, &d.trim);
	d.trim.data = &d;
	uv_timer_init(&loop, &d.tidy_timer);
	d.tidy_timer.data = &d;
	d.trim_ready = true;
	berthd_containers_restore(&d);
	berthd_tidy(&d);
	blog_info("berthd %s started (data root %s)", BERTH_VERSION, o->data_root);
	uv_run(&loop, UV_RUN_DEFAULT);
	blog_info("berthd stopped");
	status = 0;
out:
	if (err) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		berr_free(err);
	}
	api_server_free(d.server);
	berthd_events_close(&d);
	berthd_engines_free(&d);
	runtime_cgroup_keeper_free(d.cgroup_keeper);
	daemon_shim_pool_free(d.shim_pool);
	free(d.shim);
	free(d.id);
	if (pidfile_ours)
		unlink(o->pidfile);
	uv_loop_close(&loop);
	pthread_mutex_destroy(&d.lock);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "data-root", required_argument, NULL, 'd' },
		{ "exec-root", required_argument, NULL, 'e' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "config-file", required_argument, NULL, 'c' },
		{ "live-restore", optional_argument, NULL, 'r' },
		{ "tls", optional_argument, NULL, 't' },
		{ "tlsverify", optional_argument, NULL, 'V' },
		{ "tlscacert", required_argument, NULL, 'A' },
		{ "tlscert", required_argument, NULL, 'C' },
		{ "tlskey", required_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Containers outlive the daemon unless told otherwise. */
	struct options o = { .live_restore = true };
	struct berr *err = NULL;
	int c, level, status;

	while ((c = getopt_long(argc, argv, "H:p:l:vh", opts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'H':
			rc = strv_append(&o.hosts, optarg);
			break;
		case 'd':
			rc = set_str(&o.data_root, optarg);
			break;
		case 'e':
			rc = set_str(&o.exec_root, optarg);
			break;
		case 'p':
			rc = set_str(&o.pidfile, optarg);
			break;
		case 'l':
			rc = set_str(&o.log_level, optarg);
			break;
		case 'c':
			rc = set_str(&o.config_file, optarg);
			o.config_given = true;
			break;
		case 'r':
			rc = parse_bool_flag("live-restore", optarg, &o.live_restore);
			o.live_restore_set = true;
			break;
		case 't':
			rc = parse_bool_flag("tls", optarg, &o.tls);
			o.tls_set = true;
			break;
		case 'V':
			rc = parse_bool_flag("tlsverify", optarg, &o.tlsverify);
			o.tlsverify_set = true;
			break;
		case 'A':
			rc = set_str(&o.tlscacert, optarg);
			break;
		case 'C':
			rc = set_str(&o.tlscert, optarg);
			break;
		case 'K':
			rc = set_str(&o.tlskey, optarg);
			break;
		case 'v':
			printf("berthd version %s, build %s\n", BERTH_VERSION, BERTH_COMMIT);
			options_clear(&o);
			return 0;
		case 'h':
			usage(stdout);
			options_clear(&o);
			return 0;
		default:
			usage(stderr);
			options_clear(&o);
			return 125;
		}
		if (rc < 0) {
			options_clear(&o);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "berthd: unexpected argument %s\n", argv[optind]);
		options_clear(&o);
		return 125;
	}
	if (!o.config_file && set_str(&o.config_file, DEFAULT_CONFIG_FILE) < 0)
		return 1;
	if (config_load(o.config_file, o.config_given, &o, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		berr_free(err);
		options_clear(&o);
		return 1;
	}
	if ((!o.hosts || !o.hosts[0]) && strv_append(&o.hosts, DEFAULT_HOST) < 0)
		return 1;
	if (tls_setup(&o, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		berr_free(err);
		options_clear(&o);
		return 1;
	}
	if ((!o.data_root && set_str(&o.data_root, IMAGE_STORE_DEFAULT_ROOT) < 0) ||
	    (!o.exec_root && set_str(&o.exec_root, DEFAULT_EXEC_ROOT) < 0) ||
	    (!o.pidfile && set_str(&o.pidfile, DEFAULT_PIDFILE) < 0))
		return 1;
	level = blog_level_parse(o.log_level ? o.log_level : "info");
	if (level < 0) {
		fprintf(stderr,
			"berthd: invalid log level \"%s\": use debug, info, warn or error\n",
			o.log_level);
		options_clear(&o);
		return 1;
	}
	if (blog_open(NULL, BLOG_FORMAT_TEXT, (enum blog_level)level, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		berr_free(err);
		options_clear(&o);
		return 1;
	}
	/* A client that goes away must not kill the daemon mid-write. */
	signal(SIGPIPE, SIG_IGN);
	status = run(&o);
	blog_close();
	options_clear(&o);
	return status;
}
