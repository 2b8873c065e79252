/* runc.c - task containers under runc (the OCI runtime Debian ships).
 *
 * Per container, a bundle <data_dir>/ecs/bundles/<id>/ holds config.json
 * (spec.c), hosts and hostname, and the root: an overlayfs mounted by
 * fogbank at rootfs/ whose lower layer is the image's shared unpacked
 * tree and whose upper layer (upper/, work/) is the container's own, so
 * every task writes into a private ephemeral filesystem as on Fargate (if
 * the mount fails the shared tree is used, and logged). runc keeps its
 * state under <data_dir>/ecs/runc.
 *
 * `runc run --keep` is a supervised child (core/child.h): its exit status
 * is the container's, SIGTERM reaches the container through it, and its
 * death (fogbank's stopTimeout SIGKILL, or fogbank dying) kills the
 * container: fogbank-init, the container's first program, sets
 * PR_SET_PDEATHSIG before becoming the application (init.c). --keep
 * leaves the cgroup in place until fogbank has read the memory cgroup's
 * oom_kill counter (ECS's OutOfMemoryError); then `runc delete --force`,
 * the overlay is unmounted and the bundle removed, off the loop's back
 * (children again). What a SIGKILLed fogbank leaves is removed by the
 * next one at start (rt_cleanup_leftovers); a normal exit cleans up in an
 * atexit handler, after child_shutdown_all has stopped the containers.
 *
 * The container counts as started (rt_started_cb) once runc has written
 * its --pid-file <bundle>/pid: runc does that after the container's first
 * process has exec'd fogbank-init, and writes it as .pid then renames it,
 * so an inotify watch on the bundle (IN_MOVED_TO; IN_CLOSE_WRITE should a
 * runc write it in place) tells the loop without polling. */
#include "core/compat.h"
#include "aws/json.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "runtime/runc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RT_OOM_REASON "OutOfMemoryError: Container killed due to memory usage"
#define RT_FILE_MAX (256 << 10)

/* Cleanup steps, in order. */
enum { STEP_DELETE = 1, STEP_REMOVE, STEP_DONE };

static struct rt_ctr *ctrs; /* containers not yet cleaned up */
static pid_t atexit_owner;  /* the process that armed the atexit cleanup */

/* The environment of runc itself (it gives the container config.json's). */
static char *const runc_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

/* xasprintf: malloc'd formatted text; aborts on out of memory. */
static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	return s;
}

/* state_root: runc's --root for fb (arena). */
static const char *state_root(struct arena *a, struct fogbank *fb)
{
	return arena_sprintf(a, "%s/ecs/runc", fb->data_dir);
}

/* read_text: the first RT_FILE_MAX bytes of path, NUL-terminated (arena),
 * or NULL. */
