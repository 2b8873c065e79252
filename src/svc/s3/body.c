/* body.c - the payload of PutObject and UploadPart: in memory or spooled
 * to a file by the server, plain or aws-chunked (signed chunks, unsigned
 * with trailers), into a writer; with the integrity checks S3 makes:
 * Content-MD5 (BadDigest), x-amz-checksum-* in headers or trailers
 * (BadDigest), chunk and trailer signatures (SignatureDoesNotMatch). The
 * x-amz-content-sha256 of a plain body is checked by dispatch.c before
 * any handler runs. A plain spooled body is renamed into place rather
 * than copied; a large body in memory is digested on a worker thread
 * while the loop thread writes it. Plain bodies that become a data file
 * are stored entirely by workers while the call is deferred
 * (s3_body_store_async). */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/sigv4.h"
#include "aws/sigv4_chunked.h"
#include "core/log.h"
#include "fb.h"
#include "svc/iam/keys.h"
#include "svc/s3/internal.h"
#include <stdlib.h>
#include <unistd.h>

#define READ_BLOCK (1u << 20)
/* In-memory bodies at least this large are digested on a worker thread:
 * below it, handing the job over costs more than it saves. */
#define DIGEST_ASYNC_MIN (256u * 1024)

/* has_token: 1 when comma-separated list v contains tok. */
static int has_token(struct str v, const char *tok)
{
	size_t n = strlen(tok);
	for (size_t i = 0; i + n <= v.n; i++)
		if (!strncasecmp(v.p + i, tok, n) &&
		    (i == 0 || v.p[i - 1] == ',' || v.p[i - 1] == ' ') &&
		    (i + n == v.n || v.p[i + n] == ',' || v.p[i + n] == ' '))
			return 1;
	return 0;
}

/* parse_len: a decimal header value; -1 when absent or malformed. */
static int64_t parse_len(struct str v)
{
	int64_t n = 0;
	if (!v.p || !v.n || v.n > 18)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n;
}

/* sink_writer: s3_sink_fn feeding decoded aws-chunked bytes to a writer. */
static int sink_writer(void *ctx, const void *p, size_t n)
{
	return s3_writer_write(ctx, p, n);
}

/* make_signer: the chunk signer of a signed streaming request, from its
 * Authorization header; NULL when signatures are not to be checked. */
static struct sigv4_chunk_signer *make_signer(struct aws_call *c, char seed[65])
{
	struct sigv4_auth auth;
	struct sigv4_chunk_signer *s;
	struct identity who;
	const char *secret = NULL;
	struct str authz = s3_header(c, "authorization");
	struct str date = s3_header(c, "x-amz-date");
	struct str token = s3_header(c, "x-amz-security-token");
	if (c->fb->auth == FB_AUTH_OFF || !authz.p || sigv4_parse_header(authz, &auth) != 0 ||
	    auth.signature.n != 64)
		return NULL;
	memset(&who, 0, sizeof(who));
	if (iam_resolve_key(c->fb, c->a, auth.access_key, token, c->now_ms, &secret, &who) != 0 ||
	    !secret)
		return NULL;
	s = arena_zalloc(c->a, sizeof(*s));
	if (sigv4_chunk_signer_init(s, secret, strlen(secret), auth.date, auth.region, auth.service,
				    date) < 0)
		return NULL;
	memcpy(seed, auth.signature.p, 64);
	seed[64] = 0;
	return s;
}

/* checksum_wanted: the flexible checksum algorithm the request asks for
 * (algorithm header, a checksum header, or x-amz-trailer) and, when sent
 * in a header, its expected base64 value. */
static int checksum_wanted(struct aws_call *c, const char **expect)
{
	struct str alg = jv_get_strv(c->in, "ChecksumAlgorithm");
	struct str trailer = s3_header(c, "x-amz-trailer");
	int algo = alg.p ? s3_cks_from_name(alg) : S3_CKS_NONE;
	*expect = NULL;
	for (int a = S3_CKS_CRC32; a <= S3_CKS_SHA256; a++) {
		const char *v = jv_get_str(c->in, s3_cks_member(a));
		if (v) {
			*expect = v;
			return a;
		}
		if (trailer.p && has_token(trailer, s3_cks_header(a)))
			algo = a;
	}
	return algo;
}

