/*  settings: the table of everything `evmtap run` can be told, one row per setting: its flag,
    its name in the config file, where its value lives, its type and range, its default, its
    --help text and its docs/config.md text. The parsers of the file and of the command line
    (options), the defaults, `evmtap run --help` and the settings tables of docs/config.md
    all follow from the rows, so that a setting is added or changed in one place. */
#ifndef SETTINGS_H_INCLUDED
#define SETTINGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "options.h"

//  What a good chain name is, in the words of errors (the --chain flag, a chain section).
#define SETTINGS_CHAIN_NAME "a chain name ([A-Za-z0-9_-]+)"

//  Where a setting lives.
typedef enum {
    SETTING_FLAG,       //  on the command line only; in options_t
    SETTING_SERVICE,    //  also in the file's `evmtap` section; in options_t
    SETTING_CHAIN       //  also in a `chains/NAME` section; in chain_options_t
} setting_scope_t;

//  What giving the flag does.
typedef enum {
    SETTING_STORE,         //  stores the value
    SETTING_PRINT_HELP,    //  prints `evmtap run --help` instead of running
    SETTING_PRINT_DOCS     //  prints the settings tables of docs/config.md instead
} setting_action_t;

//  The commands a setting is for: `evmtap backfill` takes every setting of `run` but those
//  that only make sense at the head.
typedef enum {
    SETTING_ALL,        //  run and backfill
    SETTING_RUN,        //  run only: refused on backfill's command line
    SETTING_BACKFILL    //  backfill only: refused on run's command line
} setting_command_t;

//  How a value is checked, stored, shown and freed (private to settings.c).
typedef struct _setting_type_t setting_type_t;

//  One setting. The texts help, doc, doc_default and expect may say {default} (the value a
//  run without flags or file has), {min}, {max} and {choices}.
typedef struct {
    const char *flag;                    //  long flag without "--"
    char short_flag;                     //  its letter, 0 when none
    const char *name;                    //  name in the config file, NULL when the file has none
    setting_scope_t scope;               //  where it lives
    setting_action_t action;             //  what the flag does
    setting_command_t command;           //  the command it is for, or SETTING_ALL
    const setting_type_t *type;          //  NULL for the flags that print
    size_t field;                        //  offset of the value in options_t or chain_options_t
    size_t size;                         //  size of the value, checked against the type's
    size_t count;                        //  lists: offset of their size_t count
    const char *min;                     //  numbers: the least value, as a user writes it
    const char *max;                     //  numbers: the largest; lists: the most items
    bool (*valid) (const char *text);    //  text: the check beyond not empty, or NULL
    const char *expect;                  //  what a good value is: "\"x\" is not <expect>"
    const char *unit;                    //  lists: what the items are ("more than 8 URLs")
    const char *const *choices;          //  choices: the words, NULL-terminated
    const char *initial;                 //  the default as a user writes it; NULL: empty, or
                                         //  filled by the layer that owns the value
    const char *value;                   //  the value in --help ("N"); NULL: the flag takes none
    const char *help;                    //  --help text; a newline continues it under itself;
                                         //  NULL for a hidden flag
    const char *doc_default;             //  docs/config.md's default column; NULL: `{default}`
    const char *doc;                     //  docs/config.md's meaning column
} setting_t;

//  The index-th setting in --help order, or NULL past the last.
const setting_t *settings_at (size_t index);

//  The setting named so in the config file, or NULL.
const setting_t *settings_by_name (const char *name);

//  The setting of a long flag (size characters of flag, without "--"), or NULL.
const setting_t *settings_by_flag (const char *flag, size_t size);

//  The setting of a short flag, or NULL.
const setting_t *settings_by_short_flag (char letter);

//  True when each value of the setting adds to a list instead of replacing the value.
bool settings_repeats (const setting_t *setting);

//  True for a key or chain name: [A-Za-z0-9_-]+, so that it fits in topics, environment
//  variable names and file names.
bool settings_valid_name (const char *text, size_t size);

//  Checks value and stores it in options, or in chain for a chain setting. value is NULL
//  for a flag that takes none. Returns 0, or -1 with the reason in reason (without the
//  flag or setting, which the caller puts in front).
int settings_apply (const setting_t *setting, options_t *options, chain_options_t *chain,
                    const char *value, char *reason, size_t reason_size);

//  Writes the value a setting holds as a user would give it ("" for the types that are
//  never shown: lists, the sink).
void settings_show (const setting_t *setting, const options_t *options,
                    const chain_options_t *chain, char *text, size_t text_size);

//  Empties a setting: frees what it holds, a list loses its items.
void settings_clear (const setting_t *setting, options_t *options, chain_options_t *chain);

//  Gives every setting of options (the service's and the flags') or of chain (either may
//  be NULL) its default, lists excepted: they get theirs from settings_finish.
void settings_start (options_t *options, chain_options_t *chain);

//  Gives the lists of a chain that nothing filled their default (the rpc URL).
void settings_finish (chain_options_t *chain);

//  Frees what the settings of options or of chain (either may be NULL) hold.
void settings_free (options_t *options, chain_options_t *chain);

//  True when the setting is for command (SETTING_RUN or SETTING_BACKFILL).
bool settings_for (const setting_t *setting, setting_command_t command);

//  Prints the flags part of `evmtap run --help` (command SETTING_RUN) or `evmtap backfill
//  --help` (SETTING_BACKFILL): the settings for it; defaults holds what a run without flags or file
//  has, with one chain.
void settings_print_help (FILE *out, const options_t *defaults, setting_command_t command);

//  Prints the tables of the `evmtap` and `chains/NAME` sections of docs/config.md.
void settings_print_docs (FILE *out, const options_t *defaults);

#endif
