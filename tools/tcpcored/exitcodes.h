/*
 * tcpcored's exit statuses: one per kind of failure, so that a script or a
 * service manager can tell "fix the configuration" from "fix the machine".
 * The usage text and the README list the same table.
 */
#ifndef TCPCORED_EXITCODES_H
#define TCPCORED_EXITCODES_H

enum dmn_exit {
    DMN_EXIT_OK = 0,           /* stopped by SIGTERM/SIGINT after a clean shutdown */
    DMN_EXIT_RUNTIME = 1,      /* failed while running (device error, no memory) */
    DMN_EXIT_USAGE = 2,        /* the command line is not understood */
    DMN_EXIT_CONFIG_FILE = 3,  /* the configuration file is unreadable or has a syntax error */
    DMN_EXIT_BAD_SETTING = 4,  /* a setting is unknown or its value is out of range */
    DMN_EXIT_BAD_ADDRESS = 5,  /* an address, prefix, gateway or forward target is invalid */
    DMN_EXIT_BAD_TUNABLE = 6,  /* an unknown sysctl name, or a value the tunable refuses */
    DMN_EXIT_NO_DEVICE = 7,    /* the network device is missing or of the wrong kind */
    DMN_EXIT_NO_PRIVILEGE = 8, /* not permitted: opening the device, switching user */
    DMN_EXIT_IN_USE = 9,       /* a port, the control socket or the device is already in use */
    DMN_EXIT_BAD_USER = 10,    /* the --user account does not exist, or is root */
};

#endif