/* feed_chunked: decodes the aws-chunked request body into w. */
static int feed_chunked(struct aws_call *c, struct s3_chunked *d, struct s3_writer *w)
{
	const struct http_request *req = c->http;
	if (req->body_fd >= 0 && req->body_path) {
		char *blk = malloc(READ_BLOCK);
		uint64_t off = 0;
		int rc = 0;
		if (!blk)
			return -1;
		while (rc == 0 && off < req->body_len) {
			ssize_t k = pread(req->body_fd, blk, READ_BLOCK, (off_t)off);
			if (k <= 0) {
				d->err = "short read";
				rc = -1;
				break;
			}
			rc = s3_chunked_feed(d, blk, (size_t)k, sink_writer, w);
			off += (uint64_t)k;
		}
		free(blk);
		return rc;
	}
	return s3_chunked_feed(d, req->body.p ? req->body.p : "", req->body.n, sink_writer, w);
}

/* feed_plain: copies a plain request body into w (adopting a spool file
 * when nothing needs to be transformed). Sets *md5_done when the server's
 * MD5 of the spool stands for the writer's. */
static int feed_plain(struct aws_call *c, struct s3_writer *w, int *md5_done)
{
	const struct http_request *req = c->http;
	*md5_done = 0;
	if (!(req->body_fd >= 0 && req->body_path))
		return s3_writer_write(w, req->body.p ? req->body.p : "", req->body.n);
	if (!w->md5) {
		/* opened for adoption (see s3_body_store) */
		if (s3_writer_adopt(w, c->fb, req->body_path, req->body_fd) < 0)
			return -1;
		*req->body_taken = 1;
		*md5_done = 1;
		return 0;
	}
	char *blk = malloc(READ_BLOCK);
	uint64_t off = 0;
	if (!blk)
		return -1;
	while (off < req->body_len) {
		ssize_t k = pread(req->body_fd, blk, READ_BLOCK, (off_t)off);
		if (k <= 0 || s3_writer_write(w, blk, (size_t)k) < 0) {
			free(blk);
			return -1;
		}
		off += (uint64_t)k;
	}
	free(blk);
	return 0;
}

/* What a request says about its body, checked before any byte is stored. */
struct body_plan {
	int spooled;		/* the server spooled it to a file */
	int chunked;		/* aws-chunked framing */
	int64_t size;		/* payload bytes (decoded) */
	const char *md5_b64;	/* Content-MD5, or NULL */
	unsigned char md5[18];	/* its decoded value */
	const char *expect_cks; /* base64 checksum from a header, or NULL */
	int algo;		/* the checksum to compute, or S3_CKS_NONE */
};

/* body_plan: reads the framing, Content-MD5, checksum and size of c's
 * body into *pl (default_algo when no checksum is named). 0, or -1 with
 * InvalidDigest, MissingContentLength or EntityTooLarge. */
static int body_plan(struct aws_call *c, int default_algo, struct body_plan *pl)
{
	const struct http_request *req = c->http;
	struct str sha_hdr = s3_header(c, "x-amz-content-sha256");
	memset(pl, 0, sizeof(*pl));
	pl->spooled = req->body_fd >= 0 && req->body_path;
	pl->chunked = has_token(s3_header(c, "content-encoding"), "aws-chunked") ||
		      str_has_prefix_c(sha_hdr, "STREAMING-");
	pl->size = (int64_t)(pl->spooled ? req->body_len : req->body.n);
	pl->md5_b64 = jv_get_str(c->in, "ContentMD5");
	pl->algo = checksum_wanted(c, &pl->expect_cks);
	if (!pl->algo)
		pl->algo = default_algo;
	if (pl->md5_b64 &&
	    (strlen(pl->md5_b64) != 24 || fmt_b64_decode(pl->md5, pl->md5_b64, 24) != 16))
		return aws_fail(c, 400, "InvalidDigest",
				"The Content-MD5 you specified is not valid.");
	if (pl->chunked) {
		pl->size = parse_len(s3_header(c, "x-amz-decoded-content-length"));
		if (pl->size < 0)
			return aws_fail(c, 411, "MissingContentLength",
					"You must provide the Content-Length HTTP header.");
	}
	if ((uint64_t)pl->size > S3_MAX_PART)
		return aws_fail(c, 400, "EntityTooLarge",
				"Your proposed upload exceeds the maximum allowed size");
	return 0;
}

