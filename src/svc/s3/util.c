/* util.c - plumbing every S3 handler shares: the per-request entry
 * (store recovery on first use, lifecycle sweep when due), bucket lookup
 * with S3's errors, transactions that publish data files at commit, the
 * owner identity, and small parsers (ETag lists, Range, bucket names). */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>

int s3_enter(struct aws_call *c)
{
	if (s3_store_open(c->fb) < 0)
		return aws_fail(c, 500, "InternalError", "The object store is not available.");
	/* data files a failed earlier request wrote but never committed */
	s3_store_tx_done(0);
	s3_lifecycle_sweep(c->fb, c->now_ms);
	return 0;
}

int s3_fail_db(struct aws_call *c, int rc)
{
	return aws_fail(c, 500, "InternalError",
			"We encountered an internal error. Please try again. (store: %s)",
			sqlite3_errstr(rc));
}

int s3_no_such_bucket(struct aws_call *c, const char *name)
{
	return aws_fail(c, 404, "NoSuchBucket", "The specified bucket does not exist");
}

int s3_no_such_key(struct aws_call *c)
{
	return aws_fail(c, 404, "NoSuchKey", "The specified key does not exist.");
}

/* bucket_load: reads bucket <name> from the store into *b and the bucket
 * cache. 0, or -1 with NoSuchBucket or a store error. */
static int bucket_load(struct aws_call *c, const char *name, struct s3_bucket *b)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT id, name, account, region, created, versioning, object_lock "
			       "FROM s3_buckets WHERE name = ?1");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? s3_no_such_bucket(c, name) : s3_fail_db(c, rc);
	}
	b->id = sqlite3_column_int64(st, 0);
	b->name = arena_strdup(c->a, db_col_text(st, 1));
	b->account = arena_strdup(c->a, db_col_text(st, 2));
	b->region = arena_strdup(c->a, db_col_text(st, 3));
	b->created_ms = sqlite3_column_int64(st, 4);
	b->versioning = sqlite3_column_int(st, 5);
	b->object_lock = sqlite3_column_int(st, 6);
	sqlite3_reset(st);
	s3_bcache_put_bucket(c, b);
	return 0;
}

int s3_bucket_find(struct aws_call *c, const char *name, struct s3_bucket *b)
{
	if (!name)
		name = "";
	if (!s3_bcache_bucket(c, name, b) && bucket_load(c, name, b) < 0)
		return -1;
	/* no bucket policies yet: another account's bucket is off limits */
	if (c->account && strcmp(b->account, c->account) != 0)
		return aws_fail(c, 403, "AccessDenied", "Access Denied");
	return 0;
}

int s3_bucket_arg(struct aws_call *c, struct s3_bucket *b)
{
	const char *owner = jv_get_str(c->in, "ExpectedBucketOwner");
	if (s3_enter(c) < 0 || s3_bucket_find(c, jv_get_str(c->in, "Bucket"), b) < 0)
		return -1;
	if (owner && strcmp(owner, b->account) != 0)
		return aws_fail(c, 403, "AccessDenied", "Access Denied");
	return 0;
}

/* tx_rollback: undoes the call's transaction, batched or not. */
static void tx_rollback(struct aws_call *c)
{
	if (c->http)
		db_batch_rollback(c->fb->db);
	else
		db_rollback(c->fb->db);
}

int s3_tx_begin(struct aws_call *c)
{
	/* a request's transaction joins the loop iteration's batch (its
	 * answer waits for the batch's commit and sync anyway); the
	 * lifecycle sweep (no request) commits on its own */
	int rc = c->http ? db_batch_begin(c->fb->db) : db_begin(c->fb->db);
	if (rc != SQLITE_OK)
		return s3_fail_db(c, rc);
	s3_store_tx_reset();
	rc = s3_store_gc_clear(c->fb->db);
	if (rc != SQLITE_OK) {
		tx_rollback(c);
		return s3_fail_db(c, rc);
	}
	return 0;
}

int s3_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = c->http ? db_batch_commit(c->fb->db) : db_commit(c->fb->db);
		/* data files are published (renamed into obj/) and unlinked only
		 * once their transaction is really committed: commit the batch */
		if (rc == SQLITE_OK && c->http && s3_store_tx_has_files() &&
		    db_batch_flush(c->fb->db) < 0)
			rc = SQLITE_IOERR;
		if (rc == SQLITE_OK) {
			s3_store_tx_done(1);
			return 0;
		}
		tx_rollback(c);
		s3_store_tx_done(0);
		return s3_fail_db(c, rc);
	}
	tx_rollback(c);
	s3_store_tx_done(0);
	return -1;
}

const char *s3_owner_id(struct aws_call *c, const char *account)
{
	unsigned char d[32];
	unsigned int n = 0;
	char *hex = arena_alloc(c->a, 65);
	char in[64];
	int k = snprintf(in, sizeof(in), "fogbank-s3-owner:%s", account ? account : "");
	EVP_Digest(in, (size_t)k, d, &n, EVP_sha256(), NULL);
	fmt_hex(hex, d, 32);
	return hex;
}

struct jv *s3_owner(struct aws_call *c, const char *account)
{
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "DisplayName", account);
	jv_set_str(c->a, o, "ID", s3_owner_id(c, account));
	return o;
}

