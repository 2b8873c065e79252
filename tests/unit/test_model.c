/* test_model.c - the generated model tables (src/aws/gen/) and the lookups
 * in src/aws/model.c: spot checks against known botocore facts, plus
 * integrity checks over every service (sorting, index bounds). */
#include "core/compat.h"
#include "aws/model.h"
#include "test.h"

/* Handlers looked at by address. Weak here too, so the test links whether
 * or not anyone has written them yet; the table must hold the same value. */
extern aws_handler_fn secretsmanager_op_get_secret_value __attribute__((weak));
extern aws_handler_fn sts_op_get_caller_identity __attribute__((weak));
extern aws_handler_fn rds_op_create_db_instance __attribute__((weak));
extern aws_handler_fn iam_op_enable_mfa_device __attribute__((weak));
extern aws_handler_fn s3_op_list_objects_v2 __attribute__((weak));
extern aws_handler_fn rds_op_describe_db_cluster_parameter_groups __attribute__((weak));
extern aws_handler_fn kms_op_get_key_rotation_status __attribute__((weak));

/* The toolchain check the 501 path relies on: an undefined weak function
 * reads as NULL, a defined one as its address (this binary is PIE). */
extern aws_handler_fn test_model_never_defined __attribute__((weak));
extern aws_handler_fn test_model_defined __attribute__((weak));

/* A handler that exists, for the weak-symbol check; returns 0. */
int test_model_defined(struct aws_call *call)
{
	FB_UNUSED(call);
	return 0;
}

/* Service by id; fails the test (and returns NULL) when missing. */
static const struct model_service *svc(const char *id)
{
	const struct model_service *s = model_find_service(id);
	CHECK(s != NULL);
	return s;
}

/* Op by NUL-terminated name, or NULL. */
static const struct model_op *op(const struct model_service *s, const char *name)
{
	return s ? model_find_op(s, name, strlen(name)) : NULL;
}

/* Op by name; a missing op fails the test and yields an all-zero row so
 * the caller can go on dereferencing. */
static const struct model_op *must_op(const struct model_service *s, const char *name)
{
	static const struct model_op none;
	const struct model_op *o = op(s, name);
	CHECK(o != NULL);
	return o ? o : &none;
}

/* First shape named name (linear; tests only), or NULL. */
static const struct model_shape *shape(const struct model_service *s, const char *name)
{
	for (uint32_t i = 0; s && i < s->nshapes; i++)
		if (!strcmp(s->shapes[i].name, name))
			return &s->shapes[i];
	return NULL;
}

/* Member of a shape by member name, or NULL. */
static const struct model_member *member(const struct model_service *s,
					 const struct model_shape *sh, const char *name)
{
	for (uint32_t i = 0; s && sh && i < sh->nmembers; i++)
		if (!strcmp(s->members[sh->members + i].name, name))
			return &s->members[sh->members + i];
	return NULL;
}

/* Member of the shape named shape_name, or NULL. */
static const struct model_member *smember(const struct model_service *s, const char *shape_name,
					  const char *name)
{
	return member(s, shape(s, shape_name), name);
}

/* The shape a member points at. */
static const struct model_shape *mshape(const struct model_service *s, const struct model_member *m)
{
	return m ? model_shape(s, m->shape) : NULL;
}

TEST(model_services_sorted_and_found)
{
	CHECK(model_nservices == 18);
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *s = model_services[i];
		if (i)
			CHECK(strcmp(model_services[i - 1]->id, s->id) < 0);
		CHECK(model_find_service(s->id) == s);
		CHECK_STREQ(s->model_version, "botocore 1.29.27");
	}
	CHECK(model_find_service("lambda") == NULL);
	CHECK(model_find_service("") == NULL);
	CHECK(model_find_service(NULL) == NULL);
	CHECK(model_find_service("cognito-idp") != NULL);
	CHECK(model_find_service("application-autoscaling") != NULL);
}

