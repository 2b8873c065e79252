/* chunked.c - the aws-chunked content encoding of streaming uploads:
 *
 *   <hex size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... repeated
 *   0[;chunk-signature=<sig>]\r\n
 *   [<name>:<value>\r\n ...]          trailers (x-amz-checksum-*, and
 *   [x-amz-trailer-signature:<sig>\r\n] for signed trailers)
 *   \r\n
 *
 * An incremental, allocation-light decoder: bytes may arrive in any
 * pieces (a spooled body is fed block by block). Chunk signatures are
 * verified as each chunk ends when a signer is given. Lines may end in
 * "\n" alone (lenient, as S3 is). */
#include "core/compat.h"
#include "aws/sigv4_chunked.h"
#include "svc/s3/internal.h"
#include <ctype.h>
#include <openssl/evp.h>

enum { ST_SIZE, ST_DATA, ST_DATA_END, ST_TRAILER, ST_DONE };

void s3_chunked_init(struct s3_chunked *d, int want_sigs, int want_trailer_sig,
		     const struct sigv4_chunk_signer *signer, const char *seed_sig)
{
	memset(d, 0, sizeof(*d));
	d->state = ST_SIZE;
	d->want_sigs = want_sigs;
	d->want_trailer_sig = want_trailer_sig;
	d->signer = signer;
	snprintf(d->prev_sig, sizeof(d->prev_sig), "%s", seed_sig ? seed_sig : "");
	if (signer && (want_sigs || want_trailer_sig))
		d->sha = EVP_MD_CTX_new();
}

void s3_chunked_free(struct s3_chunked *d)
{
	EVP_MD_CTX_free(d->sha);
	d->sha = NULL;
	buf_release(&d->trailers);
}

int s3_chunked_done(const struct s3_chunked *d)
{
	return d->state == ST_DONE;
}

struct str s3_chunked_trailer(const struct s3_chunked *d, const char *name)
{
	size_t nn = strlen(name);
	const char *p = d->trailers.p, *e = p + d->trailers.n;
	while (p && p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *colon = memchr(p, ':', (size_t)((nl ? nl : e) - p));
		if (colon && (size_t)(colon - p) == nn && memcmp(p, name, nn) == 0) {
			const char *v = colon + 1;
			while (v < (nl ? nl : e) && *v == ' ')
				v++;
			return (struct str){v, (size_t)((nl ? nl : e) - v)};
		}
		p = nl ? nl + 1 : e;
	}
	return STR_NULL;
}

/* fail: records a malformed body; returns -1. */
static int fail(struct s3_chunked *d, const char *why)
{
	d->err = why;
	return -1;
}

/* take_line: accumulates p[*i..n) into d->line up to '\n'. Returns 1 when
 * a line is complete (d->line holds it without CR/LF, NUL-terminated), 0
 * when more bytes are needed, -1 when it is too long. */
static int take_line(struct s3_chunked *d, const char *p, size_t n, size_t *i)
{
	while (*i < n) {
		char ch = p[(*i)++];
		if (ch == '\n') {
			if (d->line_n && d->line[d->line_n - 1] == '\r')
				d->line_n--;
			d->line[d->line_n] = 0;
			return 1;
		}
		if (d->line_n + 1 >= sizeof(d->line))
			return -1;
		d->line[d->line_n++] = ch;
	}
	return 0;
}

/* verify_chunk: checks the signature of the chunk just ended. */
static int verify_chunk(struct s3_chunked *d)
{
	unsigned char dig[32];
	unsigned int len = 0;
	char want[65];
	if (!d->signer || !d->want_sigs)
		return 0;
	EVP_DigestFinal_ex(d->sha, dig, &len);
	sigv4_chunk_signature(d->signer, d->prev_sig, dig, want);
	if (!sigv4_sig_equal(want, d->chunk_sig)) {
		d->bad_sig = 1;
		return fail(d, "chunk signature mismatch");
	}
	memcpy(d->prev_sig, d->chunk_sig, 65);
	return 0;
}

