/* addr.c - loopback address allocation, stored as integers so the lowest
 * free slot is one indexed query. Each data dir picks a random /24 in
 * 127.0.0.0/8 once (stored), so two fogbanks on one machine - `make run`
 * beside a test run - do not hand out the same address:port. Slots
 * count up from that base; host parts .0 and .255 are skipped so every
 * address looks ordinary. */
#include "store/addr.h"
#include <openssl/rand.h>

#define ADDR_LAST 16777214 /* 127.255.255.254 */

const struct db_migration addr_migrations[] = {
    {"addr", 1,
     "CREATE TABLE loopback_addrs(slot INTEGER PRIMARY KEY, owner TEXT NOT NULL UNIQUE)"},
    {"addr", 2, "CREATE TABLE loopback_base(id INTEGER PRIMARY KEY CHECK (id = 1), slot INTEGER)"},
    {NULL},
};

static void slot_text(int64_t slot, char out[16])
{
	snprintf(out, 16, "127.%d.%d.%d", (int)((slot >> 16) & 255), (int)((slot >> 8) & 255),
		 (int)(slot & 255));
}

/* base_slot: this data dir's first slot (x.y.1 of a random 127.x.y.0/24,
 * avoiding 127.0.0.0/24 where other local servers live), chosen once. */
static int64_t base_slot(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT slot FROM loopback_base WHERE id = 1");
	int64_t base = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		base = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (base > 0)
		return base;
	uint16_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 1;
	/* 127.1.0.0 .. 127.254.255.0: second octet 1..254, third 0..255 */
	base = ((int64_t)(1 + r % 254) << 16) + ((int64_t)((r >> 8) & 255) << 8) + 1;
	sqlite3_stmt *ins = db_stmt(db, "INSERT INTO loopback_base(id, slot) VALUES (1, ?1)");
	sqlite3_bind_int64(ins, 1, base);
	db_step_done(ins);
	return base;
}

int addr_lookup(struct db *db, const char *owner, char out[16])
{
	sqlite3_stmt *st = db_stmt(db, "SELECT slot FROM loopback_addrs WHERE owner = ?1");
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		slot_text(sqlite3_column_int64(st, 0), out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int addr_alloc(struct db *db, const char *owner, char out[16])
{
	if (addr_lookup(db, owner, out) == 0)
		return 0;
	/* lowest slot s >= base that is free: base itself, or one past an
	 * allocated slot whose successor is free */
	sqlite3_stmt *st = db_stmt(
	    db, "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM loopback_addrs WHERE slot = ?1) "
		"THEN ?1 ELSE (SELECT MIN(a.slot + 1) FROM loopback_addrs a WHERE a.slot >= ?1 "
		"AND NOT EXISTS (SELECT 1 FROM loopback_addrs b WHERE b.slot = a.slot + 1)) END");
	int64_t slot = -1;
	for (int64_t from = base_slot(db); slot < 0 && from <= ADDR_LAST;) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, from);
		if (sqlite3_step(st) != SQLITE_ROW)
			break;
		int64_t s = sqlite3_column_int64(st, 0);
		int host = (int)(s & 255);
		if (host == 0 || host == 255) {
			from = s + 1; /* skip .0 / .255: search again past it */
			continue;
		}
		slot = s;
	}
	sqlite3_reset(st);
	if (slot < 0 || slot > ADDR_LAST)
		return -1;
	sqlite3_stmt *ins = db_stmt(db, "INSERT INTO loopback_addrs(slot, owner) VALUES (?1, ?2)");
	sqlite3_bind_int64(ins, 1, slot);
	sqlite3_bind_text(ins, 2, owner, -1, SQLITE_STATIC);
	if (db_step_done(ins) != SQLITE_DONE)
		return -1;
	slot_text(slot, out);
	return 0;
}

int addr_free(struct db *db, const char *owner)
{
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM loopback_addrs WHERE owner = ?1");
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	return db_step_done(st) == SQLITE_DONE ? 0 : -1;
}
