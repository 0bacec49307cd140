/* Hooks into the open NVM store for lwss's own tests, bench and tools. */
#ifndef LWSS_PAL_NVM_INTERNAL_H
#define LWSS_PAL_NVM_INTERNAL_H

#include "pal/flash.h"
#include "pal/store.h"

/** Collect the oldest sector now.  @return 0 or a negative lwss_status. */
int lwss_nvm_collect(void);

/** Counters of the open image's flash.  @return 0, or LWSS_ERR_STATE when closed. */
int lwss_nvm_flash_stats(lwss_flash_stats *out);

/**
 * Copy what the store knows of each sector (at most @p max) into @p out;
 * @p nsec receives the number of sectors.  @return 0 or LWSS_ERR_STATE.
 */
int lwss_nvm_sector_info(lwss_store_sector *out, uint32_t max, uint32_t *nsec);

#endif
