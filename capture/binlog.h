/*
 * binlog.h — srdf-capture's reading of MariaDB binlog events.
 *
 * Formats implemented, from MariaDB's documentation of the replication
 * protocol ("Binlog Event Header", "GTID_EVENT", "TABLE_MAP_EVENT",
 * "ROWS_EVENT_V1/V2", "QUERY_EVENT", "XA_PREPARE_LOG_EVENT",
 * "Compressed events") and the server's row-image pack formats per column
 * type.  Connector/C is used for the connection and COM_BINLOG_DUMP only;
 * every event is decoded here from its raw bytes.
 *
 * All integers in event headers are little-endian; temporal and DECIMAL
 * row values are big-endian as the server packs them.
 */
#ifndef SRDF_CAPTURE_BINLOG_H
#define SRDF_CAPTURE_BINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Event type codes (MariaDB "Log Event Type"). */
enum {
	EV_QUERY = 2,
	EV_STOP = 3,
	EV_ROTATE = 4,
	EV_INTVAR = 5,
	EV_RAND = 13,
	EV_USER_VAR = 14,
	EV_FORMAT_DESCRIPTION = 15,
	EV_XID = 16,
	EV_TABLE_MAP = 19,
	EV_WRITE_ROWS_V1 = 23,
	EV_UPDATE_ROWS_V1 = 24,
	EV_DELETE_ROWS_V1 = 25,
	EV_INCIDENT = 26,
	EV_HEARTBEAT = 27,
	EV_WRITE_ROWS = 30,
	EV_UPDATE_ROWS = 31,
	EV_DELETE_ROWS = 32,
	EV_XA_PREPARE = 38,
	EV_ANNOTATE_ROWS = 160,
	EV_BINLOG_CHECKPOINT = 161,
	EV_GTID = 162,
	EV_GTID_LIST = 163,
	EV_START_ENCRYPTION = 164,
	EV_QUERY_COMPRESSED = 165,
	EV_WRITE_ROWS_COMPRESSED_V1 = 166,
	EV_UPDATE_ROWS_COMPRESSED_V1 = 167,
	EV_DELETE_ROWS_COMPRESSED_V1 = 168,
	EV_WRITE_ROWS_COMPRESSED = 169,
	EV_UPDATE_ROWS_COMPRESSED = 170,
	EV_DELETE_ROWS_COMPRESSED = 171,
};

#define EV_HEADER_LEN 19

/* GTID_EVENT flags2. */
#define GTID_FL_STANDALONE 0x01
#define GTID_FL_GROUP_COMMIT_ID 0x02
#define GTID_FL_DDL 0x20
#define GTID_FL_PREPARED_XA 0x40
#define GTID_FL_COMPLETED_XA 0x80

/* ROWS event flags: the session that wrote the rows had
 * foreign_key_checks=0. */
#define ROWS_NO_FOREIGN_KEY_CHECKS 0x0002

/* Column types as they appear in TABLE_MAP (enum_field_types). */
enum {
	T_DECIMAL = 0,
	T_TINY = 1,
	T_SHORT = 2,
	T_LONG = 3,
	T_FLOAT = 4,
	T_DOUBLE = 5,
	T_NULL = 6,
	T_TIMESTAMP = 7,
	T_LONGLONG = 8,
	T_INT24 = 9,
	T_DATE = 10,
	T_TIME = 11,
	T_DATETIME = 12,
	T_YEAR = 13,
	T_NEWDATE = 14,
	T_VARCHAR = 15,
	T_BIT = 16,
	T_TIMESTAMP2 = 17,
	T_DATETIME2 = 18,
	T_TIME2 = 19,
	T_BLOB_COMPRESSED = 140,
	T_VARCHAR_COMPRESSED = 141,
	T_NEWDECIMAL = 246,
	T_ENUM = 247,
	T_SET = 248,
	T_TINY_BLOB = 249,
	T_MEDIUM_BLOB = 250,
	T_LONG_BLOB = 251,
	T_BLOB = 252,
	T_VAR_STRING = 253,
	T_STRING = 254,
	T_GEOMETRY = 255,
};

struct column {
	uint8_t type;      /* real type: STRING's metadata resolved */
	uint8_t unsig;     /* UNSIGNED numeric */
	uint8_t text;      /* CS_UTF8 or CS_ASCII: see struct charsets */
	uint8_t binary;    /* binary charset: pad BINARY with 0x00 */
	uint16_t meta;     /* length, pack length, fsp, or bits */
	uint8_t prec;      /* DECIMAL precision */
	uint8_t scale;     /* DECIMAL scale */
	uint32_t charset;  /* collation id, 0 if not a character column */
	char *name;        /* column name, NUL-terminated */
	uint32_t nelem;    /* ENUM/SET members */
	char **elem;       /* member texts, NUL-terminated */
	uint32_t *elemlen; /* their lengths in bytes */
};

struct table {
	uint64_t id;
	char *db;
	char *name;
	uint32_t ncols;
	struct column *col;
	uint32_t npk;
	uint32_t *pk;      /* column indexes in key order */
	int captured;      /* passes the --include/--exclude filters */
	int cascade;       /* the parent of a cascading foreign key */
	int resync;        /* srdf.resync: srdf-bootstrap --resync's
			    * watermarks (capture.c, "Resync chunks") */
	struct buf head;   /* "db":"..","table":"..","pk":[..] */
	struct buf *cname; /* per column: "name": */
};

/*
 * Collation id → character set class, loaded once from the server.
 * A value is written as a JSON string only when its bytes mean the same
 * text in UTF-8: always for utf8mb3/utf8mb4, and for the other
 * ASCII-compatible charsets (latin1, cp1251, sjis, ...) when every byte
 * is below 0x80.  Everything else is written as base64.
 */
enum { CS_OTHER, CS_UTF8, CS_BINARY, CS_ASCII };
struct charsets {
	uint8_t *cls; /* CS_* per collation id */
	uint32_t n;
};

/*
 * tablemap_parse — decode a TABLE_MAP event body (after the 19-byte
 * header, without the CRC) into *t, which the caller zeroed or freed.
 * Needs binlog_row_metadata=FULL for names, signedness, charsets,
 * ENUM/SET members and the primary key.
 * Returns 0, or -1 with a reason in err (the event is malformed).
 */
int tablemap_parse(const uint8_t *p, size_t n, int post_header_len,
    const struct charsets *cs, struct table *t, char *err, size_t errlen);
void table_free(struct table *t);

/*
 * rows_emit — decode one ROWS event (V1 or V2, compressed already
 * expanded by the caller) for table t, appending one srdf-record(5) line
 * per row change to out.  type is insert/update/delete (0/1/2).
 * Returns the number of row changes, or -1 with a reason in err.
 */
int rows_emit(const uint8_t *p, size_t n, int v2, int kind,
    const struct table *t, struct buf *out, char *err, size_t errlen);

/* binlog_uncompress — expand MariaDB's zlib-compressed block at
 * p[0..n) (header byte 0x80|lenlen, big-endian length, zlib data) into
 * out (replacing its contents).  Returns 0 or -1. */
int binlog_uncompress(const uint8_t *p, size_t n, struct buf *out);

/* Little-endian readers. */
static inline uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static inline uint32_t
le24(const uint8_t *p)
{
	return le16(p) | (uint32_t)p[2] << 16;
}
static inline uint32_t
le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}
static inline uint64_t
le48(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le16(p + 4) << 32;
}
static inline uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Length-encoded integer ("packed integer"): returns bytes used, 0 if it
 * does not fit in n. */
size_t lenenc(const uint8_t *p, size_t n, uint64_t *v);

#endif
