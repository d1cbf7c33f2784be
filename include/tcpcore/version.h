/**
 * @file
 * @brief The library's version, at compile time and at run time.
 *
 * The version follows semantic versioning: the major number changes when
 * the ABI breaks (and with it the shared library's SONAME), the minor
 * number when functions or fields are added, the patch number for fixes.
 * Before 1.0 the SONAME is libtcpcore.so.0 and tests/abi guards the ABI
 * against accidental breaks.
 *
 * CMakeLists.txt reads the three numbers below, so they are the project's
 * single statement of its version.
 */
#ifndef TCPCORE_VERSION_H
#define TCPCORE_VERSION_H

/** Major version: changes when the ABI breaks. */
#define TCPC_VERSION_MAJOR 0
/** Minor version: changes when the API grows compatibly. */
#define TCPC_VERSION_MINOR 1
/** Patch version: changes for fixes only. */
#define TCPC_VERSION_PATCH 0
/** The version as text, "MAJOR.MINOR.PATCH". */
#define TCPC_VERSION_STRING "0.1.0"

/** The version as one number, (major << 16) | (minor << 8) | patch, for
 * comparisons in the preprocessor: `#if TCPC_VERSION >= TCPC_VERSION_AT(0, 2, 0)`. */
#define TCPC_VERSION_AT(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
/** This header's version as one number (see TCPC_VERSION_AT). */
#define TCPC_VERSION TCPC_VERSION_AT(TCPC_VERSION_MAJOR, TCPC_VERSION_MINOR, TCPC_VERSION_PATCH)

/**
 * The version of the library actually linked, as TCPC_VERSION encodes it.
 *
 * A program compiled against one version's headers and run with another's
 * shared library can compare this with TCPC_VERSION. Pure; callable at any
 * time, from any thread.
 */
unsigned tcpc_version(void);

/** The linked library's version as text ("0.1.0"): a static string. Pure;
 * callable at any time, from any thread. */
const char *tcpc_version_string(void);

#endif
