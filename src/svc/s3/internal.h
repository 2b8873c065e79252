/* internal.h - what the files of src/svc/s3 share: the bucket and object
 * rows, the data store (files under <data_dir>/s3 and small objects inline
 * in SQLite), checksums, aws-chunked bodies, encryption at rest, and the
 * common request plumbing (bucket lookup, errors, transactions).
 *
 * Storage model: every object version is one row of s3_objects. Its bytes
 * live either inline (s3_data, up to S3_INLINE_MAX) or in one immutable
 * data file named by a random id. A data file is written under tmp/,
 * fsynced (file and directory), the metadata is committed, then the file
 * is renamed into obj/; s3_open repairs any crash in between. */
#ifndef FB_SVC_S3_INTERNAL_H
#define FB_SVC_S3_INTERNAL_H
#include "core/compat.h"
#include "core/buf.h"
#include "core/str.h"
#include "aws/call.h"
#include "http/request.h"
#include "core/pool.h"
#include "store/db.h"
#include "svc/s3/s3.h"
#include <openssl/evp.h>

#define S3_INLINE_MAX (64 * 1024)		/* larger objects get a data file */
#define S3_MIN_PART (5 * 1024 * 1024)		/* every part but the last */
#define S3_MAX_PART (5ull * 1024 * 1024 * 1024) /* 5 GiB */
#define S3_MAX_PARTS 10000
#define S3_MAX_KEY 1024
#define S3_MAX_LIST 1000
#define S3_ENC_CHUNK 65536 /* plaintext bytes per AES-GCM record */
#define S3_ENC_TAG 16
#define S3_FILE_ID_LEN 32
#define S3_NULL_VERSION "null"
#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

enum s3_versioning { S3_VER_NONE = 0, S3_VER_ENABLED = 1, S3_VER_SUSPENDED = 2 };

/* A row of s3_buckets; strings live in the call's arena. */
struct s3_bucket {
	int64_t id;
	const char *name;
	const char *account;
	const char *region;
	int64_t created_ms;
	int versioning; /* enum s3_versioning */
	int object_lock;
};

/* A row of s3_objects (one version of a key). Strings in the arena. */
struct s3_object {
	int64_t id;
	int64_t bucket_id;
	const char *key;
	const char *version_id; /* "null" when unversioned / suspended */
	int is_latest;
	int delete_marker;
	int64_t size;
	const char *etag; /* hex MD5, or hex MD5-of-MD5s "-N"; no quotes */
	int64_t mtime_ms;
	int64_t noncurrent_ms; /* when a newer version arrived; 0 when latest */
	const char *storage_class;
	const char *headers;  /* JSON: ContentType, CacheControl, ... */
	const char *meta;     /* JSON object of user metadata, or NULL */
	const char *tags;     /* JSON object, or NULL */
	const char *cks_algo; /* "CRC32", "CRC32C", "SHA1", "SHA256" or NULL */
	const char *cks;      /* base64 digest ("...-N" composite for multipart) */
	const char *sse;      /* NULL, "AES256" or "aws:kms" */
	const char *kms_key;  /* key ARN for aws:kms */
	const char *enc_ctx;  /* JSON encryption context (aws:kms) or NULL */
	struct str data_key;  /* KMS ciphertext of the data key, when encrypted */
	int bucket_key;
	const char *file;    /* data file id, NULL when inline */
	const char *parts;   /* multipart: comma-joined part sizes, else NULL */
	const char *restore; /* x-amz-restore value after RestoreObject, or NULL */
};

/* ---- util.c: request plumbing ---- */

/* s3_enter: per-request set-up every handler runs first: the store is
 * opened (crash recovery) on first use and the lifecycle sweep runs when
 * due. Returns 0, or -1 with InternalError. */
int s3_enter(struct aws_call *c);
/* s3_fail_db: InternalError for sqlite error rc; returns -1. */
int s3_fail_db(struct aws_call *c, int rc);
/* s3_no_such_bucket / s3_no_such_key: the 404s with AWS's messages. */
int s3_no_such_bucket(struct aws_call *c, const char *name);
int s3_no_such_key(struct aws_call *c);
/* s3_bucket_find: loads bucket <name> for the caller into *b. Returns 0;
 * -1 with NoSuchBucket (no such bucket) or AccessDenied (another
 * account's). */
