/* xml.c - XML writer and a non-validating, DTD-less parser into a tree.
 * The parser is iterative (an explicit stack of open elements) so depth is
 * bounded by XML_MAX_DEPTH rather than by the C stack. */
#include "aws/xml.h"
#include "aws/fmt.h"
#include <strings.h>

/* struct acc: character data being collected. While cap == 0 it is a view
 * of the input (zero copy for the usual single run); the first append
 * that cannot extend that view moves it into an arena buffer that then
 * grows by doubling. */
struct acc {
	const char *p;
	size_t n;
	char *buf;
	size_t cap;
};

struct frame {
	struct xml_node *node;
	struct str qname;      /* prefixed name, to match the end tag */
	struct xml_node *last; /* last child, for O(1) append */
	struct acc text;
};

struct xp {
	const char *p, *end;
	struct arena *a;
	const char *err;
	int depth;
	struct frame st[XML_MAX_DEPTH];
};

/* fail: records the first error; returns -1. */
static int fail(struct xp *x, const char *msg)
{
	if (!x->err)
		x->err = msg;
	return -1;
}

/* starts: 1 when the input at the cursor begins with lit (n bytes). */
static int starts(const struct xp *x, const char *lit, size_t n)
{
	return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

/* is_ws: the four XML whitespace bytes. */
static inline int is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* skip_ws: advances over whitespace; returns how many bytes it skipped. */
static size_t skip_ws(struct xp *x)
{
	const char *s = x->p;
	while (x->p < x->end && is_ws((unsigned char)*x->p))
		x->p++;
	return (size_t)(x->p - s);
}

/* acc_add: appends s[0..n); stable says s lies in the input (so it may be
 * kept as a view), as opposed to a temporary. */
static void acc_add(struct xp *x, struct acc *t, const char *s, size_t n, int stable)
{
	if (n == 0)
		return;
	if (t->n == 0 && stable) {
		t->p = s;
		t->n = n;
		return;
	}
	if (t->cap < t->n + n) { /* also true for a view (cap 0) */
		size_t cap = t->cap ? t->cap : 32;
		while (cap < t->n + n)
			cap *= 2;
		char *nb = arena_alloc(x->a, cap);
		if (t->n)
			memcpy(nb, t->p, t->n);
		t->buf = nb;
		t->p = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->n, s, n);
	t->n += n;
}

/* acc_str: the collected text as a view ("" when empty). */
static struct str acc_str(const struct acc *t)
{
	return t->n ? (struct str){t->p, t->n} : STR_LIT("");
}

/* add_chars: checks s[0..n) holds only characters XML 1.0 allows and
 * appends it to t, turning CR LF and lone CR into LF; in an attribute
 * value (attr) tab, LF and CR then become a space as the spec says. */
static int add_chars(struct xp *x, struct acc *t, const char *s, size_t n, int attr)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const char *run = s;
	while (p < end) {
		unsigned char c = *p;
		if ((c >= 0x20 && c < 0x80) || (c == '\n' && !attr) || (c == '\t' && !attr)) {
			p++;
		} else if (c >= 0x80) {
			size_t k = fmt_utf8_seq(p, (size_t)(end - p));
			if (!k || (k == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))
				return fail(x, "xml: invalid character or UTF-8");
			p += k;
		} else if (c == '\r' || c == '\n' || c == '\t') {
			/* here: CR in text; CR, LF or tab in an attribute value */
			int crlf = c == '\r' && p + 1 < end && p[1] == '\n';
			acc_add(x, t, run, (size_t)((const char *)p - run), 1);
			if (attr) {
				acc_add(x, t, " ", 1, 0);
				p += 1 + crlf;
			} else if (crlf) {
				p++; /* drop the CR; the LF starts the next run */
			} else {
				acc_add(x, t, "\n", 1, 0);
				p++;
			}
			run = (const char *)p;
		} else {
			return fail(x, "xml: control character");
		}
	}
	acc_add(x, t, run, (size_t)((const char *)p - run), 1);
	return 0;
}

