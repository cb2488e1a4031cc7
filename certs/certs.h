/*
 * certs.h - spfgate's OpenSSL contexts: the server certificates (chosen by
 * SNI) and the client context used towards the backend.
 *
 * CONTRACT
 *	libc + OpenSSL only; no event loop, no configuration parser: the
 *	caller passes plain structs (relay/tls.c maps spfgate.conf to them).
 *
 *	Server side.  certs_server_new() loads every key pair (certificate,
 *	private key, optional chain; PEM) and refuses, with a message naming
 *	the pair and the file:
 *	  - a file that is missing, unreadable, not a regular file or larger
 *	    than CERTS_FILE_MAX;
 *	  - a private key readable or writable by "others" (mode bits 0006;
 *	    group-readable is fine: Debian's ssl-cert group), an encrypted
 *	    key, or a key that does not match its certificate;
 *	  - two pairs with the same key type for the same set of names.
 *	Pairs whose certificates carry the same set of DNS names (subjectAlt
 *	Name dNSName entries, else the subject CN; compared case-insensitively
 *	as sets) share one SSL_CTX, so an RSA and an ECDSA certificate for the
 *	same names sit side by side and OpenSSL picks the one the client can
 *	use.  The first pair's group is the default.  During the handshake
 *	the client's SNI name selects the first group whose certificate
 *	matches it exactly (X509_check_host without wildcards), else the
 *	first one matching through a wildcard, else the default.
 *	Every context gets the protocol policy of struct certs_tls plus
 *	SSL_OP_NO_COMPRESSION, SSL_OP_NO_RENEGOTIATION and
 *	SSL_MODE_RELEASE_BUFFERS (idle connections keep no record buffers);
 *	the server-side session cache is off (workers do not share it): only
 *	session tickets, if enabled, resume sessions.
 *
 *	Client side.  certs_client_new() builds one context for the backend:
 *	verification on or off, CA file or the system store, optional client
 *	certificate (same file checks).  certs_client_ssl_new() makes the SSL
 *	for one connection, sending SNI and expecting the name (or, without
 *	a name, the IP address) in the backend's certificate.
 *
 * OWNERSHIP
 *	A struct certs_server is reference counted: certs_server_new()
 *	returns one reference, certs_server_free() drops one, and every SSL
 *	made by certs_server_ssl_new() holds one until SSL_free().  So a
 *	reload may build a new set and free the old one at once: live
 *	connections keep the old certificates until they end.  The SSL_CTXs
 *	are themselves reference counted by OpenSSL.  A struct certs_client
 *	is reference counted the same way (certs_client_ref/_free) and may
 *	be freed while its SSLs live (they hold the SSL_CTX).
 *	Not thread-safe: one set is used by one thread (each worker process
 *	is single-threaded).
 */
#ifndef CERTS_CERTS_H
#define CERTS_CERTS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define CERTS_ERR_MAX 512		/* a comfortable error buffer */
#define CERTS_FILE_MAX (1024 * 1024)	/* largest PEM file read */

/* Protocol policy shared by the server and client contexts. */
struct certs_tls {
	int min_version;		/* TLS1_2_VERSION ...; 0 = OpenSSL's */
	int max_version;		/* TLS1_3_VERSION ...; 0 = OpenSSL's */
	const char *ciphers;		/* TLS <= 1.2 list; NULL/"" = default */
	const char *ciphersuites;	/* TLS 1.3 list; NULL/"" = default */
	const char *groups;		/* key exchange groups; NULL/"" = default */
	int prefer_server_ciphers;	/* server: choose by our order */
	int session_tickets;		/* server: issue session tickets */
};

/* One certificate with its key, as named in the configuration. */
struct certs_keypair {
	const char *label;		/* for messages: "[certificate rsa]" */
	const char *cert_file;		/* PEM: the certificate, then any chain */
	const char *key_file;		/* PEM private key, not encrypted */
	const char *chain_file;		/* PEM intermediates; NULL/"" = none */
};

struct certs_server;

/*
 * Loads the pairs and builds the contexts.  NULL with a message in err
 * (one line, no trailing newline) on any problem, including npairs 0.
 */
struct certs_server *certs_server_new(const struct certs_tls *tls,
    const struct certs_keypair *pairs, size_t npairs, char *err,
    size_t errlen);

/* Drops one reference; NULL-safe. */
void certs_server_free(struct certs_server *set);

/* Adds a reference (for another owner); returns set. */
struct certs_server *certs_server_ref(struct certs_server *set);

/* Number of contexts (groups of pairs with equal names). */
size_t certs_server_groups(const struct certs_server *set);

/*
 * One line describing group i for logs: "names=a.example,b.example
 * keys=RSA,ECDSA"; 0, or -1 if i is out of range or the text did not fit.
 */
int certs_server_describe(const struct certs_server *set, size_t i,
    char *out, size_t outlen);

/* A new server-side SSL (accept state not set); NULL on failure. */
SSL *certs_server_ssl_new(struct certs_server *set);

/* Backend policy. */
struct certs_client_policy {
	int verify;			/* 1: verify chain and name */
	const char *ca_file;		/* NULL/"" = the system store */
	const char *cert_file;		/* client certificate; NULL/"" = none */
	const char *key_file;
	const char *label;		/* for messages: "[backend]" */
};

struct certs_client;

/* Builds the client context; NULL with a message in err. */
struct certs_client *certs_client_new(const struct certs_tls *tls,
    const struct certs_client_policy *policy, char *err, size_t errlen);

/* Drops one reference; NULL-safe.  SSLs made from it stay usable. */
void certs_client_free(struct certs_client *c);

/* Adds a reference (for another owner); returns c. */
struct certs_client *certs_client_ref(struct certs_client *c);

/*
 * A new client-side SSL for one backend connection: SNI and the expected
 * name are name when it is set (not ""), else the certificate must carry
 * the IP address ip (a numeric IPv4 or IPv6 address; no SNI).  NULL with
 * a message in err on failure.
 */
SSL *certs_client_ssl_new(struct certs_client *c, const char *name,
    const char *ip, char *err, size_t errlen);

/* 1 if the client context verifies the peer. */
int certs_client_verifies(const struct certs_client *c);

/*
 * Describes why a handshake on ssl failed: the verification error when
 * there is one, else the OpenSSL error e (0: the next one in the thread's
 * queue), else "connection closed during handshake".
 */
void certs_ssl_failure(const SSL *ssl, unsigned long e, char *out,
    size_t outlen);

/* The subject CN (else the whole subject) of the certificate ssl sent. */
void certs_ssl_own_subject(const SSL *ssl, char *out, size_t outlen);

#endif /* CERTS_CERTS_H */
