/* ca.h - the fogbank local certificate authority. One CA per data dir:
 * an EC P-256 key and a self-signed certificate created on first use under
 * <data_dir>/ca/ (ca.key mode 0600, ca.pem 0644), kept for good so clients
 * that trust it once keep trusting it. Services that serve TLS (RDS
 * PostgreSQL, ElastiCache Redis) ask it for a server certificate naming
 * their endpoint address and hostname; users fetch ca.pem (served at
 * GET /_fogbank/ca.pem) and connect with sslmode=verify-full. */
#ifndef FB_TLS_CA_H
#define FB_TLS_CA_H
#include "core/compat.h"

/* ca_cert_pem: the CA certificate (PEM) of data_dir's CA, creating the CA
 * on first call. The bytes are cached for the process and stay valid
 * until ca_unload; *n gets their length. NULL with *err set to a malloc'd
 * message (caller frees) when the CA cannot be created or loaded. */
const char *ca_cert_pem(const char *data_dir, size_t *n, char **err);

/* ca_issue: writes a new server certificate signed by data_dir's CA
 * (creating the CA on first use) to cert_path (leaf then CA certificate,
 * PEM) and its fresh EC key to key_path (mode 0600). cn is the subject
 * common name; the subjectAltName lists ip (may be NULL) and every name in
 * dns (NULL-terminated, may be NULL). When uid is not -1 both files are
 * chowned to uid:gid (servers like postgres insist on owning their key).
 * Valid 825 days, for serverAuth and clientAuth (a Redis Cluster node
 * also dials its peers with it). 0, or -1 with *err set (malloc'd;
 * caller frees). */
int ca_issue(const char *data_dir, const char *cert_path, const char *key_path, const char *cn,
	     const char *ip, const char *const *dns, long uid, long gid, char **err);

/* ca_unload: forgets the cached CA (tests; fogbank's exit). */
void ca_unload(void);
#endif
