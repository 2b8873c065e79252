/* store.c - object bytes on disk: <data_dir>/s3/tmp/<id> while a data file
 * is being written and until its metadata commits, <data_dir>/s3/obj/
 * <id[0..2]>/<id> afterwards. Writers digest (MD5, SHA-256, checksum) and
 * optionally encrypt (AES-256-GCM records of S3_ENC_CHUNK bytes, nonce =
 * prefix and record index, one fresh key per file) on the way; readers
 * decrypt any range. Small objects stay in memory for s3_data. Crash
 * recovery (at start only, before any job runs): a tmp/ file the database
 * references is moved into obj/, any other is removed (half-written ones,
 * and those of deferred uploads whose commit never came); s3_gc lists
 * files of deleted objects whose unlink may have been cut short. Called
 * from the loop thread only; the blocking parts (a second fsync, large
 * digests, unlinks after commit, and the whole write of a plain upload:
 * s3_file_job) run on a small worker pool (core/pool.h) and touch
 * nothing but their job. */
#include "core/compat.h"
#include "core/log.h"
#include "core/pool.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define WBUF_MAX (1u << 20) /* buffered bytes before a write(2) */
/* Worker threads for fsyncs, unlinks, digests and upload writes: most
 * of their time is I/O waits (fsync), so more threads than cores still
 * help, and concurrent uploads each need one; a blocked one costs only
 * a stack. */
#define S3_POOL_THREADS 8

/* A list of file ids. */
struct idlist {
	char (*v)[S3_FILE_ID_LEN + 1];
	size_t n, cap;
};

static struct {
	char root[1024];     /* <data_dir>/s3 */
	int tmp_fd;	     /* tmp/ directory, for fsync */
	struct db *db;	     /* the database the recovery ran against */
	struct idlist fresh; /* written this request, publish at commit */
	struct idlist dead;  /* orphaned this transaction, unlink at commit */
	struct pool *pool;   /* blocking file work, off the loop where possible */
	int unlinks;	     /* unlink jobs whose done callback has not run */
	uint64_t gc_clean;   /* s3_gc's watch value when last emptied, 0: never */
} st = {.tmp_fd = -1};

/* One fsync done by a worker while the loop thread does another. */
struct fsync_job {
	struct pool_job j;
	int fd;
	int rc;
};

/* Files of committed deletions, unlinked by a worker after the commit;
 * the job carries its own copy of the root so workers share no state. */
struct unlink_job {
	struct pool_job j;
	char root[1024];
	int wal_fd; /* synced before any unlink */
	size_t n;
	char ids[][S3_FILE_ID_LEN + 1];
};

/* run_job: hands <j> to a worker (inline when there is no pool yet). */
static void run_job(struct pool_job *j)
{
	if (st.pool)
		pool_submit(st.pool, j);
	else
		j->work(j);
}

/* wait_job: returns once <j> (started by run_job, no done callback) ran. */
static void wait_job(struct pool_job *j)
{
	if (st.pool)
		pool_wait(st.pool, j);
}

/* fsync_work: pool_work_fn for one fsync; worker thread. */
static void fsync_work(struct pool_job *j)
{
	struct fsync_job *f = (struct fsync_job *)j;
	f->rc = fsync(f->fd) < 0 ? -1 : 0;
}

/* idlist_push: appends id (aborts on out of memory). */
static void idlist_push(struct idlist *l, const char *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			fb_die("out of memory");
	}
	snprintf(l->v[l->n++], S3_FILE_ID_LEN + 1, "%s", id);
}

/* tmp_path / s3_store_path: where file <id> lives before / after commit. */
static void tmp_path(char *out, size_t n, const char *id)
{
	/* paths are sized for the data dir; a longer one is a setup error */
	if (snprintf(out, n, "%s/tmp/%s", st.root, id) >= (int)n)
		fb_die("s3: path too long under %s", st.root);
}

void s3_store_path(char *out, size_t n, const char *id)
{
	if (snprintf(out, n, "%s/obj/%.2s/%s", st.root, id, id) >= (int)n)
		fb_die("s3: path too long under %s", st.root);
}

/* valid_id: 32 lowercase hex characters. */
static int valid_id(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == S3_FILE_ID_LEN;
}

/* rename_into_obj: renames a committed file to its obj/<xx>/ path,
 * creating the <xx> fan-out directory on first use (creating all 256 at
 * start cost fogbank's first start ~60 ms). A crash between the mkdir and
 * the rename is harmless: the file is still in tmp/ and recovery redoes
 * both. 0 or -1 (errno set). */
