/* test_registry_lifecycle.c - ECR's pure parts: the lifecycle rule engine
 * (validation and AWS's documented evaluation examples), the name, tag and
 * digest validators, and the registry token (round trip, forgery, expiry,
 * no ':' for the CLI). */
#include "core/compat.h"
#include "fb.h"
#include "svc/ecr/internal.h"
#include "test.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* img: an image row pushed at pushed_ms with up to three tags. */
static struct ecr_image_row img(struct arena *a, int64_t pushed_ms, const char *t1, const char *t2,
				const char *t3)
{
	struct ecr_image_row r = {.pushed_ms = pushed_ms, .digest = "sha256:x"};
	const char *src[] = {t1, t2, t3};
	r.tags = arena_alloc(a, 3 * sizeof(*r.tags));
	for (int i = 0; i < 3; i++)
		if (src[i])
			r.tags[r.ntags++] = src[i];
	return r;
}

/* eval: parses policy and evaluates imgs (newest first) at now_ms with
 * 1000 ms days; returns the expired count (-1 when the policy is invalid). */
static ssize_t eval(struct arena *a, const char *text, struct ecr_image_row *imgs, size_t n,
		    int64_t now_ms, int64_t *rule)
{
	struct ecr_rule *rules;
	const char *why;
	ssize_t nr = ecr_lifecycle_parse(a, text, &rules, &why);
	if (nr < 0)
		return -1;
	return (ssize_t)ecr_lifecycle_eval(rules, (size_t)nr, imgs, n, now_ms, 1000, rule);
}

/* policy: a policy text of one or two rules (sel2 NULL: one) with
 * priorities p1 and p2 and the given selection objects (arena). */
static const char *policy(struct arena *a, int p1, const char *sel1, int p2, const char *sel2)
{
	static const char rule[] =
	    "{\"rulePriority\":%d,\"selection\":%s,\"action\":{\"type\":\"expire\"}}";
	char *r1 = arena_sprintf(a, rule, p1, sel1);
	if (!sel2)
		return arena_sprintf(a, "{\"rules\":[%s]}", r1);
	return arena_sprintf(a, "{\"rules\":[%s,%s]}", r1, arena_sprintf(a, rule, p2, sel2));
}

#define UNTAGGED_1                                                                                 \
	"{\"tagStatus\":\"untagged\",\"countType\":\"imageCountMoreThan\",\"countNumber\":1}"
#define ANY_1 "{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":1}"

TEST(ecr_lifecycle_validation)
{
	struct arena *a = arena_new(8192);
	struct ecr_rule *r;
	const char *why = NULL;
	const char *bad[] = {
	    "not json",
	    "{\"rules\":[]}",
	    policy(
		a, 1,
		"{\"tagStatus\":\"tagged\",\"countType\":\"imageCountMoreThan\",\"countNumber\":1}",
		0, NULL),
	    policy(a, 1,
		   "{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\","
		   "\"countNumber\":1}",
		   0, NULL),
	    policy(a, 1,
		   "{\"tagStatus\":\"untagged\",\"countType\":\"imageCountMoreThan\","
		   "\"countNumber\":0}",
		   0, NULL),
	    policy(a, 1, ANY_1, 2, UNTAGGED_1),
	    policy(a, 1, UNTAGGED_1, 1, ANY_1),
	    policy(a, 1,
		   "{\"tagStatus\":\"untagged\",\"tagPrefixList\":[\"a\"],\"countType\":"
		   "\"imageCountMoreThan\",\"countNumber\":1}",
		   0, NULL),
	    policy(a, 1,
		   "{\"tagStatus\":\"untagged\",\"countType\":\"imageCountMoreThan\","
		   "\"countNumber\":1,\"bogus\":1}",
		   0, NULL),
	    policy(a, 1,
		   "{\"tagStatus\":\"tagged\",\"tagPatternList\":[\"*a*b*c*d*e\"],\"countType\":"
		   "\"imageCountMoreThan\",\"countNumber\":1}",
		   0, NULL),
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		why = NULL;
		CHECK(ecr_lifecycle_parse(a, bad[i], &r, &why) == -1);
		CHECK(why != NULL);
	}
	const char *ok = policy(a, 3,
				"{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\","
				"\"countNumber\":9}",
				1,
				"{\"tagStatus\":\"tagged\",\"tagPatternList\":[\"prod-*\"],"
				"\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\","
				"\"countNumber\":14}");
	CHECK(ecr_lifecycle_parse(a, ok, &r, &why) == 2);
	CHECK(r[0].priority == 1 && r[0].npatterns == 1 && !r[0].count_more_than &&
	      r[0].count == 14);
	CHECK(r[1].priority == 3 && r[1].tag_status == ECR_TAG_ANY);
	arena_free(a);
}

#define TAGGED(prefixes, n)                                                                        \
	"{\"tagStatus\":\"tagged\",\"tagPrefixList\":[" prefixes "],\"countType\":"                \
	"\"imageCountMoreThan\",\"countNumber\":" #n "}"

/* AWS's "filtering on multiple rules" example: rule 1 alpha (keep 1), rule
 * 2 beta (keep 1); images A [alpha-1, beta-1] oldest, B [alpha-2, beta-2],
 * C [alpha-3] newest: A and B expire, both by rule 1. */
