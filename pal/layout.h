/*
 * On-image format of the NVM log (format version 1).  All integers are
 * little-endian.
 *
 * Every sector starts with a 40-byte sector header that doubles as the image
 * header (any valid one gives magic, version and geometry):
 *   0 "LWNV"  4 u16 version  6 u16 header size  8 u32 image size
 *  12 u32 sector size  16 u32 erase count  20 u32 CRC of bytes 0..19
 *  24 u32 sector sequence (0xFFFFFFFF: erased, not in the log yet)
 *  28 u32 CRC of bytes 20..27      32 u8 0x00 = obsolete (being collected)
 * The static part (0..23) is programmed right after an erase, the sequence
 * (24..31) when the sector joins the log, the obsolete mark before its erase.
 *
 * Records follow, 4-byte aligned, never rewritten:
 *   0 "LWRC"  4 u32 sequence  8 u8 type ('P' put, 'D' delete, 'C' commit)
 *   9 u8 label len  10 u8 id len  11 u8 flags (1 = private, 2 = transaction)
 *  12 u32 class  16 u32 key type  20 u32 value len  24 u32 CRC of the body
 *  28 u32 CRC of bytes 0..27
 * then the body: label, id, value (padding stays 0xFF).
 *
 * Transactions (added without a version change: images written before them
 * hold neither flag 2 nor 'C' records and read unchanged): a put or delete
 * with flag 2 counts only when a commit record covers its sequence.  A
 * commit record ('C', label "txn", class 0, no id, no value) with sequence
 * S and key-type field F covers the sequences F..S-1.  It is written (and
 * synced) after every record of its transaction.  The collector copies a
 * committed record with flag 2 cleared (same sequence, same body), and
 * keeps commit records whenever it collects a sector that is not the
 * oldest, so a commit never disappears before the records it covers.
 * Builds older than transactions skip flag-2 and 'C' records as damage.
 */
#ifndef LWSS_PAL_LAYOUT_H
#define LWSS_PAL_LAYOUT_H

#include <stdint.h>

#define LWSS_NVM_FMT_VERSION 1u
#define LWSS_NVM_SHDR_SIZE 40u
#define LWSS_NVM_SHDR_STATIC 24u
#define LWSS_NVM_SHDR_SEQ_OFF 24u
#define LWSS_NVM_SHDR_OBSOLETE_OFF 32u
#define LWSS_NVM_RHDR_SIZE 32u
#define LWSS_NVM_SEQ_NONE 0xFFFFFFFFu
#define LWSS_NVM_REC_PUT 'P'
#define LWSS_NVM_REC_DEL 'D'
#define LWSS_NVM_FLAG_PRIVATE 1u
#define LWSS_NVM_FLAG_TXN 2u
#define LWSS_NVM_REC_COMMIT 'C'
/** Label of commit records. */
#define LWSS_NVM_COMMIT_LABEL "txn"
/** Whole size of a commit record. */
#define LWSS_NVM_COMMIT_EXTENT (LWSS_NVM_RHDR_SIZE + 4u)
/** Smallest and largest sector the format accepts. */
#define LWSS_NVM_MIN_SECTOR 512u
#define LWSS_NVM_MAX_SECTOR (1024u * 1024u)
/** Fewest sectors: one in use, one to append to, one kept free for collection. */
#define LWSS_NVM_MIN_SECTORS 3u

/** A decoded sector header. */
typedef struct lwss_shdr {
    int magic_ok;          /**< "LWNV" present */
    int static_ok;         /**< magic and CRC of the static part good */
    uint16_t version;
    uint32_t image_size, sector_size, erase_count;
    int seq_state;         /**< 0 erased (not in the log), 1 valid, -1 torn/bad */
    uint32_t seq;
    int obsolete;          /**< marked for erase by the collector */
} lwss_shdr;

/** A decoded record header. */
typedef struct lwss_rhdr {
    uint32_t seq;
    uint8_t type, label_len, id_len, flags;
    uint32_t cls, key_type, data_len, body_crc;
} lwss_rhdr;

uint32_t lwss_le32(const uint8_t *p);
void lwss_put_le32(uint8_t *p, uint32_t v);

/** Static part of a sector header (bytes 0..23). */
void lwss_shdr_encode_static(uint8_t out[LWSS_NVM_SHDR_STATIC], uint32_t image_size,
                             uint32_t sector_size, uint32_t erase_count);
/** Sequence part (bytes 24..31); @p static_part is the sector's bytes 0..23. */
void lwss_shdr_encode_seq(uint8_t out[8], const uint8_t *static_part, uint32_t seq);
/** Decode the 40 bytes at @p in. */
void lwss_shdr_decode(const uint8_t *in, lwss_shdr *out);

/** Encode a record header (computes its own CRC; body_crc must be set). */
void lwss_rhdr_encode(uint8_t out[LWSS_NVM_RHDR_SIZE], const lwss_rhdr *h);
/** @return 1 when the 32 bytes at @p in are a valid record header. */
int lwss_rhdr_decode(const uint8_t *in, lwss_rhdr *out);
/** Body length (label + id + value) and whole aligned size of a record. */
uint32_t lwss_rec_body_len(const lwss_rhdr *h);
/** @see lwss_rec_body_len */
uint32_t lwss_rec_extent(const lwss_rhdr *h);

#endif
