/* The fields of docker 28's inspect structs that a template can tell
 * from the raw JSON: those the daemon omits when empty (omitempty), the
 * maps, slices and pointers, and, for the small structs a template
 * prints whole, every field in Go's order. */
#include <stddef.h>

#include "cmd/berth/template_types.h"

#define T(name, kind) static const struct tmpl_type name = { kind, NULL, NULL, false, false, NULL }
#define T_OF(name, kind, elem) \
	static const struct tmpl_type name = { kind, &elem, NULL, false, false, NULL }
#define STRUCT(name, fields, complete) \
	static const struct tmpl_type name = { TMPL_STRUCT, NULL, fields, complete, false, NULL }
/* A map keyed by nat.Port. */
#define PORT_MAP(name, elem) \
	static const struct tmpl_type name = { TMPL_MAP, &elem, NULL, false, true, NULL }

T(t_string, TMPL_STRING);
T(t_int, TMPL_INT);
T(t_bool, TMPL_BOOL);
T(t_time, TMPL_TIME);
T(t_duration, TMPL_DURATION);
T(t_empty, TMPL_EMPTY);
/* A slice of values the templates need not tell apart. */
static const struct tmpl_type t_slice = { TMPL_SLICE, NULL, NULL, false, false, NULL };
PORT_MAP(t_port_set, t_empty);
T_OF(t_int_p, TMPL_PTR, t_int);
T_OF(t_bool_p, TMPL_PTR, t_bool);
T_OF(t_strings, TMPL_SLICE, t_string);
T_OF(t_ints, TMPL_SLICE, t_int);
T_OF(t_string_map, TMPL_MAP, t_string);
T_OF(t_set, TMPL_MAP, t_empty);

/* An OCI descriptor; only pointed to. */
static const struct tmpl_field descriptor_fields[] = {
	{ "Annotations", &t_string_map, false },
	{ "URLs", &t_strings, false },
	{ NULL, NULL, false },
};
STRUCT(t_descriptor, descriptor_fields, false);
T_OF(t_descriptor_p, TMPL_PTR, t_descriptor);

static const struct tmpl_field health_result_fields[] = {
	{ "Start", &t_time, false },	{ "End", &t_time, false }, { "ExitCode", &t_int, false },
	{ "Output", &t_string, false }, { NULL, NULL, false },
};
STRUCT(t_health_result, health_result_fields, true);
T_OF(t_health_result_p, TMPL_PTR, t_health_result);
T_OF(t_health_log, TMPL_SLICE, t_health_result_p);

static const struct tmpl_field health_fields[] = {
	{ "Status", &t_string, false },
	{ "FailingStreak", &t_int, false },
	{ "Log", &t_health_log, false },
	{ NULL, NULL, false },
};
STRUCT(t_health, health_fields, true);
T_OF(t_health_p, TMPL_PTR, t_health);

static const struct tmpl_field state_fields[] = {
	{ "Status", &t_string, false },
	{ "Running", &t_bool, false },
	{ "Paused", &t_bool, false },
	{ "Restarting", &t_bool, false },
	{ "OOMKilled", &t_bool, false },
	{ "Dead", &t_bool, false },
	{ "Pid", &t_int, false },
	{ "ExitCode", &t_int, false },
	{ "Error", &t_string, false },
	{ "StartedAt", &t_string, false },
	{ "FinishedAt", &t_string, false },
	{ "Health", &t_health_p, true },
	{ NULL, NULL, false },
};
STRUCT(t_state, state_fields, true);
T_OF(t_state_p, TMPL_PTR, t_state);

static const struct tmpl_field healthcheck_fields[] = {
	{ "Test", &t_strings, true },
	{ "Interval", &t_duration, true },
	{ "Timeout", &t_duration, true },
	{ "StartPeriod", &t_duration, true },
	{ "StartInterval", &t_duration, true },
	{ "Retries", &t_int, true },
	{ NULL, NULL, false },
};
STRUCT(t_healthcheck, healthcheck_fields, true);
T_OF(t_healthcheck_p, TMPL_PTR, t_healthcheck);

