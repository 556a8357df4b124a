/* The "State" object of a container's document, changed as Docker's
 * container/state.go changes it: what running, exiting and a failed start
 * set and what they keep. */
#include <string.h>

#include "daemon/internal.h"
#include "lib/timefmt.h"

json_t *daemon_state_new(void)
{
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
			 "created", "Running", 0, "Paused", 0, "Restarting", 0, "OOMKilled", 0,
			 "Dead", 0, "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt",
			 DAEMON_ZERO_TIME, "FinishedAt", DAEMON_ZERO_TIME);
}

/* The State of DOC, made when missing (a document written by hand). */
static json_t *state_of(json_t *doc)
{
	json_t *state = json_object_get(doc, "State");

	if (!json_is_object(state)) {
		state = daemon_state_new();
		if (!state || json_object_set_new(doc, "State", state) < 0)
			return NULL;
	}
	return state;
}

/* Jansson's setters fail only without memory; the document then keeps its
 * previous value, which is still a valid State. */
static void set(json_t *state, const char *key, json_t *value)
{
	json_object_set_new(state, key, value);
}

void daemon_state_set_created(json_t *doc)
{
	json_t *state = state_of(doc);

	if (!state)
		return;
	set(state, "Status", json_string("created"));
	set(state, "Running", json_false());
	set(state, "Pid", json_integer(0));
}

void daemon_state_set_running(json_t *doc, pid_t pid, const char *started)
{
	json_t *state = state_of(doc);

	if (!state)
		return;
	/* FinishedAt keeps the end of the previous run, as in Docker. */
	set(state, "Status", json_string("running"));
	set(state, "Running", json_true());
	set(state, "Paused", json_false());
	set(state, "Restarting", json_false());
	set(state, "OOMKilled", json_false());
	set(state, "Dead", json_false());
	set(state, "Pid", json_integer(pid));
	set(state, "ExitCode", json_integer(0));
	set(state, "Error", json_string(""));
	set(state, "StartedAt", json_string(started));
}

void daemon_state_set_exited(json_t *doc, int exit_code, bool oom_killed, const char *finished)
{
	json_t *state = state_of(doc);
	char now[TIME_RFC3339_SIZE];

	if (!state)
		return;
	if (!finished) {
		time_now_rfc3339(now);
		finished = now;
	}
	set(state, "Status", json_string("exited"));
	set(state, "Running", json_false());
	set(state, "Paused", json_false());
	set(state, "Restarting", json_false());
	set(state, "OOMKilled", json_boolean(oom_killed));
	set(state, "Pid", json_integer(0));
	set(state, "ExitCode", json_integer(exit_code));
	set(state, "FinishedAt", json_string(finished));
}

void daemon_state_set_error(json_t *doc, const char *msg, int exit_code)
{
	json_t *state = state_of(doc);

	if (!state)
		return;
	set(state, "Error", json_string(msg ? msg : ""));
	set(state, "ExitCode", json_integer(exit_code));
	set(state, "Pid", json_integer(0));
	set(state, "Running", json_false());
}
