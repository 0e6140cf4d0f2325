/*
 * acks.c — the queue of ACKs that srdf-apply owes srdf-ackd.
 *
 * The queue is the ledger: a wagon whose record holds "ack" (the exact
 * body to POST, ack.h) has an ACK not yet delivered.  outcome.c writes it
 * in the same ledger transaction that records the outcome (applied,
 * failed, dead), so a crash loses no ACK; a delivered ACK is removed,
 * and an "applied" wagon becomes "confirmed", in one more transaction.
 * Meta "ack_low" is a hint: no pending ACK has a lower sequence, so a
 * start reads the ledger from there, not from 1.
 *
 * Delivery never blocks the apply loop: transfers run on a libcurl multi
 * handle (lib/http.h's client, signed with hauth.h), advanced by
 * acks_pump() between wagons and while the loop waits (acks_wait).
 * Every function takes a NULL queue (a dry run) and then does nothing.  At
 * most ACK_SLOTS are in flight, oldest first.  When a delivery fails the
 * whole queue backs off (ACK_BACKOFF_MIN doubled up to ACK_BACKOFF_MAX):
 * one unreachable srdf-ackd is one problem, logged once, not one per ACK.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "apply.h"
#include "ack.h"
#include "acks.h"
#include "audit.h"
#include "clock.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "opt.h"
#include "xalloc.h"

#define ACK_SLOTS 4
#define ACK_PATH "/v1/acks"
#define ACK_TIMEOUT_MS 15000L
/* Invariant: ACK_BACKOFF_MIN <= ACK_BACKOFF_MAX. */
#define ACK_BACKOFF_MIN 1000L
#define ACK_BACKOFF_MAX 60000L

struct slot {
	struct http_call c;
	int busy;
	uint64_t seq;
	char *body;
};

struct acks {
	const struct config *cf;
	struct ledger *l;
	struct http_client_opts o;
	CURLM *multi;
	struct slot slot[ACK_SLOTS];
	uint64_t *q; /* sequences with an ACK to deliver, ascending */
	size_t nq, capq;
	long long next_try; /* monotonic ms */
	long backoff;
	int failing;
};

static void
q_add(struct acks *a, uint64_t seq)
{
	size_t i = a->nq;

	while (i > 0 && a->q[i - 1] >= seq) {
		if (a->q[i - 1] == seq)
			return;
		i--;
	}
	a->q = xgrow(a->q, &a->capq, a->nq + 1, sizeof *a->q);
	memmove(a->q + i + 1, a->q + i, (a->nq - i) * sizeof *a->q);
	a->q[i] = seq;
	a->nq++;
}

static void
q_del(struct acks *a, uint64_t seq)
{
	for (size_t i = 0; i < a->nq; i++)
		if (a->q[i] == seq) {
			memmove(a->q + i, a->q + i + 1,
			    (a->nq - i - 1) * sizeof *a->q);
			a->nq--;
			return;
		}
}

static int
collect(uint64_t seq, json_t *w, void *arg)
{
	if (json_is_string(json_object_get(w, "ack")))
		q_add(arg, seq);
	return 0;
}

struct acks *
acks_new(const struct config *cf, struct ledger *l)
{
	struct acks *a = xcalloc(1, sizeof *a);
	struct ledger_txn *t;
	char *low = NULL, err[256];
	uint64_t from = 1;
	int rc;

	a->cf = cf;
	a->l = l;
	a->backoff = ACK_BACKOFF_MIN;
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "ack_low", &low)) != 0 ||
	    (rc = (low != NULL && parse_u64(low, &from) != 0) ? LEDGER_BADREC
	                                                      : 0) != 0 ||
	    (rc = ledger_wagon_foreach(t, from, collect, a)) != 0)
		die(EX_SOFTWARE,
		    "cannot read the ACK queue from the ledger of "
		    "%s: %s",
		    cf->dir, ledger_strerror(rc));
	ledger_txn_abort(t);
	free(low);
	if (cf->ack_to == NULL && cf->ack_pull) {
		log_info(
		    "--ack-pull: ACKs are kept in the ledger (%zu now) for "
		    "srdf-ship --ack-pull to fetch through srdf-recv",
		    a->nq);
		return a;
	}
	if (cf->ack_to == NULL) {
		log_notice(
		    "no --ack-to: ACKs are kept in the ledger (%zu now), "
		    "not sent; the source keeps its wagons until srdf-ackd "
		    "has them",
		    a->nq);
		return a;
	}
	a->o.base = cf->ack_to;
	a->o.ca_file = cf->ca_file;
	a->o.insecure = cf->insecure;
	a->o.timeout_ms = ACK_TIMEOUT_MS;
	a->o.ring = cf->kr;
	a->o.to = HAUTH_TO_ACKD;
	if ((a->multi = curl_multi_init()) == NULL)
		die(EX_OSERR, "cannot start libcurl");
	for (int i = 0; i < ACK_SLOTS; i++)
		if (http_call_init(&a->slot[i].c, &a->o, err, sizeof err) != 0)
			die(EX_OSERR, "%s", err);
	if (a->nq > 0)
		log_info("%zu ACK%s queued for %s", a->nq,
		    a->nq == 1 ? "" : "s", cf->ack_to);
	return a;
}

