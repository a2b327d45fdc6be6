/*  proxy_probe: the calls and answers of proxy detection (proxy_probe.h). Storage slots
    are 32-byte words whose low 20 bytes are the address; an unset slot reads as zero. */
#include "evmtap.h"
#include "proxy_probe.h"
#include "hexutil.h"

//  bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
#define S_SLOT_1967 "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
//  bytes32(uint256(keccak256("eip1967.proxy.beacon")) - 1)
#define S_SLOT_BEACON "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50"
//  keccak256("PROXIABLE") (EIP-1822)
#define S_SLOT_1822 "0xc5f16f0fcc639fa48a6947836d9850f504798523bf8c9a3a87d5876cf622bcf7"
//  EIP-1167's runtime code around the implementation's 20 bytes.
#define S_CLONE_HEAD "363d3d373d3d3d363d73"
#define S_CLONE_TAIL "5af43d82803e903d91602b57fd5bf3"

void
proxy_probe_calls (const char *address, uint64_t block, const char *methods [PROXY_PROBE_CALLS],
                   char *params [PROXY_PROBE_CALLS])
{
    assert (address && methods && params);
    static const char *const slots [3] = {S_SLOT_1967, S_SLOT_BEACON, S_SLOT_1822};
    for (size_t index = 0; index < 3; index++) {
        methods [index] = "eth_getStorageAt";
        params [index] = zsys_sprintf ("[\"%s\",\"%s\",\"0x%" PRIx64 "\"]", address, slots [index],
                                       block);
    }
    methods [3] = "eth_getCode";
    params [3] = zsys_sprintf ("[\"%s\",\"0x%" PRIx64 "\"]", address, block);
}

void
proxy_probe_params_free (char *params [PROXY_PROBE_CALLS])
{
    for (size_t index = 0; index < PROXY_PROBE_CALLS; index++)
        zstr_free (&params [index]);
}

//  A storage word or ABI return word: PROXY_FOUND with its low 20 bytes when they are not
//  zero and the high 12 are, PROXY_NONE for zero or another use of the word,
//  PROXY_MALFORMED when it is not a 32-byte hex word.
static proxy_probe_t
s_read_word (const cJSON *result, char *address)
{
    uint8_t word [32];
    if (!cJSON_IsString (result) || hex_decode (result->valuestring, word, 32) != 32)
        return PROXY_MALFORMED;
    static const uint8_t zero [32];
    if (memcmp (word, zero, 12) != 0 || memcmp (word + 12, zero, 20) == 0)
        return PROXY_NONE;
    hex_encode (word + 12, 20, address);
    return PROXY_FOUND;
}

proxy_probe_t
proxy_probe_read (const cJSON *const results [PROXY_PROBE_CALLS], char *address)
{
    assert (results && address);
    for (size_t index = 0; index < 3; index++) {
        proxy_probe_t found = s_read_word (results [index], address);
        if (found != PROXY_NONE)
            return found == PROXY_FOUND && index == 1 ? PROXY_BEACON : found;
    }
    const cJSON *code = results [3];
    if (!cJSON_IsString (code) || !hex_is_valid (code->valuestring))
        return PROXY_MALFORMED;
    const char *hex = code->valuestring + 2;
    size_t head = strlen (S_CLONE_HEAD), tail = strlen (S_CLONE_TAIL);
    if (strlen (hex) != head + 40 + tail || strncasecmp (hex, S_CLONE_HEAD, head) != 0
        || strncasecmp (hex + head + 40, S_CLONE_TAIL, tail) != 0)
        return PROXY_NONE;
    address [0] = '0';
    address [1] = 'x';
    for (size_t index = 0; index < 40; index++)
        address [2 + index] = (char) tolower ((unsigned char) hex [head + index]);
    address [42] = 0;
    return PROXY_FOUND;
}

