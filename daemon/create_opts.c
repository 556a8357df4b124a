/* The body of Docker's `POST /containers/create` made from the daemon-less
 * options of struct daemon_create_opts.  Apart from create.c, as it needs
 * nothing but jansson: the berth client builds its create body with it
 * without linking the engine. */
#include <errno.h>

#include "daemon/container.h"
#include "lib/cleanup.h"
#include "lib/json.h"

json_t *daemon_create_opts_body(const struct daemon_create_opts *opts, struct berr **err)
{
	_cleanup_json_ json_t *body = NULL;

	/* What the docker CLI sends for `docker create` without flags, but
	 * the network: without berthd there is no bridge to join, and "none"
	 * (loopback only) says what the container gets. */
	body = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:{s:b, s:s, s:{s:s, s:i},"
			 " s:[], s:[], s:[], s:{}, s:[], s:[], s:[], s:[], s:[], s:[], s:[]},"
			 " s:{s:{}}}",
			 "Image", opts->image ? opts->image : "", "Hostname",
			 opts->hostname ? opts->hostname : "", "AttachStdin", 0, "AttachStdout", 1,
			 "AttachStderr", 1, "Tty", opts->tty, "OpenStdin", 0, "StdinOnce", 0,
			 "HostConfig", "AutoRemove", opts->auto_remove, "NetworkMode", "none",
			 "RestartPolicy", "Name", "no", "MaximumRetryCount", 0, "Dns", "DnsOptions",
			 "DnsSearch", "PortBindings", "Devices", "Ulimits", "BlkioWeightDevice",
			 "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
			 "BlkioDeviceWriteIOps", "NetworkingConfig", "EndpointsConfig");
	if (!body)
		goto nomem;
	if (opts->cmd && opts->cmd[0] &&
	    json_object_set_new(body, "Cmd", bjson_from_strv(opts->cmd)) < 0)
		goto nomem;
	/* `--entrypoint ""` is [""]: no entrypoint, and not the image's Cmd
	 * either. */
	if (opts->entrypoint &&
	    json_object_set_new(body, "Entrypoint", json_pack("[s]", opts->entrypoint)) < 0)
		goto nomem;
	if (opts->env && json_object_set_new(body, "Env", bjson_from_strv(opts->env)) < 0)
		goto nomem;
	if (opts->working_dir &&
	    json_object_set_new(body, "WorkingDir", json_string(opts->working_dir)) < 0)
		goto nomem;
	if (opts->user && json_object_set_new(body, "User", json_string(opts->user)) < 0)
		goto nomem;
	return steal_ptr(&body);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "create body");
	return NULL;
}
