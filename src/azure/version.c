/*
 * version.c - versions of the libraries this layer wraps, for --version.
 */
#include "azblobfs/common.h"
#include "azblobfs/azure.h"

#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <stdio.h>

void az_library_versions(char *out, size_t n)
{
	snprintf(out, n, "%s\nlibxml2 %s", OpenSSL_version(OPENSSL_VERSION), LIBXML_DOTTED_VERSION);
}
