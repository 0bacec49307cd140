/* mbedtls -> SOCKETS_TLS_* translation, done once here; details kept for diagnosis. */
#include "src/tls/tls_internal.h"
#include "src/core/core.h"
#include "lwss/status.h"

#include <mbedtls/error.h>

#include <stdarg.h>
#include <stdio.h>

int32_t lwss_tls_record_error(lwss_tls_conn *c, int mbed_ret, int32_t code, const char *what)
{
    char msg[128];
    c->last_error = mbed_ret;
    mbedtls_strerror(mbed_ret, msg, sizeof(msg));
    lwss_set_error(LWSS_ERR_IO, "TLS %s failed: -0x%04x %s", what, (unsigned)-mbed_ret, msg);
    return code;
}

int32_t lwss_tls_fail(int32_t code, int mbed_ret, const char *fmt, ...)
{
    char what[160];
    char msg[128] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (mbed_ret != 0) {
        mbedtls_strerror(mbed_ret, msg, sizeof(msg));
        lwss_set_error(LWSS_ERR_IO, "TLS: %s: -0x%04x %s", what, (unsigned)-mbed_ret, msg);
    } else {
        lwss_set_error(LWSS_ERR_IO, "TLS: %s", what);
    }
    return code;
}

int lwss_tls_last_error(const lwss_tls_conn *c, char *msg, size_t msg_len)
{
    int err = c == NULL ? 0 : c->last_error;
    if (msg != NULL && msg_len > 0) {
        if (err == 0) {
            msg[0] = '\0';
        } else {
            mbedtls_strerror(err, msg, msg_len);
        }
    }
    return err;
}