/* container.Config. */
static const struct tmpl_field config_fields[] = {
	{ "Hostname", &t_string, false },
	{ "Domainname", &t_string, false },
	{ "User", &t_string, false },
	{ "AttachStdin", &t_bool, false },
	{ "AttachStdout", &t_bool, false },
	{ "AttachStderr", &t_bool, false },
	{ "ExposedPorts", &t_port_set, true },
	{ "Tty", &t_bool, false },
	{ "OpenStdin", &t_bool, false },
	{ "StdinOnce", &t_bool, false },
	{ "Env", &t_strings, false },
	{ "Cmd", &t_strings, false },
	{ "Healthcheck", &t_healthcheck_p, true },
	{ "ArgsEscaped", &t_bool, true },
	{ "Image", &t_string, false },
	{ "Volumes", &t_set, false },
	{ "WorkingDir", &t_string, false },
	{ "Entrypoint", &t_strings, false },
	{ "NetworkDisabled", &t_bool, true },
	{ "MacAddress", &t_string, true },
	{ "OnBuild", &t_strings, false },
	{ "Labels", &t_string_map, false },
	{ "StopSignal", &t_string, true },
	{ "StopTimeout", &t_int_p, true },
	{ "Shell", &t_strings, true },
	{ NULL, NULL, false },
};
STRUCT(t_config, config_fields, true);
T_OF(t_config_p, TMPL_PTR, t_config);

static const struct tmpl_field port_binding_fields[] = {
	{ "HostIp", &t_string, false },
	{ "HostPort", &t_string, false },
	{ NULL, NULL, false },
};
STRUCT(t_port_binding, port_binding_fields, true);
T_OF(t_port_bindings, TMPL_SLICE, t_port_binding);
PORT_MAP(t_port_map, t_port_bindings);

static const struct tmpl_field log_config_fields[] = {
	{ "Type", &t_string, false },
	{ "Config", &t_string_map, false },
	{ NULL, NULL, false },
};
STRUCT(t_log_config, log_config_fields, true);

static const struct tmpl_field restart_fields[] = {
	{ "Name", &t_string, false },
	{ "MaximumRetryCount", &t_int, false },
	{ NULL, NULL, false },
};
STRUCT(t_restart, restart_fields, true);

static const struct tmpl_field ulimit_fields[] = {
	{ "Name", &t_string, false },
	{ "Hard", &t_int, false },
	{ "Soft", &t_int, false },
	{ NULL, NULL, false },
};
STRUCT(t_ulimit, ulimit_fields, true);
T_OF(t_ulimit_p, TMPL_PTR, t_ulimit);
T_OF(t_ulimits, TMPL_SLICE, t_ulimit_p);

static const struct tmpl_field device_request_fields[] = {
	{ "Driver", &t_string, false },
	{ "Count", &t_int, false },
	{ "DeviceIDs", &t_strings, false },
	{ "Capabilities", &t_slice, false },
	{ NULL, NULL, false },
};
STRUCT(t_device_request, device_request_fields, false);
T_OF(t_device_requests, TMPL_SLICE, t_device_request);

/* mount.Mount of HostConfig.Mounts. */
static const struct tmpl_field volume_options_fields[] = {
	{ "Labels", &t_string_map, false },
	{ NULL, NULL, false },
};
STRUCT(t_volume_options, volume_options_fields, false);
T_OF(t_volume_options_p, TMPL_PTR, t_volume_options);
static const struct tmpl_field mount_fields[] = {
	{ "Type", &t_string, false },
	{ "Source", &t_string, false },
	{ "Target", &t_string, false },
	{ "ReadOnly", &t_bool, false },
	{ "Consistency", &t_string, false },
	{ "VolumeOptions", &t_volume_options_p, false },
	{ NULL, NULL, false },
};
STRUCT(t_mount, mount_fields, false);
T_OF(t_mounts, TMPL_SLICE, t_mount);

static const struct tmpl_field host_config_fields[] = {
	{ "Binds", &t_strings, false },
	{ "LogConfig", &t_log_config, false },
	{ "PortBindings", &t_port_map, false },
	{ "RestartPolicy", &t_restart, false },
	{ "VolumesFrom", &t_strings, false },
	{ "ConsoleSize", &t_ints, false },
	{ "Annotations", &t_string_map, false },
	{ "CapAdd", &t_strings, false },
	{ "CapDrop", &t_strings, false },
	{ "Dns", &t_strings, false },
	{ "DnsOptions", &t_strings, false },
	{ "DnsSearch", &t_strings, false },
	{ "ExtraHosts", &t_strings, false },
	{ "GroupAdd", &t_strings, false },
	{ "Links", &t_strings, false },
	{ "SecurityOpt", &t_strings, false },
	{ "StorageOpt", &t_string_map, false },
	{ "Tmpfs", &t_string_map, false },
	{ "Sysctls", &t_string_map, false },
	{ "Runtime", &t_string, false },
	{ "DeviceCgroupRules", &t_strings, false },
	{ "DeviceRequests", &t_device_requests, false },
	{ "KernelMemoryTCP", &t_int, false },
	{ "MemorySwappiness", &t_int_p, false },
	{ "OomKillDisable", &t_bool_p, false },
	{ "PidsLimit", &t_int_p, false },
	{ "Ulimits", &t_ulimits, false },
	{ "Mounts", &t_mounts, false },
	{ "MaskedPaths", &t_strings, false },
	{ "ReadonlyPaths", &t_strings, false },
	{ "Init", &t_bool_p, false },
	{ NULL, NULL, false },
};
STRUCT(t_host_config, host_config_fields, false);
T_OF(t_host_config_p, TMPL_PTR, t_host_config);