/* entity: decodes the reference at the cursor ('&') and appends it to t. */
static int entity(struct xp *x, struct acc *t)
{
	const char *p = x->p + 1;
	size_t avail = (size_t)(x->end - p);
	const char *semi = memchr(p, ';', avail < 32 ? avail : 32);
	if (!semi)
		return fail(x, "xml: bad entity reference");
	size_t n = (size_t)(semi - p);
	char out[4];
	size_t outn = 1;
	if (n == 2 && memcmp(p, "lt", 2) == 0) {
		out[0] = '<';
	} else if (n == 2 && memcmp(p, "gt", 2) == 0) {
		out[0] = '>';
	} else if (n == 3 && memcmp(p, "amp", 3) == 0) {
		out[0] = '&';
	} else if (n == 4 && memcmp(p, "quot", 4) == 0) {
		out[0] = '"';
	} else if (n == 4 && memcmp(p, "apos", 4) == 0) {
		out[0] = '\'';
	} else if (n >= 2 && p[0] == '#') {
		int hex = p[1] == 'x';
		uint32_t cp = 0;
		size_t i = 1 + (size_t)hex;
		if (i == n)
			return fail(x, "xml: bad character reference");
		for (; i < n; i++) {
			unsigned c = (unsigned char)p[i], d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				return fail(x, "xml: bad character reference");
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10ffff)
				return fail(x, "xml: bad character reference");
		}
		if (!(cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
		      (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000))
			return fail(x, "xml: character reference to a forbidden character");
		outn = fmt_utf8_put(out, cp);
	} else {
		return fail(x, "xml: unknown entity");
	}
	acc_add(x, t, out, outn, 0);
	x->p = semi + 1;
	return 0;
}

/* parse_name: a (possibly prefixed) name at the cursor into qname, with its
 * part after the colon in local. At most one colon, not at either end. */
static int parse_name(struct xp *x, struct str *qname, struct str *local)
{
	const char *s = x->p, *p = s, *colon = NULL;
	int colons = 0;
	while (p < x->end) {
		unsigned char c = (unsigned char)*p;
		if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_') {
			p++;
		} else if (p > s && ((c >= '0' && c <= '9') || c == '-' || c == '.')) {
			p++;
		} else if (c == ':') {
			colon = p++;
			colons++;
		} else if (c >= 0x80) {
			size_t k = fmt_utf8_seq((const unsigned char *)p, (size_t)(x->end - p));
			if (!k)
				return fail(x, "xml: invalid UTF-8 in a name");
			p += k;
		} else {
			break;
		}
	}
	if (p == s)
		return fail(x, "xml: expected a name");
	if (colons > 1 || colon == s || colon == p - 1)
		return fail(x, "xml: bad qualified name");
	*qname = (struct str){s, (size_t)(p - s)};
	*local = colon ? (struct str){colon + 1, (size_t)(p - colon - 1)} : *qname;
	x->p = p;
	return 0;
}

/* skip_to: moves the cursor past the first lit (n bytes) at or after from;
 * fails with msg when there is none. */
static int skip_to(struct xp *x, const char *from, const char *lit, size_t n, const char *msg)
{
	const char *q = memmem(from, (size_t)(x->end - from), lit, n);
	if (!q)
		return fail(x, msg);
	x->p = q + n;
	return 0;
}

/* skip_comment: at "<!--"; "--" may only appear as part of the "-->". */
static int skip_comment(struct xp *x)
{
	const char *q = memmem(x->p + 4, (size_t)(x->end - x->p - 4), "--", 2);
	if (!q || q + 2 >= x->end || q[2] != '>')
		return fail(x, "xml: bad or unterminated comment");
	x->p = q + 3;
	return 0;
}

/* skip_pi: at "<?"; a processing instruction other than the declaration. */
static int skip_pi(struct xp *x)
{
	struct str q, l;
	x->p += 2;
	if (parse_name(x, &q, &l) < 0)
		return -1;
	if (q.n == 3 && strncasecmp(q.p, "xml", 3) == 0)
		return fail(x, "xml: misplaced XML declaration");
	if (x->p < x->end && !is_ws((unsigned char)*x->p) && !starts(x, "?>", 2))
		return fail(x, "xml: bad processing instruction");
	return skip_to(x, x->p, "?>", 2, "xml: unterminated processing instruction");
}