int s3_bucket_find(struct aws_call *c, const char *name, struct s3_bucket *b);
/* s3_bucket_arg: s3_enter + s3_bucket_find of the input's Bucket, with
 * x-amz-expected-bucket-owner checked (AccessDenied). */
int s3_bucket_arg(struct aws_call *c, struct s3_bucket *b);
/* s3_tx_begin / s3_tx_end: a handler's write transaction. s3_tx_end
 * commits when ok is 0 and then publishes the data files written in it
 * and unlinks those it orphaned; otherwise (or when the commit fails) it
 * rolls back and removes the files written. Returns 0 or -1 (error set). */
int s3_tx_begin(struct aws_call *c);
int s3_tx_end(struct aws_call *c, int ok);
/* s3_owner_id: the canonical user id of <account> (64 hex, arena). */
const char *s3_owner_id(struct aws_call *c, const char *account);
/* s3_owner: an Owner structure {ID, DisplayName} for <account>. */
struct jv *s3_owner(struct aws_call *c, const char *account);
/* s3_quoted_etag: "\"<etag>\"" in the arena. */
const char *s3_quoted_etag(struct aws_call *c, const char *etag);
/* s3_header: the raw value of request header <name>, or STR_NULL. */
struct str s3_header(const struct aws_call *c, const char *name);
/* s3_json_obj: parses stored JSON text into an object (NULL text or bad
 * JSON gives NULL). */
struct jv *s3_json_obj(struct aws_call *c, const char *text);
/* s3_json_text: the compact JSON text of v (arena), NULL for NULL. */
const char *s3_json_text(struct aws_call *c, const struct jv *v);
/* s3_clear_error: forgets an error recorded on c. */
void s3_clear_error(struct aws_call *c);
/* s3_version_id_new: a fresh 32-character version id (arena). */
const char *s3_version_id_new(struct aws_call *c);
/* s3_day_ms: the length of a lifecycle "day" (FOGBANK_S3_DAY_SECONDS). */
int64_t s3_day_ms(void);
/* s3_etag_match: 1 when header list <hdr> ("*", or comma-separated quoted
 * or bare etags, W/ ignored) matches <etag>. */
int s3_etag_match(struct str hdr, const char *etag);
/* s3_range_parse: parses Range header <h> for an object of <size> bytes.
 * Returns 1 with [*start, *start + *len) for one satisfiable range, 0 when
 * the header is absent or not a single byte range (serve everything), -1
 * when unsatisfiable (416). Pure. */
int s3_range_parse(struct str h, uint64_t size, uint64_t *start, uint64_t *len);
/* s3_valid_bucket_name: 1 when <name> follows S3's bucket naming rules. */
int s3_valid_bucket_name(const char *name);

/* ---- store.c: data files, readers, writers ---- */

/* s3_store_open: directories and crash recovery for fb; 0 or -1. */
int s3_store_open(struct fogbank *fb);
/* s3_store_path: the path of data file <id> into out (obj/ location). */
void s3_store_path(char *out, size_t n, const char *id);
/* s3_store_tx_reset / s3_store_tx_done: per-transaction file bookkeeping
 * (called by s3_tx_begin / s3_tx_end); committed selects publish+unlink
 * over cleanup. */
void s3_store_tx_reset(void);
void s3_store_tx_done(int committed);
/* s3_store_unlink_later: schedules data file <id> for removal when the
 * current transaction commits (and records it in s3_gc so a crash between
 * commit and unlink cannot leak it). 0 or an sqlite error code. The
 * unlink itself runs on a worker thread after the commit. */
int s3_store_unlink_later(struct db *db, const char *id);
/* s3_store_tx_has_files: 1 when the open transaction publishes or
 * unlinks data files (so it must really commit before it ends). */
int s3_store_tx_has_files(void);
/* s3_store_gc_clear: deletes the s3_gc rows of earlier transactions once
 * no unlink of theirs may still be running on a worker (recovery redoes
 * any a crash cut short). SQLITE_OK or an sqlite error code. */
int s3_store_gc_clear(struct db *db);

