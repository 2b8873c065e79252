/* test_elasticache_redis.c - the redis-server recipe: RESP framing, INFO
 * parsing, redis.conf quoting, and a real server (when Debian's
 * redis-server is installed) started, probed, commanded and stopped. The
 * live test listens on the control socket only (port 0): no address or
 * port of the machine is taken. */
#include "core/loop.h"
#include "supervise/redis.h"
#include "test.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(redis_reply_len)
{
	CHECK(redis_reply_len("+OK\r\n", 5) == 5);
	CHECK(redis_reply_len("+OK\r", 4) == 0);
	CHECK(redis_reply_len("-ERR x\r\n+", 9) == 8);
	CHECK(redis_reply_len(":12\r\n", 5) == 5);
	CHECK(redis_reply_len("$3\r\nabc\r\n", 9) == 9);
	CHECK(redis_reply_len("$3\r\nab", 6) == 0);
	CHECK(redis_reply_len("$-1\r\n", 5) == 5);
	CHECK(redis_reply_len("*2\r\n$1\r\na\r\n:1\r\n", 15) == 15);
	CHECK(redis_reply_len("*2\r\n$1\r\na\r\n", 11) == 0);
	CHECK(redis_reply_len("?x\r\n", 4) == -1);
	CHECK(redis_reply_len("$x\r\n", 4) == -1);
	CHECK(redis_reply_len("+OK\n", 4) == -1);
}

TEST(redis_info_field)
{
	const char info[] = "# Persistence\r\nrdb_saves:3\r\nrdb_bgsave_in_progress:0\r\n";
	char *v = redis_info_field(info, sizeof(info) - 1, "rdb_saves");
	CHECK(v && !strcmp(v, "3"));
	free(v);
	v = redis_info_field(info, sizeof(info) - 1, "rdb_bgsave_in_progress");
	CHECK(v && !strcmp(v, "0"));
	free(v);
	CHECK(redis_info_field(info, sizeof(info) - 1, "rdb") == NULL);
}

TEST(redis_conf_quoting)
{
	const char *params[] = {"maxmemory-policy", "allkeys-lru", "notify-keyspace-events", "",
				NULL};
	struct redis_spec s = {
	    .name = "t",
	    .dir = "/tmp/x y",
	    .bind = "127.0.1.1 127.0.1.2",
	    .port = 6379,
	    .password = "p\"w\nx",
	    .primary_host = "127.0.1.3",
	    .primary_port = 6379,
	    .params = params,
	};
	char *c = redis_conf_render(&s);
	CHECK(strstr(c, "bind \"127.0.1.1\" \"127.0.1.2\"\n"));
	CHECK(strstr(c, "dir \"/tmp/x\\x20y\"\n"));
	CHECK(strstr(c, "replicaof 127.0.1.3 6379\n"));
	CHECK(strstr(c, "maxmemory-policy \"allkeys-lru\"\n"));
	CHECK(strstr(c, "notify-keyspace-events \"\"\n"));
	CHECK(strstr(c, "appendonly yes\n"));
	/* the password never reaches redis.conf: it goes through a pipe */
	CHECK(!strstr(c, "user default") && !strstr(c, "masterauth") && !strstr(c, "\\x3ep"));
	CHECK(!strstr(c, "cluster-enabled"));
	free(c);
	char *sec = redis_secret_render(&s);
	CHECK(sec && strstr(sec, "user default on \"\\x3ep\\x22w\\x0ax\" ~* &* +@all\n"));
	CHECK(sec && strstr(sec, "masterauth \"p\\x22w\\x0ax\"\n"));
	free(sec);
	s.password = NULL;
	CHECK(redis_secret_render(&s) == NULL);
}

TEST(redis_conf_cluster)
{
	struct redis_spec s = {.name = "t",
			       .dir = "/tmp/x",
			       .bind = "127.0.1.1",
			       .port = 6379,
			       .cluster = 1,
			       .announce_ip = "127.0.1.1",
			       .cluster_node_timeout_ms = 5000,
			       .tls_cert = "/c",
			       .tls_key = "/k",
			       .tls_ca = "/a"};
	char *c = redis_conf_render(&s);
	CHECK(strstr(c, "cluster-enabled yes\ncluster-config-file \"nodes.conf\"\n"));
	CHECK(strstr(c, "cluster-announce-ip \"127.0.1.1\"\n"));
	CHECK(strstr(c, "cluster-node-timeout 5000\n"));
	CHECK(strstr(c, "tls-cluster yes\n"));
	free(c);
}

