/* redis.c - one supervised redis-server run: redis.conf, spawn, readiness
 * by PING over the control socket, and a tiny async RESP client for the
 * commands fogbank sends (CONFIG SET, REPLICAOF, BGSAVE, INFO, ACL). */
#include "supervise/redis.h"
#include "core/buf.h"
#include "core/child.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REDIS_CMD_TIMEOUT_MS 5000
#define REDIS_PIPELINE_TIMEOUT_MS 60000 /* a batch of MIGRATEs may take a while */
#define REDIS_PROBE_MAX_MS 50

struct redis_cmd {
	struct redis *r; /* NULL once detached from a server that exited */
	struct loop *l;
	int fd;
	struct buf out, in;
	size_t off;	/* bytes of out already written */
	int skip;	/* replies to pass over first (AUTH) */
	int collect;	/* a pipeline: replies to gather and hand over together */
	int got;	/* of those, complete so far */
	size_t scanned; /* bytes of in holding them */
	redis_reply_cb *cb;
	void *arg;
	uint64_t timer; /* the timeout, or the deferred failure */
	struct redis_cmd *next;
};

struct redis {
	struct loop *loop;
	struct child *ch;
	char *name, *sock, *password;
	redis_event_cb *cb;
	void *arg;
	int ready, probing, probes;
	uint64_t probe_timer;
	struct redis_cmd *cmds;
	struct redis *next_dead; /* in the graveyard */
};

/* put_q: s double-quoted, every byte outside a safe set as \xHH, so values
 * can never end the line or the argument in redis.conf. */
static void put_q(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._:/-+=@,", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "\\x%02x", *p);
	}
	buf_putc(b, '"');
}

/* put_kv: one "key "value"" line. */
static void put_kv(struct buf *b, const char *key, const char *val)
{
	buf_puts(b, key);
	buf_putc(b, ' ');
	put_q(b, val);
	buf_putc(b, '\n');
}

/* put_words: "key "w1" "w2" ..." from a space-separated list. */
static void put_words(struct buf *b, const char *key, const char *list)
{
	buf_puts(b, key);
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n) {
			char w[256];
			snprintf(w, sizeof(w), "%.*s", (int)n, p);
			buf_putc(b, ' ');
			put_q(b, w);
		}
		p += n;
	}
	buf_putc(b, '\n');
}

/* put_cluster: the cluster-mode lines. The announced address is the
 * node's own, so MOVED/ASK redirects and CLUSTER SLOTS name an address
 * clients can reach even when the node also binds endpoint addresses. */
static void put_cluster(struct buf *b, const struct redis_spec *s)
{
	buf_puts(b, "cluster-enabled yes\ncluster-config-file \"nodes.conf\"\n");
	if (s->announce_ip)
		put_kv(b, "cluster-announce-ip", s->announce_ip);
	if (s->cluster_node_timeout_ms > 0)
		buf_printf(b, "cluster-node-timeout %lld\n", (long long)s->cluster_node_timeout_ms);
	if (s->tls_cert)
		buf_puts(b, "tls-cluster yes\n");
}