TEST(model_tables_consistent)
{
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *s = model_services[i];
		uint32_t next_member = 0;
		CHECK(s->nops > 0 && s->nshapes > 0);
		for (uint32_t j = 0; j < s->nops; j++) {
			const struct model_op *o = &s->ops[j];
			if (j)
				CHECK(strcmp(s->ops[j - 1].name, o->name) < 0);
			CHECK(model_find_op(s, o->name, strlen(o->name)) == o);
			CHECK(o->input < (int32_t)s->nshapes && o->input >= -1);
			CHECK(o->output < (int32_t)s->nshapes && o->output >= -1);
			CHECK(o->http_method && o->request_uri && o->http_status >= 200);
			for (uint32_t e = 0; e < o->nerrors; e++) {
				const struct model_shape *es =
				    model_shape(s, s->errors[o->errors + e]);
				CHECK(s->errors[o->errors + e] < s->nshapes);
				CHECK(es->flags & SF_EXCEPTION);
				CHECK(es->error_code != NULL && es->error_status >= 400);
			}
		}
		/* members are laid out shape after shape, in shape order */
		for (uint32_t j = 0; j < s->nshapes; j++) {
			const struct model_shape *sh = &s->shapes[j];
			if (sh->type == MT_LIST)
				CHECK(sh->nmembers == 1);
			else if (sh->type == MT_MAP)
				CHECK(sh->nmembers == 2);
			else if (sh->type != MT_STRUCTURE)
				CHECK(sh->nmembers == 0);
			if (!sh->nmembers)
				continue;
			CHECK(sh->members == next_member);
			next_member = sh->members + sh->nmembers;
			for (uint32_t k = 0; k < sh->nmembers; k++)
				CHECK(s->members[sh->members + k].shape < s->nshapes);
		}
	}
}

TEST(model_find_op_bounds)
{
	const struct model_service *s = svc("secretsmanager");
	const char buf[] = "GetSecretValueAndMore";

	CHECK(op(s, "GetSecretValue") != NULL);
	CHECK(op(s, "NoSuchOperation") == NULL);
	CHECK(op(s, "") == NULL);
	CHECK(op(s, "GetSecretValu") == NULL);			     /* a proper prefix */
	CHECK(op(s, "GetSecretValueX") == NULL);		     /* a proper extension */
	CHECK(op(s, "getsecretvalue") == NULL);			     /* case matters */
	CHECK(model_find_op(s, buf, 14) == op(s, "GetSecretValue")); /* not NUL-terminated */
	CHECK(model_find_op(s, buf, 0) == NULL);
	CHECK(model_find_op(NULL, "GetSecretValue", 14) == NULL);
	/* first and last rows are reachable */
	CHECK(op(s, s->ops[0].name) == &s->ops[0]);
	CHECK(op(s, s->ops[s->nops - 1].name) == &s->ops[s->nops - 1]);
}

TEST(model_secretsmanager)
{
	const struct model_service *s = svc("secretsmanager");
	const struct model_op *o = op(s, "GetSecretValue");
	const struct model_shape *in, *sh;
	const struct model_member *m;
	int found = 0;

	CHECK(s->protocol == MP_JSON);
	CHECK_STREQ(s->target_prefix, "secretsmanager");
	CHECK(o != NULL);
	if (!o)
		return;
	CHECK_STREQ(o->http_method, "POST");
	CHECK(o->http_status == 200 && o->result_wrapper == NULL);
	CHECK(o->handler == secretsmanager_op_get_secret_value);
	CHECK(o->input >= 0 && o->output >= 0);
	in = model_shape(s, (uint32_t)o->input);
	CHECK_STREQ(in->name, "GetSecretValueRequest");
	m = member(s, in, "SecretId");
	CHECK(m && (m->flags & MF_REQUIRED));
	CHECK(m && m->location == ML_BODY && m->loc_name == NULL);
	sh = mshape(s, m);
	CHECK(sh && sh->type == MT_STRING);
	CHECK(sh && (sh->flags & (SF_HAS_MIN | SF_HAS_MAX)) == (SF_HAS_MIN | SF_HAS_MAX));
	CHECK(sh && sh->min == 1.0 && sh->max == 2048.0);
	m = member(s, in, "VersionId");
	CHECK(m && !(m->flags & MF_REQUIRED));
	CHECK(member(s, model_shape(s, (uint32_t)o->output), "SecretString") != NULL);

	for (uint32_t e = 0; e < o->nerrors; e++) {
		const struct model_shape *es = model_shape(s, s->errors[o->errors + e]);
		if (strcmp(es->name, "ResourceNotFoundException"))
			continue;
		found = 1;
		CHECK_STREQ(es->error_code, "ResourceNotFoundException");
		CHECK(es->error_status == 400 && !(es->flags & SF_FAULT));
	}
	CHECK(found);
	sh = shape(s, "InternalServiceError");
	CHECK(sh && (sh->flags & SF_FAULT) && sh->error_status == 500);

	m = smember(s, "CreateSecretRequest", "ClientRequestToken");
	CHECK(m && (m->flags & MF_IDEMPOTENCY));
	sh = shape(s, "SecretStringType");
	CHECK(sh && (sh->flags & SF_SENSITIVE));
}

