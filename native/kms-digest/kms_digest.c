/*
 * kms_digest: sign and verify a precomputed digest with the OpenSSL Node is built with (see README.md).
 *
 *   sign(privateKeyPkcs8Der, digest, scheme, hash) -> Buffer
 *   verify(publicKeySpkiDer, digest, signature, scheme, hash) -> boolean
 *
 * scheme: "pss" (RSASSA-PSS, salt = digest length, MGF1 with the same hash), "ecdsa" (DER ECDSA-Sig-Value),
 * "ed25519ph" (RFC 8032 Ed25519ph over a SHA-512 digest), "mldsa-mu" (FIPS 204 ML-DSA over an external mu);
 * hash: "SHA256", "SHA384" or "SHA512" for pss and ecdsa (the digest's hash), ignored otherwise.
 *
 * Every OpenSSL object is released on every path; the private key is parsed straight from the caller's buffer
 * (OpenSSL cleanses its own copies when they are freed) and never appears in an error message. OpenSSL's error
 * queue is emptied before returning, so node:crypto never sees an error left behind by this addon.
 */
#include <node_api.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

enum scheme { SCHEME_PSS, SCHEME_ECDSA, SCHEME_ED25519PH, SCHEME_MLDSA_MU };

#define PREHASH_BYTES 64 /* Ed25519ph's SHA-512 digest and ML-DSA's mu are both 64 bytes */

typedef struct {
  const void *data;
  size_t length;
} bytes;

/* Throws a JS Error naming the step that failed and OpenSSL's reason (never key material), and empties the queue. */
static napi_value fail(napi_env env, const char *step) {
  char reason[256] = "";
  unsigned long code = ERR_peek_last_error();
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  char message[400];
  snprintf(message, sizeof message, "kms-digest: %s%s%s", step, reason[0] ? ": " : "", reason);
  napi_throw_error(env, "ERR_KMS_DIGEST", message);
  return NULL;
}

static int buffer_arg(napi_env env, napi_value value, bytes *out) {
  void *data = NULL;
  size_t length = 0;
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok) return 0;
  out->data = data;
  out->length = length;
  return 1;
}

static int string_arg(napi_env env, napi_value value, char *out, size_t size) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) return 0;
  return length < size - 1;
}

static int parse_scheme(const char *name, enum scheme *out) {
  if (strcmp(name, "pss") == 0) *out = SCHEME_PSS;
  else if (strcmp(name, "ecdsa") == 0) *out = SCHEME_ECDSA;
  else if (strcmp(name, "ed25519ph") == 0) *out = SCHEME_ED25519PH;
  else if (strcmp(name, "mldsa-mu") == 0) *out = SCHEME_MLDSA_MU;
  else return 0;
  return 1;
}

/* The digest algorithm of pss/ecdsa and its length: only the three hashes KMS signs with. */
static const EVP_MD *hash_of(const char *name, size_t *length) {
  if (strcmp(name, "SHA256") == 0) { *length = 32; return EVP_sha256(); }
  if (strcmp(name, "SHA384") == 0) { *length = 48; return EVP_sha384(); }
  if (strcmp(name, "SHA512") == 0) { *length = 64; return EVP_sha512(); }
  return NULL;
}

/*
 * A context initialized for signing (or verifying) a digest under the scheme, or NULL with *step set.
 * PSS and ECDSA: the classic EVP_PKEY_sign/verify, which take the digest as input once the signature digest is
 * set. Ed25519ph: the "ED25519ph" signature algorithm initialized with EVP_PKEY_{sign,verify}_init_ex2 (not the
 * *_message_init form): EVP_SIGNATURE-ED25519(7), OpenSSL 3.5 — then EVP_PKEY_sign/verify take the 64-byte
 * SHA-512 prehash itself. ML-DSA: the key's own algorithm with the "mu" parameter set to 1
 * (EVP_SIGNATURE-ML-DSA(7)), so EVP_PKEY_sign/verify take the 64-byte mu.
 */
