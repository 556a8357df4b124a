/* The system routes of the Engine API: GET/HEAD /_ping, GET /version and
 * GET /info, in the shapes Docker 20.10 gives them, so that `docker
 * version` and `docker info` print what they print against dockerd. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "berth-config.h"
#include "cmd/berthd/berthd.h"
#include "daemon/container.h"
#include "daemon/query.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"

void berthd_ping(struct api_request *req, void *ctx)
{
	api_request_add_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
	api_request_add_header(req, "Pragma", "no-cache");
	api_reply(req, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* Go's GOARCH for a uname machine. */
static const char *go_arch(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0)
		return "amd64";
	if (strcmp(machine, "aarch64") == 0)
		return "arm64";
	if (strncmp(machine, "arm", 3) == 0)
		return "arm";
	if (strcmp(machine, "i686") == 0 || strcmp(machine, "i386") == 0)
		return "386";
	return machine;
}

static const char *build_time(void)
{
	return __DATE__ " " __TIME__;
}

void berthd_version(struct api_request *req, void *ctx)
{
	_cleanup_json_ json_t *v = NULL;
	struct utsname u;

	uname(&u);
	v = json_pack("{s:{s:s},s:[{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}],"
		      "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		      "Platform", "Name", "berth Engine", "Components", "Name", "Engine", "Version",
		      BERTH_VERSION, "Details", "ApiVersion", API_VERSION, "Arch",
		      go_arch(u.machine), "BuildTime", build_time(), "Experimental", "false",
		      "GitCommit", BERTH_COMMIT, "GoVersion", "", "KernelVersion", u.release,
		      "MinAPIVersion", API_MIN_VERSION, "Version", BERTH_VERSION, "ApiVersion",
		      API_VERSION, "MinAPIVersion", API_MIN_VERSION, "GitCommit", BERTH_COMMIT,
		      "GoVersion", "", "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion",
		      u.release, "BuildTime", build_time());
	if (!v) {
		api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return;
	}
	json_object_set_new(
		json_object_get(json_array_get(json_object_get(v, "Components"), 0), "Details"),
		"Os", json_string("linux"));
	api_reply_json(req, 200, v);
}

/* The first line of PATH without its newline into BUF; "" when unreadable. */
static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* A value of /etc/os-release, unquoted, into BUF. */
static void os_release(const char *key, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
	char line[512];
	size_t klen = strlen(key);

	buf[0] = '\0';
	if (!f)
		f = fopen("/usr/lib/os-release", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v;
		size_t len;

		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		v = line + klen + 1;
		v[strcspn(v, "\n")] = '\0';
		len = strlen(v);
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
			v[len - 1] = '\0';
			v++;
		}
		snprintf(buf, size, "%s", v);
		return;
	}
}

static int count_fds(void)
{
	_cleanup_closedir_ DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	return n - 1; /* the directory's own fd */
}

