/* The engine's containers as records: finding and listing them with a state that tells a lost end
 * from a running process, removing one (`docker rm`), and the document `docker container inspect`
 * shows.  Making one lives in create.c, starting and stopping in lifecycle.c, diff, commit and
 * export in changes.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "volume/volume.h"

int daemon_new(struct image_store *images, const char *exec_root, struct daemon **out,
	       struct berr **err)
{
	_cleanup_(daemon_free_cleanup) struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container engine");
	d->images = images;
	d->db = image_store_db(images);
	d->containers_root = str_printf("%s/" DAEMON_CONTAINERS_DIR, image_store_root(images));
	d->volumes_root = str_printf("%s/" VOLUME_DIR, image_store_root(images));
	d->runtime_root = str_printf("%s/" DAEMON_RUNTIME_DIR, exec_root);
	d->run_root = str_printf("%s/" DAEMON_CONTAINERS_DIR, exec_root);
	if (!d->containers_root || !d->volumes_root || !d->runtime_root || !d->run_root)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container engine");
	d->rt.state_root = d->runtime_root;
	/* The runtime's state directory, made at the first start, goes
	 * apart (see fs_spread_subdirs()). */
	if (fs_mkdir_p(exec_root, 0700, NULL) == 0)
		fs_spread_subdirs(exec_root);
	*out = steal_ptr(&d);
	return 0;
}

void daemon_defer_dir_removal(struct daemon *d)
{
	d->defer_dir_removal = true;
}

void daemon_set_cgroup_keeper(struct daemon *d, struct runtime_cgroup_keeper *keeper)
{
	d->cgroup_keeper = keeper;
}

void daemon_set_shim_pool(struct daemon *d, struct daemon_shim_pool *pool)
{
	d->shim_pool = pool;
}

void daemon_cgroup_move_ahead(struct daemon *d)
{
	runtime_cgroup_keeper_touch(d->cgroup_keeper, DAEMON_CGROUP_HOLD_MS);
}

bool daemon_tidy_take(struct daemon *d)
{
	bool pending = d->trash_pending || d->spare_taken;

	d->trash_pending = false;
	d->spare_taken = false;
	return pending;
}

/* The files a create writes, made ahead in the spare: on ext4 without a
 * journal each inode made scans past the group's recently freed ones, a
 * cost that grows with the rate of runs. */
static const char *const spare_files[] = { DAEMON_FILE_HOSTNAME, DAEMON_FILE_HOSTS,
					   DAEMON_FILE_RESOLV, DAEMON_FILE_SPARE_LOG, NULL };

/* What a start looks up in the root file system, for the premount to have
 * looked up already: the points of the default mounts and of the
 * container's own files, the user database, and the directories of the
 * default PATH that the command is searched in. */
static const char *const premount_warm[] = {
	"proc",		 "dev",	      "sys",
	"etc/hostname",	 "etc/hosts", "etc/resolv.conf",
	"etc/passwd",	 "etc/group", "usr/local/sbin",
	"usr/local/bin", "usr/sbin",  "usr/bin",
	"sbin",		 "bin",	      NULL,
};

/* The root file system the last start in this process mounted, which the
 * tidy mounts ahead on the spare: the next container is most often of the
 * same image.  The process's, since each engine of a daemon has its own
 * struct daemon. */
static struct {
	pthread_mutex_t lock;
	char **lower;
	unsigned flags;
} last_mount = { .lock = PTHREAD_MUTEX_INITIALIZER };

void daemon_note_mount(char *const *lower, unsigned flags)
{
	char **copy = strv_dup(lower);

	if (!copy)
		return;
	pthread_mutex_lock(&last_mount.lock);
	strv_free(last_mount.lower);
	last_mount.lower = copy;
	last_mount.flags = flags;
	pthread_mutex_unlock(&last_mount.lock);
}

