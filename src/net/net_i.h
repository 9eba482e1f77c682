/*
 * net_i.h - private to src/net.
 */
#ifndef AZBLOBFS_NET_I_H
#define AZBLOBFS_NET_I_H

#include "azblobfs/net.h"

/*
 * File bodies (body_fd), read by a thread of their own so that the engine
 * thread never waits on a disk (bodyread.c).
 */
struct body_reader;
int body_reader_new(struct net *n, struct body_reader **out);
void body_reader_free(struct body_reader *br); /* after every request let go */
/*
 * curl's read callback for a file body: up to @n bytes at r->sent into
 * @out (r->sent advanced), CURL_READFUNC_PAUSE until the reader has them
 * (it resumes the transfer), or CURL_READFUNC_ABORT with r->err set.
 * @br NULL: read here, synchronously. Engine thread.
 */
size_t body_read(struct body_reader *br, struct net_req *r, char *out, size_t n);
/* The request is done with its body: free what body_read() kept. Engine thread. */
void body_release(struct body_reader *br, struct net_req *r);

#endif
