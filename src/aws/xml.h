/* xml.h - the XML the AWS query and rest-xml protocols speak: a streaming
 * writer onto a struct buf, and a small non-validating parser into a tree.
 *
 * Parser scope: UTF-8 input only (an optional BOM and <?xml ...?> are
 * skipped); elements, attributes, character data, CDATA, comments and
 * processing instructions; the five predefined entities and numeric
 * character references; line ends normalised to \n. Namespaces are not
 * resolved: element and attribute names keep only their local part, and
 * xmlns / xmlns:p declarations stay as ordinary attributes under their full
 * name. Rejected: any DOCTYPE (no entity expansion, so no billion laughs),
 * other entities, mismatched or unclosed tags, duplicate attributes,
 * characters XML 1.0 forbids, malformed UTF-8, nesting deeper than
 * XML_MAX_DEPTH, and anything but comments, PIs and whitespace after the
 * root element. */
#ifndef FB_XML_H
#define FB_XML_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

#define XML_MAX_DEPTH 128

struct xml_attr {
	struct str name;  /* local name; "xmlns" and "xmlns:p" kept whole */
	struct str value; /* entity-decoded, whitespace normalised to ' ' */
};

struct xml_node {
	struct str name; /* local name, prefix stripped */
	struct str text; /* entity-decoded concatenated character data of this
			  * element (CDATA included, children's text excluded) */
	struct xml_attr *attrs;
	size_t nattrs;
	struct xml_node *child, *next; /* first child; next sibling */
};

/* xml_parse: parses the document p[0..n) (never read past n). The tree is
 * allocated from a; its views point into p where the bytes needed no
 * decoding and into a otherwise, so p must outlive the tree. Empty views
 * are "" (never NULL). Returns the root element, or NULL with *err (if err)
 * set to a static message. */
struct xml_node *xml_parse(struct arena *a, const char *p, size_t n, const char **err);
/* xml_child: the first child of node whose local name is name, or NULL
 * (node may be NULL). */
struct xml_node *xml_child(const struct xml_node *node, const char *name);
/* xml_child_text: that child's text, or {NULL, 0} when there is none. */
struct str xml_child_text(const struct xml_node *node, const char *name);
/* xml_attr_get: the value of node's attribute name, or {NULL, 0}. */
struct str xml_attr_get(const struct xml_node *node, const char *name);

/* Writer. Names are written as given (they come from the models); text and
 * namespace values are escaped by xml_text. */
/* xml_open: appends <name>. */
void xml_open(struct buf *b, const char *name);
/* xml_open_ns: appends <name xmlns="ns">; a NULL ns gives plain <name>. */
void xml_open_ns(struct buf *b, const char *name, const char *ns);
/* xml_close: appends </name>. */
void xml_close(struct buf *b, const char *name);
/* xml_text: appends p[0..n) escaped: & < > " ' as entities; tab, LF and CR
 * as character references (so they survive attribute and line-end
 * normalisation); each other control character, ill-formed UTF-8 byte,
 * U+FFFE or U+FFFF (none of which XML 1.0 can carry) as U+FFFD. */
void xml_text(struct buf *b, const char *p, size_t n);
/* xml_elem: appends <name>escaped text</name>. */
void xml_elem(struct buf *b, const char *name, const char *p, size_t n);
/* xml_elem_c: xml_elem of a C string; a NULL s writes nothing at all. */
void xml_elem_c(struct buf *b, const char *name, const char *s);
/* xml_empty: appends <name/>. */
void xml_empty(struct buf *b, const char *name);
#endif
