/* httpd.c — options, checks and run loop of srdf's servers; see httpd.h. */
#include <sys/signalfd.h>

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hauth.h"
#include "httpd.h"
#include "keyring.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "tool.h"

int
httpd_option(int ch, const char *arg, struct httpd_cf *cf)
{
	switch (ch) {
	case 'c':
		cf->cert = arg;
		break;
	case 't':
		cf->tls_key = arg;
		break;
	case 'k':
		cf->insecure = 1;
		break;
	case 'l':
		cf->listen = arg;
		break;
	case 'C':
		cf->max_conn = opt_count(arg, "--max-connections", 1, 10000);
		break;
	case 'P':
		cf->max_peer_conn =
		    opt_count(arg, "--max-peer-connections", 1, 10000);
		break;
	case 'I':
		cf->idle_timeout =
		    (unsigned)(opt_duration(
		                   arg, "--idle-timeout", 1000, LLONG_MAX) /
		               1000);
		break;
	case 'g':
		cf->grace_ms = opt_duration(arg, "--grace", 0, LLONG_MAX);
		break;
	default:
		return 0;
	}
	return 1;
}

const char *
httpd_check(const struct httpd_cf *cf)
{
	if (cf->listen != NULL && cf->insecure == (cf->cert != NULL))
		return "give --cert and --tls-key for HTTPS, or --insecure "
		       "for plain HTTP (one of the two)";
	if ((cf->cert == NULL) != (cf->tls_key == NULL))
		return "--cert and --tls-key go together";
	return NULL;
}

/* Lets the requests in flight finish once the main loop ended (on the
 * signal tool_signal read, or an error): a wagon being stored is stored
 * and answered; a second signal or --grace cuts it short. */
static void
drain(struct http_server *hs, long long grace_ms, int sigfd)
{
	int sig = tool_stop_signal();

	if (sig == 0) /* tool_signal said it on a signal */
		notify_stopping();
	log_notice("%s: draining (%u requests in flight)",
	    sig ? strsignal(sig) : "stopping", http_in_flight(hs));
	http_drain_wait(hs, grace_ms, sigfd);
}

void
httpd_reload(struct http_server *hs, const struct httpd_cf *cf)
{
	char err[512];
	int rc;

	if ((rc = http_reload_tls(hs, err, sizeof err)) < 0)
		log_err("%s", err);
	else if (rc > 0)
		log_notice("read the TLS certificate %s and key %s again",
		    cf->cert, cf->tls_key);
}

void
httpd_sighup(
    struct keyring *kr, struct http_server *hs, const struct httpd_cf *cf)
{
	char err[512];

	if (keyring_reload(kr, err, sizeof err) < 0)
		log_err("%s; the keys read before stay in use", err);
	if (hs != NULL)
		httpd_reload(hs, cf);
}

int
http_serve(const struct httpd_cf *cf, struct http_server_opts *ho, int sigfd,
    int (*wait)(void *arg, int sigfd, struct http_server *hs), void *arg,
    const char *what, char *err, size_t errlen)
{
	struct http_server *hs;
	char url[300];
	int rc;

	if ((ho->cache = hauth_cache_new()) == NULL) {
		log_err("out of memory");
		return EX_OSERR;
	}
	ho->listen = cf->listen;
	ho->cert = cf->cert;
	ho->tls_key = cf->tls_key;
	ho->max_conn = cf->max_conn;
	ho->max_peer_conn = cf->max_peer_conn;
	ho->idle_timeout = cf->idle_timeout;
	if ((hs = http_start(ho, err, errlen)) == NULL) {
		hauth_cache_free(ho->cache);
		return -1;
	}
	http_url(hs, url, sizeof url);
	log_notice("listening on %s: %s", url, what);
	notify_ready("listening on %s", url);
	rc = wait(arg, sigfd, hs);
	drain(hs, cf->grace_ms, sigfd);
	http_stop(hs);
	hauth_cache_free(ho->cache);
	return rc;
}
