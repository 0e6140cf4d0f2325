/*
 * http.c — the HTTP server (libmicrohttpd) and client (libcurl) of the
 * transport tools; see http.h for what each side does and answers.
 *
 * Server.  A request's state is created at the first call of the access
 * handler (headers complete).  Everything that can be refused without
 * the body is refused then, and libmicrohttpd closes the connection
 * after that answer without reading the body: an oversized or unwanted
 * upload costs the sender, never our memory.  The body's buffer is
 * reserved against max_memory in one piece (Content-Length is required)
 * and released when the request completes, however it completes.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "http.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "wagon.h"

#define OLD_MAX 8 /* daemons replaced by http_reload_tls, still serving */

struct http_server {
	struct http_server_opts o;
	struct MHD_Daemon *d;
	char *cert, *key; /* PEM, in memory for MHD */
	unsigned flags;   /* MHD_start_daemon's */
	/* Replaced by http_reload_tls: they accept nothing, and finish the
	 * connections they hold; stopped by http_stop, with their PEM. */
	struct MHD_Daemon *old[OLD_MAX];
	char *old_cert[OLD_MAX], *old_key[OLD_MAX];
	size_t nold;
	_Atomic int draining;
	_Atomic unsigned in_flight;
	_Atomic size_t mem;
	unsigned port;
};

struct request {
	const struct http_route *route;
	uint8_t *body;
	size_t len, cap;
	size_t reserved; /* bytes counted in s->mem */
	int counted;     /* in s->in_flight */
	int authed;      /* the header verified: answers are signed */
	struct hauth_head auth;
	char target[HTTP_TARGET_MAX + 1]; /* as sent, maybe cut short */
	int target_long;                  /* longer than HTTP_TARGET_MAX */
	char peer[64];
};

json_t *
http_answer(const char *status, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	/* A reason quoting input may hold bytes that are not UTF-8. */
	j = json_pack("{s:s, s:s}", "status", status, "reason", reason);
	if (j == NULL)
		j = json_pack("{s:s, s:s}", "status", status, "reason",
		    "(reason not representable)");
	if (j == NULL)
		die(EX_OSERR, "out of memory");
	return j;
}

static void
peer_name(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t sl;

	snprintf(out, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sl = ci->client_addr->sa_family == AF_INET6
	         ? sizeof(struct sockaddr_in6)
	         : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, sl, host, sizeof host, serv,
	        sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, len, "%.46s:%.8s", host, serv);
}

/* Queues status with answer (consumed), signed when the request was
 * authenticated (rq->authed). */
static enum MHD_Result
respond(const struct http_server *sv, struct MHD_Connection *c,
    const struct request *rq, int status, json_t *answer, const char *allow)
{
	char sig[HAUTH_VALUE_LEN];
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *s, *t;
	size_t n;

	s = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	if (s == NULL)
		return MHD_NO;
	n = strlen(s);
	/* One line, so that curl(1) and jq read it comfortably. */
	if ((t = realloc(s, n + 2)) == NULL) {
		free(s);
		return MHD_NO;
	}
	s = t;
	s[n++] = '\n';
	s[n] = '\0';
	r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(
	    r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (rq != NULL && rq->authed) {
		hauth_sign_answer(
		    rq->auth.key, rq->auth.nonce, status, s, n, sig);
		MHD_add_response_header(r, HAUTH_ANSWER_HEADER, sig);
	}
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A refusal the server makes itself: logged, then answered. */
static enum MHD_Result
refuse(const struct http_server *s, struct MHD_Connection *c,
    const struct request *rq, const char *method, const char *url, int status,
    const char *word, const char *reason)
{
	log_notice("%s %.200s from %s: %d %s: %s", method, url, rq->peer,
	    status, word, reason);
	return respond(s, c, rq, status, http_answer(word, "%s", reason), NULL);
}

/* Counts the request headers named name (case-insensitively). */
struct hcount {
	const char *name;
	unsigned n;
};

static enum MHD_Result
count_header(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct hcount *h = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, h->name) == 0)
		h->n++;
	return MHD_YES;
}