int daemon_tidy(struct daemon *d, struct berr **err)
{
	_cleanup_berr_ struct berr *rt_err = NULL;
	_cleanup_strv_ char **lower = NULL;
	struct image_premount premount = { 0 };
	int rt = runtime_trash_empty(&d->rt, &rt_err);

	pthread_mutex_lock(&last_mount.lock);
	lower = last_mount.lower ? strv_dup(last_mount.lower) : NULL;
	premount = (struct image_premount){ .lower = (const char *const *)lower,
					    .n = strv_length(lower),
					    .flags = last_mount.flags,
					    .warm = premount_warm };
	pthread_mutex_unlock(&last_mount.lock);
	if (image_container_trash_empty(d->run_root, err) < 0 ||
	    image_container_trash_empty(d->containers_root, err) < 0 ||
	    image_container_spare_make(d->containers_root, spare_files, lower ? &premount : NULL,
				       err) < 0)
		return -1;
	if (rt < 0)
		berr_move(err, &rt_err);
	return rt;
}

void daemon_spare_release(struct daemon *d)
{
	image_container_premounts_drop(d->containers_root);
	/* Removals left their root file systems mounted for the tidy, which
	 * may not have come since. */
	image_container_trash_detach(d->containers_root);
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	free(d->containers_root);
	free(d->volumes_root);
	free(d->runtime_root);
	free(d->run_root);
	free(d);
}

void daemon_container_free(struct daemon_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image_id);
	json_decref(c->doc);
	strv_free(c->volumes_named);
	strv_free(c->volumes_removed);
	if (c->waiter_fd >= 0)
		close(c->waiter_fd);
	free(c);
}

void daemon_container_list_free(struct daemon_container **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		daemon_container_free(list[i]);
	free(list);
}

char *daemon_container_dir(const struct daemon *d, const char *id)
{
	return str_printf("%s/%s", d->containers_root, id);
}

char *daemon_container_log_path(const char *dir, const char *id)
{
	return str_printf("%s/%s-json.log", dir, id);
}

char *daemon_container_run_dir(const struct daemon *d, const char *id)
{
	return str_printf("%s/%s", d->run_root, id);
}

const char *daemon_container_status(const struct daemon_container *c)
{
	const char *s =
		json_string_value(json_object_get(json_object_get(c->doc, "State"), "Status"));

	return s ? s : "created";
}

bool daemon_container_is_running(const struct daemon_container *c)
{
	const char *s = daemon_container_status(c);

	return strcmp(s, "running") == 0 || strcmp(s, "paused") == 0;
}

bool daemon_container_id_running(const char *user_id, void *arg)
{
	struct daemon_container *c = NULL;
	bool running;

	if (daemon_container_lookup(arg, user_id, &c, NULL) < 0)
		return false;
	running = daemon_container_is_running(c);
	daemon_container_free(c);
	return running;
}

int daemon_container_exit_code(const struct daemon_container *c)
{
	return (int)json_integer_value(
		json_object_get(json_object_get(c->doc, "State"), "ExitCode"));
}