char *
proxy_probe_beacon_params (const char *beacon, uint64_t block)
{
    assert (beacon);
    //  implementation(): 0x5c60da1b
    return zsys_sprintf ("[{\"to\":\"%s\",\"data\":\"0x5c60da1b\"},\"0x%" PRIx64 "\"]", beacon,
                         block);
}

proxy_probe_t
proxy_probe_read_beacon (const cJSON *result, char *address)
{
    assert (address);
    return s_read_word (result, address);
}

//  Each kind read from answers as a node gives them; the order of precedence; malformed
//  answers; the calls' text.
void
proxy_probe_test (bool verbose)
{
    (void) verbose;
    const char *methods [PROXY_PROBE_CALLS];
    char *params [PROXY_PROBE_CALLS];
    proxy_probe_calls ("0x5fbdb2315678afecb367f032d93f642f64180aa3", 26, methods, params);
    assert (streq (methods [0], "eth_getStorageAt") && streq (methods [3], "eth_getCode"));
    assert (streq (params [0], "[\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"" S_SLOT_1967
                               "\",\"0x1a\"]"));
    assert (streq (params [3], "[\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"0x1a\"]"));
    proxy_probe_params_free (params);
    assert (!params [0]);

    const char *zero = "\"0x0000000000000000000000000000000000000000000000000000000000000000\"";
    const char *impl = "\"0x000000000000000000000000e7f1725E7734CE288F8367e1Bb143E90bb3F0512\"";
    const char *clone =
        "\"0x363d3d373d3d3d363d73e7f1725e7734ce288f8367e1bb143e90bb3f05125af43d82803e"
        "903d91602b57fd5bf3\"";
    struct {
        const char *answers [PROXY_PROBE_CALLS];
        proxy_probe_t expected;
    } cases [] = {
        {{impl, zero, zero, "\"0x6080\""}, PROXY_FOUND},
        {{zero, impl, zero, "\"0x6080\""}, PROXY_BEACON},
        {{zero, zero, impl, "\"0x6080\""}, PROXY_FOUND},
        {{zero, zero, zero, clone}, PROXY_FOUND},
        {{zero, zero, zero, "\"0x\""}, PROXY_NONE},
        {{zero, zero, zero, "\"0x6080\""}, PROXY_NONE},
        //  A slot holding something else than an address is not a proxy's.
        {{"\"0x100000000000000000000000e7f1725e7734ce288f8367e1bb143e90bb3f0512\"", zero, zero,
          "\"0x\""},
         PROXY_NONE},
        {{"\"0x12\"", zero, zero, "\"0x\""}, PROXY_MALFORMED},
        {{zero, zero, zero, "7"}, PROXY_MALFORMED},
        {{"null", zero, zero, "\"0x\""}, PROXY_MALFORMED},
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        cJSON *items [PROXY_PROBE_CALLS];
        const cJSON *results [PROXY_PROBE_CALLS];
        for (size_t call = 0; call < PROXY_PROBE_CALLS; call++)
            results [call] = items [call] = cJSON_Parse (cases [index].answers [call]);
        char address [43] = "";
        assert (proxy_probe_read (results, address) == cases [index].expected);
        if (cases [index].expected == PROXY_FOUND || cases [index].expected == PROXY_BEACON)
            assert (streq (address, "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"));
        for (size_t call = 0; call < PROXY_PROBE_CALLS; call++)
            cJSON_Delete (items [call]);
    }
    char *call = proxy_probe_beacon_params ("0x5fbdb2315678afecb367f032d93f642f64180aa3", 1);
    assert (streq (call, "[{\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"data\":"
                         "\"0x5c60da1b\"},\"0x1\"]"));
    zstr_free (&call);
    cJSON *word = cJSON_Parse (impl);
    char address [43];
    assert (proxy_probe_read_beacon (word, address) == PROXY_FOUND);
    cJSON_Delete (word);
    assert (proxy_probe_read_beacon (NULL, address) == PROXY_MALFORMED);
}
