/* list.c - ListObjects, ListObjectsV2 and ListObjectVersions. Listing walks
 * the (bucket, key) index from the resume point in key order, LIMITed
 * batches, and stops at the first key past the prefix; a common prefix is
 * skipped in one seek to the first key after it (its "prefix end"), so a
 * page costs O(page + prefixes) index steps however many keys the bucket
 * holds. Continuation tokens are opaque base64 of the resume point. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/form.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <math.h>

#define BATCH_MIN 64

/* ---- tokens ---- */

const char *s3_token_encode(struct arena *a, const char *key, int is_prefix)
{
	size_t n = strlen(key);
	char *raw = arena_alloc(a, n + 2), *out = arena_alloc(a, 4 * ((n + 4) / 3) + 1);
	raw[0] = is_prefix ? 'p' : 'k';
	memcpy(raw + 1, key, n);
	fmt_b64_encode(out, raw, n + 1);
	return out;
}

int s3_token_decode(struct arena *a, const char *tok, const char **key, int *is_prefix)
{
	size_t n = tok ? strlen(tok) : 0;
	char *raw = arena_alloc(a, 3 * (n / 4) + 2);
	ssize_t k = n ? fmt_b64_decode(raw, tok, n) : -1;
	if (k < 1 || (raw[0] != 'p' && raw[0] != 'k') || memchr(raw + 1, 0, (size_t)k - 1))
		return -1;
	raw[k] = 0;
	*is_prefix = raw[0] == 'p';
	*key = raw + 1;
	return 0;
}

const char *s3_prefix_end(struct arena *a, const char *prefix, size_t n)
{
	char *s = arena_strndup(a, prefix, n);
	while (n) {
		unsigned char ch = (unsigned char)s[n - 1];
		if (ch != 0xff) {
			s[n - 1] = (char)(ch + 1);
			s[n] = 0;
			return s;
		}
		n--; /* "ab\xff" ends where "ac" starts */
	}
	return NULL;
}

/* ---- the walk ---- */

/* What one listing asks for and where it resumes. */
struct walk {
	const char *prefix;
	size_t plen;
	const char *delim; /* NULL: no grouping */
	size_t dlen;
	const char *from; /* resume point */
	int from_incl;	  /* from itself is included */
	int64_t max;
	int url; /* encoding-type=url */
	int owner;
	int versions; /* ListObjectVersions */
	/* results */
	struct jv *contents, *prefixes, *markers;
	int64_t n;
	int truncated;
	const char *last; /* last key or common prefix returned */
	int last_prefix;
	const char *last_vid;
	struct jv *owner_v;
};

/* enc: the listed form of a key (URL-encoded for encoding-type=url). */
static const char *enc(struct aws_call *c, const struct walk *w, const char *s)
{
	struct buf b = BUF_INIT;
	const char *r;
	if (!w->url || !s)
		return s;
	url_encode(&b, s, strlen(s), 1);
	r = arena_strndup(c->a, b.p ? b.p : "", b.n);
	buf_release(&b);
	return r;
}

/* start_at: the resume point: the later of the prefix and <after>. */
static void start_at(struct walk *w, const char *after, int incl)
{
	w->from = w->prefix;
	w->from_incl = 1;
	if (after && strcmp(after, w->prefix) >= 0) {
		w->from = after;
		w->from_incl = incl;
	}
}

/* group_of: the common prefix key falls in, or NULL. */
static const char *group_of(struct aws_call *c, const struct walk *w, const char *key)
{
	const char *d;
	if (!w->delim || strncmp(key, w->prefix, w->plen) != 0)
		return NULL;
	d = strstr(key + w->plen, w->delim);
	return d ? arena_strndup(c->a, key, (size_t)(d - key) + w->dlen) : NULL;
}

/* add_prefix: one CommonPrefixes entry; 0, or 1 when the page is full. */
static int add_prefix(struct aws_call *c, struct walk *w, const char *cp)
{
	struct jv *e;
	if (w->n == w->max) {
		w->truncated = 1;
		return 1;
	}
	e = jv_object(c->a);
	jv_set_str(c->a, e, "Prefix", enc(c, w, cp));
	jv_push(c->a, w->prefixes, e);
	w->n++;
	w->last = cp;
	w->last_prefix = 1;
	w->last_vid = NULL;
	return 0;
}

