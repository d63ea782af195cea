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

static void
lookups(const struct cap_config *c)
{
    struct cap_addr a;
    memset(&a, 0, sizeof a);
    a.family = AF_INET;
    a.ip[0] = 127;
    a.ip[3] = 2;
    (void)cap_config_trunk_by_addr(c, &a);
    for (size_t i = 0; i < c->trunks.n; i++) {
        const struct cdr_trunk *t = &c->trunks.items[i];
        if (t->sid == NULL || t->sid[0] == '\0')
            abort();
        if (t->termination_domain != NULL &&
            cap_config_trunk_by_domain(c, t->termination_domain,
                                       strlen(t->termination_domain)) == NULL)
            abort(); /* a trunk is found by its own domain */
        for (size_t j = 0; j < t->n_carrier_addresses; j++) {
            a.family = t->carrier_addresses[j].family;
            memcpy(a.ip, t->carrier_addresses[j].ip, 16);
            if (cap_config_trunk_by_addr(c, &a) == NULL)
                abort(); /* a network contains its own address */
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cap_config *c = NULL;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    int rc = cap_config_parse(&c, copy, size, "fuzz.yaml", &errs);
    free(copy);
    if (rc != 0) {
        if (c != NULL || errs.count + errs.dropped == 0)
            abort();
        char buf[1024];
        for (size_t i = 0; i < errs.count; i++)
            cdr_diag_format(&errs.items[i], buf, sizeof buf);
    } else {
        if (errs.count != 0)
            abort();
        lookups(c);
    }
    cdr_diag_list_free(&errs);
    cap_config_free(c);
    return 0;
}
