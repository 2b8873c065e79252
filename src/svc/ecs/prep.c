/* prep.c - what a container's process is, built once before the task's
 * first container starts (so a bad secret or environment file fails the
 * whole task, as on ECS): argv from entryPoint/command and the image's
 * Entrypoint/Cmd with Docker's rules; the environment from, lowest first,
 * the image's Env, environmentFiles, `environment` (with the run's
 * overrides), `secrets`, then what fogbank injects; the working
 * directory; and the `user` ids, resolved in the image's own
 * /etc/passwd. Health probes reuse all of it. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecs/live.h"
#include <stdlib.h>

void ecs_env_set(struct arena *a, char ***env, size_t *n, const char *name, size_t nn,
		 const char *val)
{
	for (size_t i = 0; i < *n; i++)
		if (!strncmp((*env)[i], name, nn) && (*env)[i][nn] == '=') {
			(*env)[i] = arena_sprintf(a, "%.*s=%s", (int)nn, name, val);
			return;
		}
	*env = arena_realloc(a, *env, (*n + 1) * sizeof(char *), (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = arena_sprintf(a, "%.*s=%s", (int)nn, name, val);
	(*env)[*n] = NULL;
}

/* env_get: the value of NAME in env, or NULL. */
static const char *env_get(char **env, size_t n, const char *name)
{
	size_t nn = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(env[i], name, nn) && env[i][nn] == '=')
			return env[i] + nn + 1;
	return NULL;
}

/* strv: a JV_ARRAY of strings as a NULL-terminated argv (arena), or NULL. */
static char **strv(struct arena *a, const struct jv *arr)
{
	if (!arr || arr->type != JV_ARRAY)
		return NULL;
	char **v = arena_zalloc(a, (jv_len(arr) + 1) * sizeof(char *));
	for (size_t i = 0; i < jv_len(arr); i++)
		v[i] = jv_at(arr, i)->type == JV_STRING ? (char *)jv_at(arr, i)->u.s.p : "";
	return v;
}

/* env_list: adds an environment [{name, value}] list (later wins). */
static void env_list(struct arena *a, char ***env, size_t *n, const struct jv *list)
{
	for (size_t i = 0; i < jv_len(list); i++) {
		const char *k = jv_get_str(jv_at(list, i), "name");
		const char *v = jv_get_str(jv_at(list, i), "value");
		if (k)
			ecs_env_set(a, env, n, k, strlen(k), v ? v : "");
	}
}

/* override_of: the run's containerOverrides entry for container name, or
 * NULL. */
static const struct jv *override_of(struct live *t, const char *name)
{
	const struct jv *list = jv_get(ecs_parse(t->a, t->overrides), "containerOverrides");
	for (size_t i = 0; i < jv_len(list); i++) {
		const char *n = jv_get_str(jv_at(list, i), "name");
		if (n && !strcmp(n, name))
			return jv_at(list, i);
	}
	return NULL;
}

/* argv_of: Docker's rules: an entryPoint given resets the image's Cmd;
 * the run's command override replaces `command`. NULL when empty. */
static char **argv_of(struct arena *a, const struct jv *d, const struct jv *ov,
		      const struct jv *conf)
{
	char **ep = strv(a, jv_get(d, "entryPoint"));
	char **cmd = strv(a, jv_get(ov, "command"));
	if (!cmd)
		cmd = strv(a, jv_get(d, "command"));
	if (!ep)
		ep = strv(a, jv_get(conf, "Entrypoint"));
	if (!cmd && !jv_get(d, "entryPoint"))
		cmd = strv(a, jv_get(conf, "Cmd"));
	size_t ne = 0, nc = 0;
	while (ep && ep[ne])
		ne++;
	while (cmd && cmd[nc])
		nc++;
	if (ne + nc == 0)
		return NULL;
	char **argv = arena_zalloc(a, (ne + nc + 1) * sizeof(char *));
	if (ne)
		memcpy(argv, ep, ne * sizeof(char *));
	if (nc)
		memcpy(argv + ne, cmd, nc * sizeof(char *));
	return argv;
}

/* inject: what every task gets from fogbank: where the AWS API is, its
 * region, its own address, and the task-role credentials endpoint. */
