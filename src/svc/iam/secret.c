/* secret.c - sealing of secret access keys at rest, with the shared
 * sealer (src/store/seal.h) under IAM's own label and the key id as
 * additional data. */
#include "svc/iam/iam.h"
#include "fb.h"
#include "store/seal.h"

static struct seal_key iam_key = {"fogbank iam secret seal v1"};

/* iam_sealer_reset: see iam.h. */
void iam_sealer_reset(void)
{
	seal_key_reset(&iam_key);
}

/* iam_seal: see iam.h. */
unsigned char *iam_seal(struct fogbank *fb, struct arena *a, const char *aad, const char *plain,
			size_t n, size_t *out_n)
{
	return seal(&iam_key, fb ? fb->data_dir : NULL, a, aad, plain, n, out_n);
}

/* iam_unseal: see iam.h. */
char *iam_unseal(struct fogbank *fb, struct arena *a, const char *aad, const void *blob, size_t n)
{
	return unseal(&iam_key, fb ? fb->data_dir : NULL, a, aad, blob, n);
}
