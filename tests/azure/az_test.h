/*
 * az_test.h - helpers shared by the tests of src/azure.
 */
#ifndef AZBLOBFS_AZ_TEST_H
#define AZBLOBFS_AZ_TEST_H

#include "azblobfs/common.h"
#include "azblobfs/azure.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random-looking but fixed: base64 of the bytes 0..63. */
#define TEST_KEY_B64                                                                               \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
/* Azurite's published key (Azurite README, src/blob/utils/constants.ts). */
#define TEST_DEV_KEY_B64                                                                           \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/* A whole fixture file, NUL-terminated; the test fails if it cannot be read. */
static inline char *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* A client for @account at @endpoint with @key_b64 and/or @sas (either may be NULL). */
static inline void test_client(struct az_client *c, const char *account, const char *endpoint,
			       const char *key_b64, const char *sas)
{
	struct az_creds cr = {0};
	struct az_error err;

	cr.account = strdup(account);
	cr.endpoint = strdup(endpoint);
	if (key_b64)
		ck_assert_int_eq(az_creds_set_key(&cr, key_b64, &err), 0);
	if (sas)
		ck_assert_int_eq(az_creds_set_sas(&cr, sas), 0);
	ck_assert_int_eq(az_creds_finish(&cr, &err), 0);
	ck_assert_int_eq(az_client_init(c, &cr), 0);
}

/* True when @r has the header line @line exactly. */
static inline bool test_has_line(const struct http_msg *r, const char *line)
{
	for (unsigned i = 0; i < r->nhdrs; i++)
		if (!strcmp(r->hdrs[i], line))
			return true;
	return false;
}

/* Add a response header line (tests fill r->rhdrs by hand). */
static inline void test_add_rhdr(struct http_msg *r, const char *line)
{
	ck_assert_uint_lt(r->nrhdrs, HTTP_MAX_RESP_HDRS);
	r->rhdrs[r->nrhdrs] = strdup(line);
	ck_assert_ptr_nonnull(r->rhdrs[r->nrhdrs]);
	r->nrhdrs++;
}

#endif
