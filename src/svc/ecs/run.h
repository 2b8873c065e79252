/* run.h - what run.c needs from the rest of the live runtime. */
#ifndef FB_SVC_ECS_RUN_H
#define FB_SVC_ECS_RUN_H
#include "svc/ecs/internal.h"

/* ecs_secret_value: the value valueFrom names (secrets.c), or NULL with
 * *err set to ECS's ResourceInitializationError reason. Arena strings. */
const char *ecs_secret_value(struct fogbank *fb, struct arena *a, const char *account,
			     const char *region, const char *value_from, const char **err);
#endif
