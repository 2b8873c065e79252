/* envfile.c - a container's environmentFiles: S3 objects
 * ("arn:aws:s3:::bucket/key.env", type "s3") read through S3's own read
 * path (s3_object_read, decryption included) and parsed exactly as the
 * ECS agent parses them (ecs_envfile_parse). Precedence is the agent's:
 * the first file naming a variable wins over later files, and
 * `environment` wins over every file (prep.c applies it afterwards).
 */
#include "core/compat.h"
#include "fb.h"
#include "svc/ecs/live.h"
#include "svc/s3/s3.h"

#define ENVFILE_MAX (1u << 20)

void ecs_envfile_parse(struct arena *a, const char *p, size_t len, char ***out, size_t *nout)
{
	const char *e = p + len;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
		const char *line = p;
		p = nl ? nl + 1 : e;
		/* bufio.Scanner drops the \r of a CRLF line */
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		const char *eq = memchr(line, '=', n);
		if (!eq || eq == line || eq == line + n - 1)
			continue; /* the agent skips an empty name or value */
		ecs_env_set(a, out, nout, line, (size_t)(eq - line),
			    arena_strndup(a, eq + 1, (size_t)(line + n - eq - 1)));
	}
}

/* split_arn: bucket and key of "arn:aws:s3:::bucket/key" (arena); 0 or -1. */
static int split_arn(struct arena *a, const char *arn, const char **bucket, const char **key)
{
	static const char pre[] = "arn:aws:s3:::";
	if (!arn || strncmp(arn, pre, sizeof(pre) - 1))
		return -1;
	const char *b = arn + sizeof(pre) - 1, *slash = strchr(b, '/');
	if (!slash || slash == b || !slash[1])
		return -1;
	*bucket = arena_strndup(a, b, (size_t)(slash - b));
	*key = slash + 1;
	return 0;
}

int ecs_envfile_apply(struct live *t, const struct jv *list, char ***env, size_t *n,
		      const char **why)
{
	/* last file first, so that an earlier file's value is set last */
	for (size_t i = jv_len(list); i-- > 0;) {
		const char *arn = jv_get_str(jv_at(list, i), "value");
		const char *type = jv_get_str(jv_at(list, i), "type");
		const char *bucket, *key, *code = NULL;
		struct str body;
		if ((type && strcmp(type, "s3")) || split_arn(t->a, arn, &bucket, &key) < 0) {
			*why = arena_sprintf(t->a,
					     "ResourceInitializationError: failed to download env "
					     "files: unable to parse bucket and key from s3 ARN "
					     "specified in environmentFile %s",
					     arn ? arn : "");
			return -1;
		}
		if (s3_object_read(t->fb, t->a, t->account, bucket, key, ENVFILE_MAX, &body,
				   &code) < 0) {
			*why = arena_sprintf(t->a,
					     "ResourceInitializationError: failed to download env "
					     "files: unable to download env file with key %s from "
					     "bucket %s, error: %s",
					     key, bucket, code ? code : "InternalError");
			return -1;
		}
		char **vars = arena_zalloc(t->a, sizeof(char *));
		size_t nv = 0;
		ecs_envfile_parse(t->a, body.p, body.n, &vars, &nv);
		for (size_t v = 0; v < nv; v++) {
			const char *eq = strchr(vars[v], '=');
			ecs_env_set(t->a, env, n, vars[v], (size_t)(eq - vars[v]), eq + 1);
		}
	}
	return 0;
}