char *redis_conf_render(const struct redis_spec *s)
{
	struct buf b = BUF_INIT;
	char tmp[4200];
	buf_puts(&b, "# written by fogbank at every start; edits are lost\n"
		     "daemonize no\nsupervised no\nalways-show-logo no\nlogfile \"\"\n"
		     "loglevel notice\nprotected-mode no\nunixsocketperm 700\n"
		     "appendonly yes\nappendfsync everysec\nappenddirname \"appendonlydir\"\n"
		     "save \"\"\ndbfilename \"dump.rdb\"\n"
		     /* a replica syncs at once, not after waiting 5 s for others */
		     "repl-diskless-sync-delay 0\n");
	if (s->tls_cert) {
		buf_printf(&b, "port 0\ntls-port %d\n", s->port);
		put_kv(&b, "tls-cert-file", s->tls_cert);
		put_kv(&b, "tls-key-file", s->tls_key);
		put_kv(&b, "tls-ca-cert-file", s->tls_ca);
		if (s->tls_client_cert) {
			put_kv(&b, "tls-client-cert-file", s->tls_client_cert);
			put_kv(&b, "tls-client-key-file", s->tls_client_key);
		}
		buf_puts(&b, "tls-auth-clients no\ntls-replication yes\n");
	} else {
		buf_printf(&b, "port %d\n", s->port);
	}
	put_words(&b, "bind", s->bind && *s->bind ? s->bind : "127.0.0.1");
	if (s->source_addr)
		put_kv(&b, "bind-source-addr", s->source_addr);
	put_kv(&b, "dir", s->dir);
	snprintf(tmp, sizeof(tmp), "%s/%s", s->dir, REDIS_SOCKET_NAME);
	put_kv(&b, "unixsocket", tmp);
	if (s->primary_host)
		buf_printf(&b, "replicaof %s %d\n", s->primary_host, s->primary_port);
	if (s->maxmemory > 0)
		buf_printf(&b, "maxmemory %lld\n", (long long)s->maxmemory);
	if (s->cluster)
		put_cluster(&b, s);
	for (size_t i = 0; s->params && s->params[i] && s->params[i + 1]; i += 2)
		put_kv(&b, s->params[i], s->params[i + 1]);
	return b.p;
}

char *redis_secret_render(const struct redis_spec *s)
{
	if (!s->password)
		return NULL;
	struct buf b = BUF_INIT;
	char tmp[600];
	buf_puts(&b, "user default on ");
	snprintf(tmp, sizeof(tmp), ">%s", s->password);
	put_q(&b, tmp);
	if (s->password_old) {
		snprintf(tmp, sizeof(tmp), ">%s", s->password_old);
		buf_putc(&b, ' ');
		put_q(&b, tmp);
	}
	buf_puts(&b, " ~* &* +@all\n");
	put_kv(&b, "masterauth", s->password);
	explicit_bzero(tmp, sizeof(tmp));
	return b.p;
}

/* write_conf: <dir>/redis.conf via a temp file, fsync and rename (never
 * half a config for the next start). 0 or -1 with *err. */
static int write_conf(const struct redis_spec *spec, char **err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/redis.conf", spec->dir);
	char *text = redis_conf_render(spec);
	int rc = fs_write_atomic(path, text, strlen(text), 0600, -1, -1);
	free(text);
	if (rc < 0) {
		if (asprintf(err, "write %s: %s", path, strerror(errno)) < 0)
			fb_die("out of memory");
		return -1;
	}
	return 0;
}

long redis_reply_len(const char *p, size_t n)
{
	const char *nl = n ? memchr(p, '\n', n) : NULL;
	if (!nl)
		return n > 64 * 1024 ? -1 : 0;
	size_t line = (size_t)(nl - p) + 1;
	if (line < 3 || nl[-1] != '\r')
		return -1;
	char num[32];
	long v = 0;
	if (p[0] == '$' || p[0] == '*') {
		if (line - 3 >= sizeof(num))
			return -1;
		memcpy(num, p + 1, line - 3);
		num[line - 3] = 0;
		char *end;
		v = strtol(num, &end, 10);
		if (*end || end == num)
			return -1;
	}
	switch (p[0]) {
	case '+':
	case '-':
	case ':':
		return (long)line;
	case '$':
		if (v < 0)
			return (long)line;
		if (n < line + (size_t)v + 2)
			return 0;
		return p[line + (size_t)v] == '\r' ? (long)(line + (size_t)v + 2) : -1;
	case '*': {
		size_t off = line;
		for (long i = 0; i < v; i++) {
			long r = redis_reply_len(p + off, n - off);
			if (r <= 0)
				return r;
			off += (size_t)r;
		}
		return (long)off;
	}
	default:
		return -1;
	}
}

char *redis_info_field(const char *p, size_t n, const char *field)
{
	size_t fl = strlen(field);
	for (size_t i = 0; i + fl < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n;
		if (end - i > fl && !memcmp(p + i, field, fl) && p[i + fl] == ':') {
			size_t vs = i + fl + 1, ve = end;
			while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == ' '))
				ve--;
			return strndup(p + vs, ve - vs);
		}
		i = end + 1;
	}
	return NULL;
}

