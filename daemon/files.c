/* The files a container gets from the engine rather than from its image:
 * /etc/hostname, /etc/hosts and /etc/resolv.conf (kept in the container's
 * directory and bound over the image's), and the init layer, an overlay
 * layer between the image and the container's changes that holds the mount
 * points the runtime needs, as Docker's "<id>-init" layer does: the runtime
 * never has to make them in the container's upper dir, so they never show
 * in `diff` or `commit`. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"

/* What libnetwork writes for a container without a network. */
static const char hosts_text[] = "127.0.0.1\tlocalhost\n"
				 "::1\tlocalhost ip6-localhost ip6-loopback\n"
				 "fe00::0\tip6-localnet\n"
				 "ff00::0\tip6-mcastprefix\n"
				 "ff02::1\tip6-allnodes\n"
				 "ff02::2\tip6-allrouters\n";

/* Docker's name servers when the host's are all on loopback. */
static const char default_dns[] = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";

#define SYSTEMD_RESOLVED_STUB "127.0.0.53"
#define SYSTEMD_RESOLVED_FILE "/run/systemd/resolve/resolv.conf"

/* The address of a "nameserver ADDR" line (pointer into LINE, which is cut
 * after it), or NULL for another line. */
static char *nameserver_of(char *line)
{
	char *p = line + strspn(line, " \t");

	if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
		return NULL;
	p += 10 + strspn(p + 10, " \t");
	p[strcspn(p, " \t\r#;")] = '\0';
	return *p ? p : NULL;
}

/* A loopback name server cannot be reached from a container's own network
 * namespace. */
static bool is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strcmp(addr, "0:0:0:0:0:0:0:1") == 0;
}

char *daemon_resolv_conf(const char *text)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	_cleanup_free_ char *out = NULL;
	size_t size = 0;
	FILE *f;
	bool any = false;
	char *save = NULL;

	if (!copy)
		return NULL;
	f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *probe = strdup(line);
		char *addr;

		if (!probe) {
			fclose(f);
			return NULL;
		}
		addr = nameserver_of(probe);
		if (addr && is_loopback(addr))
			continue;
		any |= addr != NULL;
		fprintf(f, "%s\n", line);
	}
	if (!any)
		fputs(default_dns, f);
	if (fclose(f) != 0)
		return NULL;
	return steal_ptr(&out);
}

/* The host's resolv.conf text (empty when there is none); with systemd's
 * stub resolver, the file of the servers behind it, as Docker does. */
static int host_resolv_text(const char *path, char **out, struct berr **err)
{
	_cleanup_berr_ struct berr *rerr = NULL;
	size_t len = 0;

	if (fs_read_file(path ? path : "/etc/resolv.conf", DAEMON_ETC_FILE_MAX, out, &len, &rerr) <
	    0) {
		if (rerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &rerr);
			return -1;
		}
		*out = strdup("");
		return *out ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "resolv.conf");
	}
	if (!path && strstr(*out, "nameserver " SYSTEMD_RESOLVED_STUB) &&
	    fs_exists(SYSTEMD_RESOLVED_FILE)) {
		free(*out);
		*out = NULL;
		return fs_read_file(SYSTEMD_RESOLVED_FILE, DAEMON_ETC_FILE_MAX, out, &len, err);
	}
	return 0;
}

int daemon_file_write(const char *dir, const char *name, const char *text, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	struct stat st;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container file %s", name);
	/* Cut to its length after the write, not at the open: ext4 writes a
	 * file opened with O_TRUNC out at its close, a flush the spare's
	 * empty files need not wait for. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	if (fs_write_all(fd, text, len) < 0 || fstat(fd, &st) < 0 ||
	    (st.st_size > (off_t)len && ftruncate(fd, (off_t)len) < 0))
		return berr_set(err, BERR_INTERNAL, errno, "write %s", path);
	return 0;
}

/* The init layer's entries; a NULL target makes a directory, "" an empty
 * file, anything else a symlink to it. */
static const struct {
	const char *path;
	const char *target;
} init_entries[] = {
	{ "dev", NULL },	   { "dev/pts", NULL },
	{ "dev/shm", NULL },	   { "proc", NULL },
	{ "sys", NULL },	   { "etc", NULL },
	{ "etc/resolv.conf", "" }, { "etc/hosts", "" },
	{ "etc/hostname", "" },	   { "etc/mtab", "/proc/mounts" },
};

/* Fills the directory FD with the init layer's entries. */
static int fill_init_layer(int fd, struct berr **err)
{
	for (size_t i = 0; i < sizeof(init_entries) / sizeof(init_entries[0]); i++) {
		const char *p = init_entries[i].path, *t = init_entries[i].target;
		int r;

		if (!t) {
			r = mkdirat(fd, p, 0755);
		} else if (!*t) {
			r = openat(fd, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				   0755);
			if (r >= 0)
				close(r);
		} else {
			r = symlinkat(t, fd, p);
		}
		if (r < 0)
			return berr_set(err, BERR_INTERNAL, errno, "init layer: make %s", p);
	}
	return 0;
}

char *daemon_init_layer(const char *data_root, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/" DAEMON_DIR_INIT_LAYER, data_root);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!path)
		goto nomem;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return steal_ptr(&path);
	/* Made whole under another name, then renamed: a reader never sees
	 * half of it, and of two makers the second one's rename fails. */
	tmp = str_printf("%s.tmp-%d-%lu", path, (int)getpid(), (unsigned long)pthread_self());
	if (!tmp)
		goto nomem;
	if (mkdir(tmp, 0755) < 0) {
		berr_set(err, BERR_INTERNAL, errno, "mkdir %s", tmp);
		return NULL;
	}
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		berr_set(err, BERR_INTERNAL, errno, "open %s", tmp);
		goto fail;
	}
	if (fill_init_layer(fd, err) < 0)
		goto fail;
	if (rename(tmp, path) == 0)
		return steal_ptr(&path);
	if (errno != EEXIST && errno != ENOTEMPTY) {
		berr_set(err, BERR_INTERNAL, errno, "rename %s to %s", tmp, path);
		goto fail;
	}
	/* Made meanwhile by another. */
	fs_remove_tree(tmp, NULL);
	return steal_ptr(&path);
fail:
	fs_remove_tree(tmp, NULL);
	return NULL;
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "init layer");
	return NULL;
}

int daemon_files_write(const char *dir, const char *hostname, const char *host_resolv,
		       struct berr **err)
{
	_cleanup_free_ char *host_text = NULL;
	_cleanup_free_ char *resolv = NULL;
	_cleanup_free_ char *name = str_printf("%s\n", hostname);

	if (!name)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container files");
	if (host_resolv_text(host_resolv, &host_text, err) < 0)
		return berr_prefix(err, "resolv.conf");
	resolv = daemon_resolv_conf(host_text);
	if (!resolv)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "resolv.conf");
	if (daemon_file_write(dir, DAEMON_FILE_HOSTNAME, name, err) < 0 ||
	    daemon_file_write(dir, DAEMON_FILE_HOSTS, hosts_text, err) < 0 ||
	    daemon_file_write(dir, DAEMON_FILE_RESOLV, resolv, err) < 0)
		return berr_prefix(err, "container files in %s", dir);
	return 0;
}
