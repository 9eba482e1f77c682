/*
 * req.c - struct net_req set-up and release, outcome names. The HTTP
 * message itself (headers, results) is util's struct http_msg.
 */
#include "azblobfs/common.h"
#include "azblobfs/net.h"
#include "net_i.h"

#include <string.h>

void net_req_init(struct net_req *r)
{
	memset(r, 0, sizeof(*r));
	http_msg_init(&r->msg);
	r->body_fd = -1;
	r->body_dfd = -1;
	list_init(&r->node);
}

void net_req_release(struct net_req *r)
{
	if (!r)
		return;
	http_msg_release(&r->msg);
}

const char *net_outcome_name(enum net_outcome o)
{
	static const char *const names[] = {"ok", "client_error", "server_error", "network_error",
					    "cancelled"};

	return (unsigned)o < ARRAY_SIZE(names) ? names[o] : "unknown";
}
