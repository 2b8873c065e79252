/* test_logs_filter.c - src/svc/logs/filter.c and regex.c: the filter
 * pattern language, term by term, plus patterns that must be rejected. */
#include "core/compat.h"
#include "core/arena.h"
#include "svc/logs/filter.h"
#include "test.h"
#include <stdlib.h>

/* m: 1/0 when msg matches pat, -1 when pat does not parse. The message is
 * copied to a heap block of exactly its size so ASan sees overreads. */
static int m(const char *pat, const char *msg)
{
	struct arena *a = arena_new(4096);
	const char *err = NULL;
	struct logs_filter *f = logs_filter_parse(a, pat, strlen(pat), &err);
	int r = -1;
	if (f) {
		size_t n = strlen(msg);
		char *copy = malloc(n ? n : 1);
		memcpy(copy, msg, n);
		r = logs_filter_match(f, a, copy, n);
		free(copy);
	} else if (!err) {
		r = -2; /* rejected without a reason */
	}
	arena_free(a);
	return r;
}

/* re: logs_re_search of a bare expression; -1 when it does not compile. */
static int re(const char *expr, const char *s)
{
	struct arena *a = arena_new(4096);
	const char *err = NULL;
	struct logs_re *r = logs_re_compile(a, expr, strlen(expr), &err);
	int hit = r ? logs_re_search(r, s, strlen(s)) : -1;
	arena_free(a);
	return hit;
}

TEST(logs_filter_empty_matches_all)
{
	CHECK(m("", "anything") == 1);
	CHECK(m("   ", "") == 1);
	struct arena *a = arena_new(256);
	CHECK(logs_filter_matches_all(logs_filter_parse(a, "", 0, NULL)));
	CHECK(!logs_filter_matches_all(logs_filter_parse(a, "x", 1, NULL)));
	arena_free(a);
}

TEST(logs_filter_terms_all_must_appear)
{
	CHECK(m("ERROR", "2024 ERROR disk full") == 1);
	CHECK(m("ERROR", "2024 error disk full") == 0); /* case-sensitive */
	CHECK(m("ERROR disk", "ERROR: disk full") == 1);
	CHECK(m("ERROR disk", "ERROR: memory") == 0);
	CHECK(m("ERR", "ERROR") == 1); /* substring */
	CHECK(m("  ERROR   full ", "ERROR disk full") == 1);
}

TEST(logs_filter_quoted_phrases)
{
	CHECK(m("\"disk full\"", "ERROR disk full now") == 1);
	CHECK(m("\"disk full\"", "full disk") == 0);
	CHECK(m("\"INTERNAL SERVER ERROR\" 500", "500 INTERNAL SERVER ERROR") == 1);
	CHECK(m("\"a \\\"quoted\\\" word\"", "x a \"quoted\" word y") == 1);
	CHECK(m("\"[INFO]\"", "[INFO] started") == 1);
	CHECK(m("\"\"", "x") == 1);
}

TEST(logs_filter_alternatives)
{
	CHECK(m("?ERROR ?WARN", "WARN low disk") == 1);
	CHECK(m("?ERROR ?WARN", "ERROR boom") == 1);
	CHECK(m("?ERROR ?WARN", "INFO fine") == 0);
	CHECK(m("?\"disk full\" ?oom", "the disk full") == 1);
	/* plain terms stay required next to alternatives */
	CHECK(m("db ?ERROR ?WARN", "db WARN") == 1);
	CHECK(m("db ?ERROR ?WARN", "api WARN") == 0);
}

TEST(logs_filter_exclusions)
{
	CHECK(m("ERROR -retry", "ERROR timeout") == 1);
	CHECK(m("ERROR -retry", "ERROR timeout, will retry") == 0);
	CHECK(m("-DEBUG", "INFO x") == 1);
	CHECK(m("-DEBUG", "DEBUG x") == 0);
	CHECK(m("-\"health check\"", "GET /healthz") == 1);
	CHECK(m("-\"health check\"", "a health check") == 0);
	CHECK(m("?ERROR ?WARN -ignored", "WARN ignored") == 0);
}

