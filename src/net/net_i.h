/*
 * net_i.h - private to src/net.
 */
#ifndef AZBLOBFS_NET_I_H
#define AZBLOBFS_NET_I_H

#include "azblobfs/net.h"

/* Forget what a previous attempt received: headers, body, status, err. */
void net_req_clear_response(struct net_req *r);

/* Store one raw response header line (CRLF stripped); status lines reset. */
void net_req_add_resp_header(struct net_req *r, const char *line, size_t len);

#endif
