/* regex.c - the regular expressions of filter patterns (%...%).
 *
 * AWS allows no groups, so an expression is a set of alternatives, each a
 * sequence of single-byte atoms with quantifiers. Counted repetition is
 * expanded at compile time into plain items (once, optional, any number),
 * which makes matching a forward-only state-set simulation: linear in the
 * subject, no backtracking, no allocation, nothing a hostile pattern can
 * blow up. */
#include "core/compat.h"
#include "svc/logs/filter.h"
#include <ctype.h>

enum re_kind { RE_ONE, RE_OPT, RE_STAR };

struct re_item {
	const uint8_t *set; /* 256-bit class */
	uint8_t kind;	    /* enum re_kind */
};

struct re_alt {
	struct re_item *items;
	size_t n;
	int bol, eol; /* ^ and $ anchors */
};

struct logs_re {
	struct re_alt *alts;
	size_t nalts;
};

#define RE_MAX_REPEAT 1000

static void set_add(uint8_t *set, unsigned c)
{
	set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int set_has(const uint8_t *set, unsigned c)
{
	return (set[c >> 3] >> (c & 7)) & 1;
}

/* class_escape: adds the class of escape letter e (d, w, s and their
 * negations) to set; 0, or -1 when e is not a class letter. */
static int class_escape(uint8_t *set, char e)
{
	uint8_t tmp[32] = {0};
	char lower = (char)tolower((unsigned char)e);
	for (unsigned c = 0; c < 128; c++) {
		int in = lower == 'd'	? isdigit((int)c)
			 : lower == 'w' ? (isalnum((int)c) || c == '_')
			 : lower == 's' ? (c == ' ' || (c >= '\t' && c <= '\r'))
					: -1;
		if (in < 0)
			return -1;
		if (in)
			set_add(tmp, c);
	}
	for (unsigned c = 0; c < 256; c++)
		if (set_has(tmp, c) != (e != lower)) /* upper case negates */
			set_add(set, c);
	return 0;
}

/* escape_char: the literal byte of a non-class escape \e, or -1 when e is
 * unsupported (a letter or digit that is not t, n, r). */
static int escape_char(char e)
{
	if (e == 't')
		return '\t';
	if (e == 'n')
		return '\n';
	if (e == 'r')
		return '\r';
	if (isalnum((unsigned char)e) || (unsigned char)e >= 0x80 || e == 0)
		return -1;
	return (unsigned char)e;
}

/* parse_escape: one escape after a backslash at *p into set; advances. */
static int parse_escape(const char **p, const char *end, uint8_t *set)
{
	if (*p >= end)
		return -1;
	char e = *(*p)++;
	if (class_escape(set, e) == 0)
		return 0;
	int c = escape_char(e);
	if (c < 0)
		return -1;
	set_add(set, (unsigned)c);
	return 0;
}

/* parse_class: a [...] class body after the '['; advances past ']'. */
static int parse_class(const char **pp, const char *end, uint8_t *set)
{
	const char *p = *pp;
	int neg = p < end && *p == '^';
	uint8_t tmp[32] = {0};
	if (neg)
		p++;
	int first = 1;
	while (p < end && (*p != ']' || first)) {
		first = 0;
		unsigned lo = (unsigned char)*p;
		if (lo >= 0x80)
			return -1;
		if (lo == '\\') {
			p++;
			if (p < end && class_escape(tmp, *p) == 0) {
				p++;
				continue;
			}
			if (p >= end || escape_char(*p) < 0)
				return -1;
			lo = (unsigned)escape_char(*p);
		}
		p++;
		unsigned hi = lo;
		if (p + 1 < end && *p == '-' && p[1] != ']') {
			hi = (unsigned char)p[1];
			p += 2;
			if (hi == '\\') {
				if (p >= end || escape_char(*p) < 0)
					return -1;
				hi = (unsigned)escape_char(*p++);
			}
			if (hi < lo || hi >= 0x80)
				return -1;
		}
		for (unsigned c = lo; c <= hi; c++)
			set_add(tmp, c);
	}
	if (p >= end)
		return -1; /* unterminated */
	*pp = p + 1;
	for (unsigned c = 0; c < 256; c++)
		if (set_has(tmp, c) != neg)
			set_add(set, c);
	return 0;
}

/* parse_count: {n}, {n,}, {n,m} after the '{'; sets *min and *max (-1 for
 * unbounded) and advances past '}'. */
static int parse_count(const char **pp, const char *end, int *min, int *max)
{
	const char *p = *pp;
	int v[2] = {-1, -1}, k = 0;
	for (; p < end && k < 2; p++) {
		if (isdigit((unsigned char)*p)) {
			v[k] = (v[k] < 0 ? 0 : v[k]) * 10 + (*p - '0');
			if (v[k] > RE_MAX_REPEAT)
				return -1;
		} else if (*p == ',' && k == 0 && v[0] >= 0) {
			k = 1;
		} else if (*p == '}' && v[0] >= 0) {
			*min = v[0];
			*max = k == 0 ? v[0] : v[1];
			if (*max >= 0 && *max < *min)
				return -1;
			*pp = p + 1;
			return 0;
		} else {
			return -1;
		}
	}
	return -1;
}

/* push: appends an item to alt, growing it in the arena; -1 past the cap. */
static int push(struct arena *a, struct re_alt *alt, size_t *cap, const uint8_t *set, int kind)
{
	if (alt->n >= LOGS_RE_MAX_ITEMS)
		return -1;
	if (alt->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		alt->items = arena_realloc(a, alt->items, *cap * sizeof(*alt->items),
					   ncap * sizeof(*alt->items));
		*cap = ncap;
	}
	alt->items[alt->n++] = (struct re_item){set, (uint8_t)kind};
	return 0;
}

/* parse_alt: one alternative p[0..n) (no '|') into alt. */
static int parse_alt(struct arena *a, const char *p, const char *end, struct re_alt *alt)
{
	size_t cap = 0;
	if (p < end && *p == '^') {
		alt->bol = 1;
		p++;
	}
	if (p < end && end[-1] == '$' && (end - 1 == p || end[-2] != '\\')) {
		alt->eol = 1;
		end--;
	}
	if (p == end)
		return -1; /* nothing to match: AWS rejects empty expressions */
	while (p < end) {
		uint8_t *set = arena_zalloc(a, 32);
		char c = *p++;
		if ((unsigned char)c >= 0x80 || c == '(' || c == ')' || c == '^' || c == '$' ||
		    c == '*' || c == '+' || c == '?' || c == '{' || c == '}')
			return -1; /* groups, stray anchors, quantifiers with no atom */
		if (c == '.') {
			for (unsigned b = 0; b < 256; b++)
				if (b != '\n')
					set_add(set, b);
		} else if (c == '[') {
			if (parse_class(&p, end, set) < 0)
				return -1;
		} else if (c == '\\') {
			if (parse_escape(&p, end, set) < 0)
				return -1;
		} else {
			set_add(set, (unsigned char)c);
		}
		int min = 1, max = 1;
		if (p < end && (*p == '*' || *p == '+' || *p == '?')) {
			min = *p == '+' ? 1 : 0;
			max = *p == '?' ? 1 : -1;
			p++;
		} else if (p < end && *p == '{') {
			p++;
			if (parse_count(&p, end, &min, &max) < 0)
				return -1;
		}
		if (min != 1 || max != 1) {
			if (p < end && *p == '?')
				p++; /* lazy: the same set of matches */
			if (p < end && (*p == '*' || *p == '+' || *p == '?' || *p == '{'))
				return -1;
		}
		for (int i = 0; i < min; i++)
			if (push(a, alt, &cap, set, RE_ONE) < 0)
				return -1;
		if (max < 0 && push(a, alt, &cap, set, RE_STAR) < 0)
			return -1;
		for (int i = min; max >= 0 && i < max; i++)
			if (push(a, alt, &cap, set, RE_OPT) < 0)
				return -1;
	}
	return 0;
}

struct logs_re *logs_re_compile(struct arena *a, const char *p, size_t n, const char **err)
{
	struct logs_re *re = arena_zalloc(a, sizeof(*re));
	size_t nalts = 1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '|')
			nalts++;
	}
	re->alts = arena_zalloc(a, nalts * sizeof(*re->alts));
	const char *start = p, *end = p + n, *q = p;
	for (;;) {
		if (q < end && *q == '\\') {
			q += 2; /* an escaped byte never splits */
			if (q > end)
				goto bad;
			continue;
		}
		if (q < end && *q != '|') {
			q++;
			continue;
		}
		if (parse_alt(a, start, q, &re->alts[re->nalts]) < 0)
			goto bad;
		re->nalts++;
		if (q >= end)
			break;
		start = ++q;
	}
	return re;
