/*
 * sqltext.h — reading the first words of an SQL statement, enough to
 * classify it (srdf-capture: DDL or statement-based DML; srdf-apply: a
 * CREATE/DROP DATABASE that must run without USE).  Not a parser.
 *
 * sql_skip_blank: returns the first byte at or after s (before end) that
 * is not a blank or a comment ("/ * ... * /", "#..." to the end of the
 * line); executable comments ("/ *! ...") are not skipped.
 * sql_word: after blanks and comments, if the text starts with w
 * (case-insensitive) as a whole word, advances *s past it and returns 1;
 * else returns 0 (*s may have moved past blanks and comments only).
 */
#ifndef SRDF_SQLTEXT_H
#define SRDF_SQLTEXT_H

const char *sql_skip_blank(const char *s, const char *end);
int sql_word(const char **s, const char *end, const char *w);

#endif
