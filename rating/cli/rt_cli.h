/*
 * referee-rate's command line.  Lives in the library so tests can run it.
 */
#ifndef REFEREE_RT_CLI_H
#define REFEREE_RT_CLI_H

/* Exit codes (contract, documented in --help and the README). */
enum rt_exit {
    RT_EXIT_OK = 0,          /* run committed (or deck valid) */
    RT_EXIT_FAILURE = 1,     /* run failed: input unreadable, I/O, database */
    RT_EXIT_DECK = 2,        /* rate deck invalid: nothing read or written */
    RT_EXIT_MAX_REJECTS = 3, /* more rejects than --max-rejects: nothing
                                written */
    RT_EXIT_USAGE = 64,      /* bad command line */
};

int rt_cli_main(int argc, char **argv);

#endif
