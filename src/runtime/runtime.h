/* runtime.h - the task runtime: finding an image, unpacking its layers into
 * a root filesystem once per image, and running a container from it.
 *
 * Images come from fogbank's registry (the repositoryUri:tag or @digest
 * that ECR returned; also <account>.dkr.ecr.<region>.amazonaws.com/name)
 * or from an OCI image layout on disk ("oci:/path:tag"). Nothing is pulled
 * from the internet. Layers are unpacked with /usr/bin/tar (as supervised
 * children, so the loop never blocks) into <data_dir>/ecs/rootfs/<hex>,
 * shared read-only by every task of that image. Whiteout files of upper
 * layers are not applied (documented limit).
 *
 * Containers always share the host network namespace (tasks must bind
 * their own loopback address). How they run is chosen once (rt_mode):
 *
 *   runc    (root, runc installed, cgroups writable): an OCI bundle per
 *           container under <data_dir>/ecs/bundles/<id>, whose root is an
 *           overlayfs of the shared rootfs with a private writable layer;
 *           own pid, mount, ipc and uts namespaces; cgroup memory and cpu
 *           limits; fogbank-init as the first program (runc.c).
 *   chroot  (root): `unshare --root --wd`, a chroot with no namespaces;
 *           every task of an image writes into the same tree.
 *   direct  (not root): the image's binary runs in place with its cwd in
 *           the rootfs (absolute symlinks and paths then resolve on the
 *           host), as fogbank's user.
 *
 * A `user` is applied inside the container (runc's process.user, or
 * `unshare --setgid --setuid` after the chroot; supplementary groups
 * cleared); an unprivileged fogbank cannot change ids. */
#ifndef FB_RUNTIME_H
#define FB_RUNTIME_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/child.h"
#include "aws/value.h"

struct fogbank;

/* A resolved image; everything lives in the arena given to rt_image_resolve. */
struct rt_image {
	const char *digest;  /* manifest digest, the rootfs cache key */
	const char **layers; /* layer blob files, base first, NULL-terminated */
	struct jv *config;   /* the config's "config" object (Entrypoint, Cmd, Env,
				WorkingDir, User), or NULL */
};

/* rt_image_resolve: finds image ref for account/region. Returns 0, or -1
 * with *err (arena) set to ECS's CannotPullContainerError reason. */
int rt_image_resolve(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		     const char *ref, struct rt_image *img, const char **err);

/* rt_unpack_cb: the rootfs directory is ready (err NULL) or could not be
 * made (rootfs NULL, err a message). Both strings die after the call. */
typedef void rt_unpack_cb(struct fogbank *fb, void *arg, const char *rootfs, const char *err);
/* rt_unpack: makes the rootfs of img (once: later calls find it, calls
 * during an unpack wait for it) and calls cb, possibly before returning. */
void rt_unpack(struct fogbank *fb, const struct rt_image *img, rt_unpack_cb *cb, void *arg);

/* How task containers run (see above). */
enum rt_kind { RT_RUNC, RT_CHROOT, RT_DIRECT };
/* rt_mode: FOGBANK_ECS_RUNTIME (runc, chroot or direct, honoured when
 * the machine allows it) or else the best the machine allows: runc when
 * root with runc (/usr/sbin or /usr/bin), fogbank-init next to fogbank's
 * executable and a writable memory cgroup; chroot when root; direct.
 * Decided and logged once. */
enum rt_kind rt_mode(void);

/* cgroup limits of a runc container; 0 means none. */
struct rt_limits {
	int64_t memory_mib;	 /* hard limit (memory.limit, no swap) */
	int64_t reservation_mib; /* soft limit (memory.reservation) */
	int64_t cpu_shares;	 /* relative weight (cpu.shares) */
	int64_t cpu_quota_us;	 /* per 100 ms period (cpu.cfs_quota_us) */
};

