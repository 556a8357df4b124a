/* `docker create`: a container made from the body of Docker's `POST
 * /containers/create` (Config members at the top level, HostConfig,
 * NetworkingConfig): the body checked member by member, its HostConfig
 * kept in Docker's full inspect shape, its Config merged with the image's,
 * the container's directory and files written (hostname, hosts with
 * ExtraHosts, resolv.conf with Dns*) and its record stored.  The
 * daemon-less CLI's options become such a body, so that there is one way
 * in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/timefmt.h"

/* Longest host name the kernel takes (HOST_NAME_MAX). */
#define HOSTNAME_MAX 64

/* How many random names are tried before create gives up. */
#define NAME_ATTEMPTS 10

int daemon_set_init_path(struct daemon *d, const char *path, struct berr **err)
{
	if (path && strlen(path) >= sizeof(d->init_path))
		return berr_set(err, BERR_INVALID, ENAMETOOLONG, "init path %s", path);
	snprintf(d->init_path, sizeof(d->init_path), "%s", path ? path : "");
	return 0;
}

/* Docker's NetworkSettings of a container just created: the network its
 * mode names ("default" is the bridge), without addresses yet. */
static json_t *network_settings_json(const json_t *hc)
{
	const char *mode = daemon_hc_str(hc, "NetworkMode");
	const char *net = strcmp(mode, "default") == 0 ? "bridge" : mode;
	json_t *settings;

	settings = json_pack(
		"{s:s, s:s, s:b, s:s, s:i, s:{}, s:s, s:n, s:n, s:s, s:s, s:s, s:i, s:s,"
		" s:i, s:s, s:s, s:{s:{s:n, s:n, s:n, s:s, s:s, s:s, s:s, s:i, s:s, s:s,"
		" s:i, s:s, s:n}}}",
		"Bridge", "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address", "",
		"LinkLocalIPv6PrefixLen", 0, "Ports", "SandboxKey", "", "SecondaryIPAddresses",
		"SecondaryIPv6Addresses", "EndpointID", "", "Gateway", "", "GlobalIPv6Address", "",
		"GlobalIPv6PrefixLen", 0, "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
		"MacAddress", "", "Networks", net, "IPAMConfig", "Links", "Aliases", "NetworkID",
		"", "EndpointID", "", "Gateway", "", "IPAddress", "", "IPPrefixLen", 0,
		"IPv6Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress",
		"", "DriverOpts");
	/* In another container's network, it is on none of its own. */
	if (settings && str_has_prefix(mode, "container:"))
		json_object_set_new(settings, "Networks", json_object());
	return settings;
}

/* The document of a new container, in Docker's inspect order. */
static json_t *new_doc(const char *id, const char *created, const char *path, json_t *args,
		       const char *image_id, json_t *config, json_t *hc, json_t *mounts)
{
	return json_pack("{s:s, s:s, s:s, s:O, s:o, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:n,"
			 " s:O, s:O, s:O, s:o}",
			 "Id", id, "Created", created, "Path", path, "Args", args, "State",
			 daemon_state_new(), "Image", image_id, "Name", "", "RestartCount", 0,
			 "Driver", "overlay2", "Platform", "linux", "MountLabel", "",
			 "ProcessLabel", "", "AppArmorProfile", "", "ExecIDs", "HostConfig", hc,
			 "Mounts", mounts, "Config", config, "NetworkSettings",
			 network_settings_json(hc));
}

/* Records C's row, trying new random names while they collide when the
 * caller gave none. */