/* The request's state, made by MHD before it decodes the target, so that
 * the target is seen as it was sent. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct request *rq;
	size_t n = strlen(uri);

	(void)cls;
	if ((rq = calloc(1, sizeof *rq)) == NULL)
		return NULL;
	rq->target_long = n > HTTP_TARGET_MAX;
	memcpy(rq->target, uri, rq->target_long ? HTTP_TARGET_MAX : n);
	peer_name(c, rq->peer, sizeof rq->peer);
	return rq;
}

/* Why a request is refused, for refuse(): the HTTP status, the answer's
 * status word and the reason. */
struct refusal {
	int status;
	const char *word;
	char reason[512];
};

static int __attribute__((format(printf, 4, 5))) set_refusal(
    struct refusal *rf, int status, const char *word, const char *fmt, ...)
{
	va_list ap;

	rf->status = status;
	rf->word = word;
	va_start(ap, fmt);
	vsnprintf(rf->reason, sizeof rf->reason, fmt, ap);
	va_end(ap);
	return -1;
}

/* The route of method on url, or NULL; allow (allowlen bytes) then lists
 * the methods the path has, ", "-separated ("" for no such path). */
static const struct http_route *
find_route(const struct http_server *s, const char *method, const char *url,
    char *allow, size_t allowlen)
{
	const struct http_route *rt = NULL;

	for (size_t i = 0; i < s->o.nroutes; i++) {
		if (strcmp(url, s->o.routes[i].path) != 0)
			continue;
		if (strcmp(method, s->o.routes[i].method) == 0)
			rt = &s->o.routes[i];
		else if (strlen(allow) + strlen(s->o.routes[i].method) + 3 <
		         allowlen)
			snprintf(allow + strlen(allow),
			    allowlen - strlen(allow), "%s%s",
			    *allow ? ", " : "", s->o.routes[i].method);
	}
	return rt;
}

/* The body's length from c's headers, checked against the length rq's
 * signature covers and --max-body: 0 with *len, or -1 with *rf. */
static int
body_length(const struct http_server *s, struct MHD_Connection *c,
    const struct request *rq, const char *method, uint64_t *len,
    struct refusal *rf)
{
	struct hcount hc = {MHD_HTTP_HEADER_CONTENT_LENGTH, 0};
	const char *te = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *cl = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	*len = 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hc);
	if (te != NULL || (cl == NULL && strcmp(method, "POST") == 0))
		return set_refusal(rf, MHD_HTTP_LENGTH_REQUIRED,
		    "invalid_payload",
		    "a body needs Content-Length, "
		    "not Transfer-Encoding or the end of the connection");
	if (hc.n > 1)
		return set_refusal(rf, MHD_HTTP_BAD_REQUEST, "invalid_payload",
		    "more than one Content-Length");
	if (cl != NULL && parse_u64(cl, len) != 0)
		return set_refusal(rf, MHD_HTTP_BAD_REQUEST, "invalid_payload",
		    "malformed Content-Length");
	if (*len != rq->auth.len)
		return set_refusal(rf, MHD_HTTP_BAD_REQUEST, "invalid_payload",
		    "Content-Length %llu, signed as %llu",
		    (unsigned long long)*len, (unsigned long long)rq->auth.len);
	if (*len > s->o.max_body)
		return set_refusal(rf, MHD_HTTP_CONTENT_TOO_LARGE, "rejected",
		    "body of %llu bytes is over the limit of %zu (--max-body)",
		    (unsigned long long)*len, s->o.max_body);
	return 0;
}

/* Reserves len bytes of --max-memory for rq's body and allocates it: 0,
 * or -1 with *rf.  Only a holder of the key gets this far. */
static int
reserve_body(
    struct http_server *s, struct request *rq, uint64_t len, struct refusal *rf)
{
	size_t cur = atomic_load(&s->mem);

	do {
		if (cur + len > s->o.max_memory)
			return set_refusal(rf, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "busy",
			    "%zu bytes of requests in flight, %llu more would "
			    "pass --max-memory; try again later",
			    cur, (unsigned long long)len);
	} while (!atomic_compare_exchange_weak(&s->mem, &cur, cur + len));
	rq->reserved = len;
	rq->cap = len;
	if (len > 0 && (rq->body = malloc(len)) == NULL)
		return set_refusal(
		    rf, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "out of memory");
	return 0;
}

