/* init.c - fogbank-init, the first program runc starts in a task's
 * container (a separate static binary, built next to fogbank and
 * bind-mounted read-only at /dev/.fogbank-init; see runc.c).
 *
 *   fogbank-init EXE ARGV0 [ARGS...]
 *
 * It asks for SIGKILL when its parent (`runc run`, or `runc exec` for a
 * health probe) dies, then execve()s EXE with ARGV0 ARGS... and the same
 * environment. The death signal survives execve, so the application
 * itself is the container's PID 1 (as on ECS without initProcessEnabled)
 * and, when runc dies with fogbank (PR_SET_PDEATHSIG of supervised
 * children), the kernel kills PID 1 and with it the whole pid namespace:
 * no container outlives fogbank. The race where runc dies before the
 * prctl cannot be seen from inside a pid namespace (getppid() is 0); the
 * next fogbank's start-up cleanup (`runc delete --force`) covers it.
 *
 * Not part of the fogbank binary (the Makefile builds it alone, -static,
 * never with sanitizers): it must run in any image, with no libc there. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

/* main: arms the death signal and becomes EXE; 127 when it cannot (the
 * reason on stderr, which is the container's log). */
int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "fogbank-init: usage: fogbank-init EXE ARGV0 [ARGS...]\n");
		return 127;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		fprintf(stderr, "fogbank-init: prctl: %s\n", strerror(errno));
		return 127;
	}
	execve(argv[1], argv + 2, environ);
	fprintf(stderr, "fogbank-init: exec %s: %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
