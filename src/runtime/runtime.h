/* runtime.h - the task runtime: finding an image, unpacking its layers into
 * a root filesystem once per image, and starting a process in it.
 *
 * Images come from fogbank's registry (the repositoryUri:tag or @digest
 * that ECR returned; also <account>.dkr.ecr.<region>.amazonaws.com/name)
 * or from an OCI image layout on disk ("oci:/path:tag"). Nothing is pulled
 * from the internet. Layers are unpacked with /usr/bin/tar (as supervised
 * children, so the loop never blocks) into <data_dir>/ecs/rootfs/<hex>,
 * shared read-mostly by every task of that image. Whiteout files of upper
 * layers are not applied (documented limit).
 *
 * Processes run in the host network namespace (tasks must bind their own
 * loopback address); as root they are confined to the rootfs with
 * `unshare --root --wd` (chroot + chdir, no new namespaces), otherwise the
 * entrypoint binary of the rootfs is executed directly with cwd inside the
 * rootfs (the documented unprivileged fallback: absolute symlinks and
 * absolute paths then resolve on the host). A `user` is applied after the
 * chroot (`unshare --setgid --setuid`, supplementary groups cleared); an
 * unprivileged fogbank cannot change ids and runs processes as itself. */
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
};
/* rt_spawn: starts p as a supervised child (see core/child.h). Returns it,
 * or NULL with *err set to a malloc'd message (caller frees). */
struct child *rt_spawn(struct fogbank *fb, const struct rt_proc *p, child_exit_cb *on_exit,
		       child_line_cb *on_line, void *arg, char **err);

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
