#include "rating/cli/rt_cli.h"

int
main(int argc, char **argv)
{
    return rt_cli_main(argc, argv);
}