static int record(struct daemon *d, struct daemon_container *c, const char *given_name,
		  struct berr **err)
{
	for (unsigned attempt = 0;; attempt++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *text = NULL;
		_cleanup_berr_ struct berr *aerr = NULL;
		struct store_container rec;

		name = given_name ? strdup(given_name[0] == '/' ? given_name + 1 : given_name)
				  : daemon_name_generate(attempt);
		if (!name)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container name");
		free(c->name);
		c->name = str_printf("/%s", name);
		if (!c->name || json_object_set_new(c->doc, "Name", json_string(c->name)) < 0 ||
		    !(text = jsontext_dump(c->doc)))
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
		rec = (struct store_container){ .id = c->id,
						.name = name,
						.image_id = c->image_id,
						.created = c->created,
						.doc = text };
		if (store_container_add(d->db, &rec, &aerr) == 0)
			return 0;
		if (given_name || aerr->kind != BERR_CONFLICT || attempt + 1 == NAME_ATTEMPTS) {
			berr_move(err, &aerr);
			return -1;
		}
	}
}

/* Reads DIR/NAME (or the host's file HOST_PATH when given). */
static int read_text(const char *dir, const char *name, const char *host_path, char **out,
		     struct berr **err)
{
	_cleanup_free_ char *path = host_path ? strdup(host_path) : str_printf("%s/%s", dir, name);
	size_t len;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container file %s", name);
	return fs_read_file(path, DAEMON_ETC_FILE_MAX, out, &len, err);
}

/* resolv.conf with the Dns, DnsSearch and DnsOptions of HC replacing the
 * lines of BASE they concern (libnetwork's resolvconf.Build). */
static char *resolv_with(const char *base, const json_t *hc)
{
	const json_t *dns = json_object_get(hc, "Dns");
	const json_t *search = json_object_get(hc, "DnsSearch");
	const json_t *options = json_object_get(hc, "DnsOptions");
	_cleanup_free_ char *copy = strdup(base);
	char *out = NULL, *save = NULL;
	size_t size = 0, i;
	json_t *e;
	FILE *f;

	if (!copy || !(f = open_memstream(&out, &size)))
		return NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line + strspn(line, " \t");

		if ((json_array_size(dns) && str_has_prefix(p, "nameserver")) ||
		    (json_array_size(search) &&
		     (str_has_prefix(p, "search") || str_has_prefix(p, "domain"))) ||
		    (json_array_size(options) && str_has_prefix(p, "options")))
			continue;
		fprintf(f, "%s\n", line);
	}
	json_array_foreach (dns, i, e)
		fprintf(f, "nameserver %s\n", json_string_value(e));
	if (json_array_size(search)) {
		fputs("search", f);
		json_array_foreach (search, i, e)
			fprintf(f, " %s", json_string_value(e));
		fputs("\n", f);
	}
	if (json_array_size(options)) {
		fputs("options", f);
		json_array_foreach (options, i, e)
			fprintf(f, " %s", json_string_value(e));
		fputs("\n", f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int daemon_files_apply_hostconfig(const char *dir, const json_t *hc, struct berr **err)
{
	bool host_net = strcmp(daemon_hc_str(hc, "NetworkMode"), "host") == 0;
	const json_t *extra = json_object_get(hc, "ExtraHosts");
	_cleanup_free_ char *hosts = NULL, *resolv = NULL, *new_resolv = NULL;
	char *out = NULL;
	size_t size = 0, i;
	json_t *e;
	FILE *f;
	int r;

	/* Nothing of HC's to add: the files stay as daemon_files_write()
	 * made them. */
	if (!host_net && json_array_size(extra) == 0 &&
	    json_array_size(json_object_get(hc, "Dns")) == 0 &&
	    json_array_size(json_object_get(hc, "DnsSearch")) == 0 &&
	    json_array_size(json_object_get(hc, "DnsOptions")) == 0)
		return 0;
	/* The host's network: the host's own files, as the host resolves
	 * names (loopback servers included). */
	if (host_net) {
		_cleanup_berr_ struct berr *rerr = NULL;

		if (read_text(dir, DAEMON_FILE_HOSTS, "/etc/hosts", &hosts, &rerr) < 0 &&
		    !(hosts = strdup("127.0.0.1\tlocalhost\n")))
			return berr_set(err, BERR_INTERNAL, ENOMEM, "hosts");
		berr_clear(&rerr);
		if (read_text(dir, DAEMON_FILE_RESOLV, "/etc/resolv.conf", &resolv, &rerr) < 0 &&
		    !(resolv = strdup("")))
			return berr_set(err, BERR_INTERNAL, ENOMEM, "resolv.conf");
	} else if (read_text(dir, DAEMON_FILE_HOSTS, NULL, &hosts, err) < 0 ||
		   read_text(dir, DAEMON_FILE_RESOLV, NULL, &resolv, err) < 0) {
		return -1;
	}
	f = open_memstream(&out, &size);
	if (!f)
		return berr_set(err, BERR_INTERNAL, errno, "hosts");
	fputs(hosts, f);
	if (*hosts && hosts[strlen(hosts) - 1] != '\n')
		fputs("\n", f);
	json_array_foreach (extra, i, e) {
		_cleanup_free_ char *buf = NULL;
		const char *name, *ip;

		if (daemon_extra_host_split(json_string_value(e), &buf, &name, &ip, NULL) == 0)
			fprintf(f, "%s\t%s\n", ip, name);
	}
	if (fclose(f) != 0) {
		free(out);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "hosts");
	}
	r = daemon_file_write(dir, DAEMON_FILE_HOSTS, out, err);
	free(out);
	if (r < 0)
		return -1;
	new_resolv = resolv_with(resolv, hc);
	if (!new_resolv)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "resolv.conf");
	return daemon_file_write(dir, DAEMON_FILE_RESOLV, new_resolv, err);
}