TEST(model_enum_and_pattern)
{
	const struct model_service *s = svc("kms");
	const struct model_shape *sh = shape(s, "KeyUsageType");

	CHECK(sh && sh->type == MT_STRING && sh->nenums == 3);
	if (sh && sh->nenums == 3) {
		CHECK_STREQ(s->enums[sh->enums + 0], "SIGN_VERIFY");
		CHECK_STREQ(s->enums[sh->enums + 1], "ENCRYPT_DECRYPT");
		CHECK_STREQ(s->enums[sh->enums + 2], "GENERATE_VERIFY_MAC");
	}
	/* ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-]*$ in the model: every backslash kept */
	s = svc("secretsmanager");
	sh = shape(s, "FilterValueStringType");
	CHECK(sh && sh->pattern);
	if (sh && sh->pattern) {
		CHECK_STREQ(sh->pattern, "^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-]*$");
		CHECK(strlen(sh->pattern) == 31 && sh->pattern[1] == '\\');
	}
	/* \u escapes are regex text in the JSON, not characters */
	s = svc("sts");
	sh = shape(s, "arnType");
	CHECK(sh && sh->pattern && !strncmp(sh->pattern, "[\\u0009\\u000A", 13));
	sh = shape(s, "accessKeyIdType");
	CHECK(sh && sh->pattern && !strcmp(sh->pattern, "[\\w]*"));
}

TEST(model_json_services)
{
	const struct model_service *s = svc("kms");
	const struct model_shape *sh;

	CHECK(s->protocol == MP_JSON);
	CHECK_STREQ(s->target_prefix, "TrentService");
	CHECK_STREQ(s->json_version, "1.1");
	CHECK(s->query_compatible == 0 && s->json_target_prefix == NULL);
	CHECK(s->xml_namespace == NULL);
	CHECK_STREQ(s->signing_name, "kms");
	CHECK(must_op(s, "GetKeyRotationStatus")->handler == kms_op_get_key_rotation_status);
	sh = shape(s, "KMSInternalException"); /* fault without httpStatusCode */
	CHECK(sh && (sh->flags & (SF_EXCEPTION | SF_FAULT)) == (SF_EXCEPTION | SF_FAULT));
	CHECK(sh && sh->error_status == 500);
	CHECK(sh && !strcmp(sh->error_code, "KMSInternalException"));

	s = svc("ecr");
	CHECK_STREQ(s->endpoint_prefix, "api.ecr");
	CHECK_STREQ(s->signing_name, "ecr");
	{
		const struct model_member *m =
		    smember(s, "GetAuthorizationTokenRequest", "registryIds");
		CHECK(m && (m->flags & MF_DEPRECATED));
	}

	s = svc("cognito-idp");
	CHECK(must_op(s, "InitiateAuth")->flags & OPF_AUTH_NONE);
	CHECK(!(must_op(s, "AdminInitiateAuth")->flags & OPF_AUTH_NONE));

	s = svc("logs");
	CHECK(must_op(s, "TagLogGroup")->flags & OPF_DEPRECATED);
	CHECK(!(must_op(s, "TagResource")->flags & OPF_DEPRECATED));

	s = svc("application-autoscaling");
	CHECK_STREQ(s->service_id, "Application Auto Scaling");
}

