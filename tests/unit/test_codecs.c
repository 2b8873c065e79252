/* test_codecs.c - src/aws value, json, form, xml and fmt. */
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/value.h"
#include "aws/json.h"
#include "aws/form.h"
#include "aws/xml.h"
#include "aws/fmt.h"
#include "test.h"
#include <math.h>
#include <stdlib.h>

/* rt: parses in and re-serializes it into an arena string, or "ERR". */
static const char *rt(struct arena *a, const char *in, size_t n)
{
	const char *err = NULL;
	struct jv *v = json_parse(a, in, n, &err);
	if (!v)
		return err ? "ERR" : "ERR-without-message";
	struct buf b = BUF_INIT;
	json_write(&b, v);
	char *s = arena_strndup(a, b.p, b.n);
	buf_release(&b);
	return s;
}
#define RT(a, s) rt((a), (s), sizeof(s) - 1)

/* parse_exact: parses n bytes from a heap copy of exactly n bytes, so ASan
 * flags any read past the end. */
static struct jv *parse_exact(struct arena *a, const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	struct jv *v = json_parse(a, p, n, NULL);
	free(p);
	return v;
}

/* xparse: xml_parse of a C string. */
static struct xml_node *xparse(struct arena *a, const char *s)
{
	const char *err = NULL;
	struct xml_node *n = xml_parse(a, s, strlen(s), &err);
	CHECK(n || err);
	return n;
}

TEST(codec_value_basics)
{
	struct arena *a = arena_new(4096);
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "s", "hello");
	jv_set_str(a, o, "skip", NULL);
	jv_set_strn(a, o, "n", "ab\0cd", 5);
	jv_set_int(a, o, "i", -7);
	jv_set_double(a, o, "d", 2.0);
	jv_set_bool(a, o, "b", 1);
	jv_set(a, o, "z", jv_null(a));
	jv_set(a, o, "c", jv_string_c(a, NULL));
	CHECK(jv_len(o) == 7);
	CHECK_STREQ(jv_get_str(o, "s"), "hello");
	CHECK(jv_get(o, "s")->u.s.p[5] == 0);
	CHECK(jv_get(o, "skip") == NULL);
	CHECK(jv_get_strv(o, "n").n == 5);
	CHECK(jv_get_strv(o, "i").p == NULL);
	CHECK(jv_get_int(o, "i", 0) == -7);
	CHECK(jv_get_int(o, "d", 0) == 2);
	CHECK(jv_get_double(o, "i", 0) == -7.0);
	CHECK(jv_get_bool(o, "b", 0) == 1);
	CHECK(jv_get_bool(o, "i", 5) == 5);
	CHECK(jv_get(o, "z") == NULL); /* JV_NULL reads as absent */
	CHECK(jv_get(o, "c") == NULL);
	CHECK(jv_get_int(o, "missing", 42) == 42);
	CHECK(jv_get(NULL, "s") == NULL && jv_len(NULL) == 0 && jv_at(o, 0) == NULL);
	jv_set_double(a, o, "d", 2.5);
	CHECK(jv_get_int(o, "d", -1) == -1); /* not integral */
	jv_set_double(a, o, "d", 1e300);
	CHECK(jv_get_int(o, "d", -1) == -1); /* out of int64 */
	jv_set_double(a, o, "d", NAN);
	CHECK(jv_get_int(o, "d", -1) == -1);
	jv_set_int(a, o, "i", 9); /* replaces, does not append */
	CHECK(jv_len(o) == 7 && jv_get_int(o, "i", 0) == 9);
	jv_add_n(a, o, "i", 1, jv_int(a, 10)); /* duplicates: the last wins */
	CHECK(jv_len(o) == 8 && jv_get_int(o, "i", 0) == 10);
	struct jv *arr = jv_array(a);
	for (int i = 0; i < 1000; i++)
		jv_push(a, arr, jv_int(a, i));
	CHECK(jv_len(arr) == 1000 && jv_at(arr, 999)->u.i == 999 && jv_at(arr, 1000) == NULL);
	struct jv *big = jv_object(a);
	char k[16];
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		jv_set_int(a, big, k, i);
	}
	CHECK(jv_len(big) == 300 && jv_get_int(big, "k0", -1) == 0 &&
	      jv_get_int(big, "k299", -1) == 299);
	arena_free(a);
}

