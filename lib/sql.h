/*
 * sql.h — srdf-record(5) values as MariaDB SQL text.
 *
 * sql_ident appends `name` quoted as an identifier (backquotes doubled).
 * sql_literal appends the literal for one record value: null → NULL,
 * integer → digits, real → %.17g, string → '...' with the characters
 * the server treats specially escaped (the session must not have
 * NO_BACKSLASH_ESCAPES), {"b64":...} → _binary'...' with the same
 * escapes (the exact bytes; '' for none).  Strings
 * are UTF-8 and assume a utf8mb4 connection; TIMESTAMP strings are UTC
 * and assume time_zone='+00:00'.
 * Returns 0, or -1 when v is not a record value (bad base64, an array).
 */
#ifndef SRDF_SQL_H
#define SRDF_SQL_H

#include <jansson.h>

#include "buf.h"
#include "scan.h"

void sql_ident(struct buf *b, const char *name);
int sql_literal(struct buf *b, json_t *v);
/* The same literal for the text of one JSON value that scan_record has
 * accepted (no surrounding blanks); tmp is scratch.  Byte for byte what
 * sql_literal writes for the value jansson would parse from v. */
int sql_literal_span(struct buf *b, struct jspan v, struct buf *tmp);

#endif
