/*  evmtap.h: the project-wide include. Every module includes this one header, so the
    order of system and library includes is decided once. */
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
#define EVMTAP_EXIT_OK 0        //  done, everything drained
#define EVMTAP_EXIT_FAILURE 1   //  runtime failure (or `decode`: not decoded)
#define EVMTAP_EXIT_USAGE 2     //  usage or config error, named with file, line and setting
#define EVMTAP_EXIT_UNDRAINED 3 //  stopped before every block in flight was published

//  Path of the shared test data (../shared/data); tests read EVMTAP_SHARED_DATA.
const char *evmtap_shared_data (void);

#include "hexutil.h"
#include "jsonw.h"
#include "jsonrpc.h"
#include "token_bucket.h"
#include "secrets.h"
#include "rpc_client.h"
#include "zpl.h"
#include "checkpoint.h"
#include "block_clock.h"
#include "msg.h"
#include "job.h"
#include "block.h"
#include "result.h"
#include "block_msg.h"
#include "batch.h"
#include "normalize.h"
#include "receipts.h"
#include "stage.h"
#include "options.h"

#endif
