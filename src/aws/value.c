/* value.c - the jv value tree: constructors, setters and typed getters.
 * Every node, member array and copied string lives in the caller's arena;
 * nothing here frees. Arrays and objects grow by doubling, abandoning the
 * old storage in the arena (it dies with the arena). */
#include "aws/value.h"

/* node: a fresh node of type t (payload left for the caller to fill). */
static struct jv *node(struct arena *a, enum jv_type t)
{
	struct jv *v = arena_alloc(a, sizeof(*v));
	v->type = t;
	return v;
}

/* jv_null: a JV_NULL node. */
struct jv *jv_null(struct arena *a)
{
	return node(a, JV_NULL);
}

/* jv_bool: a JV_BOOL node holding 0 or 1. */
struct jv *jv_bool(struct arena *a, int b)
{
	struct jv *v = node(a, JV_BOOL);
	v->u.b = b ? 1 : 0;
	return v;
}

/* jv_int: a JV_INT node. */
struct jv *jv_int(struct arena *a, int64_t i)
{
	struct jv *v = node(a, JV_INT);
	v->u.i = i;
	return v;
}

/* jv_double: a JV_DOUBLE node. */
struct jv *jv_double(struct arena *a, double d)
{
	struct jv *v = node(a, JV_DOUBLE);
	v->u.d = d;
	return v;
}

/* jv_string: a JV_STRING node holding a NUL-terminated arena copy of p[0..n). */
struct jv *jv_string(struct arena *a, const char *p, size_t n)
{
	struct jv *v = node(a, JV_STRING);
	v->u.s.p = arena_strndup(a, p, n);
	v->u.s.n = n;
	return v;
}

/* jv_string_c: jv_string of a C string; NULL gives JV_NULL. */
struct jv *jv_string_c(struct arena *a, const char *s)
{
	return s ? jv_string(a, s, strlen(s)) : jv_null(a);
}

/* jv_array: an empty JV_ARRAY (storage is allocated on the first push). */
struct jv *jv_array(struct arena *a)
{
	struct jv *v = node(a, JV_ARRAY);
	v->u.arr.v = NULL;
	v->u.arr.n = v->u.arr.cap = 0;
	return v;
}

/* jv_object: an empty JV_OBJECT. */
struct jv *jv_object(struct arena *a)
{
	struct jv *v = node(a, JV_OBJECT);
	v->u.obj.m = NULL;
	v->u.obj.n = v->u.obj.cap = 0;
	return v;
}

/* jv_push: appends v to arr; a non-array arr is a programming error. */
void jv_push(struct arena *a, struct jv *arr, struct jv *v)
{
	if (arr->u.arr.n == arr->u.arr.cap) {
		size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
		arr->u.arr.v =
		    arena_realloc(a, arr->u.arr.v, arr->u.arr.cap * sizeof(*arr->u.arr.v),
				  cap * sizeof(*arr->u.arr.v));
		arr->u.arr.cap = cap;
	}
	arr->u.arr.v[arr->u.arr.n++] = v;
}

/* jv_add_n: appends key (copied, NUL-terminated) -> v without a duplicate check. */
void jv_add_n(struct arena *a, struct jv *obj, const char *key, size_t n, struct jv *v)
{
	if (obj->u.obj.n == obj->u.obj.cap) {
		size_t cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 4;
		obj->u.obj.m =
		    arena_realloc(a, obj->u.obj.m, obj->u.obj.cap * sizeof(*obj->u.obj.m),
				  cap * sizeof(*obj->u.obj.m));
		obj->u.obj.cap = cap;
	}
	struct jv_member *m = &obj->u.obj.m[obj->u.obj.n++];
	m->key.p = arena_strndup(a, key, n);
	m->key.n = n;
	m->val = v;
}

/* find: the last member of obj named key[0..n), or NULL. The last one wins
 * so that a parsed object with duplicate keys reads like most JSON
 * libraries (the later value overrides). */
static struct jv_member *find(const struct jv *obj, const char *key, size_t n)
{
	if (!obj || obj->type != JV_OBJECT)
		return NULL;
	for (size_t i = obj->u.obj.n; i-- > 0;) {
		struct jv_member *m = &obj->u.obj.m[i];
		if (m->key.n == n && (n == 0 || memcmp(m->key.p, key, n) == 0))
			return m;
	}
	return NULL;
}

