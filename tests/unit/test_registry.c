/* test_registry.c - the registry endpoint in process: requests built by
 * hand go through registry_handle on a scratch data dir (SQLite with the
 * ecr schema, a master.key, the blob store), without sockets. Covers auth,
 * routing, uploads with digest verification, manifests with immutable
 * tags, and collection. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/ecr_ops.h"
#include "core/loop.h"
#include "fb.h"
#include "registry/registry.h"
#include "store/db.h"
#include "svc/ecr/internal.h"
#include "test.h"
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct rh {
	struct fogbank fb;
	struct arena *a;
	char dir[64];
	char auth[420]; /* "Basic ..." */
	int spool;	/* next requests' bodies arrive spooled, as large ones do */
	int taken;	/* the handler took the last spool file */
	struct http_response resp;
};

static void rh_open(struct rh *h)
{
	static const struct db_migration *const migs[] = {ecr_migrations, NULL};
	char path[128], *err = NULL;
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/fogbank-unit-reg-XXXXXX");
	if (!mkdtemp(h->dir))
		abort();
	snprintf(path, sizeof(path), "%s/master.key", h->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "fedcba9876543210fedcba9876543210", 32) != 32)
		abort();
	close(fd);
	snprintf(path, sizeof(path), "%s/state.db", h->dir);
	h->fb = (struct fogbank){.data_dir = h->dir,
				 .host = "127.0.0.1",
				 .port = 4566,
				 .default_region = "us-east-1",
				 .auth = FB_AUTH_ENFORCE};
	h->fb.db = db_open(path, migs, &err);
	if (!h->fb.db)
		abort();
	h->a = arena_new(8192);
	char tok[ECR_TOKEN_MAX], plain[ECR_TOKEN_MAX + 8], b64[400];
	if (ecr_token_make(&h->fb, "000000000000", "us-east-1", fb_wall_ms() + 3600000, tok) < 0)
		abort();
	snprintf(plain, sizeof(plain), "AWS:%s", tok);
	fmt_b64_encode(b64, plain, strlen(plain));
	snprintf(h->auth, sizeof(h->auth), "Basic %s", b64);
	h->resp.body_fd = -1;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static void rh_close(struct rh *h)
{
	db_close(h->fb.db);
	arena_free(h->a);
	buf_release(&h->resp.headers);
	buf_release(&h->resp.body);
	nftw(h->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void digest(const void *p, size_t n, char out[72])
{
	unsigned char md[32];
	unsigned int k;
	EVP_Digest(p, n, md, &k, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	fmt_hex(out + 7, md, 32);
}

/* req: runs one registry request; returns the status. */
static int req(struct rh *h, const char *method, const char *target, const char *ctype,
	       const char *range, const void *body, size_t n, int authed)
{
	struct http_header hd[4];
	size_t nh = 0;
	if (authed)
		hd[nh++] = (struct http_header){STR_LIT("Authorization"), str_c(h->auth)};
	if (ctype)
		hd[nh++] = (struct http_header){STR_LIT("Content-Type"), str_c(ctype)};
	if (range)
		hd[nh++] = (struct http_header){STR_LIT("Content-Range"), str_c(range)};
	struct http_request r = {
	    .body_fd = -1, .body = {body, n}, .body_len = n, .recv_ms = fb_wall_ms()};
	char spath[128];
	if (h->spool && n) { /* the server's contract for bodies over 1 MiB */
		snprintf(spath, sizeof(spath), "%s/spool-test", h->dir);
		int fd = open(spath, O_RDWR | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0 && write(fd, body, n) == (ssize_t)n);
		close(fd);
		r.body_fd = open(spath, O_RDONLY);
		r.body_path = spath;
		r.body = STR_NULL;
		h->taken = 0;
		r.body_taken = &h->taken;
		char d[72];
		digest(body, n, d);
		memcpy(r.body_sha256, d + 7, 65);
	}
	const char *q = strchr(target, '?');
	r.h.method = str_c(method);
	r.h.target = str_c(target);
	r.h.path = (struct str){target, q ? (size_t)(q - target) : strlen(target)};
	r.h.query = q ? str_c(q + 1) : STR_NULL;
	r.h.headers = hd;
	r.h.nheaders = nh;
	h->resp.status = 200;
	h->resp.content_type = NULL;
	buf_clear(&h->resp.headers);
	buf_clear(&h->resp.body);
	CHECK(registry_match(&r));
	registry_handle(&h->fb, &r, &h->resp);
	if (r.body_fd >= 0) {
		close(r.body_fd);
		if (!h->taken)
			unlink(spath);
	}
	if (h->resp.body_fd >= 0) { /* a file range: read it as the server would send it */
		buf_reserve(&h->resp.body, (size_t)h->resp.body_len);
		ssize_t k = pread(h->resp.body_fd, h->resp.body.p, (size_t)h->resp.body_len,
				  (off_t)h->resp.body_off);
		h->resp.body.n = k > 0 ? (size_t)k : 0;
		close(h->resp.body_fd);
		h->resp.body_fd = -1;
	}
	return h->resp.status;
}

/* has: 1 when the response headers or body contain s. */
static int has(struct rh *h, const char *s)
{
	return (h->resp.headers.p && strstr(h->resp.headers.p, s)) ||
	       (h->resp.body.p && memmem(h->resp.body.p, h->resp.body.n, s, strlen(s)));
}

static void create_repo(struct rh *h, const char *name, int immutable)
{
	struct aws_call c = {.a = h->a,
			     .fb = &h->fb,
			     .account = "000000000000",
			     .region = "us-east-1",
			     .now_ms = fb_wall_ms()};
	c.in = jv_object(h->a);
	jv_set_str(h->a, c.in, "repositoryName", name);
	if (immutable)
		jv_set_str(h->a, c.in, "imageTagMutability", "IMMUTABLE");
	CHECK(ecr_op_create_repository(&c) == 0);
}

TEST(registry_match_and_auth)
{
	struct rh h;
	rh_open(&h);
	struct http_header sig = {STR_LIT("Authorization"),
				  STR_LIT("AWS4-HMAC-SHA256 Credential=x")};
	struct http_request s3 = {.body_fd = -1};
	s3.h.path = STR_LIT("/v2/key");
	s3.h.headers = &sig;
	s3.h.nheaders = 1;
	CHECK(!registry_match(&s3)); /* a signed request to a bucket named v2 */
	s3.h.path = STR_LIT("/v20/x");
	s3.h.nheaders = 0;
	CHECK(!registry_match(&s3));
	CHECK(req(&h, "GET", "/v2/", NULL, NULL, NULL, 0, 0) == 401);
	CHECK(has(&h, "WWW-Authenticate: Basic realm=") && has(&h, "UNAUTHORIZED"));
	CHECK(req(&h, "GET", "/v2/", NULL, NULL, NULL, 0, 1) == 200);
	CHECK(req(&h, "GET", "/v2/nope/tags/list", NULL, NULL, NULL, 0, 1) == 404);
	CHECK(has(&h, "NAME_UNKNOWN"));
	CHECK(req(&h, "GET", "/v2/Bad/tags/list", NULL, NULL, NULL, 0, 1) == 400);
	CHECK(has(&h, "NAME_INVALID"));
	rh_close(&h);
}

TEST(registry_push_pull)
{
	struct rh h;
	rh_open(&h);
	create_repo(&h, "team/app", 1);
	static const char layer[] = "pretend this is a gzip'd tar";
	static const char config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
	char dl[72], dc[72], dm[72], t[512];
	digest(layer, sizeof(layer) - 1, dl);
	digest(config, sizeof(config) - 1, dc);
	/* tampered: the bytes do not hash to the digest */
	snprintf(t, sizeof(t), "/v2/team/app/blobs/uploads/?digest=%s", dl);
	CHECK(req(&h, "POST", t, NULL, NULL, "tampered", 8, 1) == 400 && has(&h, "DIGEST_INVALID"));
	CHECK(req(&h, "POST", t, NULL, NULL, layer, sizeof(layer) - 1, 1) == 201);
	CHECK(has(&h, "Docker-Content-Digest: sha256:"));
	char path[256];
	CHECK(registry_blob_path(&h.fb, dl, path, sizeof(path)) == 0);
	CHECK(access(path, R_OK) == 0);
	/* chunked: POST, PATCH x2 (one out of order), PUT */
	CHECK(req(&h, "POST", "/v2/team/app/blobs/uploads/", NULL, NULL, NULL, 0, 1) == 202);
	const char *loc = strstr(h.resp.headers.p, "Location: ") + 10;
	char up[128];
	snprintf(up, sizeof(up), "%.*s", (int)strcspn(loc, "\r"), loc);
	CHECK(req(&h, "PATCH", up, NULL, "0-9", config, 10, 1) == 202 && has(&h, "Range: 0-9"));
	CHECK(req(&h, "PATCH", up, NULL, "20-29", config + 20, 10, 1) == 416);
	CHECK(req(&h, "PATCH", up, NULL, "10-19", config + 10, 10, 1) == 202);
	snprintf(t, sizeof(t), "%s?digest=%s", up, dc);
	CHECK(req(&h, "PUT", t, NULL, NULL, config + 20, sizeof(config) - 21, 1) == 201);
	snprintf(t, sizeof(t), "/v2/team/app/blobs/%s", dc);
	CHECK(req(&h, "GET", t, NULL, NULL, NULL, 0, 1) == 200);
	CHECK(h.resp.body.n == sizeof(config) - 1 && !memcmp(h.resp.body.p, config, h.resp.body.n));
	/* a manifest over them, by tag; immutable: another image can't take the tag */
	char m[1024], m2[1024];
	int mn = snprintf(m, sizeof(m),
			  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest."
			  "v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config."
			  "v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
			  "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\","
			  "\"size\":%zu}]}",
			  dc, sizeof(config) - 1, dl, sizeof(layer) - 1);
	digest(m, (size_t)mn, dm);
	CHECK(req(&h, "PUT", "/v2/team/app/manifests/v1",
		  "application/vnd.oci.image.manifest.v1+json", NULL, m, (size_t)mn, 1) == 201);
	CHECK(has(&h, dm));
	CHECK(req(&h, "GET", "/v2/team/app/manifests/v1", NULL, NULL, NULL, 0, 1) == 200);
	CHECK(h.resp.body.n == (size_t)mn && !memcmp(h.resp.body.p, m, (size_t)mn));
	CHECK(h.resp.content_type &&
	      !strcmp(h.resp.content_type, "application/vnd.oci.image.manifest.v1+json"));
	int mn2 = snprintf(m2, sizeof(m2), "%.*s ", mn, m); /* same content, other digest */
	CHECK(req(&h, "PUT", "/v2/team/app/manifests/v1", NULL, NULL, m2, (size_t)mn2, 1) == 400);
	CHECK(has(&h, "TAG_INVALID") && has(&h, "immutable"));
	CHECK(req(&h, "PUT", "/v2/team/app/manifests/v1", NULL, NULL, m, (size_t)mn, 1) == 201);
	/* a manifest naming a blob the repository lacks */
	char *m3 = strdup(m);
	m3[strstr(m3, dl) - m3 + 10] ^= 1;
	CHECK(req(&h, "PUT", "/v2/team/app/manifests/v3", NULL, NULL, m3, (size_t)mn, 1) == 400);
	CHECK(has(&h, "MANIFEST_BLOB_UNKNOWN"));
	free(m3);
	CHECK(req(&h, "GET", "/v2/team/app/tags/list", NULL, NULL, NULL, 0, 1) == 200);
	CHECK(has(&h, "\"tags\":[\"v1\"]"));
	/* delete the repository; collection with no grace removes the blobs */
	setenv("FOGBANK_REGISTRY_GC_GRACE_SECONDS", "0", 1);
	struct aws_call c = {.a = h.a,
			     .fb = &h.fb,
			     .account = "000000000000",
			     .region = "us-east-1",
			     .now_ms = fb_wall_ms()};
	c.in = jv_object(h.a);
	jv_set_str(h.a, c.in, "repositoryName", "team/app");
	jv_set_bool(h.a, c.in, "force", 1);
	CHECK(ecr_op_delete_repository(&c) == 0);
	registry_gc(&h.fb, fb_wall_ms() + 1);
	CHECK(access(path, F_OK) != 0);
	unsetenv("FOGBANK_REGISTRY_GC_GRACE_SECONDS");
	rh_close(&h);
}

/* Large bodies arrive spooled: a monolithic upload renames the spool file
 * into the store (written once), a PATCH copies from it. */
TEST(registry_spooled_bodies)
{
	struct rh h;
	rh_open(&h);
	create_repo(&h, "big", 0);
	size_t n = 3u << 20;
	char *data = malloc(n), d[72], t[256], path[256];
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + (i >> 13));
	digest(data, n, d);
	h.spool = 1;
	snprintf(t, sizeof(t), "/v2/big/blobs/uploads/?digest=%s", d);
	CHECK(req(&h, "POST", t, NULL, NULL, data, n, 1) == 201);
	CHECK(h.taken == 1);
	CHECK(registry_blob_path(&h.fb, d, path, sizeof(path)) == 0);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (size_t)sb.st_size == n);
	data[0] ^= 1; /* tampered: rejected, spool left to the server */
	CHECK(req(&h, "POST", t, NULL, NULL, data, n, 1) == 400 && h.taken == 0);
	data[0] ^= 1;
	CHECK(req(&h, "POST", "/v2/big/blobs/uploads/", NULL, NULL, NULL, 0, 1) == 202);
	const char *loc = strstr(h.resp.headers.p, "Location: ") + 10;
	char up[128];
	snprintf(up, sizeof(up), "%.*s", (int)strcspn(loc, "\r"), loc);
	CHECK(req(&h, "PATCH", up, NULL, NULL, data, n / 2, 1) == 202 && h.taken == 0);
	snprintf(t, sizeof(t), "%s?digest=%s", up, d);
	CHECK(req(&h, "PUT", t, NULL, NULL, data + n / 2, n - n / 2, 1) == 201);
	h.spool = 0;
	snprintf(t, sizeof(t), "/v2/big/blobs/%s", d);
	CHECK(req(&h, "GET", t, NULL, NULL, NULL, 0, 1) == 200);
	CHECK(h.resp.body.n == n && !memcmp(h.resp.body.p, data, n));
	free(data);
	rh_close(&h);
}

/* Files a crash left without rows (a blob renamed into place before its
 * row committed, an upload file) are removed once old enough; recorded
 * blobs stay. */
TEST(registry_gc_orphans)
{
	struct rh h;
	rh_open(&h);
	create_repo(&h, "keep", 0);
	static const char kept[] = "a recorded blob";
	char dk[72], t[256], kp[256], op[256], up[256];
	digest(kept, sizeof(kept) - 1, dk);
	snprintf(t, sizeof(t), "/v2/keep/blobs/uploads/?digest=%s", dk);
	CHECK(req(&h, "POST", t, NULL, NULL, kept, sizeof(kept) - 1, 1) == 201);
	CHECK(registry_blob_path(&h.fb, dk, kp, sizeof(kp)) == 0);
	const char *orphan =
	    "sha256:00000000000000000000000000000000000000000000000000000000000000aa";
	CHECK(registry_blob_path(&h.fb, orphan, op, sizeof(op)) == 0);
	snprintf(t, sizeof(t), "%s/registry/blobs/sha256/00", h.dir);
	mkdir(t, 0700);
	snprintf(up, sizeof(up), "%s/registry/uploads/mono-leftover", h.dir);
	FILE *f = fopen(op, "w"), *g = fopen(up, "w");
	CHECK(f && g);
	fclose(f);
	fclose(g);
	int64_t now = fb_wall_ms();
	registry_gc(&h.fb, now); /* the first run only notes the start */
	CHECK(access(op, F_OK) == 0);
	registry_gc(&h.fb, now + 120000);
	CHECK(access(op, F_OK) != 0 && access(up, F_OK) != 0);
	CHECK(access(kp, F_OK) == 0); /* linked, within the grace period */
	rh_close(&h);
}
