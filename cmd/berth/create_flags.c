/* The flags of run and create, as both of berth's programs parse them (the
 * client and the daemon-less berth-local), and the Engine API create body
 * they make: Docker's flags, messages and exit status 125. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/berth/cli.h"
#include "daemon/container.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* docker run's status for its own errors, before the container ran. */
#define RUN_ERROR_STATUS 125

void create_flags_clear(struct create_flags *f)
{
	strv_free(f->env);
	strv_free(f->cap_add);
	strv_free(f->cap_drop);
	strv_free(f->security_opt);
	strv_free(f->binds);
	strv_free(f->tmpfs);
	strv_free(f->env_file);
	json_decref(f->more_config);
	json_decref(f->more_host);
}

static int create_usage(const char *command)
{
	bool run = strcmp(command, "run") == 0;

	printf("\nUsage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n%s\n\nOptions:\n", command,
	       run ? "Create and run a new container from an image" : "Create a new container");
	printf("      --add-host list             Add a custom host-to-IP mapping (host:ip)\n"
	       "      --cap-add list              Add Linux capabilities\n"
	       "      --cap-drop list             Drop Linux capabilities\n"
	       "      --cgroupns string           Cgroup namespace to use (host|private)\n"
	       "  -c, --cpu-shares int            CPU shares (relative weight)\n"
	       "      --cpus decimal              Number of CPUs\n"
	       "      --cpuset-cpus string        CPUs in which to allow execution (0-3, 0,1)\n");
	if (run)
		printf("  -d, --detach                    Run container in background and print "
		       "container ID\n");
	printf("      --detach-keys string        Override the key sequence for detaching a "
	       "container\n"
	       "      --device list               Add a host device to the container\n"
	       "      --dns list                  Set custom DNS servers\n"
	       "      --entrypoint string         Overwrite the default ENTRYPOINT of the image\n"
	       "  -e, --env list                  Set environment variables\n"
	       "      --env-file list             Read in a file of environment variables\n"
	       "      --health-cmd string         Command to run to check health\n"
	       "      --health-interval duration  Time between running the check (ms|s|m|h)\n"
	       "      --health-retries int        Consecutive failures needed to report "
	       "unhealthy\n"
	       "      --health-start-period duration  Start period for the container to "
	       "initialize before starting health-retries countdown (ms|s|m|h)\n"
	       "      --health-timeout duration   Maximum time to allow one check to run "
	       "(ms|s|m|h)\n"
	       "  -h, --hostname string           Container host name\n"
	       "      --init                      Run an init inside the container that forwards "
	       "signals and reaps processes\n"
	       "  -i, --interactive               Keep STDIN open even if not attached\n"
	       "      --ipc string                IPC mode to use\n"
	       "  -l, --label list                Set meta data on a container\n"
	       "      --label-file list           Read in a line delimited file of labels\n"
	       "      --link list                 Add link to another container\n"
	       "  -m, --memory bytes              Memory limit\n"
	       "      --memory-swap bytes         Swap limit equal to memory plus swap: '-1' to "
	       "enable unlimited swap\n"
	       "      --mount mount               Attach a filesystem mount to the container\n"
	       "      --name string               Assign a name to the container\n"
	       "      --network string            Connect a container to a network (none, host, "
	       "bridge)\n"
	       "      --no-healthcheck            Disable any container-specified HEALTHCHECK\n"
	       "      --oom-kill-disable          Disable OOM Killer\n"
	       "      --pid string                PID namespace to use\n"
	       "      --pids-limit int            Tune container pids limit (set -1 for "
	       "unlimited)\n"
	       "      --privileged                Give extended privileges to this container\n"
	       "  -p, --publish list              Publish a container's port(s) to the host\n"
	       "  -P, --publish-all               Publish all exposed ports to random ports\n"
	       "      --read-only                 Mount the container's root filesystem as read "
	       "only\n"
	       "      --restart string            Restart policy to apply when a container exits "
	       "(default \"no\")\n"
	       "      --rm                        Automatically remove the container when it "
	       "exits\n"
	       "      --security-opt list         Security Options\n");
	if (run)
		printf("      --sig-proxy                 Proxy received signals to the process "
		       "(default true)\n");
	printf("      --stop-signal string        Signal to stop the container\n"
	       "      --stop-timeout int          Timeout (in seconds) to stop a container\n"
	       "      --tmpfs list                Mount a tmpfs directory\n"
	       "  -t, --tty                       Allocate a pseudo-TTY\n"
	       "      --ulimit ulimit             Ulimit options\n"
	       "  -u, --user string               Username or UID (format: "
	       "<name|uid>[:<group|gid>])\n"
	       "      --uts string                UTS namespace to use\n"
	       "  -v, --volume list               Bind mount a volume\n"
	       "      --volumes-from list         Mount volumes from the specified container(s)\n"
	       "  -w, --workdir string            Working directory inside the container\n");
	return 0;
}