/* add_object: one Contents / Versions / DeleteMarkers entry. */
static int add_object(struct aws_call *c, struct walk *w, const struct s3_object *o)
{
	struct jv *e;
	if (w->n == w->max) {
		w->truncated = 1;
		return 1;
	}
	e = jv_object(c->a);
	jv_set_str(c->a, e, "Key", enc(c, w, o->key));
	if (w->versions) {
		jv_set_str(c->a, e, "VersionId", o->version_id);
		jv_set_bool(c->a, e, "IsLatest", o->is_latest);
	}
	jv_set_double(c->a, e, "LastModified", (double)o->mtime_ms / 1000.0);
	if (!o->delete_marker) {
		size_t n = strlen(o->etag);
		char *q = arena_alloc(c->a, n + 3);
		/* quoted by hand: this runs for every key of a page */
		q[0] = '"';
		memcpy(q + 1, o->etag, n);
		q[n + 1] = '"';
		q[n + 2] = 0;
		jv_set_str(c->a, e, "ETag", q);
		jv_set_int(c->a, e, "Size", o->size);
		jv_set_str(c->a, e, "StorageClass", o->storage_class);
		if (o->cks_algo) {
			struct jv *algos = jv_array(c->a);
			jv_push(c->a, algos, jv_string_c(c->a, o->cks_algo));
			jv_set(c->a, e, "ChecksumAlgorithm", algos);
		}
	}
	if (w->owner)
		jv_set(c->a, e, "Owner", w->owner_v);
	jv_push(c->a, o->delete_marker ? w->markers : w->contents, e);
	w->n++;
	w->last = o->key;
	w->last_prefix = 0;
	w->last_vid = o->version_id;
	return 0;
}

/* walk_latest: the current versions (ListObjects / V2), from the covering
 * list index: rows carry only what a Contents entry shows. */
static int walk_latest(struct aws_call *c, int64_t bucket_id, struct walk *w)
{
	const char *from = w->from;
	int incl = w->from_incl;
	int64_t batch = w->max + 1 < BATCH_MIN ? BATCH_MIN : w->max + 1;
	for (;;) {
		sqlite3_stmt *st =
		    incl ? db_stmt(c->fb->db,
				   "SELECT key, size, etag, mtime, storage_class, cks_algo "
				   "FROM s3_objects INDEXED BY s3_objects_list WHERE "
				   "bucket_id = ?1 AND is_latest = 1 "
				   "AND delete_marker = 0 AND key >= ?2 ORDER BY key LIMIT ?3")
			 : db_stmt(c->fb->db,
				   "SELECT key, size, etag, mtime, storage_class, cks_algo "
				   "FROM s3_objects INDEXED BY s3_objects_list WHERE "
				   "bucket_id = ?1 AND is_latest = 1 "
				   "AND delete_marker = 0 AND key > ?2 ORDER BY key LIMIT ?3");
		int64_t rows = 0;
		const char *jump = NULL;
		int done = 0, rc;
		sqlite3_bind_int64(st, 1, bucket_id);
		sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, batch);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct s3_object o;
			const char *cp;
			rows++;
			memset(&o, 0, sizeof(o));
			o.key = arena_strndup(c->a, db_col_text(st, 0),
					      (size_t)sqlite3_column_bytes(st, 0));
			from = o.key;
			incl = 0;
			if (strncmp(o.key, w->prefix, w->plen) != 0) {
				done = 1; /* past the prefix: nothing more can match */
				break;
			}
			if ((cp = group_of(c, w, o.key))) {
				if (add_prefix(c, w, cp)) {
					done = 1;
					break;
				}
				jump = s3_prefix_end(c->a, cp, strlen(cp));
				break;
			}
			o.size = sqlite3_column_int64(st, 1);
			o.etag = arena_strndup(c->a, db_col_text(st, 2),
					       (size_t)sqlite3_column_bytes(st, 2));
			o.mtime_ms = sqlite3_column_int64(st, 3);
			o.storage_class = arena_strdup(c->a, db_col_text(st, 4));
			if (sqlite3_column_type(st, 5) != SQLITE_NULL)
				o.cks_algo = arena_strdup(c->a, db_col_text(st, 5));
			if (add_object(c, w, &o)) {
				done = 1;
				break;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return s3_fail_db(c, rc);
		if (done)
			return 0;
		if (jump) {
			from = jump;
			incl = 1;
			continue;
		}
		if (rows < batch)
			return 0;
	}
}

/* key_rest: the versions of <key> older than version row <after_id>;
 * 1 when the page filled up, 0 otherwise. */
static int key_rest(struct aws_call *c, int64_t bucket_id, struct walk *w, const char *key,
		    int64_t after_id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o "
					      "WHERE o.bucket_id = ?1 AND o.key = ?2 AND "
					      "o.id < ?3 ORDER BY o.id DESC");
	int full = 0;
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, after_id);
	while (!full && sqlite3_step(st) == SQLITE_ROW) {
		struct s3_object o;
		s3_object_from_row(c, st, &o);
		full = add_object(c, w, &o);
	}
	sqlite3_reset(st);
	return full;
}

/* walk_versions: every version, keys ascending, newest version first;
 * after_id > 0 resumes inside the key w->from after that version. */
