/* secretsmanager.h - what the daemon needs from Secrets Manager: its schema
 * and the purge of secrets whose recovery window has passed. */
#ifndef FB_SVC_SECRETSMANAGER_H
#define FB_SVC_SECRETSMANAGER_H
#include "core/compat.h"
#include "store/db.h"

struct fogbank;
struct aws_call;

/* Schema steps of the secretsmanager component ({NULL}-terminated). */
extern const struct db_migration secretsmanager_migrations[];

/* secretsmanager_purge: really deletes (versions, stages, tags, row) every
 * secret scheduled for deletion whose window ended before now_ms. For the
 * daemon's timer; secrets are also purged lazily when accessed. */
void secretsmanager_purge(struct fogbank *fb, int64_t now_ms);

/* BatchGetSecretValue: newer than the botocore 1.29 model the handler
 * tables are generated from, so declared here rather than in the
 * generated header; it is wired up once the model knows the operation. */
int secretsmanager_op_batch_get_secret_value(struct aws_call *c);
/* secretsmanager_create_managed: creates secret name on behalf of another
 * service (owning_service, e.g. "rds" for ManageMasterUserPassword):
 * unlike CreateSecret the name may hold '!' (rds!db-<uuid>) and tags may
 * be the service's aws: ones. Encrypted under kms_key_ref (NULL: the
 * aws/secretsmanager key), secret_string as its AWSCURRENT version,
 * description. Acts in c's account and region, in its own transaction
 * (the caller must have none open). 0 with *arn_out (c's arena), or -1
 * with Secrets Manager's error on c. */
struct jv;
int secretsmanager_create_managed(struct aws_call *c, const char *owning_service, const char *name,
				  const char *description, const char *kms_key_ref,
				  const char *secret_string, const struct jv *tags,
				  const char **arn_out);
#endif
