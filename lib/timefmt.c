/* RFC 3339 times in Go's RFC3339Nano form. */
#include "lib/timefmt.h"

#include <stdio.h>
#include <string.h>

void time_format_rfc3339(const struct timespec *t, char out[TIME_RFC3339_SIZE])
{
	struct tm tm;
	char frac[16];
	size_t n;

	gmtime_r(&t->tv_sec, &tm);
	n = strftime(out, TIME_RFC3339_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
	/* Go's RFC3339Nano drops trailing zeros of the fraction, and the dot
	 * with them when nothing is left. */
	snprintf(frac, sizeof(frac), ".%09ld", t->tv_nsec);
	for (size_t k = strlen(frac); k > 1 && frac[k - 1] == '0'; k--)
		frac[k - 1] = '\0';
	if (frac[1] == '\0')
		frac[0] = '\0';
	snprintf(out + n, TIME_RFC3339_SIZE - n, "%sZ", frac);
}

void time_now_rfc3339(char out[TIME_RFC3339_SIZE])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339(&ts, out);
}
