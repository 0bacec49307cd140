/* Hooks into the open NVM store for lwss's own tests, bench and tools. */
#ifndef LWSS_PAL_NVM_INTERNAL_H
#define LWSS_PAL_NVM_INTERNAL_H

#include "pal/flash.h"

/** Collect the oldest sector now.  @return 0 or a negative lwss_status. */
int lwss_nvm_collect(void);

/** Counters of the open image's flash.  @return 0, or LWSS_ERR_STATE when closed. */
int lwss_nvm_flash_stats(lwss_flash_stats *out);

#endif