/* The spare's empty log (see daemon_tidy()), when the directory in DIR
 * was the spare, becomes the log of container ID, made ahead like its
 * other files; one whose log driver is "none" has none. */
static void take_spare_log(const char *dir, const char *id, const json_t *hc)
{
	const char *type =
		json_string_value(json_object_get(json_object_get(hc, "LogConfig"), "Type"));
	_cleanup_free_ char *spare = str_printf("%s/" DAEMON_FILE_SPARE_LOG, dir);
	_cleanup_free_ char *log = daemon_container_log_path(dir, id);

	if (!spare || !log)
		return;
	if (type && strcmp(type, "none") == 0)
		unlink(spare);
	else
		rename(spare, log);
}

/* The container's host name: the body's, the host's own for the host's
 * network, or the first 12 hex digits of the id. */
static void host_name_of(const json_t *body, const json_t *hc, const char *id,
			 char out[HOSTNAME_MAX + 1])
{
	const char *given = json_string_value(json_object_get(body, "Hostname"));

	if (given && *given) {
		snprintf(out, HOSTNAME_MAX + 1, "%s", given);
		return;
	}
	if (strcmp(daemon_hc_str(hc, "NetworkMode"), "host") == 0 &&
	    gethostname(out, HOSTNAME_MAX + 1) == 0 && out[0]) {
		out[HOSTNAME_MAX] = '\0';
		return;
	}
	snprintf(out, HOSTNAME_MAX + 1, "%.12s", id);
}

/* Checks what the body holds beside Config and HostConfig. */
static int check_body(const json_t *body, const char *name, struct berr **err)
{
	const char *image = NULL, *hostname = NULL;
	json_t *nc = NULL;

	if (bjson_as_object(body, NULL, err) < 0 || daemon_config_check(body, err) < 0 ||
	    bjson_get_object(body, NULL, "NetworkingConfig", BJSON_OPTIONAL, &nc, err) < 0)
		return -1;
	bjson_get_string(body, NULL, "Image", BJSON_OPTIONAL, &image, NULL);
	bjson_get_string(body, NULL, "Hostname", BJSON_OPTIONAL, &hostname, NULL);
	if (!image || !*image)
		return berr_set(err, BERR_INVALID, 0,
				"Config cannot be empty in order to create a container");
	if (name && daemon_name_validate(name, err) < 0)
		return -1;
	if (hostname && strlen(hostname) > HOSTNAME_MAX)
		return berr_set(err, BERR_INVALID, 0, "invalid hostname \"%s\": longer than %d",
				hostname, HOSTNAME_MAX);
	return 0;
}