static enum MHD_Result
first_call(struct http_server *s, struct MHD_Connection *c, const char *url,
    const char *method, struct request *rq)
{
	const char *hv;
	const struct srdf_key *key;
	uint8_t kid[8];
	const struct http_route *rt;
	struct refusal rf;
	char why[512], allow[64] = "";
	uint64_t len;
	int rc;

	/* What is signed is the target as sent; what is routed is MHD's
	 * decoding of it.  srdf never sends a query or a %-escape, so the
	 * two must be the same bytes. */
	if (rq->target_long || strcmp(rq->target, url) != 0)
		return refuse(s, c, rq, method, rq->target,
		    MHD_HTTP_BAD_REQUEST, "rejected",
		    "the request target "
		    "must be a plain path: no query string, no %-escape");
	hv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, HAUTH_HEADER);
	key = s->o.ring != NULL ? keyring_key(s->o.ring) : s->o.key;
	rc = hauth_verify_head(key, s->o.to, s->o.cache, method, url, hv,
	    time(NULL), &rq->auth, why, sizeof why);
	/* A key id we lack: the key file may hold it by now (srdf-keygen(1)
	 * KEY ROTATION). */
	if (rc == HAUTH_EKEY && s->o.ring != NULL &&
	    hauth_key_id(hv, kid) == 0 &&
	    (key = keyring_find(s->o.ring, kid)) != NULL)
		rc = hauth_verify_head(key, s->o.to, s->o.cache, method, url,
		    hv, time(NULL), &rq->auth, why, sizeof why);
	/* "Not now" goes to a holder of the key: signed, so that the
	 * sender waits instead of doubting the answer. */
	if (rc == HAUTH_OK || rc == HAUTH_EBUSY)
		rq->authed = 1;
	if (rc == HAUTH_EBUSY)
		return refuse(s, c, rq, method, url,
		    MHD_HTTP_SERVICE_UNAVAILABLE, "busy", why);
	if (rc != HAUTH_OK)
		return refuse(s, c, rq, method, url, MHD_HTTP_UNAUTHORIZED,
		    "rejected", why);
	rt = find_route(s, method, url, allow, sizeof allow);
	if (rt == NULL && *allow != '\0') {
		log_notice(
		    "%s %.200s from %s: 405 rejected", method, url, rq->peer);
		return respond(s, c, rq, MHD_HTTP_METHOD_NOT_ALLOWED,
		    http_answer("rejected",
		        "method %s not allowed here "
		        "(allowed: %s)",
		        method, allow),
		    allow);
	}
	if (rt == NULL)
		return refuse(s, c, rq, method, url, MHD_HTTP_NOT_FOUND,
		    "rejected", "no such endpoint");
	rq->route = rt;
	if (s->draining)
		return refuse(s, c, rq, method, url,
		    MHD_HTTP_SERVICE_UNAVAILABLE, "draining",
		    "the server is stopping; try again later");
	if (body_length(s, c, rq, method, &len, &rf) != 0 ||
	    reserve_body(s, rq, len, &rf) != 0)
		return refuse(
		    s, c, rq, method, url, rf.status, rf.word, rf.reason);
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct request *rq = *req_cls;
	struct http_req hr;
	json_t *answer = NULL;
	uint8_t head[WAGON_SUM_LEN], whole[HAUTH_SUM_LEN];
	char err[256];
	int status;

	if (rq == NULL) /* on_uri ran out of memory */
		return MHD_NO;
	if (!rq->counted) {
		rq->counted = 1;
		atomic_fetch_add(&s->in_flight, 1);
		return first_call(s, c, url, method, rq);
	}
	if (*upload_data_size > 0) {
		/* MHD delivers no more than Content-Length; be sure anyway. */
		if (*upload_data_size > rq->cap - rq->len)
			return MHD_NO;
		memcpy(rq->body + rq->len, upload_data, *upload_data_size);
		rq->len += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->len != rq->cap)
		return MHD_NO;
	wagon_sums(
	    rq->body ? rq->body : (const uint8_t *)"", rq->len, head, whole);
	if (hauth_verify_body(&rq->auth, whole, rq->len, err, sizeof err) !=
	    HAUTH_OK)
		return refuse(s, c, rq, method, url, MHD_HTTP_BAD_REQUEST,
		    "invalid_payload", err);
	hr.method = method;
	hr.path = url;
	hr.body = rq->body ? rq->body : (const uint8_t *)"";
	hr.len = rq->len;
	hr.head_sum = rq->len >= WAGON_SUM_LEN ? head : NULL;
	hr.peer = rq->peer;
	hr.server = s;
	status = rq->route->fn(s->o.arg, &hr, &answer);
	if (answer == NULL)
		answer = http_answer("busy", "internal error");
	/* The body is no longer needed: give its memory back now, not when
	 * the answer has been sent. */
	free(rq->body);
	rq->body = NULL;
	atomic_fetch_sub(&s->mem, rq->reserved);
	rq->reserved = 0;
	return respond(s, c, rq, status, answer, NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request *rq = *req_cls;

	if (rq == NULL)
		return;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		log_notice("request from %s: closed after %u s idle", rq->peer,
		    s->o.idle_timeout);
	else if (toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT)
		log_info("request from %s: the client went away", rq->peer);
	atomic_fetch_sub(&s->mem, rq->reserved);
	if (rq->counted)
		atomic_fetch_sub(&s->in_flight, 1);
	free(rq->body);
	free(rq);
	*req_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_info("http: %s", msg);
}

