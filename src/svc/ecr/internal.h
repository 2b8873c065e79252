/* internal.h - what the files of src/svc/ecr share: resolving the
 * repository a call names, transactions, the error vocabulary, output
 * shapes, and the lifecycle rule engine the handlers and the sweep use. */
#ifndef FB_SVC_ECR_INTERNAL_H
#define FB_SVC_ECR_INTERNAL_H
#include "core/compat.h"
#include "aws/call.h"
#include "svc/ecr/ecr.h"

#define ECR_MAX_TAGS 50
#define ECR_DEFAULT_PAGE 100

/* --- store.c --- */

/* ecr_fail_db: ServerException for sqlite error rc (logged). */
int ecr_fail_db(struct aws_call *c, int rc);
/* ecr_tx_begin / ecr_tx_end: a handler's transaction; ecr_tx_end commits
 * when ok is 0 (-1 if the commit fails) and rolls back otherwise. */
int ecr_tx_begin(struct aws_call *c);
int ecr_tx_end(struct aws_call *c, int ok);
/* ecr_registry_id: the account the call acts in. registryId, when given,
 * must be that account: another account's registry is not reachable
 * (fogbank evaluates no cross-account repository policies). Returns the
 * account, or NULL with RepositoryNotFoundException / InvalidParameter. */
const char *ecr_registry_id(struct aws_call *c);
/* ecr_repo_find: the repository named by the input's repositoryName in the
 * call's account and region. Returns 0, or -1 with
 * RepositoryNotFoundException (or ServerException). */
int ecr_repo_find(struct aws_call *c, struct ecr_repo *r);
/* ecr_repo_not_found: RepositoryNotFoundException for name. */
int ecr_repo_not_found(struct aws_call *c, const char *name);
/* ecr_repo_arn: "arn:aws:ecr:<region>:<account>:repository/<name>". */
const char *ecr_repo_arn(struct arena *a, const struct ecr_repo *r);
/* ecr_repo_entry: the Repository shape of r. */
struct jv *ecr_repo_entry(struct aws_call *c, const struct ecr_repo *r);
/* ecr_out_repo_ids: sets registryId and repositoryName on the output. */
void ecr_out_repo_ids(struct aws_call *c, const struct ecr_repo *r);
/* ecr_image_tags: the tags of image_id, sorted, as a JV_ARRAY. */
struct jv *ecr_image_tags(struct aws_call *c, int64_t image_id);
/* ecr_page_args: reads nextToken (an offset this file wrote) and
 * maxResults (default def). Returns 0, or -1 with InvalidParameterException. */
int ecr_page_args(struct aws_call *c, size_t def, size_t *offset, size_t *limit);
/* ecr_page_token: sets nextToken to offset when more remain. */
void ecr_page_token(struct aws_call *c, size_t offset, size_t total);

/* A repository's image as listing and lifecycle see it. */
struct ecr_image_row {
	int64_t id;
	const char *digest;
	const char *media_type;
	const char *artifact_type;
	int64_t size;
	int64_t pushed_ms;
	int64_t pulled_ms;
	const char **tags; /* sorted; ntags entries */
	size_t ntags;
	int referenced; /* a child of another image's manifest list / index */
};

/* ecr_images_load: every image of repo_id with its tags, newest first
 * (pushed time, then id). Returns the count (*out is an arena array), or
 * -1 on a store error. */
ssize_t ecr_images_load(struct fogbank *fb, struct arena *a, int64_t repo_id,
			struct ecr_image_row **out);

/* --- tags.c --- */

/* ecr_tags_check: validates a TagList (NULL fine): InvalidTagParameterException
 * or TooManyTagsException. */
int ecr_tags_check(struct aws_call *c, const struct jv *tags);
/* ecr_tags_put: upserts tags on repo_id (no transaction of its own). */
int ecr_tags_put(struct aws_call *c, int64_t repo_id, const struct jv *tags);

/* --- lifecycle.c --- */

/* One rule of a parsed lifecycle policy. */
struct ecr_rule {
	int64_t priority;
	int tag_status; /* ECR_TAG_TAGGED / UNTAGGED / ANY */
	const char **prefixes;
	size_t nprefixes;
	const char **patterns;
	size_t npatterns;
	int count_more_than; /* 1: imageCountMoreThan, 0: sinceImagePushed */
	int64_t count;
};
enum { ECR_TAG_TAGGED, ECR_TAG_UNTAGGED, ECR_TAG_ANY };

/* ecr_lifecycle_parse: validates a policy text as AWS does and returns its
 * rules sorted by priority (arena). Returns the rule count (>= 1), or -1
 * with *why set to a static or arena message. */
ssize_t ecr_lifecycle_parse(struct arena *a, const char *text, struct ecr_rule **rules,
			    const char **why);
/* ecr_lifecycle_eval: which of imgs[0..n) (newest first, as
 * ecr_images_load returns them) the rules expire as of now_ms, with day_ms
 * milliseconds to a day: expire_rule[i] is the priority of the rule that
 * expires image i, or 0 when it stays. Returns the count expired. */
size_t ecr_lifecycle_eval(const struct ecr_rule *rules, size_t nrules,
			  const struct ecr_image_row *imgs, size_t n, int64_t now_ms,
			  int64_t day_ms, int64_t *expire_rule);
/* ecr_day_ms: the length of a lifecycle "day" (FOGBANK_ECR_DAY_SECONDS). */
int64_t ecr_day_ms(void);
#endif
