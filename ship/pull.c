/*
 * pull.c — srdf-ship --ack-pull (pull.h): fetch the target's ACKs from
 * srdf-recv, take them into the source ledger as srdf-ackd does
 * (acktake.h), tell srdf-recv which were taken, purge the outbox.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ack.h"
#include "acktake.h"
#include "clock.h"
#include "log.h"
#include "pull.h"
#include "purge.h"
#include "xalloc.h"

#define PULL_REFUSED 16 /* refused ACKs remembered, to be said rarely */

struct refused {
	uint8_t sum[crypto_hash_sha256_BYTES];
	long long until; /* monotonic ms */
};

struct pull {
	struct ledger *l;
	struct http_call *c;
	const char *to;
	char peer[300];
	struct purge purge;
	char why[128];
	long long next;       /* monotonic ms of the next fetch */
	long long next_sweep; /* ... and sweep */
	long backoff;         /* ms, 0 when the last fetch went well */
	int failing;
	uint64_t low;          /* no unconfirmed wagon below (a hint) */
	unsigned long fetches; /* answered */
	struct refused refused[PULL_REFUSED];
};

static const char *const confirmed[] = {"confirmed", NULL};

struct pull *
pull_new(struct ledger *l, struct http_call *call, const char *to,
    long long keep_ms, const char *outbox_new)
{
	struct pull *p = xcalloc(1, sizeof *p);

	p->l = l;
	p->c = call;
	p->to = to;
	snprintf(p->peer, sizeof p->peer, "%s (pulled by srdf-ship)", to);
	snprintf(p->why, sizeof p->why,
	    "outbox copy purged (confirmed more "
	    "than --keep %lld s ago)",
	    keep_ms / 1000);
	p->purge = (struct purge){.l = l,
	    .dir = outbox_new,
	    .states = confirmed,
	    .at = "confirmed_at",
	    .below = UINT64_MAX,
	    .keep_ms = keep_ms,
	    .why = p->why};
	p->next = p->next_sweep = clock_mono_ms();
	p->low = 1;
	return p;
}

void
pull_free(struct pull *p)
{
	free(p);
}

/* A wagon neither confirmed nor dead from p->low on: 1, else 0; -1 on a
 * ledger error.  Moves p->low past the confirmed ones at its start. */
static int
unconfirmed_one(uint64_t seq, json_t *w, void *arg)
{
	struct pull *p = arg;
	const char *st = json_string_value(json_object_get(w, "state"));

	if (st != NULL && strcmp(st, "confirmed") == 0) {
		if (p->low == seq)
			p->low = seq + 1;
		return 0;
	}
	return st != NULL && strcmp(st, "dead") == 0 ? 0 : 1;
}

static int
unconfirmed(struct pull *p)
{
	struct ledger_txn *t;
	int rc;

	if ((rc = ledger_txn_begin(p->l, LEDGER_RDONLY, &t)) != 0)
		return -1;
	rc = ledger_wagon_foreach(t, p->low, unconfirmed_one, p);
	ledger_txn_abort(t);
	return rc == 0 || rc == 1 ? rc : -1;
}

static int
sweep(struct pull *p, int all)
{
	long n;

	do
		n = purge_sweep(&p->purge);
	while (all && n == PURGE_BATCH);
	p->next_sweep = clock_mono_ms() + PULL_SWEEP_MS;
	return n < 0 ? -1 : 0;
}

/* 1 when this refused ACK was said within PULL_REFUSED_MS (then it is
 * not taken again now), else 0 and it is remembered. */
static int
refused_lately(struct pull *p, const uint8_t *sum, int add)
{
	long long now = clock_mono_ms();
	struct refused *old = &p->refused[0];

	for (int i = 0; i < PULL_REFUSED; i++) {
		if (memcmp(p->refused[i].sum, sum, sizeof old->sum) == 0 &&
		    p->refused[i].until > now)
			return 1;
		if (p->refused[i].until < old->until)
			old = &p->refused[i];
	}
	if (add) {
		memcpy(old->sum, sum, sizeof old->sum);
		old->until = now + PULL_REFUSED_MS;
	}
	return 0;
}

static void
failed(struct pull *p, const char *what)
{
	p->backoff = p->backoff == 0 ? PULL_BUSY_MS
	             : p->backoff * 2 > PULL_BACKOFF_MAX_MS
	                 ? PULL_BACKOFF_MAX_MS
	                 : p->backoff * 2;
	p->next = clock_mono_ms() + p->backoff;
	if (!p->failing)
		log_warn("cannot fetch ACKs from %s: %s; tried again in "
		         "%ld s and on",
		    p->to, what, p->backoff / 1000);
	else
		log_debug("cannot fetch ACKs from %s: %s", p->to, what);
	p->failing = 1;
}

/* GET /v1/acks/pending: the answer's "acks" array (borrowed from
 * p->c->answer), or NULL after logging the failure (failed()). */
static json_t *
get_pending(struct pull *p)
{
	char what[600];
	json_t *acks;

	if (http_call_run(p->c, "GET", "/v1/acks/pending", NULL, 0, NULL) ==
	        0 &&
	    p->c->status == 200 &&
	    json_is_array(acks = json_object_get(p->c->answer, "acks")))
		return acks;
	if (p->c->error[0] != '\0')
		snprintf(what, sizeof what, "%s", p->c->error);
	else
		snprintf(what, sizeof what, "HTTP %ld %s: %s", p->c->status,
		    *p->c->answer_status ? p->c->answer_status
		                         : "(no srdf answer)",
		    *p->c->reason ? p->c->reason : "-");
	failed(p, what);
	return NULL;
}