/* The whole of a PEM file, NUL-terminated; NULL with err. */
static char *
slurp(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(
		    err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > 1024 * 1024) {
		snprintf(
		    err, errlen, "%s is not a PEM file of at most 1 MiB", path);
		close(fd);
		return NULL;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL ||
	    read(fd, p, (size_t)st.st_size) != st.st_size) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    p ? strerror(errno) : "out of memory");
		free(p);
		close(fd);
		return NULL;
	}
	p[st.st_size] = '\0';
	close(fd);
	return p;
}

/* "host:port" or "[v6]:port" into a socket address. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6,
    char *err, size_t errlen)
{
	char host[256];
	const char *colon, *h = listen, *port;
	struct addrinfo hints, *ai;
	size_t hl;
	int rc;

	if (*listen == '[') {
		colon = strstr(listen, "]:");
		h = listen + 1;
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - h);
		port = colon + 2;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - h);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof host || *port == '\0')
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "cannot use --listen %s: %s", listen,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(
	    err, errlen, "--listen %s is not HOST:PORT or [V6]:PORT", listen);
	return -1;
}

static void
free_pem(char *cert, char *key)
{
	if (key != NULL)
		sodium_memzero(key, strlen(key));
	free(cert);
	free(key);
}

/* Reads o->cert and o->tls_key into *cert and *key (malloc'd): 0, or -1
 * with err (and nothing to free). */
