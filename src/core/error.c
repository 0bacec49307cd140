/* Status strings and the per-thread "last error" detail. */
#include "lwss/status.h"
#include "src/core/core.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[256];

const char *lwss_strerror(int status)
{
    switch (status) {
    case LWSS_OK: return "success";
    case LWSS_ERR_INVAL: return "invalid argument";
    case LWSS_ERR_NOTAP: return "no such TAP device";
    case LWSS_ERR_PERM: return "permission denied";
    case LWSS_ERR_BUSY: return "busy (already up or in use)";
    case LWSS_ERR_NOMEM: return "out of memory";
    case LWSS_ERR_IO: return "I/O error";
    case LWSS_ERR_PCAP: return "packet capture error";
    case LWSS_ERR_STATE: return "wrong state for this call";
    case LWSS_ERR_TIMEOUT: return "timed out";
    default: return "unknown error";
    }
}

const char *lwss_last_error(void)
{
    return last_error;
}

int lwss_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return status;
}

void lwss_clear_error(void)
{
    last_error[0] = '\0';
}