static char *read_text(struct arena *a, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *p = arena_alloc(a, RT_FILE_MAX + 1);
	size_t n = 0;
	ssize_t r;
	while (n < RT_FILE_MAX &&
	       ((r = read(fd, p + n, RT_FILE_MAX - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	close(fd);
	p[n] = 0;
	return p;
}

/* safe_id: id with every character runc refuses replaced by '_' (arena). */
static const char *safe_id(struct arena *a, const char *id)
{
	char *s = arena_sprintf(a, "%.200s", id && *id ? id : "ctr");
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			*p = '_';
	return s;
}

/* mount_overlay: mounts the container's root at <bundle>/rootfs: lower
 * the shared tree, upper and work inside the bundle. 0 or -1 (logged). */
static int mount_overlay(struct arena *a, const char *bundle, const char *lower)
{
	const char *upper = arena_sprintf(a, "%s/upper", bundle);
	const char *work = arena_sprintf(a, "%s/work", bundle);
	const char *merged = arena_sprintf(a, "%s/rootfs", bundle);
	if ((mkdir(upper, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(work, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(merged, 0755) < 0 && errno != EEXIST))
		return -1;
	/* ',' and ':' separate overlay options and layers */
	if (strpbrk(lower, ",:") || strpbrk(bundle, ",:")) {
		errno = EINVAL;
		return -1;
	}
	const char *opts =
	    arena_sprintf(a, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	return mount("overlay", merged, "overlay", MS_NODEV, opts);
}

/* quiet_line: runc's own chatter during cleanup goes to the debug log. */
static void quiet_line(struct child *ch, int stream, const char *p, size_t n, void *arg)
{
	log_debug("[%s] %.*s", child_name(ch), (int)n, p);
}

static void cleanup_next(struct rt_ctr *c);

/* cleanup_step_done: one cleanup child ended; on to the next step. */
static void cleanup_step_done(struct child *ch, int status, void *arg)
{
	cleanup_next(arg);
}

/* cleanup_argv: the command of cleanup step `step` for c (arena), or
 * NULL when the step has nothing to run. */
static char **cleanup_argv(struct arena *a, struct rt_ctr *c, int step)
{
	const char *runc = rt_runc_exe();
	char **v = arena_zalloc(a, 8 * sizeof(char *));
	if (step == STEP_DELETE) {
		if (!runc)
			return NULL;
		const char *args[] = {runc,	"--root",  state_root(a, c->fb),
				      "delete", "--force", c->id};
		memcpy(v, args, sizeof(args));
		return v;
	}
	/* --one-file-system: never through a mount that is still there */
	const char *args[] = {"/bin/rm", "-rf", "--one-file-system", c->bundle,
			      arena_sprintf(a, "%s/%s", state_root(a, c->fb), c->id)};
	memcpy(v, args, sizeof(args));
	return v;
}

/* unmount: detaches c's overlay (lazily: nothing on the host uses it). */
static void unmount(struct rt_ctr *c)
{
	if (c->mounted && umount2(c->root, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn("ecs: umount %s: %s", c->root, strerror(errno));
	c->mounted = 0;
}

/* unwatch_pid: stops watching c's bundle for the pid file. The loop
 * registration goes with the fd only while the loop runs (not at exit). */
static void unwatch_pid(struct rt_ctr *c, int loop_alive)
{
	if (c->ifd < 0)
		return;
	if (loop_alive)
		loop_watch(c->fb->loop, c->ifd, 0, NULL, NULL);
	close(c->ifd);
	c->ifd = -1;
}

/* ctr_free: c is cleaned up: forget it. */
static void ctr_free(struct rt_ctr *c)
{
	unwatch_pid(c, 0);
	for (struct rt_ctr **p = &ctrs; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c->id);
	free(c->bundle);
	free(c->root);
	free(c);
}

/* cleanup_next: runs c's next cleanup step as a child (runc delete, then
 * umount and rm of the bundle and of runc's state), then frees c. */
static void cleanup_next(struct rt_ctr *c)
{
	for (;;) {
		int step = ++c->cleaning;
		if (step >= STEP_DONE) {
			ctr_free(c);
			return;
		}
		if (step == STEP_REMOVE)
			unmount(c);
		struct arena *a = arena_new(2048);
		char **argv = cleanup_argv(a, c, step);
		char *err = NULL;
		struct child_spec spec = {
		    .name = "ecs/runc-cleanup", .argv = argv, .envp = runc_env};
		struct child *ch =
		    argv ? child_spawn(c->fb->loop, &spec, cleanup_step_done, quiet_line, c, &err)
			 : NULL;
		arena_free(a);
		if (ch)
			return;
		if (err)
			log_warn("ecs: cleanup of container %s: %s", c->id, err);
		free(err);
	}
}

/* run_sync: runs argv to its end (at exit, when the loop is gone). */
static void run_sync(char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execve(argv[0], argv, runc_env);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* cleanup_at_exit: fogbank is exiting and its children are gone (so are
 * the containers, through fogbank-init's death signal): delete what is
 * left, synchronously. Not in forked children. */
static void cleanup_at_exit(void)
{
	if (getpid() != atexit_owner)
		return;
	while (ctrs) {
		struct rt_ctr *c = ctrs;
		struct arena *a = arena_new(2048);
		/* a step under way was killed with the other children: redo it */
		for (int step = c->cleaning > 0 ? c->cleaning : STEP_DELETE; step < STEP_DONE;
		     step++) {
			if (step == STEP_REMOVE)
				unmount(c);
			char **argv = cleanup_argv(a, c, step);
			if (argv)
				run_sync(argv);
		}
		arena_free(a);
		ctr_free(c);
	}
}

/* track: adds c to the containers to clean up (and arms the exit hook). */
static void track(struct rt_ctr *c)
{
	if (!atexit_owner) {
		atexit_owner = getpid();
		atexit(cleanup_at_exit);
	}
	c->next = ctrs;
	ctrs = c;
}

/* new_ctr: a tracked container record for id (bundle path set). */
static struct rt_ctr *new_ctr(struct fogbank *fb, const char *id)
{
	struct rt_ctr *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->fb = fb;
	c->kind = RT_RUNC;
	c->id = xasprintf("%s", id);
	c->bundle = xasprintf("%s/ecs/bundles/%s", fb->data_dir, id);
	c->root = xasprintf("%s/rootfs", c->bundle);
	c->ifd = -1;
	track(c);
	return c;
}

/* oom_killed: whether the kernel's OOM killer struck in c's memory
 * cgroup (still there: run --keep), found through runc's state.json. */
static int oom_killed(struct arena *a, struct rt_ctr *c)
{
	const char *text =
	    read_text(a, arena_sprintf(a, "%s/%s/state.json", state_root(a, c->fb), c->id));
	struct jv *st = text ? json_parse(a, text, strlen(text), NULL) : NULL;
	const struct jv *paths = jv_get(st, "cgroup_paths");
	const char *v1 = jv_get_str(paths, "memory"), *v2 = jv_get_str(paths, "");
	const char *f = v1 && *v1   ? arena_sprintf(a, "%s/memory.oom_control", v1)
			: v2 && *v2 ? arena_sprintf(a, "%s/memory.events", v2)
				    : NULL;
	const char *counters = f ? read_text(a, f) : NULL;
	return counters && rt_oom_kills(counters) > 0;
}

/* runc_error: the last error runc logged for c (arena), or a generic one. */
static const char *runc_error(struct arena *a, struct rt_ctr *c)
{
	char *text = read_text(a, arena_sprintf(a, "%s/runc.log", c->bundle));
	const char *msg = NULL;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		struct jv *v = json_parse(a, line, n, NULL);
		const char *level = jv_get_str(v, "level");
		if (level && !strcmp(level, "error") && jv_get_str(v, "msg"))
			msg = jv_get_str(v, "msg");
		line = nl ? nl + 1 : NULL;
	}
	return msg ? msg : "runc could not create the container";
}

/* pid_written: whether runc's pid file for c is there, complete (it is
 * renamed into place, so present means written). */
static int pid_written(struct rt_ctr *c)
{
	struct arena *a = arena_new(1024);
	struct stat sb;
	int r = stat(arena_sprintf(a, "%s/pid", c->bundle), &sb) == 0 && sb.st_size > 0;
	arena_free(a);
	return r;
}

/* mark_started: c's process exists: stop watching and tell the owner,
 * once. The owner may call rt_stop from on_started; c outlives it. */
static void mark_started(struct rt_ctr *c)
{
	unwatch_pid(c, 1);
	if (c->started)
		return;
	c->started = 1;
	if (c->on_started)
		c->on_started(c->arg);
}

/* pid_event: something happened in c's bundle; started when it was the
 * pid file arriving (or the queue overflowed: then look). */
static void pid_event(struct loop *l, int fd, unsigned events, void *arg)
{
	struct rt_ctr *c = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int seen = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (char *p = buf; n > 0 && p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			if ((ev->mask & IN_Q_OVERFLOW) || (ev->len && !strcmp(ev->name, "pid")))
				seen = 1;
			p += sizeof(*ev) + ev->len;
		}
	/* a read error other than "drained" would spin the loop: look now */
	int broken = n < 0 && errno != EAGAIN;
	if ((seen || broken) && pid_written(c))
		mark_started(c);
	else if (broken)
		unwatch_pid(c, 1); /* run_exit still decides, from the file */
}

/* watch_pid: watches c's bundle for runc's pid file (before runc runs,
 * so it cannot be missed). 0 or -1 (errno). */
static int watch_pid(struct rt_ctr *c)
{
	c->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->ifd < 0)
		return -1;
	if (inotify_add_watch(c->ifd, c->bundle, IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
	    loop_watch(c->fb->loop, c->ifd, LOOP_READ, pid_event, c) < 0) {
		int e = errno;
		close(c->ifd);
		c->ifd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

/* run_exit: `runc run` ended, with the container's status. */
static void run_exit(struct child *ch, int status, void *arg)
{
	struct rt_ctr *c = arg;
	struct arena *a = arena_new(4096);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	const char *reason = NULL;
	c->ch = NULL;
	/* the pid file's event may still be queued behind this exit */
	if (!c->started && pid_written(c))
		mark_started(c);
	unwatch_pid(c, 1);
	/* runc writes the pid file once the container runs; an exit without
	 * it is runc's own failure (or runc killed before it got there) */
	if (!c->started) {
		reason = arena_sprintf(a, "CannotStartContainerError: %s", runc_error(a, c));
		code = -1;
	} else if (oom_killed(a, c)) {
		reason = RT_OOM_REASON;
	}
	c->on_exit(c->arg, code, reason);
	arena_free(a);
	cleanup_next(c);
}

/* run_line: a line of the container (or of runc) for the owner. */
static void run_line(struct child *ch, int stream, const char *p, size_t n, void *arg)
{
	struct rt_ctr *c = arg;
	if (c->on_line)
		c->on_line(ch, stream, p, n, c->arg);
	else
		log_info("[%s] %.*s", child_name(ch), (int)n, p);
}

/* proc_args: fogbank-init, the absolute exe, then p's argv (arena). */
static char **proc_args(struct arena *a, const char *exe, const struct rt_proc *p)
{
	size_t n = 0;
	while (p->argv[n])
		n++;
	char **v = arena_zalloc(a, (n + 3) * sizeof(char *));
	v[0] = RT_INIT_DEST;
	v[1] = (char *)exe;
	memcpy(v + 2, p->argv, n * sizeof(char *));
	return v;
}

/* write_bundle: hosts, hostname and config.json of c. 0 or -1 (errno). */
static int write_bundle(struct arena *a, struct rt_ctr *c, const struct rt_proc *p,
			const char *root_path, const char *exe)
{
	const char *host = p->hostname && *p->hostname ? p->hostname : "localhost";
	const char *ip = NULL;
	for (char *const *e = p->envp; e && *e; e++)
		if (!strncmp(*e, "FOGBANK_TASK_IP=", 16))
			ip = *e + 16;
	const char *hosts = arena_sprintf(a, "%s/hosts", c->bundle);
	const char *hostname = arena_sprintf(a, "%s/hostname", c->bundle);
	const char *ht =
	    arena_sprintf(a,
			  "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
			  "ip6-loopback\n%s%s%s%s",
			  ip ? ip : "", ip ? "\t" : "", ip ? host : "", ip ? "\n" : "");
	const char *hn = arena_sprintf(a, "%s\n", host);
	struct stat sb;
	struct rt_spec s = {
	    .args = proc_args(a, exe, p),
	    .env = p->envp,
	    .cwd = p->cwd,
	    .uid = p->set_ids ? p->uid : 0,
	    .gid = p->set_ids ? p->gid : 0,
	    .root = root_path,
	    .readonly_root = p->readonly_root,
	    .hostname = host,
	    .init_src = rt_init_exe(),
	    .hosts = hosts,
	    .hostname_file = hostname,
	    .resolv = stat("/etc/resolv.conf", &sb) == 0 ? "/etc/resolv.conf" : NULL,
	    .cgroups_path = arena_sprintf(a, "fogbank/%s", c->id),
	    .lim = p->lim,
	};
	struct buf b = BUF_INIT;
	rt_spec_json(&b, &s);
	int rc = fs_write_atomic(hosts, ht, strlen(ht), 0644, -1, -1) < 0 ||
			 fs_write_atomic(hostname, hn, strlen(hn), 0644, -1, -1) < 0 ||
			 fs_write_atomic(arena_sprintf(a, "%s/config.json", c->bundle), b.p, b.n,
					 0600, -1, -1) < 0
		     ? -1
		     : 0;
	buf_release(&b);
	return rc;
}

/* fail: c could not start: *err (malloc'd) says why; c is cleaned up. */
static struct rt_ctr *fail(struct rt_ctr *c, char **err, const char *what, int e)
{
	*err = e ? xasprintf("CannotStartContainerError: %s: %s", what, strerror(e))
		 : xasprintf("CannotStartContainerError: %s", what);
	c->cleaning = STEP_DELETE; /* nothing of runc's to delete */
	cleanup_next(c);
	return NULL;
}

struct rt_ctr *rt_runc_start(struct fogbank *fb, const struct rt_proc *p, rt_exit_cb *on_exit,
			     rt_started_cb *on_started, child_line_cb *on_line, void *arg,
			     char **err)
{
	struct arena *a = arena_new(8192);
	const char *sroot = state_root(a, fb);
	struct rt_ctr *c = new_ctr(fb, safe_id(a, p->id));
	c->on_exit = on_exit;
	c->on_started = on_started;
	c->on_line = on_line;
	c->arg = arg;
	if (!rt_runc_exe() || !rt_init_exe()) {
		arena_free(a);
		return fail(c, err, "runc or fogbank-init (next to fogbank) is missing", 0);
	}
	if (fs_mkdir_p(sroot, 0700) < 0 || fs_mkdir_p(c->bundle, 0700) < 0) {
		int e = errno;
		arena_free(a);
		return fail(c, err, "bundle directory", e);
	}
	const char *root_path = "rootfs";
	if (mount_overlay(a, c->bundle, p->rootfs) == 0) {
		c->mounted = 1;
	} else {
		/* the documented fallback: every task of the image shares it */
		log_warn("ecs: %s: overlay mount failed (%s); the container uses the shared "
			 "root %s",
			 c->id, strerror(errno), p->rootfs);
		free(c->root);
		c->root = xasprintf("%s", p->rootfs);
		root_path = p->rootfs;
	}
	const char *exe = rt_lookup(a, c->root, p);
	if (!exe) {
		arena_free(a);
		return fail(c, err, "executable file not found in $PATH", 0);
	}
	if (write_bundle(a, c, p, root_path, exe) < 0) {
		int e = errno;
		arena_free(a);
		return fail(c, err, "config.json", e);
	}
	const char *bundle_file[] = {"runc.log", "pid"};
	/* a pid file left from before would pass for this start */
	if ((unlink(arena_sprintf(a, "%s/%s", c->bundle, bundle_file[1])) < 0 && errno != ENOENT) ||
	    watch_pid(c) < 0) {
		int e = errno;
		arena_free(a);
		return fail(c, err, "watching the bundle", e);
	}
	char *argv[] = {(char *)rt_runc_exe(),
			"--root",
			(char *)sroot,
			"--log",
			arena_sprintf(a, "%s/%s", c->bundle, bundle_file[0]),
			"--log-format",
			"json",
			"run",
			"--keep",
			"--bundle",
			c->bundle,
			"--pid-file",
			arena_sprintf(a, "%s/%s", c->bundle, bundle_file[1]),
			c->id,
			NULL};
	struct child_spec spec = {.name = p->name,
				  .argv = argv,
				  .envp = runc_env,
				  .stop_timeout_ms =
				      p->stop_timeout_ms > 0 ? p->stop_timeout_ms : 30000};
	c->ch = child_spawn(fb->loop, &spec, run_exit, run_line, c, err);
	arena_free(a);
	if (!c->ch) {
		unwatch_pid(c, 1);
		c->cleaning = STEP_DELETE;
		cleanup_next(c);
		return NULL;
	}
	return c;
}

struct child *rt_runc_exec(struct fogbank *fb, struct rt_ctr *c, const struct rt_proc *p,
			   child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err)
{
	if (!c->ch) {
		*err = xasprintf("container %s is not running", c->id);
		return NULL;
	}
	struct arena *a = arena_new(4096);
	const char *exe = rt_lookup(a, c->root, p);
	if (!exe) {
		arena_free(a);
		*err = xasprintf("CannotStartContainerError: executable file not found in $PATH");
		return NULL;
	}
	/* the process takes the container's user, environment and cwd from
	 * config.json (the same p built); fogbank-init ties it to runc exec */
	char **args = proc_args(a, exe, p);
	size_t n = 0;
	while (args[n])
		n++;
	char **argv = arena_zalloc(a, (n + 6) * sizeof(char *));
	const char *head[] = {rt_runc_exe(), "--root", state_root(a, fb), "exec", c->id};
	memcpy(argv, head, sizeof(head));
	memcpy(argv + FB_ARRAY_LEN(head), args, n * sizeof(char *));
	struct child_spec spec = {
	    .name = p->name, .argv = argv, .envp = runc_env, .stop_timeout_ms = p->stop_timeout_ms};
	struct child *ch = child_spawn(fb->loop, &spec, on_exit, on_line, arg, err);
	arena_free(a);
	return ch;
}

void rt_runc_stop(struct rt_ctr *c)
{
	if (c->ch)
		child_stop(c->ch);
}

/* leftover: queues the cleanup of container id of a previous fogbank,
 * unless it is known already. */
static void leftover(struct fogbank *fb, const char *id, size_t *n)
{
	for (struct rt_ctr *c = ctrs; c; c = c->next)
		if (!strcmp(c->id, id))
			return;
	struct rt_ctr *c = new_ctr(fb, id);
	c->mounted = 1; /* perhaps: umount2 says EINVAL when not */
	(*n)++;
}

void rt_cleanup_leftovers(struct fogbank *fb)
{
	struct arena *a = arena_new(4096);
	const char *dirs[] = {arena_sprintf(a, "%s/ecs/bundles", fb->data_dir), state_root(a, fb)};
	size_t n = 0;
	for (size_t i = 0; i < FB_ARRAY_LEN(dirs); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				leftover(fb, e->d_name, &n);
		if (d)
			closedir(d);
	}
	arena_free(a);
	if (!n)
		return;
	log_info("ecs: removing %zu container(s) left by a previous fogbank", n);
	/* the list holds only the leftovers now: no container ran yet */
	for (struct rt_ctr *c = ctrs, *next; c; c = next) {
		next = c->next;
		cleanup_next(c);
	}
}
