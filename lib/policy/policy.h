/*
 * policy.h - the session policy language (spec/policy.md): parse and validate a session file
 * into a typed struct cas_policy, report every problem with its line and column, normalise it
 * and compute its canonical hash (policy.md §12), and print the normalised session as YAML.
 *
 * No network, no storage, no file access: bytes in, struct and diagnostics out. The same code
 * runs in the CLI (with template variables, policy.md §4) and in casd (without).
 *
 * Ownership: everything a struct cas_policy points to belongs to it and lives until
 * cas_policy_free(); explicit secret values are held as struct cas_secret. Not thread safe per
 * object; distinct objects may be used from distinct threads.
 */
#ifndef CAS_POLICY_POLICY_H
#define CAS_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"
#include "policy/placeholder.h"

struct cas_secret;
struct json_t;

/* Limits of policy.md §1. */
#define CAS_POLICY_MAX_DOC 1048576u /* 1 MiB */
#define CAS_POLICY_MAX_DEPTH 64u
#define CAS_POLICY_MAX_NODES 500000u
/* What aliases may add in all: scalar bytes plus one per node (a 420-byte "billion laughs" file
 * otherwise expands to megabytes within the node limit). A file without aliases never meets it. */
#define CAS_POLICY_MAX_ALIAS_BYTES 1048576u /* 1 MiB */
/* A config-fragment value as canonical JSON, as the secret it becomes (lib/secrets). */
#define CAS_POLICY_MAX_FRAGMENT 1048576u /* 1 MiB */
#define CAS_POLICY_MAX_SCALAR 262144u    /* 256 KiB */
#define CAS_POLICY_MAX_SECRETS 16384u
#define CAS_POLICY_MAX_SERVICES 1024u
#define CAS_POLICY_MAX_IMAGES 1024u
#define CAS_POLICY_MAX_VOLUMES 1024u
#define CAS_POLICY_MAX_SEGMENTS 16u
#define CAS_POLICY_MAX_SEGMENT 128u
#define CAS_POLICY_MAX_NAME 1024u
#define CAS_POLICY_MAX_IMAGE_NAME 256u
/* Diagnostics kept for one file; one more line says the rest were left out. */
#define CAS_POLICY_MAX_DIAGS 1000u

/* ---- diagnostics ---- */

enum cas_policy_severity { CAS_POLICY_ERROR, CAS_POLICY_WARNING };

struct cas_policy_diag {
    unsigned line, column; /* 1-based, from libyaml's marks */
    enum cas_policy_severity severity;
    char *text; /* the key path, the problem, the fix; never a secret value */
};

struct cas_policy_diags {
    struct cas_policy_diag *items; /* sorted by line, then column, once parsing ends */
    size_t count, cap;
    size_t errors, warnings;
    bool truncated; /* more than CAS_POLICY_MAX_DIAGS problems */
};

void cas_policy_diags_init(struct cas_policy_diags *d);
void cas_policy_diags_release(struct cas_policy_diags *d);

/* ---- the typed session ---- */

struct cas_policy_pos {
    unsigned line, column;
};

/* A scalar, or a whole-value placeholder (§9 structural positions): exactly one is set. */
struct cas_policy_value {
    const char *text;                        /* hex lowercased; NULL when ph is set */
    const struct cas_policy_placeholder *ph; /* NULL when text is set */
    struct cas_policy_pos pos;
};

/* A string in which placeholders are replaced (argv, environment, pwd, files): text as
 * written, with the placeholders found in it in order. */
struct cas_policy_text {
    const char *text;
    size_t len;
    struct cas_policy_placeholder *ph;
    size_t ph_count;
};

struct cas_policy_signer {
    struct cas_policy_value whole; /* set when `signer` itself is a placeholder */
    struct cas_policy_value mrsigner, isvprodid, isvsvn, isvsvn_min, isvsvn_max;
    bool has_isvsvn, has_isvsvn_min, has_isvsvn_max;
};

struct cas_policy_variant {
    struct cas_policy_pos pos;
    struct cas_policy_value whole;      /* the variant is one placeholder */
    struct cas_policy_value *mrenclave; /* 64 or 96 lowercase hex, or placeholders */
    size_t mrenclave_count;
    bool has_signer;
    struct cas_policy_signer signer;
    bool is_mrenclaves; /* the deprecated services[].mrenclaves list */
};