/* --- the command client --- */

static void cmd_io(struct loop *l, int fd, unsigned events, void *arg);

/* cmd_unlink: takes cmd off its server's list. */
static void cmd_unlink(struct redis_cmd *cmd)
{
	if (!cmd->r)
		return;
	for (struct redis_cmd **p = &cmd->r->cmds; *p; p = &(*p)->next)
		if (*p == cmd) {
			*p = cmd->next;
			break;
		}
	cmd->r = NULL;
}

/* cmd_close: stops watching and closes the socket, cancels the timer. */
static void cmd_close(struct redis_cmd *cmd)
{
	if (cmd->fd >= 0) {
		loop_watch(cmd->l, cmd->fd, 0, NULL, NULL);
		close(cmd->fd);
		cmd->fd = -1;
	}
	if (cmd->timer)
		loop_timer_cancel(cmd->l, cmd->timer);
	cmd->timer = 0;
}

static void cmd_free(struct redis_cmd *cmd)
{
	buf_release(&cmd->out);
	buf_release(&cmd->in);
	free(cmd);
}

/* cmd_finish: reports the reply (cb may be NULL: dropped) and frees. */
static void cmd_finish(struct redis_cmd *cmd, int ok, const char *p, size_t n)
{
	cmd_unlink(cmd);
	cmd_close(cmd);
	if (cmd->cb)
		cmd->cb(cmd->arg, ok, p, n);
	cmd_free(cmd);
}

static void cmd_fail_cb(struct loop *l, void *arg)
{
	struct redis_cmd *cmd = arg;
	cmd->timer = 0;
	cmd_finish(cmd, -1, "", 0);
}

/* cmd_fail_later: no reply will come; report it from the loop, not from
 * inside the caller. */
static void cmd_fail_later(struct redis_cmd *cmd)
{
	cmd_unlink(cmd);
	cmd_close(cmd);
	cmd->timer = loop_timer_add(cmd->l, 0, cmd_fail_cb, cmd);
}

static void cmd_timeout_cb(struct loop *l, void *arg)
{
	struct redis_cmd *cmd = arg;
	cmd->timer = 0;
	cmd_finish(cmd, -1, "timeout", 7);
}

/* cmd_reply: hands one complete reply of len bytes at p to the caller. */
static void cmd_reply(struct redis_cmd *cmd, const char *p, size_t len)
{
	if (p[0] == '$') {
		const char *nl = memchr(p, '\n', len);
		size_t hdr = (size_t)(nl - p) + 1;
		if (len == hdr) /* $-1: nil */
			cmd_finish(cmd, 1, NULL, 0);
		else
			cmd_finish(cmd, 1, p + hdr, len - hdr - 2);
	} else if (p[0] == '*') {
		cmd_finish(cmd, 1, p, len);
	} else {
		cmd_finish(cmd, p[0] == '-' ? 0 : 1, p + 1, len - 3);
	}
}

/* collect_replies: a pipeline's replies: once all are complete they go
 * to the caller back to back; until then the read goes on. */
static void collect_replies(struct redis_cmd *cmd)
{
	while (cmd->got < cmd->collect) {
		long len = redis_reply_len(cmd->in.p + cmd->scanned, cmd->in.n - cmd->scanned);
		if (len < 0)
			return cmd_finish(cmd, -1, "bad reply", 9);
		if (len == 0)
			return;
		cmd->scanned += (size_t)len;
		cmd->got++;
	}
	cmd_finish(cmd, 1, cmd->in.p, cmd->scanned);
}

