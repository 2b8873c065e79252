/* ca.c - the fogbank local CA (see ca.h). Files are written as temp file
 * + fsync + rename, so a crash never leaves half a key; the key is created
 * 0600 from the start (never widened then narrowed). */
#include "core/compat.h"
#include "tls/ca.h"
#include "core/fs.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The CA loaded for one data dir (fogbank has one). */
static struct {
	char *data_dir;
	EVP_PKEY *key;
	X509 *cert;
	char *pem;
	size_t pem_n;
} ca_cache;

/* ca_err: a malloc'd "what: reason" message (OpenSSL's queue or errno). */
static char *ca_err(const char *what)
{
	char *s = NULL;
	unsigned long e = ERR_get_error();
	const char *why = e ? ERR_reason_error_string(e) : strerror(errno);
	if (asprintf(&s, "%s: %s", what, why ? why : "unknown error") < 0)
		abort();
	ERR_clear_error();
	return s;
}

/* pem_of: PEM text of a certificate or private key (malloc'd). */
static char *pem_of(X509 *cert, EVP_PKEY *key, size_t *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return NULL;
	int ok = cert ? PEM_write_bio_X509(b, cert)
		      : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	char *data = NULL;
	long len = BIO_get_mem_data(b, &data);
	char *out = ok && len > 0 ? malloc((size_t)len + 1) : NULL;
	if (out) {
		memcpy(out, data, (size_t)len);
		out[len] = 0;
		*n = (size_t)len;
	}
	BIO_free(b);
	return out;
}

/* add_ext: adds an X509v3 extension given in OpenSSL's config syntax. */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* new_cert: an unsigned certificate for key with subject cn, valid days,
 * a random serial, issued by issuer (NULL: self-issued). Caller frees. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long days, X509 *issuer)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
		BN_free(bn);
		goto fail;
	}
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"fogbank", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	return x; /* signed by the caller once its extensions are added */
fail:
	X509_free(x);
	return NULL;
}

/* create_ca: makes a new CA key and certificate and writes them. */
static int create_ca(const char dir[4000], char **err)
{
	char path[4096];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (!key) {
		*err = ca_err("ca key");
		return -1;
	}
	X509 *x = new_cert(key, "fogbank local CA", 3650, NULL);
	if (!x || add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    !X509_sign(x, key, EVP_sha256())) {
		*err = ca_err("ca certificate");
		X509_free(x);
		EVP_PKEY_free(key);
		return -1;
	}
	size_t kn = 0, cn = 0;
	char *kpem = pem_of(NULL, key, &kn), *cpem = pem_of(x, NULL, &cn);
	int rc = -1;
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (kpem && cpem && fs_write_atomic(path, kpem, kn, 0600, -1, -1) == 0) {
		snprintf(path, sizeof(path), "%s/ca.pem", dir);
		rc = fs_write_atomic(path, cpem, cn, 0644, -1, -1);
	}
	if (rc < 0)
		*err = ca_err("writing the ca");
	if (kpem)
		OPENSSL_cleanse(kpem, kn);
	free(kpem);
	free(cpem);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* ca_load: makes ca_cache hold data_dir's CA, creating it on first use. */
static int ca_load(const char *data_dir, char **err)
{
	if (ca_cache.data_dir && !strcmp(ca_cache.data_dir, data_dir))
		return 0;
	ca_unload();
	char dir[4000], path[4096];
	if ((size_t)snprintf(dir, sizeof(dir), "%s/ca", data_dir) >= sizeof(dir)) {
		*err = strdup("data dir path too long");
		return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*err = ca_err("mkdir ca");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (access(path, F_OK) < 0 && create_ca(dir, err) < 0)
		return -1;
	FILE *f = fopen(path, "r");
	EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key || !x) {
		*err = ca_err("loading the ca");
		EVP_PKEY_free(key);
		X509_free(x);
		return -1;
	}
	ca_cache.key = key;
	ca_cache.cert = x;
	ca_cache.pem = pem_of(x, NULL, &ca_cache.pem_n);
	ca_cache.data_dir = strdup(data_dir);
	return 0;
}

const char *ca_cert_pem(const char *data_dir, size_t *n, char **err)
{
	if (ca_load(data_dir, err) < 0)
		return NULL;
	*n = ca_cache.pem_n;
	return ca_cache.pem;
}

int ca_issue(const char *data_dir, const char *cert_path, const char *key_path, const char *cn,
	     const char *ip, const char *const *dns, long uid, long gid, char **err)
{
	if (ca_load(data_dir, err) < 0)
		return -1;
	char san[2048];
	size_t o = 0;
	if (ip)
		o += (size_t)snprintf(san, sizeof(san), "IP:%s", ip);
	for (size_t i = 0; dns && dns[i] && o < sizeof(san); i++)
		o += (size_t)snprintf(san + o, sizeof(san) - o, "%sDNS:%s", o ? "," : "", dns[i]);
	if (o == 0 || o >= sizeof(san)) {
		*err = strdup("bad subjectAltName");
		return -1;
	}
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key ? new_cert(key, cn, 825, ca_cache.cert) : NULL;
	if (!x || add_ext(x, ca_cache.cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, ca_cache.cert, NID_key_usage, "critical,digitalSignature,keyAgreement") <
		0 ||
	    /* clientAuth too: Redis Cluster's TLS bus dials peers with the
	     * node's own certificate (mutual TLS) */
	    add_ext(x, ca_cache.cert, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
	    add_ext(x, ca_cache.cert, NID_subject_alt_name, san) < 0 ||
	    !X509_sign(x, ca_cache.key, EVP_sha256())) {
		*err = ca_err("server certificate");
		X509_free(x);
		EVP_PKEY_free(key);
		return -1;
	}
	size_t kn = 0, cn_len = 0;
	char *kpem = pem_of(NULL, key, &kn), *cpem = pem_of(x, NULL, &cn_len);
	int rc = -1;
	if (kpem && cpem) {
		/* the chain: leaf, then the CA (clients that trust the CA need only the leaf,
		 * but some want the full chain) */
		char *chain = malloc(cn_len + ca_cache.pem_n + 1);
		if (chain) {
			memcpy(chain, cpem, cn_len);
			memcpy(chain + cn_len, ca_cache.pem, ca_cache.pem_n);
			rc = fs_write_atomic(key_path, kpem, kn, 0600, uid, gid);
			if (rc == 0)
				rc = fs_write_atomic(cert_path, chain, cn_len + ca_cache.pem_n,
						     0644, uid, gid);
			free(chain);
		}
	}
	if (rc < 0)
		*err = ca_err("writing the server certificate");
	if (kpem)
		OPENSSL_cleanse(kpem, kn);
	free(kpem);
	free(cpem);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

void ca_unload(void)
{
	EVP_PKEY_free(ca_cache.key);
	X509_free(ca_cache.cert);
	free(ca_cache.pem);
	free(ca_cache.data_dir);
	memset(&ca_cache, 0, sizeof(ca_cache));
}
