/*
 * certs_int.h - internal interfaces shared by the certs/ sources.
 *
 * CONTRACT
 *	Nothing here is part of the public interface (certs/certs.h).
 *	  certs_pem.c	  reading files with the permission checks, parsing
 *			  PEM key pairs, the policy common to every SSL_CTX,
 *			  error text from OpenSSL's queue.
 *	  certs_server.c  server contexts grouped by names, SNI.
 *	  certs_client.c  the backend's client context.
 */
#ifndef CERTS_CERTS_INT_H
#define CERTS_CERTS_INT_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certs/certs.h"

/* A certificate, its chain and its private key, parsed and checked. */
struct certs_pair {
	X509 *leaf;
	STACK_OF(X509) *chain;		/* may be empty, never NULL once loaded */
	EVP_PKEY *key;
};

/*
 * Formats a message into err; when the OpenSSL error queue holds
 * something, ": <reason>" of its last entry is appended.  The queue is
 * cleared either way.
 */
void certs_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Loads and checks one pair (see certs.h for the checks).  0, or -1 with
 * a message starting with kp->label.  The pair must be cleared with
 * certs_pair_clear() in both cases.
 */
int certs_pair_load(const struct certs_keypair *kp, struct certs_pair *out,
    char *err, size_t errlen);

/*
 * Appends every certificate of a PEM file to out (file checks as for a
 * certificate); 0 or -1 with a message starting with label.
 */
int certs_read_chain(const char *label, const char *path,
    STACK_OF(X509) *out, char *err, size_t errlen);

/* Frees what a pair holds and zeroes it; NULL-safe. */
void certs_pair_clear(struct certs_pair *p);

/* Installs a loaded pair as one of ctx's certificates; 0 or -1. */
int certs_pair_install(SSL_CTX *ctx, const struct certs_pair *p,
    const char *label, char *err, size_t errlen);

/*
 * Applies the protocol policy and the fixed hardening options to ctx.
 * what names the context in messages ("[tls]" or "[backend]").
 */
int certs_ctx_policy(SSL_CTX *ctx, const struct certs_tls *tls, int server,
    const char *what, char *err, size_t errlen);

/* Short name of a key's type: "RSA", "ECDSA", "Ed25519", ... */
const char *certs_key_type(const EVP_PKEY *key);

/* The same for an EVP_PKEY id. */
const char *certs_key_name(int id);

#endif /* CERTS_CERTS_INT_H */
