/* test_ecs.c - the pure parts of ECS's task runtime: `user` resolution
 * against an image's passwd/group, environment files as the ECS agent
 * parses them, dependsOn conditions, and task health from its
 * containers'. */
#include "core/compat.h"
#include "core/arena.h"
#include "runtime/runtime.h"
#include "svc/ecs/live.h"
#include "test.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
			     "app:x:1000:1001:App:/home/app:/bin/sh\n"
			     "broken:x:zz:1::/:\n";
static const char group[] = "root:x:0:\napp:x:1001:\nstaff:x:50:app\n";

TEST(ecs_user_names_and_ids)
{
	struct arena *a = arena_new(4096);
	struct rt_user u;
	const char *err = NULL;
	CHECK(rt_user_parse(a, passwd, group, "app", &u, &err) == 0);
	CHECK(u.uid == 1000 && u.gid == 1001 && u.home && !strcmp(u.home, "/home/app"));
	CHECK(rt_user_parse(a, passwd, group, "1000", &u, &err) == 0);
	CHECK(u.uid == 1000 && u.gid == 1001);
	/* a uid missing from passwd runs with gid 0, as Docker does */
	CHECK(rt_user_parse(a, passwd, group, "4242", &u, &err) == 0);
	CHECK(u.uid == 4242 && u.gid == 0 && !u.home);
	CHECK(rt_user_parse(a, passwd, group, "app:staff", &u, &err) == 0);
	CHECK(u.uid == 1000 && u.gid == 50);
	CHECK(rt_user_parse(a, passwd, group, "1000:7", &u, &err) == 0);
	CHECK(u.uid == 1000 && u.gid == 7);
	CHECK(rt_user_parse(a, passwd, group, "4242:staff", &u, &err) == 0);
	CHECK(u.uid == 4242 && u.gid == 50);
	CHECK(rt_user_parse(a, "", "", "0", &u, &err) == 0 && u.uid == 0 && u.gid == 0);
	arena_free(a);
}

TEST(ecs_user_errors)
{
	struct arena *a = arena_new(4096);
	struct rt_user u;
	const char *err = NULL;
	CHECK(rt_user_parse(a, passwd, group, "nobody", &u, &err) < 0);
	CHECK(err && strstr(err, "unable to find user nobody"));
	CHECK(rt_user_parse(a, passwd, group, "app:wheel", &u, &err) < 0);
	CHECK(err && strstr(err, "unable to find group wheel"));
	CHECK(rt_user_parse(a, passwd, group, "broken", &u, &err) < 0);
	CHECK(rt_user_parse(a, passwd, group, ":0", &u, &err) < 0);
	CHECK(rt_user_parse(a, passwd, group, "99999999999", &u, &err) < 0);
	/* a prefix of a name is not the name */
	CHECK(rt_user_parse(a, passwd, group, "ap", &u, &err) < 0);
	arena_free(a);
}

