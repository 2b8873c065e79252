/* child.c - fork/exec, reaping and output capture of supervised children. */
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_LINE_MAX 8192

struct child_pipe {
	int fd;
	size_t n;
	char line[CHILD_LINE_MAX];
};

struct child {
	struct loop *loop;
	pid_t pid;
	char *name;
	int stop_signal;
	int64_t stop_timeout_ms;
	uint64_t kill_timer;
	int stopping;
	child_exit_cb *on_exit;
	child_line_cb *on_line;
	void *arg;
	struct child_pipe out, err;
	struct child *next;
};

static struct child *children;
static int sigchld_installed;

static void child_unlink(struct child *ch)
{
	for (struct child **p = &children; *p; p = &(*p)->next)
		if (*p == ch) {
			*p = ch->next;
			return;
		}
}

/* emit_line: hands one captured line to the owner or the log. */
static void emit_line(struct child *ch, int stream, const char *p, size_t n)
{
	if (ch->on_line)
		ch->on_line(ch, stream, p, n, ch->arg);
	else
		log_info("[%s] %.*s", ch->name, (int)n, p);
}

/* drain: reads what is available from one pipe, splitting lines. Returns
 * 0 at EOF (pipe closed and unwatched), 1 otherwise. */
static int drain(struct child *ch, struct child_pipe *cp, int stream)
{
	for (;;) {
		ssize_t r = read(cp->fd, cp->line + cp->n, sizeof(cp->line) - cp->n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 1;
		if (r <= 0) {
			if (cp->n)
				emit_line(ch, stream, cp->line, cp->n);
			cp->n = 0;
			loop_watch(ch->loop, cp->fd, 0, NULL, NULL);
			close(cp->fd);
			cp->fd = -1;
			return 0;
		}
		cp->n += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < cp->n; i++)
			if (cp->line[i] == '\n') {
				emit_line(ch, stream, cp->line + start, i - start);
				start = i + 1;
			}
		if (start == 0 && cp->n == sizeof(cp->line)) {
			emit_line(ch, stream, cp->line, cp->n); /* over-long line: split */
			start = cp->n;
		}
		memmove(cp->line, cp->line + start, cp->n - start);
		cp->n -= start;
	}
}

static void out_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct child *ch = arg;
	drain(ch, fd == ch->out.fd ? &ch->out : &ch->err, fd == ch->out.fd ? 1 : 2);
}

/* close_pipes: delivers the child's last output, then closes its pipes.
 * Runs before on_exit, so on_line never follows on_exit. */
static void close_pipes(struct child *ch, int deliver)
{
	struct child_pipe *ps[2] = {&ch->out, &ch->err};
	for (int i = 0; i < 2; i++)
		if (ps[i]->fd >= 0) {
			if (deliver)
				drain(ch, ps[i], i + 1); /* the last words of a dying child */
			if (ps[i]->fd >= 0) {
				loop_watch(ch->loop, ps[i]->fd, 0, NULL, NULL);
				close(ps[i]->fd);
				ps[i]->fd = -1;
			}
		}
}

static void child_free(struct child *ch)
{
	if (ch->kill_timer)
		loop_timer_cancel(ch->loop, ch->kill_timer);
	close_pipes(ch, 0);
	free(ch->name);
	free(ch);
}

static void sigchld_cb(struct loop *l, int signo, void *arg)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct child *ch = children;
		while (ch && ch->pid != pid)
			ch = ch->next;
		if (!ch)
			continue;
		child_unlink(ch);
		/* the group may hold grandchildren (postgres backends): end them */
		kill(-pid, SIGKILL);
		close_pipes(ch, 1);
		if (ch->on_exit)
			ch->on_exit(ch, status, ch->arg);
		child_free(ch);
	}
}

static char *errdup(const char *what, int e)
{
	char *s = NULL;
	if (asprintf(&s, "%s: %s", what, strerror(e)) < 0)
		fb_die("out of memory");
	return s;
}

