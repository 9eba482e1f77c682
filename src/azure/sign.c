/*
 * sign.c - Shared Key authorization: the string-to-sign of a request and
 * the sign hook that dates and signs every attempt.
 *
 * What is signed must be exactly what goes on the wire, so everything here
 * reads the request as built (r->method, r->url, r->hdrs) rather than the
 * builders' arguments.
 */
#include "azblobfs/common.h"
#include "azblobfs/buf.h"
#include "azblobfs/cleanup.h"
#include "azblobfs/timeutil.h"
#include "azure_i.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

/*
 * Collation weights of ASCII characters, copied from the Azure SDK for
 * JavaScript (@azure/storage-common, utils/SharedKeyComparator.js), which
 * reproduces how the service orders canonicalised headers: level 0 ignores
 * '-' and folds case, level 2 breaks ties on case, level 4 on hyphens. Only
 * non-zero entries are listed. Byte order differs ("x-ms-meta-a_1" sorts
 * before "x-ms-meta-a1" here), and so would the signature.
 */
static const uint16_t weight_lv0[128] = {
    [33] = 1820,  [35] = 1823,  [36] = 1825,  [37] = 1827,  [38] = 1829,  [42] = 1837,
    [43] = 2051,  [46] = 1843,  [48] = 3331,  [49] = 3354,  [50] = 3356,  [51] = 3358,
    [52] = 3360,  [53] = 3362,  [54] = 3364,  [55] = 3366,  [56] = 3368,  [57] = 3370,
    [65] = 3586,  [66] = 3593,  [67] = 3594,  [68] = 3610,  [69] = 3617,  [70] = 3619,
    [71] = 3621,  [72] = 3628,  [73] = 3634,  [74] = 3637,  [75] = 3638,  [76] = 3656,
    [77] = 3665,  [78] = 3696,  [79] = 3708,  [80] = 3710,  [81] = 3721,  [82] = 3722,
    [83] = 3729,  [84] = 3737,  [85] = 3743,  [86] = 3746,  [87] = 3748,  [88] = 3750,
    [89] = 3751,  [90] = 3753,  [94] = 1859,  [95] = 1860,  [96] = 1864,  [97] = 3586,
    [98] = 3593,  [99] = 3594,  [100] = 3610, [101] = 3617, [102] = 3619, [103] = 3621,
    [104] = 3628, [105] = 3634, [106] = 3637, [107] = 3638, [108] = 3656, [109] = 3665,
    [110] = 3696, [111] = 3708, [112] = 3710, [113] = 3721, [114] = 3722, [115] = 3729,
    [116] = 3737, [117] = 3743, [118] = 3746, [119] = 3748, [120] = 3750, [121] = 3751,
    [122] = 3753, [124] = 1868, [126] = 1872,
};
static const uint16_t weight_lv2[128] = {
    [65] = 18, [66] = 18, [67] = 18, [68] = 18, [69] = 18, [70] = 18, [71] = 18,
    [72] = 18, [73] = 18, [74] = 18, [75] = 18, [76] = 18, [77] = 18, [78] = 18,
    [79] = 18, [80] = 18, [81] = 18, [82] = 18, [83] = 18, [84] = 18, [85] = 18,
    [86] = 18, [87] = 18, [88] = 18, [89] = 18, [90] = 18,
};
static const uint16_t weight_lv4[128] = {
    [39] = 32786,
    [45] = 33298,
};

/* Weight 1 marks the end of a string; no table entry is 1. */
static unsigned weight(const uint16_t *table, const char *s, size_t len, size_t i)
{
	unsigned char c;

	if (i >= len)
		return 1;
	c = (unsigned char)s[i];
	return c < 128 ? table[c] : 0;
}

/* The SDK's isLessThan(), step for step. */
static bool header_less(const char *a, const char *b)
{
	const uint16_t *const tables[] = {weight_lv0, weight_lv2, weight_lv4};
	size_t la = strlen(a), lb = strlen(b);
	size_t level = 0, i = 0, j = 0;

	while (level < ARRAY_SIZE(tables)) {
		unsigned w1, w2;

		if (level == ARRAY_SIZE(tables) - 1 && i != j)
			return i > j;
		w1 = weight(tables[level], a, la, i);
		w2 = weight(tables[level], b, lb, j);
		if (w1 == 1 && w2 == 1) {
			i = j = 0;
			level++;
		} else if (w1 == w2) {
			i++;
			j++;
		} else if (w1 == 0) {
			i++;
		} else if (w2 == 0) {
			j++;
		} else {
			return w1 < w2;
		}
	}
	return false;
}

int az_header_cmp(const char *a, const char *b)
{
	if (header_less(a, b))
		return -1;
	if (header_less(b, a))
		return 1;
	return strcmp(a, b);
}

struct kv {
	char *name;
	char *value;
};

static int kv_header_cmp(const void *x, const void *y)
{
	return az_header_cmp(((const struct kv *)x)->name, ((const struct kv *)y)->name);
}

static int kv_query_cmp(const void *x, const void *y)
{
	const struct kv *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->value, b->value);
}

