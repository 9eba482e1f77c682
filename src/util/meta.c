/*
 * meta.c - lists of blob metadata (name/value pairs).
 *
 * Names compare case-insensitively, as the service treats them; the list
 * keeps the case it was given. Lists are small (META_MAX_PAIRS), so a plain
 * array with linear search is the right structure.
 */
#include "azblobfs/common.h"
#include "azblobfs/meta.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

void meta_list_release(struct meta_list *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].name);
		free(m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

static ssize_t find(const struct meta_list *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcasecmp(m->items[i].name, name))
			return (ssize_t)i;
	return -1;
}

const char *meta_get(const struct meta_list *m, const char *name)
{
	ssize_t i;

	if (!m)
		return NULL;
	i = find(m, name);
	return i < 0 ? NULL : m->items[i].value;
}

bool meta_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 256 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

bool meta_value_valid(const char *v)
{
	for (; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

int meta_append(struct meta_list *m, const char *name, size_t name_len, const char *value,
		size_t value_len)
{
	struct meta_pair *items;
	char *n, *v;

	if (m->n >= META_MAX_PAIRS)
		return -E2BIG;
	n = strndup(name, name_len);
	v = strndup(value, value_len);
	items = n && v ? realloc(m->items, (m->n + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	m->items = items;
	m->items[m->n].name = n;
	m->items[m->n].value = v;
	m->n++;
	return 0;
}

int meta_set(struct meta_list *m, const char *name, const char *value)
{
	char *n, *v;
	ssize_t i;

	/* An empty value cannot be sent: curl drops "Name:" lines. */
	if (!meta_name_valid(name) || !*value || !meta_value_valid(value) ||
	    strlen(value) > META_VALUE_MAX)
		return -EINVAL;
	i = find(m, name);
	if (i < 0)
		return meta_append(m, name, strlen(name), value, strlen(value));
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	free(m->items[i].name);
	free(m->items[i].value);
	m->items[i].name = n;
	m->items[i].value = v;
	return 0;
}

void meta_del(struct meta_list *m, const char *name)
{
	ssize_t i = find(m, name);

	if (i < 0)
		return;
	free(m->items[i].name);
	free(m->items[i].value);
	memmove(&m->items[i], &m->items[i + 1], (m->n - (size_t)i - 1) * sizeof(m->items[0]));
	m->n--;
}

int meta_copy(struct meta_list *dst, const struct meta_list *src)
{
	struct meta_list tmp = {0};
	int r;

	for (size_t i = 0; src && i < src->n; i++) {
		r = meta_append(&tmp, src->items[i].name, strlen(src->items[i].name),
				src->items[i].value, strlen(src->items[i].value));
		if (r < 0) {
			meta_list_release(&tmp);
			return r;
		}
	}
	meta_list_release(dst);
	*dst = tmp;
	return 0;
}
