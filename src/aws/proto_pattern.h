/* proto_pattern.h - the subset of the models' Java regular expressions
 * that input validation can decide exactly. */
#ifndef FB_PROTO_PATTERN_H
#define FB_PROTO_PATTERN_H
#include "core/compat.h"

/* proto_pattern_match: whether UTF-8 text p[0..n) matches <pattern> as a
 * whole (Java's String.matches). Supported: literals, '.', escapes
 * (\w \d \s \S \W \D \t \n \r \f \xHH \uHHHH and escaped punctuation),
 * bracket classes with ranges and '^' negation, the quantifiers ? * + {m}
 * {m,} {m,n}, and ^ / $ at the ends. Anything else (groups, alternation,
 * lookaround, \p{..}, lazy/possessive quantifiers, large counts) and
 * ill-formed UTF-8 text are undecidable. Returns 1 (match), 0 (no match)
 * or -1 (undecidable: the caller skips the check). Linear in n (an NFA
 * simulation, no backtracking); allocates nothing. */
int proto_pattern_match(const char *pattern, const char *p, size_t n);
#endif
