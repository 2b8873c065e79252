/* tls.c - TLS for TransitEncryptionEnabled nodes: a server certificate
 * from the fogbank local CA (src/tls/ca.h) in the node's directory. It
 * names every address the node may listen on: its own and, in a
 * replication group, the primary and reader endpoint addresses (any
 * member may come to hold them). Replication between members runs over
 * TLS too (tls-replication), verified against the same CA. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include "tls/ca.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* write_ca: the CA certificate into path (replicas verify the primary). */
static int write_ca(const char *data_dir, const char *path)
{
	size_t n = 0;
	char *err = NULL;
	const char *pem = ca_cert_pem(data_dir, &n, &err);
	if (!pem) {
		log_error("elasticache: fogbank CA: %s", err ? err : "?");
		free(err);
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ok = fd >= 0 && write(fd, pem, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

int ec_tls_files(struct fogbank *fb, struct arena *a, const struct ec_cluster *cl,
		 const struct ec_rg *rg, struct redis_spec *spec)
{
	const char *cert = arena_sprintf(a, "%s/tls.crt", spec->dir);
	const char *key = arena_sprintf(a, "%s/tls.key", spec->dir);
	const char *ca = arena_sprintf(a, "%s/ca.crt", spec->dir);
	if (access(cert, R_OK) != 0 || access(key, R_OK) != 0) {
		/* ca_issue puts its ip argument into "IP:<ip>", so a list of
		 * addresses goes in as "a,IP:b,IP:c" */
		const char *ips = cl->addr;
		if (rg && rg->cfg_addr[0])
			ips = arena_sprintf(a, "%s,IP:%s", cl->addr, rg->cfg_addr);
		else if (rg && rg->primary_addr[0])
			ips =
			    arena_sprintf(a, "%s,IP:%s,IP:%s", cl->addr, rg->primary_addr,
					  rg->reader_addr[0] ? rg->reader_addr : rg->primary_addr);
		const char *dns[] = {"localhost", NULL};
		char *err = NULL;
		if (ca_issue(fb->data_dir, cert, key, cl->name, ips, dns, -1, -1, &err) < 0) {
			log_error("elasticache: %s: certificate: %s", cl->name, err ? err : "?");
			free(err);
			return -1;
		}
	}
	if (write_ca(fb->data_dir, ca) < 0)
		return -1;
	if (cl->cluster_mode) { /* the cluster bus runs mutual TLS: the node
				 * shows its peers its own certificate */
		spec->tls_client_cert = cert;
		spec->tls_client_key = key;
	}
	spec->tls_cert = cert;
	spec->tls_key = key;
	spec->tls_ca = ca;
	return 0;
}
