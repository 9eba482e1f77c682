/*
 * fuzz_headers.c - libFuzzer target: a response as the request layer
 * stores it, read by every reader of responses. The first two bytes pick
 * the status (100-599); the rest is split at '\n' into raw header lines
 * (as curl hands them over, "\r\n" included), an empty line ending the
 * headers and the rest being the body. Then the error mapping, the
 * properties, the commit result, the copy status and a range check read
 * it. They may refuse it, never crash or read past it.
 */
#include "azblobfs/azure.h"
#include "azblobfs/httpmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 2, *end = (const char *)data + size;
	struct http_msg m;
	struct az_error err;
	struct az_props props;
	struct az_commit commit;

	if (size < 2)
		return 0;
	http_msg_init(&m);
	m.method = "GET";
	m.status = 100 + (data[0] << 8 | data[1]) % 500;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
			p += len;
			break; /* the body follows */
		}
		http_msg_add_resp_header(&m, p, len);
		p += len;
	}
	if (p < end && buf_append(&m.resp, p, (size_t)(end - p)) < 0) {
		http_msg_release(&m);
		return 0;
	}
	az_error_clear(&err);
	(void)az_result(&m, &err);
	az_error_clear(&err);
	(void)az_range_result(&m, 4096, 65536, &err);
	memset(&props, 0, sizeof(props));
	if (az_props_from_response(&m, &props) == 0)
		az_props_release(&props);
	az_commit_result(&m, &commit);
	(void)az_copy_status(&m);
	http_msg_release(&m);
	return 0;
}
