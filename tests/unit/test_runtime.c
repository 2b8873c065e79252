/* test_runtime.c - the pure parts of runc containers: the config.json
 * fogbank writes (valid JSON, no network namespace, limits, binds), the
 * hostname of a task address, the OOM counter of a memory cgroup, and a
 * task definition's cpu/memory texts. */
#include "core/compat.h"
#include "aws/json.h"
#include "runtime/runc.h"
#include "svc/ecs/live.h"
#include "test.h"

/* spec_of: s's config.json, parsed into a. */
static struct jv *spec_of(struct arena *a, const struct rt_spec *s)
{
	struct buf b = BUF_INIT;
	rt_spec_json(&b, s);
	struct jv *v = json_parse(a, b.p, b.n, NULL);
	buf_release(&b);
	return v;
}

/* mount_at: the mount of spec v whose destination is dst, or NULL. */
static const struct jv *mount_at(const struct jv *v, const char *dst)
{
	const struct jv *m = jv_get(v, "mounts");
	for (size_t i = 0; i < jv_len(m); i++) {
		const char *d = jv_get_str(jv_at(m, i), "destination");
		if (d && !strcmp(d, dst))
			return jv_at(m, i);
	}
	return NULL;
}

TEST(runtime_spec_json)
{
	struct arena *a = arena_new(4096);
	char *args[] = {RT_INIT_DEST, "/bin/sh", "sh", "-c", "echo \"hi\"\n", NULL};
	char *env[] = {"PATH=/bin", "FOGBANK_TASK_IP=127.0.0.9", NULL};
	struct rt_spec s = {
	    .args = args,
	    .env = env,
	    .uid = 1000,
	    .gid = 50,
	    .root = "rootfs",
	    .hostname = "ip-127-0-0-9",
	    .init_src = "/opt/fb/fogbank-init",
	    .hosts = "/b/hosts",
	    .cgroups_path = "fogbank/t-app",
	    .lim = {
		.memory_mib = 64, .reservation_mib = 128, .cpu_shares = 1, .cpu_quota_us = 25000}};
	struct jv *v = spec_of(a, &s);
	CHECK(v != NULL);
	const struct jv *proc = jv_get(v, "process");
	CHECK(jv_get_bool(proc, "terminal", 1) == 0);
	CHECK(jv_get_bool(proc, "noNewPrivileges", 0) == 1);
	CHECK(jv_len(jv_get(proc, "args")) == 5);
	CHECK_STREQ(jv_at(jv_get(proc, "args"), 4)->u.s.p, "echo \"hi\"\n");
	CHECK_STREQ(jv_get_str(proc, "cwd"), "/");
	CHECK(jv_get_int(jv_get(proc, "user"), "uid", 0) == 1000);
	CHECK(jv_get_int(jv_get(proc, "user"), "gid", 0) == 50);
	CHECK_STREQ(jv_get_str(v, "hostname"), "ip-127-0-0-9");
	CHECK(jv_get_bool(jv_get(v, "root"), "readonly", 1) == 0);
	/* never a network namespace: tasks live on the host's loopback */
	const struct jv *ns = jv_get(jv_get(v, "linux"), "namespaces");
	CHECK(jv_len(ns) == 4);
	for (size_t i = 0; i < jv_len(ns); i++)
		CHECK(strcmp(jv_get_str(jv_at(ns, i), "type"), "network") != 0);
	const struct jv *init = mount_at(v, RT_INIT_DEST);
	CHECK(init && !strcmp(jv_get_str(init, "source"), "/opt/fb/fogbank-init"));
	CHECK(mount_at(v, "/etc/hosts") && !mount_at(v, "/etc/resolv.conf"));
	const struct jv *res = jv_get(jv_get(v, "linux"), "resources");
	const struct jv *mem = jv_get(res, "memory"), *cpu = jv_get(res, "cpu");
	CHECK(jv_get_int(mem, "limit", 0) == 64 << 20 && jv_get_int(mem, "swap", 0) == 64 << 20);
	CHECK(jv_get_int(mem, "reservation", 0) == 64 << 20); /* capped at the limit */
	CHECK(jv_get_int(cpu, "shares", 0) == 2);	      /* the kernel's minimum */
	CHECK(jv_get_int(cpu, "quota", 0) == 25000 && jv_get_int(cpu, "period", 0) == 100000);
	CHECK_STREQ(jv_get_str(jv_get(v, "linux"), "cgroupsPath"), "fogbank/t-app");
	/* no limits: no memory or cpu objects at all */
	s.lim = (struct rt_limits){0};
	s.readonly_root = 1;
	v = spec_of(a, &s);
	res = jv_get(jv_get(v, "linux"), "resources");
	CHECK(res && !jv_get(res, "memory") && !jv_get(res, "cpu"));
	CHECK(jv_get_bool(jv_get(v, "root"), "readonly", 0) == 1);
	arena_free(a);
}

TEST(runtime_hostname_and_oom)
{
	struct arena *a = arena_new(1024);
	CHECK_STREQ(rt_hostname_of(a, "127.0.3.14"), "ip-127-0-3-14");
	CHECK_STREQ(rt_hostname_of(a, NULL), "");
	CHECK(rt_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n") == 3);
	CHECK(rt_oom_kills("low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n") == 1);
	CHECK(rt_oom_kills("oom_kill_disable 0\nunder_oom 0\n") == 0);
	CHECK(rt_oom_kills("") == 0);
	arena_free(a);
}

TEST(ecs_task_units_texts)
{
	CHECK(ecs_task_units("256") == 256);
	CHECK(ecs_task_units("1 vCPU") == 1024);
	CHECK(ecs_task_units("0.5 vcpu") == 512);
	CHECK(ecs_task_units("2 GB") == 2048);
	CHECK(ecs_task_units("2GB") == 2048);
	CHECK(ecs_task_units("abc") == 0 && ecs_task_units(NULL) == 0);
	CHECK(ecs_task_units("-5") == 0 && ecs_task_units("3 MB") == 0);
}
