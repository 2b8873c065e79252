/* fs.c - small file-system helpers (see fs.h). */
#include "core/fs.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *dir, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(tmp)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, mode) < 0 && errno != EEXIST ? -1 : 0;
}

int fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode, long uid, long gid)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	const char *c = p;
	while (n > 0) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		c += k;
		n -= (size_t)k;
	}
	/* fchmod: the umask narrowed mode at open */
	if (fchmod(fd, mode) < 0 || (uid != -1 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) ||
	    fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}
