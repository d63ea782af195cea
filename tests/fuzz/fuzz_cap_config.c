/*
 * Fuzz target: deck YAML bytes -> the capture feeder's trunk settings
 * (cap_config_parse), then every lookup on what it accepted.
 */
#include "cdr/capture/track/cap_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cap_config *c = NULL;
    struct cdr_diag d;
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    int rc = cap_config_parse(&c, copy, size, "fuzz.yaml", &d);
    free(copy);
    if (rc != 0) {
        if (c != NULL || d.code == 0)
            abort();
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        return 0;
    }
    struct cap_addr a;
    memset(&a, 0, sizeof a);
    a.family = AF_INET;
    a.ip[0] = 127;
    a.ip[3] = 2;
    (void)cap_config_trunk_by_addr(c, &a);
    for (size_t i = 0; i < c->ntrunks; i++) {
        const struct cap_trunk *t = &c->trunks[i];
        if (t->sid[0] == '\0' || memchr(t->sid, 0, sizeof t->sid) == NULL)
            abort();
        (void)cap_config_trunk_by_domain(c, t->termination_domain,
                                         strlen(t->termination_domain));
        for (size_t j = 0; j < t->nnets; j++) {
            a.family = t->nets[j].family;
            memcpy(a.ip, t->nets[j].ip, 16);
            if (cap_config_trunk_by_addr(c, &a) == NULL)
                abort(); /* a network contains its own address */
        }
    }
    cap_config_free(c);
    return 0;
}
