/*
 * xml.c - reading what the service answers: List Blobs, List Containers,
 * Get Block List and error bodies, through libxml2.
 *
 * The documents come from the network, so every input is treated as
 * hostile: one size cap for the document, caps on every text and count,
 * no DTDs, no entity declarations (billion laughs), no network access,
 * libxml2's own depth and text limits (no XML_PARSE_HUGE), and every
 * failure is -EBADMSG with a message -- never a crash, never unbounded memory.
 */
#include "azblobfs/common.h"
#include "azblobfs/cleanup.h"
#include "azblobfs/timeutil.h"
#include "azure_i.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* The longest marker, metadata value or other text we keep. */
#define TEXT_MAX (64 * KIB)
/* Bytes of a name: AZ_MAX_BLOB_NAME characters of up to 4 UTF-8 bytes. */
#define NAME_MAX_BYTES (4 * AZ_MAX_BLOB_NAME)

/* libxml2 must be initialised once before threads use it concurrently. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/*
 * True when the raw document holds markup declarations: "<!" that does not
 * open a comment or a CDATA section ("<!DOCTYPE", "<!ENTITY", ...). The
 * service never sends them; refusing them before parsing keeps entity
 * expansion out of reach whatever the parser's settings.
 */
static bool has_declarations(const char *xml, size_t len)
{
	const char *p = xml, *end = xml + len;

	while ((p = memmem(p, (size_t)(end - p), "<!", 2))) {
		size_t left = (size_t)(end - p);

		if (!(left >= 4 && !memcmp(p, "<!--", 4)) &&
		    !(left >= 9 && !memcmp(p, "<![CDATA[", 9)))
			return true;
		p += 2;
	}
	return false;
}

int az_xml_read(const char *xml, size_t len, const char *what, xmlDoc **doc, struct az_error *err)
{
	const xmlError *e;
	xmlDoc *d;

	*doc = NULL;
	if (!xml || !len)
		return az_error_set(err, -EBADMSG, "%s: empty document", what);
	if (len > AZ_XML_MAX)
		return az_error_set(err, -EBADMSG, "%s: document larger than %llu bytes", what,
				    (unsigned long long)AZ_XML_MAX);
	/* NUL bytes mean UTF-16/32 or garbage; either would hide markup from the scan. */
	if (memchr(xml, '\0', len))
		return az_error_set(err, -EBADMSG, "%s: not a UTF-8 document", what);
	if (has_declarations(xml, len))
		return az_error_set(err, -EBADMSG, "%s: DOCTYPE or declarations are not accepted",
				    what);
	pthread_once(&xml_once, xml_init);
	/* Forcing UTF-8 stops an encoding declaration from disguising markup. */
	d = xmlReadMemory(xml, (int)len, NULL, "UTF-8",
			  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d) {
		e = xmlGetLastError();
		if (e && e->code == XML_ERR_NO_MEMORY)
			return az_error_set(err, -ENOMEM, "%s: out of memory parsing XML", what);
		return az_error_set(err, -EBADMSG, "%s: malformed XML (libxml2 error %d, line %d)",
				    what, e ? e->code : 0, e ? e->line : 0);
	}
	if (d->intSubset || d->extSubset || !xmlDocGetRootElement(d)) {
		xmlFreeDoc(d);
		return az_error_set(err, -EBADMSG, "%s: unexpected document structure", what);
	}
	*doc = d;
	return 0;
}

static bool is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is(n, name))
			return n;
	return NULL;
}

/*
 * The text of @n (NULL: "") as a malloc'd string of at most @max bytes.
 * Returns 0, -EBADMSG (too long) or -ENOMEM.
 */
static int text(const xmlNode *n, size_t max, char **out)
{
	xmlChar *c;
	size_t len;

	*out = NULL;
	c = n ? xmlNodeGetContent(n) : NULL;
	if (n && !c)
		return -ENOMEM;
	len = c ? strlen((const char *)c) : 0;
	if (len > max) {
		xmlFree(c);
		return -EBADMSG;
	}
	*out = strndup(c ? (const char *)c : "", len);
	xmlFree(c);
	return *out ? 0 : -ENOMEM;
}

/* Strict unsigned decimal. */
static int text_u64(const xmlNode *n, uint64_t *out)
{
	char *s = NULL;
	uint64_t v = 0;
	int rc = text(n, 32, &s);

	if (rc == 0 && !*s)
		rc = -EBADMSG;
	for (const char *p = s; rc == 0 && *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			rc = -EBADMSG;
		else
			v = v * 10 + d;
	}
	free(s);
	if (rc == 0)
		*out = v;
	return rc;
}

