/* RFC 3339 times in Go's RFC3339Nano form. */
#include "lib/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
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

int time_parse_rfc3339(const char *text, struct timespec *out)
{
	struct tm tm = { 0 };
	const char *p = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	long nsec = 0, scale = 100000000;
	time_t secs;

	if (!p)
		return -1;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			nsec += (*p - '0') * scale;
	}
	secs = timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		char *end;
		long hh = strtol(p + 1, &end, 10), mm;

		if (end != p + 3 || *end != ':')
			return -1;
		mm = strtol(end + 1, &end, 10);
		if (end != p + 6 || hh > 23 || mm > 59)
			return -1;
		/* The local time is ahead of UTC by the offset. */
		secs -= sign * (hh * 3600 + mm * 60);
		p = end;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	out->tv_sec = secs;
	out->tv_nsec = nsec;
	return 0;
}