static void inject(struct live *t, char ***env, size_t *n)
{
	struct arena *a = t->a;
	const char *endpoint = arena_sprintf(a, "http://%s:%d", t->fb->host, t->fb->port);
	ecs_env_set(a, env, n, "AWS_ENDPOINT_URL", 16, endpoint);
	ecs_env_set(a, env, n, "AWS_REGION", 10, t->region);
	ecs_env_set(a, env, n, "AWS_DEFAULT_REGION", 18, t->region);
	ecs_env_set(a, env, n, "FOGBANK_TASK_IP", 15, t->addr);
	ecs_env_set(a, env, n, "ECS_TASK_ARN", 12, t->arn);
	if (!t->creds)
		return;
	/* SDKs try RELATIVE_URI first, against 169.254.170.2, which a task
	 * on loopback cannot reach: FULL_URI (loopback, which SDKs accept)
	 * is what makes them work unchanged. RELATIVE_URI is only for
	 * machines that route 169.254.170.2:80 to fogbank themselves. */
	const char *rel = arena_sprintf(a, "/v2/credentials/%s", t->creds->id);
	ecs_env_set(a, env, n, "AWS_CONTAINER_CREDENTIALS_FULL_URI", 34,
		    arena_sprintf(a, "%s%s", endpoint, rel));
	const char *want_rel = getenv("FOGBANK_ECS_RELATIVE_URI");
	if (want_rel && !strcmp(want_rel, "1"))
		ecs_env_set(a, env, n, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", 38, rel);
}

/* user_of: resolves k's `user` into its ids (honoured by the runc and
 * chroot runtimes, which need root; the direct one, what an unprivileged
 * fogbank uses, cannot switch users and says so once per task). 0, or -1
 * with *why set. */
static int user_of(struct live *t, struct live_ctr *k, const char *spec, char ***env, size_t *n,
		   const char **why)
{
	struct rt_user u;
	const char *err = NULL;
	if (rt_user_resolve(t->a, k->rootfs, spec, &u, &err) < 0) {
		*why = arena_sprintf(t->a, "CannotStartContainerError: %s", err);
		return -1;
	}
	if (!env_get(*env, *n, "HOME"))
		ecs_env_set(t->a, env, n, "HOME", 4, u.home ? u.home : "/");
	if (rt_mode() == RT_DIRECT) {
		log_warn("ecs: %s/%s: user %s ignored: tasks run directly, as fogbank's user",
			 t->task_id, k->name, spec);
		return 0;
	}
	k->set_ids = 1;
	k->uid = u.uid;
	k->gid = u.gid;
	return 0;
}

int ecs_prep(struct live *t, struct live_ctr *k, const char **why)
{
	struct arena *a = t->a;
	const struct jv *d = k->def, *conf = k->img.config;
	const struct jv *ov = override_of(t, k->name);
	char **env = arena_zalloc(a, sizeof(char *));
	size_t n = 0;
	const struct jv *ienv = jv_get(conf, "Env");
	for (size_t i = 0; i < jv_len(ienv); i++) {
		const char *e = jv_at(ienv, i)->u.s.p, *eq = e ? strchr(e, '=') : NULL;
		if (eq)
			ecs_env_set(a, &env, &n, e, (size_t)(eq - e), eq + 1);
	}
	if (ecs_envfile_apply(t, jv_get(d, "environmentFiles"), &env, &n, why) < 0 ||
	    ecs_envfile_apply(t, jv_get(ov, "environmentFiles"), &env, &n, why) < 0)
		return -1;
	env_list(a, &env, &n, jv_get(d, "environment"));
	env_list(a, &env, &n, jv_get(ov, "environment"));
	const struct jv *secrets = jv_get(d, "secrets");
	for (size_t i = 0; i < jv_len(secrets); i++) {
		const char *sn = jv_get_str(jv_at(secrets, i), "name"), *err = NULL;
		const char *vf = jv_get_str(jv_at(secrets, i), "valueFrom");
		const char *v =
		    vf ? ecs_secret_value(t->fb, a, t->account, t->region, vf, &err) : NULL;
		if (!v || !sn) {
			*why = err ? err : "ResourceInitializationError: invalid secret";
			return -1;
		}
		ecs_env_set(a, &env, &n, sn, strlen(sn), v);
	}
	inject(t, &env, &n);
	k->argv = argv_of(a, d, ov, conf);
	if (!k->argv) {
		*why = "CannotStartContainerError: no command specified";
		return -1;
	}
	const char *user = jv_get_str(d, "user");
	if (!user)
		user = jv_get_str(conf, "User"); /* Docker runs as the image's USER */
	if (user && *user && user_of(t, k, user, &env, &n, why) < 0)
		return -1;
	if (!env_get(env, n, "HOME")) {
		/* root's home from the image's passwd, else "/", as Docker
		 * (and runc) set it */
		struct rt_user u;
		const char *err = NULL;
		int found = rt_user_resolve(a, k->rootfs, "0", &u, &err) == 0 && u.home;
		ecs_env_set(a, &env, &n, "HOME", 4, found ? u.home : "/");
	}
	const char *cwd = jv_get_str(d, "workingDirectory");
	k->cwd = cwd ? cwd : jv_get_str(conf, "WorkingDir");
	k->envp = env;
	return 0;
}