/* "KEY" alone takes berth's own value of KEY, as the docker CLI does. */
static int add_env(struct create_flags *f, const char *e)
{
	const char *v = strchr(e, '=') ? NULL : getenv(e);
	_cleanup_free_ char *kv = v ? str_printf("%s=%s", e, v) : NULL;

	return strv_append(&f->env, kv ? kv : e);
}

/* Appends NAME as the docker CLI sends it: "CAP_" and upper case, but
 * "ALL". */
static int add_cap(char ***list, const char *name)
{
	bool all = strcasecmp(name, "ALL") == 0;
	_cleanup_free_ char *s =
		str_printf("%s%s", all || strncasecmp(name, "CAP_", 4) == 0 ? "" : "CAP_", name);

	if (!s)
		return -1;
	for (char *p = s; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return strv_append(list, s);
}

/* "64m", "1g", "1048576": the docker CLI's memory sizes (units.RAMInBytes). */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	double v;
	int64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'b':
	case 'B':
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end && *end != 'b' && *end != 'B')
		end++;
	if ((*end == 'b' || *end == 'B') && end[1] == '\0')
		end++;
	if (*end)
		return -1;
	*out = (int64_t)(v * (double)mult);
	return 0;
}

/* The create body of F: its options, then the HostConfig members of its
 * flags.  NULL (reported) on failure. */
json_t *create_body(const char *command, const struct create_flags *f)
{
	struct berr *err = NULL;
	json_t *body = daemon_create_opts_body(&f->opts, &err);
	json_t *hc = json_object_get(body, "HostConfig");
	int64_t memory = 0;
	bool ok = true;

	if (!body) {
		cli_report(err);
		return NULL;
	}
	if (f->memory && parse_bytes(f->memory, &memory) < 0) {
		cli_flag_value_error(command,
				     "invalid argument \"%s\" for \"-m, --memory\" flag: invalid "
				     "size: '%s'",
				     f->memory, f->memory);
		json_decref(body);
		return NULL;
	}
	if (f->cap_add)
		ok &= json_object_set_new(hc, "CapAdd", bjson_from_strv(f->cap_add)) == 0;
	if (f->cap_drop)
		ok &= json_object_set_new(hc, "CapDrop", bjson_from_strv(f->cap_drop)) == 0;
	if (f->security_opt)
		ok &= json_object_set_new(hc, "SecurityOpt", bjson_from_strv(f->security_opt)) == 0;
	/* As docker's: "-v /path" alone asks for a volume berth names, a
	 * member of Config.Volumes; "src:dst[:mode]" is a bind. */
	for (size_t i = 0; f->binds && f->binds[i]; i++) {
		const char *spec = f->binds[i];
		json_t *binds = json_object_get(hc, "Binds");
		json_t *volumes = json_object_get(body, "Volumes");

		if (!strchr(spec, ':')) {
			if (!json_is_object(volumes))
				ok &= json_object_set_new(body, "Volumes",
							  volumes = json_object()) == 0;
			ok &= json_object_set_new(volumes, spec, json_object()) == 0;
			continue;
		}
		if (!json_is_array(binds))
			ok &= json_object_set_new(hc, "Binds", binds = json_array()) == 0;
		ok &= json_array_append_new(binds, json_string(spec)) == 0;
	}
	if (f->memory)
		ok &= json_object_set_new(hc, "Memory", json_integer(memory)) == 0;
	if (f->network)
		ok &= json_object_set_new(hc, "NetworkMode", json_string(f->network)) == 0;
	if (f->read_only)
		ok &= json_object_set_new(hc, "ReadonlyRootfs", json_true()) == 0;
	if (f->privileged)
		ok &= json_object_set_new(hc, "Privileged", json_true()) == 0;
	if (f->init)
		ok &= json_object_set_new(hc, "Init", json_true()) == 0;
	if (f->tmpfs) {
		json_t *t = json_object();

		/* "/run:rw,size=64m": the path, then its mount options. */
		for (size_t i = 0; t && f->tmpfs[i]; i++) {
			_cleanup_free_ char *path = strdup(f->tmpfs[i]);
			char *colon = path ? strchr(path, ':') : NULL;

			if (colon)
				*colon++ = '\0';
			ok &= path &&
			      json_object_set_new(t, path, json_string(colon ? colon : "")) == 0;
		}
		ok &= json_object_set_new(hc, "Tmpfs", t) == 0;
	}
	if (ok)
		ok &= create_more_merge(f, body) == 0;
	if (!ok) {
		berr_set(&err, BERR_INTERNAL, ENOMEM, "create body");
		cli_report(err);
		json_decref(body);
		return NULL;
	}
	return body;
}