/* Where a writer's bytes go and what it computes on the way. */
struct s3_writer {
	int fd;			     /* tmp data file, -1 when inline */
	char id[S3_FILE_ID_LEN + 1]; /* data file id when fd >= 0 */
	struct buf mem;		     /* inline: the stored bytes */
	uint64_t expect;	     /* plaintext size announced at open */
	uint64_t n;		     /* plaintext bytes so far */
	int enc;		     /* encrypt with key */
	unsigned char key[32];
	EVP_CIPHER_CTX *cx;
	uint64_t chunk_idx;
	uint64_t iv_prefix;   /* first 8 nonce bytes (see s3_enc_iv); 0 but for SSE-C parts */
	unsigned char *chunk; /* S3_ENC_CHUNK plaintext buffer */
	size_t chunk_n;
	EVP_MD_CTX *md5; /* NULL: no MD5 wanted */
	int cks_algo;	 /* enum s3_cks */
	uint32_t crc;
	EVP_MD_CTX *cks_md;
	int failed;
};

/* s3_writer_open: a writer for <size> plaintext bytes: inline when size <=
 * S3_INLINE_MAX and inline_ok, else a new tmp data file. <key> (32 bytes)
 * encrypts, NULL stores plain. want_md5 and cks_algo select the digests
 * computed over the plaintext. Returns 0 or -1 (errno). */
int s3_writer_open(struct s3_writer *w, struct fogbank *fb, uint64_t size, int inline_ok,
		   const unsigned char *key, int want_md5, int cks_algo);
/* s3_writer_write: appends plaintext; 0 or -1 (I/O error, or more bytes
 * than announced). */
int s3_writer_write(struct s3_writer *w, const void *p, size_t n);
/* s3_writer_adopt: for a plain writer opened with size = the file's size
 * and no bytes written: makes the spooled request body at <path> (fd
 * <fd>) the data file instead of copying it (rename), computing only the
 * checksum by reading it. 0 or -1. */
int s3_writer_adopt(struct s3_writer *w, struct fogbank *fb, const char *path, int fd);
/* Digests of a finished writer. */
struct s3_digests {
	unsigned char md5[16];
	unsigned char cks[32]; /* raw checksum of the plaintext */
	size_t cks_n;
};
/* A digest computed on a worker thread while the loop thread writes the
 * same bytes (see s3_digest_start). */
struct s3_digest_job {
	struct pool_job j;
	const void *p;
	size_t n;
	int want_md5, algo;
	struct s3_digests d;
};
/* s3_digest_start: starts digesting p[0..n) (MD5 when want_md5, checksum
 * <algo>) on a worker; p must stay valid and unchanged, and dj in place,
 * until s3_digest_finish, which every caller must reach. Loop thread. */
void s3_digest_start(struct s3_digest_job *dj, const void *p, size_t n, int want_md5, int algo);
/* s3_digest_finish: waits for dj and stores its digests into d. */
void s3_digest_finish(struct s3_digest_job *dj, struct s3_digests *d);
/* A plain upload stored entirely off the loop: one worker writes the
 * bytes to a new tmp data file (or renames the spooled body into tmp/)
 * and fsyncs the file and tmp/, while another computes the digests. The
 * job is the caller's (it lives in a deferred call's arena) and must stay
 * in place until done runs. */
struct s3_file_job {
	/* in: either bytes to write ... */
	const void *p; /* must stay valid and unchanged until done */
	size_t n;
	/* ... or a spooled body to rename into place */
	const char *from;		     /* its path (NULL: write p) */
	int from_fd;			     /* read-only descriptor of it (-1 with p) */
	uint64_t size;			     /* bytes in the file */
	int want_md5;			     /* compute the MD5 (a spool's is known already) */
	int algo;			     /* enum s3_cks to compute, or S3_CKS_NONE */
	void (*done)(struct s3_file_job *f); /* loop thread, once both halves ran */
	void *arg;			     /* the caller's */
	/* out */
	char id[S3_FILE_ID_LEN + 1]; /* the data file, under tmp/ when io_rc is 0 */
	struct s3_digests d;
	int io_rc;   /* 0: file durable in tmp/; -1: failed, nothing left */
	int dg_rc;   /* 0, or -1 when the spool could not be read back */
	int renamed; /* the spool file was moved away (the request no longer owns it) */
	/* private */
	struct pool_job io, dg;
	int left;
	int dir_fd;
	char path[1200];
};
/* s3_file_job_possible: 1 when file jobs can run (a worker pool that
 * reports to the loop exists). */
int s3_file_job_possible(void);
/* s3_file_job_start: starts f (inputs set); f->done(f) then runs later
 * on the loop thread, never before this returns. Returns 0, or -1 when
 * no job could be started (done is not called). Loop thread. */
