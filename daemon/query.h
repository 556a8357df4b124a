/* Questions about containers in the Engine API's shapes: the list of
 * `docker ps` (GET /containers/json) with Docker's filters, and the words
 * Docker uses for a container's command and state. */
#ifndef BERTH_DAEMON_QUERY_H
#define BERTH_DAEMON_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "daemon/container.h"
#include "lib/berr.h"

/* Room for daemon_container_status_text(). */
#define DAEMON_STATUS_TEXT_SIZE 96

/* What GET /containers/json takes. */
struct daemon_list_opts {
	bool all;	     /* stopped containers too */
	long limit;	     /* > 0: the LIMIT newest, stopped ones too */
	bool size;	     /* SizeRw and SizeRootFs */
	const char *filters; /* the filters parameter as sent (JSON), or NULL */
};

/* The containers O selects, newest first, as the text of a JSON array of
 * Docker's container summaries (Id, Names, Image, ImageID, Command,
 * Created, Ports, Labels, State, Status, HostConfig, NetworkSettings,
 * Mounts, and SizeRw, SizeRootFs with size) ending in a newline, as Go's
 * encoder ends it: *out (new) holds *len bytes and a NUL.  Filters: id,
 * name, label, exited, status, ancestor, before, since, health, volume,
 * network, publish, expose, isolation, is-task.  No document is read: the
 * list works on the store's entries (store_container_entries()), and
 * looks at the process of a container recorded as running only to show
 * an end nobody recorded yet, as daemon_container_lookup() does.  Sets
 * BERR_INVALID with Docker's messages for a bad filter, BERR_NOT_FOUND
 * for before/since naming no container. */
int daemon_container_list_text(struct daemon *d, const struct daemon_list_opts *o, char **out,
			       size_t *len, struct berr **err);

/* The same list as a new JSON array. */
int daemon_container_list_json(struct daemon *d, const struct daemon_list_opts *o, json_t **out,
			       struct berr **err);

/* How many containers run, are paused and are stopped (any other state),
 * as the list shows them. */
int daemon_container_count(struct daemon *d, size_t *running, size_t *paused, size_t *stopped,
			   struct berr **err);

/* Docker's Command of a container: Path and Args, an argument holding a
 * space in single quotes.  The caller frees it; NULL when out of memory. */
char *daemon_container_command_line(const struct daemon_container *c);

/* Docker's Status words of C: "Up 5 minutes (healthy)", "Exited (0) 2
 * hours ago", "Created", "Up 3 seconds (Paused)", "Restarting (1) 2
 * seconds ago". */
void daemon_container_status_text(const struct daemon_container *c,
				  char out[DAEMON_STATUS_TEXT_SIZE]);

/* `docker stats` of C: a new object in Docker's stats shape from its
 * cgroup (memory, CPU with the host's CPU time, pids, blkio), with
 * PREVIOUS (an earlier sample; may be NULL) giving preread and
 * precpu_stats; Docker's zeroes when C does not run. */
int daemon_container_stats_json(struct daemon *d, const struct daemon_container *c,
				const json_t *previous, json_t **out, struct berr **err);

/* `docker top` of the running C: the host's `ps PS_ARGS` (NULL: -ef)
 * kept to C's processes, {"Titles": [...], "Processes": [[...]...]}.
 * Sets BERR_CONFLICT when C does not run, BERR_INVALID for ps arguments
 * ps refuses or output without a PID column. */
int daemon_container_top_json(struct daemon *d, const struct daemon_container *c,
			      const char *ps_args, json_t **out, struct berr **err);

#endif