/* Takes each ACK of acks (strings, srdf-ack(5)) into the ledger
 * (acktake), appending {seq, sha256} to taken for each one taken.
 * *nchanged counts those that changed a wagon.  Returns 1 when the ledger
 * was busy (the rest left for the next fetch), else 0. */
static int
take_all(struct pull *p, json_t *acks, json_t *taken, size_t *nchanged)
{
	uint8_t sum[crypto_hash_sha256_BYTES];
	char err[256], why[512], hex[65];
	struct ack a;
	size_t i;
	uint64_t seq;
	json_t *v;
	int rc;

	json_array_foreach(acks, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL) {
			log_warn("ACKs from %s: entry %zu is not a string",
			    p->to, i);
			continue;
		}
		crypto_hash_sha256(sum, (const unsigned char *)s, strlen(s));
		if (refused_lately(p, sum, 0))
			continue;
		if (ack_decode(s, strlen(s), &a, err, sizeof err) != 0) {
			refused_lately(p, sum, 1);
			log_warn(
			    "ACK from %s: invalid_payload: %s", p->to, err);
			continue;
		}
		rc = acktake(p->l, &a, p->peer, why, sizeof why);
		seq = a.seq;
		ack_free(&a);
		if (rc == ACKTAKE_BUSY)
			return 1;
		if (rc == ACKTAKE_REJECTED) {
			refused_lately(p, sum, 1);
			continue;
		}
		*nchanged += rc == ACKTAKE_CHANGED;
		sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
		json_array_append_new(
		    taken, json_pack("{s:I, s:s}", "seq", (json_int_t)seq,
		               "sha256", hex));
	}
	return 0;
}

/* POST /v1/acks/taken with the taken list (not empty): 0, or -1 after
 * logging the failure (failed()). */
static int
post_taken(struct pull *p, json_t *taken)
{
	json_t *o = json_pack("{s:i, s:O}", "v", 1, "taken", taken);
	char what[600], *body;
	int rc = 0;

	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		die(EX_OSERR, "out of memory");
	json_decref(o);
	if (http_call_run(p->c, "POST", "/v1/acks/taken", body, strlen(body),
	        "application/json") != 0 ||
	    p->c->status != 200) {
		/* Taken here, not forgotten there: offered again, a
		 * duplicate then, and confirmed to it then. */
		snprintf(what, sizeof what, "%s",
		    p->c->error[0] != '\0' ? p->c->error : p->c->reason);
		failed(p, what);
		rc = -1;
	}
	free(body);
	return rc;
}

/* One fetch: 1 when the answer said "more", 0 done (or failed, retried
 * later), -1 on a ledger error. */
static int
fetch(struct pull *p)
{
	json_t *acks, *taken;
	size_t nchanged = 0;
	int more, fatal = 0, busy, ok = 1;

	if ((acks = get_pending(p)) == NULL)
		return 0;
	p->fetches++;
	more = json_is_true(json_object_get(p->c->answer, "more"));
	taken = json_array();
	busy = take_all(p, acks, taken, &nchanged);
	/* "more" is worth asking for only when this answer moved something:
	 * ACKs refused here stay first in line on the target. */
	if (json_array_size(taken) == 0)
		more = 0;
	else if (post_taken(p, taken) != 0) {
		more = 0;
		ok = 0;
	}
	json_decref(taken);
	if (busy) {
		failed(p, "the source ledger is busy");
		more = 0;
	} else if (ok && p->failing) {
		log_info("ACKs from %s are fetched again", p->to);
		p->failing = 0;
		p->backoff = 0;
	}
	if (nchanged > 0 || clock_mono_ms() >= p->next_sweep)
		fatal = sweep(p, 0) != 0;
	return fatal ? -1 : more;
}

int
pull_tick(struct pull *p)
{
	int rc, u;

	if (p == NULL)
		return 0;
	/* Idle until now, and a wagon went out meanwhile: its ACK is
	 * worth asking for soon. */
	if (!p->failing && p->next - clock_mono_ms() > PULL_BUSY_MS) {
		if ((u = unconfirmed(p)) < 0)
			return -1;
		if (u)
			p->next = clock_mono_ms() + PULL_BUSY_MS;
	}
	if (clock_mono_ms() < p->next)
		return 0;
	do
		rc = fetch(p);
	while (rc == 1);
	if (rc < 0)
		return -1;
	if (p->failing)
		return 0;
	if ((u = unconfirmed(p)) < 0)
		return -1;
	p->next = clock_mono_ms() + (u ? PULL_BUSY_MS : PULL_IDLE_MS);
	return 0;
}

long long
pull_wait_ms(const struct pull *p)
{
	long long w;

	if (p == NULL)
		return -1;
	w = p->next - clock_mono_ms();
	return w < 0 ? 0 : w;
}

int
pull_drain(struct pull *p)
{
	int rc;

	if (p == NULL)
		return 0;
	/* pull_tick fetched when the round began, unless it failed. */
	rc = 0;
	while (p->fetches == 0 || p->failing || rc == 1) {
		if ((rc = fetch(p)) < 0 || (p->failing && rc == 0))
			break;
	}
	if (rc < 0 || sweep(p, 1) != 0)
		return -1;
	return 0;
}
