/*
 * referee-capture's command line.  Lives in the library so tests can run it.
 */
#ifndef REFEREE_CAP_CLI_H
#define REFEREE_CAP_CLI_H

/* Exit codes (contract, documented in --help, the man page and README). */
enum cap_exit {
    CAP_EXIT_OK = 0,      /* capture ended (end of file, SIGTERM, SIGINT)
                             and every record was committed */
    CAP_EXIT_FAILURE = 1, /* runtime failure: capture source, output folder,
                             disk, privileges */
    CAP_EXIT_CONFIG = 2,  /* the deck's trunks: section is invalid */
    CAP_EXIT_USAGE = 64,  /* bad command line */
};

int cap_cli_main(int argc, char **argv);

#endif
