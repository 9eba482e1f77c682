/*
 * crypto.c - the OpenSSL parts: base64, HMAC-SHA256, MD5 and block ids.
 */
#include "azblobfs/common.h"
#include "azure_i.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

char *az_b64_encode(const void *p, size_t n)
{
	char *out;

	if (n > (size_t)INT32_MAX / 2)
		return NULL;
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Number of '=' at the end, or -1 when @s is not strict base64. */
static int b64_padding(const char *s, size_t n)
{
	int pad = 0;

	if (!n || n % 4)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - (size_t)pad; i++)
		if (!b64_char(s[i]))
			return -1;
	return pad;
}

bool az_b64_valid(const char *s)
{
	return b64_padding(s, strlen(s)) >= 0;
}

int az_b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s);
	unsigned char *buf;
	int pad, len;

	/*
	 * EVP_DecodeBlock() skips surrounding whitespace, accepts bytes after
	 * padding and counts the padding as output zeros, so check the input
	 * strictly first and subtract the padding from its length.
	 */
	pad = b64_padding(s, n);
	if (pad < 0 || n > (size_t)INT32_MAX)
		return -EINVAL;
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	len = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (len < 0 || len < pad || len - pad == 0) {
		OPENSSL_cleanse(buf, n / 4 * 3 + 1);
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*outlen = (size_t)(len - pad);
	return 0;
}

int az_hmac_sha256_b64(const unsigned char *key, size_t key_len, const char *s, char *out,
		       size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (outlen < 45 || key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)s, strlen(s), md, &mdlen))
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

void az_md5(const void *p, size_t n, unsigned char out[16])
{
	unsigned int len = 16;

	/* MD5 is in the default provider even in FIPS-less OpenSSL 3 builds. */
	if (!EVP_Digest(p, n, out, &len, EVP_md5(), NULL))
		memset(out, 0, 16);
}

void az_block_id(uint64_t nonce, uint32_t index, char out[AZ_BLOCK_ID_LEN + 1])
{
	unsigned char raw[12];

	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)(nonce >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		raw[8 + i] = (unsigned char)(index >> (24 - 8 * i));
	/* 12 bytes encode to exactly 16 characters, no padding. */
	EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw));
}
