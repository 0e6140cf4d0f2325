/* sqltext.c — first words of SQL statements; see sqltext.h. */
#include <string.h>
#include <strings.h>

#include "sqltext.h"

const char *
sql_skip_blank(const char *s, const char *end)
{
	for (;;) {
		while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' ||
				      *s == '\r'))
			s++;
		if (end - s >= 2 && s[0] == '/' && s[1] == '*' &&
		    !(end - s >= 3 && s[2] == '!')) {
			const char *c = s + 2;

			while (c + 1 < end && !(c[0] == '*' && c[1] == '/'))
				c++;
			s = c + 2 <= end ? c + 2 : end;
			continue;
		}
		if (s < end && *s == '#') {
			while (s < end && *s != '\n')
				s++;
			continue;
		}
		return s;
	}
}

int
sql_word(const char **s, const char *end, const char *w)
{
	size_t n = strlen(w);
	char c;

	*s = sql_skip_blank(*s, end);
	if ((size_t)(end - *s) < n || strncasecmp(*s, w, n) != 0)
		return 0;
	if ((size_t)(end - *s) > n) {
		c = (*s)[n];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			return 0;
	}
	*s += n;
	return 1;
}
