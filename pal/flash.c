/* Flash emulation: image file + RAM mirror + lock + power-cut hook. */
#include "pal/flash.h"

#include "src/core/core.h"
#include "lwss/status.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/platform_util.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct lwss_flash {
    int fd;              /* -1 for a memory-only flash */
    int writable;
    int created;
    int sync;            /* fdatasync at commit points */
    uint32_t size;
    uint8_t *mem;        /* the mirror: every read is served from here */
    lwss_flash_stats stats;
};

/* ---- power-cut hook (process-wide, test builds only) -------------------- */

#ifdef LWSS_TEST_HOOKS
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static int fault_armed;
static int fault_tripped;
static uint64_t fault_ops_ok;
static uint64_t fault_ops_seen;
static uint32_t fault_bytes_in_last;
static uint32_t fault_cut_len;

void lwss_flash_fault_arm(uint64_t ops_ok, uint32_t bytes_in_last)
{
    pthread_mutex_lock(&fault_lock);
    fault_armed = 1;
    fault_tripped = 0;
    fault_ops_ok = ops_ok;
    fault_ops_seen = 0;
    fault_bytes_in_last = bytes_in_last;
    pthread_mutex_unlock(&fault_lock);
}

void lwss_flash_fault_disarm(void)
{
    pthread_mutex_lock(&fault_lock);
    fault_armed = 0;
    fault_tripped = 0;
    pthread_mutex_unlock(&fault_lock);
}

int lwss_flash_fault_tripped(void)
{
    pthread_mutex_lock(&fault_lock);
    int t = fault_tripped;
    pthread_mutex_unlock(&fault_lock);
    return t;
}

uint64_t lwss_flash_fault_ops(void)
{
    pthread_mutex_lock(&fault_lock);
    uint64_t n = fault_ops_seen;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

uint32_t lwss_flash_fault_cut_len(void)
{
    pthread_mutex_lock(&fault_lock);
    uint32_t n = fault_cut_len;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

/* How many of @p len bytes the next operation may write: len, or fewer when
 * the armed cut falls on it, or 0 when power is already gone (-1). */
static int64_t fault_allow(uint32_t len)
{
    int64_t allow = len;
    pthread_mutex_lock(&fault_lock);
    if (fault_armed) {
        if (fault_tripped) {
            allow = -1;
        } else if (fault_ops_seen++ == fault_ops_ok) {
            fault_tripped = 1;
            fault_cut_len = len;
            allow = fault_bytes_in_last < len ? fault_bytes_in_last : len;
        }
    }
    pthread_mutex_unlock(&fault_lock);
    return allow;
}
#else
/* Release build: no hook, every operation is whole. */
static int64_t fault_allow(uint32_t len)
{
    return len;
}
#endif

/* ---- file I/O ----------------------------------------------------------- */

static int write_all(lwss_flash *fl, uint32_t off, uint32_t len)
{
    if (fl->fd < 0) {
        return 0;
    }
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fl->fd, fl->mem + off + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return lwss_set_error(LWSS_ERR_IO, "nvm: writing the image at %u: %s", off + done,
                                  n < 0 ? strerror(errno) : "short write");
        }
        done += (uint32_t)n;
    }
    return 0;
}

static int read_all(lwss_flash *fl)
{
    uint32_t done = 0;
    while (done < fl->size) {
        ssize_t n = pread(fl->fd, fl->mem + done, fl->size - done, (off_t)done);
        fl->stats.file_reads++;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return lwss_set_error(LWSS_ERR_IO, "nvm: reading the image: %s",
                                  n < 0 ? strerror(errno) : "file shrank while reading");
        }
        fl->stats.file_read_bytes += (uint64_t)n;
        done += (uint32_t)n;
    }
    return 0;
}

static int lock_bounded(int fd, int exclusive, unsigned lock_ms, const char *path)
{
    struct timespec pause = {0, 5 * 1000 * 1000};
    uint64_t deadline = lwss_now_ms() + lock_ms;
    for (;;) {
        if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return lwss_set_error(LWSS_ERR_IO, "nvm: cannot lock %s: %s", path, strerror(errno));
        }
        if (lwss_now_ms() >= deadline) {
            return lwss_set_error(LWSS_ERR_BUSY,
                                  "nvm: image %s is locked by another process (waited %u ms)",
                                  path, lock_ms);
        }
        nanosleep(&pause, NULL);
    }
}

/* Give a fresh (empty or cut short while created) file its size, all 0xFF
 * like erased flash.  Written front to back without sizing first: a cut
 * leaves a shorter all-0xFF file, which the next open extends. */