struct cas_policy_env {
    const char *name;
    struct cas_policy_text value;
    bool from_host; /* `\@\@NAME`: the launcher's variable NAME; value ignored */
};

enum cas_policy_fspf_update { CAS_POLICY_FSPF_REINIT, CAS_POLICY_FSPF_NO_ROLLBACK };

struct cas_policy_service {
    struct cas_policy_pos pos;
    const char *name;
    const char *image_name;       /* NULL: none */
    struct cas_policy_text *argv; /* command after splitting (§5) */
    unsigned *host_arg;           /* per argument: N of `@@N`, 0 for a literal argument */
    size_t argc;
    struct cas_policy_env *env;
    size_t env_count;
    struct cas_policy_text pwd;
    /* attestation (a placeholder for the whole section is one variant with `whole` set: a
     * list it resolves to is spliced in, §9) */
    struct cas_policy_variant *variants;
    size_t variant_count;
    struct cas_policy_value *platforms; /* 64 lowercase hex or placeholders (spliced) */
    size_t platform_count;
    const char *fspf_path;
    struct cas_policy_value fspf_key; /* both NULL: absent */
    const char *fspf_tag;
    enum cas_policy_fspf_update fspf_update_policy;
};

struct cas_policy_injection {
    struct cas_policy_pos pos;
    const char *path;
    bool has_content; /* false: the launcher reads the template at path */
    struct cas_policy_text content;
    unsigned permission; /* default 0700 */
};

enum cas_policy_volume_update {
    CAS_POLICY_VOL_ROLLBACK_PROTECTED,
    CAS_POLICY_VOL_EPHEMERAL,
    CAS_POLICY_VOL_NO_ROLLBACK
};

struct cas_policy_image_volume {
    const char *name, *path;
    enum cas_policy_volume_update update_policy;
};

struct cas_policy_image {
    struct cas_policy_pos pos;
    const char *name;
    struct cas_policy_injection *files;
    size_t file_count;
    const char **provide_secrets; /* NULL with has_provide_secrets false: no restriction */
    size_t provide_count;
    bool has_provide_secrets;
    struct cas_policy_image_volume *volumes;
    size_t volume_count;
};

/* A reference to another session (§8.3). */
struct cas_policy_ref {
    struct cas_policy_pos pos;
    const char *session;   /* as written: absolute, ./x, ../x; NULL with namespace */
    const char *namespace; /* export only; ".." is the parent */
    bool has_hash;
    char session_hash[65];                       /* lowercase hex */
    const char *secret;                          /* import: the exporter's name; NULL otherwise */
    const char *volume;                          /* volume import */
    const char *to_update_policy, *volume_alias; /* volume export {to: …} */
};

struct cas_policy_volume {
    struct cas_policy_pos pos;
    const char *name;
    struct cas_policy_value fspf_key;
    const char *fspf_tag;
    bool authenticated_only; /* files: authenticated-only */
    struct cas_policy_ref *exports;
    size_t export_count;
    bool is_imported;
    struct cas_policy_ref import;
};

enum cas_policy_kind {
    CAS_POLICY_KIND_UNKNOWN, /* an import without `kind`: the exporter's kind */
    CAS_POLICY_KIND_ASCII,
    CAS_POLICY_KIND_BINARY,
    CAS_POLICY_KIND_PRIVATE_KEY,
    CAS_POLICY_KIND_PUBLIC_KEY,
    CAS_POLICY_KIND_X509_CA,
    CAS_POLICY_KIND_X509,
    CAS_POLICY_KIND_CONFIG_FRAGMENT,
};

enum cas_policy_source { CAS_POLICY_GENERATED, CAS_POLICY_EXPLICIT, CAS_POLICY_IMPORTED };

enum cas_policy_key_type {
    CAS_POLICY_KEY_P256,
    CAS_POLICY_KEY_P384,
    CAS_POLICY_KEY_ED25519,
    CAS_POLICY_KEY_RSA2048,
    CAS_POLICY_KEY_RSA3072,
};

enum cas_policy_endpoint { CAS_POLICY_EP_NONE, CAS_POLICY_EP_SERVER, CAS_POLICY_EP_CLIENT };

