/*
 * httpd.h — the HTTP server scaffolding srdf-recv and srdf-ackd share
 * around http.h's server: the options they both take (same names, same
 * meaning: srdf-recv(1), srdf-ackd(1) OPTIONS), the checks on them, and
 * http_serve(), which starts the server, runs the tool's main loop, and
 * drains on the signal that ends it.  The tools keep only their routes,
 * handlers and main loop.
 *
 * struct httpd_cf: the option values, defaults set by the caller.
 * httpd_option(ch, arg, cf): for main()'s option loop: takes the
 *	getopt_long letters both tools use for these options,
 *	  c --cert PEM    t --tls-key PEM    k --insecure    l --listen ADDR
 *	  C --max-connections N (1 to 10000)
 *	  P --max-peer-connections N (1 to 10000)
 *	  I --idle-timeout TIME (at least 1s; kept in whole seconds)
 *	  g --grace TIME
 *	and returns 1, or 0 for any other letter (the tool's own).  A bad
 *	value dies with EX_USAGE as opt.h's parsers do.
 * httpd_check(cf): NULL when the TLS options are consistent, else the
 *	usage message to die with: one of --cert with --tls-key, or
 *	--insecure, is needed (only when --listen is given); --cert and
 *	--tls-key go together.
 * http_serve(cf, ho, sigfd, wait, arg, what, err, errlen): copies cf into
 *	*ho (whose body limits, threads, key or ring, to, routes and arg
 *	the caller has set; ho->cache is made here), starts the server,
 *	logs "listening on URL: WHAT" at notice level (the line supervisors
 *	and tests wait for) and sends READY=1 (notify.h), and calls
 *	wait(arg, sigfd, hs), the tool's main loop (hs: the server, for
 *	httpd_reload), which returns an exit
 *	status (0, or a sysexits code after logging why) once
 *	tool_signal(sigfd, ...) returned a stop signal (SIGHUP is the
 *	loop's to handle, tool.h) or it cannot go on.  Then it sends
 *	STOPPING=1, logs "SIGNAL: draining (N requests in flight)", lets the requests in flight finish (http_drain_wait:
 *	cf->grace_ms at most, a second signal cuts it short), stops the
 *	server and frees the cache.
 *
 * httpd_reload(hs, cf): from the main loop's SIGHUP handling
 *	(tool_signal): reads --cert and --tls-key again for hs, the server
 *	http_serve passed to wait (http_reload_tls): accepted requests are answered by the daemon
 *	that took them; a certificate that does not load is logged at
 *	error level and the old one stays.  Nothing without --cert.
 * httpd_sighup(kr, hs, cf): the whole SIGHUP of srdf-recv and srdf-ackd
 *	(srdf-recv(1), srdf-ackd(1) SIGNALS): reads the key file of kr
 *	again (keyring_reload; when it does not load, the reason is logged
 *	at error level with "; the keys read before stay in use"), then
 *	httpd_reload(hs, cf) unless hs is NULL (the server not started
 *	yet).  kr and hs stay the caller's.
 *
 * Error handling: http_serve returns wait's status, or -1 with err set
 * (EX_CONFIG material: a bad --listen, unreadable PEM files, a port in
 * use) when the server cannot start, or EX_OSERR after logging "out of
 * memory" when the replay cache cannot be made.
 */
#ifndef SRDF_HTTPD_H
#define SRDF_HTTPD_H

#include <stddef.h>

#include "http.h"

struct keyring;

struct httpd_cf {
	const char *listen;
	const char *cert;
	const char *tls_key;
	int insecure;
	unsigned max_conn;
	unsigned max_peer_conn;
	unsigned idle_timeout; /* seconds */
	long long grace_ms;
};

int httpd_option(int ch, const char *arg, struct httpd_cf *cf);
const char *httpd_check(const struct httpd_cf *cf);
void httpd_reload(struct http_server *hs, const struct httpd_cf *cf);
void httpd_sighup(
    struct keyring *kr, struct http_server *hs, const struct httpd_cf *cf);
int http_serve(const struct httpd_cf *cf, struct http_server_opts *ho,
    int sigfd, int (*wait)(void *arg, int sigfd, struct http_server *hs),
    void *arg, const char *what, char *err, size_t errlen);

#endif