TEST(model_query_services)
{
	const struct model_service *s = svc("sts");
	const struct model_op *o = op(s, "GetCallerIdentity");

	CHECK(s->protocol == MP_QUERY);
	CHECK_STREQ(s->xml_namespace, "https://sts.amazonaws.com/doc/2011-06-15/");
	CHECK(s->json_version == NULL && s->target_prefix == NULL);
	CHECK(o && o->result_wrapper && !strcmp(o->result_wrapper, "GetCallerIdentityResult"));
	CHECK(o && o->handler == sts_op_get_caller_identity);
	CHECK(op(s, "GetSessionToken") != NULL);

	s = svc("sqs");
	CHECK(s->protocol == MP_QUERY && s->query_compatible == 1);
	CHECK_STREQ(s->json_target_prefix, "AmazonSQS");
	CHECK(s->json_version && !strcmp(s->json_version, "1.0"));
	s = svc("cloudwatch");
	CHECK(s->protocol == MP_QUERY && s->query_compatible == 1);
	CHECK_STREQ(s->json_target_prefix, "GraniteServiceVersion20100801");
	CHECK_STREQ(s->endpoint_prefix, "monitoring");
	CHECK_STREQ(s->signing_name, "monitoring");
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *t = model_services[i];
		if (strcmp(t->id, "sqs") && strcmp(t->id, "cloudwatch"))
			CHECK(t->query_compatible == 0 && t->json_target_prefix == NULL);
	}

	/* sqs maps: flattened, with shape-level and key/value locationNames */
	s = svc("sqs");
	{
		const struct model_member *m = smember(s, "GetQueueAttributesResult", "Attributes");
		const struct model_shape *map = mshape(s, m);
		CHECK(m && !strcmp(m->loc_name, "Attribute"));
		CHECK(map && map->type == MT_MAP && (map->flags & SF_FLATTENED));
		CHECK(map && map->loc_name && !strcmp(map->loc_name, "Attribute"));
		CHECK(map && !strcmp(s->members[map->members].name, "key"));
		CHECK(map && !strcmp(s->members[map->members].loc_name, "Name"));
		CHECK(map && !strcmp(s->members[map->members + 1].loc_name, "Value"));
		m = smember(s, "MessageAttributeValue", "StringListValues");
		CHECK(m && (m->flags & MF_FLATTENED));
	}

	s = svc("sns");
	{
		const struct model_shape *sh = shape(s, "InternalErrorException");
		CHECK(sh && !strcmp(sh->error_code, "InternalError") && sh->error_status == 500);
	}

	s = svc("rds");
	CHECK(must_op(s, "CreateDBInstance")->handler == rds_op_create_db_instance);
	CHECK(must_op(s, "DescribeDBClusterParameterGroups")->handler ==
	      rds_op_describe_db_cluster_parameter_groups);
	s = svc("iam");
	CHECK(must_op(s, "EnableMFADevice")->handler == iam_op_enable_mfa_device);
}

TEST(model_ec2)
{
	const struct model_service *s = svc("ec2");
	const struct model_member *m;
	const struct model_shape *sh;

	CHECK(s->protocol == MP_EC2);
	CHECK_STREQ(s->xml_namespace, "http://ec2.amazonaws.com/doc/2016-11-15");
	/* queryName wins over locationName on the query side */
	m = smember(s, "InstanceNetworkInterfaceSpecification", "Ipv6Addresses");
	CHECK(m && m->query_name && !strcmp(m->query_name, "Ipv6Addresses"));
	CHECK(m && m->loc_name && !strcmp(m->loc_name, "ipv6AddressesSet"));
	m = smember(s, "InstanceNetworkInterfaceSpecification", "Groups");
	CHECK(m && m->query_name == NULL);
	/* list element names live on the list's single member entry */
	m = smember(s, "DescribeInstancesResult", "Reservations");
	CHECK(m && !strcmp(m->loc_name, "reservationSet"));
	sh = mshape(s, m);
	CHECK(sh && sh->type == MT_LIST && sh->nmembers == 1);
	CHECK(sh && !strcmp(s->members[sh->members].loc_name, "item"));
	CHECK(sh && !strcmp(model_shape(s, s->members[sh->members].shape)->name, "Reservation"));
	sh = shape(s, "InstanceIdStringList");
	CHECK(sh && !strcmp(s->members[sh->members].loc_name, "InstanceId"));
	/* a list with a shape-level locationName */
	sh = shape(s, "InferenceDeviceInfoList");
	CHECK(sh && sh->loc_name && !strcmp(sh->loc_name, "item"));
	sh = shape(s, "DoubleWithConstraints");
	CHECK(sh && sh->type == MT_DOUBLE && sh->min == 0.001 && sh->max == 99.999);
	CHECK(s->errors == NULL); /* ec2 lists no errors */
}

