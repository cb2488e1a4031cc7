/*
 * certs_client.c - the client context used for STARTTLS to the backend
 * (see certs.h).
 *
 * With verification on, the chain must lead to the CA file (or the system
 * store) and the certificate must carry the expected name, checked by
 * OpenSSL during the handshake (X509_VERIFY_PARAM host or IP): a failure
 * aborts the handshake and SSL_get_verify_result() says why.  Partial
 * wildcards ("mx*.example") are not accepted.  With verification off the
 * handshake still encrypts, but any certificate is taken.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certs/certs_int.h"

struct certs_client {
	int refs;
	SSL_CTX *ctx;
	int verify;
};

void
certs_client_free(struct certs_client *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

struct certs_client *
certs_client_ref(struct certs_client *c)
{
	c->refs++;
	return c;
}

/* Trust anchors: the CA file or the system store; 0 or -1 + err. */
static int
certs_client_trust(struct certs_client *c,
    const struct certs_client_policy *p, char *err, size_t errlen)
{
	const char *label = p->label != NULL ? p->label : "[backend]";
	STACK_OF(X509) *cas;
	X509_STORE *store;
	int i, rc;

	ERR_clear_error();
	if (p->ca_file == NULL || p->ca_file[0] == '\0') {
		if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			certs_errf(err, errlen, "%s: cannot use the system CA "
			    "store", label);
			return -1;
		}
		return 0;
	}
	/* Read through our own checks, for clear messages. */
	cas = sk_X509_new_null();
	if (cas == NULL) {
		certs_errf(err, errlen, "%s: out of memory", label);
		return -1;
	}
	rc = certs_read_chain(label, p->ca_file, cas, err, errlen);
	store = SSL_CTX_get_cert_store(c->ctx);
	for (i = 0; rc == 0 && i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
			certs_errf(err, errlen, "%s: cannot use CA certificate "
			    "%d of %s", label, i + 1, p->ca_file);
			rc = -1;
		}
	sk_X509_pop_free(cas, X509_free);
	if (rc < 0)
		return -1;
	return 0;
}

/* The optional client certificate; 0 or -1 + err. */
static int
certs_client_identity(struct certs_client *c,
    const struct certs_client_policy *p, char *err, size_t errlen)
{
	struct certs_keypair kp;
	struct certs_pair pair;
	int rc;

	if (p->cert_file == NULL || p->cert_file[0] == '\0')
		return 0;
	memset(&kp, 0, sizeof(kp));
	kp.label = p->label != NULL ? p->label : "[backend]";
	kp.cert_file = p->cert_file;
	kp.key_file = p->key_file;
	rc = certs_pair_load(&kp, &pair, err, errlen);
	if (rc == 0)
		rc = certs_pair_install(c->ctx, &pair, kp.label, err, errlen);
	certs_pair_clear(&pair);
	return rc;
}

struct certs_client *
certs_client_new(const struct certs_tls *tls,
    const struct certs_client_policy *policy, char *err, size_t errlen)
{
	const char *label = policy->label != NULL ? policy->label :
	    "[backend]";
	struct certs_client *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		certs_errf(err, errlen, "%s: out of memory", label);
		return NULL;
	}
	c->refs = 1;
	c->verify = policy->verify;
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		certs_errf(err, errlen, "%s: cannot create a TLS context",
		    label);
		goto fail;
	}
	if (certs_ctx_policy(c->ctx, tls, 0, label, err, errlen) < 0 ||
	    certs_client_identity(c, policy, err, errlen) < 0)
		goto fail;
	if (c->verify && certs_client_trust(c, policy, err, errlen) < 0)
		goto fail;
	SSL_CTX_set_verify(c->ctx, c->verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	return c;
fail:
	certs_client_free(c);
	return NULL;
}

int
certs_client_verifies(const struct certs_client *c)
{
	return c->verify;
}

/* Sets SNI and the expected host name; 0 or -1 + err. */
static int
certs_client_name(SSL *ssl, const char *name, char *err, size_t errlen)
{
	ERR_clear_error();
	if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1) {
		certs_errf(err, errlen, "[backend] tls_name '%s' is not "
		    "usable", name);
		return -1;
	}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

SSL *
certs_client_ssl_new(struct certs_client *c, const char *name,
    const char *ip, char *err, size_t errlen)
{
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(c->ctx);
	if (ssl == NULL) {
		certs_errf(err, errlen, "cannot create a TLS connection");
		return NULL;
	}
	if (name != NULL && name[0] != '\0') {
		if (certs_client_name(ssl, name, err, errlen) < 0)
			goto fail;
	} else if (c->verify && (ip == NULL || X509_VERIFY_PARAM_set1_ip_asc(
	    SSL_get0_param(ssl), ip) != 1)) {
		certs_errf(err, errlen, "backend address '%s' cannot be "
		    "verified", ip != NULL ? ip : "");
		goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

void
certs_ssl_failure(const SSL *ssl, unsigned long e, char *out, size_t outlen)
{
	long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	const char *reason;
	char buf[256];

	if (outlen == 0)
		return;
	if (v != X509_V_OK) {
		snprintf(out, outlen, "certificate verification failed: %s",
		    X509_verify_cert_error_string(v));
		return;
	}
	if (e == 0)
		e = ERR_get_error();
	if (e == 0) {
		snprintf(out, outlen, "connection closed during handshake");
		return;
	}
	reason = ERR_reason_error_string(e);
	if (reason == NULL) {
		ERR_error_string_n(e, buf, sizeof(buf));
		reason = buf;
	}
	snprintf(out, outlen, "%s", reason);
}
