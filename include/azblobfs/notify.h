/*
 * notify.h - systemd's readiness protocol without libsystemd: one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET ("@" means the abstract
 * namespace).
 *
 * Layer: util. Thread-safe.
 */
#ifndef AZBLOBFS_NOTIFY_H
#define AZBLOBFS_NOTIFY_H

#include "common.h"

/*
 * Send @state ("READY=1", "STOPPING=1", "STATUS=..."). Returns 1 when
 * sent, 0 when $NOTIFY_SOCKET is not set, or -errno.
 */
int util_sd_notify(const char *state);

#endif
