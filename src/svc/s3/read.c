/* read.c - whole-object reads for other services (ECS environmentFiles):
 * the latest version of a key as the account sees it, decrypted, without
 * an HTTP request. Loop thread only. */
#include "core/compat.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include "svc/s3/s3.h"

int s3_object_read(struct fogbank *fb, struct arena *a, const char *account, const char *bucket,
		   const char *key, size_t max, struct str *out, const char **err_code)
{
	/* the S3 internals take a call: one with no request behind it */
	struct aws_call c = {.a = a, .fb = fb, .account = account, .now_ms = fb_wall_ms()};
	struct s3_bucket b;
	struct s3_object o;
	struct s3_reader r;
	c.in = jv_object(a);
	if (s3_enter(&c) < 0 || s3_bucket_find(&c, bucket, &b) < 0)
		goto fail;
	int found = s3_object_load(&c, b.id, key, NULL, &o);
	if (found < 0)
		goto fail;
	if (found == 0 || o.delete_marker) {
		*err_code = "NoSuchKey";
		return -1;
	}
	if ((uint64_t)o.size > max) {
		*err_code = "EntityTooLarge";
		return -1;
	}
	if (s3_object_reader(&c, &b, &o, 0, &r) < 0)
		goto fail;
	char *p = arena_alloc(a, (size_t)o.size + 1);
	size_t n = 0;
	while (n < (size_t)o.size) {
		ssize_t k = s3_reader_pread(&r, p + n, (size_t)o.size - n, n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	s3_reader_close(&r);
	if (n != (size_t)o.size) {
		*err_code = "InternalError";
		return -1;
	}
	p[n] = 0;
	*out = (struct str){p, n};
	return 0;
fail:
	*err_code = c.err_code ? c.err_code : "InternalError";
	return -1;
}
