/* spawn.c - which runtime runs task containers (rt_mode), and the two
 * fallbacks that need no OCI runtime: as root, `unshare --root --wd` (a
 * chroot, no new namespaces: the host network is shared and tasks bind
 * their own loopback address; a `user` becomes --setgid and --setuid);
 * otherwise the binary of the rootfs run in place. rt_start, rt_exec and
 * rt_stop hand runc containers to runc.c. */
#include "core/compat.h"
#include "core/arena.h"
#include "core/log.h"
#include "fb.h"
#include "runtime/runc.h"
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RT_UNSHARE "/usr/bin/unshare"

/* env_path: the PATH entry of envp, or the image-spec default. */
static const char *env_path(char *const *envp)
{
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, "PATH=", 5))
			return *envp + 5;
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

const char *rt_lookup(struct arena *a, const char *root, const struct rt_proc *p)
{
	const char *name = p->argv[0];
	struct stat sb;
	if (strchr(name, '/')) {
		const char *abs =
		    name[0] == '/' ? name : arena_sprintf(a, "%s/%s", p->cwd ? p->cwd : "", name);
		return lstat(arena_sprintf(a, "%s%s", root, abs), &sb) == 0 ? abs : NULL;
	}
	const char *path = env_path(p->envp);
	while (*path) {
		size_t n = strcspn(path, ":");
		const char *cand = arena_sprintf(a, "%.*s/%s", (int)n, path, name);
		if (cand[0] == '/' && lstat(arena_sprintf(a, "%s%s", root, cand), &sb) == 0)
			return cand;
		path += n + (path[n] == ':');
	}
	return NULL;
}

const char *rt_runc_exe(void)
{
	static const char *const cands[] = {"/usr/sbin/runc", "/usr/bin/runc"};
	for (size_t i = 0; i < FB_ARRAY_LEN(cands); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

const char *rt_init_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = 0;
	char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + sizeof("/fogbank-init") > sizeof(path))
		return NULL;
	memcpy(slash + 1, "fogbank-init", sizeof("fogbank-init"));
	return access(path, X_OK) == 0 ? path : NULL;
}

/* cgroups_writable: the memory controller is mounted and fogbank may
 * make cgroups in it (v1: its own hierarchy; v2: the unified one). */
static int cgroups_writable(void)
{
	if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0)
		return access("/sys/fs/cgroup/memory", W_OK) == 0;
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
	char line[512] = "";
	if (!f)
		return 0;
	int ok = fgets(line, sizeof(line), f) && strstr(line, "memory") &&
		 access("/sys/fs/cgroup", W_OK) == 0;
	fclose(f);
	return ok;
}

/* pick: the runtime for FOGBANK_ECS_RUNTIME value want (NULL: auto),
 * with why a wish cannot be honoured in *why. */
static enum rt_kind pick(const char *want, const char **why)
{
	int root = geteuid() == 0;
	int chroot_ok = root && access(RT_UNSHARE, X_OK) == 0;
	int runc_ok = root && rt_runc_exe() && rt_init_exe();
	if (want && !strcmp(want, "direct"))
		return RT_DIRECT;
	if (want && !strcmp(want, "chroot")) {
		if (chroot_ok)
			return RT_CHROOT;
		*why = "chroot needs root and " RT_UNSHARE;
		return RT_DIRECT;
	}
	if (want && !strcmp(want, "runc")) {
		if (runc_ok)
			return RT_RUNC;
		*why = "runc needs root, runc and fogbank-init next to fogbank";
	} else if (want && *want) {
		*why = "unknown value (runc, chroot or direct)";
	} else if (runc_ok && !cgroups_writable()) {
		*why = "no writable memory cgroup for runc";
	} else if (runc_ok) {
		return RT_RUNC;
	}
	return chroot_ok ? RT_CHROOT : RT_DIRECT;
}

enum rt_kind rt_mode(void)
{
	static int decided;
	static enum rt_kind kind;
	if (decided)
		return kind;
	const char *want = getenv("FOGBANK_ECS_RUNTIME"), *why = NULL;
	static const char *const names[] = {"runc", "chroot", "direct"};
	kind = pick(want, &why);
	decided = 1;
	if (why)
		log_warn("ecs: FOGBANK_ECS_RUNTIME=%s: %s", want && *want ? want : "(auto)", why);
	if (kind == RT_RUNC)
		log_info("ecs: task runtime: runc (%s, %s)", rt_runc_exe(), rt_init_exe());
	else
		log_info("ecs: task runtime: %s", names[kind]);
	return kind;
}

