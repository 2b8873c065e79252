/* password.c - GetRandomPassword. Characters come from the OpenSSL CSPRNG
 * with rejection sampling (no modulo bias). With RequireEachIncludedType
 * (the default) one character of each included type (lowercase,
 * uppercase, digits, punctuation) is placed first and the whole password
 * is then shuffled, so every type appears and positions reveal nothing. */
#include "core/compat.h"
#include "aws/gen/secretsmanager_ops.h"
#include "svc/secretsmanager/internal.h"
#include <openssl/rand.h>

/* AWS's punctuation set: every printable ASCII symbol. */
static const char punctuation[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/* rand_below: a uniform integer in [0, n); -1 if the CSPRNG fails. */
static int64_t rand_below(uint32_t n)
{
	uint32_t limit = UINT32_MAX - UINT32_MAX % n, r;
	do {
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return -1;
	} while (r >= limit);
	return r % n;
}

/* keep: the characters of set not listed in exclude, into out (NUL-ended);
 * returns how many. */
static size_t keep(const char *set, const char *exclude, char *out)
{
	size_t n = 0;
	for (const char *p = set; *p; p++)
		if (!exclude || !strchr(exclude, *p))
			out[n++] = *p;
	out[n] = 0;
	return n;
}

int secretsmanager_op_get_random_password(struct aws_call *c)
{
	int64_t len = jv_get_int(c->in, "PasswordLength", 32);
	const char *exclude = jv_get_str(c->in, "ExcludeCharacters");
	const char *sets[5] = {
	    jv_get_bool(c->in, "ExcludeLowercase", 0) ? "" : "abcdefghijklmnopqrstuvwxyz",
	    jv_get_bool(c->in, "ExcludeUppercase", 0) ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	    jv_get_bool(c->in, "ExcludeNumbers", 0) ? "" : "0123456789",
	    jv_get_bool(c->in, "ExcludePunctuation", 0) ? "" : punctuation,
	    jv_get_bool(c->in, "IncludeSpace", 0) ? " " : "",
	};
	int require = jv_get_bool(c->in, "RequireEachIncludedType", 1);
	if (len < 1 || len > 4096)
		return aws_fail(c, 400, "InvalidParameterException",
				"PasswordLength must be between 1 and 4096.");
	char classes[5][64], all[128];
	size_t class_n[5], all_n = 0, required = 0;
	for (int i = 0; i < 5; i++) {
		class_n[i] = keep(sets[i], exclude, classes[i]);
		memcpy(all + all_n, classes[i], class_n[i]);
		all_n += class_n[i];
		/* the space is optional even when included */
		if (i < 4 && class_n[i])
			required++;
	}
	if (all_n == 0)
		return aws_fail(c, 400, "InvalidParameterException",
				"The password can't be generated: every character is excluded.");
	if (require && (size_t)len < required)
		return aws_fail(c, 400, "InvalidParameterException",
				"Password length is too short based on the required types.");
	char *pw = arena_alloc(c->a, (size_t)len + 1);
	size_t n = 0;
	for (int i = 0; require && i < 4; i++) {
		if (!class_n[i])
			continue;
		int64_t r = rand_below((uint32_t)class_n[i]);
		if (r < 0)
			return aws_fail(c, 500, "InternalServiceError", "no randomness");
		pw[n++] = classes[i][r];
	}
	while (n < (size_t)len) {
		int64_t r = rand_below((uint32_t)all_n);
		if (r < 0)
			return aws_fail(c, 500, "InternalServiceError", "no randomness");
		pw[n++] = all[r];
	}
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
		int64_t j = rand_below((uint32_t)(i + 1));
		if (j < 0)
			return aws_fail(c, 500, "InternalServiceError", "no randomness");
		char t = pw[i];
		pw[i] = pw[j];
		pw[j] = t;
	}
	pw[n] = 0;
	jv_set_strn(c->a, aws_out(c), "RandomPassword", pw, n);
	return 0;
}
