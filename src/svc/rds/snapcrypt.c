/* snapcrypt.c - sealing and opening the tar stream of an encrypted
 * instance's snapshot (format in snapcrypt.h), and its data key. The
 * stream work runs from the loop in bounded slices (a few records per
 * wake-up), so a 1 GiB snapshot never stalls the API for long. */
#include "core/compat.h"
#include "aws/call.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/postgres.h"
#include "svc/kms/kms.h"
#include "svc/rds/internal.h"
#include "svc/rds/snapcrypt.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SC_SLICE_RECORDS 4 /* records handled per loop wake-up */

struct sc {
	struct loop *l;
	int sealing;  /* 1: FIFO -> sealed file; 0: sealed file -> FIFO */
	int fifo_fd;  /* -1 once closed */
	int file_fd;  /* the sealed file */
	uint64_t idx; /* next record */
	unsigned char key[SC_KEY_LEN];
	unsigned char *buf; /* plaintext of the current record */
	size_t n, off;	    /* bytes in buf; opening: bytes already written */
	unsigned char *rec; /* one sealed record */
	int last_seen;	    /* opening: the last record was read */
	int done;	    /* opening: everything was delivered and the FIFO closed */
	int failed;
	char fifo[4200];
};

/* nonce_aad: record idx's nonce and additional data. */
static void nonce_aad(uint64_t idx, int last, unsigned char nonce[12], unsigned char aad[9])
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = aad[i] = (unsigned char)(idx >> (56 - 8 * i));
	aad[8] = last ? 1 : 0;
}

/* gcm: one AES-256-GCM pass (enc: seal, writing tag; else open, checking
 * it). 0 or -1. */
