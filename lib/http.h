/*
 * http.h — srdf's HTTP, both ends, authenticated with hauth.h.
 *
 * Server (srdf-recv, srdf-ackd; libmicrohttpd): a fixed table of routes,
 * each METHOD PATH -> handler.  The server does everything that is the
 * same for both tools before a handler runs, and answers the refusals
 * itself, always with a JSON object {"status":..., "reason":...}, in
 * this order, all before a byte of the body is read:
 *
 *	400 rejected         the target has a query, a %-escape, or is
 *	                     longer than HTTP_TARGET_MAX
 *	401 rejected         X-Srdf-Auth missing, malformed, unknown key id,
 *	                     clock skew, bad signature, or a replay
 *	--- from here on the request is authenticated and every answer,
 *	    the handler's too, carries a signed X-Srdf-Answer (hauth.h) ---
 *	503 busy             the replay cache is full, or the request was
 *	                     signed before this server started (HAUTH_EBUSY)
 *	404 rejected         no such path
 *	405 rejected         the path exists, not with this method
 *	503 draining         http_drain was called (the tool is stopping)
 *	411 invalid_payload  a POST without Content-Length (chunked, or
 *	                     HTTP/1.0 to the end of the connection)
 *	400 invalid_payload  two Content-Length headers, a malformed one, or
 *	                     one that is not the signed length
 *	413 rejected         Content-Length over max_body
 *	503 busy             bodies in flight would pass max_memory
 *	--- after the body ---
 *	400 invalid_payload  the body is not the one signed
 *
 * Nobody without the key can make the server reserve memory for a body:
 * slow or idle unauthenticated connections cost a connection slot each,
 * of max_conn in all and max_peer_conn per IP address, until
 * idle_timeout closes them.  A request that passes all of the above
 * reaches its handler with the whole body in memory; the handler
 * returns the HTTP status and a new JSON object for the answer (the
 * server adds nothing to it).  Connections idle for idle_timeout
 * seconds are closed without an answer, whatever part of a request they
 * sent.  Memory per connection is bounded by MHD's 32 KiB for headers
 * plus the body, and all bodies together by max_memory.  Handlers run
 * on the server's threads (opts.threads of them) and must be
 * thread-safe.
 *
 * Server calling sequence:
 *	s = http_start(&opts, err, sizeof err);   NULL: err says why
 *	... http_port(s) is the bound port (useful with port 0) ...
 *	http_drain(s);        stop accepting; open connections get 503
 *	while (http_in_flight(s) > 0 && not too long) wait;
 *	    (or both in one: http_drain_wait(s, grace_ms, sigfd))
 *	http_stop(s);         closes everything, joins the threads
 *
 * Client (srdf-ship, srdf-apply's ACK sender; libcurl): one struct
 * http_call per connection, reused for keep-alive; run it blocking with
 * http_call_run, or add c->easy to a curl multi handle after
 * http_call_setup and call http_call_done with the transfer's CURLcode.
 *	http_call_init(&c, &copts, err, sizeof err);
 *	http_call_run(&c, "POST", "/v1/wagons", body, len, "application/octet-stream");
 *	  -> 0: an HTTP answer came back: c.status (e.g. 201), c.answer (the
 *	        JSON object, or NULL if the body was not one), c.answer_status
 *	        ("accepted"...) and c.reason (strings owned by c.answer, or "")
 *	  -> -1: no answer: c.error says why (connection refused, TLS, timeout,
 *	        or an answer without a good X-Srdf-Answer signature, whose
 *	        status is then c.unsigned_status and never c.status)
 *	  c.latency_ms in both cases.
 *	http_call_cleanup(&c);
 * A transfer pings the systemd watchdog about once a second
 * (notify_watchdog, notify.h): run it from the thread whose loop pings.
 * The client follows no redirects, verifies the server's certificate and
 * host name (with ca_file, or the system's CAs), speaks plain http only
 * when opts.insecure is set, and reads at most HTTP_ANSWER_MAX bytes of
 * answer.  curl_global_init must have been called (main, before threads).
 */
#ifndef SRDF_HTTP_H
#define SRDF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "hauth.h"
#include "keyring.h"

#define HTTP_ANSWER_MAX 65536
#define HTTP_TARGET_MAX 256 /* a longer request target is refused */

/* ---- server ------------------------------------------------------------ */

struct http_server;

struct http_req {
	const char *method;
	const char *path;
	const uint8_t *body;
	size_t len;
	/* SHA-256 of body[0, len - 32), NULL when len < 32: the checksum a
	 * wagon's trailer must hold (wagon_peek_summed), got in the pass that
	 * hashed the body for its signature. */
	const uint8_t *head_sum;
	const char *peer; /* "127.0.0.1:54321" */
	const struct http_server *server;
};