static int
read_tls(const struct http_server_opts *o, char **cert, char **key, char *err,
    size_t errlen)
{
	struct stat st;

	*cert = *key = NULL;
	if ((*cert = slurp(o->cert, err, errlen)) == NULL ||
	    (*key = slurp(o->tls_key, err, errlen)) == NULL)
		goto fail;
	/* Group may read it (Debian's ssl-cert group); others not. */
	if (stat(o->tls_key, &st) == 0 && (st.st_mode & 007) != 0) {
		snprintf(err, errlen,
		    "--tls-key %s has mode %04o: "
		    "every user of this host can read the TLS private "
		    "key; chmod o-rwx it",
		    o->tls_key, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	return 0;
fail:
	free_pem(*cert, *key);
	*cert = *key = NULL;
	return -1;
}

/* An MHD daemon for s with this certificate and key (NULL: plain HTTP),
 * bound to ss, or taking over the listening socket fd when fd >= 0. */
static struct MHD_Daemon *
start_daemon(struct http_server *s, const struct sockaddr_storage *ss,
    MHD_socket fd, char *cert, char *key)
{
	const struct http_server_opts *o = &s->o;
	struct MHD_OptionItem ops[16];
	int n = 0;

	/* The logger first, so that MHD never prints on its own. */
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s};
	if (fd != MHD_INVALID_SOCKET)
		ops[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_LISTEN_SOCKET, (intptr_t)fd, NULL};
	else
		ops[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_SOCK_ADDR, 0, (void *)ss};
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_LIMIT, (intptr_t)o->max_conn, NULL};
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->idle_timeout, NULL};
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(32 * 1024), NULL};
	ops[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (intptr_t)o->max_peer_conn, NULL};
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
	ops[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s};
	if (o->threads > 1)
		ops[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->threads, NULL};
	if (cert != NULL) {
		ops[n++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
		ops[n++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
		ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES,
		    0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
	}
	ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return MHD_start_daemon(s->flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

struct http_server *
http_start(const struct http_server_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct http_server *s;
	const union MHD_DaemonInfo *di;
	unsigned flags;
	int v6;

	if (parse_listen(o->listen, &ss, &v6, err, errlen) != 0)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	        MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (o->cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS");
			goto fail;
		}
		if (read_tls(o, &s->cert, &s->key, err, errlen) != 0)
			goto fail;
		flags |= MHD_USE_TLS;
	}
	s->flags = flags;
	s->d = start_daemon(s, &ss, MHD_INVALID_SOCKET, s->cert, s->key);
	if (s->d == NULL) {
		snprintf(err, errlen,
		    "cannot listen on %s (address in use, "
		    "or the certificate and key do not load; see above)",
		    o->listen);
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	return s;
fail:
	free_pem(s->cert, s->key);
	free(s);
	return NULL;
}

int
http_reload_tls(struct http_server *s, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	char *cert, *key;
	MHD_socket fd, q;

	if (s->o.cert == NULL || atomic_load(&s->draining))
		return 0;
	if (read_tls(&s->o, &cert, &key, err, errlen) != 0)
		return -1;
	if (strcmp(cert, s->cert) == 0 && strcmp(key, s->key) == 0) {
		free_pem(cert, key);
		return 0;
	}
	/* The new daemon listens on a copy of the socket before the old
	 * one stops accepting: no connection is refused meanwhile, and a
	 * certificate that does not load leaves the old daemon as it was. */
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (di == NULL || (fd = dup(di->listen_fd)) < 0) {
		snprintf(err, errlen, "cannot reload the TLS certificate: %s",
		    di == NULL ? "no listening socket" : strerror(errno));
		free_pem(cert, key);
		return -1;
	}
	if ((d = start_daemon(s, NULL, fd, cert, key)) == NULL) {
		close(fd);
		free_pem(cert, key);
		snprintf(err, errlen,
		    "the certificate %s and key %s do not load (see above): "
		    "the ones read before stay in use",
		    s->o.cert, s->o.tls_key);
		return -1;
	}
	if (s->nold == OLD_MAX) {
		/* Its connections were idle for 7 reloads at least. */
		MHD_stop_daemon(s->old[0]);
		free_pem(s->old_cert[0], s->old_key[0]);
		memmove(s->old, s->old + 1, (OLD_MAX - 1) * sizeof s->old[0]);
		memmove(s->old_cert, s->old_cert + 1,
		    (OLD_MAX - 1) * sizeof s->old_cert[0]);
		memmove(s->old_key, s->old_key + 1,
		    (OLD_MAX - 1) * sizeof s->old_key[0]);
		s->nold--;
	}
	if ((q = MHD_quiesce_daemon(s->d)) != MHD_INVALID_SOCKET)
		close(q);
	s->old[s->nold] = s->d;
	s->old_cert[s->nold] = s->cert;
	s->old_key[s->nold++] = s->key;
	s->d = d;
	s->cert = cert;
	s->key = key;
	return 1;
}

unsigned
http_port(const struct http_server *s)
{
	return s->port;
}

void
http_url(const struct http_server *s, char *buf, size_t len)
{
	const char *colon = strrchr(s->o.listen, ':');
	int hl = colon ? (int)(colon - s->o.listen) : 0;

	snprintf(buf, len, "%s://%.*s:%u", s->o.cert ? "https" : "http", hl,
	    s->o.listen, s->port);
}

void
http_drain(struct http_server *s)
{
	MHD_socket fd;

	if (atomic_exchange(&s->draining, 1))
		return;
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void
http_drain_wait(struct http_server *s, long long grace_ms, int sigfd)
{
	struct pollfd p = {sigfd, POLLIN, 0};
	long long waited;

	http_drain(s);
	/* Polled, but only while stopping, and for grace_ms at most. */
	for (waited = 0; http_in_flight(s) > 0 && waited < grace_ms;
	     waited += 20)
		if (poll(&p, 1, 20) > 0)
			break;
}

int
http_draining(const struct http_server *s)
{
	return atomic_load(&s->draining);
}

unsigned
http_in_flight(const struct http_server *s)
{
	return atomic_load(&s->in_flight);
}

size_t
http_memory_used(const struct http_server *s)
{
	return atomic_load(&s->mem);
}

void
http_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	for (size_t i = 0; i < s->nold; i++) {
		MHD_stop_daemon(s->old[i]);
		free_pem(s->old_cert[i], s->old_key[i]);
	}
	free_pem(s->cert, s->key);
	free(s);
}

/* ---- client -------------------------------------------------------------- */

int
http_base_check(const char *base, int insecure, char *err, size_t errlen)
{
	const char *rest, *p;

	if (strncmp(base, "https://", 8) == 0)
		rest = base + 8;
	else if (strncmp(base, "http://", 7) == 0) {
		if (!insecure) {
			snprintf(err, errlen,
			    "%s is plain http: wagons and "
			    "keys' signatures would travel in clear; use "
			    "https, or say --insecure",
			    base);
			return -1;
		}
		rest = base + 7;
	} else {
		snprintf(err, errlen, "%s is not an https:// URL", base);
		return -1;
	}
	if (*rest == '\0' || *rest == '/' || *rest == ':') {
		snprintf(err, errlen, "%s has no host", base);
		return -1;
	}
	for (p = rest; *p != '\0'; p++)
		if (*p == '@' || *p == '?' || *p == '#' || *p == ' ' ||
		    (*p == '/' && p[1] != '\0')) {
			snprintf(err, errlen,
			    "%s: give scheme://host:port "
			    "only (no user, path or query)",
			    base);
			return -1;
		}
	return 0;
}

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_call *c = arg;
	size_t n = size * nmemb;

	if (c->resp.len + n > HTTP_ANSWER_MAX)
		return 0; /* CURLE_WRITE_ERROR: an answer that long is not ours */
	buf_add(&c->resp, ptr, n);
	return n;
}

/* A transfer is a wait of the caller's loop, bounded by the timeouts
 * above (which may pass the watchdog's interval): libcurl calls this
 * about once a second from the thread that runs the transfer, which
 * pings the watchdog for it (notify.h). */
static int
on_progress(
    void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	notify_watchdog();
	return 0;
}

int
http_call_init(struct http_call *c, const struct http_client_opts *o, char *err,
    size_t errlen)
{
	long secs = (o->timeout_ms + 999) / 1000;

	memset(c, 0, sizeof *c);
	c->o = o;
	if ((c->easy = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR,
	    o->insecure ? "http,https" : "https");
	curl_easy_setopt(
	    c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
	/* Invariant: connect timeout <= the progress timeout. */
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    o->timeout_ms < 10000 ? o->timeout_ms : 10000L);
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME, secs > 0 ? secs : 1L);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "srdf/" SRDF_VERSION);
	curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	return 0;
}

void
http_call_setup(struct http_call *c, const char *method, const char *path,
    const void *body, size_t len, const char *ctype)
{
	char auth[sizeof HAUTH_HEADER + 2 + HAUTH_VALUE_LEN];
	char url[2048], ct[128];

	c->resp.len = 0;
	c->status = 0;
	c->unsigned_status = 0;
	c->latency_ms = 0;
	c->error[0] = '\0';
	c->errbuf[0] = '\0';
	json_decref(c->answer);
	c->answer = NULL;
	c->answer_status = "";
	c->reason = "";
	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;

	snprintf(url, sizeof url, "%.*s%s",
	    (int)(strlen(c->o->base) -
	          (c->o->base[strlen(c->o->base) - 1] == '/')),
	    c->o->base, path);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	memcpy(auth, HAUTH_HEADER ": ", sizeof HAUTH_HEADER + 1);
	c->signed_with =
	    c->o->ring != NULL ? keyring_key(c->o->ring) : c->o->key;
	hauth_sign(c->signed_with, c->o->to, method, path, body ? body : "",
	    len, time(NULL), auth + sizeof HAUTH_HEADER + 1);
	hauth_nonce(auth + sizeof HAUTH_HEADER + 1, c->nonce);
	c->hdrs = curl_slist_append(c->hdrs, auth);
	if (ctype != NULL) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		c->hdrs = curl_slist_append(c->hdrs, ct);
	}
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
	/* Invariant: the whole exchange may take timeout_ms plus one second
	 * per 100 KiB of body; no progress at all for timeout_ms (the low
	 * speed limit) ends it sooner.  curl averages speed over seconds, so
	 * a silent peer after the upload is caught by the first rule. */
	curl_easy_setopt(
	    c->easy, CURLOPT_TIMEOUT_MS, c->o->timeout_ms + (long)(len / 100));
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(
		    c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
}

/* Whether the answer is signed with a key of the ring that its request
 * did not use: one the key file holds now (keyring_find). */
static int
answer_in_ring(struct http_call *c, const char *value)
{
	const struct srdf_key *k;
	uint8_t kid[8];
	char why[256];

	return c->o->ring != NULL && hauth_key_id(value, kid) == 0 &&
	       (k = keyring_find(c->o->ring, kid)) != NULL &&
	       hauth_verify_answer(k, c->nonce, c->status,
	           c->resp.p ? c->resp.p : "", c->resp.len, value, why,
	           sizeof why) == HAUTH_OK;
}

int
http_call_done(struct http_call *c, CURLcode rc)
{
	struct curl_header *h;
	curl_off_t us = 0;
	char why[256], excerpt[161];
	json_t *s;

	curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &us);
	c->latency_ms = (double)us / 1000.0;
	if (rc != CURLE_OK) {
		snprintf(c->error, sizeof c->error, "%s",
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		if (rc == CURLE_WRITE_ERROR)
			snprintf(c->error, sizeof c->error,
			    "answer longer "
			    "than %d bytes",
			    HTTP_ANSWER_MAX);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(c->error, sizeof c->error,
			    "timed out after "
			    "%.0f ms (--timeout %ld ms): %s",
			    c->latency_ms, c->o->timeout_ms, c->errbuf);
		return -1;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	/* An answer counts only when the server proves it holds the key. */
	if (curl_easy_header(c->easy, HAUTH_ANSWER_HEADER, 0, CURLH_HEADER, -1,
	        &h) != CURLHE_OK)
		h = NULL;
	if (hauth_verify_answer(c->signed_with, c->nonce, c->status,
	        c->resp.p ? c->resp.p : "", c->resp.len, h ? h->value : NULL,
	        why, sizeof why) != HAUTH_OK &&
	    !answer_in_ring(c, h ? h->value : NULL)) {
		unsigned i, n = 0;

		for (i = 0; i < c->resp.len && n < 160; i++)
			if (c->resp.p[i] >= ' ' && c->resp.p[i] < 127 &&
			    c->resp.p[i] != '\\')
				excerpt[n++] = c->resp.p[i];
		excerpt[n] = '\0';
		snprintf(c->error, sizeof c->error,
		    "HTTP %ld answer not "
		    "believed, %s; it said: %s",
		    c->status, why, n ? excerpt : "(nothing)");
		c->unsigned_status = c->status;
		c->status = 0;
		return -1;
	}
	c->answer =
	    json_loadb(c->resp.p ? c->resp.p : "", c->resp.len, 0, NULL);
	if (c->answer != NULL && !json_is_object(c->answer)) {
		json_decref(c->answer);
		c->answer = NULL;
	}
	if (c->answer != NULL) {
		s = json_object_get(c->answer, "status");
		c->answer_status =
		    json_is_string(s) ? json_string_value(s) : "";
		s = json_object_get(c->answer, "reason");
		c->reason = json_is_string(s) ? json_string_value(s) : "";
	}
	return 0;
}

int
http_call_run(struct http_call *c, const char *method, const char *path,
    const void *body, size_t len, const char *ctype)
{
	http_call_setup(c, method, path, body, len, ctype);
	return http_call_done(c, curl_easy_perform(c->easy));
}

void
http_call_cleanup(struct http_call *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->hdrs);
	json_decref(c->answer);
	buf_free(&c->resp);
	memset(c, 0, sizeof *c);
}
