/*
 * certs_test.c - certs/ against a real test PKI (tests/tls/mkcerts.sh),
 * with complete TLS handshakes in memory (BIO pairs, no sockets).
 *
 * usage: certs_test PKI_DIR
 *
 * Covers: grouping by names (RSA + ECDSA side by side), SNI selection
 * (exact, case, wildcard, unknown, none), the certificate chosen for
 * RSA-only and ECDSA-only clients, the refusals (mismatched, encrypted,
 * world-readable key; missing, damaged, non-regular file; duplicate key
 * type for the same names; bad cipher lists), hardening options, the
 * protocol range, references surviving a reload, and the client side
 * (verification by CA and name or IP, expired and wrong-name certificates,
 * verification off, client certificate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certs/certs.h"
#include "tests/check.h"

#define PATH_LEN 1024
#define HANDSHAKE_ROUNDS 200

static const char *pki;
static char tmpdir[PATH_LEN / 2];

/* PKI_DIR/name into a static rotating buffer. */
static const char *
path(const char *name)
{
	static char buf[8][PATH_LEN];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, PATH_LEN, "%s/%s", pki, name);
	return p;
}

/* The policy of spfgate's defaults. */
static struct certs_tls
policy(void)
{
	struct certs_tls t;

	memset(&t, 0, sizeof(t));
	t.min_version = TLS1_2_VERSION;
	t.max_version = TLS1_3_VERSION;
	t.prefer_server_ciphers = 1;
	t.session_tickets = 1;
	return t;
}

/* A key pair of the PKI by base name ("mail-rsa"). */
static struct certs_keypair
pair(const char *label, const char *base)
{
	static char cert[16][PATH_LEN], key[16][PATH_LEN];
	static int next;
	struct certs_keypair kp;
	int i = next++ % 16;

	snprintf(cert[i], PATH_LEN, "%s/%s.pem", pki, base);
	snprintf(key[i], PATH_LEN, "%s/%s.key", pki, base);
	memset(&kp, 0, sizeof(kp));
	kp.label = label;
	kp.cert_file = cert[i];
	kp.key_file = key[i];
	return kp;
}

/* What the client saw after a handshake. */
struct seen {
	int ok;
	char subject[256];		/* server certificate's CN */
	int key_id;			/* its key type (EVP_PKEY_*) */
	char server_side[256];		/* certs_ssl_own_subject() */
	char failure[256];		/* certs_ssl_failure() of the client */
	long verify;
};

/* Runs a handshake between client and server SSLs over a BIO pair. */
static void
handshake(SSL *client, SSL *server, struct seen *out)
{
	BIO *bc = NULL, *bs = NULL;
	int rc, rs = 0, i;
	X509 *peer;
	unsigned long e = 0;

	memset(out, 0, sizeof(*out));
	if (BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		abort();
	SSL_set_bio(client, bc, bc);
	SSL_set_bio(server, bs, bs);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	for (i = 0; i < HANDSHAKE_ROUNDS; i++) {
		rc = SSL_do_handshake(client);
		if (rc <= 0 && SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) {
			e = ERR_peek_error();
			break;
		}
		rs = SSL_do_handshake(server);
		if (rs <= 0 && SSL_get_error(server, rs) != SSL_ERROR_WANT_READ)
			break;
		if (rc == 1 && rs == 1)
			break;
	}
	out->ok = i < HANDSHAKE_ROUNDS && SSL_is_init_finished(client) &&
	    SSL_is_init_finished(server);
	out->verify = SSL_get_verify_result(client);
	if (!out->ok)
		certs_ssl_failure(client, e, out->failure,
		    sizeof(out->failure));
	ERR_clear_error();
	peer = SSL_get0_peer_certificate(client);
	if (peer != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
		    NID_commonName, out->subject, sizeof(out->subject));
		out->key_id = EVP_PKEY_get_id(X509_get0_pubkey(peer));
	}
	certs_ssl_own_subject(server, out->server_side,
	    sizeof(out->server_side));
}

/* A plain client context with optional TLS 1.2 cipher / sigalgs limits. */
static SSL_CTX *
plain_client(int max_version, const char *cipher, const char *sigalgs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		abort();
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (max_version != 0)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	if (cipher != NULL)
		SSL_CTX_set_cipher_list(ctx, cipher);
	if (sigalgs != NULL)
		SSL_CTX_set1_sigalgs_list(ctx, sigalgs);
	return ctx;
}