int s3_file_job_start(struct s3_file_job *f);
/* s3_store_publish_at_commit: registers finished tmp file <id> so that
 * s3_tx_end publishes it on commit and removes it otherwise. */
void s3_store_publish_at_commit(const char *id);
/* s3_store_discard: removes tmp file <id> (not registered anywhere). */
void s3_store_discard(const char *id);
/* s3_writer_finish: flushes, fsyncs the file and tmp dir, registers the
 * file for publication at commit; fills d. Returns 0 or -1 (the writer is
 * aborted). Exactly n == expect bytes must have been written. */
int s3_writer_finish(struct s3_writer *w, struct fogbank *fb, struct s3_digests *d);
/* s3_writer_abort: discards everything (removes the tmp file). */
void s3_writer_abort(struct s3_writer *w, struct fogbank *fb);
/* s3_writer_release: frees a finished writer's memory (not the file). */
void s3_writer_release(struct s3_writer *w);

/* s3_enc_iv: the AES-GCM nonce of record <idx> of a file sealed with
 * <prefix>: prefix (8 bytes, big-endian) then idx (4 bytes). Every file
 * has its own key; only SSE-C multipart parts, which share one, use a
 * random prefix each. Pure. */
void s3_enc_iv(unsigned char iv[12], uint64_t prefix, uint64_t idx);
/* s3_enc_stored_size: stored bytes of <size> plaintext bytes sealed in
 * S3_ENC_CHUNK records (each followed by its tag). Pure. */
uint64_t s3_enc_stored_size(uint64_t size);

/* One run of records sealed under one nonce prefix: a whole file, or one
 * part of an SSE-C multipart object (its parts are concatenated as
 * uploaded, since Complete has no key to re-encrypt them). */
struct s3_seg {
	uint64_t plain_off, stored_off, size, prefix;
};

/* A reader of an object's (or part's) plaintext. */
struct s3_reader {
	int fd;		 /* data file, or -1 */
	struct str mem;	 /* inline bytes (stored form), when fd < 0 */
	char *mem_owned; /* heap copy of mem when the reader outlives the call */
	uint64_t size;	 /* plaintext size */
	int enc;
	unsigned char key[32];
	EVP_CIPHER_CTX *cx;
	struct s3_seg one;   /* the usual single segment, used when segs is NULL */
	struct s3_seg *segs; /* heap array from s3_reader_segments, else NULL */
	size_t nseg;
	size_t cached_seg;
	int64_t cached; /* record index in cached_seg decrypted in buf, -1 none */
	unsigned char *buf;
};
/* s3_reader_open: a reader for data file <file> (or the inline <mem>) of
 * <size> plaintext bytes, decrypting with <key> when not NULL. Returns 0,
 * or -1 when the file cannot be opened. */
int s3_reader_open(struct s3_reader *r, const char *file, struct str mem, uint64_t size,
		   const unsigned char *key);
/* s3_reader_segments: for an encrypted reader of an SSE-C multipart
 * object: parts of plaintext sizes <sizes> (comma-joined, as
 * s3_object.parts) sealed with the 8-byte big-endian nonce prefixes in
 * <prefixes>. Returns 0, or -1 when they do not describe r->size bytes. */
int s3_reader_segments(struct s3_reader *r, const char *sizes, struct str prefixes);
/* s3_reader_pread: up to n plaintext bytes at off; returns the count (0
 * at the end) or -1 (I/O error or failed authentication). */
ssize_t s3_reader_pread(struct s3_reader *r, void *out, size_t n, uint64_t off);
/* s3_reader_close: closes and wipes. */
void s3_reader_close(struct s3_reader *r);
/* s3_reader_own: makes the reader independent of the call's arena (heap
 * copy of inline bytes), so it can feed a response after the handler. */
void s3_reader_own(struct s3_reader *r);
/* s3_copy: streams [off, off+len) of r into w; 0 or -1. */
int s3_copy(struct s3_reader *r, uint64_t off, uint64_t len, struct s3_writer *w);

/* ---- checksum.c ---- */

enum s3_cks { S3_CKS_NONE = 0, S3_CKS_CRC32, S3_CKS_CRC32C, S3_CKS_SHA1, S3_CKS_SHA256 };
/* s3_crc32 / s3_crc32c: update crc over p[0..n) (start from 0; zlib's
 * convention: the pre/post inversion is inside). Pure. */
