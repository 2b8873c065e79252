/* seal.h - small secrets sealed at rest (IAM secret keys, ElastiCache auth
 * tokens): AES-256-GCM under a key derived, per label, from the data
 * dir's master key (<data_dir>/master.key, which KMS creates at start).
 *
 * A derived key per label keeps each component independent of every other
 * key made from that file, and needs no aws_call, which KMS's API wants
 * but code running before any handler (request authentication, servers
 * started at boot) does not have.
 *
 * Blob: version byte 1 | 12-byte nonce | ciphertext | 16-byte tag; the
 * additional data (a NUL-terminated string) binds a blob to its row.
 * Loop thread only. */
#ifndef FB_STORE_SEAL_H
#define FB_STORE_SEAL_H
#include "core/compat.h"
#include "core/arena.h"

/* One component's derived key, loaded on first use. Static, zeroed but for
 * the label: struct seal_key k = {"fogbank iam secret seal v1"}; */
struct seal_key {
	const char *label;
	char *data_dir; /* the dir the key was derived for (malloc'd) */
	int ready;
	unsigned char key[32];
};

/* seal: plain[0..n) sealed under k for data_dir (NULL: a key that lives
 * as long as the process, for unit tests) with additional data aad, as an
 * arena blob of *out_n bytes; NULL when the master key cannot be read
 * (logged). A missing master key file is created as KMS creates it. */
unsigned char *seal(struct seal_key *k, const char *data_dir, struct arena *a, const char *aad,
		    const void *plain, size_t n, size_t *out_n);
/* unseal: the plaintext of a seal() blob (arena, NUL-terminated), or NULL
 * when it does not open (wrong key, data or aad). */
char *unseal(struct seal_key *k, const char *data_dir, struct arena *a, const char *aad,
	     const void *blob, size_t n);
/* seal_key_reset: wipes k's cached key so the next use reloads it. */
void seal_key_reset(struct seal_key *k);
#endif