/* A process to start in a rootfs. */
struct rt_proc {
	const char *name;	 /* for fogbank's logs */
	const char *rootfs;	 /* from rt_unpack */
	char *const *argv;	 /* argv[0]: a path inside the image, or a name
				    looked up in the PATH of envp */
	char *const *envp;	 /* the whole environment */
	const char *cwd;	 /* inside the image; NULL: "/" */
	int64_t stop_timeout_ms; /* SIGTERM, then SIGKILL after this */
	int set_ids;		 /* run as uid/gid (honoured only as root) */
	uid_t uid;
	gid_t gid;
	/* runc only */
	const char *id;	      /* container id, unique for fogbank's life */
	const char *hostname; /* the container's uts name */
	int readonly_root;    /* readonlyRootFilesystem */
	struct rt_limits lim;
};

/* A running container (opaque; the runtime frees it). */
struct rt_ctr;
/* rt_exit_cb: the container's process is gone. code is its exit status
 * (128 + signal when killed), or -1 when it never started; reason is
 * NULL or the container reason ECS would give ("OutOfMemoryError: ...",
 * "CannotStartContainerError: ..."), valid during the call. The rt_ctr
 * is dead once this is called; its files are cleaned up behind. */
typedef void rt_exit_cb(void *arg, int code, const char *reason);
/* rt_started_cb: the container's process now exists (called once). */
typedef void rt_started_cb(void *arg);
/* rt_start: starts p as a container with the rt_mode runtime (a
 * supervised child: see core/child.h; on_line gets its output). Under
 * chroot and direct the process exists on return (rt_started says so)
 * and on_started is never called; under runc it exists only once runc
 * has created it: on_started is then called from the loop, before
 * on_exit (a container runc fails to create gets on_exit with -1 and no
 * on_started). Returns it, or NULL with *err set to a malloc'd message
 * (caller frees). */
struct rt_ctr *rt_start(struct fogbank *fb, const struct rt_proc *p, rt_exit_cb *on_exit,
			rt_started_cb *on_started, child_line_cb *on_line, void *arg, char **err);
/* rt_started: whether c's process has been created. */
int rt_started(const struct rt_ctr *c);
/* rt_stop: SIGTERM to the container, SIGKILL after p->stop_timeout_ms;
 * on_exit follows. Idempotent. */
void rt_stop(struct rt_ctr *c);
/* rt_exec: runs another process inside running container c (p's argv,
 * env, cwd and ids; a health probe): `runc exec` under runc, else a
 * process in the same root. Returns the child, or NULL with *err set to
 * a malloc'd message (caller frees). */
struct child *rt_exec(struct fogbank *fb, struct rt_ctr *c, const struct rt_proc *p,
		      child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err);
/* rt_hostname_of: "ip-127-0-0-5" for a task address "127.0.0.5" (arena),
 * as EC2 names hosts; "" for none. Pure. */
const char *rt_hostname_of(struct arena *a, const char *ip);
/* rt_cleanup_leftovers: at start, before any container: removes what a
 * previous fogbank killed with SIGKILL left behind (runc containers and
 * their cgroups, overlay mounts, bundles), asynchronously. */
void rt_cleanup_leftovers(struct fogbank *fb);

/* A resolved `user`: ids, and the passwd home (arena, NULL when none). */
struct rt_user {
	uid_t uid;
	gid_t gid;
	const char *home;
};
/* rt_user_parse: resolves spec ("name", "uid", "name:group", "uid:gid",
 * "name:gid", "uid:group") against the texts of an /etc/passwd and
 * /etc/group ("" when absent), as Docker does: a numeric uid missing from
 * passwd runs with gid 0; a name that is missing is an error. Returns 0,
 * or -1 with *err (arena) set to Docker's wording. Pure. */
int rt_user_parse(struct arena *a, const char *passwd, const char *group, const char *spec,
		  struct rt_user *u, const char **err);
/* rt_user_resolve: rt_user_parse against <rootfs>/etc/passwd and
 * <rootfs>/etc/group (the image's, never the host's; symlinks are not
 * followed). Same returns; strings in a. */
int rt_user_resolve(struct arena *a, const char *rootfs, const char *spec, struct rt_user *u,
		    const char **err);
#endif
