/* Built against an installed lwss through pkg-config by `make test-install`. */
#include <lwss/port.h>
#include <stdio.h>

int main(void)
{
    lwss_port_config cfg;
    lwss_port_config_default(&cfg);
    if (lwss_port_config_from_env(&cfg) != LWSS_OK) {
        fprintf(stderr, "%s\n", lwss_last_error());
        return 1;
    }
    printf("lwss client built: default TAP %s\n", cfg.tap);
    return 0;
}