/* Returns the HTTP status and sets *answer to a new JSON object. */
typedef int (*http_fn)(void *arg, const struct http_req *req, json_t **answer);

struct http_route {
	const char *method; /* "GET" or "POST" */
	const char *path;   /* "/v1/wagons" */
	http_fn fn;
};

struct http_server_opts {
	const char *listen; /* "127.0.0.1:8443", "[::1]:8443", port 0 ok */
	const char *cert;   /* PEM files; both NULL for plain HTTP */
	const char *tls_key;
	size_t max_body;   /* bytes of one request body */
	size_t max_memory; /* bytes of all bodies in flight, >= max_body */
	unsigned max_conn;
	unsigned max_peer_conn; /* of those, from one IP address */
	unsigned idle_timeout;  /* seconds */
	unsigned threads;
	const struct srdf_key *key;
	/* When not NULL, used instead of key (keyring.h): a request under a
	 * key id the ring lacks is checked again after keyring_find. */
	struct keyring *ring;
	int to; /* HAUTH_TO_RECV or HAUTH_TO_ACKD: which requests we take */
	struct hauth_cache *cache;
	const struct http_route *routes;
	size_t nroutes;
	void *arg; /* passed to the handlers */
};

struct http_server *http_start(
    const struct http_server_opts *o, char *err, size_t errlen);
unsigned http_port(const struct http_server *s);
/* "https://127.0.0.1:PORT" with the bound port, for the log line that
 * tells a supervisor (and the tests) that the server is up. */
void http_url(const struct http_server *s, char *buf, size_t len);
/* Reads the certificate and key files again (srdf(7) SIGNALS): when
 * they changed, a new daemon serves the same listening socket with them
 * and the old one, accepting nothing more, finishes the connections it
 * holds (stopped by http_stop).  Returns 1 when the new ones are in use,
 * 0 when there is no TLS or nothing changed, -1 with err when they
 * cannot be read or do not load: the ones read before stay in use. */
int http_reload_tls(struct http_server *s, char *err, size_t errlen);
void http_drain(struct http_server *s);
int http_draining(const struct http_server *s);
unsigned http_in_flight(const struct http_server *s);
size_t http_memory_used(const struct http_server *s);
void http_stop(struct http_server *s);
/* http_drain, then waits until no request is in flight, grace_ms have
 * passed, or sigfd (a signalfd) becomes readable: a second signal cuts
 * the wait short. */
void http_drain_wait(struct http_server *s, long long grace_ms, int sigfd);

/* {"status":status,"reason":reason}, a new reference (never NULL). */
json_t *http_answer(const char *status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- client ------------------------------------------------------------ */

struct http_client_opts {
	const char *base;    /* "https://host:port", no path */
	const char *ca_file; /* NULL: the system's CAs */
	int insecure;        /* allow http:// */
	long timeout_ms;     /* no progress for this long: give up */
	const struct srdf_key *key;
	/* When not NULL, used instead of key (keyring.h): requests are
	 * signed with keyring_key's newest key, answers checked against the
	 * ring the request was signed with, then keyring_find. */
	struct keyring *ring;
	int to; /* HAUTH_TO_RECV or HAUTH_TO_ACKD */
};

/* 0 when base is a URL the client accepts (scheme, no path, query or
 * user), else -1 with the reason in err. */
int http_base_check(const char *base, int insecure, char *err, size_t errlen);

struct http_call {
	CURL *easy;
	const struct http_client_opts *o;
	struct curl_slist *hdrs;
	struct buf resp;
	long status;
	long unsigned_status; /* an answer's status that was not believed */
	char nonce[HAUTH_NONCE_HEX]; /* of the request, to check the answer */
	const struct srdf_key *signed_with; /* the ring the request used */
	double latency_ms;
	char error[CURL_ERROR_SIZE + 64];
	json_t *answer;
	const char *answer_status;
	const char *reason;
	char errbuf[CURL_ERROR_SIZE];
};

int http_call_init(struct http_call *c, const struct http_client_opts *o,
    char *err, size_t errlen);
void http_call_setup(struct http_call *c, const char *method, const char *path,
    const void *body, size_t len, const char *ctype);
int http_call_done(struct http_call *c, CURLcode rc);
int http_call_run(struct http_call *c, const char *method, const char *path,
    const void *body, size_t len, const char *ctype);
void http_call_cleanup(struct http_call *c);

#endif
