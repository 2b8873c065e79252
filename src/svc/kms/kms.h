/* kms.h - KMS as other fogbank services use it: the key material cache the
 * daemon opens at start (fb->kms), envelope encryption under a KMS key, and
 * the AWS-managed keys (alias/aws/<service>) created on first use.
 *
 * All functions taking a struct aws_call act in the call's account and
 * region and record an AWS error on the call (KMS codes: NotFoundException,
 * DisabledException, KMSInvalidStateException, InvalidCiphertextException,
 * ...) when they return -1 / NULL; a caller that speaks another service's
 * error vocabulary may read c->err_code, clear it and record its own. */
#ifndef FB_SVC_KMS_H
#define FB_SVC_KMS_H
#include "core/compat.h"
#include "core/str.h"
#include "store/db.h"

struct aws_call;
struct jv;
struct kms_keyring;

/* Schema steps of the kms component ({NULL}-terminated), for db_open. */
extern const struct db_migration kms_migrations[];

/* kms_keyring_open: loads <data_dir>/master.key, creating it (32 random
 * bytes, mode 0600, temp file + fsync + link) on first start; a key file
 * readable by group/others is chmod'ed to 0600 with a warning. Returns the
 * keyring (free with kms_keyring_close), or NULL with *err set to a
 * malloc'd message (caller frees). */
struct kms_keyring *kms_keyring_open(const char *data_dir, char **err);
/* kms_keyring_close: wipes the master key and cached key material, frees.
 * NULL is fine. */
void kms_keyring_close(struct kms_keyring *kr);

/* kms_internal_encrypt: encrypts plaintext under the KMS key key_ref (key
 * id, key ARN, alias name or alias ARN) bound to context (a JV_OBJECT of
 * strings, or NULL). On success *blob_out is the ciphertext blob in the
 * call's arena and, when key_arn_out is not NULL, *key_arn_out the key's
 * ARN; returns 0. Returns -1 with an AWS error set on the call. */
int kms_internal_encrypt(struct aws_call *c, const char *key_ref, struct str plaintext,
			 const struct jv *context, struct str *blob_out, const char **key_arn_out);
/* kms_internal_decrypt: decrypts a blob made by kms_internal_encrypt or
 * Encrypt; the key comes from the blob, context must equal the one used to
 * encrypt. The plaintext is in the call's arena; *key_id_out (optional)
 * gets the key id (arena). Hot path: with the key cached this is one
 * AES-GCM and no database access. Returns 0, or -1 with an AWS error. */
int kms_internal_decrypt(struct aws_call *c, struct str blob, const struct jv *context,
			 struct str *plaintext_out, const char **key_id_out);
/* kms_managed_key: the key id (arena string) of the AWS-managed key behind
 * alias/<alias> (e.g. "aws/secretsmanager") in the call's account and
 * region, creating key and alias on first use (inside the caller's
 * transaction when one is open, else in its own). NULL with an AWS error
 * on failure. */
const char *kms_managed_key(struct aws_call *c, const char *alias);
/* kms_key_arn_of: resolves key_ref like kms_internal_encrypt (without
 * checking the key's state) and returns its key ARN (arena), or NULL with
 * NotFoundException set. */
const char *kms_key_arn_of(struct aws_call *c, const char *key_ref);
/* kms_blob_key_id: copies the key id carried by a ciphertext blob into
 * out; returns 0, or -1 when blob is not a fogbank ciphertext. */
int kms_blob_key_id(struct str blob, char out[37]);
/* kms_purge: deletes keys whose deletion window has passed (before
 * now_ms), with their aliases and tags. For the daemon's timer; keys are
 * also purged lazily when looked up. */
void kms_purge(struct db *db, struct kms_keyring *kr, int64_t now_ms);
#endif
