/* reshard.c - ModifyReplicationGroupShardConfiguration: adding shards
 * (new nodes joined by cluster.c), removing shards (NodeGroupsToRemove or
 * NodeGroupsToRetain) and rebalancing. The handler stores the new layout
 * (an even split over the shards that stay) and marks the group
 * modifying; once the cluster is joined, the migration here moves every
 * slot whose owner differs from the stored layout, keys included, with
 * Redis Cluster's own protocol: SETSLOT IMPORTING on the target,
 * MIGRATING on the source, MIGRATE of the keys in batches until the slot
 * is empty, then SETSLOT NODE on both. Shards left without slots are
 * forgotten by every other node and deleted. The layout lives in the
 * store and the moves are computed from the cluster's own view, so a
 * migration a restart interrupted resumes where it stood. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "core/log.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

#define MIGRATE_BATCH "100" /* keys a GETKEYSINSLOT returns at most */
#define BATCH 128	    /* slots moved together */

struct mv_node {
	int64_t id, shard;
	int leaving; /* its shard is being removed */
	int master;  /* a master in the cluster's view */
	char addr[16], port[8], nid[48];
};

enum rs_phase { PH_IMPORT, PH_MIGRATING, PH_KEYS, PH_MIGRATE, PH_NODE_DST, PH_NODE_SRC, PH_ADD };

struct reshard {
	int64_t rg_id;
	struct arena *a;   /* lives as long as the job */
	struct arena *tmp; /* one batch's commands and keys */
	size_t n;
	struct mv_node *v;
	int16_t *owner, *want; /* per slot: index + 1 into v; 0 none */
	int slot, moved, total;
	enum rs_phase phase;
	int src, dst;	      /* the batch's nodes (indices into v) */
	int batch[BATCH];     /* its slots */
	int nb;		      /* how many */
	int keyed[BATCH], nk; /* slots that may still hold keys */
	char *token;	      /* MIGRATE's AUTH (malloc'd, wiped) */
	struct reshard *next;
};

static struct reshard *jobs;
static int64_t requested[64]; /* groups whose reshard was asked for and is not done */

static void rs_step(struct reshard *r);
static void rs_forget(struct reshard *r);
static void rs_reply_cb(void *arg, int ok, const char *p, size_t len);

/* rs_end: the migration is over: on success the leaving shards are
 * deleted and the group is available again; on failure the tick retries
 * (the group stays modifying). Frees r. */