uint32_t s3_crc32(uint32_t crc, const void *p, size_t n);
uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n);
/* s3_cks_from_name: the algorithm named <name> (case-insensitive), or
 * S3_CKS_NONE. */
int s3_cks_from_name(struct str name);
/* s3_cks_name: "CRC32", ...; s3_cks_member: "ChecksumCRC32", ...;
 * s3_cks_header: "x-amz-checksum-crc32", ... (NULL for NONE). */
const char *s3_cks_name(int algo);
const char *s3_cks_member(int algo);
const char *s3_cks_header(int algo);
/* s3_cks_len: raw digest length of algo (4, 4, 20, 32). */
size_t s3_cks_len(int algo);
/* s3_b64: base64 of p[0..n) in the arena. */
const char *s3_b64(struct aws_call *c, const void *p, size_t n);
/* s3_md5_hex: hex of a 16-byte MD5 into out[33]. */
void s3_md5_hex(const unsigned char md5[16], char out[33]);
/* s3_multipart_etag: "hex(md5(md5_1 || ... || md5_n))-n" into out (arena);
 * md5s holds n raw 16-byte digests. Pure apart from the arena. */
const char *s3_multipart_etag(struct arena *a, const unsigned char *md5s, size_t n);
/* s3_cks_composite: base64(algo(raw_1 || ... || raw_n)) + "-n". */
const char *s3_cks_composite(struct aws_call *c, int algo, const unsigned char *raws, size_t n);
/* s3_cks_digest: one-shot raw checksum of p[0..n) into out; its length. */
size_t s3_cks_digest(int algo, const void *p, size_t n, unsigned char out[32]);

/* ---- chunked.c: aws-chunked bodies ---- */

struct sigv4_chunk_signer;
/* Decoder state of an aws-chunked body (Content-Encoding: aws-chunked). */
struct s3_chunked {
	int state;
	uint64_t left;	/* data bytes left in the current chunk */
	char line[512]; /* the chunk header / trailer line being read */
	size_t line_n;
	int want_sigs; /* chunk headers carry chunk-signature= */
	int want_trailer_sig;
	const struct sigv4_chunk_signer *signer; /* NULL: signatures not checked */
	char prev_sig[65];
	char chunk_sig[65];
	EVP_MD_CTX *sha;     /* of the current chunk's data, when verifying */
	struct buf trailers; /* "name:value\n" lines, names lower-cased */
	uint64_t decoded;
	int bad_sig;
	const char *err; /* static message */
};
typedef int s3_sink_fn(void *ctx, const void *p, size_t n);
/* s3_chunked_init: a decoder; want_sigs for the STREAMING-AWS4-HMAC-...
 * forms, want_trailer_sig for ...-TRAILER with a signed trailer; signer
 * (may be NULL) verifies them chained from seed_sig. */
void s3_chunked_init(struct s3_chunked *d, int want_sigs, int want_trailer_sig,
		     const struct sigv4_chunk_signer *signer, const char *seed_sig);
/* s3_chunked_feed: decodes p[0..n), passing payload bytes to sink(ctx,..).
 * Returns 0, or -1 with d->err set (d->bad_sig for a signature mismatch;
 * a sink failure gives err "sink"). */
int s3_chunked_feed(struct s3_chunked *d, const char *p, size_t n, s3_sink_fn *sink, void *ctx);
/* s3_chunked_done: 1 when the final chunk and trailers were read. */
int s3_chunked_done(const struct s3_chunked *d);
/* s3_chunked_trailer: the value of trailer <name> (lower case), or STR_NULL. */
struct str s3_chunked_trailer(const struct s3_chunked *d, const char *name);
/* s3_chunked_free: releases the decoder's memory. */
void s3_chunked_free(struct s3_chunked *d);

/* ---- body.c: request payloads ---- */

/* What s3_body_store wrote. */
struct s3_stored {
	struct s3_writer w;
	struct s3_digests d;
	uint64_t size;
	const char *cks_algo; /* name of the checksum verified / computed */
	const char *cks;      /* its base64 value */
};
/* s3_body_store: writes the request payload (plain, aws-chunked, in
 * memory or spooled) through a writer encrypting with <key> (NULL: plain)
 * and nonce prefix <iv_prefix>,
 * verifying Content-MD5, flexible checksums (header or trailer) and chunk
 * signatures; inline_ok as s3_writer_open; a checksum of default_algo is
 * computed when the request names none. On success the file is
 * registered for publication by s3_tx_end. Returns 0, or -1 with the S3
 * error set (BadDigest, InvalidDigest, SignatureDoesNotMatch,
 * IncompleteBody, ...). */
