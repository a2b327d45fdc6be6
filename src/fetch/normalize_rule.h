/*  normalize_rule: the field rules of normalize, shared by normalize.c and its selftest
    (normalize_test.c) only; nothing else includes this header. */
#ifndef NORMALIZE_RULE_H_INCLUDED
#define NORMALIZE_RULE_H_INCLUDED

//  How a field's value is written.
typedef enum {
    KIND_PASS,       //  as it is, 0x hex strings lower-cased
    KIND_NUMBER,     //  hex quantity of at most 53 bits, as a JSON number
    KIND_DECIMAL,    //  hex quantity of at most 256 bits, as an exact decimal string
    KIND_HEX,        //  0x hex string, lower-cased
} kind_t;

//  Fields that the code looks at beyond their kind; each has a bit in a seen mask.
typedef enum {
    FIELD_OTHER = 0,
    FIELD_NUMBER,
    FIELD_HASH,
    FIELD_PARENT_HASH,
    FIELD_TIMESTAMP,
    FIELD_TRANSACTIONS,
    FIELD_TRANSACTION_COUNT,
    FIELD_FROM,
    FIELD_TO,
    FIELD_INPUT,
    FIELD_BLOCK_NUMBER,
    FIELD_BLOCK_HASH,
    FIELD_NONCE,
    FIELD_CHAIN_ID,
    FIELD_TYPE,
} field_t;

typedef struct {
    kind_t kind;
    field_t field;
} rule_t;

//  The rule for a JSON-RPC field name (blocks, transactions, receipts, logs). Names not
//  listed pass through. The transaction `nonce` is a number, the block's is hex: the
//  block code overrides FIELD_NONCE.
rule_t normalize_rule (const char *key);

#endif
