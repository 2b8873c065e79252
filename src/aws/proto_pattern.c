/* proto_pattern.c - a tiny matcher for the regular expressions in the AWS
 * models' "pattern" traits. It compiles the pattern into a chain of
 * character classes, each taken once, optionally, or any number of times,
 * and runs that chain as an NFA over the code points of the text (every
 * live state at once, so there is no backtracking blow-up). Anything it
 * cannot model exactly is reported as undecidable, never guessed. */
#include "core/compat.h"
#include "aws/proto_pattern.h"
#include "aws/fmt.h"

#define MAX_RANGES 32
#define MAX_CLASSES 64
#define MAX_ITEMS 256
#define MAX_WORK 4000000 /* text code points x chain items */
#define CP_MAX 0x10FFFF

struct cls {
	uint32_t lo[MAX_RANGES], hi[MAX_RANGES];
	int n;
	int neg;
};

enum { Q_ONE, Q_OPT, Q_STAR };

struct prog {
	struct cls cls[MAX_CLASSES];
	int ncls;
	uint8_t item_cls[MAX_ITEMS];
	uint8_t item_q[MAX_ITEMS];
	int nit;
};

/* add_range: appends [lo, hi] to c; -1 when full. */
static int add_range(struct cls *c, uint32_t lo, uint32_t hi)
{
	if (c->n >= MAX_RANGES)
		return -1;
	c->lo[c->n] = lo;
	c->hi[c->n] = hi;
	c->n++;
	return 0;
}

/* add_shorthand: the ranges of \d \D \w \W \s \S. */
static int add_shorthand(struct cls *c, char k)
{
	static const uint32_t d[] = {'0', '9'};
	static const uint32_t nd[] = {0, '0' - 1, '9' + 1, CP_MAX};
	static const uint32_t w[] = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
	static const uint32_t nw[] = {0,       '0' - 1, '9' + 1, 'A' - 1, 'Z' + 1,
				      '_' - 1, '_' + 1, 'a' - 1, 'z' + 1, CP_MAX};
	static const uint32_t s[] = {'\t', '\r', ' ', ' '};
	static const uint32_t ns[] = {0, '\t' - 1, '\r' + 1, ' ' - 1, ' ' + 1, CP_MAX};
	const uint32_t *r;
	size_t n;

	switch (k) {
	case 'd':
		r = d, n = FB_ARRAY_LEN(d);
		break;
	case 'D':
		r = nd, n = FB_ARRAY_LEN(nd);
		break;
	case 'w':
		r = w, n = FB_ARRAY_LEN(w);
		break;
	case 'W':
		r = nw, n = FB_ARRAY_LEN(nw);
		break;
	case 's':
		r = s, n = FB_ARRAY_LEN(s);
		break;
	case 'S':
		r = ns, n = FB_ARRAY_LEN(ns);
		break;
	default:
		return -1;
	}
	for (size_t i = 0; i < n; i += 2)
		if (add_range(c, r[i], r[i + 1]) < 0)
			return -1;
	return 0;
}

