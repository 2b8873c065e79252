/* value.h - the generic value tree ("jv") that every protocol decodes into
 * and every handler builds its output from. All nodes live in an arena.
 *
 * Conventions for AWS shapes held in a jv:
 *   structure -> JV_OBJECT keyed by the model's member names
 *   list      -> JV_ARRAY;  map -> JV_OBJECT
 *   string    -> JV_STRING; blob -> JV_STRING holding the raw bytes
 *   integer/long -> JV_INT; float/double -> JV_DOUBLE (JV_INT accepted)
 *   boolean   -> JV_BOOL
 *   timestamp -> JV_DOUBLE (or JV_INT) seconds since the epoch
 * Protocol codecs convert to and from wire forms (base64, ISO-8601, ...). */
#ifndef FB_VALUE_H
#define FB_VALUE_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/str.h"

enum jv_type { JV_NULL, JV_BOOL, JV_INT, JV_DOUBLE, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv;

struct jv_member {
	struct str key;
	struct jv *val;
};

struct jv {
	enum jv_type type;
	union {
		int b;
		int64_t i;
		double d;
		struct str s; /* bytes, followed by a NUL not counted in n */
		struct {
			struct jv **v;
			size_t n, cap;
		} arr;
		struct {
			struct jv_member *m;
			size_t n, cap;
		} obj;
	} u;
};

/* Constructors: nodes are allocated from a; strings are copied. */
struct jv *jv_null(struct arena *a);
struct jv *jv_bool(struct arena *a, int b);
struct jv *jv_int(struct arena *a, int64_t i);
struct jv *jv_double(struct arena *a, double d);
struct jv *jv_string(struct arena *a, const char *p, size_t n);
struct jv *jv_string_c(struct arena *a, const char *s); /* NULL -> JV_NULL */
struct jv *jv_array(struct arena *a);
struct jv *jv_object(struct arena *a);

/* jv_push: appends v to array arr. */
void jv_push(struct arena *a, struct jv *arr, struct jv *v);
/* jv_set: sets key in object obj to v, replacing an existing member
 * (key is copied). */
void jv_set(struct arena *a, struct jv *obj, const char *key, struct jv *v);
/* jv_set_n: jv_set with a key of n bytes. */
void jv_set_n(struct arena *a, struct jv *obj, const char *key, size_t n, struct jv *v);
/* jv_add_n: appends a member without looking for a duplicate (parsers). */
void jv_add_n(struct arena *a, struct jv *obj, const char *key, size_t n, struct jv *v);

/* Shorthands that build the value and set it; a NULL string is skipped. */
void jv_set_str(struct arena *a, struct jv *obj, const char *key, const char *s);
void jv_set_strn(struct arena *a, struct jv *obj, const char *key, const char *p, size_t n);
void jv_set_int(struct arena *a, struct jv *obj, const char *key, int64_t i);
void jv_set_double(struct arena *a, struct jv *obj, const char *key, double d);
void jv_set_bool(struct arena *a, struct jv *obj, const char *key, int b);

/* jv_get: member key of obj, or NULL when obj is not an object, the key is
 * absent, or the member is JV_NULL. */
struct jv *jv_get(const struct jv *obj, const char *key);
/* jv_get_str: the member's bytes as a NUL-terminated string when it is a
 * JV_STRING, else NULL. */
const char *jv_get_str(const struct jv *obj, const char *key);
/* jv_get_strv: the member as a view (p == NULL when absent or not a string). */
struct str jv_get_strv(const struct jv *obj, const char *key);
/* jv_get_int: the member as an integer (JV_INT or integral JV_DOUBLE), else def. */
int64_t jv_get_int(const struct jv *obj, const char *key, int64_t def);
/* jv_get_double: the member as a double (JV_DOUBLE or JV_INT), else def. */
double jv_get_double(const struct jv *obj, const char *key, double def);
/* jv_get_bool: the member as 0/1 when JV_BOOL, else def. */
int jv_get_bool(const struct jv *obj, const char *key, int def);
/* jv_len: number of items of an array or members of an object; 0 otherwise. */
size_t jv_len(const struct jv *v);
/* jv_at: item i of an array, or NULL. */
struct jv *jv_at(const struct jv *arr, size_t i);
#endif
