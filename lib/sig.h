/* Signal names as Docker takes them: "SIGTERM", "TERM", "term" or "15". */
#ifndef BERTH_LIB_SIG_H
#define BERTH_LIB_SIG_H

/* The signal SPEC names: a number (1 to 64), or a name with or without
 * "SIG", in any case.  0 when there is no such signal. */
int sig_parse(const char *spec);

#endif