void
acks_free(struct acks *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < ACK_SLOTS && a->multi != NULL; i++) {
		if (a->slot[i].busy)
			curl_multi_remove_handle(a->multi, a->slot[i].c.easy);
		http_call_cleanup(&a->slot[i].c);
		free(a->slot[i].body);
	}
	if (a->multi != NULL)
		curl_multi_cleanup(a->multi);
	free(a->q);
	free(a);
}

int
acks_enqueue(struct acks *a, uint64_t seq)
{
	long long soon;

	/* --ack-pull: srdf-recv hands them out from the ledger. */
	if (a == NULL || a->cf->ack_pull)
		return 0;
	q_add(a, seq);
	/* A wagon just applied came over the link from the source's site:
	 * srdf-ackd is likely reachable again, so a queue backing off after
	 * an outage tries within ACK_BACKOFF_MIN, not at the end of a wait
	 * of up to ACK_BACKOFF_MAX (the RPO waits on these ACKs). */
	soon = clock_mono_ms() + ACK_BACKOFF_MIN;
	if (a->failing && a->next_try > soon) {
		a->next_try = soon;
		a->backoff = ACK_BACKOFF_MIN;
	}
	return 0;
}

/* In the caller's write transaction that stores an ACK for seq: keeps
 * the "ack_low" hint at or below it. */
int
acks_note(struct ledger_txn *t, uint64_t seq)
{
	char *low = NULL, buf[24];
	uint64_t v;
	int rc;

	if ((rc = ledger_meta_get(t, "ack_low", &low)) != 0)
		return rc;
	if (low == NULL || parse_u64(low, &v) != 0 || seq < v) {
		snprintf(buf, sizeof buf, "%" PRIu64, seq);
		rc = ledger_meta_put(t, "ack_low", buf);
	}
	free(low);
	return rc;
}

size_t
acks_pending(const struct acks *a)
{
	return a != NULL ? a->nq : 0;
}

/* The ledger after a delivery: the ACK is gone, an applied wagon is
 * confirmed (unless a newer ACK replaced the one delivered). */
static void
delivered(struct acks *a, uint64_t seq, const char *body)
{
	struct ledger_txn *t;
	json_t *w = NULL;
	const char *ack;
	char low[24];
	int rc, confirmed = 0, taken = 0;

	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (rc = ledger_wagon_get(t, seq, &w)) != 0)
		goto fail;
	ack = w != NULL ? json_string_value(json_object_get(w, "ack")) : NULL;
	if (ack != NULL && strcmp(ack, body) == 0) {
		confirmed = ack_taken(w);
		if ((rc = ledger_wagon_put(t, seq, w)) != 0)
			goto fail;
		q_del(a, seq);
		taken = 1;
	}
	snprintf(low, sizeof low, "%" PRIu64, a->nq > 0 ? a->q[0] : seq + 1);
	if ((rc = ledger_meta_put(t, "ack_low", low)) != 0)
		goto fail;
	json_decref(w);
	w = NULL;
	if ((rc = ledger_txn_commit(t)) != 0) {
		t = NULL;
		goto fail;
	}
	if (confirmed)
		audit_wagon(0, seq, "applied", "confirmed",
		    "ACK delivered to "
		    "%s",
		    a->cf->ack_to);
	return;
fail:
	json_decref(w);
	ledger_txn_abort(t);
	/* Delivered but not recorded: it stays queued and is sent again,
	 * which srdf-ackd takes as a duplicate. */
	if (taken)
		q_add(a, seq);
	log_err("cannot record the delivered ACK of wagon %" PRIu64 ": %s", seq,
	    ledger_strerror(rc));
}

static void
harvest(struct acks *a)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(a->multi, &left)) != NULL) {
		struct slot *s = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < ACK_SLOTS; i++)
			if (a->slot[i].busy &&
			    a->slot[i].c.easy == m->easy_handle)
				s = &a->slot[i];
		if (s == NULL)
			continue;
		curl_multi_remove_handle(a->multi, s->c.easy);
		s->busy = 0;
		if (http_call_done(&s->c, m->data.result) == 0 &&
		    s->c.status / 100 == 2) {
			log_debug("ACK of wagon %" PRIu64 " delivered (%ld, "
			          "%.1f ms)",
			    s->seq, s->c.status, s->c.latency_ms);
			delivered(a, s->seq, s->body);
			if (a->failing)
				log_info("srdf-ackd at %s takes ACKs again",
				    a->cf->ack_to);
			a->failing = 0;
			a->backoff = ACK_BACKOFF_MIN;
		} else {
			char why[512];

			if (s->c.error[0] != '\0')
				snprintf(why, sizeof why, "%s", s->c.error);
			else
				snprintf(why, sizeof why, "HTTP %ld %s%s%s",
				    s->c.status, s->c.answer_status,
				    *s->c.reason ? ": " : "", s->c.reason);
			if (!a->failing)
				log_warn(
				    "cannot deliver the ACK of wagon %" PRIu64
				    " to %s: %s; ACKs stay queued and are "
				    "retried",
				    s->seq, a->cf->ack_to, why);
			else
				log_debug("ACK of wagon %" PRIu64 ": %s",
				    s->seq, why);
			a->failing = 1;
			/* The transfers of one round fail together (a
			 * restarted srdf-ackd answers each "busy"): the
			 * round backs off once, not once per ACK. */
			if (clock_mono_ms() >= a->next_try) {
				a->next_try = clock_mono_ms() + a->backoff;
				a->backoff = a->backoff * 2 > ACK_BACKOFF_MAX
				                 ? ACK_BACKOFF_MAX
				                 : a->backoff * 2;
			}
		}
		free(s->body);
		s->body = NULL;
	}
}

