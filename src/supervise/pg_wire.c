/* pg_wire.c - the minimal asynchronous PostgreSQL v3 client behind
 * readiness probes and administrative SQL (see pg_wire.h). One state
 * machine: connect -> StartupMessage -> (AuthenticationOk ...
 * ReadyForQuery) -> Query -> ReadyForQuery. */
#include "core/compat.h"
#include "supervise/pg_wire.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum pgw_phase { PGW_STARTUP, PGW_QUERY };

struct pg_wire {
	struct loop *l;
	int fd;
	enum pgw_phase phase;
	char *sql;
	struct buf out, in;
	uint64_t timer;
	int64_t t0;
	pg_wire_cb *cb;
	void *arg;
	char sqlstate[6];
	char *error;
	char *value;
	int got_row;
	int not_up;
};

static void pgw_io(struct loop *l, int fd, unsigned events, void *arg);

/* pgw_free: closes and frees w (no callback). */
static void pgw_free(struct pg_wire *w)
{
	if (w->fd >= 0) {
		loop_watch(w->l, w->fd, 0, NULL, NULL);
		close(w->fd);
	}
	if (w->timer)
		loop_timer_cancel(w->l, w->timer);
	buf_release(&w->out);
	buf_release(&w->in);
	free(w->sql);
	free(w->error);
	free(w->value);
	free(w);
}

/* pgw_finish: reports the outcome and frees w. ok is 1 only after the
 * last ReadyForQuery with no error seen. */
static void pgw_finish(struct pg_wire *w, int ok)
{
	struct pg_wire_result r = {0};
	r.ok = ok && !w->error;
	r.not_up = w->not_up;
	memcpy(r.sqlstate, w->sqlstate, sizeof(r.sqlstate));
	r.error = r.ok ? NULL : (w->error ? w->error : "connection closed");
	r.value = w->value;
	r.elapsed_ms = fb_mono_ms() - w->t0;
	pg_wire_cb *cb = w->cb;
	void *arg = w->arg;
	/* the callback may start another run (a retry): free our fd first */
	if (w->fd >= 0) {
		loop_watch(w->l, w->fd, 0, NULL, NULL);
		close(w->fd);
		w->fd = -1;
	}
	if (w->timer) {
		loop_timer_cancel(w->l, w->timer);
		w->timer = 0;
	}
	cb(&r, arg);
	pgw_free(w);
}

/* pgw_set_error: records the first error message (copied). */
static void pgw_set_error(struct pg_wire *w, const char *msg)
{
	if (!w->error)
		w->error = strdup(msg);
}

static void pgw_timeout(struct loop *l, void *arg)
{
	struct pg_wire *w = arg;
	w->timer = 0;
	pgw_set_error(w, "timed out");
	pgw_finish(w, 0);
}

/* pgw_deferred: reports an early failure from the loop, so callbacks
 * never run inside pg_wire_run. */
static void pgw_deferred(struct loop *l, void *arg)
{
	struct pg_wire *w = arg;
	w->timer = 0;
	pgw_finish(w, 0);
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	buf_append(b, x, 4);
}

static uint32_t get_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* pgw_flush: writes what is queued; watches for writability while some
 * remains. 0, or -1 on a write error. */
static int pgw_flush(struct pg_wire *w)
{
	while (w->out.n > 0) {
		ssize_t k = send(w->fd, w->out.p, w->out.n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k <= 0)
			return -1;
		buf_consume(&w->out, (size_t)k);
	}
	unsigned ev = LOOP_READ | (w->out.n ? LOOP_WRITE : 0);
	return loop_watch(w->l, w->fd, ev, pgw_io, w);
}

/* pgw_error_fields: reads the 'C' (SQLSTATE) and 'M' (message) fields of
 * an ErrorResponse body. */
static void pgw_error_fields(struct pg_wire *w, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end && *p) {
		char type = *p++;
		const char *v = p;
		size_t len = strnlen(v, (size_t)(end - v));
		if (type == 'C' && len == 5 && !w->sqlstate[0])
			memcpy(w->sqlstate, v, 5);
		if (type == 'M')
			pgw_set_error(w, v);
		p = v + len + 1;
	}
	/* 57P03: "the database system is starting up" (or shutting down, or
	 * in recovery without hot standby): not up yet */
	if (!strcmp(w->sqlstate, "57P03"))
		w->not_up = 1;
}

/* pgw_data_row: keeps column 0 of the first DataRow. */
static void pgw_data_row(struct pg_wire *w, const char *p, size_t n)
{
	if (w->got_row || n < 6)
		return;
	w->got_row = 1;
	int32_t len = (int32_t)get_u32(p + 2);
	if (len < 0 || (size_t)len > n - 6)
		return;
	w->value = strndup(p + 6, (size_t)len);
}

/* pgw_message: handles one backend message. Returns 1 when the run is
 * over (w freed), 0 to go on. */
static int pgw_message(struct pg_wire *w, char type, const char *p, size_t n)
{
	switch (type) {
	case 'R':
		if (n >= 4 && get_u32(p) != 0) {
			pgw_set_error(w, "server asked for a password on the admin socket");
			pgw_finish(w, 0);
			return 1;
		}
		return 0;
	case 'E':
		pgw_error_fields(w, p, n);
		if (w->phase == PGW_STARTUP) {
			pgw_finish(w, 0);
			return 1;
		}
		return 0;
	case 'D':
		pgw_data_row(w, p, n);
		return 0;
	case 'Z':
		if (w->phase == PGW_STARTUP && w->sql) {
			w->phase = PGW_QUERY;
			buf_putc(&w->out, 'Q');
			put_u32(&w->out, (uint32_t)(4 + strlen(w->sql) + 1));
			buf_append(&w->out, w->sql, strlen(w->sql) + 1);
			buf_putc(&w->out, 'X'); /* Terminate, after the query */
			put_u32(&w->out, 4);
			if (pgw_flush(w) < 0) {
				pgw_set_error(w, "write failed");
				pgw_finish(w, 0);
				return 1;
			}
			return 0;
		}
		pgw_finish(w, 1);
		return 1;
	default: /* S, K, N, T, C, I, ... */
		return 0;
	}
}

