/* berth-init: a minimal init for PID 1 in a container (`berth run --init`).
 * It starts one command, forwards every signal it gets to it, reaps every
 * zombie that comes to it, and exits with the command's status once the
 * command is gone and the processes it left behind are ended.  libc only
 * and static, so it runs in any root filesystem. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BERTH_INIT_VERSION
#define BERTH_INIT_VERSION "0.1.0"
#endif

#define EXIT_USAGE     2
#define EXIT_NOT_EXEC  126 /* found but cannot be executed, as in sh */
#define EXIT_NOT_FOUND 127
#define GRACE_MS       2000 /* between SIGTERM and SIGKILL for the leftovers */
#define MAX_TREE_DEPTH 256

static bool verbose;

/* One line on stderr, in one write(2) so it does not interleave with the
 * output of the command. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "berth-init: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report it */
}

#define debug(...)                        \
	do {                              \
		if (verbose)              \
			say(__VA_ARGS__); \
	} while (0)

static void usage(FILE *out)
{
	fputs("Usage: berth-init [-s] [-v] [--] CMD [ARGS...]\n"
	      "Runs CMD as the child of a minimal init: forwards signals to it, reaps\n"
	      "zombies, and exits with its status (128+N when signal N killed it).\n"
	      "\n"
	      "  -s         register as child subreaper, fail if that is not possible\n"
	      "  -v         print debug lines on stderr (also BERTH_INIT_VERBOSE=1)\n"
	      "  -h         show this help\n"
	      "  --version  show the version\n",
	      out);
}

/* The signals berth-init waits for and forwards: all but those the kernel
 * raises on a fault of berth-init itself, which must still kill it. */
static void catchable_signals(sigset_t *set)
{
	static const int synchronous[] = {
		SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS
	};

	sigfillset(set);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(set, synchronous[i]);
}

/* In the child: own process group, the terminal's foreground when stdin is
 * one (so ^C and job control reach the command, as tini does), the
 * original signal mask, then exec.  Never returns. */
static void exec_child(char **argv, const sigset_t *orig_mask)
{
	int e;

	setpgid(0, 0);
	/* SIGTTOU is still blocked here, so a background group may take the
	 * terminal. */
	if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY)
		say("cannot hand the terminal to %s: %s", argv[0], strerror(errno));
	sigprocmask(SIG_SETMASK, orig_mask, NULL);
	execvp(argv[0], argv);
	e = errno;
	say("cannot execute %s: %s", argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_NOT_EXEC);
}

/* Outside PID 1 orphans go to the nearest subreaper: make that us. */
static int become_subreaper(bool required)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0) {
		debug("registered as child subreaper");
		return 0;
	}
	if (required) {
		say("cannot register as child subreaper: %s", strerror(errno));
		return -1;
	}
	say("warning: neither PID 1 nor a child subreaper (%s): zombies may not be reaped",
	    strerror(errno));
	return 0;
}

/* Reaps every child that has exited.  Returns true once berth-init has no
 * children left at all. */
static bool reap_zombies(pid_t child, int *child_status, bool *child_done)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid == 0)
			return false;
		if (pid < 0)
			return errno == ECHILD;
		debug("reaped %d (status 0x%x)", (int)pid, status);
		if (pid == child) {
			*child_status = status;
			*child_done = true;
		}
	}
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	const char *p;
	FILE *f;
	size_t n;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': the fields after it start
	 * after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* Sends SIG to every process below berth-init; returns how many. */
static int signal_descendants(int sig)
{
	pid_t self = getpid();
	struct dirent *d;
	int count = 0;
	DIR *proc = opendir("/proc");

	if (proc == NULL) {
		say("cannot list /proc: %s", strerror(errno));
		return 0;
	}
	while ((d = readdir(proc)) != NULL) {
		pid_t pid = (pid_t)atoi(d->d_name);
		pid_t p = pid;

		if (pid <= 0 || pid == self)
			continue;
		for (int depth = 0; depth < MAX_TREE_DEPTH && p > 1 && p != self; depth++)
			p = parent_of(p);
		if (p == self && kill(pid, sig) == 0)
			count++;
	}
	closedir(proc);
	return count;
}

/* Sends SIG to every process left: the whole namespace when PID 1,
 * otherwise the processes berth-init is the subreaper of. */
static bool signal_leftovers(int sig)
{
	if (getpid() == 1)
		return kill(-1, sig) == 0;
	return signal_descendants(sig) > 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reaps until no child is left or MS milliseconds passed; true if none is
 * left. */
static bool reap_all_within(long long ms, pid_t child, int *child_status, bool *child_done)
{
	long long deadline = now_ms() + ms;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (!reap_zombies(child, child_status, child_done)) {
		long long left = deadline - now_ms();
		struct timespec ts;

		if (left <= 0)
			return false;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sigtimedwait(&chld, NULL, &ts);
	}
	return true;
}

static int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *env_verbose = getenv("BERTH_INIT_VERBOSE");
	bool force_subreaper = false, child_done = false;
	sigset_t catchable, orig_mask;
	int child_status = 0;
	int opt;
	pid_t child;

	verbose = env_verbose && env_verbose[0] && strcmp(env_verbose, "0") != 0;
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("berth-init %s\n", BERTH_INIT_VERSION);
		return 0;
	}
	while ((opt = getopt(argc, argv, "+svh")) != -1) {
		switch (opt) {
		case 's':
			force_subreaper = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	/* 1. Block every catchable signal: from here on they queue up and are
	 *    taken one by one below, none is lost between fork and the loop. */
	catchable_signals(&catchable);
	sigprocmask(SIG_BLOCK, &catchable, &orig_mask);
	/* A signal berth-init was started ignoring would be dropped before
	 * sigwaitinfo() could take it (and its command would inherit the
	 * ignoring): every one it forwards goes back to the default. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigismember(&catchable, sig) == 1 && sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN) {
			sa.sa_handler = SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	}
	if ((force_subreaper || getpid() != 1) && become_subreaper(force_subreaper) < 0)
		return 1;

	/* 2. Start the command. */
	child = fork();
	if (child < 0) {
		say("fork: %s", strerror(errno));
		return 1;
	}
	if (child == 0)
		exec_child(argv + optind, &orig_mask);
	debug("started %s as %d", argv[optind], (int)child);

	/* 3. Forward every signal to the command and reap whatever exits,
	 *    orphans included, until the command itself is gone. */
	while (!child_done) {
		siginfo_t info;
		int sig = sigwaitinfo(&catchable, &info);

		if (sig > 0 && sig != SIGCHLD) {
			debug("forwarding signal %d to %d", sig, (int)child);
			if (kill(child, sig) < 0 && errno != ESRCH)
				say("cannot forward signal %d: %s", sig, strerror(errno));
		}
		reap_zombies(child, &child_status, &child_done);
	}
	debug("%s exited with code %d", argv[optind], exit_code(child_status));

	/* 4. End what the command left behind: SIGTERM, a short grace, then
	 *    SIGKILL, reaping all of it. */
	if (signal_leftovers(SIGTERM) &&
	    !reap_all_within(GRACE_MS, child, &child_status, &child_done)) {
		debug("processes left after %d ms, sending SIGKILL", GRACE_MS);
		signal_leftovers(SIGKILL);
		reap_all_within(GRACE_MS, child, &child_status, &child_done);
	}
	return exit_code(child_status);
}
