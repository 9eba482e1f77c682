/*
 * posixmeta.c - POSIX attributes in blob metadata, both ways: what a
 * listing or a Get Blob Properties says about a name (folder markers,
 * symlinks, special files, mode, uid, gid, mtime) and the metadata a
 * commit sends for a node's attributes. One table of keys serves both.
 *
 *   hdi_isfolder=true   a folder marker (blobfuse2's convention)
 *   is_symlink=true     a symlink; the blob holds the target
 *   file_type=          fifo | socket | char | block (0-byte blob)
 *   rdev=               a device's number, decimal (makedev())
 *   mode=               octal permission bits; uid=, gid= decimal (only
 *                       when not the mount's defaults)
 *   mtime=              ISO 8601 UTC with nanoseconds (also rclone's key)
 */
#include "azblobfs/common.h"
#include "azblobfs/engine.h"
#include "azblobfs/timeutil.h"
#include "eng_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool meta_true(const struct meta_list *m, const char *name)
{
	const char *v = meta_get(m, name);

	return v && !strcasecmp(v, "true");
}

/* The metadata keys this filesystem interprets; anything else is "extra". */
static const char *const own_keys[] = {"mode",         "uid",        "gid",       "mtime",
				       "hdi_isfolder", "is_symlink", "file_type", "rdev"};

/* Special files: a 0-byte blob, its type in file_type (and devices' number in rdev). */
static const struct {
	uint8_t type;
	const char *name;
} file_types[] = {
    {CACHE_T_FIFO, "fifo"},
    {CACHE_T_SOCK, "socket"},
    {CACHE_T_CHR, "char"},
    {CACHE_T_BLK, "block"},
};

const char *eng_file_type_name(uint8_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_types); i++)
		if (file_types[i].type == type)
			return file_types[i].name;
	return NULL;
}

/* A special file's type from its metadata; CACHE_T_FILE for none or an unknown one. */
static uint8_t special_type(const struct meta_list *m, uint32_t *rdev)
{
	const char *v = meta_get(m, "file_type");
	uint8_t type = CACHE_T_FILE;
	char *end;

	*rdev = 0;
	for (size_t i = 0; v && i < ARRAY_SIZE(file_types); i++)
		if (!strcasecmp(v, file_types[i].name))
			type = file_types[i].type;
	v = meta_get(m, "rdev");
	if (v && (type == CACHE_T_CHR || type == CACHE_T_BLK)) {
		unsigned long long d = strtoull(v, &end, 10);
		if (end != v && !*end && *v != '-' && d <= UINT32_MAX)
			*rdev = (uint32_t)d;
	}
	return type;
}

bool eng_meta_is_own(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_keys); i++)
		if (!strcasecmp(name, own_keys[i]))
			return true;
	return false;
}

/* A decimal uid or gid from metadata @v (may be NULL); false leaves @out alone. */
static bool parse_id(const char *v, uint32_t *out)
{
	char *end;
	unsigned long id;

	if (!v)
		return false;
	id = strtoul(v, &end, 10);
	if (end == v || *end || id >= UINT32_MAX)
		return false;
	*out = (uint32_t)id;
	return true;
}

/* Apply the POSIX metadata this filesystem (and rclone, for mtime) writes. */
static void apply_posix_meta(const struct meta_list *m, struct cache_attr *a)
{
	const char *v;
	char *end;

	v = meta_get(m, "mode");
	if (v) {
		unsigned long mode = strtoul(v, &end, 8);
		if (end != v && !*end && mode <= 07777) {
			a->mode = (uint32_t)mode;
			a->flags |= CACHE_F_MODE;
		}
	}
	if (parse_id(meta_get(m, "uid"), &a->uid))
		a->flags |= CACHE_F_UID;
	if (parse_id(meta_get(m, "gid"), &a->gid))
		a->flags |= CACHE_F_GID;
	v = meta_get(m, "mtime");
	if (v && !util_parse_iso8601(v, &a->mtime))
		a->flags |= CACHE_F_MTIME;
	for (size_t i = 0; i < m->n; i++)
		if (!eng_meta_is_own(m->items[i].name))
			a->flags |= CACHE_F_XMETA;
}

void eng_item_to_attr(const struct az_item *it, struct cache_attr *out)
{
	memset(out, 0, sizeof(*out));
	out->mtime = it->mtime;
	out->ctime = it->ctime.tv_sec ? it->ctime : it->mtime;
	switch (it->kind) {
	case AZ_ITEM_PREFIX:
		out->type = CACHE_T_DIR;
		out->flags = CACHE_F_PREFIX;
		return;
	case AZ_ITEM_CONTAINER:
		out->type = CACHE_T_DIR;
		out->flags = CACHE_F_CONTAINER;
		cache_etag_copy(out->etag, it->etag);
		return;
	case AZ_ITEM_BLOB:
		break;
	}
	cache_etag_copy(out->etag, it->etag);
	out->size = it->size;
	if (meta_true(&it->meta, "hdi_isfolder")) {
		out->type = CACHE_T_DIR;
		out->flags = CACHE_F_MARKER;
		out->size = 0;
	} else if (meta_true(&it->meta, "is_symlink")) {
		out->type = CACHE_T_LINK;
	} else {
		out->type = special_type(&it->meta, &out->rdev);
	}
	apply_posix_meta(&it->meta, out);
}

void eng_props_to_attr(const struct az_props *p, struct cache_attr *out)
{
	struct az_item it = {
	    .kind = AZ_ITEM_BLOB,
	    .size = p->size,
	    .mtime = p->mtime,
	    .meta = p->meta,
	};

	memcpy(it.etag, p->etag, sizeof(it.etag));
	eng_item_to_attr(&it, out);
}

static int set_num(struct meta_list *m, const char *key, bool octal, unsigned long v)
{
	char buf[32];

	if (octal)
		snprintf(buf, sizeof(buf), "%04lo", v);
	else
		snprintf(buf, sizeof(buf), "%lu", v);
	return meta_set(m, key, buf);
}

/* Every key of @extra that is not ours, then ours as @a says. */
int eng_posix_meta_encode(const struct cache_attr *a, const struct meta_list *extra,
			  uint32_t default_uid, uint32_t default_gid, struct meta_list *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; extra && i < extra->n && !rc; i++)
		if (!eng_meta_is_own(extra->items[i].name))
			rc = meta_set(out, extra->items[i].name, extra->items[i].value);
	if (!rc && (a->flags & CACHE_F_MODE))
		rc = set_num(out, "mode", true, a->mode & 07777);
	if (!rc && (a->flags & CACHE_F_UID) && a->uid != default_uid)
		rc = set_num(out, "uid", false, a->uid);
	if (!rc && (a->flags & CACHE_F_GID) && a->gid != default_gid)
		rc = set_num(out, "gid", false, a->gid);
	if (!rc && (a->flags & CACHE_F_MTIME)) {
		char buf[UTIL_ISO8601_LEN];
		util_format_iso8601(&a->mtime, buf);
		rc = meta_set(out, "mtime", buf);
	}
	if (!rc && a->type == CACHE_T_DIR)
		rc = meta_set(out, "hdi_isfolder", "true");
	if (!rc && a->type == CACHE_T_LINK)
		rc = meta_set(out, "is_symlink", "true");
	if (!rc && eng_file_type_name(a->type))
		rc = meta_set(out, "file_type", eng_file_type_name(a->type));
	if (!rc && (a->type == CACHE_T_CHR || a->type == CACHE_T_BLK))
		rc = set_num(out, "rdev", false, a->rdev);
	if (rc)
		meta_list_release(out);
	return rc;
}