/* Parses the flags of run and create; returns -1 when the command goes on
 * (IMAGE at argv[optind]), else the status to leave with. */
int parse_create(const char *command, int argc, char **argv, struct create_flags *f)
{
	enum {
		OPT_NAME = 256,
		OPT_RM,
		OPT_ENTRYPOINT,
		OPT_CAP_ADD,
		OPT_CAP_DROP,
		OPT_SECURITY_OPT,
		OPT_READ_ONLY,
		OPT_INIT,
		OPT_TMPFS,
		OPT_NETWORK,
		OPT_PRIVILEGED,
		OPT_DETACH_KEYS,
		OPT_SIG_PROXY,
		OPT_HELP
	};
	static const struct option opts[] = {
		{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
		{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
		{ "detach", no_argument, NULL, 'd' },
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "env", required_argument, NULL, 'e' },
		{ "hostname", required_argument, NULL, 'h' },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "interactive", no_argument, NULL, 'i' },
		{ "memory", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "net", required_argument, NULL, OPT_NETWORK },
		{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
		{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "volume", required_argument, NULL, 'v' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool run = strcmp(command, "run") == 0;
	const char *shortopts = run ? "+de:h:im:tu:v:w:p:Pl:c:" : "+e:h:im:tu:v:w:p:Pl:c:";
	struct option all[sizeof(opts) / sizeof(opts[0]) + 40];
	size_t n_all = 0;
	int c, r = 0;

	for (size_t i = 0; opts[i].name; i++)
		all[n_all++] = opts[i];
	for (size_t i = 0; create_more_opts[i].name && n_all + 1 < sizeof(all) / sizeof(all[0]);
	     i++)
		all[n_all++] = create_more_opts[i];
	all[n_all] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0; /* the errors are docker's, below */
	while ((c = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!run)
				return cli_usage_error(command, "unknown flag: --detach");
			f->detach = true;
			break;
		case OPT_ENTRYPOINT:
			f->opts.entrypoint = optarg;
			break;
		case 'e':
			r = add_env(f, optarg);
			break;
		case 'h':
			f->opts.hostname = optarg;
			break;
		case 'i':
			f->interactive = true;
			break;
		case 'm':
			f->memory = optarg;
			break;
		case OPT_NAME:
			f->opts.name = optarg;
			break;
		case OPT_RM:
			f->opts.auto_remove = true;
			break;
		case 't':
			f->opts.tty = true;
			break;
		case 'u':
			f->opts.user = optarg;
			break;
		case 'v':
			r = strv_append(&f->binds, optarg);
			break;
		case 'w':
			f->opts.working_dir = optarg;
			break;
		case OPT_CAP_ADD:
			r = add_cap(&f->cap_add, optarg);
			break;
		case OPT_CAP_DROP:
			r = add_cap(&f->cap_drop, optarg);
			break;
		case OPT_SECURITY_OPT:
			r = strv_append(&f->security_opt, optarg);
			break;
		case OPT_TMPFS:
			r = strv_append(&f->tmpfs, optarg);
			break;
		case OPT_READ_ONLY:
			f->read_only = true;
			break;
		case OPT_INIT:
			f->init = true;
			break;
		case OPT_NETWORK:
			f->network = optarg;
			break;
		case OPT_PRIVILEGED:
			f->privileged = true;
			break;
		case OPT_DETACH_KEYS:
			f->detach_keys = optarg;
			break;
		case OPT_SIG_PROXY:
			if (!run)
				return cli_usage_error(command, "unknown flag: --sig-proxy");
			f->no_sig_proxy = optarg && strcmp(optarg, "false") == 0;
			break;
		case OPT_HELP:
			return create_usage(command);
		default:
			r = create_more_flag(f, command, c, optarg);
			if (r == 1)
				return cli_flag_error(command, argv, shortopts);
			if (r > 0)
				return r;
		}
		if (r < 0)
			return RUN_ERROR_STATUS;
	}
	if (optind >= argc)
		return cli_usage_error(command, "requires at least 1 argument.");
	r = create_more_finish(f, command);
	if (r > 0)
		return r;
	f->opts.image = argv[optind];
	f->opts.cmd = argv + optind + 1;
	f->opts.env = f->env;
	return -1;
}