struct cas_policy_secret {
    struct cas_policy_pos pos;
    const char *name;
    enum cas_policy_kind kind;
    enum cas_policy_source source;
    /* explicit values: the text as written (binary: the decoded bytes; config-fragment: the
     * fragment as RFC 8785 JSON; use `fragment` for the structure). Never printed. */
    struct cas_secret *value;
    const struct json_t *fragment; /* config-fragment with a value: borrowed from the policy */
    unsigned size;                 /* ascii, binary; 0 when not given on an explicit value */
    enum cas_policy_key_type key_type;
    bool migrate;
    const char *private_key, *issuer, *common_name; /* NULL: absent */
    const char *valid_for;                          /* as written; NULL: never expires */
    uint64_t valid_for_s;
    enum cas_policy_endpoint endpoint;
    const char **dns, **san; /* san entries as written: "dns:…" or "ip:…" */
    size_t dns_count, san_count;
    bool export_public;
    struct cas_policy_ref *exports;
    size_t export_count;
    struct cas_policy_ref import; /* source == CAS_POLICY_IMPORTED */
};

enum cas_policy_access_kind {
    CAS_POLICY_ACCESS_CREATOR,
    CAS_POLICY_ACCESS_ANY,
    CAS_POLICY_ACCESS_NONE,
    CAS_POLICY_ACCESS_KEY_HASH,    /* key_hash */
    CAS_POLICY_ACCESS_CERTIFICATE, /* key_hash of the certificate's key; pem as written */
    CAS_POLICY_ACCESS_PLACEHOLDER, /* ph */
};

struct cas_policy_access_entry {
    struct cas_policy_pos pos;
    enum cas_policy_access_kind kind;
    uint8_t key_hash[32];
    const char *pem;
    const struct cas_policy_placeholder *ph;
};

struct cas_policy_access_list {
    bool is_present; /* false: the default of §10 applies */
    struct cas_policy_access_entry *entries;
    size_t count;
};

struct cas_policy_access {
    struct cas_policy_value whole; /* access_policy is one placeholder */
    struct cas_policy_access_list read, update, create_sessions, list_sessions, del;
};

enum cas_policy_mode { CAS_POLICY_MODE_HARDWARE, CAS_POLICY_MODE_SIM, CAS_POLICY_MODE_NONE };

/* tolerate (policy.md §11) as bits. */
#define CAS_POLICY_TOL_DEBUG_MODE 0x01u
#define CAS_POLICY_TOL_HYPERTHREADING 0x02u
#define CAS_POLICY_TOL_INSECURE_IGPU 0x04u
#define CAS_POLICY_TOL_AEPIC_LEAK 0x08u
#define CAS_POLICY_TOL_SW_HARDENING 0x10u
#define CAS_POLICY_TOL_INSECURE_CONFIG 0x20u
#define CAS_POLICY_TOL_OUTDATED_TCB 0x40u

struct cas_policy_security {
    struct cas_policy_value whole;             /* security is one placeholder */
    struct cas_policy_value attestation_whole; /* security.attestation is one placeholder */
    enum cas_policy_mode mode;
    unsigned tolerate;
    bool ignore_all_advisories; /* ignore_advisories: "*" */
    const char **advisories;    /* INTEL-SA-NNNNN, as written */
    size_t advisory_count;
    const char *service_access_token; /* NULL: none */
};

struct cas_policy {
    const char *name;
    char version[8];   /* "0.3" or "0.3.N" */
    int version_minor; /* N of 0.3.N; -1 for "0.3" */
    bool has_predecessor;
    bool predecessor_is_null; /* written as a null form (verify keeps an explicit null) */
    char predecessor[65];
    bool has_creator;        /* the file gives a creator */
    uint8_t creator[32];     /* its key hash */
    bool references_creator; /* policy.md §12 step 9 */
    const char *salt;        /* 32 lowercase hex, or NULL */
    const char *namespace_hash;
    struct cas_policy_service *services;
    size_t service_count;
    struct cas_policy_image *images;
    size_t image_count;
    struct cas_policy_volume *volumes;
    size_t volume_count;
    struct cas_policy_secret *secrets;
    size_t secret_count;
    struct cas_policy_access access;
    struct cas_policy_security security;
    struct cas_policy_impl *impl; /* the normalised form and the memory behind all of the above */
};

/* ---- parsing ---- */

