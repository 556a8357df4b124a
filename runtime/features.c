/* The features document of the OCI runtime spec (`berth-runc features`):
 * what this runtime and this build understand, for callers that adapt. */
#include <jansson.h>

#include "berth-config.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

static const char *const mount_options[] = {
	"async",      "atime",	       "bind",	  "defaults", "dev",	     "diratime", "dirsync",
	"exec",	      "mand",	       "noatime", "nodev",    "nodiratime",  "noexec",	 "nomand",
	"norelatime", "nostrictatime", "nosuid",  "private",  "rbind",	     "relatime", "remount",
	"ro",	      "rprivate",      "rshared", "rslave",   "runbindable", "rw",	 "shared",
	"slave",      "strictatime",   "suid",	  "sync",     "unbindable",
};

static const char *const hooks[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static json_t *string_array(const char *const *items, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(items[i]));
	return arr;
}

json_t *runtime_features(void)
{
	json_t *namespaces = json_array();
	json_t *caps = json_array();

	for (int i = 0; namespaces && i < RUNTIME_NS_COUNT; i++)
		json_array_append_new(namespaces, json_string(runtime_ns_type_name(i)));
	for (int cap = 0; caps && runtime_cap_name(cap) != NULL; cap++)
		json_array_append_new(caps, json_string(runtime_cap_name(cap)));
	return json_pack(
		"{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:o, "
		"s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks",
		string_array(hooks, sizeof(hooks) / sizeof(hooks[0])), "mountOptions",
		string_array(mount_options, sizeof(mount_options) / sizeof(mount_options[0])),
		"linux", "namespaces", namespaces, "capabilities", caps, "cgroup", "v1", 1, "v2", 1,
		"systemd", 0, "systemdUser", 0, "seccomp", runtime_seccomp_features(), "apparmor",
		"enabled", 0, "selinux", "enabled", 0, "annotations", "io.berth.version",
		BERTH_VERSION);
}
