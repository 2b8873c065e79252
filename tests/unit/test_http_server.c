/* test_http_server.c - the server's group commit with an asynchronous
 * sync (durable_sync_start): an answer that saw an unsynced write waits
 * for the sync; when the sync reports the write lost, the connection is
 * closed without the answer. Driven on a real loop and socket. */
#include "core/loop.h"
#include "http/server.h"
#include "test.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct t_sync {
	struct loop *loop;
	int client;		   /* the test's socket */
	int pending;		   /* what durable_pending says */
	int starts;		   /* durable_sync_start calls */
	void (*done)(void *, int); /* the captured callback */
	void *done_arg;
	int ok;		  /* what the sync reports */
	int held_checked; /* nothing had arrived while the sync ran */
	ssize_t got;	  /* bytes the client read after the sync ended */
	char reply[256];
};

static struct t_sync ts;

static void t_handler(void *ctx, const struct http_request *req, struct http_response *resp)
{
	ts.pending = 1; /* the handler "wrote" */
	resp->status = 200;
	buf_puts(&resp->body, "written");
}

static int t_pending(void *ctx)
{
	return ts.pending;
}

/* t_finish: runs after the iteration that started the sync: checks that
 * the answer is still held, ends the sync, reads what the client gets. */
static void t_finish(struct loop *l, void *arg)
{
	char b[256];
	ssize_t n = recv(ts.client, b, sizeof(b), MSG_DONTWAIT);
	ts.held_checked = n < 0 && errno == EAGAIN;
	ts.done(ts.done_arg, ts.ok);
	/* a released answer was sent, a dropped one closed, within done */
	ts.got = recv(ts.client, ts.reply, sizeof(ts.reply) - 1, MSG_DONTWAIT);
	loop_stop(l);
}

static void t_sync_start(void *ctx, void (*done)(void *, int), void *arg)
{
	ts.starts++;
	ts.pending = 0; /* the sync covers the write from here on */
	ts.done = done;
	ts.done_arg = arg;
	loop_timer_add(ts.loop, 0, t_finish, NULL);
}

/* run_one: one request through a fresh server whose sync reports ok. */
static void run_one(int ok)
{
	memset(&ts, 0, sizeof(ts));
	ts.ok = ok;
	ts.loop = loop_new();
	CHECK(ts.loop != NULL);
	struct http_server_config cfg = {
	    .host = "127.0.0.1",
	    .port = 0,
	    .head_max = 8192,
	    .body_max = 8192,
	    .spool_dir = "/tmp",
	    .idle_ms = 10000,
	    .handler = t_handler,
	    .durable_pending = t_pending,
	    .durable_sync_start = t_sync_start,
	};
	struct http_server *s = http_server_start(ts.loop, &cfg);
	CHECK(s != NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(http_server_port(s))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ts.client = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(ts.client, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	const char *req = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
	CHECK(send(ts.client, req, strlen(req), 0) == (ssize_t)strlen(req));
	loop_run(ts.loop);
	CHECK(ts.starts == 1);
	CHECK(ts.held_checked);
	if (ok) {
		CHECK(ts.got > 0);
		ts.reply[ts.got > 0 ? ts.got : 0] = 0;
		CHECK(strncmp(ts.reply, "HTTP/1.1 200", 12) == 0);
		CHECK(strstr(ts.reply, "written") != NULL);
	} else {
		CHECK(ts.got == 0); /* closed, never answered */
	}
	close(ts.client);
	http_server_stop(s);
	loop_free(ts.loop);
}

TEST(http_server_holds_answer_until_async_sync)
{
	run_one(1);
}

TEST(http_server_closes_unanswered_when_sync_lost_the_write)
{
	run_one(0);
}