TEST(logs_filter_json_string_equality)
{
	const char *msg = "{\"level\":\"error\",\"msg\":\"db down\",\"code\":\"E42\"}";
	CHECK(m("{ $.level = \"error\" }", msg) == 1);
	CHECK(m("{ $.level = \"info\" }", msg) == 0);
	CHECK(m("{$.level=\"error\"}", msg) == 1);
	CHECK(m("{ $.level = error }", msg) == 1); /* unquoted value */
	CHECK(m("{ $.level != \"info\" }", msg) == 1);
	CHECK(m("{ $.level != \"error\" }", msg) == 0);
	CHECK(m("{ $.missing != \"x\" }", msg) == 0); /* absent fields never compare */
	CHECK(m("{ $.level = \"ERROR\" }", msg) == 0);
	CHECK(m("{ $.level = \"error\" }", "level=error") == 0); /* not JSON */
	CHECK(m("{ $.level = \"error\" }", "  {\"level\":\"error\"}\n") == 1);
}

TEST(logs_filter_json_wildcards)
{
	const char *msg = "{\"ip\":\"123.123.4.5\",\"path\":\"/api/v1/users\"}";
	CHECK(m("{ $.ip = 123.123.* }", msg) == 1);
	CHECK(m("{ $.ip != 123.123.* }", msg) == 0);
	CHECK(m("{ $.ip = \"10.*\" }", msg) == 0);
	CHECK(m("{ $.path = \"*users\" }", msg) == 1);
	CHECK(m("{ $.path = \"/api/*/users\" }", msg) == 1);
	CHECK(m("{ $.path = \"*\" }", msg) == 1); /* exists */
	CHECK(m("{ $.nope = \"*\" }", msg) == 0);
}

TEST(logs_filter_json_numbers)
{
	const char *msg = "{\"latency\":150,\"ratio\":0.25,\"status\":\"200\",\"neg\":-3}";
	CHECK(m("{ $.latency > 100 }", msg) == 1);
	CHECK(m("{ $.latency > 150 }", msg) == 0);
	CHECK(m("{ $.latency >= 150 }", msg) == 1);
	CHECK(m("{ $.latency < 150 }", msg) == 0);
	CHECK(m("{ $.latency <= 150 }", msg) == 1);
	CHECK(m("{ $.latency = 150 }", msg) == 1);
	CHECK(m("{ $.latency = 150.0 }", msg) == 1);
	CHECK(m("{ $.latency = 1.5e2 }", msg) == 1);
	CHECK(m("{ $.latency != 150 }", msg) == 0);
	CHECK(m("{ $.ratio < 0.5 }", msg) == 1);
	CHECK(m("{ $.status = 200 }", msg) == 1); /* numeric string */
	CHECK(m("{ $.neg < -2 }", msg) == 1);
	CHECK(m("{ $.latency = 1* }", msg) == 1); /* wildcard on the text */
	CHECK(m("{ $.status > 100 }", "{\"status\":\"ok\"}") == 0);
}

TEST(logs_filter_json_and_or_parens)
{
	const char *msg =
	    "{\"user\":{\"id\":2,\"name\":\"ann\"},\"action\":\"GET\",\"error\":true}";
	CHECK(m("{ $.user.id = 2 && $.action = \"GET\" }", msg) == 1);
	CHECK(m("{ $.user.id = 3 && $.action = \"GET\" }", msg) == 0);
	CHECK(m("{ $.user.id = 3 || $.action = \"GET\" }", msg) == 1);
	CHECK(m("{ ($.user.id = 3 && $.action = \"GET\") || $.error IS TRUE }", msg) == 1);
	CHECK(m("{ ($.user.id = 3 || $.action = \"PUT\") && $.error IS TRUE }", msg) == 0);
	/* && binds tighter than || */
	CHECK(m("{ $.user.id = 3 && $.action = \"PUT\" || $.user.name = \"ann\" }", msg) == 1);
	CHECK(m("{ $.user.name = \"ann\" || $.x = 1 && $.y = 2 }", msg) == 1);
	CHECK(m("{ ((($.user.id = 2))) }", msg) == 1);
}

