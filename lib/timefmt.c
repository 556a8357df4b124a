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
	/* Not strftime(): it reads the local time zone's file, which a UTC
	 * time never needs. */
	n = (size_t)snprintf(out, TIME_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
	if (n >= TIME_RFC3339_SIZE)
		n = TIME_RFC3339_SIZE - 1;
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

void time_human_duration(int64_t seconds, char out[TIME_HUMAN_SIZE])
{
	int64_t minutes = seconds / 60;
	/* go-units rounds hours to the nearest whole one. */
	int64_t hours = (seconds + 1800) / 3600;

	if (seconds < 1)
		snprintf(out, TIME_HUMAN_SIZE, "Less than a second");
	else if (seconds == 1)
		snprintf(out, TIME_HUMAN_SIZE, "1 second");
	else if (seconds < 60)
		snprintf(out, TIME_HUMAN_SIZE, "%lld seconds", (long long)seconds);
	else if (minutes == 1)
		snprintf(out, TIME_HUMAN_SIZE, "About a minute");
	else if (minutes < 60)
		snprintf(out, TIME_HUMAN_SIZE, "%lld minutes", (long long)minutes);
	else if (hours == 1)
		snprintf(out, TIME_HUMAN_SIZE, "About an hour");
	else if (hours < 48)
		snprintf(out, TIME_HUMAN_SIZE, "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(out, TIME_HUMAN_SIZE, "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(out, TIME_HUMAN_SIZE, "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(out, TIME_HUMAN_SIZE, "%lld months", (long long)(hours / 24 / 30));
	else
		snprintf(out, TIME_HUMAN_SIZE, "%lld years",
			 (long long)(seconds / 3600 / 24 / 365));
}