int s3_body_store(struct aws_call *c, const unsigned char *key, uint64_t iv_prefix, int inline_ok,
		  int default_algo, struct s3_stored *out);

/* s3_body_cb: the continuation of s3_body_store_async, on the loop
 * thread: <c> is the deferred call; <sb> what was stored (its file
 * registered for publication by the next s3_tx_end), or NULL with the
 * error recorded on c (nothing left behind). It must run its transaction
 * (or s3_store_tx_done(0)) before returning, and end with aws_resume(c). */
typedef void s3_body_cb(struct aws_call *c, struct s3_stored *sb, void *arg);
/* s3_body_store_async: stores a plain (not aws-chunked, unencrypted)
 * payload that becomes a data file (over S3_INLINE_MAX, or any size when
 * !inline_ok) entirely on workers: written or renamed from the spool,
 * digested, fsynced. Returns 1 when started: the call is deferred (use
 * nothing of the handler's c any more; keep state in the arena) and
 * then(deferred call, stored, arg) runs later; 0 when this body must go
 * through s3_body_store; -1 with an error for a malformed request
 * (InvalidDigest, EntityTooLarge, ...). The checks of s3_body_store are
 * made, with Content-MD5 and checksums verified before then runs. */
int s3_body_store_async(struct aws_call *c, int inline_ok, int default_algo, s3_body_cb *then,
			void *arg);

/* ---- ssec.c: customer-provided keys (SSE-C) ---- */

#define S3_SSEC "SSE-C" /* the sse column of SSE-C objects and uploads */
#define S3_SSEC_SALT 16
#define S3_SSEC_BLOB (S3_SSEC_SALT + 32) /* salt || HMAC check value */

/* The SSE-C members of a request. */
struct s3_ssec {
	int given; /* the request asks for SSE-C */
	size_t key_n;
	unsigned char key[32]; /* the customer's key: wipe after use */
	const char *key_md5;   /* base64 MD5 of the key (arena), echoed back */
};
/* s3_ssec_parse: the (CopySource when copy_source) SSECustomerAlgorithm,
 * -Key and -KeyMD5 of the input into *k (k->given 0 when absent). A
 * missing MD5 is computed. Returns 0, or -1 with AWS's error: algorithm
 * missing or not AES256, key missing, MD5 mismatch, or (when writing) a
 * key that is not 256 bits. */
int s3_ssec_parse(struct aws_call *c, int copy_source, int writing, struct s3_ssec *k);
/* s3_ssec_seal: a new random salt for data sealed under k: the file key
 * into file_key (may be NULL) and salt || check into *blob (arena). 0, or
 * -1 with InternalError. */
int s3_ssec_seal(struct aws_call *c, const struct s3_ssec *k, unsigned char file_key[32],
		 struct str *blob);
/* s3_ssec_matches: 1 when k is the key <blob> (salt || check) was sealed
 * with, then with the file key in file_key (may be NULL); else 0. Pure. */
int s3_ssec_matches(const struct s3_ssec *k, struct str blob, unsigned char file_key[32]);
/* s3_ssec_object_key: checks the request's (copy_source: copy-source)
 * SSE-C members against an object stored under <sse> with <blob>: for an
 * SSE-C object the right key must be given (400 InvalidRequest without,
 * 403 AccessDenied when wrong) and its file key goes to file_key (may be
 * NULL); for any other object no SSE-C member may be given (400). The
 * parsed members go to *k (may be NULL), key wiped. 0 or -1. */
int s3_ssec_object_key(struct aws_call *c, const char *sse, struct str blob, int copy_source,
		       unsigned char file_key[32], struct s3_ssec *k);
/* s3_is_ssec: 1 when an sse column value means SSE-C. */
int s3_is_ssec(const char *sse);
/* s3_ssec_out: echoes the request's SSE-C algorithm and key MD5 in the
 * output (nothing when the request has none). */
void s3_ssec_out(struct aws_call *c);

/* ---- encryption.c: encryption at rest ---- */