bad:
	if (err)
		*err = "invalid regular expression";
	return NULL;
}

/* closure: follows the empty moves (optional and starred items may be
 * skipped); moves only go forward, so one ascending pass suffices. */
static void closure(const struct re_alt *alt, uint8_t *st)
{
	for (size_t i = 0; i < alt->n; i++)
		if (st[i] && alt->items[i].kind != RE_ONE)
			st[i + 1] = 1;
}

/* alt_search: 1 when alt matches somewhere in s[0..n). */
static int alt_search(const struct re_alt *alt, const char *s, size_t n)
{
	uint8_t a[LOGS_RE_MAX_ITEMS + 1], b[LOGS_RE_MAX_ITEMS + 1];
	uint8_t *cur = a, *next = b;
	size_t k = alt->n;
	memset(cur, 0, k + 1);
	for (size_t pos = 0;; pos++) {
		if (pos == 0 || !alt->bol) {
			cur[0] = 1;
			closure(alt, cur);
		}
		if (cur[k] && (!alt->eol || pos == n))
			return 1;
		if (pos == n)
			return 0;
		unsigned c = (unsigned char)s[pos];
		int any = 0;
		memset(next, 0, k + 1);
		for (size_t i = 0; i < k; i++) {
			if (!cur[i] || !set_has(alt->items[i].set, c))
				continue;
			next[alt->items[i].kind == RE_STAR ? i : i + 1] = 1;
			any = 1;
		}
		if (!any && alt->bol)
			return 0; /* anchored and dead: no later start is allowed */
		closure(alt, next);
		uint8_t *t = cur;
		cur = next;
		next = t;
	}
}

int logs_re_search(const struct logs_re *re, const char *s, size_t n)
{
	for (size_t i = 0; i < re->nalts; i++)
		if (alt_search(&re->alts[i], s, n))
			return 1;
	return 0;
}