struct cas_policy_options {
    /* Template variables (policy.md §4): substitute is false on the server. */
    bool substitute;
    const char *const *vars; /* "NAME=VALUE" from -e, in order (the last one wins) */
    size_t var_count;
    const char *const *env; /* --use-env: a NULL-terminated environ, or NULL */
    const char *name;       /* -n NAME: replaces `name` after substitution, or NULL */
    bool fail_on_warning;   /* warnings are reported as errors */
    /* Offline (the CLI): warn about every export without a session_hash pin to a session or
     * namespace outside this session's own namespace. casd decides with its database instead
     * (an existing target, a namespace whose create_sessions the exporter controls). */
    bool warn_exports;
};

/*
 * Parses and validates the session in data[0..len) (need not be terminated). Every problem goes
 * to diags (initialised by the caller; it may already hold some). Returns CAS_OK with *out set
 * when there is no error (warnings allowed), CAS_E_INVALID when diags holds an error (*out NULL),
 * CAS_E_NOMEM when memory ran out (err says so).
 */
cas_rc cas_policy_parse(const uint8_t *data, size_t len, const struct cas_policy_options *opt,
                        struct cas_policy **out, struct cas_policy_diags *diags,
                        struct cas_err *err) CAS_MUST_CHECK;

void cas_policy_free(struct cas_policy *p);

/* The secret named name, or NULL. */
const struct cas_policy_secret *cas_policy_secret_find(const struct cas_policy *p,
                                                       const char *name);

/* ---- export grants (policy.md §8.3) ---- */

/* The name export reference r of session exporter points at (a session, or a namespace's own
 * name) into out; false when it does not resolve or fit. */
bool cas_policy_export_target(const char *exporter, const struct cas_policy_ref *r, char *out,
                              size_t cap);
/* Whether name lies strictly inside namespace ns ("a/b" inside "a"; never inside ""). */
bool cas_policy_name_within(const char *name, const char *ns);
/* The export of secret s of session exporter that grants it to session importer (by session, or
 * by a namespace holding it), or NULL: an imported secret grants nothing. Borrowed from s. */
const struct cas_policy_ref *cas_policy_export_match(const char *exporter,
                                                     const struct cas_policy_secret *s,
                                                     const char *importer);
/* Whether the create_sessions list of session pp (created by pcreator; policy.md §10 defaults:
 * as update, [CREATOR]) admits nobody but the key hash me: CREATOR when pcreator is me, NONE, me
 * as a key hash or certificate. ANY, other keys and placeholders admit others. */
bool cas_policy_only_creates(const struct cas_policy *pp, const uint8_t pcreator[32],
                             const uint8_t me[32]);
/* The warning for an unpinned export r of secret to target (resolved): names the risk and both
 * fixes. offline: the CLI's wording (it cannot know whether target exists). */
void cas_policy_export_warning(const char *secret, const struct cas_policy_ref *r,
                               const char *target, bool offline, char *out, size_t cap);
/* Adds a warning found outside the parser (casd's export check) at pos. */
void cas_policy_diags_add_warning(struct cas_policy_diags *d, struct cas_policy_pos pos,
                                  const char *text);

/* ---- normal form and hash (policy.md §12) ---- */

/*
 * The creator used for step 9: the file's creator if it has one, else `uploader` (a 32-byte key
 * hash, or NULL). Fails with SCONE's "Cannot calculate session hash! …" message (CAS_E_INVALID)
 * when the session references CREATOR and neither is known.
 */
cas_rc cas_policy_canonical_json(const struct cas_policy *p, const uint8_t *uploader, char **out,
                                 size_t *out_len, struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_policy_hash(const struct cas_policy *p, const uint8_t *uploader, uint8_t digest[32],
                       char hex[65], struct cas_err *err) CAS_MUST_CHECK;

/*
 * The normalised session as YAML (policy.md §12): top-level keys in §3 order, strings quoted,
 * multi-line strings as literal blocks where exact. Explicit secret values are included: the
 * output is the user's own file, normalised. creator: as for the hash, but when none is known it
 * is left out instead of failing. *out is malloc'd and terminated.
 */
cas_rc cas_policy_emit_yaml(const struct cas_policy *p, const uint8_t *uploader, char **out,
                            size_t *out_len, struct cas_err *err) CAS_MUST_CHECK;

/* The normalised session as a JSON object, without creator (borrowed from p). */
const struct json_t *cas_policy_normal_form(const struct cas_policy *p);

#endif