/* size_line: parses "<hex>[;chunk-signature=<sig>][;ext...]". */
static int size_line(struct s3_chunked *d)
{
	const char *p = d->line;
	uint64_t v = 0;
	int digits = 0;
	while (isxdigit((unsigned char)*p)) {
		if (v >> 59)
			return fail(d, "chunk size too large");
		v = v * 16 + (uint64_t)(isdigit((unsigned char)*p)
					    ? *p - '0'
					    : (tolower((unsigned char)*p) - 'a' + 10));
		p++;
		digits++;
	}
	if (!digits)
		return fail(d, "malformed chunk size");
	d->chunk_sig[0] = 0;
	while (*p == ';') {
		const char *e = strchr(p + 1, ';');
		size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);
		if (n == 16 + 64 && !strncmp(p + 1, "chunk-signature=", 16)) {
			memcpy(d->chunk_sig, p + 17, 64);
			d->chunk_sig[64] = 0;
		}
		p += 1 + n;
	}
	if (*p && *p != ' ')
		return fail(d, "malformed chunk header");
	if (d->want_sigs && !d->chunk_sig[0])
		return fail(d, "missing chunk signature");
	d->left = v;
	if (d->sha)
		EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL);
	return 0;
}

/* trailer_line: one trailer "name:value", or the signed-trailer check. */
static int trailer_line(struct s3_chunked *d)
{
	char *colon = strchr(d->line, ':');
	if (!colon)
		return fail(d, "malformed trailer");
	for (char *q = d->line; q < colon; q++)
		*q = (char)tolower((unsigned char)*q);
	if (!strncmp(d->line, "x-amz-trailer-signature:", 24)) {
		unsigned char dig[32];
		char want[65];
		if (!d->signer || !d->want_trailer_sig)
			return 0;
		EVP_Digest(d->trailers.p ? d->trailers.p : "", d->trailers.n, dig, NULL,
			   EVP_sha256(), NULL);
		sigv4_trailer_signature(d->signer, d->prev_sig, dig, want);
		if (!sigv4_sig_equal(want, colon + 1)) {
			d->bad_sig = 1;
			return fail(d, "trailer signature mismatch");
		}
		return 0;
	}
	buf_append(&d->trailers, d->line, strlen(d->line));
	buf_putc(&d->trailers, '\n');
	return 0;
}

int s3_chunked_feed(struct s3_chunked *d, const char *p, size_t n, s3_sink_fn *sink, void *ctx)
{
	size_t i = 0;
	if (d->err)
		return -1;
	while (i < n) {
		int r;
		switch (d->state) {
		case ST_SIZE:
			r = take_line(d, p, n, &i);
			if (r < 0)
				return fail(d, "chunk header too long");
			if (r == 0)
				return 0;
			d->line_n = 0;
			if (size_line(d) < 0)
				return -1;
			if (d->left == 0) {
				if (verify_chunk(d) < 0)
					return -1;
				d->state = ST_TRAILER;
			} else {
				d->state = ST_DATA;
			}
			break;
		case ST_DATA: {
			size_t k = n - i < d->left ? n - i : (size_t)d->left;
			if (d->sha)
				EVP_DigestUpdate(d->sha, p + i, k);
			if (sink(ctx, p + i, k) < 0)
				return fail(d, "sink");
			d->decoded += k;
			d->left -= k;
			i += k;
			if (d->left == 0)
				d->state = ST_DATA_END;
			break;
		}
		case ST_DATA_END: {
			/* exactly "\r\n" (or "\n") after the data, checked as it comes */
			char ch = p[i++];
			if (ch == '\r' && !d->line_n) {
				d->line_n = 1;
				break;
			}
			if (ch != '\n')
				return fail(d, "chunk data not followed by CRLF");
			d->line_n = 0;
			if (verify_chunk(d) < 0)
				return -1;
			d->state = ST_SIZE;
			break;
		}
		case ST_TRAILER:
			r = take_line(d, p, n, &i);
			if (r < 0)
				return fail(d, "trailer too long");
			if (r == 0)
				return 0;
			d->line_n = 0;
			if (!d->line[0]) {
				d->state = ST_DONE;
				break;
			}
			if (trailer_line(d) < 0)
				return -1;
			break;
		default:
			/* after the end only line breaks may follow */
			if (p[i] != '\r' && p[i] != '\n')
				return fail(d, "data after the final chunk");
			i++;
			break;
		}
	}
	return 0;
}