/* What an object's encryption will be. */
struct s3_sse {
	const char *sse;     /* NULL, "AES256", "aws:kms" or S3_SSEC */
	const char *kms_key; /* requested key id / ARN / alias (aws:kms), NULL default */
	const char *enc_ctx; /* JSON context text (aws:kms) */
	int bucket_key;
	struct s3_ssec ssec; /* the customer's key (S3_SSEC, from the request only) */
};
/* s3_sse_choose: the encryption for a new object of <b> from the request
 * headers (ServerSideEncryption, SSEKMSKeyId, SSEKMSEncryptionContext,
 * BucketKeyEnabled in c->in), else the bucket default. -1 with
 * InvalidArgument for a bad combination. */
int s3_sse_choose(struct aws_call *c, const struct s3_bucket *b, struct s3_sse *out);
/* s3_sse_new_key: a fresh data key for one data file under s->sse:
 * plaintext into key[32], KMS ciphertext into *wrapped and the key ARN
 * into *arn (SSE-C: the derived file key, the salt and check in *wrapped,
 * *arn NULL). 0, or -1 with a KMS.* error. Not called for plain. */
int s3_sse_new_key(struct aws_call *c, const struct s3_sse *s, const char *bucket, const char *key,
		   unsigned char out[32], struct str *wrapped, const char **arn);
/* s3_sse_resolve: replaces s->kms_key of an encrypted choice by the KMS
 * key's ARN (creating alias/aws/s3 on first use), so later data keys of
 * the same object (multipart parts) use that key. 0 or -1 with KMS.*. */
int s3_sse_resolve(struct aws_call *c, struct s3_sse *s);
/* s3_sse_open_key: decrypts a stored data key of object <key> in <bucket>
 * (encryption context enc_ctx, NULL: the default); 0 or -1 with KMS.*. */
int s3_sse_open_key(struct aws_call *c, const char *enc_ctx, const char *bucket, const char *key,
		    struct str wrapped, unsigned char out[32]);
/* s3_sse_out: the ServerSideEncryption / SSEKMSKeyId / BucketKeyEnabled
 * output members for an object stored under <sse>; for SSE-C, the
 * request's SSECustomerAlgorithm / SSECustomerKeyMD5 instead. */
void s3_sse_out(struct aws_call *c, const char *sse, const char *kms_key, int bucket_key);

/* ---- objects.c / delete.c: versions ---- */

/* s3_object_load: version <version_id> (NULL: the latest) of <key> into
 * *o. 1 found, 0 not, -1 database error (recorded). */
int s3_object_load(struct aws_call *c, int64_t bucket_id, const char *key, const char *version_id,
		   struct s3_object *o);
/* s3_object_insert: stores *o as the newest version of its key in <b>
 * according to b's versioning (assigning o->version_id, replacing the
 * "null" version, demoting the latest); inline_data is the stored bytes
 * when o->file is NULL. Inside the caller's transaction. 0 or -1. */
int s3_object_insert(struct aws_call *c, const struct s3_bucket *b, struct s3_object *o,
		     struct str inline_data);
/* s3_object_remove: deletes version row <o> for good (its data too) and
 * promotes the next newest version when it was the latest. 0 or -1. */
int s3_object_remove(struct aws_call *c, const struct s3_object *o);
/* s3_delete_key: DeleteObject semantics for <key> in <b> (a delete marker
 * when versioned, removal otherwise; <version_id> deletes that version).
 * Sets *marker and *vid (output). 0 or -1 with the error. */
int s3_delete_key(struct aws_call *c, const struct s3_bucket *b, const char *key,
		  const char *version_id, int *marker, const char **vid);
/* s3_object_reader: a reader of object o's plaintext (decrypting; an
 * SSE-C object with the request's key, or its copy-source key when
 * copy_source); 0 or -1 with the error recorded. */
int s3_object_reader(struct aws_call *c, const struct s3_bucket *b, const struct s3_object *o,
		     int copy_source, struct s3_reader *r);
/* s3_object_from_row: fills *o from a SELECT of S3_OBJECT_COLS. */
void s3_object_from_row(struct aws_call *c, sqlite3_stmt *st, struct s3_object *o);
#define S3_OBJECT_COLS                                                                             \
	"o.id, o.bucket_id, o.key, o.version_id, o.is_latest, o.delete_marker, o.size, o.etag, "   \
	"o.mtime, o.noncurrent_since, o.storage_class, o.headers, o.meta, o.tags, o.cks_algo, "    \
	"o.cks, o.sse, o.kms_key, o.enc_ctx, o.data_key, o.bucket_key, o.file, o.parts, o.restore"