/* Handshake of a plain client (SNI sni or none) with set. */
static void
connect_set(struct certs_server *set, const char *sni, int max_version,
    const char *cipher, const char *sigalgs, struct seen *out)
{
	SSL_CTX *ctx = plain_client(max_version, cipher, sigalgs);
	SSL *c = SSL_new(ctx), *s = certs_server_ssl_new(set);

	if (c == NULL || s == NULL)
		abort();
	if (sni != NULL)
		SSL_set_tlsext_host_name(c, sni);
	handshake(c, s, out);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(ctx);
}

/* The usual set: RSA + ECDSA for mail.test, RSA for other.test. */
static struct certs_server *
usual_set(char *err, size_t errlen)
{
	struct certs_tls t = policy();
	struct certs_keypair kp[3];

	kp[0] = pair("[certificate rsa]", "mail-rsa");
	kp[1] = pair("[certificate ec]", "mail-ec");
	kp[2] = pair("[certificate other]", "other-rsa");
	return certs_server_new(&t, kp, 3, err, errlen);
}

static void
test_grouping(void)
{
	char err[CERTS_ERR_MAX] = "", text[512];
	struct certs_server *set = usual_set(err, sizeof(err));

	CHECK(set != NULL);
	if (set == NULL) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK_INT(certs_server_groups(set), 2);
	CHECK_INT(certs_server_describe(set, 0, text, sizeof(text)), 0);
	CHECK_STR(text, "names=mail.test,smtp.test keys=RSA,ECDSA");
	CHECK_INT(certs_server_describe(set, 1, text, sizeof(text)), 0);
	CHECK_STR(text, "names=other.test keys=RSA");
	CHECK_INT(certs_server_describe(set, 2, text, sizeof(text)), -1);
	certs_server_free(set);
}

static void
test_sni(void)
{
	char err[CERTS_ERR_MAX] = "";
	struct certs_server *set = usual_set(err, sizeof(err));
	struct certs_keypair kp[2];
	struct certs_tls t = policy();
	struct seen r;

	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	connect_set(set, "other.test", 0, NULL, NULL, &r);
	CHECK(r.ok);
	CHECK_STR(r.subject, "other.test");
	CHECK_STR(r.server_side, "other.test");
	connect_set(set, "mail.test", 0, NULL, NULL, &r);
	CHECK(r.ok);
	CHECK_STR(r.subject, "mail.test");
	connect_set(set, "SMTP.Test", 0, NULL, NULL, &r);
	CHECK(r.ok);
	CHECK_STR(r.subject, "mail.test");	/* second name, any case */
	connect_set(set, NULL, 0, NULL, NULL, &r);
	CHECK(r.ok);
	CHECK_STR(r.subject, "mail.test");	/* default: the first */
	connect_set(set, "unknown.test", 0, NULL, NULL, &r);
	CHECK(r.ok);
	CHECK_STR(r.subject, "mail.test");
	certs_server_free(set);

	/* Wildcards: a.wild.test matches *.wild.test, a.b.wild.test not. */
	kp[0] = pair("[certificate other]", "other-rsa");
	kp[1] = pair("[certificate wild]", "wild-rsa");
	set = certs_server_new(&t, kp, 2, err, sizeof(err));
	CHECK(set != NULL);
	if (set == NULL)
		return;
	connect_set(set, "a.wild.test", 0, NULL, NULL, &r);
	CHECK_STR(r.subject, "*.wild.test");
	connect_set(set, "a.b.wild.test", 0, NULL, NULL, &r);
	CHECK_STR(r.subject, "other.test");
	certs_server_free(set);
}

static void
test_key_types(void)
{
	char err[CERTS_ERR_MAX] = "";
	struct certs_server *set = usual_set(err, sizeof(err));
	struct seen r;

	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	/* TLS 1.2 clients that can only use one kind of certificate. */
	connect_set(set, "mail.test", TLS1_2_VERSION,
	    "ECDHE-RSA-AES128-GCM-SHA256", NULL, &r);
	CHECK(r.ok);
	CHECK_INT(r.key_id, EVP_PKEY_RSA);
	connect_set(set, "mail.test", TLS1_2_VERSION,
	    "ECDHE-ECDSA-AES128-GCM-SHA256", NULL, &r);
	CHECK(r.ok);
	CHECK_INT(r.key_id, EVP_PKEY_EC);
	/* TLS 1.3: the signature algorithms decide. */
	connect_set(set, "mail.test", 0, NULL, "ecdsa_secp256r1_sha256", &r);
	CHECK(r.ok);
	CHECK_INT(r.key_id, EVP_PKEY_EC);
	connect_set(set, "mail.test", 0, NULL, "rsa_pss_rsae_sha256", &r);
	CHECK(r.ok);
	CHECK_INT(r.key_id, EVP_PKEY_RSA);
	/* A group with RSA only cannot serve an ECDSA-only client. */
	connect_set(set, "other.test", TLS1_2_VERSION,
	    "ECDHE-ECDSA-AES128-GCM-SHA256", NULL, &r);
	CHECK(!r.ok);
	certs_server_free(set);
}

