/* spec.c - the OCI runtime config (config.json) of a task's runc
 * container, and the small pure helpers around it. The base is what
 * `runc spec` writes (mounts, masked and read-only paths, a deny-all
 * device cgroup to which runc adds its default devices), changed where a
 * Fargate task differs: no network namespace (tasks share the host
 * network and bind their own loopback address; no interface or address
 * is ever added), no terminal, Docker's default capabilities, the task's
 * hostname with /etc/hosts and /etc/hostname written by fogbank and the
 * host's /etc/resolv.conf, and fogbank-init bound read-only at
 * RT_INIT_DEST. */
#include "core/compat.h"
#include "aws/json.h"
#include "runtime/runc.h"
#include <stdlib.h>

/* Docker's default set, which ECS (and Fargate) containers get. */
static const char *const caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE"};

/* The mounts of runc's default spec, as JSON objects. */
static const char *const base_mounts[] = {
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}",
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
    "[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}",
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":"
    "[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]}",
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":"
    "[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]}",
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":"
    "[\"nosuid\",\"noexec\",\"nodev\"]}",
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":"
    "[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}",
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}"};

static const char masked[] =
    "[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
    "\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\","
    "\"/proc/scsi\"]";
static const char readonly[] =
    "[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]";

/* str: appends s as a JSON string. */
static void str(struct buf *b, const char *s)
{
	json_write_str(b, s, strlen(s));
}

/* strs: appends a NULL-terminated list as a JSON array of strings. */
static void strs(struct buf *b, char *const *v)
{
	buf_putc(b, '[');
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			buf_putc(b, ',');
		str(b, v[i]);
	}
	buf_putc(b, ']');
}

/* bind_mount: appends a bind mount of src at dst. */
static void bind_mount(struct buf *b, const char *src, const char *dst, int ro)
{
	buf_puts(b, ",{\"destination\":");
	str(b, dst);
	buf_puts(b, ",\"type\":\"bind\",\"source\":");
	str(b, src);
	buf_puts(b, ro ? ",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}"
		       : ",\"options\":[\"rbind\",\"rw\",\"nosuid\",\"nodev\",\"noexec\"]}");
}

/* resources: appends linux.resources: devices, memory and cpu. */
static void resources(struct buf *b, const struct rt_limits *l)
{
	buf_puts(b, "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]");
	if (l->memory_mib > 0 || l->reservation_mib > 0) {
		const char *sep = "";
		buf_puts(b, ",\"memory\":{");
		if (l->memory_mib > 0) {
			/* swap as large as the limit: none at all, as on Fargate */
			long long bytes = (long long)l->memory_mib << 20;
			buf_printf(b, "\"limit\":%lld,\"swap\":%lld", bytes, bytes);
			sep = ",";
		}
		if (l->reservation_mib > 0) {
			int64_t r = l->reservation_mib;
			if (l->memory_mib > 0 && r > l->memory_mib)
				r = l->memory_mib; /* runc refuses a reservation above the limit */
			buf_printf(b, "%s\"reservation\":%lld", sep, (long long)r << 20);
		}
		buf_putc(b, '}');
	}
	if (l->cpu_shares > 0 || l->cpu_quota_us > 0) {
		const char *sep = "";
		buf_puts(b, ",\"cpu\":{");
		if (l->cpu_shares > 0) {
			buf_printf(b, "\"shares\":%lld",
				   (long long)(l->cpu_shares < 2 ? 2 : l->cpu_shares));
			sep = ",";
		}
		if (l->cpu_quota_us > 0)
			buf_printf(b, "%s\"quota\":%lld,\"period\":100000", sep,
				   (long long)(l->cpu_quota_us < 1000 ? 1000 : l->cpu_quota_us));
		buf_putc(b, '}');
	}
	buf_putc(b, '}');
}

void rt_spec_json(struct buf *b, const struct rt_spec *s)
{
	buf_puts(b, "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":");
	buf_printf(b, "{\"uid\":%u,\"gid\":%u},\"args\":", (unsigned)s->uid, (unsigned)s->gid);
	strs(b, s->args);
	buf_puts(b, ",\"env\":");
	strs(b, s->env);
	buf_puts(b, ",\"cwd\":");
	str(b, s->cwd && *s->cwd ? s->cwd : "/");
	buf_puts(b, ",\"capabilities\":{");
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < FB_ARRAY_LEN(sets); i++) {
		buf_printf(b, "%s\"%s\":[", i ? "," : "", sets[i]);
		for (size_t j = 0; j < FB_ARRAY_LEN(caps); j++)
			buf_printf(b, "%s\"%s\"", j ? "," : "", caps[j]);
		buf_putc(b, ']');
	}
	buf_puts(b, "},\"noNewPrivileges\":true},\"root\":{\"path\":");
	str(b, s->root);
	buf_printf(b, ",\"readonly\":%s},\"hostname\":", s->readonly_root ? "true" : "false");
	str(b, s->hostname && *s->hostname ? s->hostname : "localhost");
	buf_puts(b, ",\"mounts\":[");
	for (size_t i = 0; i < FB_ARRAY_LEN(base_mounts); i++)
		buf_printf(b, "%s%s", i ? "," : "", base_mounts[i]);
	bind_mount(b, s->init_src, RT_INIT_DEST, 1);
	if (s->hosts)
		bind_mount(b, s->hosts, "/etc/hosts", 0);
	if (s->hostname_file)
		bind_mount(b, s->hostname_file, "/etc/hostname", 0);
	if (s->resolv)
		bind_mount(b, s->resolv, "/etc/resolv.conf", 1);
	buf_puts(b, "],\"linux\":{\"cgroupsPath\":");
	str(b, s->cgroups_path);
	buf_putc(b, ',');
	resources(b, &s->lim);
	/* no "network": the host's, as the tasks' loopback addresses need */
	buf_puts(b, ",\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
		    "{\"type\":\"mount\"}],\"maskedPaths\":");
	buf_puts(b, masked);
	buf_puts(b, ",\"readonlyPaths\":");
	buf_puts(b, readonly);
	buf_puts(b, "}}");
}

const char *rt_hostname_of(struct arena *a, const char *ip)
{
	if (!ip || !*ip)
		return "";
	char *h = arena_sprintf(a, "ip-%s", ip);
	for (char *p = h; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	return h;
}

long long rt_oom_kills(const char *text)
{
	for (const char *p = text; p && *p;) {
		if (!strncmp(p, "oom_kill ", 9))
			return strtoll(p + 9, NULL, 10);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return 0;
}