/* Whether a process holds the waiter's lock of container ID. */
static bool has_waiter(struct daemon *d, const char *id)
{
	_cleanup_free_ char *path = str_printf("%s/%s/" DAEMON_FILE_WAITER, d->run_root, id);
	_cleanup_close_ int fd = -1;

	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

bool daemon_container_end_unseen(struct daemon *d, const char *id, int *exit_code, char **finished)
{
	struct runtime_state *st = NULL;
	_cleanup_free_ char *dir = NULL;
	bool alive, found = false;
	int status = 0;

	if (has_waiter(d, id))
		return false;
	alive = runtime_container_state(&d->rt, id, &st, NULL) == 0 &&
		st->status != RUNTIME_STATUS_STOPPED;
	runtime_state_free(st);
	if (alive)
		return false;
	/* A shim records the end before it goes: the daemon has only not
	 * taken note of it yet. */
	*finished = NULL;
	*exit_code = DAEMON_EXIT_LOST;
	dir = daemon_container_run_dir(d, id);
	if (dir && daemon_shim_exit_record(dir, &found, &status, finished, NULL) == 0 && found)
		*exit_code = WIFEXITED(status)	   ? WEXITSTATUS(status)
			     : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
						   : DAEMON_EXIT_LOST;
	return true;
}

/* A recorded "running" without a waiter whose process the runtime no
 * longer knows alive: whoever waited for it is gone, and its exit code
 * with it.  With a waiter, its end is only about to be recorded. */
static void show_lost_end(struct daemon *d, struct daemon_container *c)
{
	_cleanup_free_ char *finished = NULL;
	int code = 0;

	if (!daemon_container_is_running(c) || c->waiter_fd >= 0 ||
	    !daemon_container_end_unseen(d, c->id, &code, &finished))
		return;
	c->end_unrecorded = true;
	daemon_state_set_exited(c->doc, code, false, finished);
}

/* FNV-1a of TEXT: tells a stored document that changed from one that did
 * not. */
static uint64_t text_hash(const char *text)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* The container a stored record holds, with an end gone unseen shown when
 * SHOW_LOST; the record is taken apart. */
static int from_record(struct daemon *d, struct store_container *rec, bool show_lost,
		       struct daemon_container **out, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container");
	c->waiter_fd = -1;
	if (bjson_load(rec->doc, strlen(rec->doc), SIZE_MAX, &c->doc, err) < 0 ||
	    bjson_as_object(c->doc, NULL, err) < 0)
		return berr_prefix(err, "container %s: document", rec->id);
	c->doc_hash = text_hash(rec->doc);
	c->id = steal_ptr(&rec->id);
	c->image_id = steal_ptr(&rec->image_id);
	c->name = str_printf("/%s", rec->name);
	c->created = rec->created;
	if (!c->name)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container");
	if (show_lost)
		show_lost_end(d, c);
	*out = steal_ptr(&c);
	return 0;
}

static int lookup(struct daemon *d, const char *ref, bool show_lost, struct daemon_container **out,
		  struct berr **err)
{
	_cleanup_(store_container_free_cleanup) struct store_container *rec = NULL;

	if (store_container_lookup(d->db, ref, &rec, err) < 0)
		return -1;
	return from_record(d, rec, show_lost, out, err);
}

int daemon_container_lookup(struct daemon *d, const char *ref, struct daemon_container **out,
			    struct berr **err)
{
	return lookup(d, ref, true, out, err);
}

int daemon_container_lookup_recorded(struct daemon *d, const char *ref,
				     struct daemon_container **out, struct berr **err)
{
	return lookup(d, ref, false, out, err);
}

int daemon_container_list(struct daemon *d, struct daemon_container ***out, size_t *n,
			  struct berr **err)
{
	struct store_container **recs = NULL;
	struct daemon_container **list = NULL;
	size_t n_recs = 0, count = 0;
	int ret = -1;

	if (store_container_list(d->db, &recs, &n_recs, err) < 0)
		return -1;
	list = calloc(n_recs + 1, sizeof(*list));
	if (!list) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
		goto out;
	}
	for (; count < n_recs; count++)
		if (from_record(d, recs[count], true, &list[count], err) < 0)
			goto out;
	*out = steal_ptr(&list);
	*n = count;
	count = 0;
	ret = 0;
out:
	daemon_container_list_free(list, count);
	store_container_list_free(recs, n_recs);
	return ret;
}

int daemon_container_save(struct daemon *d, const struct daemon_container *c, struct berr **err)
{
	_cleanup_free_ char *text = jsontext_dump(c->doc);

	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	return store_container_update_doc(d->db, c->id, text, err);
}

static int reload(struct daemon *d, struct daemon_container *c, bool show_lost, struct berr **err)
{
	_cleanup_(store_container_free_cleanup) struct store_container *rec = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *fresh = NULL;
	json_t *doc;

	if (store_container_lookup(d->db, c->id, &rec, err) < 0)
		return -1;
	/* Unchanged since C was read (callers reload right after taking the
	 * lock, before they change C): what a parse would give, but for an
	 * end that went unseen since. */
	if (text_hash(rec->doc) == c->doc_hash) {
		bool unrecorded = c->end_unrecorded;

		if (show_lost)
			show_lost_end(d, c);
		c->end_unrecorded = unrecorded;
		return 0;
	}
	if (from_record(d, rec, show_lost, &fresh, err) < 0)
		return -1;
	doc = c->doc;
	c->doc = steal_ptr(&fresh->doc);
	c->doc_hash = fresh->doc_hash;
	fresh->doc = doc;
	return 0;
}

int daemon_container_reload(struct daemon *d, struct daemon_container *c, struct berr **err)
{
	return reload(d, c, true, err);
}

int daemon_container_reload_recorded(struct daemon *d, struct daemon_container *c,
				     struct berr **err)
{
	return reload(d, c, false, err);
}

