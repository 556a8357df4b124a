/* Signal names as Docker takes them (StopSignal, kill's signal). */
#include "lib/sig.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sig_parse(const char *spec)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP },	 { "INT", SIGINT },   { "QUIT", SIGQUIT },
		{ "ILL", SIGILL },	 { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
		{ "BUS", SIGBUS },	 { "FPE", SIGFPE },   { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 },	 { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE },	 { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "CHLD", SIGCHLD },	 { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		{ "TSTP", SIGTSTP },	 { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
		{ "URG", SIGURG },	 { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
		{ "IO", SIGIO },	 { "PWR", SIGPWR },   { "SYS", SIGSYS },
	};
	char *end;
	long n;

	if (!spec || !*spec)
		return 0;
	n = strtol(spec, &end, 10);
	if (*end == '\0')
		return n > 0 && n < 65 ? (int)n : 0;
	if (strncasecmp(spec, "SIG", 3) == 0)
		spec += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(spec, names[i].name) == 0)
			return names[i].sig;
	return 0;
}