TEST(logs_filter_json_is_and_exists)
{
	const char *msg = "{\"ok\":true,\"bad\":false,\"none\":null,\"s\":\"true\"}";
	CHECK(m("{ $.ok IS TRUE }", msg) == 1);
	CHECK(m("{ $.ok IS FALSE }", msg) == 0);
	CHECK(m("{ $.bad IS FALSE }", msg) == 1);
	CHECK(m("{ $.s IS TRUE }", msg) == 0); /* a string is not a boolean */
	CHECK(m("{ $.none IS NULL }", msg) == 1);
	CHECK(m("{ $.ok IS NULL }", msg) == 0);
	CHECK(m("{ $.missing IS NULL }", msg) == 0);
	CHECK(m("{ $.missing NOT EXISTS }", msg) == 1);
	CHECK(m("{ $.none NOT EXISTS }", msg) == 0);
	CHECK(m("{ $.ok NOT EXISTS }", msg) == 0);
	CHECK(m("{ $.ok is true }", msg) == 1);
}

TEST(logs_filter_json_nested_and_arrays)
{
	const char *msg = "{\"a\":{\"b\":{\"c\":\"deep\"}},\"arr\":[\"x\",{\"id\":7}],"
			  "\"m\":[[1,2],[3]],\"odd key\":1}";
	CHECK(m("{ $.a.b.c = \"deep\" }", msg) == 1);
	CHECK(m("{ $.a.b = \"deep\" }", msg) == 0);
	CHECK(m("{ $.arr[0] = \"x\" }", msg) == 1);
	CHECK(m("{ $.arr[1].id = 7 }", msg) == 1);
	CHECK(m("{ $.arr[2] NOT EXISTS }", msg) == 1);
	CHECK(m("{ $.m[1][0] = 3 }", msg) == 1);
	CHECK(m("{ $.a.x.y NOT EXISTS }", msg) == 1);
	CHECK(m("{ $.['odd key'] = 1 }", msg) == 1);
	CHECK(m("{ $.a[\"b\"].c = deep }", msg) == 1);
	CHECK(m("{ $[0] = 1 }", "[1,2]") == 1);
}

TEST(logs_filter_json_duplicate_keys_last_wins)
{
	CHECK(m("{ $.k = 2 }", "{\"k\":1,\"k\":2}") == 1);
	CHECK(m("{ $.k = 1 }", "{\"k\":1,\"k\":2}") == 0);
}

TEST(logs_filter_space_delimited)
{
	const char *line = "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "
			   "\"GET /apache_pb.gif HTTP/1.0\" 404 2326";
	const char *seven = "[ip, user, username, timestamp, request, status_code, bytes]";
	CHECK(m(seven, line) == 1);
	CHECK(m("[ip, user, username, timestamp, request, status_code]", line) == 0);
	CHECK(m("[ip, user, username, timestamp, request, status_code = 404, bytes]", line) == 1);
	CHECK(m("[ip, user, username, timestamp, request, status_code = 4*, bytes]", line) == 1);
	CHECK(m("[ip, user, username, timestamp, request, status_code = 5*, bytes]", line) == 0);
	CHECK(m("[ip, user, username, timestamp, request, status_code, bytes > 1000]", line) == 1);
	CHECK(m("[ip, user, username, timestamp, request, status_code, bytes > 3000]", line) == 0);
	CHECK(m("[ip, user, username, timestamp, request = \"*gif*\", status_code, bytes]", line) ==
	      1);
	CHECK(m("[ip, ..., status_code = 404, bytes]", line) == 1);
	CHECK(m("[..., status_code=404, bytes>=2326]", line) == 1);
	CHECK(m("[ip=127.0.0.1, ...]", line) == 1);
	CHECK(m("[ip=10.*, ...]", line) == 0);
	CHECK(m("[...]", line) == 1);
	CHECK(m("[..., bytes]", line) == 1);
	CHECK(m("[..., x, y, z, w, v, u, t, s]", line) == 0); /* too few tokens */
	/* the bracketed and quoted fields are one token each, delimiters off */
	CHECK(m("[a, b, c, d = \"10/Oct*\", ...]", line) == 1);
	CHECK(m("[a, b, c, d, e = \"GET /apache_pb.gif HTTP/1.0\", ...]", line) == 1);
}

