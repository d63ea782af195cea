#include "cdr/capture/cap_cli.h"

int
main(int argc, char **argv)
{
    return cap_cli_main(argc, argv);
}
