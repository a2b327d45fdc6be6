/*  evmtap.h: what truly every file needs: czmq and cJSON, the exit codes and the version.
    It includes no project header: each file includes the modules it uses, so the build's
    layers (util <- proto <- fetch, decode, keys, sink <- actors <- app) stay visible. */
#ifndef EVMTAP_H_INCLUDED
#define EVMTAP_H_INCLUDED

#include <czmq.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef EVMTAP_VERSION
#define EVMTAP_VERSION "0.0.0"
#endif

//  Exit codes shared by every command (README "Exit codes").
#define EVMTAP_EXIT_OK 0           //  done, everything drained
#define EVMTAP_EXIT_FAILURE 1      //  runtime failure (or `decode`: not decoded)
#define EVMTAP_EXIT_USAGE 2        //  usage or config error, named with file, line and setting
#define EVMTAP_EXIT_UNDRAINED 3    //  stopped before every block in flight was published

//  Path of the shared test data (../shared/data); tests read EVMTAP_SHARED_DATA.
const char *evmtap_shared_data (void);

#endif