/* hexval: value of n hex digits at p, or -1. */
static long hexval(const char *p, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		char ch = p[i];
		int d = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
						 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* decode_cp: the code point of the UTF-8 sequence at p (n bytes left);
 * sets *len. -1 when ill-formed. */
static long decode_cp(const char *p, size_t n, size_t *len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t k;

	if (u[0] < 0x80) {
		*len = 1;
		return u[0];
	}
	k = fmt_utf8_seq(u, n);
	if (!k)
		return -1;
	*len = k;
	if (k == 2)
		return ((long)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
	if (k == 3)
		return ((long)(u[0] & 0x0f) << 12) | ((long)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
	return ((long)(u[0] & 0x07) << 18) | ((long)(u[1] & 0x3f) << 12) |
	       ((long)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
}

/* parse_escape: the escape after a '\' at *pp. Sets *cp for a single code
 * point (returns 0), or adds a shorthand set to c (returns 1); -1 when
 * unsupported. Advances *pp past it. */
static int parse_escape(const char **pp, const char *end, struct cls *c, long *cp)
{
	const char *p = *pp;
	char k;

	if (p >= end)
		return -1;
	k = *p++;
	*pp = p;
	switch (k) {
	case 'd':
	case 'D':
	case 'w':
	case 'W':
	case 's':
	case 'S':
		return add_shorthand(c, k) < 0 ? -1 : 1;
	case 't':
		*cp = '\t';
		return 0;
	case 'n':
		*cp = '\n';
		return 0;
	case 'r':
		*cp = '\r';
		return 0;
	case 'f':
		*cp = '\f';
		return 0;
	case 'x':
		if (end - p < 2 || (*cp = hexval(p, 2)) < 0)
			return -1;
		*pp = p + 2;
		return 0;
	case 'u':
		if (end - p < 4 || (*cp = hexval(p, 4)) < 0)
			return -1;
		if (*cp >= 0xD800 && *cp <= 0xDFFF) /* surrogate pairs: not modelled */
			return -1;
		*pp = p + 4;
		return 0;
	default:
		/* escaped punctuation is the character itself */
		if ((k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') ||
		    (unsigned char)k >= 0x80)
			return -1;
		*cp = (unsigned char)k;
		return 0;
	}
}

/* parse_class: a bracket class at *pp (just after '[') into c. */
static int parse_class(const char **pp, const char *end, struct cls *c)
{
	const char *p = *pp;
	int first = 1;

	if (p < end && *p == '^') {
		c->neg = 1;
		p++;
	}
	for (;;) {
		long lo, hi;
		size_t len;
		int r;

		if (p >= end)
			return -1;
		if (*p == ']' && !first)
			break;
		if (*p == '[' || *p == ']' || (*p == '&' && p + 1 < end && p[1] == '&'))
			return -1; /* nested classes, intersections, "[]" */
		first = 0;
		if (*p == '\\') {
			p++;
			r = parse_escape(&p, end, c, &lo);
			if (r < 0)
				return -1;
			if (r == 1) {
				if (p < end && *p == '-' && p + 1 < end && p[1] != ']')
					return -1; /* "\w-x": Java's reading is odd */
				continue;
			}
		} else {
			if ((lo = decode_cp(p, (size_t)(end - p), &len)) < 0)
				return -1;
			p += len;
		}
		hi = lo;
		if (p + 1 < end && *p == '-' && p[1] != ']') {
			p++;
			if (*p == '\\') {
				struct cls dummy = {0};
				p++;
				if (parse_escape(&p, end, &dummy, &hi) != 0)
					return -1;
			} else {
				if (*p == '[' || (hi = decode_cp(p, (size_t)(end - p), &len)) < 0)
					return -1;
				p += len;
			}
			if (hi < lo)
				return -1;
		}
		if (add_range(c, (uint32_t)lo, (uint32_t)hi) < 0)
			return -1;
	}
	*pp = p + 1;
	return 0;
}

/* parse_count: "{m}", "{m,}" or "{m,n}" at *pp (just after '{'). */
static int parse_count(const char **pp, const char *end, int *min, int *max)
{
	const char *p = *pp;
	long a = 0, b;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9' && a < 100000)
		a = a * 10 + (*p++ - '0');
	b = a;
	if (p < end && *p == ',') {
		p++;
		if (p < end && *p == '}') {
			b = -1;
		} else {
			b = 0;
			if (p >= end || *p < '0' || *p > '9')
				return -1;
			while (p < end && *p >= '0' && *p <= '9' && b < 100000)
				b = b * 10 + (*p++ - '0');
			if (b < a)
				return -1;
		}
	}
	if (p >= end || *p != '}' || a > MAX_ITEMS || b > MAX_ITEMS)
		return -1;
	*pp = p + 1;
	*min = (int)a;
	*max = (int)b;
	return 0;
}

/* emit: appends the items of one quantified atom (class ci). */
static int emit(struct prog *g, int ci, int min, int max)
{
	int total = min + (max < 0 ? 1 : max - min);

	if (g->nit + total > MAX_ITEMS)
		return -1;
	for (int i = 0; i < min; i++) {
		g->item_cls[g->nit] = (uint8_t)ci;
		g->item_q[g->nit++] = Q_ONE;
	}
	if (max < 0) {
		g->item_cls[g->nit] = (uint8_t)ci;
		g->item_q[g->nit++] = Q_STAR;
	} else {
		for (int i = min; i < max; i++) {
			g->item_cls[g->nit] = (uint8_t)ci;
			g->item_q[g->nit++] = Q_OPT;
		}
	}
	return 0;
}

/* compile: pattern -> chain; -1 when not modelled. */
static int compile(struct prog *g, const char *pat)
{
	const char *p = pat, *end = pat + strlen(pat);

	if (p < end && *p == '^')
		p++;
	if (end > p && end[-1] == '$' && (end - p < 2 || end[-2] != '\\'))
		end--;
	while (p < end) {
		struct cls *c;
		int min = 1, max = 1;
		long cp;
		size_t len;

		if (g->ncls >= MAX_CLASSES)
			return -1;
		c = &g->cls[g->ncls];
		memset(c, 0, sizeof(*c));
		switch (*p) {
		case '(':
		case ')':
		case '|':
		case '^':
		case '$':
		case '*':
		case '+':
		case '?':
		case '{':
			return -1;
		case '[':
			p++;
			if (parse_class(&p, end, c) < 0)
				return -1;
			break;
		case '.':
			/* any character but Java's line terminators */
			c->neg = 1;
			add_range(c, '\n', '\n');
			add_range(c, '\r', '\r');
			add_range(c, 0x85, 0x85);
			add_range(c, 0x2028, 0x2029);
			p++;
			break;
		case '\\':
			p++;
			switch (parse_escape(&p, end, c, &cp)) {
			case 0:
				add_range(c, (uint32_t)cp, (uint32_t)cp);
				break;
			case 1:
				break;
			default:
				return -1;
			}
			break;
		default:
			if ((cp = decode_cp(p, (size_t)(end - p), &len)) < 0)
				return -1;
			add_range(c, (uint32_t)cp, (uint32_t)cp);
			p += len;
			break;
		}
		if (p < end) {
			if (*p == '?') {
				min = 0, max = 1, p++;
			} else if (*p == '*') {
				min = 0, max = -1, p++;
			} else if (*p == '+') {
				min = 1, max = -1, p++;
			} else if (*p == '{') {
				p++;
				if (parse_count(&p, end, &min, &max) < 0)
					return -1;
			}
			if (p < end && *p == '+' && (min != 1 || max != 1))
				return -1; /* possessive */
			if (p < end && *p == '?' && (min != 1 || max != 1))
				p++; /* lazy: the same strings match as a whole */
		}
		if (emit(g, g->ncls, min, max) < 0)
			return -1;
		g->ncls++;
	}
	return 0;
}

/* cls_has: whether class c holds code point cp. */
static int cls_has(const struct cls *c, uint32_t cp)
{
	for (int i = 0; i < c->n; i++)
		if (cp >= c->lo[i] && cp <= c->hi[i])
			return !c->neg;
	return c->neg;
}

#define WORDS ((MAX_ITEMS + 1 + 63) / 64)

/* closure: adds the states reachable by skipping optional items (edges
 * only go forward, so one ascending pass is enough). */
static void closure(const struct prog *g, uint64_t *s)
{
	for (int i = 0; i < g->nit; i++)
		if ((s[i / 64] >> (i % 64) & 1) && g->item_q[i] != Q_ONE)
			s[(i + 1) / 64] |= 1ULL << ((i + 1) % 64);
}

/* proto_pattern_match: see proto_pattern.h. */
int proto_pattern_match(const char *pattern, const char *p, size_t n)
{
	struct prog g;
	uint64_t cur[WORDS] = {0}, nxt[WORDS];
	size_t i = 0;

	g.ncls = g.nit = 0;
	if (!pattern || compile(&g, pattern) < 0)
		return -1;
	if ((double)n * (g.nit + 1) > MAX_WORK)
		return -1;
	cur[0] = 1;
	closure(&g, cur);
	while (i < n) {
		size_t len;
		long cp = decode_cp(p + i, n - i, &len);
		int any = 0;

		if (cp < 0)
			return -1;
		i += len;
		memset(nxt, 0, sizeof(nxt));
		for (int k = 0; k < g.nit; k++) {
			if (!(cur[k / 64] >> (k % 64) & 1) ||
			    !cls_has(&g.cls[g.item_cls[k]], (uint32_t)cp))
				continue;
			int to = g.item_q[k] == Q_STAR ? k : k + 1;
			nxt[to / 64] |= 1ULL << (to % 64);
			any = 1;
		}
		if (!any)
			return 0;
		closure(&g, nxt);
		memcpy(cur, nxt, sizeof(cur));
	}
	return (int)(cur[g.nit / 64] >> (g.nit % 64) & 1);
}
