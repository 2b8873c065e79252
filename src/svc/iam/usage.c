/* usage.c - when each long-term access key was last used, and for what
 * service and region (GetAccessKeyLastUsed).
 *
 * Recording a use must not put a write on every request, so uses land in
 * a small in-memory table and iam_usage_flush writes the changed rows in
 * one transaction from the daemon's purge timer and at shutdown. A crash
 * can forget the last few seconds of use, which AWS's own tracking (it
 * lags by hours) allows; nothing a caller was promised is lost. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "store/db.h"
#include "svc/iam/iam.h"
#include "svc/iam/keys.h"

#define USAGE_SLOTS 512 /* power of two */

struct usage {
	char akid[24]; /* "" = free slot */
	char service[32];
	char region[32];
	int64_t ms;
	int dirty;
};

static struct usage tab[USAGE_SLOTS];
static size_t used;

/* slot_of: the slot holding akid, or the free slot where it belongs; NULL
 * when the table is full. */
static struct usage *slot_of(const char *akid, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)akid[i]) * 16777619u;
	for (size_t k = 0; k < USAGE_SLOTS; k++) {
		struct usage *u = &tab[(h + k) & (USAGE_SLOTS - 1)];
		if (!u->akid[0] || (strlen(u->akid) == n && !memcmp(u->akid, akid, n)))
			return u;
	}
	return NULL;
}

/* copy: s into a field of cap bytes (cut, NUL-terminated). */
static void copy(char *dst, size_t cap, struct str s)
{
	size_t n = s.n < cap - 1 ? s.n : cap - 1;
	memcpy(dst, s.p, n);
	dst[n] = 0;
}

void iam_key_used(struct fogbank *fb, struct str akid, struct str service, struct str region,
		  int64_t now_ms)
{
	/* only keys minted by CreateAccessKey are tracked (the "test" and
	 * 12-digit pseudo keys and STS session keys are not IAM keys) */
	if (akid.n < 16 || akid.n >= sizeof(tab[0].akid) || memcmp(akid.p, "AKIA", 4) != 0)
		return;
	struct usage *u = slot_of(akid.p, akid.n);
	if (!u) { /* full: write everything out and start over */
		iam_usage_flush(fb);
		memset(tab, 0, sizeof(tab));
		used = 0;
		u = slot_of(akid.p, akid.n);
	}
	if (!u->akid[0]) {
		copy(u->akid, sizeof(u->akid), akid);
		used++;
	}
	copy(u->service, sizeof(u->service), service);
	copy(u->region, sizeof(u->region), region);
	u->ms = now_ms;
	u->dirty = 1;
}

void iam_usage_flush(struct fogbank *fb)
{
	int any = 0;
	for (size_t i = 0; i < USAGE_SLOTS && !any; i++)
		any = tab[i].dirty;
	if (!any || db_in_tx(fb->db))
		return;
	if (db_begin(fb->db) != SQLITE_OK)
		return;
	int rc = SQLITE_DONE;
	for (size_t i = 0; i < USAGE_SLOTS && rc == SQLITE_DONE; i++) {
		struct usage *u = &tab[i];
		if (!u->dirty)
			continue;
		sqlite3_stmt *st =
		    db_stmt(fb->db, "UPDATE iam_access_keys SET last_used_ms = ?2, "
				    "last_service = ?3, last_region = ?4 WHERE akid = ?1");
		sqlite3_bind_text(st, 1, u->akid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, u->ms);
		sqlite3_bind_text(st, 3, u->service, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, u->region, -1, SQLITE_STATIC);
		rc = db_step_done(st);
	}
	if (rc != SQLITE_DONE || db_commit(fb->db) != SQLITE_OK) {
		db_rollback(fb->db);
		log_warn("iam: cannot record access key use");
		return;
	}
	for (size_t i = 0; i < USAGE_SLOTS; i++)
		tab[i].dirty = 0;
}

int iam_key_last_used(const char *akid, int64_t *ms, const char **service, const char **region)
{
	struct usage *u = slot_of(akid, strlen(akid));
	if (!u || !u->akid[0])
		return 0;
	*ms = u->ms;
	*service = u->service;
	*region = u->region;
	return 1;
}
