/* spawn.c - starting a task's process in its rootfs: the entrypoint is
 * looked up in the image's PATH, then run through `unshare --root --wd`
 * as root (a chroot, no new namespaces: the host network is shared and
 * tasks bind their own loopback address; a `user` becomes --setgid and
 * --setuid), or directly from the rootfs when fogbank is not root. */
#include "core/compat.h"
#include "core/arena.h"
#include "fb.h"
#include "runtime/runtime.h"
#include <stdlib.h>
#include <sys/stat.h>
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

/* lookup: argv0 as an absolute path inside the image (arena), or NULL. */
static const char *lookup(struct arena *a, const struct rt_proc *p)
{
	const char *name = p->argv[0];
	struct stat sb;
	if (strchr(name, '/')) {
		const char *abs =
		    name[0] == '/' ? name : arena_sprintf(a, "%s/%s", p->cwd ? p->cwd : "", name);
		return lstat(arena_sprintf(a, "%s%s", p->rootfs, abs), &sb) == 0 ? abs : NULL;
	}
	const char *path = env_path(p->envp);
	while (*path) {
		size_t n = strcspn(path, ":");
		const char *cand = arena_sprintf(a, "%.*s/%s", (int)n, path, name);
		if (cand[0] == '/' && lstat(arena_sprintf(a, "%s%s", p->rootfs, cand), &sb) == 0)
			return cand;
		path += n + (path[n] == ':');
	}
	return NULL;
}

struct child *rt_spawn(struct fogbank *fb, const struct rt_proc *p, child_exit_cb *on_exit,
		       child_line_cb *on_line, void *arg, char **err)
{
	struct arena *a = arena_new(4096);
	const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
	const char *exe = lookup(a, p);
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
	if (geteuid() == 0 && access(RT_UNSHARE, X_OK) == 0) {
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
		/* unprivileged fallback: the binary of the rootfs, run in place */
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
