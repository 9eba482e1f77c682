/*
 * creds.c - credentials: connection strings, the environment, account keys.
 *
 * Secrets (the key, the SAS, the connection string that holds them) are
 * wiped from memory when freed, and no message ever quotes a value: only
 * the name of the setting that was wrong.
 */
#include "azblobfs/common.h"
#include "azblobfs/cleanup.h"
#include "azure_i.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* The emulator's published account key (Azurite README, "Default Storage Account"). */
static const char dev_key_b64[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

static void free_secret(char *s, size_t n)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, n);
	free(s);
}

static void free_secret_str(char *s)
{
	free_secret(s, s ? strlen(s) : 0);
}

void az_creds_release(struct az_creds *c)
{
	if (!c)
		return;
	free(c->account);
	free_secret((char *)c->key, c->key_len);
	free_secret_str(c->sas);
	free(c->endpoint);
	memset(c, 0, sizeof(*c));
}

int az_creds_set_key(struct az_creds *c, const char *b64, struct az_error *err)
{
	unsigned char *key = NULL;
	size_t len = 0;
	int rc;

	rc = az_b64_decode(b64, &key, &len);
	if (rc == -ENOMEM)
		return az_error_set(err, rc, "out of memory decoding the account key");
	if (rc < 0)
		return az_error_set(err, -EINVAL, "the account key is not valid base64");
	free_secret((char *)c->key, c->key_len);
	c->key = key;
	c->key_len = len;
	return 0;
}

int az_creds_set_sas(struct az_creds *c, const char *sas)
{
	char *s = NULL;

	if (sas && *sas == '?')
		sas++;
	if (sas && *sas) {
		s = strdup(sas);
		if (!s)
			return -ENOMEM;
	}
	free_secret_str(c->sas);
	c->sas = s;
	return 0;
}