static int text_date(const xmlNode *n, struct timespec *out)
{
	char *s = NULL;
	time_t t;
	int rc = text(n, 64, &s);

	if (rc == 0 && util_parse_http_date(s, &t) < 0)
		rc = -EBADMSG;
	free(s);
	if (rc == 0) {
		out->tv_sec = t;
		out->tv_nsec = 0;
	}
	return rc;
}

/* <Name> or <Name Encoded="true"> (percent-encoded because XML cannot carry it). */
static int item_name(const xmlNode *item, char **out)
{
	xmlNode *n = child(item, "Name");
	xmlChar *enc;
	char *raw = NULL;
	int rc;

	*out = NULL;
	if (!n)
		return -EBADMSG;
	rc = text(n, 3 * NAME_MAX_BYTES, &raw);
	if (rc < 0)
		return rc;
	enc = xmlGetProp(n, BAD_CAST "Encoded");
	if (enc && xmlStrEqual(enc, BAD_CAST "true")) {
		*out = az_url_unescape(raw, strlen(raw));
		if (*out) {
			free(raw);
		} else {
			/* Not a name a path can hold: the caller leaves the entry out. */
			*out = raw;
			xmlFree(enc);
			return -EILSEQ;
		}
	} else {
		*out = raw;
	}
	xmlFree(enc);
	if (rc == 0 && (!**out || strlen(*out) > NAME_MAX_BYTES))
		rc = -EBADMSG;
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int item_meta(const xmlNode *m, struct meta_list *out)
{
	for (xmlNode *n = m ? m->children : NULL; n; n = n->next) {
		char *v = NULL;
		int rc;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* What the service lists for names XML cannot carry. */
		if (xmlStrEqual(n->name, BAD_CAST "x-ms-invalid-name"))
			continue;
		rc = text(n, META_VALUE_MAX, &v);
		if (rc == 0)
			rc = meta_append(out, (const char *)n->name, strlen((const char *)n->name),
					 v, strlen(v));
		free(v);
		if (rc < 0)
			return rc == -E2BIG ? -EBADMSG : rc;
	}
	return 0;
}

static int item_props(const xmlNode *p, struct az_item *it)
{
	xmlNode *n;
	char *s = NULL;
	int rc = 0;

	if (!p)
		return 0;
	if ((n = child(p, "Last-Modified")) && (rc = text_date(n, &it->mtime)) < 0)
		return rc;
	if ((n = child(p, "Creation-Time")) && (rc = text_date(n, &it->ctime)) < 0)
		return rc;
	if ((n = child(p, "Content-Length")) && (rc = text_u64(n, &it->size)) < 0)
		return rc;
	if ((n = child(p, "Etag"))) {
		rc = text(n, AZ_ETAG_MAX, &s);
		if (rc == 0)
			rc = az_etag_store(it->etag, s, strlen(s));
		free(s);
		if (rc < 0)
			return rc;
	}
	if ((n = child(p, "Content-Type"))) {
		rc = text(n, TEXT_MAX, &s);
		/* A type too long to keep is dropped, not an error. */
		if (rc == 0 && strlen(s) < sizeof(it->content_type))
			memcpy(it->content_type, s, strlen(s) + 1);
		free(s);
	}
	return rc;
}

void az_list_release(struct az_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		meta_list_release(&l->items[i].meta);
	}
	free(l->items);
	free(l->next_marker);
	free(l->undecodable_name);
	memset(l, 0, sizeof(*l));
}