static void cmd_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct redis_cmd *cmd = arg;
	while (cmd->off < cmd->out.n) {
		ssize_t w = send(fd, cmd->out.p + cmd->off, cmd->out.n - cmd->off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0)
			return cmd_finish(cmd, -1, "", 0);
		cmd->off += (size_t)w;
		if (cmd->off == cmd->out.n)
			loop_watch(l, fd, LOOP_READ, cmd_io, cmd);
	}
	for (;;) {
		buf_reserve(&cmd->in, 4096);
		ssize_t r = read(fd, cmd->in.p + cmd->in.n, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			return cmd_finish(cmd, -1, "", 0);
		cmd->in.n += (size_t)r;
		for (;;) {
			long len = redis_reply_len(cmd->in.p, cmd->in.n);
			if (len < 0)
				return cmd_finish(cmd, -1, "bad reply", 9);
			if (len == 0)
				break;
			if (cmd->skip == 0 && cmd->collect)
				return collect_replies(cmd);
			if (cmd->skip == 0)
				return cmd_reply(cmd, cmd->in.p, (size_t)len);
			cmd->skip--;
			if (cmd->in.p[0] == '-') /* AUTH refused: report that */
				return cmd_reply(cmd, cmd->in.p, (size_t)len);
			buf_consume(&cmd->in, (size_t)len);
		}
	}
}

/* put_bulk: one RESP bulk string. */
static void put_bulk(struct buf *b, const char *s)
{
	buf_printf(b, "$%zu\r\n", strlen(s));
	buf_puts(b, s);
	buf_puts(b, "\r\n");
}

/* cmd_new: a command record on r's list, AUTHing first when r has a
 * password; the caller appends the command(s) and calls cmd_send. */
static struct redis_cmd *cmd_new(struct redis *r, redis_reply_cb *cb, void *arg)
{
	struct redis_cmd *cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		fb_die("out of memory");
	cmd->r = r;
	cmd->l = r->loop;
	cmd->cb = cb;
	cmd->arg = arg;
	cmd->next = r->cmds;
	r->cmds = cmd;
	if (r->password) {
		buf_puts(&cmd->out, "*2\r\n");
		put_bulk(&cmd->out, "AUTH");
		put_bulk(&cmd->out, r->password);
		cmd->skip = 1;
	}
	return cmd;
}

/* put_cmd: one command as a RESP array of bulk strings; lens (may be
 * NULL: NUL-terminated) gives the arguments' lengths, for binary keys. */
static void put_cmd(struct buf *b, int argc, const char *const *argv, const size_t *lens)
{
	buf_printf(b, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++) {
		size_t n = lens ? lens[i] : strlen(argv[i]);
		buf_printf(b, "$%zu\r\n", n);
		buf_append(b, argv[i], n);
		buf_puts(b, "\r\n");
	}
}

/* cmd_send: connects to the control socket; the reply (or its absence
 * after timeout_ms) comes through cmd_io. */
static void cmd_send(struct redis_cmd *cmd, int64_t timeout_ms)
{
	struct redis *r = cmd->r;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->sock);
	cmd->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cmd->fd < 0 || !r->ch ||
	    (connect(cmd->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN &&
	     errno != EINPROGRESS))
		return cmd_fail_later(cmd);
	if (loop_watch(r->loop, cmd->fd, LOOP_WRITE | LOOP_READ, cmd_io, cmd) < 0)
		return cmd_fail_later(cmd);
	cmd->timer = loop_timer_add(r->loop, timeout_ms, cmd_timeout_cb, cmd);
}

void redis_command(struct redis *r, int argc, const char *const *argv, redis_reply_cb *cb,
		   void *arg)
{
	struct redis_cmd *cmd = cmd_new(r, cb, arg);
	put_cmd(&cmd->out, argc, argv, NULL);
	cmd_send(cmd, REDIS_CMD_TIMEOUT_MS);
}

void redis_pipeline(struct redis *r, int n, const int *argcs, const char *const *const *argvs,
		    const size_t *const *lens, redis_reply_cb *cb, void *arg)
{
	struct redis_cmd *cmd = cmd_new(r, cb, arg);
	for (int i = 0; i < n; i++)
		put_cmd(&cmd->out, argcs[i], argvs[i], lens ? lens[i] : NULL);
	cmd->collect = n;
	cmd_send(cmd, REDIS_PIPELINE_TIMEOUT_MS);
}

