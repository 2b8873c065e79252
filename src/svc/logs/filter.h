/* filter.h - the CloudWatch Logs filter pattern language (FilterLogEvents,
 * and later metric/subscription filters): a pure parser and matcher.
 *
 *   ""                          every event
 *   ERROR "a phrase" ?x ?y -z   terms (all), quoted phrases, alternatives
 *                               (any of the ?terms), exclusions; case-sensitive
 *   %regex%                     AWS's regex subset (no groups), as a term or value
 *   { $.a.b[0] = "x*" && ($.n > 5 || $.f IS TRUE) }
 *                               JSON patterns: = != < <= > >=, IS TRUE/FALSE/NULL,
 *                               NOT EXISTS, * wildcards in string values
 *   [ip, user, ..., status=5* || status=4*, size>1000]
 *                               space-delimited fields, ... for any number
 *
 * Everything the parser builds lives in the caller's arena; matching never
 * allocates except through the scratch arena it is handed (JSON messages
 * are parsed there; the caller resets it when it likes). */
#ifndef FB_SVC_LOGS_FILTER_H
#define FB_SVC_LOGS_FILTER_H
#include "core/compat.h"
#include "core/arena.h"

#define LOGS_FILTER_MAX_LEN 4096 /* bytes; the API allows 1024 characters */
#define LOGS_RE_MAX_ITEMS 1024	 /* expanded regex atoms per alternative */

struct logs_filter;
struct logs_re;

/* logs_filter_parse: compiles pattern p[0..n) into a. Returns the filter,
 * or NULL with *err (a static reason, may be NULL) when the pattern is
 * malformed. A blank pattern compiles to one that matches everything. */
struct logs_filter *logs_filter_parse(struct arena *a, const char *p, size_t n, const char **err);

/* logs_filter_match: 1 when message msg[0..n) matches f, else 0. JSON
 * patterns parse the message into scratch (never freed here). */
int logs_filter_match(const struct logs_filter *f, struct arena *scratch, const char *msg,
		      size_t n);

/* logs_filter_matches_all: 1 when f matches every message (blank pattern),
 * so callers can skip calling logs_filter_match. */
int logs_filter_matches_all(const struct logs_filter *f);

/* logs_re_compile: compiles the body of a %regex% (without the percent
 * signs) into a. Supported: literals, ., [classes] with ranges and ^,
 * \d \w \s \D \W \S \t \n \r and escaped punctuation, * + ? {n} {n,} {n,m}
 * (a trailing ? is accepted as laziness and ignored), ^ and $ anchors and
 * top-level |. Parentheses and non-ASCII bytes are rejected, as AWS does.
 * Returns NULL with *err on a malformed expression. */
struct logs_re *logs_re_compile(struct arena *a, const char *p, size_t n, const char **err);

/* logs_re_search: 1 when re matches somewhere in s[0..n). Linear in
 * n times the pattern size (a set-of-states simulation, no backtracking);
 * uses only the stack. */
int logs_re_search(const struct logs_re *re, const char *s, size_t n);
#endif