static int info_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct berthd *d = job->d;
	struct store_image **images = NULL;
	size_t n_img = 0, running = 0, paused = 0, stopped = 0;
	char pretty[256], version[64], forward[16], host[256], now[64];
	struct utsname u;
	struct sysinfo si;
	struct statfs sfs;
	const char *cgroup = "1";
	json_t *v;

	if (daemon_container_count(e->engine, &running, &paused, &stopped, err) < 0)
		return -1;
	if (image_store_list(e->images, &images, &n_img, err) < 0)
		return -1;
	store_image_list_free(images, n_img);

	uname(&u);
	sysinfo(&si);
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		cgroup = "2";
	os_release("PRETTY_NAME", pretty, sizeof(pretty));
	os_release("VERSION_ID", version, sizeof(version));
	read_line("/proc/sys/net/ipv4/ip_forward", forward, sizeof(forward));
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	{
		struct timespec ts;
		struct tm tm;
		size_t len;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		len = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
		len += (size_t)snprintf(now + len, sizeof(now) - len, ".%09ld", ts.tv_nsec);
		strftime(now + len, sizeof(now) - len, "%z", &tm);
		/* Go's RFC 3339: +01:00, not +0100. */
		len = strlen(now);
		if (len > 2 && len + 2 < sizeof(now)) {
			memmove(now + len - 1, now + len - 2, 3);
			now[len - 2] = ':';
		}
	}

	v = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:s,s:[[s,s],[s,s],[s,s],[s,s]],"
		      "s:{s:[s],s:[s,s,s],s:[s,s],s:n},"
		      "s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,"
		      "s:i,s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s}",
		      "ID", d->id, "Containers", (int)(running + paused + stopped),
		      "ContainersRunning", (int)running, "ContainersPaused", (int)paused,
		      "ContainersStopped", (int)stopped, "Images", (int)n_img, "Driver", "overlay2",
		      "DriverStatus", "Backing Filesystem", "extfs", "Supports d_type", "true",
		      "Native Overlay Diff", "true", "userxattr", "false", "Plugins", "Volume",
		      "local", "Network", "bridge", "host", "none", "Log", "json-file", "local",
		      "Authorization", "MemoryLimit", true, "SwapLimit", cgroup[0] == '2',
		      "KernelMemory", false, "KernelMemoryTCP", false, "CpuCfsPeriod", true,
		      "CpuCfsQuota", true, "CPUShares", true, "CPUSet", true, "PidsLimit", true,
		      "IPv4Forwarding", strcmp(forward, "1") == 0, "BridgeNfIptables", false,
		      "BridgeNfIp6tables", false, "Debug", blog_get_level() >= BLOG_DEBUG, "NFd",
		      count_fds(), "NGoroutines", 0, "SystemTime", now, "LoggingDriver",
		      "json-file", "CgroupDriver", "cgroupfs", "CgroupVersion", cgroup,
		      "NEventsListener", 0, "KernelVersion", u.release, "OperatingSystem", pretty,
		      "OSVersion", version, "OSType", "linux", "Architecture", u.machine,
		      "IndexServerAddress", "https://index.docker.io/v1/");
	if (!v)
		return berr_set(err, BERR_INTERNAL, 0, "build info");
	json_object_set_new(v, "RegistryConfig",
			    json_pack("{s:[],s:[],s:[],s:{},s:[]}",
				      "AllowNondistributableArtifactsCIDRs",
				      "AllowNondistributableArtifactsHostnames",
				      "InsecureRegistryCIDRs", "IndexConfigs", "Mirrors"));
	json_object_set_new(v, "NCPU", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(v, "MemTotal", json_integer((json_int_t)si.totalram * si.mem_unit));
	json_object_set_new(v, "GenericResources", json_null());
	json_object_set_new(v, "DockerRootDir", json_string(d->data_root));
	json_object_set_new(v, "HttpProxy", json_string(""));
	json_object_set_new(v, "HttpsProxy", json_string(""));
	json_object_set_new(v, "NoProxy", json_string(""));
	json_object_set_new(v, "Name", json_string(host));
	json_object_set_new(v, "Labels", json_array());
	json_object_set_new(v, "ExperimentalBuild", json_false());
	json_object_set_new(v, "ServerVersion", json_string(BERTH_VERSION));
	json_object_set_new(v, "Runtimes", json_pack("{s:{s:s}}", "runc", "path", "berth-runc"));
	json_object_set_new(v, "DefaultRuntime", json_string("runc"));
	json_object_set_new(v, "Swarm",
			    json_pack("{s:s,s:s,s:s,s:s,s:b,s:n}", "NodeID", "", "NodeAddr", "",
				      "LocalNodeState", "inactive", "Error", "", "ControlAvailable",
				      0, "RemoteManagers"));
	json_object_set_new(v, "LiveRestoreEnabled", json_boolean(d->live_restore));
	json_object_set_new(v, "Isolation", json_string(""));
	json_object_set_new(v, "InitBinary", json_string("berth-init"));
	json_object_set_new(v, "ContainerdCommit",
			    json_pack("{s:s,s:s}", "ID", "", "Expected", ""));
	json_object_set_new(v, "RuncCommit", json_pack("{s:s,s:s}", "ID", "", "Expected", ""));
	json_object_set_new(v, "InitCommit", json_pack("{s:s,s:s}", "ID", "", "Expected", ""));
	json_object_set_new(v, "SecurityOptions", json_pack("[s]", "name=seccomp,profile=default"));
	json_object_set_new(v, "Warnings", json_array());
	job->result = v;
	return 0;
}

/* The clients following events are the loop's to count. */
static void info_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	json_object_set_new(job->result, "NEventsListener",
			    json_integer((json_int_t)berthd_events_listeners(job->d)));
	api_reply_json(job->req, 200, job->result);
}

void berthd_info(struct api_request *req, void *ctx)
{
	struct berthd_job *job = berthd_job_new(ctx, req, info_job, info_done);

	if (job)
		berthd_job_queue(job);
}