static int create_blank(lwss_flash *fl, uint32_t have, uint32_t size)
{
    if (size == 0 || size > LWSS_FLASH_MAX_SIZE || have > size) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: image size %u out of range", size);
    }
    fl->size = size;
    fl->mem = malloc(size);
    if (fl->mem == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: no memory for a %u-byte image", size);
    }
    memset(fl->mem, 0xFF, size);
    fl->created = 1;
    return write_all(fl, have, size - have);
}

/* Refuse what is no image file before reading or waiting on it: FIFOs,
 * sockets, devices, directories (also behind symlinks), and files that
 * group or others may write (anyone could plant a key, as ssh says). */
static int check_file(const struct stat *st, const char *path)
{
    const char *kind = S_ISFIFO(st->st_mode)   ? "a FIFO"
                       : S_ISSOCK(st->st_mode) ? "a socket"
                       : S_ISDIR(st->st_mode)  ? "a directory"
                       : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
                       : !S_ISREG(st->st_mode) ? "not a regular file"
                                               : NULL;
    if (kind != NULL) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: %s is %s, not an image file: refused", path,
                              kind);
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        return lwss_set_error(LWSS_ERR_PERM,
                              "nvm: %s: permissions %04o are too open: group or others may "
                              "write the credential image; refused (chmod go-w %s)",
                              path, (unsigned)(st->st_mode & 07777), path);
    }
    return 0;
}

static int all_erased(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

static int env_sync(void)
{
    const char *v = getenv("LWSS_NVM_SYNC");
    return !(v != NULL && strcmp(v, "0") == 0);
}

static int flash_attach(lwss_flash *fl, const char *path, unsigned flags, uint32_t create_size,
                        unsigned lock_ms)
{
    int writable = (flags & LWSS_FLASH_WRITE) != 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int oflags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;
    if (writable && (flags & LWSS_FLASH_CREATE)) {
        oflags |= O_CREAT;
    }
    struct stat st, now;
    int ret = stat(path, &st) == 0 ? check_file(&st, path) : 0;
    if (ret != 0) {
        return ret;
    }
    /* Another tool may replace the image by rename while we wait for the
     * lock: then the locked inode is no longer the image, so open again. */
    for (int tries = 0;; tries++) {
        fl->fd = open(path, oflags, 0600);
        if (fl->fd < 0) {
            return lwss_set_error(errno == EACCES ? LWSS_ERR_PERM : LWSS_ERR_IO,
                                  "nvm: cannot open %s: %s", path, strerror(errno));
        }
        ret = fstat(fl->fd, &st) != 0 ? lwss_set_error(LWSS_ERR_IO, "nvm: fstat %s: %s", path,
                                                       strerror(errno))
                                      : check_file(&st, path);
        if (ret == 0) {
            ret = lock_bounded(fl->fd, writable, lock_ms, path);
        }
        if (ret != 0) {
            return ret;
        }
        if (tries == 8 || fstat(fl->fd, &st) != 0 || stat(path, &now) != 0 ||
            (st.st_ino == now.st_ino && st.st_dev == now.st_dev)) {
            break;
        }
        close(fl->fd);
        fl->fd = -1;
    }
    if (fstat(fl->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: %s is not a regular file", path);
    }
    int create = writable && (flags & LWSS_FLASH_CREATE);
    if (st.st_size == 0 && create) {
        return create_blank(fl, 0, create_size);
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > LWSS_FLASH_MAX_SIZE) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: %s: size %lld is not a valid image size",
                              path, (long long)st.st_size);
    }
    fl->size = (uint32_t)st.st_size;
    fl->mem = malloc(fl->size);
    if (fl->mem == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: no memory for a %u-byte image", fl->size);
    }
    ret = read_all(fl);
    if (ret == 0 && create && fl->size < create_size && all_erased(fl->mem, fl->size)) {
        uint32_t have = fl->size; /* a creation that was cut: finish it */
        mbedtls_platform_zeroize(fl->mem, fl->size);
        free(fl->mem);
        fl->mem = NULL;
        ret = create_blank(fl, have, create_size);
    }
    return ret;
}

int lwss_flash_open(lwss_flash **out, const char *path, unsigned flags, uint32_t create_size,
                    unsigned lock_ms)
{
    int ret = LWSS_ERR_NOMEM;
    *out = NULL;
    lwss_flash *fl = calloc(1, sizeof(*fl));
    if (fl == NULL) {
        return lwss_set_error(ret, "nvm: out of memory");
    }
    fl->writable = (flags & LWSS_FLASH_WRITE) != 0;
    fl->sync = env_sync();
    ret = flash_attach(fl, path, flags, create_size, lock_ms);
    if (ret != 0) {
        lwss_flash_close(fl);
        return ret;
    }
    *out = fl;
    return 0;
}

