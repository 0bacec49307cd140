/* Encoding and decoding of sector and record headers (see layout.h). */
#include "pal/layout.h"

#include "lwss/nvm.h"
#include "pal/crc32.h"

#include <string.h>

static const uint8_t sector_magic[4] = {'L', 'W', 'N', 'V'};
static const uint8_t record_magic[4] = {'L', 'W', 'R', 'C'};

uint32_t lwss_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void lwss_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void lwss_shdr_encode_static(uint8_t out[LWSS_NVM_SHDR_STATIC], uint32_t image_size,
                             uint32_t sector_size, uint32_t erase_count)
{
    memcpy(out, sector_magic, 4);
    out[4] = (uint8_t)LWSS_NVM_FMT_VERSION;
    out[5] = (uint8_t)(LWSS_NVM_FMT_VERSION >> 8);
    out[6] = (uint8_t)LWSS_NVM_SHDR_SIZE;
    out[7] = 0;
    lwss_put_le32(out + 8, image_size);
    lwss_put_le32(out + 12, sector_size);
    lwss_put_le32(out + 16, erase_count);
    lwss_put_le32(out + 20, lwss_crc32(0, out, 20));
}

void lwss_shdr_encode_seq(uint8_t out[8], const uint8_t *static_part, uint32_t seq)
{
    uint8_t covered[8];
    memcpy(covered, static_part + 20, 4);
    lwss_put_le32(covered + 4, seq);
    lwss_put_le32(out, seq);
    lwss_put_le32(out + 4, lwss_crc32(0, covered, 8));
}

void lwss_shdr_decode(const uint8_t *in, lwss_shdr *out)
{
    memset(out, 0, sizeof(*out));
    out->magic_ok = memcmp(in, sector_magic, 4) == 0;
    out->version = (uint16_t)(in[4] | in[5] << 8);
    out->image_size = lwss_le32(in + 8);
    out->sector_size = lwss_le32(in + 12);
    out->erase_count = lwss_le32(in + 16);
    out->static_ok = out->magic_ok && lwss_le32(in + 20) == lwss_crc32(0, in, 20);
    out->seq = lwss_le32(in + 24);
    uint32_t seq_crc = lwss_le32(in + 28);
    if (out->seq == LWSS_NVM_SEQ_NONE && seq_crc == 0xFFFFFFFFu) {
        out->seq_state = 0;
    } else {
        out->seq_state = seq_crc == lwss_crc32(0, in + 20, 8) ? 1 : -1;
    }
    out->obsolete = in[LWSS_NVM_SHDR_OBSOLETE_OFF] == 0x00;
}

void lwss_rhdr_encode(uint8_t out[LWSS_NVM_RHDR_SIZE], const lwss_rhdr *h)
{
    memcpy(out, record_magic, 4);
    lwss_put_le32(out + 4, h->seq);
    out[8] = h->type;
    out[9] = h->label_len;
    out[10] = h->id_len;
    out[11] = h->flags;
    lwss_put_le32(out + 12, h->cls);
    lwss_put_le32(out + 16, h->key_type);
    lwss_put_le32(out + 20, h->data_len);
    lwss_put_le32(out + 24, h->body_crc);
    lwss_put_le32(out + 28, lwss_crc32(0, out, 28));
}

int lwss_rhdr_decode(const uint8_t *in, lwss_rhdr *out)
{
    if (memcmp(in, record_magic, 4) != 0 || lwss_le32(in + 28) != lwss_crc32(0, in, 28)) {
        return 0;
    }
    out->seq = lwss_le32(in + 4);
    out->type = in[8];
    out->label_len = in[9];
    out->id_len = in[10];
    out->flags = in[11];
    out->cls = lwss_le32(in + 12);
    out->key_type = lwss_le32(in + 16);
    out->data_len = lwss_le32(in + 20);
    out->body_crc = lwss_le32(in + 24);
    /* A header can be intact and still nonsensical (bit flips that happen
     * to match, or a hostile image): refuse what no writer produces. */
    int commit = out->type == LWSS_NVM_REC_COMMIT;
    if ((out->type != LWSS_NVM_REC_PUT && out->type != LWSS_NVM_REC_DEL && !commit) ||
        out->label_len == 0 || out->label_len > LWSS_NVM_LABEL_MAX ||
        out->id_len > LWSS_NVM_ID_MAX || out->data_len > LWSS_NVM_MAX_SECTOR ||
        (out->flags & ~(LWSS_NVM_FLAG_PRIVATE | LWSS_NVM_FLAG_TXN)) != 0 ||
        out->cls == LWSS_NVM_ANY_CLASS ||
        (out->type != LWSS_NVM_REC_PUT && out->data_len != 0) ||
        (commit && (out->flags != 0 || out->id_len != 0 || out->key_type >= out->seq))) {
        return 0;
    }
    return 1;
}

uint32_t lwss_rec_body_len(const lwss_rhdr *h)
{
    return (uint32_t)h->label_len + h->id_len + h->data_len;
}

uint32_t lwss_rec_extent(const lwss_rhdr *h)
{
    return LWSS_NVM_RHDR_SIZE + ((lwss_rec_body_len(h) + 3u) & ~3u);
}