static int add_item(const xmlNode *x, enum az_item_kind kind, struct az_list *l, size_t *cap)
{
	struct az_item *it;
	int rc;

	if (l->n >= AZ_MAX_LIST_RESULTS + 1)
		return -E2BIG;
	if (l->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct az_item *ni = realloc(l->items, ncap * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		l->items = ni;
		*cap = ncap;
	}
	it = &l->items[l->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	rc = item_name(x, &it->name);
	if (rc == -EILSEQ) {
		/* One bad name must not hide its whole folder: skip it, say which. */
		l->undecodable++;
		if (!l->undecodable_name)
			l->undecodable_name = TAKE_PTR(it->name);
		free(it->name);
		it->name = NULL;
		return 0;
	}
	if (rc < 0)
		return rc;
	l->n++; /* from here az_list_release() frees it */
	if (kind == AZ_ITEM_PREFIX)
		return 0;
	rc = item_props(child(x, "Properties"), it);
	if (rc == 0)
		rc = item_meta(child(x, "Metadata"), &it->meta);
	return rc;
}

/* Shared by both listings: @group holds elements named @elem (and BlobPrefix). */
static int parse_listing(const char *xml, size_t len, const char *what, const char *group,
			 const char *elem, enum az_item_kind kind, struct az_list *out,
			 struct az_error *err)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *g;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = az_xml_read(xml, len, what, &doc, err);
	if (rc < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is(root, "EnumerationResults")) {
		rc =
		    az_error_set(err, -EBADMSG, "%s: root element is not EnumerationResults", what);
		goto out;
	}
	g = child(root, group);
	for (xmlNode *n = g ? g->children : NULL; n; n = n->next) {
		size_t entry = out->n + 1;

		if (is(n, elem))
			rc = add_item(n, kind, out, &cap);
		else if (kind == AZ_ITEM_BLOB && is(n, "BlobPrefix"))
			rc = add_item(n, AZ_ITEM_PREFIX, out, &cap);
		else
			continue;
		if (rc == -E2BIG) {
			rc = az_error_set(err, -EBADMSG, "%s: more than %d entries", what,
					  AZ_MAX_LIST_RESULTS + 1);
			goto out;
		}
		if (rc < 0) {
			rc = az_error_set(err, rc, "%s: entry %zu is malformed", what, entry);
			goto out;
		}
	}
	rc = text(child(root, "NextMarker"), TEXT_MAX, &out->next_marker);
	if (rc < 0) {
		rc = az_error_set(err, rc, "%s: malformed NextMarker", what);
		goto out;
	}
	if (!*out->next_marker) {
		free(out->next_marker);
		out->next_marker = NULL;
	}
out:
	xmlFreeDoc(doc);
	if (rc < 0)
		az_list_release(out);
	return rc;
}

int az_parse_list_blobs(const char *xml, size_t len, struct az_list *out, struct az_error *err)
{
	return parse_listing(xml, len, "List Blobs", "Blobs", "Blob", AZ_ITEM_BLOB, out, err);
}

int az_parse_list_containers(const char *xml, size_t len, struct az_list *out, struct az_error *err)
{
	return parse_listing(xml, len, "List Containers", "Containers", "Container",
			     AZ_ITEM_CONTAINER, out, err);
}

void az_block_list_free(struct az_block *b, size_t n)
{
	for (size_t i = 0; b && i < n; i++)
		free(b[i].id);
	free(b);
}

int az_parse_block_list(const char *xml, size_t len, struct az_block **out, size_t *n,
			struct az_error *err)
{
	struct az_block *v = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = az_xml_read(xml, len, "Get Block List", &doc, err);
	if (rc < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is(root, "BlockList")) {
		rc = az_error_set(err, -EBADMSG, "Get Block List: root element is not BlockList");
		goto out;
	}
	for (xmlNode *b = child(child(root, "CommittedBlocks"), "Block"); b; b = b->next) {
		if (!is(b, "Block"))
			continue;
		if (cnt >= AZ_MAX_BLOCKS) {
			rc = az_error_set(err, -EBADMSG, "Get Block List: more than %d blocks",
					  AZ_MAX_BLOCKS);
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct az_block *nv = realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				rc = az_error_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt].size = 0;
		rc = text(child(b, "Name"), 1024, &v[cnt].id);
		if (rc < 0 || !child(b, "Name") || !*v[cnt].id) {
			free(v[cnt].id);
			rc = az_error_set(err, rc == -ENOMEM ? rc : -EBADMSG,
					  "Get Block List: block %zu has a bad name", cnt + 1);
			goto out;
		}
		cnt++;
		rc = text_u64(child(b, "Size"), &v[cnt - 1].size);
		if (rc < 0 || !child(b, "Size")) {
			rc = az_error_set(err, rc == -ENOMEM ? rc : -EBADMSG,
					  "Get Block List: block %zu has a bad size", cnt);
			goto out;
		}
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = 0;
out:
	az_block_list_free(v, cnt);
	xmlFreeDoc(doc);
	return rc;
}

/* Printable ASCII of the first line of @s, into @dst. */
static void copy_line(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s[i] && s[i] != '\n' && s[i] != '\r' && i < cap - 1; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? ' ' : s[i];
	dst[i] = '\0';
}

int az_parse_error(const char *xml, size_t len, struct az_error *err)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	char *s = NULL;
	int rc;

	/* The parse error must not overwrite a message the caller already holds. */
	struct az_error tmp;

	rc = az_xml_read(xml, len, "error body", &doc, &tmp);
	if (rc < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is(root, "Error")) {
		rc = -EBADMSG;
		goto out;
	}
	if (err) {
		rc = text(child(root, "Code"), TEXT_MAX, &s);
		if (rc < 0)
			goto out;
		copy_line(err->code, sizeof(err->code), s);
		for (char *p = err->code; *p; p++)
			if (*p == ' ') {
				*p = '\0';
				break;
			}
		free(s);
		rc = text(child(root, "Message"), TEXT_MAX, &s);
		if (rc < 0)
			goto out;
		copy_line(err->message, sizeof(err->message), s);
	}
out:
	free(s);
	xmlFreeDoc(doc);
	return rc;
}