/* s3_copy_source: parses x-amz-copy-source ("bucket/key[?versionId=v]",
 * URL-encoded, optional leading '/') and loads the source bucket and
 * object, checking the x-amz-copy-source-if-* conditions. 0 or -1 with
 * the error (NoSuchBucket, NoSuchKey, PreconditionFailed, ...). */
int s3_copy_source(struct aws_call *c, struct s3_bucket *sb, struct s3_object *so);
/* s3_put_headers: the object headers JSON from the input (Content-Type,
 * Cache-Control, ...; aws-chunked dropped from Content-Encoding). */
const char *s3_put_headers(struct aws_call *c);
/* s3_parse_tagging: a URL-encoded "k=v&k2=v2" tag set (x-amz-tagging) as
 * a JSON object text, NULL for none; -1 in *bad with InvalidTag set. */
const char *s3_parse_tagging(struct aws_call *c, const char *hdr, int *bad);

/* ---- multipart.c: uploads ---- */

/* A row of s3_uploads. Strings in the arena. */
struct s3_upload {
	int64_t id;
	const char *upload_id, *key, *owner, *storage_class, *headers, *meta, *tags, *cks_algo;
	struct s3_sse sse;
	int64_t initiated_ms;
	struct str ssec; /* SSE-C: salt || check of the customer's key */
};
#define S3_UPLOAD_COLS                                                                             \
	"id, upload_id, key, owner, storage_class, headers, meta, tags, cks_algo, sse, kms_key, "  \
	"enc_ctx, bucket_key, initiated, ssec"
/* s3_upload_from_row: fills *u from a SELECT of S3_UPLOAD_COLS. */
void s3_upload_from_row(struct aws_call *c, sqlite3_stmt *st, struct s3_upload *u);
/* s3_upload_find: the upload UploadId of the input's Key in <b>; 0, or -1
 * with NoSuchUpload. */
int s3_upload_find(struct aws_call *c, const struct s3_bucket *b, struct s3_upload *u);

/* ---- cors.c ---- */

/* s3_cors_actual: adds the Access-Control-* headers of the bucket's CORS
 * rules to the response of an ordinary request carrying Origin. */
void s3_cors_actual(struct aws_call *c, const struct s3_bucket *b);

/* ---- config.c: per-bucket configuration documents ---- */

/* The bucket cache (bcache.c): bucket rows by name and configuration
 * documents, valid until any change to s3_buckets, any rollback or
 * s3_bcache_invalidate. s3_bcache_bucket / s3_bcache_cfg return 1 on a
 * hit (strings copied into the call's arena; *text NULL: no document),
 * 0 on a miss; the put functions record what the store answered. */
int s3_bcache_bucket(struct aws_call *c, const char *name, struct s3_bucket *b);
void s3_bcache_put_bucket(struct aws_call *c, const struct s3_bucket *b);
int s3_bcache_cfg(struct aws_call *c, int64_t bucket_id, const char *kind, const char **text);
void s3_bcache_put_cfg(struct aws_call *c, int64_t bucket_id, const char *kind, const char *text);
/* s3_bcache_invalidate: a configuration document changed (s3_bucket_cfg
 * is WITHOUT ROWID, out of the update hook's sight). */
void s3_bcache_invalidate(void);
/* s3_cfg_get: the stored configuration <kind> of bucket id as a jv
 * (NULL when none). */
struct jv *s3_cfg_get(struct aws_call *c, int64_t bucket_id, const char *kind);
/* s3_cfg_put: stores (v != NULL) or deletes (v == NULL) configuration
 * <kind>; own autocommit. 0 or -1 with the error. */
int s3_cfg_put(struct aws_call *c, int64_t bucket_id, const char *kind, const struct jv *v);

/* ---- list.c ---- */

/* s3_token_encode: an opaque continuation token for resuming after <key>
 * (a common prefix when is_prefix), arena base64. Pure apart from a. */
const char *s3_token_encode(struct arena *a, const char *key, int is_prefix);
/* s3_token_decode: the inverse; 0 with *key (arena) and *is_prefix, or
 * -1 when malformed. */
int s3_token_decode(struct arena *a, const char *tok, const char **key, int *is_prefix);
/* s3_prefix_end: the smallest string greater than every string starting
 * with prefix (last byte incremented, 0xff bytes dropped) into arena; NULL
 * when there is none. */
const char *s3_prefix_end(struct arena *a, const char *prefix, size_t n);

#endif