const char *s3_quoted_etag(struct aws_call *c, const char *etag)
{
	return arena_sprintf(c->a, "\"%s\"", etag ? etag : "");
}

struct str s3_header(const struct aws_call *c, const char *name)
{
	const struct http_header *h = c->http ? http_find_header(&c->http->h, name) : NULL;
	return h ? h->value : STR_NULL;
}

struct jv *s3_json_obj(struct aws_call *c, const char *text)
{
	struct jv *v;
	if (!text || !*text)
		return NULL;
	v = json_parse(c->a, text, strlen(text), NULL);
	return v && v->type == JV_OBJECT ? v : NULL;
}

const char *s3_json_text(struct aws_call *c, const struct jv *v)
{
	struct buf b = BUF_INIT;
	const char *s;
	if (!v)
		return NULL;
	json_write(&b, v);
	s = arena_strndup(c->a, b.p ? b.p : "", b.n);
	buf_release(&b);
	return s;
}

void s3_clear_error(struct aws_call *c)
{
	c->err_code = NULL;
	c->err_msg = NULL;
	c->err_status = 0;
	c->err_fault = 0;
}

const char *s3_version_id_new(struct aws_call *c)
{
	/* AWS's look: 32 characters of [A-Za-z0-9._]; time-ordered prefix so
	 * ids of one key sort roughly by age, random rest */
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[24];
	char *out = arena_alloc(c->a, 33);
	uint64_t t = (uint64_t)c->now_ms;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	for (int i = 7; i >= 0; i--, t /= 62)
		out[i] = al[t % 62];
	for (int i = 8; i < 32; i++)
		out[i] = al[rnd[i - 8] % 62];
	out[32] = 0;
	return out;
}

int64_t s3_day_ms(void)
{
	static int64_t day = -1;
	if (day < 0) {
		const char *e = getenv("FOGBANK_S3_DAY_SECONDS");
		double s = e ? strtod(e, NULL) : 0;
		day = s > 0 ? (int64_t)(s * 1000.0) : 86400000;
		if (day < 1)
			day = 1;
	}
	return day;
}

int s3_etag_match(struct str hdr, const char *etag)
{
	size_t i = 0, en = strlen(etag);
	while (i < hdr.n) {
		size_t s, e;
		while (i < hdr.n && (hdr.p[i] == ' ' || hdr.p[i] == ','))
			i++;
		s = i;
		while (i < hdr.n && hdr.p[i] != ',')
			i++;
		e = i;
		while (e > s && hdr.p[e - 1] == ' ')
			e--;
		if (e - s >= 2 && hdr.p[s] == 'W' && hdr.p[s + 1] == '/')
			s += 2;
		if (e - s >= 2 && hdr.p[s] == '"' && hdr.p[e - 1] == '"')
			s++, e--;
		if ((e - s == 1 && hdr.p[s] == '*') ||
		    (e - s == en && !memcmp(hdr.p + s, etag, en)))
			return 1;
	}
	return 0;
}

/* parse_u64: decimal digits p[0..n) into *v; 0 or -1. */
static int parse_u64(const char *p, size_t n, uint64_t *v)
{
	*v = 0;
	if (!n || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	}
	return 0;
}

int s3_range_parse(struct str h, uint64_t size, uint64_t *start, uint64_t *len)
{
	const char *dash;
	uint64_t a, b;
	if (!h.p || h.n < 7 || strncasecmp(h.p, "bytes=", 6) != 0)
		return 0;
	h.p += 6;
	h.n -= 6;
	while (h.n && h.p[0] == ' ')
		h.p++, h.n--;
	while (h.n && h.p[h.n - 1] == ' ')
		h.n--;
	if (memchr(h.p, ',', h.n))
		return 0; /* S3 serves no multipart/byteranges: whole object */
	dash = memchr(h.p, '-', h.n);
	if (!dash)
		return 0;
	if (dash == h.p) { /* -n: the last n bytes */
		if (parse_u64(dash + 1, h.n - 1, &b) < 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return 1;
	}
	if (parse_u64(h.p, (size_t)(dash - h.p), &a) < 0)
		return 0;
	if ((size_t)(dash - h.p) + 1 == h.n) { /* a- */
		if (a >= size)
			return -1;
		*start = a;
		*len = size - a;
		return 1;
	}
	if (parse_u64(dash + 1, h.n - (size_t)(dash - h.p) - 1, &b) < 0 || b < a)
		return 0; /* syntactically invalid: ignored, as RFC 7233 says */
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

int s3_valid_bucket_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	int dots = 0, digits_dots = 1;
	if (n < 3 || n > 63)
		return 0;
	if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '.' ||
		      ch == '-'))
			return 0;
		if (ch == '.') {
			dots++;
			if (name[i + 1] == '.' || name[i + 1] == '-' || (i && name[i - 1] == '-'))
				return 0;
		}
		if (!isdigit((unsigned char)ch) && ch != '.')
			digits_dots = 0;
	}
	if (digits_dots && dots == 3)
		return 0; /* looks like an IP address */
	if (!strncmp(name, "xn--", 4) || !strncmp(name, "sthree-", 7) ||
	    (n >= 8 && !strcmp(name + n - 8, "-s3alias")) ||
	    (n >= 6 && !strcmp(name + n - 6, "--ol-s3")))
		return 0;
	return 1;
}