static int walk_versions(struct aws_call *c, int64_t bucket_id, struct walk *w, int64_t after_id)
{
	const char *from = w->from;
	int incl = w->from_incl;
	int64_t batch = w->max + 1 < BATCH_MIN ? BATCH_MIN : w->max + 1;
	if (after_id) {
		if (key_rest(c, bucket_id, w, from, after_id))
			return 0;
		incl = 0;
	}
	for (;;) {
		sqlite3_stmt *st =
		    incl ? db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					      "o.bucket_id = ?1 AND o.key >= ?2 "
					      "ORDER BY o.key, o.id DESC LIMIT ?3")
			 : db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					      "o.bucket_id = ?1 AND o.key > ?2 "
					      "ORDER BY o.key, o.id DESC LIMIT ?3");
		int64_t rows = 0, last_id = 0;
		const char *jump = NULL, *cur_key = NULL;
		int done = 0, rc;
		sqlite3_bind_int64(st, 1, bucket_id);
		sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, batch);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct s3_object o;
			const char *cp;
			rows++;
			s3_object_from_row(c, st, &o);
			if (strncmp(o.key, w->prefix, w->plen) != 0) {
				done = 1;
				break;
			}
			if ((cp = group_of(c, w, o.key))) {
				if (add_prefix(c, w, cp)) {
					done = 1;
					break;
				}
				jump = s3_prefix_end(c->a, cp, strlen(cp));
				break;
			}
			if (add_object(c, w, &o)) {
				done = 1;
				break;
			}
			cur_key = o.key;
			last_id = o.id;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return s3_fail_db(c, rc);
		if (done)
			return 0;
		if (jump) {
			from = jump;
			incl = 1;
			continue;
		}
		if (rows < batch || !cur_key)
			return 0;
		/* the batch ended inside a key: finish its older versions first */
		if (key_rest(c, bucket_id, w, cur_key, last_id))
			return 0;
		from = cur_key;
		incl = 0;
	}
}

/* list_args: prefix, delimiter, max-keys and encoding-type of the input. */
static int list_args(struct aws_call *c, struct walk *w)
{
	const char *et = jv_get_str(c->in, "EncodingType");
	memset(w, 0, sizeof(*w));
	w->prefix = jv_get_str(c->in, "Prefix") ? jv_get_str(c->in, "Prefix") : "";
	w->plen = strlen(w->prefix);
	w->delim = jv_get_str(c->in, "Delimiter");
	if (w->delim && !*w->delim)
		w->delim = NULL;
	w->dlen = w->delim ? strlen(w->delim) : 0;
	w->max = jv_get_int(c->in, "MaxKeys", S3_MAX_LIST);
	if (w->max < 0)
		return aws_fail(c, 400, "InvalidArgument",
				"Provided max-keys not an integer or within integer range");
	if (w->max > S3_MAX_LIST)
		w->max = S3_MAX_LIST;
	if (et && strcmp(et, "url") != 0)
		return aws_fail(c, 400, "InvalidArgument",
				"Invalid Encoding Method specified in Request");
	w->url = et != NULL;
	w->contents = jv_array(c->a);
	w->prefixes = jv_array(c->a);
	w->markers = jv_array(c->a);
	return 0;
}

/* marker_group: a marker that names a whole common prefix ("a/" with
 * delimiter "/") resumes after everything in it, as S3's NextMarker. */
static void resume_after_marker(struct aws_call *c, struct walk *w, const char *marker)
{
	const char *cp = marker ? group_of(c, w, marker) : NULL;
	if (cp && !strcmp(cp, marker)) {
		const char *end = s3_prefix_end(c->a, cp, strlen(cp));
		if (end) {
			start_at(w, end, 1);
			return;
		}
	}
	start_at(w, marker, 0);
}

/* list_common: the output members both ListObjects versions share. */
static void list_common(struct aws_call *c, const struct s3_bucket *b, struct walk *w)
{
	struct jv *out = aws_out(c);
	jv_set_str(c->a, out, "Name", b->name);
	jv_set_str(c->a, out, "Prefix", enc(c, w, w->prefix));
	if (w->delim)
		jv_set_str(c->a, out, "Delimiter", enc(c, w, w->delim));
	jv_set_int(c->a, out, "MaxKeys", w->max);
	if (w->url)
		jv_set_str(c->a, out, "EncodingType", "url");
	jv_set_bool(c->a, out, "IsTruncated", w->truncated);
	if (jv_len(w->contents))
		jv_set(c->a, out, "Contents", w->contents);
	if (jv_len(w->prefixes))
		jv_set(c->a, out, "CommonPrefixes", w->prefixes);
}

