/* compat.h - included first by every fogbank source file.
 * Feature macros for POSIX/GNU APIs, and a ban on unbounded string calls. */
#ifndef FB_COMPAT_H
#define FB_COMPAT_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#pragma GCC poison strcpy strcat sprintf gets

#define FB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FB_UNUSED(x) ((void)(x))
#endif
