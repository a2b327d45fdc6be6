/*  setting_types: the types of the values of settings, for the rows of settings.c, and the
    texts of a row with {default}, {min}, {max} and {choices} filled in. Private to the
    settings module: options sees only settings.h. */
#ifndef SETTING_TYPES_H_INCLUDED
#define SETTING_TYPES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "options.h"
#include "settings.h"

//  The longest text a row expands to (the docs/config.md line of abis is the longest).
#define SETTING_TEXT_MAX 1024

struct _setting_type_t {
    //  Checks value and stores it in record (options_t or chain_options_t); -1 with the
    //  reason when it is refused.
    int (*parse) (const setting_t *setting, void *record, const char *value, char *reason,
                  size_t reason_size);
    //  Writes the stored value as a user would give it; NULL for the types no row shows.
    void (*show) (const setting_t *setting, const void *record, char *text, size_t text_size);
    //  Frees what the value holds and sets it unset; NULL when zero is unset.
    void (*clear) (const setting_t *setting, void *record);
    bool repeats;    //  each value adds an item to a list
};

//  Text, not empty and, when the row has one, passing its valid check.
extern const setting_type_t setting_text;
//  Key costs: a cost table's name or file.
extern const setting_type_t setting_costs;
//  Lists of text (an array of max strings and a count): each value adds one.
extern const setting_type_t setting_list;
//  Lists of provider URLs: http:// or https://, no placeholder but {key}.
extern const setting_type_t setting_urls;
//  Key names, "name,name": the value replaces the list.
extern const setting_type_t setting_keys;
//  Whole numbers within the row's range, in an int or a 64-bit field.
extern const setting_type_t setting_count;
//  Block numbers: whole numbers whose unset value is OPTIONS_UNSET.
extern const setting_type_t setting_block;
//  Kafka's replication factor: a whole number, or default (-1).
extern const setting_type_t setting_replication;
//  Numbers with a fraction within the row's range, in a double.
extern const setting_type_t setting_real;
//  Seconds with a fraction within the row's range, kept as milliseconds in an int.
extern const setting_type_t setting_seconds;
//  Booleans: true without a value; true/false, yes/no or 1/0.
extern const setting_type_t setting_bool;
//  One of the row's choices, stored as its index (an enum, or a bool of two).
extern const setting_type_t setting_choice;
//  One of the row's choices, stored as the row's own string.
extern const setting_type_t setting_word;
//  The sink: files, files:DIR, stdout or kafka:BROKERS, as a kind and options' sink_target.
extern const setting_type_t setting_sink;

//  The checks rows give text settings.
bool setting_valid_chain_name (const char *text);
bool setting_valid_redis (const char *text);
bool setting_valid_listen (const char *text);
bool setting_valid_endpoint (const char *text);
bool setting_valid_metrics (const char *text);

//  Writes template with the setting's values for {default} (from defaults, which has one
//  chain; NULL for the reasons of refusals, which never say it), {min}, {max} and
//  {choices}.
void setting_expand (const setting_t *setting, const char *template, const options_t *defaults,
                     char *out, size_t out_size);

//  The count of a list setting in record.
size_t setting_list_size (const setting_t *setting, const void *record);

#endif