/* misc: skips whitespace, comments and PIs (prolog and epilog); rejects
 * DOCTYPE and other declarations. Stops at anything else. */
static int misc(struct xp *x)
{
	for (;;) {
		skip_ws(x);
		if (starts(x, "<!--", 4)) {
			if (skip_comment(x) < 0)
				return -1;
		} else if (starts(x, "<?", 2)) {
			if (skip_pi(x) < 0)
				return -1;
		} else if (starts(x, "<!DOCTYPE", 9)) {
			return fail(x, "xml: DOCTYPE is not allowed");
		} else if (starts(x, "<!", 2)) {
			return fail(x, "xml: unexpected declaration");
		} else {
			return 0;
		}
	}
}

/* parse_attr_value: a quoted value at the cursor into *out. */
static int parse_attr_value(struct xp *x, struct str *out)
{
	struct acc t = {0};
	char quote = *x->p++;
	for (;;) {
		if (x->p >= x->end)
			return fail(x, "xml: unterminated attribute value");
		char c = *x->p;
		if (c == quote) {
			x->p++;
			break;
		}
		if (c == '<')
			return fail(x, "xml: '<' in an attribute value");
		if (c == '&') {
			if (entity(x, &t) < 0)
				return -1;
			continue;
		}
		const char *s = x->p;
		while (x->p < x->end && *x->p != quote && *x->p != '<' && *x->p != '&')
			x->p++;
		if (add_chars(x, &t, s, (size_t)(x->p - s), 1) < 0)
			return -1;
	}
	*out = acc_str(&t);
	return 0;
}

/* is_xmlns: 1 for "xmlns" and "xmlns:p" attribute names. */
static int is_xmlns(struct str q)
{
	return (q.n == 5 || (q.n > 6 && q.p[5] == ':')) && memcmp(q.p, "xmlns", 5) == 0;
}

/* parse_attrs: attributes up to '>' or "/>" of the start tag of node;
 * *self_close tells which. Names are qualified until all are read (for
 * the duplicate check), then reduced to local names. */
