/* user.c - a container's `user` ("name", "uid", "name:group", "uid:gid",
 * "name:gid", "uid:group") resolved the way Docker does it: names come
 * from the image's own /etc/passwd and /etc/group (never the host's), a
 * numeric uid absent from passwd runs with gid 0, and a name that is not
 * there is an error. Parsing is pure (rt_user_parse) so it is unit tested;
 * rt_user_resolve only reads the two files from the rootfs. */
#include "core/compat.h"
#include "runtime/runtime.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define RT_ETC_MAX (1u << 20)

/* numeric: 1 when s[0..n) is a non-empty run of digits that fits in 31
 * bits (ids above that are refused, as runc does); *v gets the value. */
static int numeric(const char *s, size_t n, unsigned long *v)
{
	if (n == 0 || n > 10)
		return 0;
	unsigned long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > 0x7fffffffUL)
		return 0;
	*v = x;
	return 1;
}

/* field: the i-th ':'-separated field of line[0..n) as (p, len); 0 when
 * the line has fewer fields. */
static int field(const char *line, size_t n, int i, const char **p, size_t *len)
{
	const char *s = line, *e = line + n;
	for (int k = 0; k < i; k++) {
		const char *c = memchr(s, ':', (size_t)(e - s));
		if (!c)
			return 0;
		s = c + 1;
	}
	const char *c = memchr(s, ':', (size_t)(e - s));
	*p = s;
	*len = c ? (size_t)(c - s) : (size_t)(e - s);
	return 1;
}

/* lookup: finds the line of an /etc/passwd or /etc/group text whose name
 * (field 0) is name[0..nn), or whose id (field 2) is id when name is NULL.
 * Returns the line start and its length in *len, or NULL. */
static const char *lookup(const char *text, const char *name, size_t nn, unsigned long id,
			  size_t *len)
{
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		const char *f;
		size_t fl;
		unsigned long v;
		if (name ? field(l, n, 0, &f, &fl) && fl == nn && !memcmp(f, name, nn)
			 : field(l, n, 2, &f, &fl) && numeric(f, fl, &v) && v == id) {
			*len = n;
			return l;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int rt_user_parse(struct arena *a, const char *passwd, const char *group, const char *spec,
		  struct rt_user *u, const char **err)
{
	const char *colon = strchr(spec, ':');
	size_t un = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long v;
	size_t len;
	const char *f, *line;
	size_t fl;
	*u = (struct rt_user){0, 0, NULL};
	if (un == 0) {
		*err = arena_sprintf(a, "invalid user \"%s\"", spec);
		return -1;
	}
	if (numeric(spec, un, &v)) {
		u->uid = (uid_t)v;
		line = lookup(passwd, NULL, 0, v, &len);
	} else {
		line = lookup(passwd, spec, un, 0, &len);
		if (!line || !field(line, len, 2, &f, &fl) || !numeric(f, fl, &v)) {
			*err = arena_sprintf(a,
					     "unable to find user %.*s: no matching entries in "
					     "passwd file",
					     (int)un, spec);
			return -1;
		}
		u->uid = (uid_t)v;
	}
	/* the passwd entry gives the primary group and home */
	if (line && field(line, len, 3, &f, &fl) && numeric(f, fl, &v))
		u->gid = (gid_t)v;
	if (line && field(line, len, 5, &f, &fl) && fl)
		u->home = arena_strndup(a, f, fl);
	if (!colon)
		return 0;
	const char *g = colon + 1;
	if (numeric(g, strlen(g), &v)) {
		u->gid = (gid_t)v;
		return 0;
	}
	line = *g ? lookup(group, g, strlen(g), 0, &len) : NULL;
	if (!line || !field(line, len, 2, &f, &fl) || !numeric(f, fl, &v)) {
		*err = arena_sprintf(
		    a, "unable to find group %s: no matching entries in group file", g);
		return -1;
	}
	u->gid = (gid_t)v;
	return 0;
}

/* slurp_etc: <rootfs>/etc/<name> (arena, NUL-terminated), "" when it is
 * absent. O_NOFOLLOW: an image's symlink must not make us read the host's
 * file. */
static const char *slurp_etc(struct arena *a, const char *rootfs, const char *name)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/etc/%s", rootfs, name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return "";
	char *buf = arena_alloc(a, RT_ETC_MAX + 1);
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, RT_ETC_MAX - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == RT_ETC_MAX)
			break;
	}
	close(fd);
	buf[n] = 0;
	return buf;
}

int rt_user_resolve(struct arena *a, const char *rootfs, const char *spec, struct rt_user *u,
		    const char **err)
{
	/* the files can be large; only the answer outlives this call */
	struct arena *tmp = arena_new(RT_ETC_MAX + 4096);
	const char *e = NULL;
	int rc = rt_user_parse(tmp, slurp_etc(tmp, rootfs, "passwd"),
			       slurp_etc(tmp, rootfs, "group"), spec, u, &e);
	if (u->home)
		u->home = arena_strdup(a, u->home);
	if (rc < 0)
		*err = arena_strdup(a, e);
	arena_free(tmp);
	return rc;
}
