/*  jsonw: a JSON writer into one growing buffer. cJSON does not check what it emits, so
    every string written here is escaped and its UTF-8 validated: invalid bytes become
    U+FFFD. Commas between members and elements are placed by the writer. */
#ifndef JSONW_H_INCLUDED
#define JSONW_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _jsonw_t jsonw_t;
typedef struct cJSON cJSON;

jsonw_t *jsonw_new (void);
void jsonw_destroy (jsonw_t **self_p);

//  Empties the buffer, keeping its memory, to write the next document.
void jsonw_reset (jsonw_t *self);

void jsonw_object_begin (jsonw_t *self);
void jsonw_object_end (jsonw_t *self);
void jsonw_array_begin (jsonw_t *self);
void jsonw_array_end (jsonw_t *self);

//  A member name inside an object; the next value call writes its value.
void jsonw_key (jsonw_t *self, const char *key);

//  A string (NULL writes null).
void jsonw_string (jsonw_t *self, const char *text);
void jsonw_string_len (jsonw_t *self, const char *text, size_t len);
void jsonw_u64 (jsonw_t *self, uint64_t value);
void jsonw_i64 (jsonw_t *self, int64_t value);
void jsonw_bool (jsonw_t *self, bool value);
void jsonw_null (jsonw_t *self);

//  Writes a 0x hex string lower-cased ("0X" prefix too). Returns 0, or -1 and writes
//  nothing when text is not "0x" followed by hex digits only.
int jsonw_hex (jsonw_t *self, const char *text, size_t len);

//  Writes len bytes as a "0x..." string of lowercase digits (ABI values, selectors, topics).
void jsonw_bytes_hex (jsonw_t *self, const uint8_t *bytes, size_t len);

//  Writes a string, lower-cased when it is 0x hex (see jsonw_hex), else as jsonw_string.
void jsonw_string_lowerhex (jsonw_t *self, const char *text, size_t len);

//  Writes a JSON text that is already valid (e.g. a record made by another jsonw) as a value.
void jsonw_raw (jsonw_t *self, const char *json, size_t len);

//  Writes a cJSON value as it is, strings that are 0x hex lower-cased (DESIGN: hex
//  passes through lowercase). Used for accessList, withdrawals and other nested fields.
void jsonw_cjson_lowerhex (jsonw_t *self, const cJSON *item);

//  The document so far (NUL-terminated) and its length. Borrowed until the next call.
const char *jsonw_data (jsonw_t *self);
size_t jsonw_size (jsonw_t *self);

//  Returns the document as a fresh heap string (caller frees) and resets the writer.
char *jsonw_strdup (jsonw_t *self);

//  Finds the top-level members of a JSON object text (as jsonw wrote it) named in keys,
//  without parsing the values: values [i] points at the raw value text of keys [i] (NULL
//  when absent), lens [i] its length. Returns -1 when the text is not an object it can read.
int jsonw_members (const char *json, size_t len, const char *const *keys, size_t key_count,
                   const char **values, size_t *lens);

void jsonw_test (bool verbose);

#endif