static EVP_PKEY_CTX *prepare(EVP_PKEY *pkey, int signing, enum scheme scheme, const char *hash, size_t digest_length, const char **step) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  EVP_SIGNATURE *algorithm = NULL;
  if (ctx == NULL) { *step = "cannot create a key context"; return NULL; }
  int ok = 0;
  switch (scheme) {
    case SCHEME_PSS:
    case SCHEME_ECDSA: {
      size_t expected = 0;
      const EVP_MD *md = hash_of(hash, &expected);
      if (md == NULL) { *step = "unknown hash"; break; }
      if (digest_length != expected) { *step = "the digest's length does not match the hash"; break; }
      if (!EVP_PKEY_is_a(pkey, scheme == SCHEME_PSS ? "RSA" : "EC")) { *step = "the key does not fit the scheme"; break; }
      if ((signing ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) <= 0) { *step = "cannot initialize the signature"; break; }
      if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) { *step = "cannot set the signature digest"; break; }
      if (scheme == SCHEME_PSS) {
        if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
          *step = "cannot set the PSS parameters";
          break;
        }
      }
      ok = 1;
      break;
    }
    case SCHEME_ED25519PH: {
      if (digest_length != PREHASH_BYTES) { *step = "an Ed25519ph digest must be 64 bytes"; break; }
      if (!EVP_PKEY_is_a(pkey, "ED25519")) { *step = "the key does not fit the scheme"; break; }
      algorithm = EVP_SIGNATURE_fetch(NULL, "ED25519ph", NULL);
      if (algorithm == NULL) { *step = "Ed25519ph is not available"; break; }
      if ((signing ? EVP_PKEY_sign_init_ex2(ctx, algorithm, NULL) : EVP_PKEY_verify_init_ex2(ctx, algorithm, NULL)) <= 0) {
        *step = "cannot initialize the signature";
        break;
      }
      ok = 1;
      break;
    }
    case SCHEME_MLDSA_MU: {
      if (digest_length != PREHASH_BYTES) { *step = "an ML-DSA mu must be 64 bytes"; break; }
      const char *type = EVP_PKEY_get0_type_name(pkey);
      if (type == NULL || strncmp(type, "ML-DSA-", 7) != 0) { *step = "the key does not fit the scheme"; break; }
      algorithm = EVP_SIGNATURE_fetch(NULL, type, NULL);
      if (algorithm == NULL) { *step = "ML-DSA is not available"; break; }
      int mu = 1;
      OSSL_PARAM params[] = { OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_MU, &mu), OSSL_PARAM_construct_end() };
      if ((signing ? EVP_PKEY_sign_message_init(ctx, algorithm, params) : EVP_PKEY_verify_message_init(ctx, algorithm, params)) <= 0) {
        *step = "cannot initialize the signature";
        break;
      }
      ok = 1;
      break;
    }
  }
  EVP_SIGNATURE_free(algorithm); /* the context holds its own reference */
  if (!ok) {
    EVP_PKEY_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* Reads (key, digest, [signature,] scheme, hash). */
static int read_args(napi_env env, napi_callback_info info, size_t count, bytes *key, bytes *digest, bytes *signature, enum scheme *scheme, char *hash, size_t hash_size) {
  napi_value argv[5];
  size_t argc = 5;
  char scheme_name[16];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count) return 0;
  size_t at = 0;
  if (!buffer_arg(env, argv[at++], key) || !buffer_arg(env, argv[at++], digest)) return 0;
  if (signature != NULL && !buffer_arg(env, argv[at++], signature)) return 0;
  if (!string_arg(env, argv[at++], scheme_name, sizeof scheme_name) || !parse_scheme(scheme_name, scheme)) return 0;
  return string_arg(env, argv[at], hash, hash_size);
}

static napi_value sign(napi_env env, napi_callback_info info) {
  bytes key, digest;
  enum scheme scheme;
  char hash[16];
  if (!read_args(env, info, 4, &key, &digest, NULL, &scheme, hash, sizeof hash)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "kms-digest: sign(privateKeyPkcs8Der, digest, scheme, hash)");
    return NULL;
  }
  ERR_clear_error();
  const unsigned char *cursor = key.data;
  PKCS8_PRIV_KEY_INFO *info8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &cursor, (long)key.length);
  if (info8 == NULL) return fail(env, "the private key is not PKCS #8 DER");
  EVP_PKEY *pkey = EVP_PKCS82PKEY(info8);
  PKCS8_PRIV_KEY_INFO_free(info8);
  if (pkey == NULL) return fail(env, "the private key cannot be read");

  const char *step = NULL;
  EVP_PKEY_CTX *ctx = prepare(pkey, 1, scheme, hash, digest.length, &step);
  napi_value result = NULL;
  unsigned char *out = NULL;
  size_t length = 0;
  if (ctx == NULL) {
    fail(env, step);
  } else if (EVP_PKEY_sign(ctx, NULL, &length, digest.data, digest.length) <= 0 || (out = malloc(length)) == NULL) {
    fail(env, "cannot size the signature");
  } else if (EVP_PKEY_sign(ctx, out, &length, digest.data, digest.length) <= 0) {
    fail(env, "signing failed");
  } else if (napi_create_buffer_copy(env, length, out, NULL, &result) != napi_ok) {
    result = NULL;
    napi_throw_error(env, "ERR_KMS_DIGEST", "kms-digest: cannot return the signature");
  }
  free(out);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  return result;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  bytes key, digest, signature;
  enum scheme scheme;
  char hash[16];
  if (!read_args(env, info, 5, &key, &digest, &signature, &scheme, hash, sizeof hash)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "kms-digest: verify(publicKeySpkiDer, digest, signature, scheme, hash)");
    return NULL;
  }
  ERR_clear_error();
  const unsigned char *cursor = key.data;
  EVP_PKEY *pkey = d2i_PUBKEY(NULL, &cursor, (long)key.length);
  if (pkey == NULL) return fail(env, "the public key is not SubjectPublicKeyInfo DER");

  const char *step = NULL;
  EVP_PKEY_CTX *ctx = prepare(pkey, 0, scheme, hash, digest.length, &step);
  napi_value result = NULL;
  if (ctx == NULL) {
    fail(env, step);
  } else {
    /* 1 is a valid signature; 0 an invalid one; a negative value a malformed one (bad DER, wrong length): invalid. */
    int valid = EVP_PKEY_verify(ctx, signature.data, signature.length, digest.data, digest.length) == 1;
    if (napi_get_boolean(env, valid, &result) != napi_ok) result = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
    { "sign", NULL, sign, NULL, NULL, NULL, napi_enumerable, NULL },
    { "verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, 2, functions) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