static void rs_end(struct reshard *r, int ok)
{
	struct fogbank *fb = ec_rt_fb();
	for (struct reshard **p = &jobs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	struct ec_rg rg;
	if (ec_rg_load(fb->db, r->a, r->rg_id, &rg) == 0) {
		if (ok) {
			for (size_t i = 0; i < r->n; i++)
				if (r->v[i].leaving) {
					ec_set_status(fb->db, r->v[i].id, EC_DELETING, NULL);
					ec_node_delete(r->v[i].id, 0);
				}
			ec_rg_set_status(fb->db, r->rg_id, EC_AVAILABLE, EC_MODIFYING);
			for (size_t i = 0; i < FB_ARRAY_LEN(requested); i++)
				if (requested[i] == r->rg_id)
					requested[i] = 0;
			if (r->total)
				ec_event(fb->db, rg.account, rg.region, rg.name,
					 "replication-group",
					 "Resharding completed: %d slots moved", r->moved);
		} else {
			log_warn("elasticache: %s: slot migration failed near slot %d; retrying",
				 rg.name, r->slot);
		}
	}
	if (r->token) {
		explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	arena_free(r->tmp);
	arena_free(r->a);
	free(r);
	ec_rg_reconcile();
}

/* rs_send: n commands to v[i] in one pipeline; the replies continue the
 * migration (rs_reply). */
static void rs_send(struct reshard *r, int i, int n, const int *argcs,
		    const char *const *const *argvs, const size_t *const *lens, redis_reply_cb *cb)
{
	struct ec_node *node = ec_node_get(r->v[i].id);
	if (!node || !node->r) {
		rs_end(r, 0);
		return;
	}
	redis_pipeline(node->r, n, argcs, argvs, lens, cb, r);
}

/* setslots: "CLUSTER SETSLOT <slot> <what> <nid>" for every slot of the
 * batch, to node to. */
static void setslots(struct reshard *r, int to, const char *what, const char *nid,
		     redis_reply_cb *cb)
{
	int *argcs = arena_alloc(r->tmp, BATCH * sizeof(*argcs));
	const char *const **argvs = arena_alloc(r->tmp, BATCH * sizeof(*argvs));
	for (int i = 0; i < r->nb; i++) {
		const char **argv = arena_alloc(r->tmp, 5 * sizeof(*argv));
		argv[0] = "CLUSTER";
		argv[1] = "SETSLOT";
		argv[2] = arena_sprintf(r->tmp, "%d", r->batch[i]);
		argv[3] = what;
		argv[4] = nid;
		argcs[i] = 5;
		argvs[i] = argv;
	}
	rs_send(r, to, r->nb, argcs, argvs, NULL, cb);
}

/* first_error: the text of the first error reply among the replies at
 * (p, len), NULL when there is none; *bad when they do not parse. */
static const char *first_error(struct arena *a, const char *p, size_t len, int *bad)
{
	*bad = 0;
	for (size_t off = 0; off < len;) {
		long el = redis_reply_len(p + off, len - off);
		if (el <= 0) {
			*bad = 1;
			return "unparsable reply";
		}
		if (p[off] == '-')
			return arena_strndup(a, p + off + 1, (size_t)el - 3);
		off += (size_t)el;
	}
	return NULL;
}

/* keys_reply: GETKEYSINSLOT for every slot still holding keys: a MIGRATE
 * per slot with keys, then look again; none left: the slots change hands. */
static void keys_reply(void *arg, int ok, const char *p, size_t len)
{
	struct reshard *r = arg;
	int *argcs = arena_alloc(r->tmp, BATCH * sizeof(*argcs));
	const char *const **argvs = arena_alloc(r->tmp, BATCH * sizeof(*argvs));
	const size_t **lens = arena_alloc(r->tmp, BATCH * sizeof(*lens));
	int nm = 0, still = 0;
	size_t off = 0;
	for (int i = 0; ok == 1 && i < r->nk; i++) {
		long el = redis_reply_len(p + off, len - off);
		if (el <= 0 || p[off] != '*') {
			ok = -1;
			break;
		}
		int k = atoi(p + off + 1);
		const char *q = memchr(p + off, '\n', (size_t)el);
		size_t at = (size_t)(q - p) + 1, end = off + (size_t)el;
		off = end;
		if (k <= 0)
			continue;
		const char **argv = arena_alloc(r->tmp, (size_t)(k + 12) * sizeof(*argv));
		size_t *l = arena_alloc(r->tmp, (size_t)(k + 12) * sizeof(*l));
		int c = 0;
		const char *head[] = {"MIGRATE", r->v[r->dst].addr, r->v[r->dst].port, "",
				      "0",	 "10000",	    "REPLACE"};
		for (size_t h = 0; h < FB_ARRAY_LEN(head); h++, c++)
			l[c] = strlen(argv[c] = head[h]);
		if (r->token) {
			l[c] = 4, argv[c++] = "AUTH";
			l[c] = strlen(r->token), argv[c++] = r->token;
		}
		l[c] = 4, argv[c++] = "KEYS";
		for (int j = 0; j < k && at < end; j++) { /* each key: $len\r\nkey\r\n */
			long kl = atol(p + at + 1);
			const char *kq = memchr(p + at, '\n', end - at);
			if (kl < 0 || !kq)
				break;
			argv[c] = kq + 1;
			l[c++] = (size_t)kl;
			at = (size_t)(kq + 1 - p) + (size_t)kl + 2;
		}
		argcs[nm] = c;
		argvs[nm] = argv;
		lens[nm++] = l;
		r->keyed[still++] = r->keyed[i];
	}
	if (ok != 1) {
		log_warn("elasticache: GETKEYSINSLOT: %.*s", (int)len, p ? p : "no reply");
		rs_end(r, 0);
		return;
	}
	r->nk = still;
	r->phase = nm ? PH_MIGRATE : PH_NODE_DST;
	if (nm) /* p stays valid during the call: the keys are sent from it */
		rs_send(r, r->src, nm, argcs, argvs, lens, rs_reply_cb);
	else
		rs_step(r);
}
/* rs_reply_cb: the replies of a batch's phase: any error stops the
 * migration (the tick retries it), else the next phase. */
static void rs_reply_cb(void *arg, int ok, const char *p, size_t len)
{
	struct reshard *r = arg;
	int bad = 0;
	const char *err = ok == 1 ? first_error(r->tmp, p, len, &bad) : "no reply";
	/* a master that gave away its last slot turns itself into a replica
	 * of the taker (Redis 7's replica migration) before its own SETSLOT
	 * NODE: the target owns the slot already, which is what counts */
	if (err && !bad && r->phase == PH_NODE_SRC && strstr(err, "only with masters"))
		err = NULL;
	if (err) {
		log_warn("elasticache: slots %d..: %s", r->batch[0], err);
		rs_end(r, 0);
		return;
	}
	if (r->phase == PH_NODE_SRC || r->phase == PH_ADD) {
		for (int i = 0; i < r->nb; i++)
			r->owner[r->batch[i]] = (int16_t)(r->dst + 1);
		r->moved += r->nb;
		r->nb = 0;
	} else if (r->phase == PH_MIGRATE) {
		r->phase = PH_KEYS; /* look again: a slot may hold more than a batch */
	} else {
		r->phase++;
	}
	rs_step(r);
}

/* next_batch: up to BATCH slots still to move between the same two nodes
 * (in slot order from the first one); 0 when every slot is in place. */
static int next_batch(struct reshard *r)
{
	while (r->slot < EC_SLOTS && r->owner[r->slot] == r->want[r->slot])
		r->slot++;
	if (r->slot == EC_SLOTS)
		return 0;
	r->src = r->owner[r->slot] - 1;
	r->dst = r->want[r->slot] - 1;
	r->nb = 0;
	for (int s = r->slot; s < EC_SLOTS && r->nb < BATCH; s++)
		if (r->owner[s] - 1 == r->src && r->want[s] - 1 == r->dst &&
		    r->owner[s] != r->want[s])
			r->batch[r->nb++] = s;
	r->phase = r->src < 0 ? PH_ADD : PH_IMPORT;
	arena_reset(r->tmp);
	return 1;
}

/* rs_step: the next phase of the current batch, or the next batch, or the
 * end of the migration. */
static void rs_step(struct reshard *r)
{
	if (r->nb == 0 && !next_batch(r)) {
		rs_forget(r);
		return;
	}
	const struct mv_node *a = r->src >= 0 ? &r->v[r->src] : NULL, *b = &r->v[r->dst];
	switch (r->phase) {
	case PH_ADD: { /* unassigned (an interrupted claim): just take them */
		const char **argv = arena_alloc(r->tmp, (size_t)(r->nb + 2) * sizeof(*argv));
		argv[0] = "CLUSTER";
		argv[1] = "ADDSLOTS";
		for (int i = 0; i < r->nb; i++)
			argv[i + 2] = arena_sprintf(r->tmp, "%d", r->batch[i]);
		int argc = r->nb + 2;
		const char *const *argvs[] = {argv};
		rs_send(r, r->dst, 1, &argc, argvs, NULL, rs_reply_cb);
		break;
	}
	case PH_IMPORT: /* the target first: it must accept ASK before the source sends it */
		setslots(r, r->dst, "IMPORTING", a->nid, rs_reply_cb);
		break;
	case PH_MIGRATING:
		setslots(r, r->src, "MIGRATING", b->nid, rs_reply_cb);
		r->nk = r->nb;
		memcpy(r->keyed, r->batch, sizeof(r->batch));
		break;
	case PH_KEYS: {
		int *argcs = arena_alloc(r->tmp, BATCH * sizeof(*argcs));
		const char *const **argvs = arena_alloc(r->tmp, BATCH * sizeof(*argvs));
		for (int i = 0; i < r->nk; i++) {
			const char **argv = arena_alloc(r->tmp, 4 * sizeof(*argv));
			argv[0] = "CLUSTER";
			argv[1] = "GETKEYSINSLOT";
			argv[2] = arena_sprintf(r->tmp, "%d", r->keyed[i]);
			argv[3] = MIGRATE_BATCH;
			argcs[i] = 4;
			argvs[i] = argv;
		}
		if (r->nk)
			rs_send(r, r->src, r->nk, argcs, argvs, NULL, keys_reply);
		else
			keys_reply(r, 1, "", 0);
		break;
	}
	case PH_NODE_DST: /* the target owns them first, then the source lets go */
		setslots(r, r->dst, "NODE", b->nid, rs_reply_cb);
		break;
	default:
		setslots(r, r->src, "NODE", b->nid, rs_reply_cb);
		break;
	}
}

/* forget_reply: one CLUSTER FORGET answered (errors only logged: a node
 * may have forgotten already); the last one ends the migration. */
static void forget_reply(void *arg, int ok, const char *p, size_t len)
{
	struct reshard *r = arg;
	if (ok != 1)
		log_debug("elasticache: CLUSTER FORGET: %.*s", (int)len, p ? p : "no reply");
	if (--r->phase == 0)
		rs_end(r, 1);
}

/* rs_forget: every slot is where it belongs: the nodes that stay forget
 * the leaving ones (within Redis's 60 s ban, so gossip cannot bring them
 * back before they are stopped), then the migration ends. */
static void rs_forget(struct reshard *r)
{
	r->phase = 1; /* counts the FORGETs in flight, held while sending */
	for (size_t i = 0; i < r->n; i++) {
		struct ec_node *n = ec_node_get(r->v[i].id);
		for (size_t k = 0; !r->v[i].leaving && n && n->r && k < r->n; k++) {
			if (!r->v[k].leaving || !r->v[k].nid[0])
				continue;
			const char *argv[] = {"CLUSTER", "FORGET", r->v[k].nid};
			r->phase++;
			redis_command(n->r, 3, argv, forget_reply, r);
		}
	}
	if (--r->phase == 0)
		rs_end(r, 1);
}

/* view_line: one line of CLUSTER NODES: names its node in r->v (matched
 * by address) and records the slots it owns. */
static void view_line(struct reshard *r, char *line)
{
	char *save = NULL, *id = strtok_r(line, " \r", &save);
	char *addr = id ? strtok_r(NULL, " \r", &save) : NULL;
	char *flags = addr ? strtok_r(NULL, " \r", &save) : NULL;
	char *f = flags;
	for (int k = 3; f && k < 8; k++)
		f = strtok_r(NULL, " \r", &save);
	if (!f)
		return;
	size_t i = 0;
	addr[strcspn(addr, ":")] = 0;
	while (i < r->n && strcmp(r->v[i].addr, addr))
		i++;
	if (i == r->n)
		return; /* a node fogbank does not know (a forgotten one, gossiped back) */
	snprintf(r->v[i].nid, sizeof(r->v[i].nid), "%s", id);
	r->v[i].master = strstr(flags, "master") != NULL;
	while ((f = strtok_r(NULL, " \r", &save)))
		if (f[0] != '[')
			ec_slots_mark(f, r->owner, (int16_t)(i + 1));
}

/* view_reply: the cluster's view (CLUSTER NODES of a node that stays):
 * who owns what now, and who should own what (the stored layout, each
 * shard's slots going to whichever of its nodes is master now). */
static void view_reply(void *arg, int ok, const char *p, size_t len)
{
	struct reshard *r = arg;
	struct fogbank *fb = ec_rt_fb();
	/* a pipeline of one: the raw bulk string, "$<n>\r\n<text>\r\n" */
	const char *hdr = ok == 1 && p && len > 3 && p[0] == '$' ? memchr(p, '\n', len) : NULL;
	if (!hdr) {
		ok = 0;
	} else {
		len -= (size_t)(hdr + 1 - p) + 2;
		p = hdr + 1;
	}
	for (size_t i = 0; ok == 1 && i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) : len;
		view_line(r, arena_strndup(r->tmp, p + i, end - i));
		i = end + 1;
	}
	struct ec_shard *sh;
	size_t ns = ec_shards_of_rg(fb->db, r->a, r->rg_id, &sh);
	int ready = ok == 1;
	for (size_t s = 0; ready && s < ns; s++) {
		size_t i = 0;
		while (i < r->n && !(r->v[i].shard == sh[s].shard && r->v[i].master))
			i++;
		ready = i < r->n && ec_slots_mark(sh[s].slots, r->want, (int16_t)(i + 1)) == 0;
	}
	for (size_t i = 0; ready && i < r->n; i++)
		ready = r->v[i].nid[0] != 0;
	if (!ready) {
		rs_end(r, 0);
		return;
	}
	for (int s = 0; s < EC_SLOTS; s++)
		r->total += r->owner[s] != r->want[s];
	if (r->total)
		log_info("elasticache: resharding: %d slots to move", r->total);
	rs_step(r);
}

/* ec_reshard_busy: see internal.h. */
int ec_reshard_busy(int64_t rg_id)
{
	for (struct reshard *r = jobs; r; r = r->next)
		if (r->rg_id == rg_id)
			return 1;
	return 0;
}

/* ec_reshard_progress: see internal.h. */
int ec_reshard_progress(int64_t rg_id)
{
	for (struct reshard *r = jobs; r; r = r->next)
		if (r->rg_id == rg_id)
			return r->total ? r->moved * 100 / r->total : 0;
	for (size_t i = 0; i < FB_ARRAY_LEN(requested); i++)
		if (requested[i] == rg_id)
			return 0; /* new nodes still joining */
	return -1;
}

/* ec_reshard_request: see internal.h. */
void ec_reshard_request(int64_t rg_id)
{
	for (size_t i = 0; i < FB_ARRAY_LEN(requested); i++)
		if (!requested[i] || requested[i] == rg_id) {
			requested[i] = rg_id;
			return;
		}
}

/* ec_reshard_start: see internal.h. */
void ec_reshard_start(int64_t rg_id)
{
	struct fogbank *fb = ec_rt_fb();
	if (ec_reshard_busy(rg_id))
		return;
	struct reshard *r = calloc(1, sizeof(*r));
	if (!r)
		fb_die("out of memory");
	r->rg_id = rg_id;
	r->a = arena_new(16384);
	r->tmp = arena_new(65536);
	r->owner = arena_zalloc(r->a, EC_SLOTS * sizeof(*r->owner));
	r->want = arena_zalloc(r->a, EC_SLOTS * sizeof(*r->want));
	struct ec_cluster *m;
	struct ec_shard *sh;
	r->n = ec_clusters_of_rg(fb->db, r->a, rg_id, &m);
	size_t ns = ec_shards_of_rg(fb->db, r->a, rg_id, &sh);
	r->v = arena_zalloc(r->a, (r->n ? r->n : 1) * sizeof(*r->v));
	size_t ask = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct mv_node *v = &r->v[i];
		v->id = m[i].id;
		v->shard = m[i].shard;
		v->leaving = 1;
		for (size_t s = 0; s < ns; s++)
			if (sh[s].shard == v->shard)
				v->leaving = 0;
		snprintf(v->addr, sizeof(v->addr), "%s", m[i].addr);
		snprintf(v->port, sizeof(v->port), "%lld", (long long)m[i].port);
		if (!v->leaving && ask == r->n)
			ask = i;
	}
	if (r->n && m[0].auth_token && !(r->token = strdup(m[0].auth_token)))
		fb_die("out of memory");
	r->next = jobs;
	jobs = r;
	if (ask == r->n) {
		rs_end(r, 0);
		return;
	}
	const char *argv[] = {"CLUSTER", "NODES"};
	const char *const *argvs[] = {argv};
	int argc = 2;
	rs_send(r, (int)ask, 1, &argc, argvs, NULL, view_reply);
}

/* ec_reshard_shutdown: see internal.h. */
void ec_reshard_shutdown(void)
{
	while (jobs) {
		struct reshard *r = jobs;
		jobs = r->next;
		free(r->token);
		arena_free(r->tmp);
		arena_free(r->a);
		free(r);
	}
}
