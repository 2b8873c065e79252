/* model.c - lookups over the generated model tables (src/aws/gen/).
 *
 * The generator sorts model_services[] by id and each service's ops[] by
 * name in strcmp order, so both lookups are a bsearch. */
#include "core/compat.h"
#include "aws/model.h"
#include <stdlib.h>

/* Compares a NUL-terminated key with a service's id (bsearch callback). */
static int service_cmp(const void *key, const void *elem)
{
	const struct model_service *const *svc = elem;
	return strcmp(key, (*svc)->id);
}

/* model_find_service: the service with botocore id `id`, or NULL. The
 * result points into static tables; nothing to free. */
const struct model_service *model_find_service(const char *id)
{
	const struct model_service *const *p;

	if (!id)
		return NULL;
	p = bsearch(id, model_services, model_nservices, sizeof(model_services[0]), service_cmp);
	return p ? *p : NULL;
}

/* A counted operation name: request paths hand us X-Amz-Target or Action
 * slices that are not NUL-terminated. */
struct op_key {
	const char *name;
	size_t n;
};

/* Compares a counted name with an op's name in strcmp order, so a key that
 * is a proper prefix of a name sorts before it (bsearch callback). */
static int op_cmp(const void *key, const void *elem)
{
	const struct op_key *k = key;
	const struct model_op *op = elem;
	size_t len = strlen(op->name);
	int c = memcmp(k->name, op->name, k->n < len ? k->n : len);

	if (c)
		return c;
	return (k->n > len) - (k->n < len);
}

/* model_find_op: the op of svc named by the n bytes at name (no NUL needed),
 * or NULL. Points into static tables; nothing to free. */
const struct model_op *model_find_op(const struct model_service *svc, const char *name, size_t n)
{
	struct op_key k = {name, n};

	if (!svc || !name || !svc->nops)
		return NULL;
	return bsearch(&k, svc->ops, svc->nops, sizeof(svc->ops[0]), op_cmp);
}
