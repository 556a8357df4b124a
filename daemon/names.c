/* Container ids and names as Docker makes them: 64 random hex digits, names
 * that match [a-zA-Z0-9][a-zA-Z0-9_.-]+, and the random "adjective_surname"
 * a container gets when it is given none. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"

static int random_bytes(void *buf, size_t len, struct berr **err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berr_set(err, BERR_INTERNAL, errno, "getrandom");
		}
		got += (size_t)n;
	}
	return 0;
}

int daemon_id_generate(char out[DAEMON_ID_SIZE], struct berr **err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];

	/* Docker's stringid: a short id made only of digits would read as a
	 * number (and once made YAML tools and shells trip), so draw again. */
	for (;;) {
		if (random_bytes(raw, sizeof(raw), err) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(raw); i++) {
			out[2 * i] = hex[raw[i] >> 4];
			out[2 * i + 1] = hex[raw[i] & 15];
		}
		out[64] = '\0';
		if (strspn(out, "0123456789") < 12)
			return 0;
	}
}

int daemon_name_validate(const char *name, struct berr **err)
{
	const char *p = name && name[0] == '/' ? name + 1 : name;
	size_t len = p ? strlen(p) : 0;
	char first = len ? p[0] : '\0';

	if (len < 2 ||
	    !((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
	      (first >= '0' && first <= '9')) ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
		return berr_set(err, BERR_INVALID, 0,
				"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				"allowed",
				name ? name : "");
	return 0;
}

/* A few of the words of Docker's names generator. */
static const char *const adjectives[] = {
	"admiring", "adoring",	 "affectionate", "agitated", "amazing",	 "angry",    "awesome",
	"blissful", "bold",	 "boring",	 "brave",    "busy",	 "charming", "clever",
	"cool",	    "dazzling",	 "determined",	 "dreamy",   "eager",	 "ecstatic", "elastic",
	"elegant",  "epic",	 "festive",	 "focused",  "friendly", "frosty",   "funny",
	"gallant",  "gifted",	 "goofy",	 "happy",    "hopeful",	 "hungry",   "jolly",
	"keen",	    "kind",	 "laughing",	 "loving",   "lucid",	 "magical",  "modest",
	"nifty",    "nostalgic", "optimistic",	 "peaceful", "pensive",	 "quirky",   "relaxed",
	"serene",   "sharp",	 "silly",	 "sleepy",   "stoic",	 "sweet",    "tender",
	"upbeat",   "vibrant",	 "vigilant",	 "wizardly", "youthful", "zealous",  "zen",
};

static const char *const surnames[] = {
	"albattani",   "allen",	    "archimedes", "babbage", "bardeen",	 "bell",    "bohr",
	"brahmagupta", "cannon",    "carson",	  "cerf",    "curie",	 "darwin",  "dijkstra",
	"dirac",       "easley",    "einstein",	  "euclid",  "euler",	 "faraday", "fermat",
	"fermi",       "feynman",   "franklin",	  "galileo", "gauss",	 "goodall", "hamilton",
	"hawking",     "hopper",    "hypatia",	  "jackson", "jemison",	 "johnson", "kepler",
	"knuth",       "lamarr",    "lamport",	  "liskov",  "lovelace", "maxwell", "mcclintock",
	"meitner",     "mendel",    "morse",	  "napier",  "newton",	 "noether", "pascal",
	"pasteur",     "ramanujan", "ritchie",	  "shannon", "sinoussi", "swartz",  "tesla",
	"thompson",    "torvalds",  "turing",	  "wescoff", "wilson",	 "wing",    "wozniak",
	"wright",      "yalow",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

char *daemon_name_generate(unsigned attempt)
{
	uint32_t r[3] = { 0 };
	const char *adj, *sur;

	if (random_bytes(r, sizeof(r), NULL) < 0) {
		r[0] = (uint32_t)random();
		r[1] = (uint32_t)random();
		r[2] = (uint32_t)random();
	}
	for (;;) {
		adj = adjectives[r[0] % N_OF(adjectives)];
		sur = surnames[r[1] % N_OF(surnames)];
		/* Steve Wozniak is not boring (Docker's own exception). */
		if (strcmp(adj, "boring") != 0 || strcmp(sur, "wozniak") != 0)
			break;
		r[1]++;
	}
	if (attempt > 0)
		return str_printf("%s_%s%u", adj, sur, (unsigned)(r[2] % 10));
	return str_printf("%s_%s", adj, sur);
}
