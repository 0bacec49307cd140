/* pcap writer: libpcap dump API over a dead Ethernet handle.
 * Flushed at most 100 ms after a frame (bounded loss if the process is
 * killed) and completely on close / at normal exit. */
#include "lwip_port/capture.h"
#include "lwss/config_defaults.h"
#include "lwip_port/internal.h"
#include "lwss/port.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>

#define FLUSH_INTERVAL_MS LWSS_PCAP_FLUSH_MS
#define PCAP_FILE_HEADER 24u
#define PCAP_RECORD_HEADER 16u
#define SNAPLEN 65535

struct lwss_capture {
    pthread_mutex_t lock;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint64_t max_bytes;
    uint64_t bytes;
    uint64_t frames;
    uint64_t last_flush_ms;
    int dirty;
};

int lwss_capture_open(lwss_capture **out, const char *path, uint64_t max_bytes)
{
    lwss_capture *cap = calloc(1, sizeof(*cap));
    if (cap == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "capture: out of memory");
    }
    cap->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN,
                                                      PCAP_TSTAMP_PRECISION_MICRO);
    if (cap->dead == NULL) {
        free(cap);
        return lwss_set_error(LWSS_ERR_PCAP, "capture: pcap_open_dead failed");
    }
    cap->dumper = pcap_dump_open(cap->dead, path);
    if (cap->dumper == NULL) {
        int rc = lwss_set_error(LWSS_ERR_PCAP, "capture: cannot open '%s': %s", path,
                                pcap_geterr(cap->dead));
        pcap_close(cap->dead);
        free(cap);
        return rc;
    }
    pthread_mutex_init(&cap->lock, NULL);
    cap->max_bytes = max_bytes;
    cap->bytes = PCAP_FILE_HEADER;
    pcap_dump_flush(cap->dumper); /* the file header is on disk from the start */
    cap->last_flush_ms = lwss_now_ms();
    *out = cap;
    return LWSS_OK;
}

static void flush_locked(lwss_capture *cap, uint64_t now)
{
    if (cap->dirty) {
        pcap_dump_flush(cap->dumper);
        cap->dirty = 0;
    }
    cap->last_flush_ms = now;
}

void lwss_capture_frame(lwss_capture *cap, const uint8_t *frame, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct pcap_pkthdr hdr = {
        .ts = tv,
        .caplen = (bpf_u_int32)(len > SNAPLEN ? SNAPLEN : len),
        .len = (bpf_u_int32)len,
    };
    pthread_mutex_lock(&cap->lock);
    uint64_t need = PCAP_RECORD_HEADER + hdr.caplen;
    if (cap->max_bytes == 0 || cap->bytes + need <= cap->max_bytes) {
        pcap_dump((u_char *)cap->dumper, &hdr, frame);
        cap->bytes += need;
        cap->frames++;
        cap->dirty = 1;
    }
    uint64_t now = lwss_now_ms();
    if (now - cap->last_flush_ms >= FLUSH_INTERVAL_MS) {
        flush_locked(cap, now);
    }
    pthread_mutex_unlock(&cap->lock);
}

void lwss_capture_tick(lwss_capture *cap)
{
    pthread_mutex_lock(&cap->lock);
    uint64_t now = lwss_now_ms();
    if (cap->dirty && now - cap->last_flush_ms >= FLUSH_INTERVAL_MS) {
        flush_locked(cap, now);
    }
    pthread_mutex_unlock(&cap->lock);
}

int lwss_capture_flush(lwss_capture *cap)
{
    pthread_mutex_lock(&cap->lock);
    cap->dirty = 1;
    flush_locked(cap, lwss_now_ms());
    int bad = ferror(pcap_dump_file(cap->dumper));
    pthread_mutex_unlock(&cap->lock);
    return bad ? lwss_set_error(LWSS_ERR_PCAP, "capture: write error") : LWSS_OK;
}

uint64_t lwss_capture_frames(lwss_capture *cap)
{
    pthread_mutex_lock(&cap->lock);
    uint64_t n = cap->frames;
    pthread_mutex_unlock(&cap->lock);
    return n;
}

void lwss_capture_close(lwss_capture *cap)
{
    if (cap == NULL) {
        return;
    }
    pcap_dump_close(cap->dumper); /* flushes */
    pcap_close(cap->dead);
    pthread_mutex_destroy(&cap->lock);
    free(cap);
}