TEST(model_rest_xml)
{
	const struct model_service *s = svc("s3");
	const struct model_member *m;
	const struct model_shape *sh;
	const struct model_op *o;

	CHECK(s->protocol == MP_REST_XML);
	CHECK_STREQ(s->signing_name, "s3");
	CHECK(s->xml_namespace == NULL);
	o = op(s, "PutObject");
	CHECK(o && !strcmp(o->http_method, "PUT") && !strcmp(o->request_uri, "/{Bucket}/{Key+}"));
	CHECK(o && !(o->flags & OPF_CHECKSUM_REQUIRED));
	m = smember(s, "PutObjectRequest", "Bucket");
	CHECK(m && m->location == ML_URI && !strcmp(m->loc_name, "Bucket"));
	CHECK(m && (m->flags & MF_REQUIRED));
	m = smember(s, "PutObjectRequest", "ContentMD5");
	CHECK(m && m->location == ML_HEADER && !strcmp(m->loc_name, "Content-MD5"));
	m = smember(s, "PutObjectRequest", "Metadata");
	CHECK(m && m->location == ML_HEADERS && !strcmp(m->loc_name, "x-amz-meta-"));
	m = smember(s, "PutObjectRequest", "Body");
	CHECK(m && (m->flags & MF_PAYLOAD));
	sh = mshape(s, m); /* member-level streaming lands on a variant shape */
	CHECK(sh && sh->type == MT_BLOB && (sh->flags & SF_STREAMING));
	m = smember(s, "RecordsEvent", "Payload"); /* same "Body" shape, not streaming */
	sh = mshape(s, m);
	CHECK(sh && !strcmp(sh->name, "Body") && !(sh->flags & SF_STREAMING));
	m = smember(s, "ListObjectsV2Request", "Prefix");
	CHECK(m && m->location == ML_QUERY && !strcmp(m->loc_name, "prefix"));
	CHECK(must_op(s, "ListObjectsV2")->handler == s3_op_list_objects_v2);
	CHECK(must_op(s, "PutBucketAcl")->flags & OPF_CHECKSUM_REQUIRED);
	CHECK(must_op(s, "PutBucketOwnershipControls")->flags & OPF_CHECKSUM_REQUIRED);
	CHECK(must_op(s, "WriteGetObjectResponse")->flags & OPF_UNSIGNED_PAYLOAD);
	m = smember(s, "WriteGetObjectResponseRequest", "RequestRoute");
	CHECK(m && (m->flags & MF_HOST_LABEL));
	m = smember(s, "Grantee", "Type");
	CHECK(m && (m->flags & MF_XML_ATTRIBUTE) && !strcmp(m->loc_name, "xsi:type"));
	sh = shape(s, "Grantee");
	CHECK(sh && sh->xml_ns && !strcmp(sh->xml_ns, "http://www.w3.org/2001/XMLSchema-instance"));
	m = smember(s, "PutBucketAclRequest", "AccessControlPolicy");
	CHECK(m && m->xml_ns && !strcmp(m->xml_ns, "http://s3.amazonaws.com/doc/2006-03-01/"));
	CHECK(m && (m->flags & MF_PAYLOAD));
	sh = shape(s, "ResponseExpires");
	CHECK(sh && sh->type == MT_TIMESTAMP && sh->ts_format == MTS_RFC822);
	sh = shape(s, "Date");
	CHECK(sh && sh->ts_format == MTS_ISO8601);
	sh = shape(s, "SelectObjectContentEventStream");
	CHECK(sh && (sh->flags & SF_EVENTSTREAM));
	sh = shape(s, "SSEKMS");
	CHECK(sh && sh->loc_name && !strcmp(sh->loc_name, "SSE-KMS"));
	sh = shape(s, "ObjectList");
	CHECK(sh && (sh->flags & SF_FLATTENED));

	s = svc("cloudfront");
	o = op(s, "CreateDistribution");
	CHECK(o && o->http_status == 201);
	sh = shape(s, "SamplingRate");
	CHECK(sh && (sh->flags & SF_HAS_MIN) && sh->min == 0.0 && sh->max == 100.0);
}

TEST(model_weak_handlers)
{
	CHECK(test_model_never_defined == NULL);
	CHECK(test_model_defined != NULL);
	CHECK(test_model_defined(NULL) == 0);
}
