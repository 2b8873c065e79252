/* snapcrypt.h - the files of a snapshot of an encrypted instance: the
 * cluster as one tar stream, sealed in AES-256-GCM records under the
 * snapshot's own random data key, which is stored only as fogbank KMS
 * ciphertext (rds_snapshots.data_key) under the snapshot's KMS key. The
 * stream passes through a FIFO between the tool (pg_basebackup, tar) and
 * fogbank's loop, so the snapshot's plaintext never reaches the disk.
 *
 * File layout: the 8-byte magic "FBRDSSC1", then records: a 4-byte
 * big-endian plaintext length, a flags byte (1: the last record), the
 * 16-byte GCM tag, the ciphertext. Record i uses the nonce 0^4 || be64(i)
 * and authenticates be64(i) || flags, so records cannot be reordered,
 * dropped or cut off at the end without the restore noticing. */
#ifndef FB_SVC_RDS_SNAPCRYPT_H
#define FB_SVC_RDS_SNAPCRYPT_H
#include "core/compat.h"

#define SC_FILE "base.tar.enc"
#define SC_KEY_LEN 32
#define SC_MAGIC "FBRDSSC1"
#define SC_MAGIC_LEN 8
#define SC_REC_HEAD 21	       /* length (4) + flags (1) + tag (16) */
#define SC_CHUNK (1024 * 1024) /* plaintext bytes per record */

struct fogbank;
struct loop;
struct sc;
struct aws_call;
struct rds_snap;

/* sc_seal: record idx of n plaintext bytes (n <= SC_CHUNK) into out
 * (SC_REC_HEAD + n bytes). Returns the record's length, or -1. */
long sc_seal(const unsigned char key[SC_KEY_LEN], uint64_t idx, int last, const unsigned char *in,
	     size_t n, unsigned char *out);
/* sc_unseal: checks and decrypts record idx whose head is head and whose
 * ciphertext is ct (the length the head announces) into out; *last gets
 * its flag. Returns the plaintext length, or -1 when it does not
 * authenticate. */
long sc_unseal(const unsigned char key[SC_KEY_LEN], uint64_t idx,
	       const unsigned char head[SC_REC_HEAD], const unsigned char *ct, unsigned char *out,
	       int *last);
/* sc_rec_len: the ciphertext length a record head announces (<= SC_CHUNK),
 * or -1 when it is malformed. */
long sc_rec_len(const unsigned char head[SC_REC_HEAD]);

/* sc_data_key: snapshot snap_id's data key: unwrapped from its row, or,
 * when the row has none and create is set, a new random key, wrapped
 * under the snapshot's KMS key and stored. 0, or -1 (logged: no such
 * snapshot, the KMS key is disabled or gone, ...). */
int sc_data_key(struct fogbank *fb, int64_t snap_id, int create, unsigned char key[SC_KEY_LEN]);

/* sc_copy_key: gives snapshot to_id (a copy of src) src's data key,
 * re-wrapped under kms_arn when that differs from src's key; nothing when
 * src is not sealed. Inside the caller's transaction. 0, or -1 with
 * KMSKeyNotAccessibleFault on c. */
int sc_copy_key(struct aws_call *c, const struct rds_snap *src, int64_t to_id, const char *kms_arn);

/* sc_encrypt_start: makes the FIFO fifo (mode 0600, the postgres user's)
 * and seals whatever a tool writes into it into out (created 0600).
 * Returns the stream, or NULL (errno). key is copied. */
struct sc *sc_encrypt_start(struct loop *l, const char *fifo, const char *out,
			    const unsigned char key[SC_KEY_LEN]);
/* sc_decrypt_start: makes the FIFO fifo and feeds it the plaintext of the
 * sealed file in as a tool reads it; the FIFO is closed (EOF) after the
 * last record. Returns the stream, or NULL (errno; a file that is not
 * ours gives EINVAL). */
struct sc *sc_decrypt_start(struct loop *l, const char *fifo, const char *in,
			    const unsigned char key[SC_KEY_LEN]);
/* sc_finish: the tool at the other end has exited (ok: with status 0).
 * Sealing: drains the FIFO, writes the last record and fsyncs; opening:
 * checks every record authenticated and was delivered. Removes the FIFO,
 * wipes the key and frees s. 0 when the stream is whole, else -1. */
int sc_finish(struct sc *s, int ok);
#endif
