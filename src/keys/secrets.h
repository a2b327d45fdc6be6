/*  secrets: API keys by pseudo-name. The secret comes from EVMTAP_KEY_<NAME> (upper-cased,
    '-' turned into '_') or from /run/secrets/<name>; never from the config file. Only this
    module and the final URL given to libcurl ever hold a secret; everything else logs the
    provider's name (the URL's host) and the key's pseudo-name. */
#ifndef SECRETS_H_INCLUDED
#define SECRETS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Looks up the secret of a key name. Returns a fresh heap string (free it with
//  secrets_free, which wipes it) or NULL with a reason in err naming the places tried.
//  secrets_dir is "/run/secrets" in production; tests point it elsewhere.
char *secrets_lookup (const char *key_name, const char *secrets_dir, char *err, size_t err_size);
void secrets_free (char **secret_p);

//  Replaces "{key}" in url_template by secret. Returns a fresh heap string (free it with
//  secrets_free), or a plain copy when the template has no "{key}".
char *secrets_fill_url (const char *url_template, const char *secret);

//  The provider's name for logs and metrics: the URL's host (and port when it has one),
//  e.g. "mainnet.infura.io" or "127.0.0.1:8545"; "unknown" when it has no host. Never
//  includes userinfo, path or query.
void secrets_provider_name (const char *url_template, char *out, size_t out_size);

//  True when url_template contains "{key}".
bool secrets_url_needs_key (const char *url_template);

void secrets_test (bool verbose);

#endif