static int parse_attrs(struct xp *x, struct xml_node *node, int *self_close)
{
	size_t cap = 0;
	for (;;) {
		size_t ws = skip_ws(x);
		if (x->p >= x->end)
			return fail(x, "xml: unterminated start tag");
		if (*x->p == '>') {
			x->p++;
			*self_close = 0;
			break;
		}
		if (starts(x, "/>", 2)) {
			x->p += 2;
			*self_close = 1;
			break;
		}
		if (!ws)
			return fail(x, "xml: expected whitespace, '>' or '/>'");
		struct str q, l, v;
		if (parse_name(x, &q, &l) < 0)
			return -1;
		skip_ws(x);
		if (x->p >= x->end || *x->p != '=')
			return fail(x, "xml: expected '=' after an attribute name");
		x->p++;
		skip_ws(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return fail(x, "xml: expected a quoted attribute value");
		if (parse_attr_value(x, &v) < 0)
			return -1;
		for (size_t i = 0; i < node->nattrs; i++)
			if (str_eq(node->attrs[i].name, q))
				return fail(x, "xml: duplicate attribute");
		if (node->nattrs == cap) {
			if (cap >= 1024)
				return fail(x, "xml: too many attributes");
			size_t nc = cap ? cap * 2 : 4;
			node->attrs = arena_realloc(x->a, node->attrs, cap * sizeof(*node->attrs),
						    nc * sizeof(*node->attrs));
			cap = nc;
		}
		node->attrs[node->nattrs++] = (struct xml_attr){q, v};
	}
	for (size_t i = 0; i < node->nattrs; i++) {
		struct str *nm = &node->attrs[i].name;
		const char *colon = memchr(nm->p, ':', nm->n);
		if (colon && !is_xmlns(*nm))
			*nm = (struct str){colon + 1, nm->n - (size_t)(colon + 1 - nm->p)};
	}
	return 0;
}

/* start_tag: at '<' + name; creates the node, links it under the open
 * element and pushes it unless it is self-closing. */
static int start_tag(struct xp *x, struct xml_node **root)
{
	struct str q, l;
	int self_close;
	if (x->depth >= XML_MAX_DEPTH)
		return fail(x, "xml: nesting too deep");
	x->p++;
	if (parse_name(x, &q, &l) < 0)
		return -1;
	struct xml_node *node = arena_zalloc(x->a, sizeof(*node));
	node->name = l;
	node->text = STR_LIT("");
	if (parse_attrs(x, node, &self_close) < 0)
		return -1;
	if (x->depth == 0) {
		*root = node;
	} else {
		struct frame *parent = &x->st[x->depth - 1];
		if (parent->last)
			parent->last->next = node;
		else
			parent->node->child = node;
		parent->last = node;
	}
	if (!self_close)
		x->st[x->depth++] = (struct frame){node, q, NULL, {0}};
	return 0;
}

/* end_tag: at "</"; must name the innermost open element. */
static int end_tag(struct xp *x)
{
	struct str q, l;
	x->p += 2;
	if (parse_name(x, &q, &l) < 0)
		return -1;
	struct frame *f = &x->st[x->depth - 1];
	if (!str_eq(q, f->qname))
		return fail(x, "xml: mismatched end tag");
	skip_ws(x);
	if (x->p >= x->end || *x->p != '>')
		return fail(x, "xml: expected '>'");
	x->p++;
	f->node->text = acc_str(&f->text);
	x->depth--;
	return 0;
}

/* content: character data and entities up to the next '<' into the text of
 * the innermost open element. */
static int content(struct xp *x)
{
	struct acc *t = &x->st[x->depth - 1].text;
	while (x->p < x->end && *x->p != '<') {
		if (*x->p == '&') {
			if (entity(x, t) < 0)
				return -1;
			continue;
		}
		const char *s = x->p;
		while (x->p < x->end && *x->p != '<' && *x->p != '&')
			x->p++;
		if (add_chars(x, t, s, (size_t)(x->p - s), 0) < 0)
			return -1;
	}
	return 0;
}

/* parse_tree: from the root's '<' through its end tag. */
static struct xml_node *parse_tree(struct xp *x)
{
	struct xml_node *root = NULL;
	int rc = start_tag(x, &root);
	while (rc == 0 && x->depth > 0) {
		rc = content(x);
		if (rc < 0)
			break;
		if (x->p >= x->end)
			rc = fail(x, "xml: unclosed element");
		else if (starts(x, "</", 2))
			rc = end_tag(x);
		else if (starts(x, "<!--", 4))
			rc = skip_comment(x);
		else if (starts(x, "<![CDATA[", 9)) {
			const char *s = x->p + 9;
			rc = skip_to(x, s, "]]>", 3, "xml: unterminated CDATA section");
			if (rc == 0)
				rc = add_chars(x, &x->st[x->depth - 1].text, s,
					       (size_t)(x->p - 3 - s), 0);
		} else if (starts(x, "<?", 2))
			rc = skip_pi(x);
		else if (starts(x, "<!", 2))
			rc = fail(x, "xml: declaration inside an element");
		else
			rc = start_tag(x, &root);
	}
	return rc == 0 ? root : NULL;
}

/* xml_parse: see xml.h. */
struct xml_node *xml_parse(struct arena *a, const char *p, size_t n, const char **err)
{
	struct xp x;
	struct xml_node *root = NULL;
	if (!p)
		p = ""; /* NULL + 0 is undefined; n is 0 then */
	x.p = p;
	x.end = p + n;
	x.a = a;
	x.err = NULL;
	x.depth = 0;
	if (starts(&x, "\xef\xbb\xbf", 3))
		x.p += 3;
	if (starts(&x, "<?xml", 5) &&
	    (x.end - x.p == 5 || is_ws((unsigned char)x.p[5]) || x.p[5] == '?'))
		skip_to(&x, x.p + 5, "?>", 2, "xml: unterminated XML declaration");
	if (!x.err && misc(&x) == 0) {
		if (x.p >= x.end || *x.p != '<' || starts(&x, "</", 2))
			fail(&x, "xml: no root element");
		else
			root = parse_tree(&x);
	}
	if (root && misc(&x) == 0 && x.p != x.end)
		fail(&x, "xml: trailing data after the root element");
	if (x.err)
		root = NULL;
	if (!root && err)
		*err = x.err ? x.err : "xml: parse error";
	return root;
}

/* xml_child: see xml.h. */
struct xml_node *xml_child(const struct xml_node *node, const char *name)
{
	if (!node)
		return NULL;
	struct str want = str_c(name);
	for (struct xml_node *c = node->child; c; c = c->next)
		if (str_eq(c->name, want))
			return c;
	return NULL;
}

/* xml_child_text: see xml.h. */
struct str xml_child_text(const struct xml_node *node, const char *name)
{
	struct xml_node *c = xml_child(node, name);
	return c ? c->text : STR_NULL;
}

/* xml_attr_get: see xml.h. */
struct str xml_attr_get(const struct xml_node *node, const char *name)
{
	struct str want = str_c(name);
	for (size_t i = 0; node && i < node->nattrs; i++)
		if (str_eq(node->attrs[i].name, want))
			return node->attrs[i].value;
	return STR_NULL;
}

/* esc: replacement text for ASCII bytes xml_text must not copy as is;
 * control bytes without an entry become U+FFFD. */
static const char *const esc[128] = {
    ['&'] = "&amp;",   ['<'] = "&lt;",	 ['>'] = "&gt;",   ['"'] = "&quot;",
    ['\''] = "&apos;", ['\t'] = "&#x9;", ['\n'] = "&#xA;", ['\r'] = "&#xD;",
};

/* xml_text: see xml.h. */
void xml_text(struct buf *b, const char *p, size_t n)
{
	static const char fffd[] = "\xef\xbf\xbd";
	if (n == 0)
		return;
	const unsigned char *s = (const unsigned char *)p, *end = s + n, *run = s;
	buf_reserve(b, n);
	while (s < end) {
		unsigned char c = *s;
		const char *rep;
		size_t skip = 1;
		if (c >= 0x80) {
			size_t k = fmt_utf8_seq(s, (size_t)(end - s));
			if (k && !(k == 3 && c == 0xef && s[1] == 0xbf && s[2] >= 0xbe)) {
				s += k;
				continue;
			}
			rep = fffd;
			skip = k ? k : 1; /* U+FFFE/U+FFFF as a whole, else one byte */
		} else if (c >= 0x20 && !esc[c]) {
			s++;
			continue;
		} else {
			rep = esc[c] ? esc[c] : fffd;
		}
		buf_append(b, run, (size_t)(s - run));
		buf_puts(b, rep);
		s += skip;
		run = s;
	}
	buf_append(b, run, (size_t)(end - run));
}

/* xml_open: see xml.h. */
void xml_open(struct buf *b, const char *name)
{
	buf_putc(b, '<');
	buf_puts(b, name);
	buf_putc(b, '>');
}

/* xml_open_ns: see xml.h. */
void xml_open_ns(struct buf *b, const char *name, const char *ns)
{
	if (!ns) {
		xml_open(b, name);
		return;
	}
	buf_putc(b, '<');
	buf_puts(b, name);
	buf_append(b, " xmlns=\"", 8);
	xml_text(b, ns, strlen(ns));
	buf_append(b, "\">", 2);
}

/* xml_close: see xml.h. */
void xml_close(struct buf *b, const char *name)
{
	buf_append(b, "</", 2);
	buf_puts(b, name);
	buf_putc(b, '>');
}

/* xml_elem: see xml.h. */
void xml_elem(struct buf *b, const char *name, const char *p, size_t n)
{
	xml_open(b, name);
	xml_text(b, p, n);
	xml_close(b, name);
}

/* xml_elem_c: see xml.h. */
void xml_elem_c(struct buf *b, const char *name, const char *s)
{
	if (s)
		xml_elem(b, name, s, strlen(s));
}

/* xml_empty: see xml.h. */
void xml_empty(struct buf *b, const char *name)
{
	buf_putc(b, '<');
	buf_puts(b, name);
	buf_append(b, "/>", 2);
}