/* --- the process and its readiness --- */

static void probe_now(struct redis *r);

static void probe_timer_cb(struct loop *l, void *arg)
{
	struct redis *r = arg;
	r->probe_timer = 0;
	probe_now(r);
}

/* probe_reply: +PONG makes the server ready; anything else (refused,
 * -LOADING) probes again a little later. */
static void probe_reply(void *arg, int ok, const char *p, size_t n)
{
	struct redis *r = arg;
	r->probing = 0;
	if (ok == 1 && n == 4 && !memcmp(p, "PONG", 4)) {
		r->ready = 1;
		r->cb(r, REDIS_READY, 0, r->arg);
		return;
	}
	int64_t delay = (int64_t)1 << (r->probes < 6 ? r->probes : 6);
	r->probes++;
	r->probe_timer = loop_timer_add(
	    r->loop, delay < REDIS_PROBE_MAX_MS ? delay : REDIS_PROBE_MAX_MS, probe_timer_cb, r);
}

static void probe_now(struct redis *r)
{
	if (r->ready || r->probing || !r->ch)
		return;
	if (r->probe_timer)
		loop_timer_cancel(r->loop, r->probe_timer);
	r->probe_timer = 0;
	r->probing = 1;
	const char *ping[] = {"PING"};
	redis_command(r, 1, ping, probe_reply, r);
}

/* on_line: redis's log line, re-tagged without its own pid and clock (at
 * info: redis marks even its banner as a warning); a
 * "Ready to accept connections" line probes at once. */
static void on_line(struct child *ch, int stream, const char *line, size_t n, void *arg)
{
	struct redis *r = arg;
	const char *msg = line;
	size_t mn = n;
	for (size_t i = 0; i + 3 <= n && i < 48; i++)
		if (line[i] == ' ' && line[i + 1] && strchr("*#-.", line[i + 1]) &&
		    line[i + 2] == ' ') {
			msg = line + i + 3;
			mn = n - i - 3;
			break;
		}
	log_info("[%s] %.*s", r->name, (int)mn, msg);
	if (!r->ready && memmem(line, n, "eady to accept connections", 26))
		probe_now(r);
}

static void redis_free(struct redis *r)
{
	free(r->name);
	free(r->sock);
	free(r->password);
	free(r);
}

/* Runs that exited wait here for one loop turn before being freed: the
 * child's last log lines are drained (through on_line, which uses the run)
 * after on_exit returns. */
static struct redis *graveyard;
static uint64_t graveyard_timer;

static void bury_cb(struct loop *l, void *arg)
{
	graveyard_timer = 0;
	while (graveyard) {
		struct redis *r = graveyard;
		graveyard = r->next_dead;
		redis_free(r);
	}
}

/* on_exit: fails what was in flight (the probe silently), tells the
 * owner, and frees the run on the next loop turn. */
static void on_exit_cb(struct child *ch, int status, void *arg)
{
	struct redis *r = arg;
	r->ch = NULL;
	if (r->probe_timer)
		loop_timer_cancel(r->loop, r->probe_timer);
	r->probe_timer = 0;
	while (r->cmds) {
		struct redis_cmd *cmd = r->cmds;
		if (cmd->cb == probe_reply) {
			cmd_unlink(cmd);
			cmd_close(cmd);
			cmd_free(cmd);
		} else {
			cmd_fail_later(cmd);
		}
	}
	r->cb(r, REDIS_EXIT, status, r->arg);
	r->next_dead = graveyard;
	graveyard = r;
	if (!graveyard_timer)
		graveyard_timer = loop_timer_add(r->loop, 0, bury_cb, NULL);
}

/* secret_pipe: a pipe holding spec's secret lines, its write end closed,
 * its read end (returned) inheritable so that redis-server can read it
 * as /dev/fd/N: the passwords are never written to a file. -1 when spec
 * has no secret; -2 with *err on failure. Loop thread only: nothing may
 * fork between this and the spawn (fogbank has no other threads). */
