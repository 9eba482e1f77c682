/*
 * fuzz_xml.c - libFuzzer target: every XML body a server sends us.
 *
 * The first byte picks the parser (List Blobs, List Containers, Get Block
 * List, error body); the rest is the body. A parser may refuse the input,
 * never crash, leak or read past it.
 */
#include "azblobfs/azure.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	struct az_error err;
	struct az_list l;
	struct az_block *blocks = NULL;
	size_t n = 0;

	if (!size)
		return 0;
	size--;
	az_error_clear(&err);
	switch (data[0] % 4) {
	case 0:
		if (az_parse_list_blobs(body, size, &l, &err) == 0)
			az_list_release(&l);
		break;
	case 1:
		if (az_parse_list_containers(body, size, &l, &err) == 0)
			az_list_release(&l);
		break;
	case 2:
		if (az_parse_block_list(body, size, &blocks, &n, &err) == 0)
			az_block_list_free(blocks, n);
		break;
	default:
		(void)az_parse_error(body, size, &err);
		break;
	}
	return 0;
}