/* value: the value of name in env[0..n), or NULL. */
static const char *value(char **env, size_t n, const char *name)
{
	size_t k = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(env[i], name, k) && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

TEST(ecs_envfile_agent_rules)
{
	struct arena *a = arena_new(4096);
	static const char f[] = "# a comment\n"
				"A=1\n"
				"\n"
				"B=x=y\r\n"
				" C=spaced \n"
				"EMPTY=\n"
				"=novalue\n"
				"noequals\n"
				"  # indented, and without an equals sign\n"
				"  #X=indented: not a comment for the agent\n"
				"A=2\n"
				"QUOTED=\"q\"\n"
				"LAST=end";
	char **env = arena_zalloc(a, sizeof(char *));
	size_t n = 0;
	ecs_envfile_parse(a, f, sizeof(f) - 1, &env, &n);
	CHECK_STREQ(value(env, n, "A"), "2"); /* a later line wins in one file */
	CHECK_STREQ(value(env, n, "B"), "x=y");
	CHECK_STREQ(value(env, n, " C"), "spaced "); /* no trimming */
	CHECK(!value(env, n, "EMPTY"));		     /* empty values are skipped */
	CHECK_STREQ(value(env, n, "QUOTED"), "\"q\"");
	CHECK_STREQ(value(env, n, "LAST"), "end");
	CHECK_STREQ(value(env, n, "  #X"), "indented: not a comment for the agent");
	CHECK(n == 6);
	CHECK(env[n] == NULL);
	arena_free(a);
}

TEST(ecs_depends_on_conditions)
{
	struct ecs_dep_view waiting = {ECS_CTR_WAITING, 0, 0, 0, 1, ECS_H_UNKNOWN};
	struct ecs_dep_view running = {ECS_CTR_RUNNING, 1, 0, 0, 1, ECS_H_UNKNOWN};
	struct ecs_dep_view healthy = {ECS_CTR_RUNNING, 1, 0, 0, 1, ECS_H_HEALTHY};
	struct ecs_dep_view ok = {ECS_CTR_STOPPED, 1, 1, 0, 0, ECS_H_UNKNOWN};
	struct ecs_dep_view bad = {ECS_CTR_STOPPED, 1, 1, 3, 0, ECS_H_UNKNOWN};
	struct ecs_dep_view never = {ECS_CTR_STOPPED, 0, 0, 0, 1, ECS_H_UNKNOWN};
	CHECK(ecs_dep_eval("START", &waiting) == 0);
	CHECK(ecs_dep_eval("START", &running) == 1);
	CHECK(ecs_dep_eval("START", &bad) == 1); /* it did start */
	CHECK(ecs_dep_eval("START", &never) == -1);
	CHECK(ecs_dep_eval("COMPLETE", &running) == 0);
	CHECK(ecs_dep_eval("COMPLETE", &bad) == 1);
	CHECK(ecs_dep_eval("COMPLETE", &never) == -1);
	CHECK(ecs_dep_eval("SUCCESS", &running) == 0);
	CHECK(ecs_dep_eval("SUCCESS", &ok) == 1);
	CHECK(ecs_dep_eval("SUCCESS", &bad) == -1);
	CHECK(ecs_dep_eval("HEALTHY", &running) == 0);
	CHECK(ecs_dep_eval("HEALTHY", &healthy) == 1);
	CHECK(ecs_dep_eval("HEALTHY", &ok) == -1); /* no health check */
	CHECK(ecs_dep_eval("HEALTHY", &never) == -1);
	CHECK(ecs_dep_eval("RUNNING", &running) == -1);
	CHECK(ecs_dep_eval(NULL, &running) == -1);
}

TEST(ecs_task_health_from_containers)
{
	struct ecs_health_view none[] = {{1, 0, ECS_H_UNKNOWN}};
	struct ecs_health_view mixed[] = {{1, 1, ECS_H_HEALTHY}, {1, 0, ECS_H_UNKNOWN}};
	struct ecs_health_view starting[] = {{1, 1, ECS_H_HEALTHY}, {1, 1, ECS_H_UNKNOWN}};
	struct ecs_health_view sick[] = {{1, 1, ECS_H_UNKNOWN}, {1, 1, ECS_H_UNHEALTHY}};
	/* a nonessential container's health does not matter */
	struct ecs_health_view side[] = {{1, 1, ECS_H_HEALTHY}, {0, 1, ECS_H_UNHEALTHY}};
	struct ecs_health_view only_side[] = {{1, 0, ECS_H_UNKNOWN}, {0, 1, ECS_H_HEALTHY}};
	CHECK(ecs_task_health_of(none, 1) == ECS_H_UNKNOWN);
	CHECK(ecs_task_health_of(mixed, 2) == ECS_H_HEALTHY);
	CHECK(ecs_task_health_of(starting, 2) == ECS_H_UNKNOWN);
	CHECK(ecs_task_health_of(sick, 2) == ECS_H_UNHEALTHY);
	CHECK(ecs_task_health_of(side, 2) == ECS_H_HEALTHY);
	CHECK(ecs_task_health_of(only_side, 2) == ECS_H_UNKNOWN);
	CHECK_STREQ(ecs_health_name(ECS_H_UNHEALTHY), "UNHEALTHY");
}