/* in_child: runs in the forked child; never returns. */
static void in_child(const struct child_spec *spec, int out_w, int err_w, int report_w,
		     pid_t parent)
{
	int e;
	setsid();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	if (spec->cwd && chdir(spec->cwd) < 0)
		goto fail;
	if (spec->set_ids &&
	    (setgroups(0, NULL) < 0 || setgid(spec->gid) < 0 || setuid(spec->uid) < 0))
		goto fail;
	/* die with fogbank, even on SIGKILL. After setuid: the kernel clears
	 * the death signal when credentials change. Re-check the parent to
	 * close the race where it died before prctl. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (spec->envp)
		execve(spec->argv[0], spec->argv, spec->envp);
	else
		execv(spec->argv[0], spec->argv);
fail:
	e = errno;
	if (write(report_w, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

struct child *child_spawn(struct loop *l, const struct child_spec *spec, child_exit_cb *on_exit,
			  child_line_cb *on_line, void *arg, char **err)
{
	int out[2], errp[2], report[2];
	*err = NULL;
	if (!sigchld_installed) {
		if (loop_on_signal(l, SIGCHLD, sigchld_cb, NULL) < 0) {
			*err = errdup("signalfd(SIGCHLD)", errno);
			return NULL;
		}
		sigchld_installed = 1;
	}
	if (pipe2(out, O_CLOEXEC) < 0)
		return *err = errdup("pipe", errno), NULL;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]);
		return *err = errdup("pipe", errno), NULL;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]), close(errp[0]), close(errp[1]);
		return *err = errdup("pipe", errno), NULL;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(out[0]), close(out[1]), close(errp[0]), close(errp[1]);
		close(report[0]), close(report[1]);
		return *err = errdup("fork", e), NULL;
	}
	if (pid == 0)
		in_child(spec, out[1], errp[1], report[1], parent);
	close(out[1]);
	close(errp[1]);
	close(report[1]);
	int e = 0;
	ssize_t r;
	do
		r = read(report[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(report[0]);
	if (r == (ssize_t)sizeof(e)) {
		/* exec failed: reap it now so SIGCHLD finds nothing of ours */
		waitpid(pid, NULL, 0);
		close(out[0]);
		close(errp[0]);
		char what[512];
		snprintf(what, sizeof(what), "exec %s", spec->argv[0]);
		*err = errdup(what, e);
		return NULL;
	}
	struct child *ch = calloc(1, sizeof(*ch));
	if (!ch)
		fb_die("out of memory");
	ch->loop = l;
	ch->pid = pid;
	ch->name = strdup(spec->name ? spec->name : spec->argv[0]);
	ch->stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
	ch->stop_timeout_ms = spec->stop_timeout_ms ? spec->stop_timeout_ms : 10000;
	ch->on_exit = on_exit;
	ch->on_line = on_line;
	ch->arg = arg;
	ch->out.fd = out[0];
	ch->err.fd = errp[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	loop_watch(l, out[0], LOOP_READ, out_cb, ch);
	loop_watch(l, errp[0], LOOP_READ, out_cb, ch);
	ch->next = children;
	children = ch;
	log_info("child %s started pid=%d", ch->name, (int)pid);
	return ch;
}

pid_t child_pid(const struct child *ch)
{
	return ch->pid;
}

const char *child_name(const struct child *ch)
{
	return ch->name;
}

int child_signal(struct child *ch, int sig)
{
	return kill(-ch->pid, sig) < 0 && kill(ch->pid, sig) < 0 ? -1 : 0;
}

static void kill_timer_cb(struct loop *l, void *arg)
{
	struct child *ch = arg;
	ch->kill_timer = 0;
	log_warn("child %s did not stop in %lld ms; SIGKILL", ch->name,
		 (long long)ch->stop_timeout_ms);
	child_signal(ch, SIGKILL);
}

void child_stop(struct child *ch)
{
	if (ch->stopping)
		return;
	ch->stopping = 1;
	/* postgres wants the signal on the postmaster alone: it stops its
	 * backends itself, in order */
	kill(ch->pid, ch->stop_signal);
	ch->kill_timer = loop_timer_add(ch->loop, ch->stop_timeout_ms, kill_timer_cb, ch);
}

void child_shutdown_all(int64_t timeout_ms)
{
	for (struct child *ch = children; ch; ch = ch->next)
		kill(ch->pid, ch->stop_signal);
	int64_t deadline = fb_mono_ms() + timeout_ms;
	while (children) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			for (struct child *ch = children; ch; ch = ch->next)
				if (ch->pid == pid) {
					child_unlink(ch);
					kill(-pid, SIGKILL);
					child_free(ch);
					break;
				}
			continue;
		}
		if (fb_mono_ms() >= deadline) {
			for (struct child *ch = children; ch; ch = ch->next)
				child_signal(ch, SIGKILL);
			deadline = fb_mono_ms() + 5000;
		}
		/* wait for the next SIGCHLD without spinning; it is blocked
		 * (signalfd), so sigtimedwait takes it synchronously */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		struct timespec ts = {0, 50 * 1000 * 1000};
		sigtimedwait(&set, NULL, &ts);
	}
}

size_t child_count(void)
{
	size_t n = 0;
	for (struct child *ch = children; ch; ch = ch->next)
		n++;
	return n;
}