TEST(logs_filter_space_delimited_and_or)
{
	const char *line = "host1 api 503 1200";
	CHECK(m("[host, app, status = 500 || status = 503, ms]", line) == 1);
	CHECK(m("[host, app, status = 500 || status = 502, ms]", line) == 0);
	CHECK(m("[host, app, status >= 500 && status < 600, ms > 1000]", line) == 1);
	CHECK(m("[host, app, status != 503, ms]", line) == 0);
	CHECK(m("[host, app = api, ...]", line) == 1);
	CHECK(m("[..., status = 503, ..., ms = 1200]", line) == 1);
	CHECK(m("[host, ..., app = api]", line) == 0);
	CHECK(m("[a, b, c, d, ...]", line) == 1);
	CHECK(m("[a, b, c, d, e, ...]", line) == 0);
}

TEST(logs_filter_regex_terms_and_values)
{
	CHECK(m("%ERR(OR)?%", "x") == -1); /* groups are not supported */
	CHECK(m("%[0-9]{3} ms%", "took 250 ms") == 1);
	CHECK(m("%[0-9]{3} ms%", "took 25 ms") == 0);
	CHECK(m("%^INFO%", "INFO boot") == 1);
	CHECK(m("%^INFO%", "x INFO boot") == 0);
	CHECK(m("-%DEBUG|TRACE%", "TRACE x") == 0);
	CHECK(m("{ $.id = %^u-[a-f0-9]+$% }", "{\"id\":\"u-00ff\"}") == 1);
	CHECK(m("{ $.id = %^u-[a-f0-9]+$% }", "{\"id\":\"u-00fg\"}") == 0);
	CHECK(m("{ $.id != %^u-% }", "{\"id\":\"v-1\"}") == 1);
	CHECK(m("[a, b = %^[45][0-9][0-9]$%, ...]", "h 404 x") == 1);
	CHECK(m("[a, b = %^[45][0-9][0-9]$%, ...]", "h 204 x") == 0);
}

TEST(logs_filter_regex_engine)
{
	CHECK(re("abc", "xxabcxx") == 1);
	CHECK(re("a.c", "abc") == 1);
	CHECK(re("a.c", "a\nc") == 0);
	CHECK(re("^abc$", "abc") == 1);
	CHECK(re("^abc$", "abcd") == 0);
	CHECK(re("ab*c", "ac") == 1);
	CHECK(re("ab+c", "ac") == 0);
	CHECK(re("ab?c", "abbc") == 0);
	CHECK(re("a{2,3}b", "aab") == 1);
	CHECK(re("^a{2,3}b", "ab") == 0);
	CHECK(re("^a{2,3}$", "aaaa") == 0);
	CHECK(re("^a{2,}$", "aaaaaa") == 1);
	CHECK(re("^a{2}$", "aa") == 1);
	CHECK(re("x|y|z", "--z") == 1);
	CHECK(re("^x|y$", "ay") == 1);
	CHECK(re("\\d+\\.\\d+", "v 1.25") == 1);
	CHECK(re("\\d+\\.\\d+", "v 125") == 0);
	CHECK(re("\\w+@\\w+", "mail a_b@c9") == 1);
	CHECK(re("\\s", "nospace") == 0);
	CHECK(re("\\S\\D\\W", "a1!") == 0);
	CHECK(re("\\S\\D\\W", "ab!") == 1);
	CHECK(re("[^a-z]", "abc") == 0);
	CHECK(re("[^a-z]", "abC") == 1);
	CHECK(re("[]x]", "]") == 1);
	CHECK(re("[a\\-z]", "-") == 1);
	CHECK(re("[\\d_]", "_") == 1);
	CHECK(re("a*?b", "aab") == 1);
	CHECK(re("\\|", "a|b") == 1);
	/* a pathological pattern stays linear */
	char subject[4001];
	memset(subject, 'a', 4000);
	subject[4000] = 0;
	CHECK(re("a*a*a*a*a*a*a*a*a*a*b", subject) == 0);
}

