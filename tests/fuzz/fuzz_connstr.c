/*
 * fuzz_connstr.c - libFuzzer target: what a user types as credentials and
 * as the mount's source: a connection string (first byte even) or a
 * SOURCE argument ("container", "account/container/prefix", a URL).
 */
#include "azblobfs/azure.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct az_error err;
	char *s;

	if (!size)
		return 0;
	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		return 0;
	az_error_clear(&err);
	if (data[0] % 2 == 0) {
		struct az_creds c = {0};
		(void)az_creds_parse_connection_string(s, &c, &err);
		az_creds_release(&c);
	} else {
		struct az_source src;
		if (az_source_parse(s, &src, &err) == 0)
			az_source_release(&src);
	}
	free(s);
	return 0;
}
