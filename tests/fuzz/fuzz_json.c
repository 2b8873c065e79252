/* fuzz_json.c - libFuzzer target for src/aws/json.c: parse the input; when
 * it parses, its serialization must parse again and serialize to the same
 * bytes. Also: any bytes written with json_write_str must parse back as a
 * string, equal to the input when that is valid UTF-8, and writing that
 * string must be a fixed point. */
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/json.h"
#include "aws/fmt.h"
#include <stdlib.h>

/* valid_utf8: 1 when p[0..n) is entirely well-formed UTF-8. */
static int valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = p[i] < 0x80 ? 1 : fmt_utf8_seq(p + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

/* same: 1 when the two buffers hold the same bytes. */
static int same(const struct buf *x, const struct buf *y)
{
	return x->n == y->n && (x->n == 0 || memcmp(x->p, y->p, x->n) == 0);
}

/* roundtrip: parses b1 and writes the result into b2; aborts on failure. */
static const struct jv *roundtrip(struct arena *a, const struct buf *b1, struct buf *b2)
{
	const char *err = NULL;
	struct jv *w = json_parse(a, b1->p, b1->n, &err);
	if (!w)
		abort();
	buf_clear(b2);
	json_write(b2, w);
	return w;
}

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	static struct buf b1, b2, b3;
	if (!a)
		a = arena_new(1 << 16);
	arena_reset(a);
	const char *err = NULL;
	struct jv *v = json_parse(a, (const char *)data, size, &err);
	if (!v && !err)
		abort();
	if (v) {
		buf_clear(&b1);
		json_write(&b1, v);
		roundtrip(a, &b1, &b2);
		if (!same(&b1, &b2))
			abort();
	}
	buf_clear(&b1);
	json_write_str(&b1, (const char *)data, size);
	const struct jv *s = roundtrip(a, &b1, &b2);
	if (s->type != JV_STRING)
		abort();
	if (valid_utf8(data, size) &&
	    (s->u.s.n != size || (size && memcmp(s->u.s.p, data, size) != 0) || !same(&b1, &b2)))
		abort();
	roundtrip(a, &b2, &b3);
	if (!same(&b2, &b3))
		abort();
	return 0;
}
