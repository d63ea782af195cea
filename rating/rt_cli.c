#include "rating/rt_cli.h"

#include <stdio.h>

int
rt_cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "referee-rate: not implemented yet\n");
    return RT_EXIT_FAILURE;
}