static const struct tmpl_field driver_data_fields[] = {
	{ "Data", &t_string_map, false },
	{ "Name", &t_string, false },
	{ NULL, NULL, false },
};
STRUCT(t_driver_data, driver_data_fields, true);

static const struct tmpl_field mount_point_fields[] = {
	{ "Type", &t_string, false },	{ "Name", &t_string, true },
	{ "Source", &t_string, false }, { "Destination", &t_string, false },
	{ "Driver", &t_string, true },	{ "Mode", &t_string, false },
	{ "RW", &t_bool, false },	{ "Propagation", &t_string, false },
	{ NULL, NULL, false },
};
STRUCT(t_mount_point, mount_point_fields, true);
T_OF(t_mount_points, TMPL_SLICE, t_mount_point);

static const struct tmpl_field ipam_config_fields[] = {
	{ "IPv4Address", &t_string, true },
	{ "IPv6Address", &t_string, true },
	{ "LinkLocalIPs", &t_strings, true },
	{ NULL, NULL, false },
};
STRUCT(t_ipam_config, ipam_config_fields, true);
T_OF(t_ipam_config_p, TMPL_PTR, t_ipam_config);

static const struct tmpl_field endpoint_fields[] = {
	{ "IPAMConfig", &t_ipam_config_p, false }, { "Links", &t_strings, false },
	{ "Aliases", &t_strings, false },	   { "MacAddress", &t_string, false },
	{ "DriverOpts", &t_string_map, false },	   { "GwPriority", &t_int, false },
	{ "NetworkID", &t_string, false },	   { "EndpointID", &t_string, false },
	{ "Gateway", &t_string, false },	   { "IPAddress", &t_string, false },
	{ "IPPrefixLen", &t_int, false },	   { "IPv6Gateway", &t_string, false },
	{ "GlobalIPv6Address", &t_string, false }, { "GlobalIPv6PrefixLen", &t_int, false },
	{ "DNSNames", &t_strings, false },	   { NULL, NULL, false },
};
STRUCT(t_endpoint, endpoint_fields, true);
T_OF(t_endpoint_p, TMPL_PTR, t_endpoint);
T_OF(t_networks, TMPL_MAP, t_endpoint_p);

static const struct tmpl_field network_settings_fields[] = {
	{ "Ports", &t_port_map, false },
	{ "Networks", &t_networks, false },
	{ "SecondaryIPAddresses", &t_slice, false },
	{ "SecondaryIPv6Addresses", &t_slice, false },
	{ NULL, NULL, false },
};
STRUCT(t_network_settings, network_settings_fields, false);
T_OF(t_network_settings_p, TMPL_PTR, t_network_settings);

static const struct tmpl_field container_fields[] = {
	{ "Args", &t_strings, false },
	{ "State", &t_state_p, false },
	{ "ExecIDs", &t_strings, false },
	{ "HostConfig", &t_host_config_p, false },
	{ "GraphDriver", &t_driver_data, false },
	{ "SizeRw", &t_int_p, false },
	{ "SizeRootFs", &t_int_p, false },
	{ "Mounts", &t_mount_points, false },
	{ "Config", &t_config_p, false },
	{ "NetworkSettings", &t_network_settings_p, false },
	{ "ImageManifestDescriptor", &t_descriptor_p, false },
	{ NULL, NULL, false },
};
const struct tmpl_type tmpl_container_inspect = { TMPL_STRUCT, NULL,  container_fields,
						  false,       false, NULL };

/* The image's config: ocispec.ImageConfig and docker's additions, two
 * embedded structs. */
static const struct tmpl_field oci_config_fields[] = {
	{ "User", &t_string, true },
	{ "ExposedPorts", &t_set, true },
	{ "Env", &t_strings, true },
	{ "Entrypoint", &t_strings, true },
	{ "Cmd", &t_strings, true },
	{ "Volumes", &t_set, true },
	{ "WorkingDir", &t_string, true },
	{ "Labels", &t_string_map, true },
	{ "StopSignal", &t_string, true },
	{ "ArgsEscaped", &t_bool, true },
	{ NULL, NULL, false },
};
STRUCT(t_oci_config, oci_config_fields, true);
static const struct tmpl_field config_ext_fields[] = {
	{ "Healthcheck", &t_healthcheck_p, true },
	{ "OnBuild", &t_strings, true },
	{ "Shell", &t_strings, true },
	{ NULL, NULL, false },
};
STRUCT(t_config_ext, config_ext_fields, true);
static const struct tmpl_field image_config_fields[] = {
	{ NULL, &t_oci_config, false },
	{ NULL, &t_config_ext, false },
	{ NULL, NULL, false },
};
STRUCT(t_image_config, image_config_fields, true);
T_OF(t_image_config_p, TMPL_PTR, t_image_config);