static int rename_into_obj(const char *from, const char *to)
{
	if (rename(from, to) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	char dir[1200];
	const char *slash = strrchr(to, '/');
	if (!slash || (size_t)(slash - to) >= sizeof(dir))
		return -1;
	memcpy(dir, to, (size_t)(slash - to));
	dir[slash - to] = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	return rename(from, to);
}

/* mkdir_ok: mkdir that accepts an existing directory. */
static int mkdir_ok(const char *p)
{
	return mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* referenced: 1 when an object or part names data file id. */
static int referenced(struct db *db, const char *id)
{
	sqlite3_stmt *st1 = db_stmt(db, "SELECT 1 FROM s3_objects WHERE file = ?1 UNION ALL "
					"SELECT 1 FROM s3_parts WHERE file = ?1 LIMIT 1");
	sqlite3_bind_text(st1, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st1) == SQLITE_ROW;
	sqlite3_reset(st1);
	return r;
}

/* recover: finishes what a crash interrupted (see the file comment). */
static void recover(struct db *db)
{
	char from[1200], to[1200];
	size_t moved = 0, removed = 0, gc = 0;
	sqlite3_stmt *s = db_stmt(db, "SELECT file FROM s3_gc");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = db_col_text(s, 0);
		if (!id || !valid_id(id))
			continue;
		s3_store_path(to, sizeof(to), id);
		unlink(to);
		tmp_path(to, sizeof(to), id);
		unlink(to);
		gc++;
	}
	sqlite3_reset(s);
	db_exec(db, "DELETE FROM s3_gc");
	snprintf(from, sizeof(from), "%s/tmp", st.root);
	DIR *d = opendir(from);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		tmp_path(from, sizeof(from), e->d_name);
		if (valid_id(e->d_name) && referenced(db, e->d_name)) {
			/* committed, but the rename into obj/ was lost */
			s3_store_path(to, sizeof(to), e->d_name);
			if (rename_into_obj(from, to) == 0)
				moved++;
		} else if (unlink(from) == 0) {
			removed++;
		}
	}
	if (d)
		closedir(d);
	if (moved || removed || gc)
		log_info("s3: recovery moved %zu committed file(s), removed %zu orphaned temp "
			 "file(s), unlinked %zu deleted file(s)",
			 moved, removed, gc);
}

/* drain_pool: atexit hook; waits for what the workers still have queued
 * (the loop is gone by then, so the pool itself is left to the exit). */
static void drain_pool(void)
{
	pool_drain(st.pool);
}

int s3_store_open(struct fogbank *fb)
{
	char p[1200];
	if (!st.pool && fb->loop) {
		/* only once there is a loop to report to: the store opens
		 * (recovery) before the loop exists, and a pool without one
		 * would never run its jobs' done callbacks */
		st.pool = pool_new(fb->loop, S3_POOL_THREADS);
		/* unlinks still queued at exit are finished, not left to recovery */
		atexit(drain_pool);
	}
	if (st.db == fb->db && st.tmp_fd >= 0)
		return 0;
	snprintf(st.root, sizeof(st.root), "%s/s3", fb->data_dir);
	snprintf(p, sizeof(p), "%s/obj", st.root);
	if (mkdir_ok(st.root) < 0 || mkdir_ok(p) < 0) {
		log_error("s3: cannot create %s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/tmp", st.root);
	if (mkdir_ok(p) < 0) {
		log_error("s3: cannot create %s: %s", p, strerror(errno));
		return -1;
	}
	if (st.tmp_fd >= 0)
		close(st.tmp_fd);
	snprintf(p, sizeof(p), "%s/tmp", st.root);
	st.tmp_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st.tmp_fd < 0) {
		log_error("s3: cannot open %s: %s", p, strerror(errno));
		return -1;
	}
	st.db = fb->db;
	st.fresh.n = st.dead.n = 0;
	st.gc_clean = 0; /* watch values belong to their database */
	recover(fb->db);
	return 0;
}

int s3_open(struct fogbank *fb)
{
	return s3_store_open(fb);
}

/* unlink_work: removes the job's obj/ files; worker thread. A file that
 * is already gone (recovery got there first) is fine. */
static void unlink_work(struct pool_job *j)
{
	struct unlink_job *u = (struct unlink_job *)j;
	char p[1200];
	/* the commit that dropped these files is written, maybe not yet on
	 * disk (group commit): were it lost, its objects would come back
	 * without their bytes. A failed sync leaves the files in place; s3_gc
	 * still names them. */
	if (fdatasync(u->wal_fd) < 0)
		return;
	for (size_t i = 0; i < u->n; i++) {
		/* fits: the root was checked when the files were written */
		snprintf(p, sizeof(p), "%s/obj/%.2s/%s", u->root, u->ids[i], u->ids[i]);
		unlink(p);
	}
}

