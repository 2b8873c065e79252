/* test_eventstream.c - src/aws/eventstream: message framing against
 * vectors checked with botocore's decoder (EventStreamBuffer). */
#include "core/compat.h"
#include "core/buf.h"
#include "aws/eventstream.h"
#include "test.h"

/* hex: the bytes of b as lowercase hex in out (at most cap - 1 chars). */
static const char *hex(const struct buf *b, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < b->n && k + 2 < cap; i++, k += 2)
		snprintf(out + k, 3, "%02x", (unsigned char)b->p[i]);
	out[k] = 0;
	return out;
}

TEST(eventstream_empty_message)
{
	struct buf b = BUF_INIT;
	char h[256];
	eventstream_append(&b, NULL, 0, NULL, 0);
	/* AWS's "empty message" vector: 16 bytes, both CRCs of zlib */
	CHECK_STREQ(hex(&b, h, sizeof(h)), "000000100000000005c248eb7d98c8ff");
	buf_release(&b);
}

TEST(eventstream_header_and_payload)
{
	struct buf b = BUF_INIT;
	char h[256];
	struct es_header hd[] = {{":event-type", "hello"}};
	buf_puts(&b, "x"); /* appends after what is there */
	eventstream_append(&b, hd, 1, "{}", 2);
	CHECK_STREQ(hex(&b, h, sizeof(h)), "7800000026000000143179d1b00b3a6576656e742d747970650700"
					   "0568656c6c6f7b7de59ed387");
	buf_release(&b);
}