static int gcm(int enc, const unsigned char *key, uint64_t idx, int last, const unsigned char *in,
	       size_t n, unsigned char *out, unsigned char tag[16])
{
	unsigned char nonce[12], aad[9];
	nonce_aad(idx, last, nonce, aad);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0,
	    ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
	ok = ok && EVP_CipherUpdate(ctx, NULL, &len, aad, sizeof(aad)) == 1;
	ok = ok && (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + n, &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

long sc_seal(const unsigned char key[SC_KEY_LEN], uint64_t idx, int last, const unsigned char *in,
	     size_t n, unsigned char *out)
{
	if (n > SC_CHUNK)
		return -1;
	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	out[4] = last ? 1 : 0;
	if (gcm(1, key, idx, last, in, n, out + SC_REC_HEAD, out + 5) < 0)
		return -1;
	return (long)(SC_REC_HEAD + n);
}

long sc_rec_len(const unsigned char head[SC_REC_HEAD])
{
	unsigned long n = (unsigned long)head[0] << 24 | (unsigned long)head[1] << 16 |
			  (unsigned long)head[2] << 8 | head[3];
	return n > SC_CHUNK || head[4] > 1 ? -1 : (long)n;
}

long sc_unseal(const unsigned char key[SC_KEY_LEN], uint64_t idx,
	       const unsigned char head[SC_REC_HEAD], const unsigned char *ct, unsigned char *out,
	       int *last)
{
	long n = sc_rec_len(head);
	unsigned char tag[16];
	if (n < 0)
		return -1;
	memcpy(tag, head + 5, 16);
	*last = head[4];
	return gcm(0, key, idx, head[4], ct, (size_t)n, out, tag) < 0 ? -1 : n;
}

/* ---- the data key ---- */

/* key_context: the encryption context a snapshot's data key is bound to:
 * the source instance's resource id, which copies of it share. */
static struct jv *key_context(struct arena *a, const struct rds_snap *s)
{
	struct jv *ctx = jv_object(a);
	const char *rid = jv_get_str(rds_json(a, s->attrs), "DbiResourceId");
	jv_set_str(a, ctx, "aws:rds:dbi-resource-id", rid ? rid : s->instance_ident);
	return ctx;
}

int sc_data_key(struct fogbank *fb, int64_t snap_id, int create, unsigned char key[SC_KEY_LEN])
{
	struct arena *a = arena_new(4096);
	struct rds_snap s;
	int rc = -1;
	if (rds_snap_load(fb->db, a, snap_id, &s) < 0 || !s.kms_key_id) {
		log_error("rds: snapshot %lld has no KMS key", (long long)snap_id);
		goto out;
	}
	struct aws_call c = {
	    .a = a, .fb = fb, .account = s.account, .region = s.region, .now_ms = fb_wall_ms()};
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT data_key FROM rds_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, snap_id);
	struct str blob = {NULL, 0};
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		char *p = arena_alloc(a, n);
		memcpy(p, sqlite3_column_blob(st, 0), n);
		blob = (struct str){p, n};
	}
	sqlite3_reset(st);
	if (blob.p) {
		struct str pt;
		if (kms_internal_decrypt(&c, blob, key_context(a, &s), &pt, NULL) < 0 ||
		    pt.n != SC_KEY_LEN) {
			log_error("rds: snapshot %s: cannot decrypt its data key: %s", s.ident,
				  c.err_msg ? c.err_msg : "wrong length");
			goto out;
		}
		memcpy(key, pt.p, SC_KEY_LEN);
		OPENSSL_cleanse((void *)pt.p, pt.n);
		rc = 0;
		goto out;
	}
	if (!create) {
		log_error("rds: snapshot %s has no data key", s.ident);
		goto out;
	}
	if (RAND_bytes(key, SC_KEY_LEN) != 1)
		fb_die("rds: RAND_bytes failed");
	struct str wrapped;
	if (kms_internal_encrypt(&c, s.kms_key_id, (struct str){(const char *)key, SC_KEY_LEN},
				 key_context(a, &s), &wrapped, NULL) < 0) {
		log_error("rds: snapshot %s: KMS key %s: %s", s.ident, s.kms_key_id,
			  c.err_msg ? c.err_msg : "cannot encrypt");
		OPENSSL_cleanse(key, SC_KEY_LEN);
		goto out;
	}
	st = db_stmt(fb->db, "UPDATE rds_snapshots SET data_key = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, snap_id);
	sqlite3_bind_blob(st, 2, wrapped.p, (int)wrapped.n, SQLITE_STATIC);
	rc = db_step_done(st) == SQLITE_DONE ? 0 : -1;
out:
	arena_free(a);
	return rc;
}

int sc_copy_key(struct aws_call *c, const struct rds_snap *src, int64_t to_id, const char *kms_arn)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT data_key FROM rds_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, src->id);
	struct str blob = {NULL, 0};
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		char *p = arena_alloc(c->a, n);
		memcpy(p, sqlite3_column_blob(st, 0), n);
		blob = (struct str){p, n};
	}
	sqlite3_reset(st);
	if (!blob.p)
		return 0;
	if (kms_arn && src->kms_key_id && strcmp(kms_arn, src->kms_key_id)) {
		struct str pt;
		struct jv *ctx = key_context(c->a, src);
		int rc = kms_internal_decrypt(c, blob, ctx, &pt, NULL);
		if (rc == 0) {
			rc = kms_internal_encrypt(c, kms_arn, pt, ctx, &blob, NULL);
			OPENSSL_cleanse((void *)pt.p, pt.n);
		}
		if (rc < 0) {
			const char *msg = c->err_msg;
			c->err_code = NULL;
			return aws_fail(c, 400, "KMSKeyNotAccessibleFault", "%s", msg ? msg : "");
		}
	}
	st = db_stmt(c->fb->db, "UPDATE rds_snapshots SET data_key = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, to_id);
	sqlite3_bind_blob(st, 2, blob.p, (int)blob.n, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : rds_fail_db(c, rc);
}

/* ---- the streams ---- */

/* make_fifo: a fresh FIFO the postgres user can open. 0 or -1. */
static int make_fifo(const char *path)
{
	uid_t u;
	gid_t g;
	unlink(path);
	if (mkfifo(path, 0600) < 0)
		return -1;
	if (geteuid() == 0 && pg_user_ids(&u, &g) == 0 && chown(path, u, g) < 0)
		return -1;
	return 0;
}

/* sc_new: a stream's state (buffers allocated; aborts on OOM). */
static struct sc *sc_new(struct loop *l, int sealing, const char *fifo,
			 const unsigned char key[SC_KEY_LEN])
{
	struct sc *s = calloc(1, sizeof(*s));
	if (!s || !(s->buf = malloc(SC_CHUNK)) || !(s->rec = malloc(SC_REC_HEAD + SC_CHUNK)))
		fb_die("out of memory");
	s->l = l;
	s->sealing = sealing;
	s->fifo_fd = s->file_fd = -1;
	memcpy(s->key, key, SC_KEY_LEN);
	snprintf(s->fifo, sizeof(s->fifo), "%s", fifo);
	return s;
}

/* sc_free: closes the fds, removes the FIFO, wipes key and plaintext. */
static void sc_free(struct sc *s)
{
	if (s->fifo_fd >= 0) {
		loop_watch(s->l, s->fifo_fd, 0, NULL, NULL);
		close(s->fifo_fd);
	}
	if (s->file_fd >= 0)
		close(s->file_fd);
	unlink(s->fifo);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	OPENSSL_cleanse(s->buf, SC_CHUNK);
	free(s->buf);
	free(s->rec);
	free(s);
}

/* write_all: writes n bytes to a regular file. 0 or -1. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* read_full: reads exactly n bytes of a regular file; 1, 0 at a clean end
 * of file (nothing read), -1 on error or a short read. */
static int read_full(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 && got == 0 ? 0 : -1;
		got += (size_t)k;
	}
	return 1;
}

