/* The Go types behind the JSON documents of `docker inspect`, as far as a
 * template can tell them apart: docker runs an inspect template on its
 * typed structs first, so that a field the daemon left out is its zero
 * value, a map's missing key is "<no value>" (and `index` gives the
 * element type's zero value), a nil map prints "map[]" and a nil slice
 * "[]".  Only when that fails does it run the template on the raw JSON. */
#ifndef BERTH_CMD_BERTH_TEMPLATE_TYPES_H
#define BERTH_CMD_BERTH_TEMPLATE_TYPES_H

#include <stdbool.h>

enum tmpl_kind {
	TMPL_STRUCT,
	TMPL_PTR,
	TMPL_MAP,
	TMPL_SLICE,
	TMPL_STRING,
	TMPL_INT,
	TMPL_BOOL,
	TMPL_TIME,     /* time.Time: RFC 3339 text in JSON */
	TMPL_DURATION, /* time.Duration: nanoseconds in JSON */
	TMPL_EMPTY,    /* struct{} (the values of a port or volume set) */
};

struct tmpl_type;

/* A struct's field: its JSON member, or NULL for an embedded struct whose
 * members are the outer struct's (a NULL type ends a list). */
struct tmpl_field {
	const char *name;
	const struct tmpl_type *type;
	bool omitempty; /* json leaves it out when empty */
};

struct tmpl_type {
	enum tmpl_kind kind;
	const struct tmpl_type *elem; /* PTR, MAP, SLICE */
	/* STRUCT: its fields in Go's order; when not COMPLETE only those a
	 * daemon may leave out and those whose kind matters, and the struct
	 * prints (and json writes) its members in the document's order; a
	 * complete struct is written as Go would, its other members
	 * dropped. */
	const struct tmpl_field *fields;
	bool complete;
	/* MAP: its key is a named type (nat.Port), which neither a field
	 * name nor a string given to index is. */
	bool named_key;
	/* Go's name of the type ("volume.Volume", "*volume.UsageData") for
	 * the errors of a typed-only run; NULL: told by its kind. */
	const char *go_name;
};

/* docker 28's container.InspectResponse and image.InspectResponse. */
extern const struct tmpl_type tmpl_container_inspect;
extern const struct tmpl_type tmpl_image_inspect;
/* docker 28's volume.Volume, complete: `docker volume inspect` prints it
 * and runs its templates on it alone, with no raw fallback. */
extern const struct tmpl_type tmpl_volume_inspect;

#endif
