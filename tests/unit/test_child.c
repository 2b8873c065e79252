/* test_child.c - supervised children: output capture, exit status, exec
 * failure, stop escalation, process-group cleanup. */
#include "core/child.h"
#include "core/loop.h"
#include "test.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

struct seen {
	char out[256], err[256];
	int status;
	int exited;
};

static void line_cb(struct child *ch, int stream, const char *line, size_t n, void *arg)
{
	struct seen *s = arg;
	char *dst = stream == 1 ? s->out : s->err;
	size_t have = strlen(dst);
	if (have + n + 2 < sizeof(s->out)) {
		memcpy(dst + have, line, n);
		dst[have + n] = '|';
		dst[have + n + 1] = 0;
	}
}

static void exit_cb(struct child *ch, int status, void *arg)
{
	struct seen *s = arg;
	s->status = status;
	s->exited = 1;
}

static void stop_when_exited(struct loop *l, void *arg)
{
	struct seen *s = arg;
	if (s->exited)
		loop_stop(l);
	else
		loop_timer_add(l, 5, stop_when_exited, s);
}

static void stop_loop(struct loop *l, void *arg)
{
	loop_stop(l);
}

/* gone: 1 when pid no longer runs (absent, or a zombie waiting for init). */
static int gone(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

/* one loop for every test, as in fogbank: SIGCHLD's signalfd is
 * registered on the loop of the first spawn */
static struct loop *test_loop(void)
{
	static struct loop *l;
	if (!l)
		l = loop_new();
	return l;
}

static void run_until_exit(struct loop *l, struct seen *s)
{
	loop_timer_add(l, 0, stop_when_exited, s);
	loop_run(l);
}

TEST(child_output_and_status)
{
	struct loop *l = test_loop();
	struct seen s = {0};
	char *argv[] = {"/bin/sh", "-c", "echo one; echo two; echo oops >&2; printf tail; exit 3",
			NULL};
	struct child_spec spec = {.name = "t", .argv = argv};
	char *err = NULL;
	struct child *ch = child_spawn(l, &spec, exit_cb, line_cb, &s, &err);
	CHECK(ch != NULL);
	run_until_exit(l, &s);
	CHECK(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 3);
	CHECK_STREQ(s.out, "one|two|tail|");
	CHECK_STREQ(s.err, "oops|");
	CHECK(child_count() == 0);
}

TEST(child_exec_failure)
{
	struct loop *l = test_loop();
	char *argv[] = {"/nonexistent/binary", NULL};
	struct child_spec spec = {.name = "bad", .argv = argv};
	char *err = NULL;
	CHECK(child_spawn(l, &spec, exit_cb, NULL, NULL, &err) == NULL);
	CHECK(err && strstr(err, "No such file"));
	free(err);
	CHECK(child_count() == 0);
}

TEST(child_stop_escalates_and_kills_group)
{
	struct loop *l = test_loop();
	struct seen s = {0};
	/* ignores SIGTERM, and has a grandchild in its group */
	char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait", NULL};
	struct child_spec spec = {.name = "stubborn", .argv = argv, .stop_timeout_ms = 200};
	char *err = NULL;
	struct child *ch = child_spawn(l, &spec, exit_cb, line_cb, &s, &err);
	CHECK(ch != NULL);
	/* wait for the grandchild's pid line */
	while (!strchr(s.out, '|')) {
		loop_timer_add(l, 5, stop_loop, NULL);
		loop_run(l);
	}
	pid_t grandchild = (pid_t)atoi(s.out);
	CHECK(grandchild > 0 && kill(grandchild, 0) == 0);
	child_stop(ch);
	run_until_exit(l, &s);
	CHECK(WIFSIGNALED(s.status) && WTERMSIG(s.status) == SIGKILL);
	/* the whole group went: the grandchild is dead (or a zombie that
	 * init has yet to reap) */
	int dead = 0;
	for (int i = 0; i < 400 && !dead; i++) {
		dead = gone(grandchild);
		if (!dead)
			usleep(5000); /* SIGKILL delivery is asynchronous */
	}
	CHECK(dead);
}