/* flush_record: seals the buffered plaintext as the next record. */
static int flush_record(struct sc *s, int last)
{
	long len = sc_seal(s->key, s->idx, last, s->buf, s->n, s->rec);
	if (len < 0 || write_all(s->file_fd, s->rec, (size_t)len) < 0)
		return -1;
	s->idx++;
	s->n = 0;
	return 0;
}

/* seal_read: reads what the tool wrote; 1 when the writer is gone (or
 * nothing more can come now), 0 when more will come, -1 on error. */
static int seal_read(struct sc *s, int slices)
{
	for (int i = 0; i < slices * 16; i++) {
		ssize_t k = read(s->fifo_fd, s->buf + s->n, SC_CHUNK - s->n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno == EAGAIN ? 0 : -1;
		if (k == 0)
			return 1;
		s->n += (size_t)k;
		if (s->n == SC_CHUNK && flush_record(s, 0) < 0)
			return -1;
	}
	return 0;
}

/* seal_cb: the FIFO is readable: seal what came. */
static void seal_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct sc *s = arg;
	int rc = seal_read(s, SC_SLICE_RECORDS);
	if (rc < 0)
		s->failed = 1;
	/* a writer that left shows as a hang-up until sc_finish: stop
	 * watching instead of spinning on it */
	if (rc != 0)
		loop_watch(l, fd, 0, NULL, NULL);
}

