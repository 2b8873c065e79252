/* eventstream.h - AWS event stream messages (Content-Type
 * application/vnd.amazon.eventstream), the framing of streamed API
 * responses such as CloudWatch Logs StartLiveTail:
 *
 *   total length (u32) | headers length (u32) | prelude CRC32
 *   headers: name length (u8), name, type (u8, 7 = string),
 *            value length (u16), value ...
 *   payload | message CRC32 (of everything before it)
 *
 * Big-endian integers, CRC32 as zlib computes it. */
#ifndef FB_AWS_EVENTSTREAM_H
#define FB_AWS_EVENTSTREAM_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/model.h"
#include "aws/value.h"

/* One string-valued header of a message. */
struct es_header {
	const char *name;  /* at most 255 bytes */
	const char *value; /* at most 65,535 bytes */
};

/* eventstream_append: appends one whole message (headers h[0..nh) and
 * payload p[0..n)) to b. Names or values over their limits are cut. */
void eventstream_append(struct buf *b, const struct es_header *h, size_t nh, const void *p,
			size_t n);

/* aws_event_append: appends to b the message for event member <event> of
 * op's output event stream, its payload v (a JV_OBJECT) written as JSON
 * by the member's shape: ":message-type" "event" and ":event-type", or
 * "exception" and ":exception-type" for a member whose shape is an
 * exception. Scratch bytes come from a. Returns 0, or -1 when op's output
 * has no event stream with that member. */
int aws_event_append(struct arena *a, const struct model_service *svc, const struct model_op *op,
		     const char *event, const struct jv *v, struct buf *b);
#endif
