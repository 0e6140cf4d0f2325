/* opt.c — strict number, duration and size parsers; see opt.h. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "opt.h"

/* Reads the leading decimal digits of s into *v; *end is the first byte
 * after them.  strtoull is not used: it takes a sign and white space. */
static int
digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*end = s;
	return 0;
}

/* Scales v by mult into *out, refusing anything above max. */
static int
scale(uint64_t v, uint64_t mult, uint64_t max, uint64_t *out)
{
	if (v > max / mult) {
		errno = ERANGE;
		return -1;
	}
	*out = v * mult;
	return 0;
}

int
parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (digits(s, &v, &end) != 0)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_duration_ms(const char *s, long long *ms)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
	    {"", 1000},
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60000},
	    {"h", 3600000},
	    {"d", 86400000},
	};
	const char *end;
	uint64_t v, r;
	size_t i;

	if (digits(s, &v, &end) != 0)
		return -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (scale(v, units[i].mult, LLONG_MAX, &r) != 0)
				return -1;
			*ms = (long long)r;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

int
parse_size(const char *s, unsigned long long *bytes)
{
	const char *end;
	uint64_t v, r;
	int shift;

	if (digits(s, &v, &end) != 0)
		return -1;
	switch (*end) {
	case '\0':
		shift = 0;
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (shift != 0 && end[1] != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (scale(v, (uint64_t)1 << shift, ULLONG_MAX, &r) != 0)
		return -1;
	*bytes = r;
	return 0;
}

void
opt_std(int ch, const char *tool, void (*usage)(FILE *))
{
	switch (ch) {
	case 'V':
		printf("%s %s\n", tool, SRDF_VERSION);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	case 'h':
		usage(stdout);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	default:
		usage(stderr);
		exit(EX_USAGE);
	}
}

void
opt_no_operands(int argc, void (*usage)(FILE *))
{
	if (optind < argc) {
		usage(stderr);
		exit(EX_USAGE);
	}
}

unsigned
opt_count(const char *s, const char *opt, unsigned lo, unsigned hi)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v < lo || v > hi)
		die(EX_USAGE, "bad %s %s (want %u to %u)", opt, s, lo, hi);
	return (unsigned)v;
}

/* "LO to HI" with each bound as the shortest exact form in the largest
 * unit that divides it ("7d", "250ms"; units[0] is the smallest), or
 * "at least LO" when hi is max (no upper bound). */
static const char *
want(unsigned long long lo, unsigned long long hi, unsigned long long max,
    const char *const *names, const unsigned long long *mult, size_t nunit,
    char *buf, size_t len)
{
	unsigned long long b[2] = {lo, hi};
	char s[2][32];
	size_t i, k;

	for (k = 0; k < 2; k++) {
		for (i = nunit - 1; i > 0 && (b[k] == 0 || b[k] % mult[i]);)
			i--;
		snprintf(s[k], sizeof s[k], "%llu%s", b[k] / mult[i], names[i]);
	}
	if (hi == max)
		snprintf(buf, len, "at least %s", s[0]);
	else
		snprintf(buf, len, "%s to %s", s[0], s[1]);
	return buf;
}

long long
opt_duration(const char *s, const char *opt, long long lo, long long hi)
{
	static const char *const names[] = {"ms", "s", "m", "h", "d"};
	static const unsigned long long mult[] = {
	    1, 1000, 60000, 3600000, 86400000};
	char w[80];
	long long v;

	if (parse_duration_ms(s, &v) != 0 || v < lo || v > hi)
		die(EX_USAGE, "bad %s %s (want %s)", opt, s,
		    want((unsigned long long)lo, (unsigned long long)hi,
		        LLONG_MAX, names, mult, 5, w, sizeof w));
	return v;
}

unsigned long long
opt_size(const char *s, const char *opt, unsigned long long lo,
    unsigned long long hi)
{
	static const char *const names[] = {"", "K", "M", "G"};
	static const unsigned long long mult[] = {
	    1, 1ULL << 10, 1ULL << 20, 1ULL << 30};
	char w[80];
	unsigned long long v;

	if (parse_size(s, &v) != 0 || v < lo || v > hi)
		die(EX_USAGE, "bad %s %s (want %s)", opt, s,
		    want(lo, hi, ULLONG_MAX, names, mult, 4, w, sizeof w));
	return v;
}
