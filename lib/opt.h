/*
 * opt.h — strict parsers for option values.
 *
 * parse_u64:         decimal digits only: "0" .. "18446744073709551615".
 * parse_duration_ms: digits and an optional unit: "250ms", "1s", "2m",
 *                    "1h", "7d"; a plain number is seconds.  Result in ms.
 * parse_size:        digits and an optional binary unit: "64K", "4M", "1G"
 *                    (k, m, g too; K = 1024); a plain number is bytes.
 *
 * opt_std:           the getopt_long cases every tool shares, for its
 *                    `default:': 'V' prints "TOOL VERSION" and exits 0,
 *                    'h' prints the usage on stdout and exits 0, anything
 *                    else (an unknown option) the usage on stderr and
 *                    exits EX_USAGE.  Never returns.
 * opt_no_operands:   after the options, exits EX_USAGE with the usage on
 *                    stderr when operands are left (optind < argc).
 *
 * Input fails closed: no sign, no white space, no
 * fraction, nothing after the unit, no empty string.
 *
 * Error handling: 0 on success; -1 with errno EINVAL for malformed input or
 * ERANGE when the value does not fit, and *out untouched.  Nothing is
 * logged: the caller names the option, e.g.
 *	if (parse_duration_ms(arg, &ms) != 0)
 *		die(EX_USAGE, "bad --window %s: %s", arg, strerror(errno));
 */
#ifndef SRDF_OPT_H
#define SRDF_OPT_H

#include <stdint.h>
#include <stdio.h>

void opt_std(int ch, const char *tool, void (*usage)(FILE *))
    __attribute__((noreturn));
void opt_no_operands(int argc, void (*usage)(FILE *));
int parse_u64(const char *s, uint64_t *out);
int parse_duration_ms(const char *s, long long *ms);
int parse_size(const char *s, unsigned long long *bytes);
/*
 * The option-value parsers for main()'s option loop (and only for it:
 * they die).  Each takes the value s of option opt (its long name with
 * the dashes, e.g. "--max-connections") and the inclusive bounds lo..hi,
 * and returns the value, or dies with EX_USAGE and one message form:
 *	bad OPT S (want LO to HI)
 * opt_count:    a count (parse_u64), bounds printed as numbers.
 * opt_duration: a duration (parse_duration_ms) in ms, bounds printed as
 *               durations ("1s", "7d").
 * opt_size:     a size in bytes (parse_size), bounds printed as sizes
 *               ("1K", "2G").
 * A hi of LLONG_MAX (opt_duration) or ULLONG_MAX (opt_size) is no upper
 * bound, said "(want at least LO)".
 */
unsigned opt_count(const char *s, const char *opt, unsigned lo, unsigned hi);
long long opt_duration(
    const char *s, const char *opt, long long lo, long long hi);
unsigned long long opt_size(const char *s, const char *opt,
    unsigned long long lo, unsigned long long hi);

#endif