int daemon_container_create_api(struct daemon *d, const char *name, const json_t *body,
				struct daemon_container **out, json_t **warnings_out,
				struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_json_ json_t *config = NULL, *args = NULL, *hc = NULL, *warnings = json_array();
	_cleanup_json_ json_t *oci_mounts = NULL, *mounts = NULL;
	_cleanup_strv_ char **volumes_made = NULL, **volumes_named = NULL;
	_cleanup_free_ char *path = NULL;
	char id[DAEMON_ID_SIZE], hostname[HOSTNAME_MAX + 1], created[TIME_RFC3339_SIZE];
	struct timespec now;

	if (!warnings)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create container");
	/* A start usually follows: its first move waits for nothing then. */
	daemon_cgroup_move_ahead(d);
	if (check_body(body, name, err) < 0 ||
	    daemon_hostconfig_normalize(json_object_get(body, "HostConfig"), warnings, &hc, err) <
		    0 ||
	    daemon_hostconfig_mounts(hc, &oci_mounts, &mounts, err) < 0 ||
	    daemon_volumes_from(d, hc, oci_mounts, mounts, err) < 0)
		return -1;
	if (str_has_prefix(daemon_hc_str(hc, "NetworkMode"), "container:") &&
	    *(json_string_value(json_object_get(body, "Hostname")) ?: ""))
		return berr_set(err, BERR_INVALID, 0,
				"conflicting options: hostname and the network mode");
	if (image_store_lookup(d->images, json_string_value(json_object_get(body, "Image")), &img,
			       err) < 0 ||
	    image_store_config(img, &cfg, err) < 0)
		return -1;
	if (daemon_id_generate(id, err) < 0)
		return -1;
	host_name_of(body, hc, id, hostname);
	if (daemon_config_merge(&cfg->config, body, hostname, &config, &path, &args, err) < 0 ||
	    daemon_volumes_resolve(d, config, oci_mounts, mounts, &volumes_made, &volumes_named,
				   err) < 0)
		return -1;

	clock_gettime(CLOCK_REALTIME, &now);
	time_format_rfc3339(&now, created);
	c = calloc(1, sizeof(*c));
	if (c)
		c->waiter_fd = -1;
	if (!c || !(c->id = strdup(id)) || !(c->image_id = strdup(img->id)) ||
	    !(c->doc = new_doc(id, created, path, args, img->id, config, hc, mounts))) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "create container");
		goto undo_volumes;
	}
	c->created = now.tv_sec;

	/* The directories first: a recorded container always has them. */
	if (image_container_dirs_create(d->containers_root, id, &dirs, err) < 0) {
		berr_prefix(err, "create container");
		goto undo_volumes;
	}
	d->spare_taken = true;
	take_spare_log(dirs->dir, id, hc);
	if (daemon_files_write(dirs->dir, hostname, NULL, err) < 0 ||
	    daemon_files_apply_hostconfig(dirs->dir, hc, err) < 0 ||
	    daemon_volumes_fill(d, c, err) < 0 || record(d, c, name, err) < 0) {
		image_container_dirs_remove(d->containers_root, id, NULL);
		goto undo_volumes;
	}
	c->volumes_named = steal_ptr(&volumes_named);
	*out = steal_ptr(&c);
	if (warnings_out)
		*warnings_out = steal_ptr(&warnings);
	return 0;
undo_volumes:
	daemon_volumes_undo(d, volumes_made);
	return -1;
}

int daemon_container_create(struct daemon *d, const struct daemon_create_opts *opts,
			    struct daemon_container **out, struct berr **err)
{
	_cleanup_json_ json_t *body = NULL;

	if (!opts->image || !*opts->image)
		return berr_set(err, BERR_INVALID, 0, "no image given");
	body = daemon_create_opts_body(opts, err);
	if (!body)
		return -1;
	return daemon_container_create_api(d, opts->name, body, out, NULL, err);
}
