/* parse.c - HTTP/1.x request head parser. Pure: no allocation, no state
 * between calls; the caller re-parses from the start when more bytes come
 * (heads are small, so this costs less than a resumable state machine). */
#include "http/parse.h"
#include <strings.h>

/* tchar: RFC 9110 token characters (method and header names). */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* find_eol: index of the '\n' ending the line starting at i, or -1.
 * Lines end in CRLF; a bare LF is tolerated as nginx does. */
static ssize_t find_eol(const char *buf, size_t len, size_t i)
{
	const char *nl = memchr(buf + i, '\n', len - i);
	return nl ? nl - buf : -1;
}

/* parse_request_line: fills method/target/version from one line [s, e). */
static int parse_request_line(const char *s, const char *e, struct http_head *out)
{
	const char *p = s;
	while (p < e && tchar[(unsigned char)*p])
		p++;
	if (p == s || p >= e || *p != ' ')
		return HTTP_PARSE_ERROR;
	out->method = (struct str){s, (size_t)(p - s)};
	const char *t = ++p;
	while (p < e && *p != ' ') {
		/* request-target: visible ASCII only */
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return HTTP_PARSE_ERROR;
		p++;
	}
	if (p == t || p >= e)
		return HTTP_PARSE_ERROR;
	out->target = (struct str){t, (size_t)(p - t)};
	p++;
	if (e - p != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
		return HTTP_PARSE_ERROR;
	out->minor_version = p[7] - '0';
	const char *q = memchr(t, '?', out->target.n);
	if (q) {
		out->path = (struct str){t, (size_t)(q - t)};
		out->query = (struct str){q + 1, (size_t)(p - 1 - (q + 1))};
	} else {
		out->path = out->target;
		out->query = (struct str){p - 1, 0};
	}
	return 0;
}

/* parse_header_line: one "name: value" line [s, e) into h. */
static int parse_header_line(const char *s, const char *e, struct http_header *h)
{
	const char *p = s;
	while (p < e && tchar[(unsigned char)*p])
		p++;
	if (p == s || p >= e || *p != ':')
		return HTTP_PARSE_ERROR; /* also rejects obsolete line folding */
	h->name = (struct str){s, (size_t)(p - s)};
	p++;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	const char *v = p;
	for (; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return HTTP_PARSE_ERROR;
	}
	while (p > v && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	h->value = (struct str){v, (size_t)(p - v)};
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_head *out,
		       struct http_header *headers, size_t max_headers)
{
	size_t i = 0;
	/* RFC 9112: ignore at least one empty line before the request line */
	while (i < len && (buf[i] == '\r' || buf[i] == '\n') && i < 4)
		i++;
	ssize_t eol = find_eol(buf, len, i);
	if (eol < 0)
		return HTTP_PARSE_INCOMPLETE;
	const char *e = buf + eol;
	if (e > buf + i && e[-1] == '\r')
		e--;
	if (parse_request_line(buf + i, e, out) < 0)
		return HTTP_PARSE_ERROR;
	out->headers = headers;
	out->nheaders = 0;
	i = (size_t)eol + 1;
	for (;;) {
		eol = find_eol(buf, len, i);
		if (eol < 0)
			return HTTP_PARSE_INCOMPLETE;
		e = buf + eol;
		if (e > buf + i && e[-1] == '\r')
			e--;
		if (e == buf + i)
			return (int)eol + 1; /* blank line: end of head */
		if (out->nheaders == max_headers)
			return HTTP_PARSE_TOO_MANY_HEADERS;
		if (parse_header_line(buf + i, e, &headers[out->nheaders]) < 0)
			return HTTP_PARSE_ERROR;
		out->nheaders++;
		i = (size_t)eol + 1;
	}
}

const struct http_header *http_find_header(const struct http_head *h, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < h->nheaders; i++)
		if (h->headers[i].name.n == n && strncasecmp(h->headers[i].name.p, name, n) == 0)
			return &h->headers[i];
	return NULL;
}

int http_parse_chunk_size(const char *buf, size_t len, uint64_t *size)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0;
	for (; i < len; i++) {
		char c = buf[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (++digits > 15)
			return HTTP_PARSE_ERROR; /* > 2^60: refuse rather than overflow */
		v = v * 16 + (uint64_t)d;
	}
	if (i == len)
		return HTTP_PARSE_INCOMPLETE;
	if (digits == 0)
		return HTTP_PARSE_ERROR;
	/* skip chunk extensions (aws-chunked puts ";chunk-signature=" here) */
	const char *nl = memchr(buf + i, '\n', len - i);
	if (!nl)
		return len - i > 4096 ? HTTP_PARSE_ERROR : HTTP_PARSE_INCOMPLETE;
	if (nl == buf + i || nl[-1] != '\r' || (buf[i] != '\r' && buf[i] != ';'))
		return HTTP_PARSE_ERROR;
	for (const char *p = buf + i; p < nl - 1; p++)
		if (*p == '\r' || *p == 0)
			return HTTP_PARSE_ERROR;
	*size = v;
	return (int)(nl - buf) + 1;
}