int daemon_container_lock(struct daemon *d, const char *id, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_dir(d, id);
	_cleanup_close_ int fd = -1;

	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "lock container");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"lock container %s", id);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return berr_set(err, BERR_INTERNAL, errno, "lock container %s", id);
	return steal_fd(&fd);
}

unsigned daemon_container_mount_flags(const struct daemon_container *c)
{
	const json_t *hc = json_object_get(c->doc, "HostConfig");

	return json_is_true(json_object_get(hc, "AutoRemove")) ? IMAGE_MOUNT_VOLATILE : 0;
}

int daemon_container_lower_dirs(struct daemon *d, const struct daemon_container *c, char ***out,
				struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *init = str_printf("%s/%s/" DAEMON_DIR_INIT, d->containers_root, c->id);
	struct stat st;

	if (!init)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	/* A container made by an older berth has an init layer of its own. */
	if (lstat(init, &st) < 0) {
		free(init);
		init = daemon_init_layer(image_store_root(d->images), err);
		if (!init)
			return berr_prefix(err, "container %s", c->id);
	}
	if (store_image_lookup(d->db, c->image_id, &img, err) < 0 ||
	    image_store_layer_dirs(d->images, img, &dirs, err) < 0)
		return berr_prefix(err, "container %s", c->id);
	if (strv_append(&dirs, init) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	*out = steal_ptr(&dirs);
	return 0;
}

/* How long a removal waits for the waiter of a container it killed. */
#define WAITER_AWAIT_MS 10000

/* Waits, a bounded time, until nobody holds the waiter's lock of
 * container ID (see struct daemon_container). */
static void await_waiter(struct daemon *d, const char *id)
{
	_cleanup_free_ char *path = str_printf("%s/%s/" DAEMON_FILE_WAITER, d->run_root, id);
	_cleanup_close_ int fd = -1;

	if (!path)
		return;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	for (int waited = 0; waited < WAITER_AWAIT_MS; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			return;
		usleep(10 * 1000);
	}
}

/* Removes the directories of container ID, its run directory first: into
 * their trash (a rename each) when removals are deferred, at once
 * otherwise.  The run root is laid out as the containers root is. */
static int remove_dirs(struct daemon *d, const char *id, struct berr **err)
{
	const char *roots[] = { d->run_root, d->containers_root };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		bool trashed = false;

		if (!d->defer_dir_removal) {
			if (image_container_dirs_remove(roots[i], id, err) < 0)
				return -1;
			continue;
		}
		if (image_container_dirs_discard(roots[i], id, &trashed, err) < 0)
			return -1;
		d->trash_pending |= trashed;
	}
	return 0;
}

/* The runtime's part of removing C: a stopped one's delete is put off
 * when removals are (see daemon_defer_dir_removal()); force kills what
 * runs. */
static int remove_runtime(struct daemon *d, const struct daemon_container *c, struct berr **err)
{
	_cleanup_berr_ struct berr *lerr = NULL;

	if (d->defer_dir_removal && !daemon_container_is_running(c)) {
		bool moved = false;

		if (runtime_container_discard(&d->rt, c->id, &moved, &lerr) == 0) {
			d->trash_pending |= moved;
			return 0;
		}
		blog_warn("container %s: %s", c->id, lerr->msg);
		berr_clear(&lerr);
	}
	if (runtime_container_delete(&d->rt, c->id, true, &lerr) < 0 &&
	    lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return berr_prefix(err, "remove container %s", c->id);
	}
	return 0;
}