TEST(codec_json_roundtrip)
{
	struct arena *a = arena_new(4096);
	static const char *const docs[] = {
	    "{}",
	    "[]",
	    "null",
	    "true",
	    "false",
	    "0",
	    "\"\"",
	    "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\",\"e\":true,\"f\":-3}",
	    "[[[[]]],{},\"x\"]",
	    "{\"KeyId\":\"arn:aws:kms:us-east-1:000000000000:key/abc\",\"Tags\":[]}",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(docs); i++)
		CHECK_STREQ(rt(a, docs[i], strlen(docs[i])), docs[i]);
	CHECK_STREQ(RT(a, " \t\r\n{ \"a\" : [ 1 , 2 ] }\n "), "{\"a\":[1,2]}");
	arena_free(a);
}

TEST(codec_json_numbers)
{
	struct arena *a = arena_new(4096);
	struct jv *v = json_parse(a, "9223372036854775807", 19, NULL);
	CHECK(v && v->type == JV_INT && v->u.i == INT64_MAX);
	v = json_parse(a, "-9223372036854775808", 20, NULL);
	CHECK(v && v->type == JV_INT && v->u.i == INT64_MIN);
	v = json_parse(a, "9223372036854775808", 19, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 9223372036854775808.0);
	v = json_parse(a, "-9223372036854775809", 20, NULL);
	CHECK(v && v->type == JV_DOUBLE);
	v = json_parse(a, "123456789012345678901234567890", 30, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 1.2345678901234568e29);
	v = json_parse(a, "1.5", 3, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 1.5);
	v = json_parse(a, "-0", 2, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 0 && signbit(v->u.d));
	v = json_parse(a, "0", 1, NULL);
	CHECK(v && v->type == JV_INT && v->u.i == 0);
	v = json_parse(a, "1E2", 3, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 100);
	v = json_parse(a, "1e-400", 6, NULL);
	CHECK(v && v->type == JV_DOUBLE && v->u.d == 0);
	const char *err = NULL;
	CHECK(json_parse(a, "1e400", 5, &err) == NULL && err);
	CHECK(json_parse(a, "-1e400", 6, NULL) == NULL);
	static const char *const bad[] = {"01", "-",	"+1",	"1.",  ".5",  "1e",	 "1e+",
					  "-a", "0x10", "1.e3", "--1", "NaN", "Infinity"};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(json_parse(a, bad[i], strlen(bad[i]), NULL) == NULL);
	CHECK_STREQ(RT(a, "[0.1,1.5,-0,1e300,5e-324,1e21,100.0,-2.5e-7]"),
		    "[0.1,1.5,-0,1e+300,4.94065645841247e-324,1e+21,100,-2.5e-07]");
	CHECK_STREQ(RT(a, "[1.7976931348623157e308,0.30000000000000004]"),
		    "[1.7976931348623157e+308,0.30000000000000004]");
	/* a long number (past the on-stack copy) */
	char lng[200];
	memset(lng, '1', sizeof(lng));
	lng[1] = '.';
	v = json_parse(a, lng, sizeof(lng), NULL);
	CHECK(v && v->type == JV_DOUBLE && fabs(v->u.d - 1.1111111111111112) < 1e-15);
	arena_free(a);
}

TEST(codec_json_write_values)
{
	struct arena *a = arena_new(4096);
	struct buf b = BUF_INIT;
	struct jv *arr = jv_array(a);
	jv_push(a, arr, jv_double(a, NAN));
	jv_push(a, arr, jv_double(a, INFINITY));
	jv_push(a, arr, jv_double(a, -INFINITY));
	jv_push(a, arr, jv_int(a, INT64_MIN));
	jv_push(a, arr, NULL);
	jv_push(a, arr, jv_double(a, 1700000000.123));
	json_write(&b, arr);
	CHECK_STREQ(b.p, "[null,null,null,-9223372036854775808,null,1700000000.123]");
	buf_clear(&b);
	json_write(&b, NULL);
	CHECK_STREQ(b.p, "null");
	/* every double reads back exactly, whichever printing path it takes */
	int bad = 0;
	for (int i = -200000; i < 200000; i += 37) {
		double ds[] = {i / 1000.0,	   i * 0.1, i / 3.0, i * 1e-9,
			       1.7e9 + i / 1024.0, i * 1e17};
		for (size_t k = 0; k < FB_ARRAY_LEN(ds); k++) {
			buf_clear(&b);
			json_write(&b, jv_double(a, ds[k]));
			struct jv *r = json_parse(a, b.p, b.n, NULL);
			double back = !r ? NAN : r->type == JV_INT ? (double)r->u.i : r->u.d;
			bad += !r || back != ds[k] || signbit(back) != signbit(ds[k]);
		}
		arena_reset(a);
	}
	CHECK(bad == 0);
	buf_release(&b);
	arena_free(a);
}

