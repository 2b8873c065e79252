/* eventstream.c - writing AWS event stream messages (see eventstream.h).
 * Only the server's side is here: fogbank produces event streams (as the
 * response of StartLiveTail) and reads none. */
#include "aws/eventstream.h"
#include "aws/proto_int.h"
#include <zlib.h>

/* put_u32 / put_u16: big-endian integers at p. */
static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

void eventstream_append(struct buf *b, const struct es_header *h, size_t nh, const void *p,
			size_t n)
{
	size_t hlen = 0;
	for (size_t i = 0; i < nh; i++) {
		size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
		hlen += 1 + (nl > 255 ? 255 : nl) + 1 + 2 + (vl > 65535 ? 65535 : vl);
	}
	size_t total = 12 + hlen + n + 4;
	size_t start = b->n;
	buf_reserve(b, total);
	unsigned char *m = (unsigned char *)b->p + start;
	put_u32(m, (uint32_t)total);
	put_u32(m + 4, (uint32_t)hlen);
	put_u32(m + 8, (uint32_t)crc32(0, m, 8));
	unsigned char *q = m + 12;
	for (size_t i = 0; i < nh; i++) {
		size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
		nl = nl > 255 ? 255 : nl;
		vl = vl > 65535 ? 65535 : vl;
		*q++ = (unsigned char)nl;
		memcpy(q, h[i].name, nl);
		q += nl;
		*q++ = 7; /* string */
		put_u16(q, (uint16_t)vl);
		q += 2;
		memcpy(q, h[i].value, vl);
		q += vl;
	}
	if (n)
		memcpy(q, p, n);
	q += n;
	put_u32(q, (uint32_t)crc32(0, m, (uInt)(total - 4)));
	b->n = start + total;
	b->p[b->n] = 0;
}

/* stream_member: the member named <event> of op's output event stream
 * structure, or NULL. */
static const struct model_member *stream_member(const struct model_service *svc,
						const struct model_op *op, const char *event)
{
	if (op->output < 0)
		return NULL;
	const struct model_shape *out = model_shape(svc, (uint32_t)op->output);
	for (uint32_t i = 0; i < out->nmembers; i++) {
		const struct model_shape *st = proto_mshape(svc, proto_member(svc, out, i));
		if (!(st->flags & SF_EVENTSTREAM))
			continue;
		for (uint32_t k = 0; k < st->nmembers; k++) {
			const struct model_member *m = proto_member(svc, st, k);
			if (!strcmp(m->name, event))
				return m;
		}
	}
	return NULL;
}

int aws_event_append(struct arena *a, const struct model_service *svc, const struct model_op *op,
		     const char *event, const struct jv *v, struct buf *b)
{
	const struct model_member *m = stream_member(svc, op, event);
	if (!m)
		return -1;
	/* proto_json_write needs only the arena and the service of a call */
	struct aws_call c = {.a = a, .svc = svc, .op = op};
	struct buf json = {0};
	if (proto_json_write(&c, &json, m->shape, v, 0) < 0)
		buf_puts(&json, "{}");
	int exc = (model_shape(svc, m->shape)->flags & SF_EXCEPTION) != 0;
	struct es_header h[3] = {
	    {":message-type", exc ? "exception" : "event"},
	    {exc ? ":exception-type" : ":event-type", event},
	    {":content-type", "application/json"},
	};
	eventstream_append(b, h, 3, json.p, json.n);
	buf_release(&json);
	return 0;
}