int daemon_container_remove_held(struct daemon *d, struct daemon_container *c, int *lock,
				 bool volumes, struct berr **err)
{
	_cleanup_berr_ struct berr *lerr = NULL;

	if (remove_runtime(d, c, err) < 0)
		return -1;
	if (daemon_container_is_running(c)) {
		/* Its waiter (a shim) writes the end into the directory: the
		 * directory goes once it is done.  The lock is let go
		 * meanwhile, since a waiter records the end under it. */
		cleanup_closep(lock);
		await_waiter(d, c->id);
		*lock = daemon_container_lock(d, c->id, &lerr);
		if (*lock < 0 && lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
		berr_clear(&lerr);
	}
	if (remove_dirs(d, c->id, err) < 0)
		return berr_prefix(err, "remove container %s", c->id);
	if (store_container_delete(d->db, c->id, &lerr) < 0 && lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return -1;
	}
	if (volumes)
		daemon_volumes_remove_anonymous(d, json_object_get(c->doc, "Mounts"),
						&c->volumes_removed);
	return 0;
}

int daemon_container_remove(struct daemon *d, const char *ref, bool force, bool volumes,
			    char ***removed, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_close_ int lock = -1;

	if (daemon_container_lookup(d, ref, &c, err) < 0)
		return -1;
	/* A directory already gone is a removal killed half way: finish it. */
	lock = daemon_container_lock(d, c->id, &lerr);
	if (lock < 0 && lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return -1;
	}
	if (daemon_container_reload(d, c, err) < 0)
		return -1;
	if (daemon_container_is_running(c) && !force)
		return berr_set(err, BERR_CONFLICT, 0,
				"You cannot remove a running container %s. Stop the container "
				"before attempting removal or force remove",
				c->id);
	if (daemon_container_remove_held(d, c, &lock, volumes, err) < 0)
		return -1;
	if (removed)
		*removed = steal_ptr(&c->volumes_removed);
	return 0;
}

/* "<a>:<b>" of the N dirs of DIRS from the last to the first, as overlay2's
 * LowerDir lists the top layer first. */
static char *join_top_first(char *const *dirs)
{
	size_t n = strv_length(dirs), len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(dirs[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = n; i > 0; i--) {
		size_t l = strlen(dirs[i - 1]);

		if (p != s)
			*p++ = ':';
		memcpy(p, dirs[i - 1], l + 1);
		p += l;
	}
	return s;
}

static json_t *graph_driver_json(struct daemon *d, const struct daemon_container *c)
{
	_cleanup_strv_ char **lower = NULL;
	_cleanup_free_ char *joined = NULL;
	_cleanup_free_ char *dir = daemon_container_dir(d, c->id);
	_cleanup_free_ char *upper = NULL, *merged = NULL, *work = NULL;

	/* A missing image only costs the LowerDir. */
	if (daemon_container_lower_dirs(d, c, &lower, NULL) == 0)
		joined = join_top_first(lower);
	if (!dir || !(upper = str_printf("%s/upper", dir)) ||
	    !(merged = str_printf("%s/merged", dir)) || !(work = str_printf("%s/work", dir)))
		return NULL;
	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "Data", "LowerDir", joined ? joined : "",
			 "MergedDir", merged, "UpperDir", upper, "WorkDir", work, "Name",
			 "overlay2");
}

int daemon_container_inspect(struct daemon *d, const struct daemon_container *c, json_t **out,
			     struct berr **err)
{
	static const char *const order[] = {
		"Id",
		"Created",
		"Path",
		"Args",
		"State",
		"Image",
		"ResolvConfPath",
		"HostnamePath",
		"HostsPath",
		"LogPath",
		"Name",
		"RestartCount",
		"Driver",
		"Platform",
		"MountLabel",
		"ProcessLabel",
		"AppArmorProfile",
		"ExecIDs",
		"HostConfig",
		"GraphDriver",
		"Mounts",
		"Config",
		"NetworkSettings",
	};
	_cleanup_json_ json_t *o = json_object();
	_cleanup_free_ char *dir = daemon_container_dir(d, c->id);

	if (!o || !dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "inspect container %s", c->id);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *key = order[i];
		json_t *v = json_object_get(c->doc, key);
		_cleanup_free_ char *p = NULL;

		if (strcmp(key, "ResolvConfPath") == 0)
			v = json_string(p = str_printf("%s/" DAEMON_FILE_RESOLV, dir));
		else if (strcmp(key, "HostnamePath") == 0)
			v = json_string(p = str_printf("%s/" DAEMON_FILE_HOSTNAME, dir));
		else if (strcmp(key, "HostsPath") == 0)
			v = json_string(p = str_printf("%s/" DAEMON_FILE_HOSTS, dir));
		else if (strcmp(key, "LogPath") == 0)
			v = v ? json_deep_copy(v) : json_string("");
		else if (strcmp(key, "GraphDriver") == 0)
			v = graph_driver_json(d, c);
		else if (strcmp(key, "Name") == 0)
			v = json_string(c->name);
		else if (v)
			v = json_deep_copy(v);
		else
			continue;
		if (json_object_set_new(o, key, v) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "inspect container %s", c->id);
	}
	*out = steal_ptr(&o);
	return 0;
}
