/* addr.c - loopback address allocation, stored as integers so the lowest
 * free slot is one indexed query. Slot n is 127.(n>>16).((n>>8)&255).(n&255)
 * offset from 127.0.1.0; .0 and .255 host parts are skipped so every
 * address looks ordinary. */
#include "store/addr.h"

#define ADDR_FIRST 257      /* 127.0.1.1 */
#define ADDR_LAST 16777214  /* 127.255.255.254 */

const struct db_migration addr_migrations[] = {
	{"addr", 1,
	 "CREATE TABLE loopback_addrs(slot INTEGER PRIMARY KEY, owner TEXT NOT NULL UNIQUE)"},
	{NULL},
};

static void slot_text(int64_t slot, char out[16])
{
	snprintf(out, 16, "127.%d.%d.%d", (int)((slot >> 16) & 255), (int)((slot >> 8) & 255),
		 (int)(slot & 255));
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
	/* lowest slot s >= FIRST such that s is free: either FIRST itself, or
	 * one past an allocated slot whose successor is free */
	sqlite3_stmt *st = db_stmt(
		db, "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM loopback_addrs WHERE slot = ?1) "
		    "THEN ?1 ELSE (SELECT MIN(a.slot + 1) FROM loopback_addrs a WHERE a.slot >= ?1 "
		    "AND NOT EXISTS (SELECT 1 FROM loopback_addrs b WHERE b.slot = a.slot + 1)) END");
	int64_t slot = -1;
	for (int64_t from = ADDR_FIRST; slot < 0 && from <= ADDR_LAST;) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, from);
		if (sqlite3_step(st) != SQLITE_ROW)
			break;
		int64_t s = sqlite3_column_int64(st, 0);
		int host = (int)(s & 255);
		if (host == 0 || host == 255) {
			/* skip .0 / .255 by reserving nothing: search again past it */
			from = s + 1;
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
