/* bcache.c - the bucket cache: rows of s3_buckets by name and stored
 * configuration documents (s3_bucket_cfg) by bucket and kind, so that the
 * object requests that look both up on every call skip SQLite.
 *
 * Invalidation is by generation, as in Secrets Manager's hot cache: any
 * write to s3_buckets (SQLite's update hook, db_watch of "s3_b"), any
 * rollback, and every s3_bcache_invalidate (s3_bucket_cfg is a WITHOUT
 * ROWID table, which the update hook does not see, so s3_cfg_put calls
 * it) empty the whole cache before its next use. A handful of slots, no
 * allocation but for configuration text; loop thread only. */
#include "core/compat.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <stdlib.h>

#define BUCKET_SLOTS 8
#define CFG_SLOTS 16
#define CFG_TEXT_MAX 16384 /* bigger documents are read from the store */

struct bucket_slot {
	int used;
	struct s3_bucket b; /* strings point into the arrays below */
	char name[64], account[32], region[32];
};

struct cfg_slot {
	int used;
	int64_t bucket_id;
	char kind[32];
	char *text; /* malloc'd; NULL: the bucket has no such document */
};

static struct {
	struct db *db;
	int watch;
	uint64_t local; /* s3_bcache_invalidate count */
	uint64_t valid; /* the generation the slots were filled at */
	struct bucket_slot bucket[BUCKET_SLOTS];
	struct cfg_slot cfg[CFG_SLOTS];
	unsigned next_bucket, next_cfg; /* round-robin victims */
} bc;

/* ready: binds the cache to db and empties it when anything may have
 * changed since it was filled. */
static void ready(struct db *db)
{
	/* looked up each time: a database opened where a closed one was
	 * gets a new watch, hence a flush */
	bc.watch = db_watch(db, "s3_b");
	bc.db = db;
	uint64_t g = bc.local + db_watch_gen(db, bc.watch);
	if (g == bc.valid)
		return;
	for (size_t i = 0; i < CFG_SLOTS; i++)
		free(bc.cfg[i].text);
	memset(bc.bucket, 0, sizeof(bc.bucket));
	memset(bc.cfg, 0, sizeof(bc.cfg));
	bc.valid = g;
}

void s3_bcache_invalidate(void)
{
	bc.local++;
}

int s3_bcache_bucket(struct aws_call *c, const char *name, struct s3_bucket *b)
{
	ready(c->fb->db);
	for (size_t i = 0; i < BUCKET_SLOTS; i++) {
		struct bucket_slot *s = &bc.bucket[i];
		if (s->used && !strcmp(s->name, name)) {
			*b = s->b;
			b->name = arena_strdup(c->a, s->name);
			b->account = arena_strdup(c->a, s->account);
			b->region = arena_strdup(c->a, s->region);
			return 1;
		}
	}
	return 0;
}

void s3_bcache_put_bucket(struct aws_call *c, const struct s3_bucket *b)
{
	ready(c->fb->db);
	if (strlen(b->name) >= sizeof(bc.bucket[0].name) ||
	    strlen(b->account) >= sizeof(bc.bucket[0].account) ||
	    strlen(b->region) >= sizeof(bc.bucket[0].region))
		return;
	struct bucket_slot *s = &bc.bucket[bc.next_bucket++ % BUCKET_SLOTS];
	s->used = 1;
	s->b = *b;
	snprintf(s->name, sizeof(s->name), "%s", b->name);
	snprintf(s->account, sizeof(s->account), "%s", b->account);
	snprintf(s->region, sizeof(s->region), "%s", b->region);
	s->b.name = s->name;
	s->b.account = s->account;
	s->b.region = s->region;
}

int s3_bcache_cfg(struct aws_call *c, int64_t bucket_id, const char *kind, const char **text)
{
	ready(c->fb->db);
	for (size_t i = 0; i < CFG_SLOTS; i++) {
		struct cfg_slot *s = &bc.cfg[i];
		if (s->used && s->bucket_id == bucket_id && !strcmp(s->kind, kind)) {
			*text = s->text ? arena_strdup(c->a, s->text) : NULL;
			return 1;
		}
	}
	return 0;
}

void s3_bcache_put_cfg(struct aws_call *c, int64_t bucket_id, const char *kind, const char *text)
{
	ready(c->fb->db);
	if (strlen(kind) >= sizeof(bc.cfg[0].kind) || (text && strlen(text) > CFG_TEXT_MAX))
		return;
	char *copy = NULL;
	if (text && !(copy = strdup(text)))
		return; /* out of memory: simply not cached */
	struct cfg_slot *s = &bc.cfg[bc.next_cfg++ % CFG_SLOTS];
	free(s->text);
	s->used = 1;
	s->bucket_id = bucket_id;
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->text = copy;
}