static void pgw_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct pg_wire *w = arg;
	if (events & LOOP_WRITE) {
		if (pgw_flush(w) < 0) {
			pgw_set_error(w, "write failed");
			pgw_finish(w, 0);
			return;
		}
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	char tmp[8192];
	ssize_t k = recv(fd, tmp, sizeof(tmp), 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		/* a server still starting may accept and then close */
		if (w->phase == PGW_STARTUP)
			w->not_up = 1;
		pgw_finish(w, 0);
		return;
	}
	buf_append(&w->in, tmp, (size_t)k);
	size_t off = 0;
	while (w->in.n - off >= 5) {
		uint32_t len = get_u32(w->in.p + off + 1);
		if (len < 4 || len > (1u << 26)) {
			pgw_set_error(w, "protocol error");
			pgw_finish(w, 0);
			return;
		}
		if (w->in.n - off < 1 + (size_t)len)
			break;
		char type = w->in.p[off];
		const char *body = w->in.p + off + 5;
		size_t n = len - 4;
		off += 1 + len;
		if (pgw_message(w, type, body, n))
			return;
	}
	buf_consume(&w->in, off);
}

struct pg_wire *pg_wire_run(struct loop *l, const char *sock_path, const char *user,
			    const char *dbname, const char *sql, int64_t timeout_ms, pg_wire_cb *cb,
			    void *arg)
{
	struct pg_wire *w = calloc(1, sizeof(*w));
	if (!w)
		fb_die("out of memory");
	w->l = l;
	w->cb = cb;
	w->arg = arg;
	w->t0 = fb_mono_ms();
	w->sql = sql ? strdup(sql) : NULL;
	w->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		pgw_set_error(w, "socket path too long");
		w->timer = loop_timer_add(l, 0, pgw_deferred, w);
		return w;
	}
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (w->fd < 0 || connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* ENOENT / ECONNREFUSED / EAGAIN (backlog full): not up */
		w->not_up = 1;
		pgw_set_error(w, strerror(errno));
		w->timer = loop_timer_add(l, 0, pgw_deferred, w);
		return w;
	}
	struct buf *b = &w->out;
	size_t start = b->n;
	put_u32(b, 0);	    /* length, patched below */
	put_u32(b, 196608); /* protocol 3.0 */
	buf_append(b, "user", 5);
	buf_append(b, user, strlen(user) + 1);
	buf_append(b, "database", 9);
	buf_append(b, dbname, strlen(dbname) + 1);
	buf_append(b, "application_name", 17);
	buf_append(b, "fogbank", 8);
	buf_putc(b, 0);
	uint32_t len = (uint32_t)(b->n - start);
	unsigned char x[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
			      (unsigned char)(len >> 8), (unsigned char)len};
	memcpy(b->p + start, x, 4);
	w->timer = loop_timer_add(l, timeout_ms, pgw_timeout, w);
	if (pgw_flush(w) < 0) {
		loop_timer_cancel(l, w->timer);
		pgw_set_error(w, "write failed");
		w->not_up = 1;
		w->timer = loop_timer_add(l, 0, pgw_deferred, w);
	}
	return w;
}

void pg_wire_cancel(struct pg_wire *w)
{
	if (w)
		pgw_free(w);
}

int pg_quote_literal(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	if (cap < 3)
		return -1;
	out[o++] = '\'';
	for (; *s; s++) {
		if (o + 3 >= cap)
			return -1;
		if (*s == '\'')
			out[o++] = '\'';
		out[o++] = *s;
	}
	out[o++] = '\'';
	out[o] = 0;
	return 0;
}

int pg_quote_ident(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	if (cap < 3)
		return -1;
	out[o++] = '"';
	for (; *s; s++) {
		if (o + 3 >= cap)
			return -1;
		if (*s == '"')
			out[o++] = '"';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = 0;
	return 0;
}

/* b64: standard base64 of n bytes into out (NUL-terminated). */
static void b64(const unsigned char *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

int pg_scram_verifier(const char *password, char *out, size_t cap)
{
	enum { ITER = 4096 };
	unsigned char salt[16], salted[32], client_key[32], stored[32], server_key[32];
	unsigned int hl = 0;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -1;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), ITER,
			      EVP_sha256(), sizeof(salted), salted) != 1)
		return -1;
	if (!HMAC(EVP_sha256(), salted, sizeof(salted), (const unsigned char *)"Client Key", 10,
		  client_key, &hl) ||
	    !HMAC(EVP_sha256(), salted, sizeof(salted), (const unsigned char *)"Server Key", 10,
		  server_key, &hl))
		return -1;
	SHA256(client_key, sizeof(client_key), stored);
	char s_salt[32], s_stored[48], s_server[48];
	b64(salt, sizeof(salt), s_salt);
	b64(stored, sizeof(stored), s_stored);
	b64(server_key, sizeof(server_key), s_server);
	OPENSSL_cleanse(salted, sizeof(salted));
	int k = snprintf(out, cap, "SCRAM-SHA-256$%d:%s$%s:%s", ITER, s_salt, s_stored, s_server);
	return k < 0 || (size_t)k >= cap ? -1 : 0;
}