TEST(ecr_lifecycle_aws_example)
{
	struct arena *a = arena_new(8192);
	struct ecr_image_row v[3];
	v[0] = img(a, 3000, "alpha-3", NULL, NULL);	/* C */
	v[1] = img(a, 2000, "alpha-2", "beta-2", NULL); /* B */
	v[2] = img(a, 1000, "alpha-1", "beta-1", NULL); /* A */
	int64_t rule[3];
	const char *p = policy(a, 1, TAGGED("\"alpha\"", 1), 2, TAGGED("\"beta\"", 1));
	CHECK(eval(a, p, v, 3, 10000, rule) == 2);
	CHECK(rule[0] == 0 && rule[1] == 1 && rule[2] == 1);
	/* all prefixes of one rule must match: only A and B carry both */
	p = policy(a, 1, TAGGED("\"alpha\",\"beta\"", 1), 0, NULL);
	CHECK(eval(a, p, v, 3, 10000, rule) == 1);
	CHECK(rule[0] == 0 && rule[1] == 0 && rule[2] == 1);
	arena_free(a);
}

/* The seed's policy: keep the last 2 tagged "v" images, expire untagged
 * after 7 days; a higher-priority rule protects what it selects. */
TEST(ecr_lifecycle_seed_policy)
{
	struct arena *a = arena_new(8192);
	struct ecr_image_row v[5];
	v[0] = img(a, 9000, "v3", NULL, NULL);
	v[1] = img(a, 8500, NULL, NULL, NULL); /* untagged, 0.5 days old at 9000 */
	v[2] = img(a, 8000, "v2", "latest", NULL);
	v[3] = img(a, 1000, "v1", NULL, NULL);
	v[4] = img(a, 500, NULL, NULL, NULL); /* untagged, 8.5 days old */
	int64_t rule[5];
	const char *p = policy(a, 1, TAGGED("\"v\"", 2), 2,
			       "{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\","
			       "\"countUnit\":\"days\",\"countNumber\":7}");
	CHECK(eval(a, p, v, 5, 9000, rule) == 2);
	CHECK(rule[0] == 0 && rule[1] == 0 && rule[2] == 0 && rule[3] == 1 && rule[4] == 2);
	/* "any" last: what rule 1 selected (the v images) it cannot expire */
	p = policy(a, 1,
		   "{\"tagStatus\":\"tagged\",\"tagPatternList\":[\"v*\"],\"countType\":"
		   "\"imageCountMoreThan\",\"countNumber\":5}",
		   2, ANY_1);
	CHECK(eval(a, p, v, 5, 9000, rule) == 2);
	CHECK(rule[1] == 2 && rule[4] == 2 && rule[0] == 0 && rule[3] == 0);
	/* children of an index are never expired on their own */
	v[4].referenced = 1;
	CHECK(eval(a, p, v, 5, 9000, rule) == 1 && rule[4] == 0);
	arena_free(a);
}

TEST(ecr_validators)
{
	CHECK(ecr_valid_repo_name("app") && ecr_valid_repo_name("team/app-web_1.x"));
	CHECK(ecr_valid_repo_name("a/b/c9"));
	CHECK(!ecr_valid_repo_name("a") && !ecr_valid_repo_name("App") &&
	      !ecr_valid_repo_name("a//b") && !ecr_valid_repo_name("a-") &&
	      !ecr_valid_repo_name("-a") && !ecr_valid_repo_name("a/_b") &&
	      !ecr_valid_repo_name("ab/"));
	CHECK(ecr_valid_tag("latest") && ecr_valid_tag("v1.2.3-rc_1") && ecr_valid_tag("_x"));
	CHECK(!ecr_valid_tag("") && !ecr_valid_tag(".x") && !ecr_valid_tag("a:b") &&
	      !ecr_valid_tag("a/b"));
	char t[200];
	memset(t, 'a', 129);
	t[129] = 0;
	CHECK(!ecr_valid_tag(t));
	CHECK(ecr_valid_digest(
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!ecr_valid_digest(
	    "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!ecr_valid_digest("sha512:00") && !ecr_valid_digest("sha256:abc"));
}

TEST(ecr_token)
{
	char dir[] = "/tmp/fogbank-unit-ecrtok-XXXXXX", path[128];
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/master.key", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "0123456789abcdef0123456789abcdef", 32) == 32);
	close(fd);
	struct fogbank fb = {.data_dir = dir};
	char tok[ECR_TOKEN_MAX], acct[13], region[32];
	int64_t now = 1700000000000;
	CHECK(ecr_token_make(&fb, "123456789012", "eu-west-1", now + 3600000, tok) == 0);
	CHECK(strchr(tok, ':') == NULL);
	CHECK(ecr_token_verify(&fb, str_c(tok), now, acct, region) == 0);
	CHECK_STREQ(acct, "123456789012");
	CHECK_STREQ(region, "eu-west-1");
	CHECK(ecr_token_verify(&fb, str_c(tok), now + 3600000, acct, region) == -1); /* expired */
	char forged[ECR_TOKEN_MAX];
	memcpy(forged, tok, sizeof(forged));
	forged[7] = '9'; /* another account, same MAC */
	CHECK(ecr_token_verify(&fb, str_c(forged), now, acct, region) == -1);
	CHECK(ecr_token_verify(&fb, str_c("fbecr1.x"), now, acct, region) == -1);
	CHECK(ecr_token_verify(&fb, str_c(""), now, acct, region) == -1);
	unlink(path);
	rmdir(dir);
}