static const struct tmpl_field rootfs_fields[] = {
	{ "Type", &t_string, false },
	{ "Layers", &t_strings, true },
	{ NULL, NULL, false },
};
STRUCT(t_rootfs, rootfs_fields, true);

static const struct tmpl_field metadata_fields[] = {
	{ "LastTagTime", &t_time, false },
	{ NULL, NULL, false },
};
STRUCT(t_metadata, metadata_fields, true);

static const struct tmpl_field image_fields[] = {
	{ "RepoTags", &t_strings, false },
	{ "RepoDigests", &t_strings, false },
	{ "Parent", &t_string, false },
	{ "Comment", &t_string, false },
	{ "Created", &t_string, false },
	{ "Container", &t_string, false },
	{ "ContainerConfig", &t_config_p, false },
	{ "DockerVersion", &t_string, false },
	{ "Author", &t_string, false },
	{ "Config", &t_image_config_p, false },
	{ "Architecture", &t_string, false },
	{ "Variant", &t_string, false },
	{ "Os", &t_string, false },
	{ "OsVersion", &t_string, false },
	{ "Size", &t_int, false },
	{ "VirtualSize", &t_int, false },
	{ "GraphDriver", &t_driver_data, false },
	{ "RootFS", &t_rootfs, false },
	{ "Metadata", &t_metadata, false },
	{ "Descriptor", &t_descriptor_p, false },
	{ "Manifests", &t_slice, false },
	{ NULL, NULL, false },
};
const struct tmpl_type tmpl_image_inspect = { TMPL_STRUCT, NULL, image_fields, false, false, NULL };

/* volume.Volume.  Its cluster part (swarm's) is only pointed to, and
 * nil from berthd: only its fields' names matter. */
static const struct tmpl_type t_opaque = { .kind = TMPL_STRUCT };
static const struct tmpl_field cluster_volume_fields[] = {
	{ "ID", &t_string, false },	 { "Version", &t_opaque, false },
	{ "CreatedAt", &t_time, false }, { "UpdatedAt", &t_time, false },
	{ "Spec", &t_opaque, false },	 { "PublishStatus", &t_slice, false },
	{ "Info", &t_opaque, false },	 { NULL, NULL, false },
};
static const struct tmpl_type t_cluster_volume = { .kind = TMPL_STRUCT,
						   .fields = cluster_volume_fields,
						   .go_name = "volume.ClusterVolume" };
static const struct tmpl_type t_cluster_volume_p = { .kind = TMPL_PTR,
						     .elem = &t_cluster_volume,
						     .go_name = "*volume.ClusterVolume" };
/* map[string]interface{}: elements of no type the templates need. */
static const struct tmpl_type t_any_map = { .kind = TMPL_MAP,
					    .go_name = "map[string]interface {}" };

static const struct tmpl_field usage_data_fields[] = {
	{ "RefCount", &t_int, false },
	{ "Size", &t_int, false },
	{ NULL, NULL, false },
};
static const struct tmpl_type t_usage_data = { .kind = TMPL_STRUCT,
					       .fields = usage_data_fields,
					       .complete = true,
					       .go_name = "volume.UsageData" };
static const struct tmpl_type t_usage_data_p = { .kind = TMPL_PTR,
						 .elem = &t_usage_data,
						 .go_name = "*volume.UsageData" };

static const struct tmpl_field volume_fields[] = {
	{ "ClusterVolume", &t_cluster_volume_p, true },
	{ "CreatedAt", &t_string, true },
	{ "Driver", &t_string, false },
	{ "Labels", &t_string_map, false },
	{ "Mountpoint", &t_string, false },
	{ "Name", &t_string, false },
	{ "Options", &t_string_map, false },
	{ "Scope", &t_string, false },
	{ "Status", &t_any_map, true },
	{ "UsageData", &t_usage_data_p, true },
	{ NULL, NULL, false },
};
const struct tmpl_type tmpl_volume_inspect = {
	.kind = TMPL_STRUCT, .fields = volume_fields, .complete = true, .go_name = "volume.Volume"
};