TEST(logs_filter_regex_malformed)
{
	static const char *const bad[] = {
	    "",	       "(a)", "a)",  "*a",  "a**",   "a{2",	"a{3,2}",    "a{x}", "[abc",
	    "[z-a]",   "a\\", "\\q", "a^b", "a$b",   "a|",	"|a",	     "é",    "+",
	    "a{2}{3}", "^",   "$",   "a++", "[a-\\", "a{1001}", "a{2,1001}",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		if (re(bad[i], "a") != -1)
			fprintf(stderr, "  regex accepted: %s\n", bad[i]);
		CHECK(re(bad[i], "a") == -1);
	}
}

TEST(logs_filter_malformed_patterns)
{
	static const char *const bad[] = {
	    "\"unterminated",
	    "ERROR \"half",
	    "abc\"def",
	    "\"a\"b",
	    "?",
	    "- x",
	    "{",
	    "{}",
	    "{ }",
	    "{ level = \"x\" }",
	    "{ $.level = }",
	    "{ $.level \"x\" }",
	    "{ $.level = \"x\"",
	    "{ $.level = \"x\" } extra",
	    "{ $.level == \"x\" }",
	    "{ $.a = 1 && }",
	    "{ $.a = 1 || }",
	    "{ ($.a = 1 }",
	    "{ $.a = 1) }",
	    "{ $.a > \"x\" }",
	    "{ $.a < abc }",
	    "{ $.a IS }",
	    "{ $.a IS MAYBE }",
	    "{ $.a NOT }",
	    "{ $. = 1 }",
	    "{ $.a[ = 1 }",
	    "{ $.a[x] = 1 }",
	    "{ $.a['b = 1 }",
	    "{ $.a = %(x)% }",
	    "{ $.a = %abc }",
	    "[",
	    "[]",
	    "[a,]",
	    "[a b]",
	    "[a, b",
	    "[a=]",
	    "[a=1 || b=2]",
	    "[a > x]",
	    "[a] x",
	    "%unterminated",
	    "%%",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		int r = m(bad[i], "x");
		if (r != -1)
			fprintf(stderr, "  pattern accepted (%d): %s\n", r, bad[i]);
		CHECK(r == -1);
	}
	/* deep nesting is refused rather than recursed into */
	char deep[200];
	size_t n = 0;
	deep[n++] = '{';
	for (int i = 0; i < 40; i++)
		deep[n++] = '(';
	deep[n] = 0;
	CHECK(m(deep, "{}") == -1);
	/* too long */
	char *longp = malloc(LOGS_FILTER_MAX_LEN + 2);
	memset(longp, 'a', LOGS_FILTER_MAX_LEN + 1);
	longp[LOGS_FILTER_MAX_LEN + 1] = 0;
	CHECK(m(longp, "a") == -1);
	free(longp);
}

TEST(logs_filter_bytes_are_bytes)
{
	/* NUL and non-ASCII bytes in patterns and messages are plain bytes */
	struct arena *a = arena_new(1024);
	struct logs_filter *f = logs_filter_parse(a, "a\0b", 3, NULL);
	CHECK(f != NULL);
	CHECK(f && logs_filter_match(f, a, "xa\0by", 5) == 1);
	CHECK(f && logs_filter_match(f, a, "xa by", 5) == 0);
	arena_free(a);
	CHECK(m("caf\xc3\xa9", "un caf\xc3\xa9 noir") == 1);
	CHECK(m("{ $.s = \"caf\xc3\xa9\" }", "{\"s\":\"caf\\u00e9\"}") == 1);
}
