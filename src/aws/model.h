/* model.h - the AWS service models as C tables.
 *
 * The tables are generated into src/aws/gen/ by tools/gen_ops.py from
 * botocore's service-2.json files and committed. Shape, member, enum and
 * error references are indexes into the owning service's arrays, so each
 * service is self-contained. */
#ifndef FB_MODEL_H
#define FB_MODEL_H
#include "core/compat.h"

struct aws_call;
/* A handler decodes nothing itself: it reads call->in, writes call->out
 * (or fails with aws_fail) and returns 0 on success, -1 on error. */
typedef int aws_handler_fn(struct aws_call *call);

enum model_type {
	MT_STRUCTURE = 1,
	MT_LIST,
	MT_MAP,
	MT_STRING,
	MT_INTEGER,
	MT_LONG,
	MT_BOOLEAN,
	MT_DOUBLE,
	MT_FLOAT,
	MT_TIMESTAMP,
	MT_BLOB,
};

enum model_protocol { MP_QUERY = 1, MP_EC2, MP_JSON, MP_REST_JSON, MP_REST_XML };

enum model_location {
	ML_BODY = 0,
	ML_HEADER,  /* a single header (locationName) */
	ML_HEADERS, /* a map of headers sharing the prefix locationName */
	ML_URI,	    /* {locationName} in the request URI */
	ML_QUERY,   /* query string parameter locationName */
	ML_STATUS,  /* the HTTP status code */
};

enum model_ts_format { MTS_DEFAULT = 0, MTS_ISO8601, MTS_EPOCH, MTS_RFC822 };

/* member flags */
#define MF_REQUIRED 0x01
#define MF_FLATTENED 0x02 /* member's own "flattened": true */
#define MF_XML_ATTRIBUTE 0x04
#define MF_PAYLOAD 0x08	    /* the structure's "payload" member */
#define MF_IDEMPOTENCY 0x10 /* idempotencyToken: auto-filled when absent */
#define MF_HOST_LABEL 0x20
#define MF_JSONVALUE 0x40 /* header holding base64 JSON */
#define MF_DEPRECATED 0x80

/* shape flags */
#define SF_FLATTENED 0x0001
#define SF_EXCEPTION 0x0002
#define SF_FAULT 0x0004 /* server-side error (Receiver) */
#define SF_SENSITIVE 0x0008
#define SF_STREAMING 0x0010
#define SF_HAS_MIN 0x0020
#define SF_HAS_MAX 0x0040
#define SF_EVENTSTREAM 0x0080
#define SF_DOCUMENT 0x0100
#define SF_UNION 0x0200

/* op flags */
#define OPF_AUTH_NONE 0x01	   /* "authtype": "none" */
#define OPF_UNSIGNED_PAYLOAD 0x02  /* "authtype": "v4-unsigned-body" */
#define OPF_CHECKSUM_REQUIRED 0x04 /* httpChecksumRequired / requestChecksumRequired */
#define OPF_DEPRECATED 0x08

/* A member of a structure; for a list, the single entry describing the
 * element; for a map, two entries: key then value. */
struct model_member {
	const char *name;	/* member name (JSON key, jv key) */
	const char *loc_name;	/* locationName, or NULL (wire name = name) */
	const char *query_name; /* ec2 queryName, or NULL */
	const char *xml_ns;	/* xmlNamespace uri, or NULL */
	uint32_t shape;		/* index into the service's shapes */
	uint8_t location;	/* enum model_location */
	uint8_t flags;		/* MF_* */
};

struct model_shape {
	const char *name;
	uint8_t type;	   /* enum model_type */
	uint8_t ts_format; /* enum model_ts_format (shape's timestampFormat) */
	uint16_t flags;	   /* SF_* */
	uint32_t members;  /* first index into the service's members */
	uint32_t nmembers; /* structure: members; list: 1; map: 2 */
	uint32_t enums;	   /* first index into the service's enums */
	uint32_t nenums;
	double min, max;	/* valid when SF_HAS_MIN / SF_HAS_MAX */
	const char *pattern;	/* regex from the model, or NULL */
	const char *error_code; /* exceptions: error.code, or the shape name */
	uint16_t error_status;	/* exceptions: error.httpStatusCode (default 400) */
	const char *xml_ns;	/* xmlNamespace uri of the shape, or NULL */
	const char *loc_name;	/* shape-level locationName, or NULL */
};

struct model_op {
	const char *name;
	const char *http_method;
	const char *request_uri;
	int32_t input;		    /* shape index, -1 when none */
	int32_t output;		    /* shape index, -1 when none */
	const char *result_wrapper; /* query protocol "resultWrapper" or NULL */
	uint32_t errors;	    /* first index into the service's errors */
	uint32_t nerrors;
	uint16_t flags;		 /* OPF_* */
	uint16_t http_status;	 /* "responseCode", 200 by default */
	aws_handler_fn *handler; /* NULL when fogbank has no handler (-> 501) */
};

struct model_service {
	const char *id;		/* botocore data directory, e.g. "cloudwatch" */
	const char *service_id; /* metadata.serviceId */
	const char *api_version;
	uint8_t protocol;		/* enum model_protocol */
	uint8_t query_compatible;	/* also accepts JSON 1.0 with x-amzn-query-mode */
	const char *json_version;	/* "1.0" / "1.1" or NULL */
	const char *target_prefix;	/* X-Amz-Target prefix, or NULL */
	const char *json_target_prefix; /* query-compatible JSON prefix, or NULL */
	const char *signing_name;
	const char *endpoint_prefix;
	const char *xml_namespace;  /* metadata xmlNamespace, or NULL */
	const char *model_version;  /* e.g. "botocore 1.29.27" */
	const struct model_op *ops; /* sorted by name (strcmp) */
	uint32_t nops;
	const struct model_shape *shapes;
	uint32_t nshapes;
	const struct model_member *members;
	const char *const *enums;
	const uint32_t *errors; /* shape indexes */
};

/* All generated services (src/aws/gen/services.c), sorted by id. */
extern const struct model_service *const model_services[];
extern const size_t model_nservices;

/* model_find_service: by botocore id ("secretsmanager"), or NULL. */
const struct model_service *model_find_service(const char *id);
/* model_find_op: bsearch by operation name of n bytes, or NULL. */
const struct model_op *model_find_op(const struct model_service *svc, const char *name, size_t n);
/* model_shape: the shape at index i of svc. */
static inline const struct model_shape *model_shape(const struct model_service *svc, uint32_t i)
{
	return &svc->shapes[i];
}
#endif