static void kv_free(struct kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

/* Append @s without leading and trailing blanks. */
static int put_trimmed(struct buf *b, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return buf_append(b, s, n);
}

static int put_standard_headers(struct buf *b, const struct http_msg *r)
{
	static const char *const names[] = {
	    "Content-Encoding",
	    "Content-Language",
	    "Content-Length",
	    "Content-MD5",
	    "Content-Type",
	    "Date",
	    "If-Modified-Since",
	    "If-Match",
	    "If-None-Match",
	    "If-Unmodified-Since",
	    "Range",
	};
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *v = http_msg_header(r, names[i]);

		/* Since 2015-02-21 a zero Content-Length is signed as empty. */
		if (v && !strcmp(names[i], "Content-Length") && !strcmp(v, "0"))
			v = NULL;
		rc = v ? put_trimmed(b, v, strlen(v)) : 0;
		if (rc < 0 || (rc = buf_puts(b, "\n")) < 0)
			return rc;
	}
	return 0;
}

static int put_ms_headers(struct buf *b, const struct http_msg *r)
{
	struct kv *v = calloc(HTTP_MAX_HDRS, sizeof(*v));
	size_t n = 0;
	int rc = -ENOMEM;

	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < r->nhdrs && i < HTTP_MAX_HDRS; i++) {
		const char *line = r->hdrs[i], *colon = strchr(line, ':');
		size_t nl;

		if (!colon || strncasecmp(line, "x-ms-", 5))
			continue;
		nl = (size_t)(colon - line);
		while (nl && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
			nl--;
		v[n].name = strndup(line, nl);
		v[n].value = strdup(colon + 1);
		if (!v[n].name || !v[n].value) {
			n++;
			goto out;
		}
		for (char *p = v[n].name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		n++;
	}
	qsort(v, n, sizeof(*v), kv_header_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((rc = buf_printf(b, "%s:", v[i].name)) < 0 ||
		    (rc = put_trimmed(b, v[i].value, strlen(v[i].value))) < 0 ||
		    (rc = buf_puts(b, "\n")) < 0)
			goto out;
	}
	rc = 0;
out:
	kv_free(v, n);
	return rc;
}

/* "\nname:value" per query parameter: names lowercased, sorted, values decoded. */
static int put_query(struct buf *b, const char *q, size_t qlen)
{
	struct kv *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = q, *end = q + qlen;
	int rc = -ENOMEM;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (stop > p) {
			if (n == cap) {
				struct kv *nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));

				if (!nv)
					goto out;
				v = nv;
			}
			v[n].name = az_url_unescape(p, (size_t)((eq ? eq : stop) - p));
			v[n].value =
			    eq ? az_url_unescape(eq + 1, (size_t)(stop - eq - 1)) : strdup("");
			n++;
			if (!v[n - 1].name || !v[n - 1].value) {
				rc = -EINVAL;
				goto out;
			}
			for (char *c = v[n - 1].name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		p = stop + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), kv_query_cmp);
	for (size_t i = 0; i < n; i++) {
		/* A repeated parameter is signed once, its sorted values joined by ','. */
		if (i && !strcmp(v[i].name, v[i - 1].name))
			rc = buf_printf(b, ",%s", v[i].value);
		else
			rc = buf_printf(b, "\n%s:%s", v[i].name, v[i].value);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	kv_free(v, n);
	return rc;
}

char *az_string_to_sign(const struct http_msg *r, const char *account)
{
	struct az_url_parts u;
	struct buf b;

	if (!r->method || !r->url || !account || az_url_split(r->url, &u) < 0)
		return NULL;
	buf_init(&b, 1 * MIB);
	if (buf_printf(&b, "%s\n", r->method) < 0 || put_standard_headers(&b, r) < 0 ||
	    put_ms_headers(&b, r) < 0 || buf_printf(&b, "/%s", account) < 0 ||
	    (u.path_len ? buf_append(&b, u.path, u.path_len) : buf_puts(&b, "/")) < 0 ||
	    put_query(&b, u.query, u.query_len) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

int az_sign_prepare(struct http_msg *r, void *client)
{
	const struct az_client *c = client;
	char date[UTIL_HTTP_DATE_LEN];
	char sig[64];
	_cleanup_free_ char *sts = NULL;
	int rc;

	util_http_date(time(NULL), date);
	rc = http_msg_set_header(r, "x-ms-date", "%s", date);
	if (rc < 0)
		return rc;
	/* Without a key the SAS in the URL is the authorization (az_client_init). */
	if (!c->creds.key)
		return 0;
	sts = az_string_to_sign(r, c->creds.account);
	if (!sts)
		return -ENOMEM;
	rc = az_hmac_sha256_b64(c->creds.key, c->creds.key_len, sts, sig, sizeof(sig));
	if (rc < 0)
		return rc;
	rc = http_msg_set_header(r, "Authorization", "SharedKey %s:%s", c->creds.account, sig);
	OPENSSL_cleanse(sig, sizeof(sig));
	return rc;
}
