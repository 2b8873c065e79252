/* runc.h - what the files of src/runtime share about containers: the
 * runtime choice (spawn.c), the PATH lookup inside an image (spawn.c),
 * the OCI config.json of a runc container (spec.c, pure and unit tested)
 * and the runc container lifecycle (runc.c). */
#ifndef FB_RUNTIME_RUNC_H
#define FB_RUNTIME_RUNC_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "runtime/runtime.h"

/* Where fogbank-init appears inside every runc container: /dev is the
 * container's own tmpfs, so nothing is written into the image's root. */
#define RT_INIT_DEST "/dev/.fogbank-init"

/* A container (runtime.h) as spawn.c and runc.c share it; malloc'd. */
struct rt_ctr {
	struct rt_ctr *next; /* runc: every container not yet cleaned up */
	struct fogbank *fb;
	enum rt_kind kind;
	struct child *ch; /* runc run, or the process itself; NULL once gone */
	rt_exit_cb *on_exit;
	rt_started_cb *on_started;
	child_line_cb *on_line;
	int started; /* the process exists (on_started was due) */
	void *arg;
	/* runc only (malloc'd) */
	char *id, *bundle;
	char *root;   /* the container's root as the host sees it */
	int mounted;  /* an overlay is mounted at <bundle>/rootfs */
	int cleaning; /* exited: runc delete, umount, rm of the bundle */
	int ifd;      /* inotify on the bundle until the pid file shows; -1 */
};

/* rt_lookup: p->argv[0] as an absolute path inside the image at root (a
 * rootfs directory), looked up in the PATH of p->envp when it has no
 * slash; NULL when no such file (arena). */
const char *rt_lookup(struct arena *a, const char *root, const struct rt_proc *p);

/* rt_runc_exe / rt_init_exe: the runc binary and fogbank-init (next to
 * fogbank's own executable), or NULL when missing. Static strings. */
const char *rt_runc_exe(void);
const char *rt_init_exe(void);

/* What spec.c needs to write a container's config.json. */
struct rt_spec {
	char *const *args; /* the whole process argv (fogbank-init first) */
	char *const *env;
	const char *cwd; /* NULL: "/" */
	uid_t uid;	 /* 0:0 unless the `user` was resolved */
	gid_t gid;
	const char *root; /* root.path: "rootfs" (the overlay) or absolute */
	int readonly_root;
	const char *hostname;
	const char *init_src;			    /* fogbank-init on the host */
	const char *hosts, *hostname_file, *resolv; /* bind sources; NULL: none */
	const char *cgroups_path;		    /* relative: under fogbank's own */
	struct rt_limits lim;
};

/* rt_spec_json: appends the OCI runtime config (runc's default spec minus
 * the network namespace and the terminal, plus Docker's default
 * capabilities, the binds and the limits of s) to out. Pure. */
void rt_spec_json(struct buf *out, const struct rt_spec *s);

/* rt_oom_kills: the oom_kill counter in the text of a memory cgroup's
 * memory.oom_control (v1) or memory.events (v2); 0 when absent. Pure. */
long long rt_oom_kills(const char *text);

/* rt_runc_start / rt_runc_exec / rt_runc_stop: the runc versions of
 * rt_start, rt_exec and rt_stop (runc.c). */
struct rt_ctr *rt_runc_start(struct fogbank *fb, const struct rt_proc *p, rt_exit_cb *on_exit,
			     rt_started_cb *on_started, child_line_cb *on_line, void *arg,
			     char **err);
struct child *rt_runc_exec(struct fogbank *fb, struct rt_ctr *c, const struct rt_proc *p,
			   child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err);
void rt_runc_stop(struct rt_ctr *c);
#endif