int lwss_flash_open_mem(lwss_flash **out, const uint8_t *image, size_t len, int writable)
{
    *out = NULL;
    if (len == 0 || len > LWSS_FLASH_MAX_SIZE) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: image size %zu out of range", len);
    }
    lwss_flash *fl = calloc(1, sizeof(*fl));
    uint8_t *mem = malloc(len);
    if (fl == NULL || mem == NULL) {
        free(fl);
        free(mem);
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory");
    }
    memcpy(mem, image, len);
    fl->fd = -1;
    fl->writable = writable != 0;
    fl->mem = mem;
    fl->size = (uint32_t)len;
    *out = fl;
    return 0;
}

void lwss_flash_close(lwss_flash *fl)
{
    if (fl == NULL) {
        return;
    }
    if (fl->mem != NULL) {
        mbedtls_platform_zeroize(fl->mem, fl->size);
        free(fl->mem);
    }
    if (fl->fd >= 0) {
        close(fl->fd); /* releases the flock */
    }
    free(fl);
}

uint32_t lwss_flash_size(const lwss_flash *fl)
{
    return fl->size;
}

int lwss_flash_created(const lwss_flash *fl)
{
    return fl->created;
}

int lwss_flash_writable(const lwss_flash *fl)
{
    return fl->writable;
}

const uint8_t *lwss_flash_map(const lwss_flash *fl)
{
    return fl->mem;
}

static int check_range(const lwss_flash *fl, uint32_t off, uint32_t len)
{
    if (!fl->writable) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: image opened read-only");
    }
    if (off > fl->size || len > fl->size - off) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: flash access %u+%u beyond %u", off, len,
                              fl->size);
    }
    return 0;
}

static int power_cut(void)
{
    return lwss_set_error(LWSS_ERR_IO, "nvm: power cut (fault injection)");
}

/* One page-bounded program operation. */
static int program_page(lwss_flash *fl, uint32_t off, const uint8_t *src, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if ((fl->mem[off + i] & src[i]) != src[i]) {
            return lwss_set_error(LWSS_ERR_INVAL,
                                  "nvm: program at %u would turn bits 0 -> 1", off + i);
        }
    }
    int64_t allow = fault_allow(len);
    if (allow < 0) {
        return power_cut();
    }
    for (uint32_t i = 0; i < (uint32_t)allow; i++) {
        fl->mem[off + i] &= src[i];
    }
    fl->stats.programs++;
    fl->stats.program_bytes += (uint64_t)allow;
    int ret = write_all(fl, off, (uint32_t)allow);
    if (ret == 0 && (uint32_t)allow < len) {
        ret = power_cut();
    }
    return ret;
}

int lwss_flash_program(lwss_flash *fl, uint32_t off, const void *data, uint32_t len)
{
    int ret = check_range(fl, off, len);
    const uint8_t *src = data;
    while (ret == 0 && len > 0) {
        uint32_t room = LWSS_FLASH_PAGE - off % LWSS_FLASH_PAGE;
        uint32_t n = len < room ? len : room;
        ret = program_page(fl, off, src, n);
        off += n;
        src += n;
        len -= n;
    }
    return ret;
}

int lwss_flash_erase(lwss_flash *fl, uint32_t off, uint32_t len)
{
    int ret = check_range(fl, off, len);
    if (ret != 0) {
        return ret;
    }
    int64_t allow = fault_allow(len);
    if (allow < 0) {
        return power_cut();
    }
    /* An interrupted erase has reset a prefix of the range. */
    memset(fl->mem + off, 0xFF, (size_t)allow);
    fl->stats.erases++;
    fl->stats.erase_bytes += (uint64_t)allow;
    ret = write_all(fl, off, (uint32_t)allow);
    if (ret == 0 && (uint32_t)allow < len) {
        ret = power_cut();
    }
    return ret;
}

int lwss_flash_sync(lwss_flash *fl)
{
    if (fl->fd < 0 || !fl->sync || !fl->writable) {
        return 0;
    }
    fl->stats.syncs++;
    if (fdatasync(fl->fd) != 0) {
        return lwss_set_error(LWSS_ERR_IO, "nvm: fdatasync: %s", strerror(errno));
    }
    return 0;
}

void lwss_flash_get_stats(const lwss_flash *fl, lwss_flash_stats *out)
{
    *out = fl->stats;
}