/* unlink_done: frees a finished unlink job; loop thread. */
static void unlink_done(struct pool_job *j)
{
	st.unlinks--;
	free(j);
}

/* unlink_later: removes the obj/ files <ids>[0..n) of a committed
 * transaction on a worker: freeing a large file's blocks costs the
 * loop ~0.7 ms otherwise. Their s3_gc rows stay until no unlink is
 * pending (s3_tx_begin), so a crash before the unlink still cannot
 * leak them. */
static void unlink_later(struct db *db, char (*ids)[S3_FILE_ID_LEN + 1], size_t n)
{
	struct unlink_job *u = malloc(sizeof(*u) + n * sizeof(u->ids[0]));
	if (!u)
		fb_die("out of memory");
	memset(&u->j, 0, sizeof(u->j));
	u->j.work = unlink_work;
	u->j.done = unlink_done;
	snprintf(u->root, sizeof(u->root), "%s", st.root);
	u->wal_fd = db_wal_fd(db);
	u->n = n;
	memcpy(u->ids, ids, n * sizeof(u->ids[0]));
	if (st.pool) {
		st.unlinks++;
		pool_submit(st.pool, &u->j);
		return;
	}
	unlink_work(&u->j);
	free(u);
}

void s3_store_tx_reset(void)
{
	st.dead.n = 0;
}

void s3_store_tx_done(int committed)
{
	char from[1200], to[1200];
	for (size_t i = 0; i < st.fresh.n; i++) {
		tmp_path(from, sizeof(from), st.fresh.v[i]);
		if (committed) {
			s3_store_path(to, sizeof(to), st.fresh.v[i]);
			/* no fsync: if the rename is lost, recovery redoes it */
			if (rename_into_obj(from, to) < 0)
				log_warn("s3: rename %s: %s", from, strerror(errno));
		} else {
			unlink(from);
		}
	}
	if (committed && st.dead.n)
		unlink_later(st.db, st.dead.v, st.dead.n);
	st.fresh.n = st.dead.n = 0;
}

int s3_store_tx_has_files(void)
{
	return st.fresh.n || st.dead.n;
}

int s3_store_gc_clear(struct db *db)
{
	if (st.unlinks > 0)
		return SQLITE_OK; /* their rows must stay until the unlinks ran */
	/* s3_gc is empty unless a row went in (or a rollback brought rows
	 * back) since the last clear: the common case costs no statement.
	 * A DELETE without WHERE writes the table's root page even when it
	 * has no rows, one more WAL frame for every batch. */
	int watch = db_watch(db, "s3_gc"); /* values never 0 */
	if (st.gc_clean == db_watch_gen(db, watch))
		return SQLITE_OK;
	int rc = db_step_done(db_stmt(db, "DELETE FROM s3_gc"));
	if (rc != SQLITE_DONE)
		return rc;
	st.gc_clean = db_watch_gen(db, watch);
	return SQLITE_OK;
}