static int secret_pipe(const struct redis_spec *spec, char **err)
{
	char *text = redis_secret_render(spec);
	if (!text)
		return -1;
	size_t n = strlen(text);
	int fds[2] = {-1, -1};
	/* the lines are far below the pipe's capacity: one write, no block */
	int ok = n < 4096 && pipe2(fds, O_CLOEXEC) == 0;
	if (ok && write(fds[1], text, n) != (ssize_t)n) {
		close(fds[0]);
		ok = 0;
	}
	if (fds[1] >= 0) /* written or failed: the writer is done */
		close(fds[1]);
	explicit_bzero(text, n);
	free(text);
	/* in_child puts /dev/null and the log pipes on 0..2: stay above */
	if (ok && fds[0] <= 2) {
		int hi = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
		close(fds[0]);
		fds[0] = hi;
		ok = hi >= 0;
	}
	if (ok && fcntl(fds[0], F_SETFD, 0) < 0) {
		close(fds[0]);
		ok = 0;
	}
	if (!ok) {
		if (asprintf(err, "secret pipe: %s", strerror(errno)) < 0)
			fb_die("out of memory");
		return -2;
	}
	return fds[0];
}

struct redis *redis_start(struct loop *l, const struct redis_spec *spec, redis_event_cb *cb,
			  void *arg, char **err)
{
	*err = NULL;
	char sock[512];
	snprintf(sock, sizeof(sock), "%s/%s", spec->dir, REDIS_SOCKET_NAME);
	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		if (asprintf(err, "control socket path too long: %s", sock) < 0)
			fb_die("out of memory");
		return NULL;
	}
	if (write_conf(spec, err) < 0)
		return NULL;
	struct redis *r = calloc(1, sizeof(*r));
	if (!r)
		fb_die("out of memory");
	r->loop = l;
	r->name = strdup(spec->name);
	r->sock = strdup(sock);
	r->password = spec->password ? strdup(spec->password) : NULL;
	r->cb = cb;
	r->arg = arg;
	char conf[4200], inc[32];
	snprintf(conf, sizeof(conf), "%s/redis.conf", spec->dir);
	int secret_fd = secret_pipe(spec, err);
	if (secret_fd == -2) {
		redis_free(r);
		return NULL;
	}
	snprintf(inc, sizeof(inc), "/dev/fd/%d", secret_fd);
	char *argv[] = {REDIS_SERVER_BIN, conf, "--include", inc, NULL};
	if (secret_fd < 0)
		argv[2] = NULL;
	struct child_spec cs = {
	    .name = spec->name,
	    .argv = argv,
	    .cwd = spec->dir,
	    .stop_signal = SIGTERM,
	    .stop_timeout_ms = 10000,
	};
	r->ch = child_spawn(l, &cs, on_exit_cb, on_line, r, err);
	if (secret_fd >= 0)
		close(secret_fd); /* the child has its copy; EOF follows the lines */
	if (!r->ch) {
		redis_free(r);
		return NULL;
	}
	/* the first probe goes out at once: it costs one refused connect */
	probe_now(r);
	return r;
}

pid_t redis_pid(const struct redis *r)
{
	return r->ch ? child_pid(r->ch) : 0;
}

int redis_is_ready(const struct redis *r)
{
	return r->ready;
}

void redis_stop(struct redis *r)
{
	if (r->ch)
		child_stop(r->ch);
}

void redis_kill(struct redis *r)
{
	if (r->ch)
		child_signal(r->ch, SIGKILL);
}

void redis_set_password(struct redis *r, const char *password)
{
	free(r->password);
	r->password = password ? strdup(password) : NULL;
}

void redis_release(struct redis *r)
{
	bury_cb(NULL, NULL);
	if (!r)
		return;
	if (r->probe_timer)
		loop_timer_cancel(r->loop, r->probe_timer);
	while (r->cmds) {
		struct redis_cmd *cmd = r->cmds;
		cmd_unlink(cmd);
		cmd_close(cmd);
		cmd_free(cmd);
	}
	redis_free(r);
}
