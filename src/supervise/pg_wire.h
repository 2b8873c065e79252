/* pg_wire.h - a minimal asynchronous PostgreSQL client (protocol v3) for
 * fogbank's own use: readiness probes and administrative SQL (CREATE ROLE,
 * ALTER ROLE ... PASSWORD, pg_switch_wal()). It speaks only to a server's
 * unix socket with `trust` authentication: fogbank's instances put that
 * socket in a directory only root and the postgres user can enter, so the
 * socket is the administrative channel and TCP always asks for a password.
 * Everything runs from the loop; nothing blocks. */
#ifndef FB_PG_WIRE_H
#define FB_PG_WIRE_H
#include "core/compat.h"

struct loop;
struct pg_wire;

/* The outcome of one pg_wire_run; strings are valid during the callback. */
struct pg_wire_result {
	int ok;		    /* 1: connected and every statement succeeded */
	int not_up;	    /* 1: no server answering yet (no socket, refused, 57P03) */
	char sqlstate[6];   /* the server's error code, "" when none */
	const char *error;  /* why it failed, NULL when ok */
	const char *value;  /* first column of the first row returned, or NULL */
	int64_t elapsed_ms; /* from pg_wire_run to the callback */
};

/* Called once per pg_wire_run, from the loop; the struct pg_wire is freed
 * right after it returns. */
typedef void pg_wire_cb(const struct pg_wire_result *r, void *arg);

/* pg_wire_run: connects to the unix socket at sock_path as user to dbname
 * and, when sql is not NULL, runs it as one simple query (several
 * statements separated by ';' are fine). cb fires exactly once, never
 * before pg_wire_run returns. Gives up after timeout_ms. Returns the
 * handle (for pg_wire_cancel). */
struct pg_wire *pg_wire_run(struct loop *l, const char *sock_path, const char *user,
			    const char *dbname, const char *sql, int64_t timeout_ms, pg_wire_cb *cb,
			    void *arg);
/* pg_wire_cancel: abandons a run; its callback never fires. */
void pg_wire_cancel(struct pg_wire *w);

/* pg_quote_literal: sql-quotes s as '...' (doubling quotes; the server
 * runs with standard_conforming_strings, so backslashes are plain) into
 * out (cap bytes). -1 when it does not fit. */
int pg_quote_literal(const char *s, char *out, size_t cap);
/* pg_quote_ident: double-quotes an identifier ("a""b"). -1 when it does
 * not fit. */
int pg_quote_ident(const char *s, char *out, size_t cap);
/* pg_scram_verifier: the SCRAM-SHA-256 verifier PostgreSQL stores for
 * password (4096 iterations, random salt), as accepted by CREATE/ALTER
 * ROLE ... PASSWORD '<verifier>', so fogbank never keeps or sends the
 * plaintext. Writes it into out (cap >= 160). 0 or -1. */
int pg_scram_verifier(const char *password, char *out, size_t cap);
#endif
