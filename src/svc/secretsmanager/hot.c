/* hot.c - the GetSecretValue cache: what one value query found (secret
 * row, the version behind the label or id, its labels and its KMS
 * ciphertext), keyed by the request's account, region, SecretId, stage
 * and version id, so a repeated read skips SQLite.
 *
 * Never plaintext: entries hold the ciphertext blob exactly as stored, and
 * every read still decrypts through KMS (so a disabled or deleted key is
 * noticed at once). Invalidation is by generation: any write to an sm_*
 * table (SQLite's update hook, db_watch), any rollback, and every
 * Secrets Manager transaction or purge (sm_hot_invalidate) empties the
 * whole cache before its next use. Bounded by SM_HOT_SLOTS entries and
 * SM_HOT_BYTES bytes; nothing is allocated until the first read. Loop
 * thread only. */
#include "core/compat.h"
#include "core/log.h"
#include "svc/secretsmanager/internal.h"
#include <stdlib.h>

#define SM_HOT_SLOTS 256	      /* power of two */
#define SM_HOT_PROBE 4		      /* slots an entry may occupy: h .. h+3 */
#define SM_HOT_BYTES (1u << 20)	      /* all entries together */
#define SM_HOT_ENTRY_MAX (128u << 10) /* bigger results are not cached */

struct sm_hot_cache {
	struct db *db;	      /* the database the entries came from */
	int watch;	      /* its db_watch of "sm_" */
	uint64_t local;	      /* sm_hot_invalidate count */
	uint64_t valid;	      /* the generation every entry is valid at */
	size_t bytes;	      /* sum of entry sizes */
	struct sm_hot **slot; /* SM_HOT_SLOTS, allocated on first use */
};

static struct sm_hot_cache hot;

/* generation: moves with every change that may make an entry stale. */
static uint64_t generation(void)
{
	return hot.local + db_watch_gen(hot.db, hot.watch);
}

/* flush: frees every entry. */
static void flush(void)
{
	for (size_t i = 0; hot.slot && i < SM_HOT_SLOTS; i++) {
		free(hot.slot[i]);
		hot.slot[i] = NULL;
	}
	hot.bytes = 0;
}

/* ready: binds the cache to db and empties it if anything changed since it
 * was filled. Returns the current generation. */
static uint64_t ready(struct db *db)
{
	/* looked up every time (a few bytes compared): a database opened
	 * where a closed one was gets a fresh watch, hence a flush */
	hot.watch = db_watch(db, "sm_");
	hot.db = db;
	uint64_t g = generation();
	if (g != hot.valid) {
		flush();
		hot.valid = g;
	}
	return g;
}

uint64_t sm_hot_hash(const char *p, size_t n)
{
	/* word at a time, multiply-xorshift mixing; collisions only cost a
	 * cache miss (probing is bounded), so no keyed hash is needed */
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

const struct sm_hot *sm_hot_find(struct db *db, struct str key, uint64_t hash)
{
	ready(db);
	if (!hot.slot)
		return NULL;
	for (size_t i = 0; i < SM_HOT_PROBE; i++) {
		const struct sm_hot *e = hot.slot[(hash + i) & (SM_HOT_SLOTS - 1)];
		if (e && e->hash == hash && e->key.n == key.n &&
		    memcmp(e->key.p, key.p, key.n) == 0)
			return e;
	}
	return NULL;
}

struct sm_hot *sm_hot_alloc(size_t data_n)
{
	if (data_n > SM_HOT_ENTRY_MAX)
		return NULL;
	struct sm_hot *e = malloc(sizeof(*e) + data_n);
	if (!e)
		fb_die("out of memory (secret cache)");
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e) + data_n;
	return e;
}

void sm_hot_insert(struct db *db, struct sm_hot *e)
{
	ready(db);
	if (!hot.slot) {
		hot.slot = calloc(SM_HOT_SLOTS, sizeof(*hot.slot));
		if (!hot.slot)
			fb_die("out of memory (secret cache)");
	}
	if (hot.bytes + e->size > SM_HOT_BYTES)
		flush(); /* rare: a working set of large secrets; start over */
	size_t at = e->hash & (SM_HOT_SLOTS - 1);
	for (size_t i = 0; i < SM_HOT_PROBE; i++) {
		size_t k = (e->hash + i) & (SM_HOT_SLOTS - 1);
		if (!hot.slot[k]) {
			at = k;
			break;
		}
	}
	/* all probed slots taken: the entry at the home slot makes way */
	if (hot.slot[at]) {
		hot.bytes -= hot.slot[at]->size;
		free(hot.slot[at]);
	}
	hot.slot[at] = e;
	hot.bytes += e->size;
}

void sm_hot_invalidate(void)
{
	hot.local++;
}

uint64_t sm_hot_generation(struct db *db)
{
	return ready(db);
}

void sm_hot_accessed(struct db *db, uint64_t before, int64_t id, double day)
{
	/* the one write GetSecretValue makes (LastAccessedDate, at most once a
	 * day per secret) changes nothing else an entry holds: when it was the
	 * only change, the entries stay and learn the new day */
	if (hot.db != db || hot.valid != before || generation() != before + 1)
		return;
	hot.valid = before + 1;
	for (size_t i = 0; hot.slot && i < SM_HOT_SLOTS; i++)
		if (hot.slot[i] && hot.slot[i]->id == id)
			hot.slot[i]->last_accessed = day;
}

int sm_hot_contains(const void *needle, size_t n)
{
	for (size_t i = 0; hot.slot && i < SM_HOT_SLOTS; i++) {
		const struct sm_hot *e = hot.slot[i];
		if (e && n && memmem(e->data, e->size - sizeof(*e), needle, n))
			return 1;
	}
	return 0;
}

size_t sm_hot_count(void)
{
	size_t n = 0;
	for (size_t i = 0; hot.slot && i < SM_HOT_SLOTS; i++)
		n += hot.slot[i] != NULL;
	return n;
}