/* body_verify: checks the digests of the stored body (out->d) against
 * Content-MD5 and the expected checksum, and sets out->cks_algo / cks.
 * 0, or -1 with BadDigest (the caller drops the file). */
static int body_verify(struct aws_call *c, const struct body_plan *pl, struct s3_stored *out)
{
	if (pl->md5_b64 && memcmp(pl->md5, out->d.md5, 16) != 0)
		return aws_fail(c, 400, "BadDigest",
				"The Content-MD5 you specified did not match what we received.");
	if (pl->algo) {
		const char *got = s3_b64(c, out->d.cks, out->d.cks_n);
		if (pl->expect_cks && strcmp(pl->expect_cks, got) != 0)
			return aws_fail(c, 400, "BadDigest",
					"The %s you specified did not match the calculated "
					"checksum.",
					s3_cks_name(pl->algo));
		out->cks_algo = s3_cks_name(pl->algo);
		out->cks = got;
	}
	return 0;
}

int s3_body_store(struct aws_call *c, const unsigned char *key, uint64_t iv_prefix, int inline_ok,
		  int default_algo, struct s3_stored *out)
{
	const struct http_request *req = c->http;
	struct body_plan pl;
	struct str sha_hdr = s3_header(c, "x-amz-content-sha256");
	int md5_done = 0, rc;
	struct s3_chunked d;
	char seed[65] = "";

	memset(out, 0, sizeof(*out));
	if (body_plan(c, default_algo, &pl) < 0)
		return -1;
	int algo = pl.algo;
	int64_t size = pl.size;
	/* a plain spooled body becomes the data file: the server's MD5 serves */
	int adopt = pl.spooled && !pl.chunked && !key && req->body_taken;
	/* a large body in memory: a worker digests it while this thread
	 * writes (or encrypts) it, so the two costs overlap */
	int async = !pl.spooled && !pl.chunked && req->body.n >= DIGEST_ASYNC_MIN;
	struct s3_digest_job dj;
	if (s3_writer_open(&out->w, c->fb, (uint64_t)size, inline_ok && !adopt, key,
			   !adopt && !async, async ? S3_CKS_NONE : algo) < 0)
		return aws_fail(c, 500, "InternalError", "cannot create a data file");
	out->w.iv_prefix = iv_prefix;
	if (async)
		s3_digest_start(&dj, req->body.p, req->body.n, 1, algo);
	if (pl.chunked) {
		int sigs = str_has_prefix_c(sha_hdr, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
		int tsig = str_eq_c(sha_hdr, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
		const struct sigv4_chunk_signer *signer = sigs ? make_signer(c, seed) : NULL;
		s3_chunked_init(&d, sigs, tsig, signer, seed);
		rc = feed_chunked(c, &d, &out->w);
		if (rc == 0 && (!s3_chunked_done(&d) || d.decoded != (uint64_t)size)) {
			d.err = "short";
			rc = -1;
		}
		if (rc < 0) {
			int bad = d.bad_sig;
			const char *why = d.err ? d.err : "?";
			s3_chunked_free(&d);
			s3_writer_abort(&out->w, c->fb);
			if (bad)
				return aws_fail(
				    c, 403, "SignatureDoesNotMatch",
				    "The request signature we calculated does not match "
				    "the signature you provided. Check your key and "
				    "signing method.");
			if (!strcmp(why, "short") || !strcmp(why, "sink"))
				return aws_fail(c, 400, "IncompleteBody",
						"You did not provide the number of bytes specified "
						"by the x-amz-decoded-content-length HTTP header");
			return aws_fail(c, 400, "InvalidRequest", "Malformed aws-chunked body (%s)",
					why);
		}
		if (algo && !pl.expect_cks) {
			struct str t = s3_chunked_trailer(&d, s3_cks_header(algo));
			if (t.p)
				pl.expect_cks = arena_str(c->a, t);
		}
		s3_chunked_free(&d);
	} else if (feed_plain(c, &out->w, &md5_done) < 0) {
		if (async)
			s3_digest_finish(&dj, &out->d);
		s3_writer_abort(&out->w, c->fb);
		return aws_fail(c, 400, "IncompleteBody",
				"You did not provide the number of bytes specified by the "
				"Content-Length HTTP header");
	}
	rc = s3_writer_finish(&out->w, c->fb, &out->d);
	if (async)
		s3_digest_finish(&dj, &out->d);
	if (rc < 0)
		return aws_fail(c, 500, "InternalError", "cannot write the object data");
	if (md5_done)
		memcpy(out->d.md5, req->body_md5, 16);
	out->size = (uint64_t)size;
	if (body_verify(c, &pl, out) < 0) {
		/* drops the file just written and the finished writer's memory */
		s3_store_tx_done(0);
		s3_writer_release(&out->w);
		buf_release(&out->w.mem);
		return -1;
	}
	return 0;
}

/* ---- plain bodies stored by workers (deferred calls) ---- */

/* A body being stored by a file job for a deferred call; in its arena. */
struct body_async {
	struct s3_file_job f;
	struct aws_call *c; /* the deferred call */
	struct body_plan pl;
	struct s3_stored out;
	s3_body_cb *then;
	void *arg;
};

/* body_async_done: the file job's continuation (loop thread): hands the
 * spool file over if it moved, verifies the digests, registers the file
 * for publication and calls the caller's continuation. */
static void body_async_done(struct s3_file_job *f)
{
	struct body_async *ba = f->arg;
	struct aws_call *c = ba->c;
	struct s3_stored *out = &ba->out;
	if (f->renamed)
		*c->http->body_taken = 1; /* the server must not unlink its old name */
	if (f->io_rc < 0 || f->dg_rc < 0) {
		if (f->io_rc == 0)
			s3_store_discard(f->id);
		aws_fail(c, 500, "InternalError", "cannot write the object data");
		ba->then(c, NULL, ba->arg);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->w.fd = -1;
	memcpy(out->w.id, f->id, sizeof(out->w.id));
	out->d = f->d;
	if (!f->want_md5)
		memcpy(out->d.md5, c->http->body_md5, 16); /* the server's, of the spool */
	out->size = f->size;
	if (body_verify(c, &ba->pl, out) < 0) {
		s3_store_discard(f->id);
		ba->then(c, NULL, ba->arg);
		return;
	}
	s3_store_publish_at_commit(f->id);
	ba->then(c, out, ba->arg);
}

int s3_body_store_async(struct aws_call *c, int inline_ok, int default_algo, s3_body_cb *then,
			void *arg)
{
	const struct http_request *req = c->http;
	struct body_plan pl;
	if (!s3_file_job_possible())
		return 0;
	if (body_plan(c, default_algo, &pl) < 0)
		return -1;
	/* aws-chunked bodies are decoded (and their signatures checked) on
	 * the loop; a spool the handler may not take is copied there */
	if (pl.chunked || (pl.spooled && !req->body_taken))
		return 0;
	if (!pl.spooled && inline_ok && req->body.n <= S3_INLINE_MAX)
		return 0; /* stays inline in the database */
	struct body_async *ba = arena_zalloc(c->a, sizeof(*ba));
	struct s3_file_job *f = &ba->f;
	ba->pl = pl;
	ba->then = then;
	ba->arg = arg;
	if (pl.spooled) {
		f->from = req->body_path;
		f->from_fd = req->body_fd;
	} else {
		f->p = req->body.p ? req->body.p : "";
		f->n = req->body.n;
		f->from_fd = -1;
	}
	f->size = (uint64_t)pl.size;
	f->want_md5 = !pl.spooled;
	f->algo = pl.algo;
	f->done = body_async_done;
	f->arg = ba;
	if (s3_file_job_start(f) < 0)
		return 0;
	/* the job reports from the loop later, so deferring after the start
	 * is safe, and nothing needs undoing when the start fails */
	ba->c = aws_defer(c);
	return 1;
}
