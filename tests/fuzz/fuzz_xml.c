/* fuzz_xml.c - libFuzzer target for src/aws/xml.c: parse the input and walk
 * every view of the tree (so ASan sees any dangling one); then check that
 * any bytes escaped by xml_text parse back as element text whose escaping
 * is the same again. */
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/xml.h"
#include <stdlib.h>

/* touch: sums the bytes of a view so every one of them is read. */
static unsigned touch(struct str s)
{
	unsigned h = 0;
	for (size_t i = 0; i < s.n; i++)
		h += (unsigned char)s.p[i];
	return h;
}

/* walk: touches every name, text and attribute under n (depth-bounded by
 * the parser, so recursion is fine). */
static unsigned walk(const struct xml_node *n)
{
	unsigned h = 0;
	for (; n; n = n->next) {
		if (n->name.n == 0 || !n->text.p)
			abort();
		h += touch(n->name) + touch(n->text);
		for (size_t i = 0; i < n->nattrs; i++)
			h += touch(n->attrs[i].name) + touch(n->attrs[i].value);
		h += walk(n->child);
	}
	return h;
}

/* fuzz_xml_sink: keeps walk's reads from being optimised away. */
volatile unsigned fuzz_xml_sink;

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	static struct buf b1, b2, b3;
	if (!a)
		a = arena_new(1 << 16);
	arena_reset(a);
	const char *err = NULL;
	struct xml_node *root = xml_parse(a, (const char *)data, size, &err);
	if (!root && !err)
		abort();
	if (root)
		fuzz_xml_sink = walk(root);
	buf_clear(&b1);
	buf_puts(&b1, "<x:a xmlns:x=\"u\">");
	xml_text(&b1, (const char *)data, size);
	buf_puts(&b1, "</x:a>");
	root = xml_parse(a, b1.p, b1.n, &err);
	if (!root || root->child || !str_eq_c(root->name, "a"))
		abort();
	/* root->text may view b1, so the comparison goes through b2 and b3 */
	buf_clear(&b2);
	buf_clear(&b3);
	xml_text(&b2, (const char *)data, size);
	xml_text(&b3, root->text.p, root->text.n);
	if (b2.n != b3.n || (b2.n && memcmp(b2.p, b3.p, b2.n) != 0))
		abort();
	return 0;
}
