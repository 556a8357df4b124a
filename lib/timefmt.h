/* Times as Docker and runc write them: RFC 3339 in UTC with the fraction of
 * Go's RFC3339Nano ("2026-11-22T07:45:01.12345Z", trailing zeros dropped). */
#ifndef BERTH_LIB_TIMEFMT_H
#define BERTH_LIB_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define TIME_RFC3339_SIZE 40

void time_format_rfc3339(const struct timespec *t, char out[TIME_RFC3339_SIZE]);
/* The current wall-clock time. */
void time_now_rfc3339(char out[TIME_RFC3339_SIZE]);

/* Parses an RFC 3339 time ("2026-11-22T07:45:01.5Z",
 * "2026-11-22T08:45:01+01:00") into *out.  Returns 0, or -1 when TEXT is
 * not one or NULL. */
int time_parse_rfc3339(const char *text, struct timespec *out);

/* Room for time_human_duration()'s text. */
#define TIME_HUMAN_SIZE 32

/* Docker's (go-units') words for a duration of SECONDS: "Less than a
 * second", "3 seconds", "About a minute", "5 hours", "2 weeks"... */
void time_human_duration(int64_t seconds, char out[TIME_HUMAN_SIZE]);

#endif
