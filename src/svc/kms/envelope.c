/* envelope.c - fogbank's KMS ciphertext blob and encryption context AAD.
 *
 * Blob, version 1 (all lengths fixed except the ciphertext):
 *   [0]        0x01 format version
 *   [1..37)    key id, 36 ASCII characters (so Decrypt needs no KeyId)
 *   [37..49)   random 96-bit IV
 *   [49..n-16) AES-256-GCM ciphertext, as long as the plaintext
 *   [n-16..n)  GCM tag
 * AAD = the 37-byte head followed by the canonical encryption context, so
 * both the key id and the context are authenticated: a different context,
 * a flipped bit or a foreign key id all fail the tag check. */
#include "core/compat.h"
#include "aws/value.h"
#include "svc/kms/internal.h"
#include <openssl/crypto.h>

/* put_u32: big-endian length prefix. */
static unsigned char *put_u32(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/* key_less: byte order of two keys, shorter first on a common prefix. */
static int key_less(struct str a, struct str b)
{
	size_t n = a.n < b.n ? a.n : b.n;
	int d = n ? memcmp(a.p, b.p, n) : 0;
	return d < 0 || (d == 0 && a.n < b.n);
}

struct str kms_context_aad(struct arena *a, const void *head, size_t head_n,
			   const struct jv *context)
{
	size_t n = context && context->type == JV_OBJECT ? context->u.obj.n : 0;
	size_t total = head_n + 4;
	const struct jv_member **order = n ? arena_alloc(a, n * sizeof(*order)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct jv_member *m = &context->u.obj.m[i];
		total += 8 + m->key.n + (m->val && m->val->type == JV_STRING ? m->val->u.s.n : 0);
		/* insertion sort: contexts hold a handful of pairs */
		size_t j = i;
		while (j > 0 && key_less(m->key, order[j - 1]->key)) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = m;
	}
	unsigned char *buf = arena_alloc(a, total), *p = buf;
	memcpy(p, head, head_n);
	p = put_u32(p + head_n, n);
	for (size_t i = 0; i < n; i++) {
		const struct jv *v = order[i]->val;
		struct str val = v && v->type == JV_STRING ? v->u.s : STR_NULL;
		p = put_u32(p, order[i]->key.n);
		memcpy(p, order[i]->key.p, order[i]->key.n);
		p = put_u32(p + order[i]->key.n, val.n);
		if (val.n)
			memcpy(p, val.p, val.n);
		p += val.n;
	}
	return (struct str){(const char *)buf, total};
}

int kms_seal(struct kms_keyring *kr, struct arena *a, const char *id, const unsigned char *key,
	     struct str plaintext, const struct jv *context, struct str *blob)
{
	if (strlen(id) != KMS_ID_LEN)
		return -1;
	size_t n = KMS_BLOB_OVERHEAD + plaintext.n;
	unsigned char *b = arena_alloc(a, n);
	b[0] = KMS_BLOB_VERSION;
	memcpy(b + 1, id, KMS_ID_LEN);
	unsigned char *iv = b + KMS_BLOB_HEAD;
	if (kms_random(iv, KMS_IV_BYTES) < 0)
		return -1;
	struct str aad = kms_context_aad(a, b, KMS_BLOB_HEAD, context);
	if (kms_aead_seal(kr, key, iv, aad.p, aad.n, plaintext.p, plaintext.n, iv + KMS_IV_BYTES,
			  b + n - KMS_TAG_BYTES) < 0)
		return -1;
	*blob = (struct str){(const char *)b, n};
	return 0;
}

/* lower_hex: 1 for [0-9a-f], the digits of a key id. */
static const unsigned char lower_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

int kms_blob_key_id(struct str blob, char out[37])
{
	if (blob.n < KMS_BLOB_OVERHEAD || (unsigned char)blob.p[0] != KMS_BLOB_VERSION)
		return -1;
	const unsigned char *id = (const unsigned char *)blob.p + 1;
	unsigned bad = id[8] ^ '-';
	bad |= id[13] ^ '-';
	bad |= id[18] ^ '-';
	bad |= id[23] ^ '-';
	for (size_t i = 0; i < KMS_ID_LEN; i++)
		bad |= (i == 8 || i == 13 || i == 18 || i == 23) ? 0 : !lower_hex[id[i]];
	if (bad)
		return -1;
	memcpy(out, id, KMS_ID_LEN);
	out[KMS_ID_LEN] = 0;
	return 0;
}

int kms_open(struct kms_keyring *kr, struct arena *a, const unsigned char *key, struct str blob,
	     const struct jv *context, struct str *plaintext)
{
	/* the head (version and key id) is in the AAD: a malformed or foreign
	 * id fails the tag check, so only the framing is checked here */
	if (blob.n < KMS_BLOB_OVERHEAD || (unsigned char)blob.p[0] != KMS_BLOB_VERSION)
		return -1;
	size_t n = blob.n - KMS_BLOB_OVERHEAD;
	const unsigned char *b = (const unsigned char *)blob.p;
	/* one spare byte so the plaintext is NUL-terminated for string users */
	unsigned char *pt = arena_alloc(a, n + 1);
	struct str aad = kms_context_aad(a, b, KMS_BLOB_HEAD, context);
	if (kms_aead_open(kr, key, b + KMS_BLOB_HEAD, aad.p, aad.n,
			  b + KMS_BLOB_HEAD + KMS_IV_BYTES, n, b + blob.n - KMS_TAG_BYTES, pt) < 0)
		return -1;
	pt[n] = 0;
	*plaintext = (struct str){(const char *)pt, n};
	return 0;
}
