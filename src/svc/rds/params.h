/* params.h - the PostgreSQL 15 settings table behind DB parameter groups
 * (generated into pg15_params.c from `postgres --describe-config`). */
#ifndef FB_SVC_RDS_PARAMS_H
#define FB_SVC_RDS_PARAMS_H
#include "core/compat.h"

struct rds_pg_param {
	const char *name;
	const char *context; /* postmaster: static (reboot); others: dynamic */
	const char *type;    /* bool, integer, real, string, enum */
	const char *dflt;
	const char *min, *max;
	const char *desc;
	int modifiable; /* 0: fogbank owns it (addresses, paths, archiving) */
};

/* {NULL}-terminated. */
extern const struct rds_pg_param rds_pg_params[];
#endif