/* Copies a PKI file into tmpdir with mode; returns the new path. */
static const char *
copy_with_mode(const char *src, const char *name, mode_t mode)
{
	static char dst[4][PATH_LEN];
	static int next;
	char *d = dst[next++ % 4], buf[8192];
	FILE *in, *out;
	size_t n;

	snprintf(d, PATH_LEN, "%s/%s", tmpdir, name);
	in = fopen(src, "rb");
	out = fopen(d, "wb");
	if (in == NULL || out == NULL)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	chmod(d, mode);
	return d;
}

/* certs_server_new() of one pair; 1 if refused with want in err. */
static int
refused(const char *cert, const char *key, const char *chain,
    const char *want)
{
	struct certs_tls t = policy();
	struct certs_keypair kp;
	struct certs_server *set;
	char err[CERTS_ERR_MAX] = "";

	memset(&kp, 0, sizeof(kp));
	kp.label = "[certificate x]";
	kp.cert_file = cert;
	kp.key_file = key;
	kp.chain_file = chain;
	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	if (set != NULL) {
		certs_server_free(set);
		fprintf(stderr, "    accepted, wanted \"%s\"\n", want);
		return 0;
	}
	if (strstr(err, want) == NULL || strncmp(err, "[certificate x]: ",
	    17) != 0) {
		fprintf(stderr, "    got \"%s\", wanted \"%s\"\n", err, want);
		return 0;
	}
	return 1;
}