/* spawn_plain: p as a chroot'd (root) or in-place (direct) process. */
static struct child *spawn_plain(struct fogbank *fb, const struct rt_proc *p,
				 child_exit_cb *on_exit, child_line_cb *on_line, void *arg,
				 char **err)
{
	struct arena *a = arena_new(4096);
	const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
	const char *exe = rt_lookup(a, p->rootfs, p);
	struct child *ch = NULL;
	if (!exe) {
		*err = strdup("CannotStartContainerError: executable file not found in $PATH");
		arena_free(a);
		return NULL;
	}
	size_t n = 0;
	while (p->argv[n])
		n++;
	char **argv = arena_zalloc(a, (n + 8) * sizeof(char *));
	size_t k = 0;
	struct child_spec spec = {.name = p->name,
				  .envp = p->envp,
				  .stop_timeout_ms =
				      p->stop_timeout_ms > 0 ? p->stop_timeout_ms : 30000};
	if (rt_mode() == RT_CHROOT) {
		argv[k++] = RT_UNSHARE;
		argv[k++] = arena_sprintf(a, "--root=%s", p->rootfs);
		argv[k++] = arena_sprintf(a, "--wd=%s", cwd);
		/* ids change after the chroot: an unprivileged uid could not
		 * chroot itself */
		if (p->set_ids) {
			argv[k++] = arena_sprintf(a, "--setgid=%u", (unsigned)p->gid);
			argv[k++] = arena_sprintf(a, "--setuid=%u", (unsigned)p->uid);
		}
		argv[k++] = "--";
		argv[k++] = (char *)exe;
	} else {
		/* the binary of the rootfs, run in place, as fogbank's user */
		argv[k++] = arena_sprintf(a, "%s%s", p->rootfs, exe);
		spec.cwd = arena_sprintf(a, "%s%s", p->rootfs, cwd);
	}
	for (size_t i = 1; i < n; i++)
		argv[k++] = p->argv[i];
	spec.argv = argv;
	ch = child_spawn(fb->loop, &spec, on_exit, on_line, arg, err);
	arena_free(a);
	return ch;
}

/* plain_exit: a chroot'd or direct container ended. */
static void plain_exit(struct child *ch, int status, void *arg)
{
	struct rt_ctr *c = arg;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	c->ch = NULL;
	c->on_exit(c->arg, code, NULL);
	free(c);
}

/* plain_line: passes a line on to the container's owner. */
static void plain_line(struct child *ch, int stream, const char *p, size_t n, void *arg)
{
	struct rt_ctr *c = arg;
	if (c->on_line)
		c->on_line(ch, stream, p, n, c->arg);
	else
		log_info("[%s] %.*s", child_name(ch), (int)n, p);
}

struct rt_ctr *rt_start(struct fogbank *fb, const struct rt_proc *p, rt_exit_cb *on_exit,
			rt_started_cb *on_started, child_line_cb *on_line, void *arg, char **err)
{
	if (rt_mode() == RT_RUNC)
		return rt_runc_start(fb, p, on_exit, on_started, on_line, arg, err);
	struct rt_ctr *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->fb = fb;
	c->kind = rt_mode();
	c->ifd = -1;
	c->on_exit = on_exit;
	c->on_line = on_line;
	c->arg = arg;
	c->ch = spawn_plain(fb, p, plain_exit, plain_line, c, err);
	if (!c->ch) {
		free(c);
		return NULL;
	}
	c->started = 1; /* the process itself: it exists once spawned */
	return c;
}

int rt_started(const struct rt_ctr *c)
{
	return c->started;
}

void rt_stop(struct rt_ctr *c)
{
	if (c->kind == RT_RUNC)
		rt_runc_stop(c);
	else if (c->ch)
		child_stop(c->ch);
}

struct child *rt_exec(struct fogbank *fb, struct rt_ctr *c, const struct rt_proc *p,
		      child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err)
{
	if (c->kind == RT_RUNC)
		return rt_runc_exec(fb, c, p, on_exit, on_line, arg, err);
	return spawn_plain(fb, p, on_exit, on_line, arg, err);
}