struct live {
	struct redis *r;
	int ready, exited, replies;
	char last[128];
};

static void live_event(struct redis *r, enum redis_event ev, int status, void *arg)
{
	struct live *lv = arg;
	if (ev == REDIS_READY)
		lv->ready = 1;
	else
		lv->exited = 1, lv->r = NULL;
}

static void live_reply(void *arg, int ok, const char *p, size_t n)
{
	struct live *lv = arg;
	lv->replies = 1;
	snprintf(lv->last, sizeof(lv->last), "%d:%.*s", ok, (int)(n < 100 ? n : 100), p ? p : "");
}

static struct loop *the_loop;

static int64_t deadline_ms;

/* tick: stops the loop once *flag is set or the deadline passed. */
static void tick(struct loop *l, void *arg)
{
	int *flag = arg;
	if (*flag || fb_mono_ms() >= deadline_ms)
		loop_stop(l);
	else
		loop_timer_add(l, 2, tick, flag);
}

/* run_until: runs the loop until *flag is set (10 s at most). */
static void run_until(int *flag)
{
	deadline_ms = fb_mono_ms() + 10000;
	loop_timer_add(the_loop, 0, tick, flag);
	loop_run(the_loop);
}

/* live_run: the live test itself, in a process of its own. */
static void live_run(void)
{
	char dir[] = "/tmp/fb-redis-test-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	if (!the_loop)
		the_loop = loop_new();
	const char *params[] = {"maxmemory-policy", "allkeys-lru", NULL};
	struct redis_spec s = {.name = "unit/redis",
			       .dir = dir,
			       .bind = "127.0.0.1",
			       .port = 0,
			       .password = "sixteen-chars-pw",
			       .params = params};
	struct live lv = {0};
	char *err = NULL;
	int64_t t0 = fb_mono_ms();
	lv.r = redis_start(the_loop, &s, live_event, &lv, &err);
	CHECK(lv.r != NULL);
	if (!lv.r) {
		fprintf(stderr, "  %s\n", err ? err : "?");
		free(err);
		return;
	}
	run_until(&lv.ready);
	CHECK(lv.ready);
	fprintf(stderr, "  redis start to PONG: %lld ms\n", (long long)(fb_mono_ms() - t0));
	const char *get[] = {"CONFIG", "GET", "maxmemory-policy"};
	redis_command(lv.r, 3, get, live_reply, &lv);
	CHECK(lv.replies == 0); /* never synchronous */
	run_until(&lv.replies);
	CHECK(strstr(lv.last, "allkeys-lru") != NULL);
	/* a pipeline: every reply back to back, a binary key intact */
	const char *set[] = {"SET", "k\0ey", "v"}, *getb[] = {"GET", "k\0ey"}, *no[] = {"NOPE"};
	const size_t set_l[] = {3, 4, 1}, get_l[] = {3, 4}, no_l[] = {4};
	const char *const *cmds[] = {set, getb, no};
	const size_t *const lens[] = {set_l, get_l, no_l};
	const int argcs[] = {3, 2, 1};
	lv.replies = 0;
	redis_pipeline(lv.r, 3, argcs, cmds, lens, live_reply, &lv);
	CHECK(lv.replies == 0);
	run_until(&lv.replies);
	static const char want[] = "1:+OK\r\n$1\r\nv\r\n-ERR";
	CHECK(!strncmp(lv.last, want, sizeof(want) - 1));
	const char *bad[] = {"NOSUCHCOMMAND"};
	lv.replies = 0;
	redis_command(lv.r, 1, bad, live_reply, &lv);
	run_until(&lv.replies);
	CHECK(!strncmp(lv.last, "0:ERR", 5));
	redis_stop(lv.r);
	run_until(&lv.exited);
	CHECK(lv.exited);
	redis_release(NULL); /* the exited run, freed on the next loop turn otherwise */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* The live test runs in a fresh copy of this binary: child.c routes
 * SIGCHLD to the first loop that spawned a child in a process, and other
 * tests (test_child.c) own that loop here. */
TEST(redis_live)
{
	if (getenv("FB_REDIS_LIVE")) {
		live_run();
		return;
	}
	if (access(REDIS_SERVER_BIN, X_OK) != 0)
		return; /* not installed here: the e2e tests will say so */
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1); /* the copy's own summary line is not ours */
		char *argv[] = {"unit_tests", "redis_live", NULL};
		char *envp[] = {"FB_REDIS_LIVE=1", "PATH=/usr/bin:/bin", NULL};
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
