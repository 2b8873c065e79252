/* unpack.c - one root filesystem per image digest under
 * <data_dir>/ecs/rootfs/<hex>, made by running /usr/bin/tar on each layer
 * (GNU tar detects gzip/zstd itself) as a supervised child, so the loop
 * never blocks. The tree is built in <hex>.tmp and renamed into place when
 * complete: a crash mid-unpack leaves only a .tmp the next attempt clears.
 * Concurrent requests for the same image wait on the one job. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "runtime/runtime.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct waiter {
	rt_unpack_cb *cb;
	void *arg;
};

struct job {
	struct job *next;
	struct fogbank *fb;
	char *hex, *dir, *tmp;
	char **layers; /* malloc'd copies, NULL-terminated */
	size_t next_layer;
	struct waiter *w;
	size_t nw;
};

static struct job *jobs;

/* xstrdup: strdup that aborts on out of memory (as the arenas do). */
static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* xasprintf: malloc'd formatted text. */
static char *xasprintf(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, fmt, a, b);
	return p;
}

/* finish: tells every waiter and frees the job. */
static void finish(struct job *j, const char *err)
{
	for (struct job **p = &jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (err)
		log_warn("ecs: unpack %s: %s", j->hex, err);
	for (size_t i = 0; i < j->nw; i++)
		j->w[i].cb(j->fb, j->w[i].arg, err ? NULL : j->dir, err);
	for (char **l = j->layers; *l; l++)
		free(*l);
	free(j->layers);
	free(j->w);
	free(j->hex);
	free(j->dir);
	free(j->tmp);
	free(j);
}

/* devices: the few device nodes programs expect (as root; best effort,
 * since the rootfs has no /dev mount without a mount namespace). */
static void devices(const char *root)
{
	static const struct {
		const char *name;
		unsigned minor;
	} devs[] = {{"null", 3}, {"zero", 5}, {"random", 8}, {"urandom", 9}};
	if (geteuid() != 0)
		return;
	char p[4200];
	snprintf(p, sizeof(p), "%s/dev", root);
	mkdir(p, 0755);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(p, sizeof(p), "%s/dev/%s", root, devs[i].name);
		if (mknod(p, S_IFCHR | 0666, makedev(1, devs[i].minor)) == 0)
			chmod(p, 0666);
	}
}

static void step(struct job *j);

/* step_done: a tar (or the initial rm) ended. */
static void step_done(struct child *ch, int status, void *arg)
{
	struct job *j = arg;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		finish(j, "tar failed to unpack a layer");
		return;
	}
	step(j);
}

/* step: runs the next stage: mkdir, one tar per layer, then the rename. */
static void step(struct job *j)
{
	char *err = NULL;
	if (j->next_layer == 0 && mkdir(j->tmp, 0755) < 0 && errno != EEXIST) {
		finish(j, strerror(errno));
		return;
	}
	const char *layer = j->layers[j->next_layer];
	if (!layer) {
		devices(j->tmp);
		if (rename(j->tmp, j->dir) < 0)
			finish(j, strerror(errno));
		else
			finish(j, NULL);
		return;
	}
	j->next_layer++;
	char *argv[] = {"/usr/bin/tar", "-xf", (char *)layer, "-C", j->tmp, NULL};
	struct child_spec spec = {.name = "ecs/unpack", .argv = argv};
	if (!child_spawn(j->fb->loop, &spec, step_done, NULL, j, &err)) {
		finish(j, err ? err : "cannot run tar");
		free(err);
	}
}

/* clear_done: the stale .tmp is gone; start unpacking. */
static void clear_done(struct child *ch, int status, void *arg)
{
	step(arg);
}

void rt_unpack(struct fogbank *fb, const struct rt_image *img, rt_unpack_cb *cb, void *arg)
{
	const char *hex = strchr(img->digest, ':') ? strchr(img->digest, ':') + 1 : img->digest;
	for (struct job *j = jobs; j; j = j->next)
		if (!strcmp(j->hex, hex)) {
			j->w = realloc(j->w, (j->nw + 1) * sizeof(*j->w));
			if (!j->w)
				abort();
			j->w[j->nw++] = (struct waiter){cb, arg};
			return;
		}
	char base[4096];
	snprintf(base, sizeof(base), "%s/ecs", fb->data_dir);
	mkdir(base, 0700);
	snprintf(base, sizeof(base), "%s/ecs/rootfs", fb->data_dir);
	mkdir(base, 0755);
	char *dir = xasprintf("%s/%s", base, hex);
	struct stat sb;
	if (stat(dir, &sb) == 0) {
		cb(fb, arg, dir, NULL);
		free(dir);
		return;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	size_t n = 0;
	while (img->layers[n])
		n++;
	j->fb = fb;
	j->hex = xstrdup(hex);
	j->dir = dir;
	j->tmp = xasprintf("%s%s", dir, ".tmp");
	j->layers = calloc(n + 1, sizeof(char *));
	if (!j->layers)
		abort();
	for (size_t i = 0; i < n; i++)
		j->layers[i] = xstrdup(img->layers[i]);
	j->w = malloc(sizeof(*j->w));
	if (!j->w)
		abort();
	j->w[0] = (struct waiter){cb, arg};
	j->nw = 1;
	j->next = jobs;
	jobs = j;
	char *err = NULL;
	char *argv[] = {"/bin/rm", "-rf", j->tmp, NULL};
	struct child_spec spec = {.name = "ecs/unpack", .argv = argv};
	if (!child_spawn(fb->loop, &spec, clear_done, NULL, j, &err)) {
		finish(j, err ? err : "cannot run rm");
		free(err);
	}
}