struct sc *sc_encrypt_start(struct loop *l, const char *fifo, const char *out,
			    const unsigned char key[SC_KEY_LEN])
{
	struct sc *s = sc_new(l, 1, fifo, key);
	if (make_fifo(fifo) < 0 ||
	    (s->fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    (s->file_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write_all(s->file_fd, (const unsigned char *)SC_MAGIC, SC_MAGIC_LEN) < 0)
		goto fail;
	/* bigger pipe, fewer wake-ups; the default size is fine too */
	(void)fcntl(s->fifo_fd, F_SETPIPE_SZ, SC_CHUNK);
	if (loop_watch(l, s->fifo_fd, LOOP_READ, seal_cb, s) < 0)
		goto fail;
	return s;
fail:;
	int e = errno;
	sc_free(s);
	errno = e;
	return NULL;
}

/* open_next: reads and opens the next record into buf; -1 when it does
 * not authenticate or the file ends before the last record. */
static int open_next(struct sc *s)
{
	unsigned char head[SC_REC_HEAD];
	int last = 0;
	if (read_full(s->file_fd, head, SC_REC_HEAD) != 1)
		return -1;
	long n = sc_rec_len(head);
	if (n < 0 || read_full(s->file_fd, s->rec, (size_t)n) < 0 ||
	    sc_unseal(s->key, s->idx, head, s->rec, s->buf, &last) != n)
		return -1;
	s->idx++;
	s->n = (size_t)n;
	s->off = 0;
	s->last_seen = last;
	return 0;
}

/* close_fifo: the reader sees the end of the stream. */
static void close_fifo(struct sc *s)
{
	loop_watch(s->l, s->fifo_fd, 0, NULL, NULL);
	close(s->fifo_fd);
	s->fifo_fd = -1;
}

/* open_cb: the FIFO has room: write the current record's plaintext,
 * opening the next record when it is out, and close the FIFO after the
 * last one (or on a record that does not authenticate). */
static void open_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct sc *s = arg;
	for (int i = 0; i < SC_SLICE_RECORDS;) {
		if (s->off < s->n) {
			ssize_t k = write(s->fifo_fd, s->buf + s->off, s->n - s->off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && errno == EAGAIN)
				return;
			if (k < 0) {
				s->failed = 1;
				close_fifo(s);
				return;
			}
			s->off += (size_t)k;
			continue;
		}
		if (s->last_seen) {
			/* a trailing record after the last one is tampering */
			unsigned char extra;
			if (read(s->file_fd, &extra, 1) != 0)
				s->failed = 1;
			s->done = !s->failed;
			close_fifo(s);
			return;
		}
		if (open_next(s) < 0) {
			log_error("rds: an encrypted snapshot record does not authenticate");
			s->failed = 1;
			close_fifo(s); /* the job fails in sc_finish */
			return;
		}
		i++;
	}
}

struct sc *sc_decrypt_start(struct loop *l, const char *fifo, const char *in,
			    const unsigned char key[SC_KEY_LEN])
{
	struct sc *s = sc_new(l, 0, fifo, key);
	unsigned char magic[SC_MAGIC_LEN];
	if ((s->file_fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	if (read_full(s->file_fd, magic, SC_MAGIC_LEN) != 1 ||
	    memcmp(magic, SC_MAGIC, SC_MAGIC_LEN)) {
		errno = EINVAL;
		goto fail;
	}
	/* O_RDWR: opening never waits for the reader, and the reader sees the
	 * end of the stream exactly when we close */
	if (make_fifo(fifo) < 0 || (s->fifo_fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		goto fail;
	(void)fcntl(s->fifo_fd, F_SETPIPE_SZ, SC_CHUNK);
	if (loop_watch(l, s->fifo_fd, LOOP_WRITE, open_cb, s) < 0)
		goto fail;
	return s;
fail:;
	int e = errno;
	sc_free(s);
	errno = e;
	return NULL;
}

int sc_finish(struct sc *s, int ok)
{
	int rc = -1;
	if (s->sealing) {
		if (s->fifo_fd >= 0)
			loop_watch(s->l, s->fifo_fd, 0, NULL, NULL);
		/* the writer is gone: what is left in the pipe ends in EOF */
		int r = ok && !s->failed ? seal_read(s, 1 << 20) : -1;
		if (r == 1 && flush_record(s, 1) == 0 && fsync(s->file_fd) == 0)
			rc = 0;
	} else {
		rc = ok && s->done && !s->failed ? 0 : -1;
	}
	sc_free(s);
	return rc;
}
