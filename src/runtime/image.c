/* image.c - resolving an image reference to its manifest digest, layer
 * files and config: from fogbank's registry (through ECR's image table)
 * or from an OCI image layout directory. */
#include "core/compat.h"
#include "aws/json.h"
#include "core/loop.h"
#include "fb.h"
#include "registry/registry.h"
#include "runtime/runtime.h"
#include "svc/ecr/ecr.h"
#include <stdio.h>
#include <stdlib.h>

#define RT_DOC_MAX (4u << 20)

/* slurp: the whole file at path (arena, NUL-terminated) into *out. 0 or -1. */
static int slurp(struct arena *a, const char *path, struct str *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char *p = arena_alloc(a, RT_DOC_MAX + 1);
	size_t n = fread(p, 1, RT_DOC_MAX, f);
	fclose(f);
	p[n] = 0;
	*out = (struct str){p, n};
	return 0;
}

/* A place blobs are read from: the registry or a layout directory. */
struct source {
	struct fogbank *fb;
	const char *layout; /* NULL: the registry */
	int64_t repo_id;
};

/* blob_path: the file of digest in src (arena), or NULL when malformed. */
static const char *blob_path(struct arena *a, const struct source *src, const char *digest)
{
	if (!digest || !ecr_valid_digest(digest))
		return NULL;
	if (src->layout)
		return arena_sprintf(a, "%s/blobs/sha256/%s", src->layout, digest + 7);
	char *p = arena_alloc(a, 4096);
	return registry_blob_path(src->fb, digest, p, 4096) == 0 ? p : NULL;
}

/* manifest_doc: the manifest document digest names in src, parsed. */
static struct jv *manifest_doc(struct arena *a, const struct source *src, const char *digest)
{
	struct str s;
	if (src->layout) {
		const char *p = blob_path(a, src, digest);
		if (!p || slurp(a, p, &s) < 0)
			return NULL;
		return json_parse(a, s.p, s.n, NULL);
	}
	struct ecr_image img;
	if (ecr_image_get(src->fb, a, src->repo_id, digest, &img) != 1)
		return NULL;
	return json_parse(a, img.manifest.p, img.manifest.n, NULL);
}

/* pick_platform: the linux/amd64 (else first) entry of an index. */
static const char *pick_platform(const struct jv *index)
{
	const struct jv *ms = jv_get(index, "manifests");
	for (size_t i = 0; i < jv_len(ms); i++) {
		const struct jv *p = jv_get(jv_at(ms, i), "platform");
		const char *arch = jv_get_str(p, "architecture"), *os = jv_get_str(p, "os");
		if (arch && os && !strcmp(arch, "amd64") && !strcmp(os, "linux"))
			return jv_get_str(jv_at(ms, i), "digest");
	}
	return jv_len(ms) ? jv_get_str(jv_at(ms, 0), "digest") : NULL;
}

/* load: fills img from manifest (or index) digest in src. 0 or -1. */
static int load(struct arena *a, const struct source *src, const char *digest, struct rt_image *img)
{
	struct jv *m = manifest_doc(a, src, digest);
	if (m && jv_get(m, "manifests")) {
		digest = pick_platform(m);
		m = digest ? manifest_doc(a, src, digest) : NULL;
	}
	const struct jv *layers = jv_get(m, "layers");
	if (!m || !layers)
		return -1;
	img->digest = arena_strdup(a, digest);
	img->layers = arena_zalloc(a, (jv_len(layers) + 1) * sizeof(char *));
	for (size_t i = 0; i < jv_len(layers); i++)
		if (!(img->layers[i] = blob_path(a, src, jv_get_str(jv_at(layers, i), "digest"))))
			return -1;
	struct str cs;
	const char *cp = blob_path(a, src, jv_get_str(jv_get(m, "config"), "digest"));
	struct jv *conf = cp && slurp(a, cp, &cs) == 0 ? json_parse(a, cs.p, cs.n, NULL) : NULL;
	img->config = jv_get(conf, "config");
	return 0;
}

/* layout_ref: the manifest digest tagged tag in OCI layout dir. */
static const char *layout_ref(struct arena *a, const char *dir, const char *tag)
{
	struct str s;
	if (slurp(a, arena_sprintf(a, "%s/index.json", dir), &s) < 0)
		return NULL;
	const struct jv *ms = jv_get(json_parse(a, s.p, s.n, NULL), "manifests");
	for (size_t i = 0; i < jv_len(ms); i++) {
		const char *name = jv_get_str(jv_get(jv_at(ms, i), "annotations"),
					      "org.opencontainers.image.ref.name");
		if (!tag || (name && !strcmp(name, tag)))
			return jv_get_str(jv_at(ms, i), "digest");
	}
	return NULL;
}

int rt_image_resolve(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		     const char *ref, struct rt_image *img, const char **err)
{
	struct source src = {fb, NULL, 0};
	const char *digest = NULL;
	*err = arena_sprintf(a,
			     "CannotPullContainerError: pull image manifest has been retried 1 "
			     "time(s): failed to resolve ref %s: not found",
			     ref);
	if (!strncmp(ref, "oci:", 4)) {
		char *dir = arena_strdup(a, ref + 4), *colon = strrchr(dir, ':');
		if (colon && !strchr(colon, '/'))
			*colon = 0;
		src.layout = dir;
		digest = layout_ref(a, dir, colon ? colon + 1 : NULL);
		return digest && load(a, &src, digest, img) == 0 ? 0 : -1;
	}
	/* host/name[:tag|@digest]: the host must be fogbank's (any port on
	 * loopback names this daemon's edge) or an ECR-style domain */
	const char *slash = strchr(ref, '/');
	if (!slash)
		return -1;
	char *host = arena_strndup(a, ref, (size_t)(slash - ref));
	char *name = arena_strdup(a, slash + 1), *tag = "latest";
	char *at = strchr(name, '@'), *colon = strrchr(name, ':');
	if (at) {
		*at = 0;
		digest = at + 1;
	} else if (colon && !strchr(colon, '/')) {
		*colon = 0;
		tag = colon + 1;
	}
	char *dkr = strstr(host, ".dkr.ecr.");
	if (dkr) {
		*dkr = 0;
		account = host;
		char *rg = dkr + 9, *dot = strchr(rg, '.');
		if (dot)
			*dot = 0;
		region = rg;
	} else if (strncmp(host, "127.", 4) && strncmp(host, "localhost", 9) &&
		   strncmp(host, "[::1]", 5)) {
		*err = arena_sprintf(a,
				     "CannotPullContainerError: pull image manifest has been "
				     "retried 1 time(s): failed to resolve ref %s: fogbank pulls "
				     "only from its own registry or an oci: layout",
				     ref);
		return -1;
	}
	struct ecr_repo repo;
	struct ecr_image im;
	if (ecr_repo_get(fb, a, account, region, name, &repo) != 1 ||
	    ecr_image_get(fb, a, repo.id, digest ? digest : tag, &im) != 1)
		return -1;
	src.repo_id = repo.id;
	if (load(a, &src, im.digest, img) < 0)
		return -1;
	ecr_image_pulled(fb, im.id, fb_wall_ms());
	return 0;
}
