/* checksum.c - the digests S3 computes over object bytes: CRC32 (zlib's
 * polynomial) and CRC32C (Castagnoli) by slicing-by-8 tables (CRC32C with
 * the SSE4.2 instruction when the CPU has it), SHA-1/SHA-256 and MD5
 * through OpenSSL, the multipart ETag (MD5 of the parts' MD5s, "-N") and
 * composite checksums. Pure functions except where an arena is passed. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "svc/s3/internal.h"
#include <openssl/evp.h>

static uint32_t crc32_tab[8][256], crc32c_tab[8][256];
static int tabs_ready;

/* make_tab: slicing-by-8 tables of the reflected polynomial <poly>. */
static void make_tab(uint32_t tab[8][256], uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ poly : c >> 1;
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			tab[k][i] = (tab[k - 1][i] >> 8) ^ tab[0][tab[k - 1][i] & 0xff];
}

/* tabs_init: builds both CRC tables on first use (loop thread only). */
static void tabs_init(void)
{
	if (tabs_ready)
		return;
	make_tab(crc32_tab, 0xedb88320u);
	make_tab(crc32c_tab, 0x82f63b78u);
	tabs_ready = 1;
}

/* crc_slice8: the table-driven CRC update (pre/post inversion included). */
static uint32_t crc_slice8(uint32_t tab[8][256], uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
		n--;
	}
	while (n >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc; /* little-endian hosts only (x86-64, arm64) */
		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
		      tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		      tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

uint32_t s3_crc32(uint32_t crc, const void *p, size_t n)
{
	tabs_init();
	return crc_slice8(crc32_tab, crc, p, n);
}

#if defined(__x86_64__)
/* crc32c_hw: CRC32C with the SSE4.2 crc32 instruction (~10x the table). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
							    size_t n)
{
	uint64_t c = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	static int hw = -1;
	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	if (hw)
		return crc32c_hw(crc, p, n);
#endif
	tabs_init();
	return crc_slice8(crc32c_tab, crc, p, n);
}

static const char *const cks_names[] = {NULL, "CRC32", "CRC32C", "SHA1", "SHA256"};
static const char *const cks_members[] = {NULL, "ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1",
					  "ChecksumSHA256"};
static const char *const cks_headers[] = {NULL, "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
					  "x-amz-checksum-sha1", "x-amz-checksum-sha256"};

int s3_cks_from_name(struct str name)
{
	for (int i = 1; i < (int)FB_ARRAY_LEN(cks_names); i++)
		if (str_case_eq_c(name, cks_names[i]))
			return i;
	return S3_CKS_NONE;
}

const char *s3_cks_name(int algo)
{
	return algo > 0 && algo < (int)FB_ARRAY_LEN(cks_names) ? cks_names[algo] : NULL;
}

const char *s3_cks_member(int algo)
{
	return algo > 0 && algo < (int)FB_ARRAY_LEN(cks_members) ? cks_members[algo] : NULL;
}

const char *s3_cks_header(int algo)
{
	return algo > 0 && algo < (int)FB_ARRAY_LEN(cks_headers) ? cks_headers[algo] : NULL;
}

size_t s3_cks_len(int algo)
{
	switch (algo) {
	case S3_CKS_CRC32:
	case S3_CKS_CRC32C:
		return 4;
	case S3_CKS_SHA1:
		return 20;
	case S3_CKS_SHA256:
		return 32;
	default:
		return 0;
	}
}

/* put_be32: big-endian bytes of v (how S3 encodes CRC values). */
static void put_be32(unsigned char *out, uint32_t v)
{
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

size_t s3_cks_digest(int algo, const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;
	switch (algo) {
	case S3_CKS_CRC32:
		put_be32(out, s3_crc32(0, p, n));
		return 4;
	case S3_CKS_CRC32C:
		put_be32(out, s3_crc32c(0, p, n));
		return 4;
	case S3_CKS_SHA1:
		EVP_Digest(p, n, out, &len, EVP_sha1(), NULL);
		return len;
	case S3_CKS_SHA256:
		EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
		return len;
	default:
		return 0;
	}
}

const char *s3_b64(struct aws_call *c, const void *p, size_t n)
{
	char *out = arena_alloc(c->a, 4 * ((n + 2) / 3) + 1);
	fmt_b64_encode(out, p, n);
	return out;
}

void s3_md5_hex(const unsigned char md5[16], char out[33])
{
	fmt_hex(out, md5, 16);
}

const char *s3_multipart_etag(struct arena *a, const unsigned char *md5s, size_t n)
{
	unsigned char d[16];
	unsigned int len = 0;
	char hex[33];
	EVP_Digest(md5s, n * 16, d, &len, EVP_md5(), NULL);
	fmt_hex(hex, d, 16);
	return arena_sprintf(a, "%s-%zu", hex, n);
}

const char *s3_cks_composite(struct aws_call *c, int algo, const unsigned char *raws, size_t n)
{
	unsigned char d[32];
	size_t dn = s3_cks_digest(algo, raws, n * s3_cks_len(algo), d);
	return arena_sprintf(c->a, "%s-%zu", s3_b64(c, d, dn), n);
}