int s3_op_list_objects_v2(struct aws_call *c)
{
	struct s3_bucket b;
	struct walk w;
	const char *tok = jv_get_str(c->in, "ContinuationToken");
	const char *after = jv_get_str(c->in, "StartAfter");
	struct jv *out;

	if (s3_bucket_arg(c, &b) < 0 || list_args(c, &w) < 0)
		return -1;
	w.owner = jv_get_bool(c->in, "FetchOwner", 0);
	if (w.owner)
		w.owner_v = s3_owner(c, b.account);
	if (tok) {
		const char *k;
		int is_prefix;
		if (s3_token_decode(c->a, tok, &k, &is_prefix) < 0)
			return aws_fail(c, 400, "InvalidArgument",
					"The continuation token provided is incorrect");
		if (is_prefix && s3_prefix_end(c->a, k, strlen(k)))
			start_at(&w, s3_prefix_end(c->a, k, strlen(k)), 1);
		else
			start_at(&w, k, 0);
	} else {
		start_at(&w, after, 0);
	}
	if (w.max > 0 && walk_latest(c, b.id, &w) < 0)
		return -1;
	list_common(c, &b, &w);
	out = aws_out(c);
	jv_set_int(c->a, out, "KeyCount", w.n);
	if (tok)
		jv_set_str(c->a, out, "ContinuationToken", tok);
	if (after)
		jv_set_str(c->a, out, "StartAfter", enc(c, &w, after));
	if (w.truncated && w.last)
		jv_set_str(c->a, out, "NextContinuationToken",
			   s3_token_encode(c->a, w.last, w.last_prefix));
	return 0;
}

int s3_op_list_objects(struct aws_call *c)
{
	struct s3_bucket b;
	struct walk w;
	const char *marker = jv_get_str(c->in, "Marker");
	struct jv *out;

	if (s3_bucket_arg(c, &b) < 0 || list_args(c, &w) < 0)
		return -1;
	w.owner = 1;
	w.owner_v = s3_owner(c, b.account);
	resume_after_marker(c, &w, marker);
	if (w.max > 0 && walk_latest(c, b.id, &w) < 0)
		return -1;
	list_common(c, &b, &w);
	out = aws_out(c);
	jv_set_str(c->a, out, "Marker", enc(c, &w, marker ? marker : ""));
	/* NextMarker only with a delimiter, as S3; clients use the last key */
	if (w.truncated && w.last && w.delim)
		jv_set_str(c->a, out, "NextMarker", enc(c, &w, w.last));
	return 0;
}

int s3_op_list_object_versions(struct aws_call *c)
{
	struct s3_bucket b;
	struct walk w;
	const char *kmark = jv_get_str(c->in, "KeyMarker");
	const char *vmark = jv_get_str(c->in, "VersionIdMarker");
	int64_t after_id = 0;
	struct jv *out;

	if (s3_bucket_arg(c, &b) < 0 || list_args(c, &w) < 0)
		return -1;
	w.versions = 1;
	w.owner = 1;
	w.owner_v = s3_owner(c, b.account);
	if (kmark && vmark && *vmark) {
		struct s3_object m;
		int r = s3_object_load(c, b.id, kmark, vmark, &m);
		if (r < 0)
			return -1;
		if (r == 0)
			return aws_fail(c, 400, "InvalidArgument",
					"A version-id marker cannot be specified without a key "
					"marker.");
		after_id = m.id;
		start_at(&w, kmark, 1);
		if (w.from != kmark)
			after_id = 0;
	} else {
		resume_after_marker(c, &w, kmark);
	}
	if (w.max > 0 && walk_versions(c, b.id, &w, after_id) < 0)
		return -1;
	out = aws_out(c);
	jv_set_str(c->a, out, "Name", b.name);
	jv_set_str(c->a, out, "Prefix", enc(c, &w, w.prefix));
	if (w.delim)
		jv_set_str(c->a, out, "Delimiter", enc(c, &w, w.delim));
	jv_set_int(c->a, out, "MaxKeys", w.max);
	if (w.url)
		jv_set_str(c->a, out, "EncodingType", "url");
	jv_set_str(c->a, out, "KeyMarker", enc(c, &w, kmark ? kmark : ""));
	jv_set_str(c->a, out, "VersionIdMarker", vmark ? vmark : "");
	jv_set_bool(c->a, out, "IsTruncated", w.truncated);
	if (w.truncated && w.last) {
		jv_set_str(c->a, out, "NextKeyMarker", enc(c, &w, w.last));
		if (w.last_vid)
			jv_set_str(c->a, out, "NextVersionIdMarker", w.last_vid);
	}
	if (jv_len(w.contents))
		jv_set(c->a, out, "Versions", w.contents);
	if (jv_len(w.markers))
		jv_set(c->a, out, "DeleteMarkers", w.markers);
	if (jv_len(w.prefixes))
		jv_set(c->a, out, "CommonPrefixes", w.prefixes);
	return 0;
}