int s3_store_unlink_later(struct db *db, const char *id)
{
	sqlite3_stmt *s = db_stmt(db, "INSERT INTO s3_gc(file) VALUES(?1)");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	int rc = db_step_done(s);
	if (rc == SQLITE_DONE)
		idlist_push(&st.dead, id);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- writer ---- */

/* write_all: writes n bytes to fd; 0 or -1. */
static int write_all(int fd, const void *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t k = write(fd, (const char *)p + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* flush_file: writes the buffered stored bytes of a file writer. */
static int flush_file(struct s3_writer *w)
{
	if (w->fd < 0 || !w->mem.n)
		return 0;
	if (write_all(w->fd, w->mem.p, w->mem.n) < 0)
		return -1;
	buf_clear(&w->mem);
	return 0;
}

/* out_bytes: stored bytes to memory (inline) or, buffered, to the file;
 * large pieces go straight to write(2). */
static int out_bytes(struct s3_writer *w, const void *p, size_t n)
{
	if (w->fd < 0 || w->mem.n + n < WBUF_MAX) {
		buf_append(&w->mem, p, n);
		return 0;
	}
	if (flush_file(w) < 0)
		return -1;
	return write_all(w->fd, p, n);
}

void s3_enc_iv(unsigned char iv[12], uint64_t prefix, uint64_t idx)
{
	/* with prefix 0 this is the layout of files written before prefixes
	 * existed: 4 zero bytes, then the index as 8 big-endian bytes */
	for (int i = 0; i < 8; i++)
		iv[i] = (unsigned char)(prefix >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		iv[8 + i] = (unsigned char)(idx >> (24 - 8 * i));
}

uint64_t s3_enc_stored_size(uint64_t size)
{
	return size + (size + S3_ENC_CHUNK - 1) / S3_ENC_CHUNK * S3_ENC_TAG;
}

/* seal_chunk: encrypts the buffered plaintext record and outputs it. */
static int seal_chunk(struct s3_writer *w)
{
	unsigned char iv[12], tag[S3_ENC_TAG];
	unsigned char *ct;
	int len = 0;
	s3_enc_iv(iv, w->iv_prefix, w->chunk_idx);
	buf_reserve(&w->mem, w->chunk_n + S3_ENC_TAG);
	ct = (unsigned char *)w->mem.p + w->mem.n;
	if (EVP_EncryptInit_ex(w->cx, NULL, NULL, w->key, iv) != 1 ||
	    EVP_EncryptUpdate(w->cx, ct, &len, w->chunk, (int)w->chunk_n) != 1 ||
	    EVP_EncryptFinal_ex(w->cx, ct + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(w->cx, EVP_CTRL_GCM_GET_TAG, S3_ENC_TAG, tag) != 1)
		return -1;
	w->mem.n += w->chunk_n;
	buf_append(&w->mem, tag, S3_ENC_TAG);
	w->chunk_idx++;
	w->chunk_n = 0;
	if (w->fd >= 0 && w->mem.n >= WBUF_MAX)
		return flush_file(w);
	return 0;
}

/* new_file_id: a fresh random data file id into id; 0 or -1. */
static int new_file_id(char id[S3_FILE_ID_LEN + 1])
{
	unsigned char rnd[16];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

int s3_writer_open(struct s3_writer *w, struct fogbank *fb, uint64_t size, int inline_ok,
		   const unsigned char *key, int want_md5, int cks_algo)
{
	char path[1200];
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->expect = size;
	w->cks_algo = cks_algo;
	if (s3_store_open(fb) < 0)
		return -1;
	if (!inline_ok || size > S3_INLINE_MAX) {
		if (new_file_id(w->id) < 0)
			return -1;
		tmp_path(path, sizeof(path), w->id);
		w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd < 0)
			return -1;
	}
	if (key) {
		w->enc = 1;
		memcpy(w->key, key, 32);
		w->cx = EVP_CIPHER_CTX_new();
		w->chunk = malloc(S3_ENC_CHUNK);
		if (!w->cx || !w->chunk ||
		    EVP_EncryptInit_ex(w->cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
			s3_writer_abort(w, fb);
			return -1;
		}
	}
	if (want_md5) {
		w->md5 = EVP_MD_CTX_new();
		EVP_DigestInit_ex(w->md5, EVP_md5(), NULL);
	}
	if (cks_algo == S3_CKS_SHA1 || cks_algo == S3_CKS_SHA256) {
		w->cks_md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(w->cks_md, cks_algo == S3_CKS_SHA1 ? EVP_sha1() : EVP_sha256(),
				  NULL);
	}
	return 0;
}

int s3_writer_write(struct s3_writer *w, const void *p, size_t n)
{
	const unsigned char *b = p;
	if (w->failed || n > w->expect - w->n)
		return w->failed = -1;
	if (w->md5)
		EVP_DigestUpdate(w->md5, p, n);
	if (w->cks_md)
		EVP_DigestUpdate(w->cks_md, p, n);
	else if (w->cks_algo == S3_CKS_CRC32)
		w->crc = s3_crc32(w->crc, p, n);
	else if (w->cks_algo == S3_CKS_CRC32C)
		w->crc = s3_crc32c(w->crc, p, n);
	w->n += n;
	if (!w->enc)
		return w->failed = out_bytes(w, p, n);
	while (n) {
		size_t k = S3_ENC_CHUNK - w->chunk_n;
		if (k > n)
			k = n;
		memcpy(w->chunk + w->chunk_n, b, k);
		w->chunk_n += k;
		b += k;
		n -= k;
		if (w->chunk_n == S3_ENC_CHUNK && seal_chunk(w) < 0)
			return w->failed = -1;
	}
	return 0;
}

int s3_writer_adopt(struct s3_writer *w, struct fogbank *fb, const char *path, int fd)
{
	char to[1200];
	struct stat sb;
	if (w->enc || w->n || w->fd < 0 || fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != w->expect)
		return -1;
	tmp_path(to, sizeof(to), w->id);
	/* the spool file replaces the empty tmp file we created */
	if (rename(path, to) < 0)
		return -1;
	close(w->fd);
	w->fd = dup(fd);
	if (w->fd < 0)
		return -1;
	if (w->cks_algo || w->md5) {
		char *blk = malloc(WBUF_MAX);
		uint64_t off = 0;
		if (!blk)
			return -1;
		while (off < w->expect) {
			ssize_t k = pread(fd, blk, WBUF_MAX, (off_t)off);
			if (k <= 0) {
				free(blk);
				return -1;
			}
			if (w->md5)
				EVP_DigestUpdate(w->md5, blk, (size_t)k);
			if (w->cks_md)
				EVP_DigestUpdate(w->cks_md, blk, (size_t)k);
			else if (w->cks_algo == S3_CKS_CRC32)
				w->crc = s3_crc32(w->crc, blk, (size_t)k);
			else if (w->cks_algo == S3_CKS_CRC32C)
				w->crc = s3_crc32c(w->crc, blk, (size_t)k);
			off += (uint64_t)k;
		}
		free(blk);
	}
	w->n = w->expect;
	return 0;
}

/* digests_final: the MD5 (md5 may be NULL) and checksum <algo> (its
 * digest context md, or the running crc) into d. */
static void digests_final(EVP_MD_CTX *md5, EVP_MD_CTX *md, int algo, uint32_t crc,
			  struct s3_digests *d)
{
	unsigned int len = 0;
	if (md5)
		EVP_DigestFinal_ex(md5, d->md5, &len);
	if (md) {
		EVP_DigestFinal_ex(md, d->cks, &len);
		d->cks_n = len;
	} else if (algo == S3_CKS_CRC32 || algo == S3_CKS_CRC32C) {
		d->cks[0] = (unsigned char)(crc >> 24);
		d->cks[1] = (unsigned char)(crc >> 16);
		d->cks[2] = (unsigned char)(crc >> 8);
		d->cks[3] = (unsigned char)crc;
		d->cks_n = 4;
	}
}

/* A running MD5 and checksum, for any thread. */
struct digester {
	EVP_MD_CTX *md5, *md; /* NULL when not wanted / for CRCs */
	int algo;
	uint32_t crc;
};

/* digester_init: MD5 when want_md5, checksum <algo>. */
static void digester_init(struct digester *g, int want_md5, int algo)
{
	memset(g, 0, sizeof(*g));
	g->algo = algo;
	if (want_md5) {
		g->md5 = EVP_MD_CTX_new();
		if (!g->md5)
			fb_die("out of memory");
		EVP_DigestInit_ex(g->md5, EVP_md5(), NULL);
	}
	if (algo == S3_CKS_SHA1 || algo == S3_CKS_SHA256) {
		g->md = EVP_MD_CTX_new();
		if (!g->md)
			fb_die("out of memory");
		EVP_DigestInit_ex(g->md, algo == S3_CKS_SHA1 ? EVP_sha1() : EVP_sha256(), NULL);
	}
}

/* digester_update: digests p[0..n). */
static void digester_update(struct digester *g, const void *p, size_t n)
{
	if (g->md5)
		EVP_DigestUpdate(g->md5, p, n);
	if (g->md)
		EVP_DigestUpdate(g->md, p, n);
	else if (g->algo == S3_CKS_CRC32)
		g->crc = s3_crc32(g->crc, p, n);
	else if (g->algo == S3_CKS_CRC32C)
		g->crc = s3_crc32c(g->crc, p, n);
}

/* digester_final: the digests into d (zeroed first); frees g's contexts. */
static void digester_final(struct digester *g, struct s3_digests *d)
{
	memset(d, 0, sizeof(*d));
	digests_final(g->md5, g->md, g->algo, g->crc, d);
	EVP_MD_CTX_free(g->md5);
	EVP_MD_CTX_free(g->md);
	g->md5 = g->md = NULL;
}

/* digest_work: pool_work_fn computing an s3_digest_job; worker thread. */
static void digest_work(struct pool_job *j)
{
	struct s3_digest_job *dj = (struct s3_digest_job *)j;
	struct digester g;
	digester_init(&g, dj->want_md5, dj->algo);
	digester_update(&g, dj->p, dj->n);
	digester_final(&g, &dj->d);
}

void s3_digest_start(struct s3_digest_job *dj, const void *p, size_t n, int want_md5, int algo)
{
	memset(dj, 0, sizeof(*dj));
	dj->j.work = digest_work;
	dj->p = p;
	dj->n = n;
	dj->want_md5 = want_md5;
	dj->algo = algo;
	run_job(&dj->j);
}

void s3_digest_finish(struct s3_digest_job *dj, struct s3_digests *d)
{
	wait_job(&dj->j);
	*d = dj->d;
}

/* ---- file jobs: a plain upload stored entirely by workers ---- */

int s3_file_job_possible(void)
{
	return st.pool != NULL && st.tmp_fd >= 0;
}

/* file_io_work: pool_work_fn of a file job's write half: creates and
 * fills the tmp file (or renames the spooled body into its place), then
 * makes the data and the tmp/ entry durable. On failure nothing is left
 * under tmp/ (io_rc -1). Worker thread; touches only the job. */
static void file_io_work(struct pool_job *j)
{
	struct s3_file_job *f = j->arg;
	int fd = f->from_fd;
	f->io_rc = -1;
	if (f->from) {
		if (rename(f->from, f->path) < 0)
			return;
		f->renamed = 1;
	} else {
		fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return;
		if (write_all(fd, f->p, f->n) < 0)
			goto fail;
	}
	/* fdatasync: the size of a new file is part of what it flushes */
	if (fdatasync(fd) < 0 || fsync(f->dir_fd) < 0)
		goto fail;
	if (!f->from)
		close(fd);
	f->io_rc = 0;
	return;
fail:
	if (!f->from)
		close(fd);
	unlink(f->path);
}

/* file_digest_work: pool_work_fn of a file job's digest half: the bytes
 * in memory, or those of the spooled body read back. Worker thread. */
static void file_digest_work(struct pool_job *j)
{
	struct s3_file_job *f = j->arg;
	struct digester g;
	f->dg_rc = 0;
	digester_init(&g, f->want_md5, f->algo);
	if (!f->from) {
		digester_update(&g, f->p, f->n);
	} else {
		char *blk = malloc(WBUF_MAX);
		uint64_t off = 0;
		if (!blk)
			fb_die("out of memory");
		while (off < f->size) {
			ssize_t k = pread(f->from_fd, blk, WBUF_MAX, (off_t)off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				f->dg_rc = -1;
				break;
			}
			digester_update(&g, blk, (size_t)k);
			off += (uint64_t)k;
		}
		free(blk);
	}
	digester_final(&g, &f->d);
}

/* file_job_done: pool_done_fn of both halves; the second to finish calls
 * the job's continuation. Loop thread. */
static void file_job_done(struct pool_job *j)
{
	struct s3_file_job *f = j->arg;
	if (--f->left == 0)
		f->done(f);
}

int s3_file_job_start(struct s3_file_job *f)
{
	if (!s3_file_job_possible() || new_file_id(f->id) < 0)
		return -1;
	tmp_path(f->path, sizeof(f->path), f->id);
	f->dir_fd = st.tmp_fd;
	f->io_rc = f->dg_rc = -1;
	f->renamed = 0;
	memset(&f->d, 0, sizeof(f->d));
	memset(&f->io, 0, sizeof(f->io));
	memset(&f->dg, 0, sizeof(f->dg));
	f->io.work = file_io_work;
	f->io.done = file_job_done;
	f->io.arg = f;
	f->left = 1;
	if (f->want_md5 || f->algo) {
		/* the digests overlap the write and its fsyncs */
		f->dg.work = file_digest_work;
		f->dg.done = file_job_done;
		f->dg.arg = f;
		f->left = 2;
		pool_submit(st.pool, &f->dg);
	} else {
		f->dg_rc = 0;
	}
	pool_submit(st.pool, &f->io);
	return 0;
}

void s3_store_publish_at_commit(const char *id)
{
	idlist_push(&st.fresh, id);
}

void s3_store_discard(const char *id)
{
	char p[1200];
	tmp_path(p, sizeof(p), id);
	unlink(p);
}

int s3_writer_finish(struct s3_writer *w, struct fogbank *fb, struct s3_digests *d)
{
	memset(d, 0, sizeof(*d));
	if (w->failed || w->n != w->expect || (w->enc && w->chunk_n && seal_chunk(w) < 0) ||
	    flush_file(w) < 0)
		goto fail;
	if (w->fd >= 0) {
		/* the data and the tmp/ directory entry must both be durable
		 * before the commit names the file: the two fsyncs overlap */
		struct fsync_job dir = {.j = {.work = fsync_work}, .fd = st.tmp_fd};
		run_job(&dir.j);
		int rc = fsync(w->fd);
		wait_job(&dir.j);
		if (rc < 0)
			goto fail;
		close(w->fd);
		w->fd = -1;
		if (dir.rc < 0)
			goto fail_closed;
		idlist_push(&st.fresh, w->id);
	}
	digests_final(w->md5, w->cks_md, w->cks_algo, w->crc, d);
	return 0;
fail_closed:
	if (w->id[0]) {
		char p[1200];
		tmp_path(p, sizeof(p), w->id);
		unlink(p);
		w->id[0] = 0;
	}
fail:
	s3_writer_abort(w, fb);
	return -1;
}

void s3_writer_release(struct s3_writer *w)
{
	EVP_CIPHER_CTX_free(w->cx);
	EVP_MD_CTX_free(w->md5);
	EVP_MD_CTX_free(w->cks_md);
	if (w->chunk) {
		OPENSSL_cleanse(w->chunk, S3_ENC_CHUNK);
		free(w->chunk);
	}
	OPENSSL_cleanse(w->key, sizeof(w->key));
	w->cx = NULL;
	w->md5 = w->cks_md = NULL;
	w->chunk = NULL;
	if (!w->id[0]) {
		/* inline bytes stay readable in w->mem until buf_release by the owner */
		return;
	}
	/* a file writer's buffer (its fd is closed once finished) */
	buf_release(&w->mem);
}

void s3_writer_abort(struct s3_writer *w, struct fogbank *fb)
{
	if (w->fd >= 0) {
		char p[1200];
		close(w->fd);
		w->fd = -1;
		tmp_path(p, sizeof(p), w->id);
		unlink(p);
	}
	w->failed = -1;
	s3_writer_release(w);
	buf_release(&w->mem);
}

/* ---- reader ---- */

int s3_reader_open(struct s3_reader *r, const char *file, struct str mem, uint64_t size,
		   const unsigned char *key)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->size = size;
	r->cached = -1;
	r->mem = mem;
	r->one = (struct s3_seg){0, 0, size, 0};
	r->nseg = 1;
	if (file) {
		char p[1200];
		s3_store_path(p, sizeof(p), file);
		r->fd = open(p, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			tmp_path(p, sizeof(p), file);
			r->fd = open(p, O_RDONLY | O_CLOEXEC);
		}
		if (r->fd < 0)
			return -1;
	}
	if (key) {
		r->enc = 1;
		memcpy(r->key, key, 32);
		r->cx = EVP_CIPHER_CTX_new();
		r->buf = malloc(S3_ENC_CHUNK + S3_ENC_TAG);
		if (!r->cx || !r->buf ||
		    EVP_DecryptInit_ex(r->cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
			s3_reader_close(r);
			return -1;
		}
	}
	return 0;
}

/* stored_pread: n stored bytes at off from the file or memory; -1 short. */
static int stored_pread(struct s3_reader *r, void *out, size_t n, uint64_t off)
{
	size_t done = 0;
	if (r->fd < 0) {
		if (off > r->mem.n || n > r->mem.n - off)
			return -1;
		memcpy(out, r->mem.p + off, n);
		return 0;
	}
	while (done < n) {
		ssize_t k = pread(r->fd, (char *)out + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	return 0;
}

int s3_reader_segments(struct s3_reader *r, const char *sizes, struct str prefixes)
{
	size_t n = 1;
	uint64_t plain = 0, stored = 0;
	for (const char *p = sizes; p && *p; p++)
		n += *p == ',';
	if (!r->enc || !sizes || prefixes.n != 8 * n)
		return -1;
	struct s3_seg *v = malloc(n * sizeof(*v));
	if (!v)
		fb_die("out of memory");
	const char *p = sizes;
	for (size_t i = 0; i < n; i++) {
		char *end;
		uint64_t sz = strtoull(p, &end, 10), pre = 0;
		for (int j = 0; j < 8; j++)
			pre = pre << 8 | (unsigned char)prefixes.p[8 * i + (size_t)j];
		v[i] = (struct s3_seg){plain, stored, sz, pre};
		plain += sz;
		stored += s3_enc_stored_size(sz);
		p = *end == ',' ? end + 1 : end;
	}
	if (plain != r->size) {
		free(v);
		return -1;
	}
	free(r->segs);
	r->segs = v;
	r->nseg = n;
	r->cached = -1;
	return 0;
}

/* segs_of: r's segments (segs is NULL for the single one, so a reader
 * may be copied by value). */
static const struct s3_seg *segs_of(const struct s3_reader *r)
{
	return r->segs ? r->segs : &r->one;
}

/* seg_of: the index of the segment holding plaintext offset pos (< size). */
static size_t seg_of(const struct s3_reader *r, uint64_t pos)
{
	const struct s3_seg *v = segs_of(r);
	size_t lo = 0, hi = r->nseg;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].plain_off <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* load_chunk: decrypts record idx of segment si into r->buf; its
 * plaintext length or -1. */
static ssize_t load_chunk(struct s3_reader *r, size_t si, uint64_t idx)
{
	const struct s3_seg *sg = &segs_of(r)[si];
	uint64_t start = idx * S3_ENC_CHUNK;
	size_t len = sg->size - start < S3_ENC_CHUNK ? (size_t)(sg->size - start) : S3_ENC_CHUNK;
	unsigned char iv[12], ct[S3_ENC_CHUNK + S3_ENC_TAG];
	int outl = 0;
	if ((int64_t)idx == r->cached && si == r->cached_seg)
		return (ssize_t)len;
	if (stored_pread(r, ct, len + S3_ENC_TAG,
			 sg->stored_off + idx * (S3_ENC_CHUNK + S3_ENC_TAG)) < 0)
		return -1;
	s3_enc_iv(iv, sg->prefix, idx);
	if (EVP_DecryptInit_ex(r->cx, NULL, NULL, r->key, iv) != 1 ||
	    EVP_DecryptUpdate(r->cx, r->buf, &outl, ct, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(r->cx, EVP_CTRL_GCM_SET_TAG, S3_ENC_TAG, ct + len) != 1 ||
	    EVP_DecryptFinal_ex(r->cx, r->buf + outl, &outl) != 1) {
		r->cached = -1;
		return -1; /* altered or truncated at rest */
	}
	r->cached = (int64_t)idx;
	r->cached_seg = si;
	return (ssize_t)len;
}

ssize_t s3_reader_pread(struct s3_reader *r, void *out, size_t n, uint64_t off)
{
	size_t done = 0;
	if (off >= r->size)
		return 0;
	if (n > r->size - off)
		n = (size_t)(r->size - off);
	if (!r->enc) {
		if (r->fd < 0)
			return stored_pread(r, out, n, off) < 0 ? -1 : (ssize_t)n;
		ssize_t k;
		do
			k = pread(r->fd, out, n, (off_t)off);
		while (k < 0 && errno == EINTR);
		return k;
	}
	while (done < n) {
		uint64_t pos = off + done;
		size_t si = seg_of(r, pos);
		uint64_t in_seg = pos - segs_of(r)[si].plain_off, idx = in_seg / S3_ENC_CHUNK;
		ssize_t len = load_chunk(r, si, idx);
		size_t in = (size_t)(in_seg - idx * S3_ENC_CHUNK), k;
		if (len < 0)
			return -1;
		k = (size_t)len - in;
		if (k > n - done)
			k = n - done;
		memcpy((char *)out + done, r->buf + in, k);
		done += k;
	}
	return (ssize_t)done;
}

void s3_reader_own(struct s3_reader *r)
{
	if (r->fd < 0 && r->mem.n && !r->mem_owned) {
		r->mem_owned = malloc(r->mem.n);
		if (!r->mem_owned)
			fb_die("out of memory");
		memcpy(r->mem_owned, r->mem.p, r->mem.n);
		r->mem.p = r->mem_owned;
	}
}

void s3_reader_close(struct s3_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	EVP_CIPHER_CTX_free(r->cx);
	r->cx = NULL;
	if (r->buf) {
		OPENSSL_cleanse(r->buf, S3_ENC_CHUNK + S3_ENC_TAG);
		free(r->buf);
		r->buf = NULL;
	}
	free(r->mem_owned);
	r->mem_owned = NULL;
	free(r->segs);
	r->segs = NULL;
	r->nseg = 1;
	OPENSSL_cleanse(r->key, sizeof(r->key));
}

int s3_copy(struct s3_reader *r, uint64_t off, uint64_t len, struct s3_writer *w)
{
	char *blk;
	if (!r->enc && r->fd >= 0 && !w->enc && w->fd >= 0 && !w->md5 && !w->cks_algo &&
	    flush_file(w) == 0) {
		/* plain file to plain file with nothing to digest: in the kernel */
		loff_t in = (loff_t)off;
		uint64_t left = len;
		while (left) {
			ssize_t k = copy_file_range(r->fd, &in, w->fd, NULL, left, 0);
			if (k <= 0)
				break;
			left -= (uint64_t)k;
		}
		w->n += len - left;
		if (!left)
			return 0;
		off = (uint64_t)in; /* fall back for the rest */
		len = left;
	}
	blk = malloc(WBUF_MAX);
	if (!blk)
		return -1;
	while (len) {
		ssize_t k = s3_reader_pread(r, blk, len < WBUF_MAX ? (size_t)len : WBUF_MAX, off);
		if (k <= 0 || s3_writer_write(w, blk, (size_t)k) < 0) {
			free(blk);
			return -1;
		}
		off += (uint64_t)k;
		len -= (uint64_t)k;
	}
	free(blk);
	return 0;
}
