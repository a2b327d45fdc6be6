/*  token_bucket: a per-key budget of requests (or provider units) per second. It holds at
    most one second's budget, and the budget comes back continuously as takes leave the
    sliding 1 s window, so no sliding 1 s window ever sees more than the budget (a plain
    token bucket would allow twice that after an idle second), even when calls reach the
    provider up to 50 ms later or earlier than their neighbours (the window is judged over
    1.05 s). A bucket starts empty (a key
    taken over from another worker may just have spent its second). */
#ifndef TOKEN_BUCKET_H_INCLUDED
#define TOKEN_BUCKET_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _token_bucket_t token_bucket_t;

//  rate: units per second; 0 means unlimited (every take succeeds at once).
token_bucket_t *token_bucket_new (double rate);
void token_bucket_destroy (token_bucket_t **self_p);

//  Tries to take `units` at monotonic time now_ms (zclock_mono()). Returns 0 and takes
//  them when available, else takes nothing and returns how many ms to wait (>= 1).
//  A request larger than the whole bucket is allowed once the bucket is full.
int64_t token_bucket_take (token_bucket_t *self, double units, int64_t now_ms);

//  Empties the bucket (key handed over, or the provider said 429).
void token_bucket_drain (token_bucket_t *self, int64_t now_ms);

void token_bucket_test (bool verbose);

#endif
