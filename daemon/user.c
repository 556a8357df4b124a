/* The user a container's process runs as: Docker's "user[:group]" resolved
 * with the container's own /etc/passwd and /etc/group (moby/sys/user's
 * GetExecUser), read inside its root file system so that a symlink in the
 * image cannot make the engine read a host file. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/safepath.h"

/* Docker's bounds of a uid or gid. */
#define ID_MAX INT32_MAX

void daemon_user_clear(struct daemon_user *u)
{
	free(u->gids);
	free(u->home);
	u->gids = NULL;
	u->n_gids = 0;
	u->home = NULL;
}

/* Reads PATH inside ROOTFD into *out; returns 1 when read, 0 when the file
 * is not there (*out NULL). */
static int read_etc(int rootfd, const char *path, char **out, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_berr_ struct berr *oerr = NULL;
	size_t len = 0;

	*out = NULL;
	fd = safepath_open(rootfd, path, O_RDONLY, &oerr);
	if (fd < 0) {
		if (oerr->kind == BERR_NOT_FOUND)
			return 0;
		berr_move(err, &oerr);
		return -1;
	}
	if (fs_read_all_fd(fd, DAEMON_ETC_FILE_MAX, out, &len, err) < 0)
		return berr_prefix(err, "read %s", path);
	return 1;
}

/* A whole decimal number within Docker's id range. */
static bool parse_id(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > ID_MAX)
		return false;
	*out = v;
	return true;
}

/* Splits LINE at ':' into at most N fields; missing fields are "". */
static void split_fields(char *line, char **fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *colon = line ? strchr(line, ':') : NULL;

		fields[i] = line ? line : "";
		if (colon)
			*colon = '\0';
		line = colon ? colon + 1 : NULL;
	}
}

/* The next line of *CURSOR with surrounding blanks cut, or NULL at the
 * end; the text is cut in place. */
static char *next_line(char **cursor)
{
	char *line, *nl, *end;

	while (*cursor && **cursor) {
		line = *cursor;
		nl = strchr(line, '\n');
		*cursor = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		line += strspn(line, " \t\r");
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*line)
			return line;
	}
	return NULL;
}

static bool member_of(char *list, const char *name)
{
	for (char *save = NULL, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (strcmp(m, name) == 0)
			return true;
	return false;
}

static int add_gid(struct daemon_user *u, gid_t gid)
{
	gid_t *bigger;

	for (size_t i = 0; i < u->n_gids; i++)
		if (u->gids[i] == gid)
			return 0;
	bigger = reallocarray(u->gids, u->n_gids + 1, sizeof(*bigger));
	if (!bigger)
		return -1;
	u->gids = bigger;
	u->gids[u->n_gids++] = gid;
	return 0;
}

/* The passwd part: fills uid, gid and home from the first entry USER_ARG
 * names (the uid when numeric, root's entry when empty); *matched gets the
 * entry's name (a pointer into TEXT) or NULL. */
static int find_user(char *text, const char *user_arg, struct daemon_user *u, const char **matched,
		     struct berr **err)
{
	long uid_arg = 0;
	bool numeric = parse_id(user_arg, &uid_arg);
	char *cursor = text, *line;

	*matched = NULL;
	while (text && (line = next_line(&cursor))) {
		char *f[7];
		long uid = 0, gid = 0;

		split_fields(line, f, 7);
		parse_id(f[2], &uid);
		parse_id(f[3], &gid);
		if (*user_arg ? (numeric ? uid != uid_arg : strcmp(f[0], user_arg) != 0) : uid != 0)
			continue;
		*matched = f[0];
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		free(u->home);
		u->home = strdup(f[5]);
		return u->home ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "user");
	}
	if (!*user_arg)
		return 0;
	if (!numeric)
		return berr_set(err, BERR_INVALID, 0,
				"unable to find user %s: no matching entries in passwd file",
				user_arg);
	u->uid = (uid_t)uid_arg;
	return 0;
}

/* The group part: with GROUP_ARG, the group it names (a number need not
 * exist); without, every group listing MATCHED as a member. */
static int find_groups(char *text, const char *group_arg, const char *matched,
		       struct daemon_user *u, struct berr **err)
{
	long gid_arg = 0;
	bool numeric = parse_id(group_arg, &gid_arg);
	char *cursor = text, *line;

	if (!*group_arg && !matched)
		return 0;
	while (text && (line = next_line(&cursor))) {
		char *f[4];
		long gid = 0;

		split_fields(line, f, 4);
		parse_id(f[2], &gid);
		if (!*group_arg) {
			if (member_of(f[3], matched) && add_gid(u, (gid_t)gid) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "groups");
			continue;
		}
		if (numeric ? gid != gid_arg : strcmp(f[0], group_arg) != 0)
			continue;
		u->gid = (gid_t)gid;
		return 0;
	}
	if (!*group_arg)
		return 0;
	if (!numeric)
		return berr_set(err, BERR_INVALID, 0,
				"unable to find group %s: no matching entries in group file",
				group_arg);
	u->gid = (gid_t)gid_arg;
	return 0;
}

int daemon_user_resolve(int rootfd, const char *spec, struct daemon_user *out, struct berr **err)
{
	_cleanup_free_ char *passwd = NULL;
	_cleanup_free_ char *group = NULL;
	_cleanup_free_ char *user_arg = NULL;
	struct daemon_user u = { 0 };
	const char *group_arg = "";
	const char *matched = NULL;
	char *colon;

	user_arg = strdup(spec ? spec : "");
	if (!user_arg)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "user");
	colon = strchr(user_arg, ':');
	if (colon) {
		*colon = '\0';
		group_arg = colon + 1;
	}
	if (read_etc(rootfd, "/etc/passwd", &passwd, err) < 0 ||
	    read_etc(rootfd, "/etc/group", &group, err) < 0)
		return -1;
	if (find_user(passwd, user_arg, &u, &matched, err) < 0)
		goto fail;
	/* The primary group leads the additional ones, so that a group
	 * denied by a file's mode cannot be dropped with setgroups(2) (the
	 * CVE-2023-25173 class). */
	if (find_groups(group, group_arg, matched, &u, err) < 0 || add_gid(&u, u.gid) < 0)
		goto fail;
	for (size_t k = 0; k < u.n_gids; k++) {
		if (u.gids[k] != u.gid)
			continue;
		memmove(&u.gids[1], &u.gids[0], k * sizeof(*u.gids));
		u.gids[0] = u.gid;
		break;
	}
	if (!u.home || !*u.home) {
		free(u.home);
		u.home = strdup("/");
		if (!u.home)
			goto nomem;
	}
	*out = u;
	return 0;
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "user");
fail:
	daemon_user_clear(&u);
	return -1;
}