TEST(codec_json_strings)
{
	struct arena *a = arena_new(4096);
	CHECK_STREQ(RT(a, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""),
		    "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\"");
	struct jv *v = json_parse(a, "\"\\u0041\\u00e9\\u20AC\"", 20, NULL);
	CHECK(v && v->type == JV_STRING && strcmp(v->u.s.p, "A\xc3\xa9\xe2\x82\xac") == 0);
	v = json_parse(a, "\"\\ud83d\\ude00\"", 14, NULL);
	CHECK(v && v->u.s.n == 4 && memcmp(v->u.s.p, "\xf0\x9f\x98\x80", 4) == 0);
	v = json_parse(a, "\"x\\ud83dy\"", 10, NULL); /* lone high surrogate */
	CHECK(v && strcmp(v->u.s.p, "x\xef\xbf\xbdy") == 0);
	v = json_parse(a, "\"\\ude00\"", 8, NULL); /* lone low surrogate */
	CHECK(v && strcmp(v->u.s.p, "\xef\xbf\xbd") == 0);
	v = json_parse(a, "\"\\ud83d\\u0041\"", 14, NULL); /* high then non-low */
	CHECK(v && strcmp(v->u.s.p, "\xef\xbf\xbd"
				    "A") == 0);
	v = json_parse(a, "\"\\ud83d\\ud83d\\ude00\"", 20, NULL);
	CHECK(v && strcmp(v->u.s.p, "\xef\xbf\xbd\xf0\x9f\x98\x80") == 0);
	v = json_parse(a, "\"a\\u0000b\"", 10, NULL); /* escaped NUL is data */
	CHECK(v && v->u.s.n == 3 && v->u.s.p[1] == 0);
	v = json_parse(a, "{\"k\\n\":1}", 9, NULL); /* escaped key */
	CHECK(v && jv_get_int(v, "k\n", 0) == 1);
	v = json_parse(a, "\"\x7f\"", 3, NULL); /* DEL is not a control char in JSON */
	CHECK(v && v->u.s.n == 1);
	static const char *const bad[] = {
	    "\"\\x\"",	"\"\\u12G4\"",	"\"\\u12\"",	    "\"\\",
	    "\"abc",	"\"\\\"",	"\"a\tb\"",	    "\"a\nb\"",
	    "'a'",	"\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
	    "\"\xc3\"", "\"\x80\"",	"\"\xff\"",	    "\"\xe2\x82\"",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(json_parse(a, bad[i], strlen(bad[i]), NULL) == NULL);
	CHECK(json_parse(a, "\"a\0b\"", 5, NULL) == NULL);
	/* a long string crosses the 8-byte fast path with specials at each offset */
	char s[80];
	for (int off = 1; off < 70; off++) {
		memset(s, 'x', sizeof(s));
		s[0] = '"';
		s[off] = '\\';
		s[off + 1] = 'n';
		s[79] = '"';
		v = json_parse(a, s, sizeof(s), NULL);
		CHECK(v && v->u.s.n == 77 && v->u.s.p[off - 1] == '\n');
	}
	arena_free(a);
}

TEST(codec_json_write_str)
{
	struct buf b = BUF_INIT;
	json_write_str(&b, "a\"b\\c\x01\x1f\x7f\n", 9);
	CHECK_STREQ(b.p, "\"a\\\"b\\\\c\\u0001\\u001f\x7f\\n\"");
	buf_clear(&b);
	json_write_str(&b, "\xc3\xa9\xff\xc3x\xed\xa0\x80\xf0\x9f\x98\x80", 12);
	CHECK_STREQ(b.p, "\"\xc3\xa9\\ufffd\\ufffdx\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\"");
	buf_clear(&b);
	json_write_str(&b, NULL, 0);
	CHECK_STREQ(b.p, "\"\"");
	buf_clear(&b);
	json_write_str(&b, "0123456789abcdef0123456789\"", 27);
	CHECK_STREQ(b.p, "\"0123456789abcdef0123456789\\\"\"");
	buf_release(&b);
}

TEST(codec_json_errors)
{
	struct arena *a = arena_new(4096);
	static const char *const bad[] = {
	    "",
	    " ",
	    "{",
	    "[",
	    "[1,]",
	    "{,}",
	    "{\"a\" 1}",
	    "{a:1}",
	    "[1 2]",
	    "tru",
	    "nul",
	    "falsey",
	    "[true}",
	    "{\"a\":1,}",
	    "{} {}",
	    "[] x",
	    "//c\n1",
	    "/*c*/1",
	    "{\"a\":}",
	    "{\"a\"}",
	    "[,1]",
	    "\"a\"b",
	    "\xef\xbb\xbf{}",
	    "{\"a\":1",
	    "[1",
	    "{\"a\":1 \"b\":2}",
	    "}",
	    "]",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		const char *err = NULL;
		CHECK(json_parse(a, bad[i], strlen(bad[i]), &err) == NULL);
		CHECK(err != NULL);
	}
	CHECK(json_parse(a, "[1]\0", 4, NULL) == NULL);
	CHECK(json_parse(a, NULL, 0, NULL) == NULL);
	/* inputs from exact-size heap copies: no read past n */
	static const char *const cut[] = {"123",    "\"abc", "tru", "[1,",
					  "{\"a\"", "-",     "1e",  "\"\\u00"};
	for (size_t i = 0; i < FB_ARRAY_LEN(cut); i++)
		CHECK((parse_exact(a, cut[i], strlen(cut[i])) != NULL) == (i == 0));
	arena_free(a);
}

TEST(codec_json_depth_and_dups)
{
	struct arena *a = arena_new(4096);
	char s[1024];
	for (int d = 127; d <= 129; d++) {
		memset(s, '[', (size_t)d);
		memset(s + d, ']', (size_t)d);
		struct jv *v = json_parse(a, s, (size_t)(2 * d), NULL);
		CHECK((v != NULL) == (d <= JSON_MAX_DEPTH));
	}
	size_t n = 0;
	for (int i = 0; i < 129; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, i < 128 ? "{\"a\":" : "1");
	CHECK(n == 128 * 5 + 1);
	memset(s + n, '}', 128);
	CHECK(json_parse(a, s, n + 128, NULL) != NULL);
	memcpy(s + n - 1, "{}", 2);
	memset(s + n + 1, '}', 128);
	const char *err = NULL;
	CHECK(json_parse(a, s, n + 129, &err) == NULL && err);
	struct jv *v = json_parse(a, "{\"a\":1,\"b\":2,\"a\":3}", 19, NULL);
	CHECK(v && jv_len(v) == 3 && jv_get_int(v, "a", 0) == 3);
	CHECK_STREQ(RT(a, "{\"a\":1,\"a\":2}"), "{\"a\":1,\"a\":2}");
	arena_free(a);
}

TEST(codec_form_next)
{
	struct str cur = str_c("a=1&b=&c&=v&&d=x=y&"), k, v;
	CHECK(form_next(&cur, &k, &v) && str_eq_c(k, "a") && str_eq_c(v, "1"));
	CHECK(form_next(&cur, &k, &v) && str_eq_c(k, "b") && v.n == 0);
	CHECK(form_next(&cur, &k, &v) && str_eq_c(k, "c") && v.n == 0);
	CHECK(form_next(&cur, &k, &v) && k.n == 0 && str_eq_c(v, "v"));
	CHECK(form_next(&cur, &k, &v) && str_eq_c(k, "d") && str_eq_c(v, "x=y"));
	CHECK(!form_next(&cur, &k, &v) && cur.n == 0);
	CHECK(!form_next(&cur, &k, &v));
	cur = str_c("&&&");
	CHECK(!form_next(&cur, &k, &v));
	cur = STR_NULL;
	CHECK(!form_next(&cur, &k, &v));
	cur = str_c("Action=GetCallerIdentity&Version=2011-06-15&X=a%20b+c");
	int n = 0;
	while (form_next(&cur, &k, &v))
		n++;
	CHECK(n == 3 && str_eq_c(v, "a%20b+c"));
}

TEST(codec_url_decode)
{
	char out[64];
	CHECK(url_decode(out, "a%20b+c%2Fd%2f", 14, 1) == 8 && memcmp(out, "a b c/d/", 8) == 0);
	CHECK(url_decode(out, "a+b", 3, 0) == 3 && memcmp(out, "a+b", 3) == 0);
	CHECK(url_decode(out, "%00%FF", 6, 0) == 2 && out[0] == 0 && (unsigned char)out[1] == 255);
	CHECK(url_decode(out, "", 0, 1) == 0);
	char in[] = "x%3Dy%26z";
	ssize_t n = url_decode(in, in, strlen(in), 1);
	CHECK(n == 5 && memcmp(in, "x=y&z", 5) == 0);
	static const char *const bad[] = {"%", "%4", "a%zz", "%g0", "%0g", "abc%"};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(url_decode(out, bad[i], strlen(bad[i]), 1) == -1);
}

TEST(codec_url_encode)
{
	struct buf b = BUF_INIT;
	const char *s = "AZaz09-_.~ /*+=&\xc3\xa9";
	url_encode(&b, s, strlen(s), 0);
	CHECK_STREQ(b.p, "AZaz09-_.~%20%2F%2A%2B%3D%26%C3%A9");
	buf_clear(&b);
	url_encode(&b, "/a b/c", 6, 1);
	CHECK_STREQ(b.p, "/a%20b/c");
	buf_clear(&b);
	url_encode(&b, NULL, 0, 1);
	CHECK(b.n == 0);
	char all[256], dec[256 * 3];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	buf_clear(&b);
	url_encode(&b, all, 256, 0);
	CHECK(url_decode(dec, b.p, b.n, 0) == 256 && memcmp(dec, all, 256) == 0);
	buf_release(&b);
}

TEST(codec_xml_write)
{
	struct buf b = BUF_INIT;
	xml_open_ns(&b, "GetCallerIdentityResponse", "https://sts.amazonaws.com/doc/2011-06-15/");
	xml_open(&b, "R");
	xml_elem(&b, "T", "<a & 'b'> \"c\"", 13);
	xml_elem_c(&b, "Skipped", NULL);
	xml_elem_c(&b, "E", "");
	xml_empty(&b, "Z");
	xml_open_ns(&b, "N", NULL);
	xml_close(&b, "N");
	xml_close(&b, "R");
	xml_close(&b, "GetCallerIdentityResponse");
	CHECK_STREQ(b.p, "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
			 "2011-06-15/\"><R><T>&lt;a &amp; &apos;b&apos;&gt; &quot;c&quot;</T>"
			 "<E></E><Z/><N></N></R></GetCallerIdentityResponse>");
	buf_clear(&b);
	xml_text(&b, "a\tb\nc\rd\x01\x7f\xff\xc3\xa9\xef\xbf\xbe\xf0\x9f\x98\x80", 19);
	CHECK_STREQ(b.p, "a&#x9;b&#xA;c&#xD;d\xef\xbf\xbd\x7f\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd"
			 "\xf0\x9f\x98\x80");
	buf_release(&b);
}

TEST(codec_xml_parse_basic)
{
	struct arena *a = arena_new(4096);
	const char *doc =
	    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!-- c --><Root id='1' name=\"x y\">\n"
	    "  <A>one</A>\n  <B/>\n  <A k=\"v\">two</A>\n  <C><D>deep</D></C>\n</Root>\n"
	    "<!-- after --><?pi stuff?>\n";
	struct xml_node *r = xparse(a, doc);
	CHECK(r && str_eq_c(r->name, "Root"));
	if (!r)
		goto out;
	CHECK(r->nattrs == 2 && str_eq_c(xml_attr_get(r, "id"), "1"));
	CHECK(str_eq_c(xml_attr_get(r, "name"), "x y"));
	CHECK(xml_attr_get(r, "nope").p == NULL);
	CHECK(str_eq_c(xml_child_text(r, "A"), "one"));
	CHECK(str_eq_c(xml_child_text(r, "B"), "") && xml_child_text(r, "B").p != NULL);
	CHECK(xml_child_text(r, "Nope").p == NULL);
	CHECK(str_eq_c(xml_child_text(xml_child(r, "C"), "D"), "deep"));
	CHECK(xml_child(NULL, "A") == NULL);
	struct xml_node *a2 = xml_child(r, "A")->next->next;
	CHECK(str_eq_c(a2->name, "A") && str_eq_c(a2->text, "two") && a2->nattrs == 1);
	CHECK(str_eq_c(r->text, "\n  \n  \n  \n  \n"));
	int n = 0;
	for (struct xml_node *c = r->child; c; c = c->next)
		n++;
	CHECK(n == 4);
	r = xparse(a, "<a/>");
	CHECK(r && str_eq_c(r->name, "a") && r->child == NULL && r->text.n == 0);
	r = xparse(a, "<a >x</a >");
	CHECK(r && str_eq_c(r->text, "x"));
	r = xparse(a, "<\xc3\xa9l\xc3\xa9ment>x</\xc3\xa9l\xc3\xa9ment>");
	CHECK(r && r->name.n == 9);
out:
	arena_free(a);
}

TEST(codec_xml_namespaces)
{
	struct arena *a = arena_new(4096);
	struct xml_node *r = xparse(a, "<ns:Foo xmlns:ns=\"urn:x\" xmlns=\"urn:d\">"
				       "<ns:Bar a:b=\"1\" c=\"2\">x</ns:Bar><Baz>y</Baz></ns:Foo>");
	CHECK(r && str_eq_c(r->name, "Foo"));
	if (r) {
		CHECK(r->nattrs == 2 && str_eq_c(xml_attr_get(r, "xmlns:ns"), "urn:x"));
		CHECK(str_eq_c(xml_attr_get(r, "xmlns"), "urn:d"));
		struct xml_node *bar = xml_child(r, "Bar");
		CHECK(bar && str_eq_c(bar->text, "x") && str_eq_c(xml_attr_get(bar, "b"), "1"));
		CHECK(str_eq_c(xml_child_text(r, "Baz"), "y"));
	}
	CHECK(xparse(a, "<ns:Foo></Foo>") == NULL);
	CHECK(xparse(a, "<a:b:c/>") == NULL);
	CHECK(xparse(a, "<:a/>") == NULL);
	CHECK(xparse(a, "<a:/>") == NULL);
	arena_free(a);
}

TEST(codec_xml_entities_cdata)
{
	struct arena *a = arena_new(4096);
	struct xml_node *r =
	    xparse(a, "<a t=\"&lt;&amp;&#x41;&quot;\">&lt;&gt;&amp;&quot;&apos;&#65;"
		      "&#x42;&#x1F600;&#9;</a>");
	CHECK(r && str_eq_c(r->text, "<>&\"'AB\xf0\x9f\x98\x80\t"));
	CHECK(r && str_eq_c(xml_attr_get(r, "t"), "<&A\""));
	r = xparse(a, "<a>x<![CDATA[<b>&amp;]]]]>y<![CDATA[]]></a>");
	CHECK(r && str_eq_c(r->text, "x<b>&amp;]]y"));
	r = xparse(a, "<a>1<b>2</b>3<!-- c -->4<?p x?>5</a>");
	CHECK(r && str_eq_c(r->text, "1345")); /* children's text is theirs */
	static const char *const bad[] = {
	    "<a>&foo;</a>", "<a>&#0;</a>",     "<a>&#x110000;</a>", "<a>&#;</a>",
	    "<a>&#x;</a>",  "<a>& </a>",       "<a>&amp</a>",	    "<a>&#xD800;</a>",
	    "<a>&#1a;</a>", "<a>&#xFFFE;</a>", "<a t=\"&bad;\"/>",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(xparse(a, bad[i]) == NULL);
	arena_free(a);
}

TEST(codec_xml_line_ends)
{
	struct arena *a = arena_new(4096);
	struct xml_node *r =
	    xparse(a, "<a t=\"x\ty\r\nz\nw&#10;\">a\r\nb\rc\n<![CDATA[d\r\ne]]>&#13;</a>");
	CHECK(r && str_eq_c(r->text, "a\nb\nc\nd\ne\r"));
	CHECK(r && str_eq_c(xml_attr_get(r, "t"), "x y z w\n"));
	arena_free(a);
}

TEST(codec_xml_reject)
{
	struct arena *a = arena_new(4096);
	static const char *const bad[] = {
	    "",
	    "   ",
	    "text",
	    "<?xml version=\"1.0\"?>",
	    ("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
	     "\"&lol;&lol;\">]><lolz>&lol2;</lolz>"),
	    "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
	    "<a><!DOCTYPE x></a>",
	    "<a></b>",
	    "<a><b></a></b>",
	    "<a>",
	    "<a></a",
	    "<a/><b/>",
	    "<a/>junk",
	    "x<a/>",
	    "</a>",
	    "<a b=\"1\" b=\"2\"/>",
	    "<a b=1/>",
	    "<a b/>",
	    "<a b=\"1\"c=\"2\"/>",
	    "<a b=\"<\"/>",
	    "<a b=\"1/>",
	    "<a>\x01</a>",
	    "<a>\xff</a>",
	    "<a>\xef\xbf\xbf</a>",
	    "<a><?xml version=\"1.0\"?></a>",
	    "<a/><?xml version=\"1.0\"?>",
	    "<a><!-- a -- b --></a>",
	    "<a><!-- a ---></a>",
	    "<a><!-- a </a>",
	    "<a><![CDATA[x</a>",
	    "<a>\0</a>",
	    "<1a/>",
	    "<a><",
	    "<?pi",
	    "<a></a>\x01",
	    "<![CDATA[x]]><a/>",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		const char *err = NULL;
		CHECK(xml_parse(a, bad[i], strlen(bad[i]), &err) == NULL && err != NULL);
	}
	CHECK(xml_parse(a, "<a>\0</a>", 8, NULL) == NULL);
	CHECK(xml_parse(a, NULL, 0, NULL) == NULL);
	char s[128 * 7 + 16];
	for (int d = 128; d <= 129; d++) {
		size_t n = 0;
		for (int i = 0; i < d; i++)
			n += (size_t)snprintf(s + n, sizeof(s) - n, "<a>");
		for (int i = 0; i < d; i++)
			n += (size_t)snprintf(s + n, sizeof(s) - n, "</a>");
		CHECK((xml_parse(a, s, n, NULL) != NULL) == (d <= XML_MAX_DEPTH));
	}
	arena_free(a);
}

TEST(codec_xml_roundtrip)
{
	struct arena *a = arena_new(4096);
	struct buf b = BUF_INIT;
	const char *text = "x & y < z > \"q\" 'a'\t\r\n\xc3\xa9\xf0\x9f\x98\x80 ]]> end";
	xml_open_ns(&b, "Doc", "urn:a&b");
	xml_elem(&b, "T", text, strlen(text));
	xml_close(&b, "Doc");
	struct xml_node *r = xml_parse(a, b.p, b.n, NULL);
	CHECK(r && str_eq_c(xml_child_text(r, "T"), text));
	CHECK(r && str_eq_c(xml_attr_get(r, "xmlns"), "urn:a&b"));
	buf_release(&b);
	arena_free(a);
}

TEST(codec_fmt_timestamps_out)
{
	char s[40];
	fmt_iso8601(s, 0);
	CHECK_STREQ(s, "1970-01-01T00:00:00.000Z");
	fmt_iso8601(s, 1767225600);
	CHECK_STREQ(s, "2026-01-01T00:00:00.000Z");
	fmt_iso8601(s, 1709210096.7896);
	CHECK_STREQ(s, "2024-02-29T12:34:56.790Z");
	fmt_iso8601(s, -0.5);
	CHECK_STREQ(s, "1969-12-31T23:59:59.500Z");
	fmt_iso8601(s, 951782400); /* 2000 is a leap year */
	CHECK_STREQ(s, "2000-02-29T00:00:00.000Z");
	fmt_iso8601(s, 1e20);
	CHECK_STREQ(s, "9999-12-31T23:59:59.999Z");
	fmt_iso8601(s, -1e20);
	CHECK_STREQ(s, "0000-01-01T00:00:00.000Z");
	fmt_iso8601(s, NAN);
	CHECK_STREQ(s, "1970-01-01T00:00:00.000Z");
	fmt_rfc822(s, 1767225600);
	CHECK_STREQ(s, "Thu, 01 Jan 2026 00:00:00 GMT");
	fmt_rfc822(s, 0);
	CHECK_STREQ(s, "Thu, 01 Jan 1970 00:00:00 GMT");
	fmt_rfc822(s, 1709210096.9);
	CHECK_STREQ(s, "Thu, 29 Feb 2024 12:34:56 GMT");
	fmt_rfc822(s, -1);
	CHECK_STREQ(s, "Wed, 31 Dec 1969 23:59:59 GMT");
}

/* ts: fmt_parse_timestamp of a C string; NAN when it fails. */
static double ts(const char *s)
{
	double d;
	return fmt_parse_timestamp(s, strlen(s), &d) == 0 ? d : NAN;
}

TEST(codec_fmt_timestamps_in)
{
	CHECK(ts("2026-01-01T00:00:00Z") == 1767225600);
	CHECK(ts("2026-01-01T00:00:00.000Z") == 1767225600);
	CHECK(ts("2026-01-01T00:00:00.5Z") == 1767225600.5);
	CHECK(fabs(ts("2024-02-29T12:34:56.789123456Z") - 1709210096.789123456) < 1e-6);
	CHECK(ts("2026-01-01T01:00:00+01:00") == 1767225600);
	CHECK(ts("2025-12-31T18:30:00-05:30") == 1767225600);
	CHECK(ts("2025-12-31T18:30:00-0530") == 1767225600);
	CHECK(ts("2026-01-01T02:00:00+02") == 1767225600);
	CHECK(ts("2026-01-01T00:00:00") == 1767225600);
	CHECK(ts("2026-01-01t00:00:00z") == 1767225600);
	CHECK(ts("2026-01-01 00:00:00Z") == 1767225600);
	CHECK(ts("1969-12-31T23:59:59Z") == -1);
	CHECK(ts("Thu, 01 Jan 2026 00:00:00 GMT") == 1767225600);
	CHECK(ts("Thu, 1 Jan 2026 00:00:00 GMT") == 1767225600);
	CHECK(ts("01 Jan 2026 00:00:00 GMT") == 1767225600);
	CHECK(ts("Thu, 01 Jan 2026 01:00:00 +0100") == 1767225600);
	CHECK(ts("Thu, 01 Jan 2026 00:00 UT") == 1767225600);
	CHECK(ts("Thu, 01 Jan 2026 00:00:00") == 1767225600);
	CHECK(ts("thu, 01 jan 2026 00:00:00 UTC") == 1767225600);
	CHECK(ts("1767225600") == 1767225600);
	CHECK(ts("1767225600.25") == 1767225600.25);
	CHECK(ts("-1.5") == -1.5);
	CHECK(ts("0") == 0);
	static const char *const bad[] = {
	    "",
	    "abc",
	    "1.",
	    ".5",
	    "1e9",
	    "-",
	    " 1",
	    "2026-01-01",
	    "2026-02-30T00:00:00Z",
	    "2025-02-29T00:00:00Z",
	    "2026-13-01T00:00:00Z",
	    "2026-01-01T24:00:00Z",
	    "2026-01-01T00:60:00Z",
	    "2026-01-01T00:00:61Z",
	    "2026-01-01T00:00:00.Z",
	    "2026-01-01T00:00:00Zjunk",
	    "2026-01-01T00:00:00+25:00",
	    "2026-01-01T00:00:00+01:0",
	    "2026-1-01T00:00:00Z",
	    "Thu, 32 Jan 2026 00:00:00 GMT",
	    "Thu, 01 Foo 2026 00:00:00 GMT",
	    "Xyz, 01 Jan 2026 00:00:00 GMT",
	    "Thu, 01 Jan 2026 00:00:00 EST",
	    "Thu, 01 Jan 26 00:00:00 GMT",
	    "Thu 01 Jan 2026 00:00:00 GMT",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(isnan(ts(bad[i])));
	char s[40];
	for (double t = -1e10; t < 2.5e11; t += 987654321.123) {
		fmt_iso8601(s, t);
		CHECK(fabs(ts(s) - t) <= 0.0006); /* ms rounding + double ulp */
		fmt_rfc822(s, t);
		CHECK(ts(s) == floor(t));
	}
}

TEST(codec_fmt_base64)
{
	static const char *const v[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	char out[64];
	for (size_t i = 0; i < FB_ARRAY_LEN(v); i++) {
		size_t n = strlen(v[i][0]);
		CHECK(fmt_b64_encode(out, v[i][0], n) == strlen(v[i][1]));
		CHECK_STREQ(out, v[i][1]);
		CHECK(fmt_b64_decode(out, v[i][1], strlen(v[i][1])) == (ssize_t)n);
		CHECK(memcmp(out, v[i][0], n) == 0);
	}
	static const char *const bad[] = {
	    "Zg=",  "Zg",    "Z===", "====", "Zm9v====", "Zg==Zg==",	"Zm9-",
	    "Zm9_", "Zm 9v", "=Zg=", "Z=g=", "Zm9v\n",	 "Zm9\xc3\xa9", "Zg=a"};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(fmt_b64_decode(out, bad[i], strlen(bad[i])) == -1);
	CHECK(fmt_b64_decode(out, "Zh==", 4) == 1 && out[0] == 'f'); /* pad bits ignored */
	unsigned char all[256], back[256];
	char enc[4 * ((256 + 2) / 3) + 1];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= 256; n += 37) {
		size_t m = fmt_b64_encode(enc, all, n);
		CHECK(m == 4 * ((n + 2) / 3) && enc[m] == 0);
		CHECK(fmt_b64_decode(back, enc, m) == (ssize_t)n && memcmp(back, all, n) == 0);
		CHECK(fmt_b64_decode(enc, enc, m) == (ssize_t)n && memcmp(enc, all, n) == 0);
	}
}

TEST(codec_fmt_hex_uuid)
{
	char h[16], u1[37], u2[37];
	fmt_hex(h, "\x00\x9f\xff\x10", 4);
	CHECK_STREQ(h, "009fff10");
	fmt_hex(h, "", 0);
	CHECK_STREQ(h, "");
	fmt_uuid4(u1);
	fmt_uuid4(u2);
	CHECK(strlen(u1) == 36 && strcmp(u1, u2) != 0);
	CHECK(u1[8] == '-' && u1[13] == '-' && u1[18] == '-' && u1[23] == '-');
	CHECK(u1[14] == '4' && strchr("89ab", u1[19]) != NULL);
	for (int i = 0; i < 36; i++)
		CHECK(u1[i] == '-' || (u1[i] >= '0' && u1[i] <= '9') ||
		      (u1[i] >= 'a' && u1[i] <= 'f'));
}

TEST(codec_fmt_utf8)
{
	CHECK(fmt_utf8_seq((const unsigned char *)"\xc3\xa9", 2) == 2);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xc3\xa9", 1) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xc1\xbf", 2) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xe0\x9f\xbf", 3) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xe0\xa0\x80", 3) == 3);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xed\x9f\xbf", 3) == 3);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xf0\x8f\xbf\xbf", 4) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4) == 4);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\xf5\x80\x80\x80", 4) == 0);
	CHECK(fmt_utf8_seq((const unsigned char *)"\x80", 1) == 0);
	char o[4];
	CHECK(fmt_utf8_put(o, 0x41) == 1 && o[0] == 'A');
	CHECK(fmt_utf8_put(o, 0x10ffff) == 4 && memcmp(o, "\xf4\x8f\xbf\xbf", 4) == 0);
}