static int
in_flight(const struct acks *a, uint64_t seq)
{
	for (int i = 0; i < ACK_SLOTS; i++)
		if (a->slot[i].busy && a->slot[i].seq == seq)
			return 1;
	return 0;
}

/* Starts transfers for the oldest queued ACKs, while slots are free. */
static void
start(struct acks *a)
{
	struct ledger_txn *t = NULL;
	size_t k = 0;

	if (a->nq == 0 || clock_mono_ms() < a->next_try)
		return;
	for (int i = 0; i < ACK_SLOTS; i++) {
		struct slot *s = &a->slot[i];
		json_t *w = NULL;
		const char *body;

		if (s->busy)
			continue;
		while (k < a->nq && in_flight(a, a->q[k]))
			k++;
		if (k == a->nq)
			break;
		if (t == NULL && ledger_txn_begin(a->l, LEDGER_RDONLY, &t) != 0)
			return;
		if (ledger_wagon_get(t, a->q[k], &w) != 0 ||
		    (body = json_string_value(json_object_get(w, "ack"))) ==
		        NULL) {
			json_decref(w);
			q_del(a, a->q[k]); /* delivered meanwhile */
			i--;
			continue;
		}
		s->body = xstrdup(body);
		json_decref(w);
		s->seq = a->q[k++];
		http_call_setup(&s->c, "POST", ACK_PATH, s->body,
		    strlen(s->body), "application/json");
		if (curl_multi_add_handle(a->multi, s->c.easy) != CURLM_OK) {
			free(s->body);
			s->body = NULL;
			break;
		}
		s->busy = 1;
	}
	ledger_txn_abort(t);
}

void
acks_pump(struct acks *a)
{
	int running;

	if (a == NULL || a->multi == NULL)
		return;
	curl_multi_perform(a->multi, &running);
	harvest(a);
	start(a);
	curl_multi_perform(a->multi, &running);
}

/* How long the loop may sleep before acks_pump has work: -1 for ever. */
long
acks_timeout_ms(const struct acks *a)
{
	long t = -1;

	if (a == NULL || a->multi == NULL || a->nq == 0)
		return -1;
	for (int i = 0; i < ACK_SLOTS; i++)
		if (a->slot[i].busy) {
			curl_multi_timeout(a->multi, &t);
			return t < 0 || t > 1000 ? 1000 : t;
		}
	t = (long)(a->next_try - clock_mono_ms());
	return t < 0 ? 0 : t;
}

/* Delivers what is queued, for at most ms: until the queue is empty or
 * the time is up, retrying failed deliveries while the backoff allows
 * within that time.  Returns how many are left. */
size_t
acks_drain(struct acks *a, long ms)
{
	long long until = clock_mono_ms() + ms;

	if (a == NULL || a->multi == NULL)
		return acks_pending(a);
	acks_pump(a);
	while (a->nq > 0 && clock_mono_ms() < until && a->next_try < until) {
		acks_wait(a, -1, -1, (long)(until - clock_mono_ms()));
		acks_pump(a);
	}
	return a->nq;
}

/* Sleeps until fd1 or fd2 is readable, a transfer needs attention or
 * timeout_ms (-1: none) passes. */
int
acks_wait(struct acks *a, int fd1, int fd2, long timeout_ms)
{
	long at = acks_timeout_ms(a);

	if (at >= 0 && (timeout_ms < 0 || at < timeout_ms))
		timeout_ms = at;
	if (a != NULL && a->multi != NULL) {
		struct curl_waitfd w[2] = {
		    {fd1, CURL_WAIT_POLLIN, 0}, {fd2, CURL_WAIT_POLLIN, 0}};
		int n;

		/* curl_multi_wait has no "for ever": wake up now and then. */
		if (timeout_ms < 0 || timeout_ms > 60000)
			timeout_ms = 60000;
		return curl_multi_wait(a->multi, w, 2, (int)timeout_ms, &n) ==
		               CURLM_OK
		           ? 0
		           : -1;
	} else {
		struct pollfd p[2] = {{fd1, POLLIN, 0}, {fd2, POLLIN, 0}};

		if (poll(p, 2, timeout_ms > INT32_MAX ? -1 : (int)timeout_ms) <
		        0 &&
		    errno != EINTR)
			return -1;
		return 0;
	}
}