static void
test_refusals(void)
{
	struct certs_tls t = policy();
	struct certs_keypair kp[2];
	struct certs_server *set;
	char err[CERTS_ERR_MAX] = "", garbage[PATH_LEN];
	const char *key;
	FILE *f;

	CHECK(refused(path("mail-rsa.pem"), path("stray.key"), NULL,
	    "does not match certificate"));
	CHECK(refused(path("mail-ec.pem"), path("mail-rsa.key"), NULL,
	    "does not match certificate"));
	CHECK(refused(path("nonexistent.pem"), path("mail-rsa.key"), NULL,
	    "cannot read"));
	CHECK(refused(path("mail-rsa.pem"), path("nonexistent.key"), NULL,
	    "No such file or directory"));
	CHECK(refused(path("mail-rsa.pem"), path("mail-rsa.key"),
	    path("nonexistent-chain.pem"), "cannot read"));
	CHECK(refused(path("mail-rsa.pem"), path("enc.key"), NULL,
	    "is encrypted"));
	CHECK(refused(pki, path("mail-rsa.key"), NULL,
	    "is not a regular file"));
	CHECK(refused(path("mail-rsa.key"), path("mail-rsa.key"), NULL,
	    "holds no PEM certificate"));
	key = copy_with_mode(path("mail-rsa.pem"), "cert-as-key.key", 0600);
	CHECK(refused(path("mail-rsa.pem"), key, NULL,
	    "holds no usable PEM private key"));
	snprintf(garbage, sizeof(garbage), "%s/garbage.pem", tmpdir);
	f = fopen(garbage, "w");
	if (f != NULL) {
		fputs("-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
		    "-----END CERTIFICATE-----\n", f);
		fclose(f);
	}
	CHECK(refused(garbage, path("mail-rsa.key"), NULL, "PEM certificate"));

	/* Readable or writable by others: refused; by the group: fine. */
	key = copy_with_mode(path("mail-rsa.key"), "o-read.key", 0644);
	CHECK(refused(path("mail-rsa.pem"), key, NULL,
	    "accessible by other users (mode 0644)"));
	key = copy_with_mode(path("mail-rsa.key"), "o-write.key", 0602);
	CHECK(refused(path("mail-rsa.pem"), key, NULL,
	    "accessible by other users"));
	key = copy_with_mode(path("mail-rsa.key"), "g-read.key", 0640);
	kp[0] = pair("[certificate g]", "mail-rsa");
	kp[0].key_file = key;
	set = certs_server_new(&t, kp, 1, err, sizeof(err));
	CHECK(set != NULL);
	certs_server_free(set);

	/* Two RSA certificates for the same names. */
	kp[0] = pair("[certificate a]", "mail-rsa");
	kp[1] = pair("[certificate b]", "mail-rsa-2");
	set = certs_server_new(&t, kp, 2, err, sizeof(err));
	CHECK(set == NULL);
	CHECK(strstr(err, "[certificate b]") == err);
	CHECK(strstr(err, "same names") != NULL);
	CHECK(strstr(err, "[certificate a]") != NULL);
	certs_server_free(set);

	/* No pair at all; cipher lists OpenSSL cannot use. */
	CHECK(certs_server_new(&t, kp, 0, err, sizeof(err)) == NULL);
	t.ciphers = "NO-SUCH-CIPHER";
	kp[0] = pair("[certificate a]", "mail-rsa");
	CHECK(certs_server_new(&t, kp, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[tls] ciphers") != NULL);
	t = policy();
	t.ciphersuites = "TLS_NO_SUCH_SUITE";
	CHECK(certs_server_new(&t, kp, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[tls] ciphersuites") != NULL);
	t = policy();
	t.groups = "NoSuchGroup";
	CHECK(certs_server_new(&t, kp, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[tls] groups") != NULL);
}

static void
test_chain_and_options(void)
{
	struct certs_tls t = policy();
	struct certs_keypair kp;
	struct certs_server *set;
	char err[CERTS_ERR_MAX] = "";
	SSL *ssl;

	kp = pair("[certificate rsa]", "mail-rsa");
	kp.chain_file = path("ca.pem");		/* any PEM certificate will do */
	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	CHECK(set != NULL);
	if (set == NULL)
		return;
	ssl = certs_server_ssl_new(set);
	CHECK(ssl != NULL);
	if (ssl != NULL) {
		CHECK(SSL_get_options(ssl) & SSL_OP_NO_COMPRESSION);
		CHECK(SSL_get_options(ssl) & SSL_OP_NO_RENEGOTIATION);
		CHECK(SSL_get_options(ssl) & SSL_OP_CIPHER_SERVER_PREFERENCE);
		CHECK(!(SSL_get_options(ssl) & SSL_OP_NO_TICKET));
		CHECK(SSL_get_mode(ssl) & SSL_MODE_RELEASE_BUFFERS);
		CHECK_INT(SSL_get_min_proto_version(ssl), TLS1_2_VERSION);
		SSL_free(ssl);
	}
	certs_server_free(set);
	t.session_tickets = 0;
	t.prefer_server_ciphers = 0;
	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	ssl = set != NULL ? certs_server_ssl_new(set) : NULL;
	CHECK(ssl != NULL);
	if (ssl != NULL) {
		CHECK(SSL_get_options(ssl) & SSL_OP_NO_TICKET);
		CHECK(!(SSL_get_options(ssl) & SSL_OP_CIPHER_SERVER_PREFERENCE));
		SSL_free(ssl);
	}
	certs_server_free(set);
}

static void
test_protocol_range(void)
{
	struct certs_tls t = policy();
	struct certs_keypair kp = pair("[certificate rsa]", "mail-rsa");
	struct certs_server *set;
	char err[CERTS_ERR_MAX] = "";
	struct seen r;

	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	connect_set(set, NULL, 0, NULL, NULL, &r);
	CHECK(r.ok);
	connect_set(set, NULL, TLS1_1_VERSION, NULL, NULL, &r);
	CHECK(!r.ok);				/* below the minimum */
	certs_server_free(set);
	t.min_version = TLS1_3_VERSION;
	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	CHECK(set != NULL);
	connect_set(set, NULL, TLS1_2_VERSION, NULL, NULL, &r);
	CHECK(!r.ok);
	certs_server_free(set);
}

/* An SSL keeps its set (and the SNI callback's data) after a reload. */
static void
test_references(void)
{
	char err[CERTS_ERR_MAX] = "";
	struct certs_server *set = usual_set(err, sizeof(err)), *fresh;
	SSL_CTX *ctx = plain_client(0, NULL, NULL);
	SSL *c, *s;
	struct seen r;

	if (set == NULL) {
		CHECK(set != NULL);
		SSL_CTX_free(ctx);
		return;
	}
	s = certs_server_ssl_new(set);
	fresh = usual_set(err, sizeof(err));	/* "reload" */
	certs_server_free(set);			/* the owner lets go */
	c = SSL_new(ctx);
	SSL_set_tlsext_host_name(c, "other.test");
	handshake(c, s, &r);			/* SNI callback uses the old set */
	CHECK(r.ok);
	CHECK_STR(r.subject, "other.test");
	SSL_free(c);
	SSL_free(s);				/* last reference: set freed */
	CHECK(certs_server_ref(fresh) == fresh);
	certs_server_free(fresh);
	certs_server_free(fresh);
	certs_server_free(NULL);
	SSL_CTX_free(ctx);
}

/* Client context against a server set made of one PKI pair. */
static void
connect_client(const struct certs_client_policy *p, const char *server,
    const char *name, const char *ip, struct seen *out)
{
	struct certs_tls t = policy();
	struct certs_keypair kp = pair("[certificate b]", server);
	char err[CERTS_ERR_MAX] = "";
	struct certs_server *set;
	struct certs_client *cl;
	SSL *c, *s;

	memset(out, 0, sizeof(*out));
	set = certs_server_new(&t, &kp, 1, err, sizeof(err));
	cl = certs_client_new(&t, p, err, sizeof(err));
	if (set == NULL || cl == NULL) {
		snprintf(out->failure, sizeof(out->failure), "setup: %.200s", err);
		certs_server_free(set);
		certs_client_free(cl);
		return;
	}
	c = certs_client_ssl_new(cl, name, ip, err, sizeof(err));
	certs_client_free(cl);			/* the SSL keeps the context */
	s = certs_server_ssl_new(set);
	certs_server_free(set);
	if (c != NULL && s != NULL)
		handshake(c, s, out);
	else
		snprintf(out->failure, sizeof(out->failure), "ssl: %.200s", err);
	SSL_free(c);
	SSL_free(s);
}

static void
test_client(void)
{
	struct certs_client_policy p;
	struct certs_client *cl;
	struct certs_tls t = policy();
	char err[CERTS_ERR_MAX] = "";
	struct seen r;

	memset(&p, 0, sizeof(p));
	p.verify = 1;
	p.ca_file = path("ca.pem");
	p.label = "[backend]";
	connect_client(&p, "backend", "backend.test", "127.0.0.1", &r);
	CHECK(r.ok);
	CHECK_INT(r.verify, X509_V_OK);
	connect_client(&p, "backend", "", "127.0.0.1", &r);	/* IP SAN */
	CHECK(r.ok);
	connect_client(&p, "backend", "", "127.0.0.2", &r);
	CHECK(!r.ok);
	CHECK(strstr(r.failure, "IP address mismatch") != NULL);
	connect_client(&p, "backend-expired", "backend.test", NULL, &r);
	CHECK(!r.ok);
	CHECK(strstr(r.failure, "certificate has expired") != NULL);
	connect_client(&p, "backend-wrongname", "backend.test", NULL, &r);
	CHECK(!r.ok);
	CHECK(strstr(r.failure, "hostname mismatch") != NULL);
	connect_client(&p, "mail-rsa", "backend.test", NULL, &r);
	CHECK(!r.ok);
	CHECK(strstr(r.failure, "hostname mismatch") != NULL);
	p.ca_file = path("mail-rsa.pem");	/* not the issuer */
	connect_client(&p, "backend", "backend.test", NULL, &r);
	CHECK(!r.ok);
	CHECK(strstr(r.failure, "certificate verification failed") != NULL);

	/* Verification off: anything goes, still encrypted. */
	p.verify = 0;
	p.ca_file = "";
	connect_client(&p, "backend-expired", "backend.test", NULL, &r);
	CHECK(r.ok);
	connect_client(&p, "backend-wrongname", "", "127.0.0.1", &r);
	CHECK(r.ok);

	/* Client certificate and the file checks on its key. */
	p.cert_file = path("client.pem");
	p.key_file = path("client.key");
	cl = certs_client_new(&t, &p, err, sizeof(err));
	CHECK(cl != NULL);
	CHECK(cl == NULL || !certs_client_verifies(cl));
	certs_client_free(cl);
	p.key_file = path("stray.key");
	CHECK(certs_client_new(&t, &p, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[backend]: private key") == err);
	p.cert_file = p.key_file = NULL;
	p.verify = 1;
	p.ca_file = path("no-such-ca.pem");
	CHECK(certs_client_new(&t, &p, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[backend]: cannot read") == err);
	p.ca_file = NULL;			/* the system store */
	cl = certs_client_new(&t, &p, err, sizeof(err));
	CHECK(cl != NULL);
	CHECK(cl == NULL || certs_client_verifies(cl));
	certs_client_free(cl);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: certs_test PKI_DIR\n");
		return 2;
	}
	pki = argv[1];
	snprintf(tmpdir, sizeof(tmpdir), "%s/certs_test.XXXXXX", pki);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_grouping();
	test_sni();
	test_key_types();
	test_refusals();
	test_chain_and_options();
	test_protocol_range();
	test_references();
	test_client();
	return check_report();
}