static int set_str(char **field, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* Check an endpoint and store it without a trailing '/'. */
static int set_endpoint(char **field, const char *v, const char *what, struct az_error *err)
{
	struct az_url_parts u;
	char *s;
	size_t n;

	if (az_url_split(v, &u) < 0 || strpbrk(v, "?#"))
		return az_error_set(err, -EINVAL,
				    "%s must be an http:// or https:// URL without a query", what);
	n = strlen(v);
	while (n && v[n - 1] == '/')
		n--;
	s = strndup(v, n);
	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* Values parsed from one connection string; only those present get applied. */
struct cs_fields {
	struct az_creds v;
	char *protocol;
	char *suffix;
	bool dev;
};

static int cs_field(struct cs_fields *f, const char *key, const char *val, struct az_error *err)
{
	if (!*val && strcasecmp(key, "UseDevelopmentStorage"))
		return az_error_set(err, -EINVAL, "connection string: empty value for '%s'", key);
	if (!strcasecmp(key, "AccountName")) {
		if (!az_account_name_valid(val, strlen(val)))
			return az_error_set(
			    err, -EINVAL,
			    "connection string: AccountName is not a valid account name");
		return set_str(&f->v.account, val);
	}
	if (!strcasecmp(key, "AccountKey")) {
		int rc = az_creds_set_key(&f->v, val, err);

		if (rc == -EINVAL)
			az_error_set(err, rc, "connection string: AccountKey is not valid base64");
		return rc;
	}
	if (!strcasecmp(key, "SharedAccessSignature"))
		return az_creds_set_sas(&f->v, val);
	if (!strcasecmp(key, "BlobEndpoint"))
		return set_endpoint(&f->v.endpoint, val, "connection string: BlobEndpoint", err);
	if (!strcasecmp(key, "DefaultEndpointsProtocol")) {
		if (strcasecmp(val, "https") && strcasecmp(val, "http"))
			return az_error_set(err, -EINVAL,
					    "connection string: DefaultEndpointsProtocol must be "
					    "'http' or 'https'");
		if (set_str(&f->protocol, val) < 0)
			return -ENOMEM;
		for (char *p = f->protocol; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return 0;
	}
	if (!strcasecmp(key, "EndpointSuffix")) {
		if (strpbrk(val, "/?#@:; \t"))
			return az_error_set(
			    err, -EINVAL,
			    "connection string: EndpointSuffix must be a domain name");
		return set_str(&f->suffix, val);
	}
	if (!strcasecmp(key, "UseDevelopmentStorage")) {
		if (!strcasecmp(val, "true"))
			f->dev = true;
		else if (strcasecmp(val, "false"))
			return az_error_set(
			    err, -EINVAL,
			    "connection string: UseDevelopmentStorage must be 'true' "
			    "or 'false'");
		return 0;
	}
	return 0; /* QueueEndpoint, TableEndpoint, DevelopmentStorageProxyUri, ... */
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void take(char **dst, char **src)
{
	if (!*src)
		return;
	free(*dst);
	*dst = *src;
	*src = NULL;
}

int az_creds_parse_connection_string(const char *cs, struct az_creds *c, struct az_error *err)
{
	struct cs_fields f = {0};
	char *copy, *save = NULL, *seg;
	size_t copy_len, index = 0;
	int rc = 0;

	if (!cs)
		return az_error_set(err, -EINVAL, "connection string: none given");
	copy = strdup(cs);
	if (!copy)
		return az_error_set(err, -ENOMEM, "out of memory");
	copy_len = strlen(copy);
	for (seg = strtok_r(copy, ";", &save); seg; seg = strtok_r(NULL, ";", &save)) {
		char *eq, *key;

		index++;
		seg = trim(seg);
		if (!*seg)
			continue;
		eq = strchr(seg, '=');
		if (!eq) {
			/* The segment may be a secret pasted wrongly: do not quote it. */
			rc = az_error_set(err, -EINVAL,
					  "connection string: part %zu is not Name=Value", index);
			goto out;
		}
		*eq = '\0';
		key = trim(seg);
		if (!*key) {
			rc = az_error_set(err, -EINVAL,
					  "connection string: part %zu has an empty name", index);
			goto out;
		}
		rc = cs_field(&f, key, trim(eq + 1), err);
		if (rc < 0)
			goto out;
	}

	if (f.dev) {
		if (!f.v.account && (rc = set_str(&f.v.account, AZ_DEV_ACCOUNT)) < 0)
			goto out;
		if (!f.v.key && (rc = az_creds_set_key(&f.v, dev_key_b64, err)) < 0)
			goto out;
		if (!f.v.endpoint && (rc = set_str(&f.v.endpoint, AZ_DEV_ENDPOINT)) < 0)
			goto out;
	}
	if (!f.v.endpoint && (f.protocol || f.suffix)) {
		const char *account = f.v.account ? f.v.account : c->account;

		if (!account) {
			rc = az_error_set(err, -EINVAL,
					  "connection string: EndpointSuffix or "
					  "DefaultEndpointsProtocol without AccountName");
			goto out;
		}
		if (asprintf(&f.v.endpoint, "%s://%s.blob.%s", f.protocol ? f.protocol : "https",
			     account, f.suffix ? f.suffix : "core.windows.net") < 0) {
			f.v.endpoint = NULL;
			rc = az_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}

	take(&c->account, &f.v.account);
	take(&c->endpoint, &f.v.endpoint);
	if (f.v.sas) {
		free_secret_str(c->sas);
		c->sas = TAKE_PTR(f.v.sas);
	}
	if (f.v.key) {
		free_secret((char *)c->key, c->key_len);
		c->key = f.v.key;
		c->key_len = f.v.key_len;
		f.v.key = NULL;
		f.v.key_len = 0;
	}
	rc = 0;
out:
	az_creds_release(&f.v);
	free(f.protocol);
	free(f.suffix);
	free_secret(copy, copy_len);
	return rc;
}

static const char *env(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

int az_creds_from_env(struct az_creds *c, struct az_error *err)
{
	struct az_creds e = {0};
	const char *v;
	int rc = 0;

	v = env("AZURE_STORAGE_CONNECTION_STRING");
	if (v && (rc = az_creds_parse_connection_string(v, &e, err)) < 0) {
		if (err) {
			char msg[sizeof(err->message)];

			snprintf(msg, sizeof(msg), "%s", err->message);
			az_error_set(err, rc, "AZURE_STORAGE_CONNECTION_STRING: %s", msg);
		}
		goto out;
	}
	if (!e.account && (v = env("AZURE_STORAGE_ACCOUNT"))) {
		if (!az_account_name_valid(v, strlen(v))) {
			rc = az_error_set(err, -EINVAL,
					  "AZURE_STORAGE_ACCOUNT is not a valid account name");
			goto out;
		}
		if ((rc = set_str(&e.account, v)) < 0)
			goto out;
	}
	/* One credential: the connection string's, else the key, else the SAS. */
	if (!e.key && !e.sas && (v = env("AZURE_STORAGE_KEY"))) {
		rc = az_creds_set_key(&e, v, err);
		if (rc < 0) {
			if (rc == -EINVAL)
				az_error_set(err, rc, "AZURE_STORAGE_KEY is not valid base64");
			goto out;
		}
	}
	if (!e.key && !e.sas && (v = env("AZURE_STORAGE_SAS_TOKEN")) &&
	    (rc = az_creds_set_sas(&e, v)) < 0)
		goto out;
	if (!e.endpoint && (v = env("AZURE_STORAGE_BLOB_ENDPOINT")) &&
	    (rc = set_endpoint(&e.endpoint, v, "AZURE_STORAGE_BLOB_ENDPOINT", err)) < 0)
		goto out;

	/*
	 * Credentials travel as a unit: a key or SAS from the environment is
	 * used only when none was configured, and only for the same account.
	 */
	if (!c->account || !e.account || !strcmp(c->account, e.account)) {
		if (!c->key && !c->sas) {
			c->key = e.key;
			c->key_len = e.key_len;
			e.key = NULL;
			e.key_len = 0;
			c->sas = TAKE_PTR(e.sas);
		}
		if (!c->endpoint)
			take(&c->endpoint, &e.endpoint);
		if (!c->account)
			take(&c->account, &e.account);
	}
	rc = 0;
out:
	az_creds_release(&e);
	return rc;
}

/* Length of the host name in host[:port]; an IPv6 literal keeps its brackets. */
static size_t host_name_len(const struct az_url_parts *u)
{
	const char *end;

	if (u->host_len && u->host[0] == '[') {
		end = memchr(u->host, ']', u->host_len);
		return end ? (size_t)(end - u->host) + 1 : u->host_len;
	}
	end = memchr(u->host, ':', u->host_len);
	return end ? (size_t)(end - u->host) : u->host_len;
}

/* Account from an endpoint: the first path segment (path style) or the first host label. */
static int account_from_endpoint(const struct az_url_parts *u, char **out)
{
	const char *s;
	size_t n;

	if (az_host_is_path_style(u->host, host_name_len(u))) {
		s = u->path_len ? u->path + 1 : "";
		n = u->path_len ? u->path_len - 1 : 0;
		n = MIN(n, strcspn(s, "/"));
	} else {
		s = u->host;
		n = MIN(host_name_len(u), strcspn(s, "."));
	}
	if (!az_account_name_valid(s, n))
		return -EINVAL;
	*out = strndup(s, n);
	return *out ? 0 : -ENOMEM;
}

int az_creds_finish(struct az_creds *c, struct az_error *err)
{
	struct az_url_parts u;
	char *e;
	int rc;

	if (c->account && !az_account_name_valid(c->account, strlen(c->account)))
		return az_error_set(err, -EINVAL, "the storage account name is not valid");
	if (!c->endpoint) {
		if (!c->account)
			return az_error_set(err, -EINVAL,
					    "no storage account: give account/container, a "
					    "connection string or AZURE_STORAGE_ACCOUNT");
		if (asprintf(&e, "https://%s.blob.core.windows.net", c->account) < 0)
			return az_error_set(err, -ENOMEM, "out of memory");
		c->endpoint = e;
	}
	rc = set_endpoint(&c->endpoint, c->endpoint, "the blob endpoint", err);
	if (rc < 0 || (rc = az_url_split(c->endpoint, &u)) < 0)
		return az_error_set(err, rc == -ENOMEM ? rc : -EINVAL,
				    "the blob endpoint is not an http(s) URL");
	if (!c->account) {
		rc = account_from_endpoint(&u, &c->account);
		if (rc == -ENOMEM)
			return az_error_set(err, rc, "out of memory");
		if (rc < 0)
			return az_error_set(err, -EINVAL,
					    "no storage account: the endpoint does not name one; "
					    "set AccountName or AZURE_STORAGE_ACCOUNT");
	}
	/* A bare emulator endpoint ("http://127.0.0.1:10000") gets the account path. */
	if (az_host_is_path_style(u.host, host_name_len(&u)) && !u.path_len) {
		if (asprintf(&e, "%s/%s", c->endpoint, c->account) < 0)
			return az_error_set(err, -ENOMEM, "out of memory");
		free(c->endpoint);
		c->endpoint = e;
	}
	if (!c->key && !c->sas)
		return az_error_set(err, -ENOKEY,
				    "no credentials for account '%s': give an account key, a SAS "
				    "or a connection string",
				    c->account);
	return 0;
}
