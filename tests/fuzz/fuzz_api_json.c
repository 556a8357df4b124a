/* Fuzz target for what berthd parses out of Engine API requests before it
 * touches any store: the events filters and timestamps, the HostConfig of
 * a create body, and the json-file log lines `docker logs` reads back.
 * The first byte picks the parser; any input must be taken or refused
 * with a message, with nothing leaked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/events.h"
#include "daemon/internal.h"
#include "lib/berr.h"
#include "lib/jsonlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void events_filters(const char *text)
{
	struct event_filters *f = NULL;
	struct berr *err = NULL;
	json_t *ev;

	if (event_filters_parse(text, &f, &err) < 0) {
		if (!err || !err->msg)
			__builtin_trap();
		berr_free(err);
		return;
	}
	ev = event_new("container", "exec_start: sh -c true", "abc",
		       json_pack("{s:s, s:s, s:s}", "name", "web", "image", "busybox:latest",
				 "tier", "front"),
		       1);
	event_filters_match(f, ev);
	json_decref(ev);
	event_filters_free(f);
}

static void host_config(const char *text, size_t len)
{
	json_t *given = json_loadb(text, len, 0, NULL);
	json_t *warnings = json_array();
	json_t *hc = NULL;
	struct berr *err = NULL;

	if (daemon_hostconfig_normalize(given, warnings, &hc, &err) < 0) {
		if (!err || !err->msg)
			__builtin_trap();
		berr_free(err);
	}
	json_decref(hc);
	json_decref(warnings);
	json_decref(given);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonlog_entry e = { 0 };
	struct berr *err = NULL;
	int64_t ns;
	char *text;

	if (size < 1)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	switch (data[0] % 4) {
	case 0:
		events_filters(text);
		break;
	case 1:
		if (event_time_parse(text, 1700000000000000000LL, &ns, &err) < 0)
			berr_free(err);
		break;
	case 2:
		host_config((const char *)data + 1, size - 1);
		break;
	default:
		if (jsonlog_decode((const char *)data + 1, size - 1, &e) == 0 && e.len && !e.data)
			__builtin_trap();
		jsonlog_entry_clear(&e);
		break;
	}
	free(text);
	return 0;
}