/* jv_set_n: replaces the value of key[0..n) in obj, or appends it. */
void jv_set_n(struct arena *a, struct jv *obj, const char *key, size_t n, struct jv *v)
{
	struct jv_member *m = find(obj, key, n);
	if (m)
		m->val = v;
	else
		jv_add_n(a, obj, key, n, v);
}

/* jv_set: jv_set_n with a C-string key. */
void jv_set(struct arena *a, struct jv *obj, const char *key, struct jv *v)
{
	jv_set_n(a, obj, key, strlen(key), v);
}

/* jv_set_str: sets key to a copy of s; a NULL s sets nothing. */
void jv_set_str(struct arena *a, struct jv *obj, const char *key, const char *s)
{
	if (s)
		jv_set(a, obj, key, jv_string(a, s, strlen(s)));
}

/* jv_set_strn: sets key to a copy of p[0..n); a NULL p sets nothing. */
void jv_set_strn(struct arena *a, struct jv *obj, const char *key, const char *p, size_t n)
{
	if (p)
		jv_set(a, obj, key, jv_string(a, p, n));
}

/* jv_set_int: sets key to a JV_INT. */
void jv_set_int(struct arena *a, struct jv *obj, const char *key, int64_t i)
{
	jv_set(a, obj, key, jv_int(a, i));
}

/* jv_set_double: sets key to a JV_DOUBLE. */
void jv_set_double(struct arena *a, struct jv *obj, const char *key, double d)
{
	jv_set(a, obj, key, jv_double(a, d));
}

/* jv_set_bool: sets key to a JV_BOOL. */
void jv_set_bool(struct arena *a, struct jv *obj, const char *key, int b)
{
	jv_set(a, obj, key, jv_bool(a, b));
}

/* jv_get: the last member named key, or NULL when absent or JV_NULL. */
struct jv *jv_get(const struct jv *obj, const char *key)
{
	struct jv_member *m = find(obj, key, strlen(key));
	if (!m || !m->val || m->val->type == JV_NULL)
		return NULL;
	return m->val;
}

/* jv_get_str: the member's NUL-terminated bytes when a JV_STRING, else NULL. */
const char *jv_get_str(const struct jv *obj, const char *key)
{
	struct jv *v = jv_get(obj, key);
	return v && v->type == JV_STRING ? v->u.s.p : NULL;
}

/* jv_get_strv: the member as a view; {NULL, 0} when absent or not a string. */
struct str jv_get_strv(const struct jv *obj, const char *key)
{
	struct jv *v = jv_get(obj, key);
	return v && v->type == JV_STRING ? v->u.s : STR_NULL;
}

/* jv_get_int: JV_INT, or a JV_DOUBLE that is integral and within int64;
 * def otherwise. */
int64_t jv_get_int(const struct jv *obj, const char *key, int64_t def)
{
	struct jv *v = jv_get(obj, key);
	if (!v)
		return def;
	if (v->type == JV_INT)
		return v->u.i;
	/* -2^63 is exact in a double; 2^63 is the first value out of range.
	 * The range test is written so NaN fails it. */
	if (v->type == JV_DOUBLE && v->u.d >= -9223372036854775808.0 &&
	    v->u.d < 9223372036854775808.0 && (double)(int64_t)v->u.d == v->u.d)
		return (int64_t)v->u.d;
	return def;
}

/* jv_get_double: JV_DOUBLE or JV_INT as a double, else def. */
double jv_get_double(const struct jv *obj, const char *key, double def)
{
	struct jv *v = jv_get(obj, key);
	if (v && v->type == JV_DOUBLE)
		return v->u.d;
	if (v && v->type == JV_INT)
		return (double)v->u.i;
	return def;
}

/* jv_get_bool: 0/1 when the member is a JV_BOOL, else def. */
int jv_get_bool(const struct jv *obj, const char *key, int def)
{
	struct jv *v = jv_get(obj, key);
	return v && v->type == JV_BOOL ? v->u.b : def;
}

/* jv_len: item count of an array, member count of an object, else 0. */
size_t jv_len(const struct jv *v)
{
	if (!v)
		return 0;
	if (v->type == JV_ARRAY)
		return v->u.arr.n;
	if (v->type == JV_OBJECT)
		return v->u.obj.n;
	return 0;
}

/* jv_at: item i of an array, or NULL when out of range or not an array. */
struct jv *jv_at(const struct jv *arr, size_t i)
{
	if (!arr || arr->type != JV_ARRAY || i >= arr->u.arr.n)
		return NULL;
	return arr->u.arr.v[i];
}
