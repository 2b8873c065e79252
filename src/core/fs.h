/* fs.h - small file-system helpers shared by the daemon and services. */
#ifndef FB_CORE_FS_H
#define FB_CORE_FS_H
#include "core/compat.h"
#include <sys/types.h>

/* fs_mkdir_p: creates dir and its missing parents with <mode> (existing
 * ones are left as they are). 0, or -1 with errno set. */
int fs_mkdir_p(const char *dir, mode_t mode);
/* fs_write_atomic: path holds exactly p[0..n) afterwards, with <mode>
 * (and owner uid:gid unless uid is -1), or is left as it was: written to
 * path.tmp, fsynced, renamed over path. 0, or -1 with errno set. */
int fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode, long uid, long gid);
#endif
