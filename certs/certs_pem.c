/*
 * certs_pem.c - files, PEM key pairs and the policy common to every
 * SSL_CTX (see certs_int.h).
 *
 * Files are opened once and checked through the open descriptor (no
 * race between a stat() and the read): a regular file, not larger than
 * CERTS_FILE_MAX, and for a private key no access by "others".  The
 * bytes are parsed from memory; a key's copy is wiped before it is freed.
 * OpenSSL never prompts for a passphrase: an encrypted key is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certs/certs_int.h"

/* Bytes of one file, read whole. */
struct certs_blob {
	char *data;
	size_t len;
	int secret;			/* wipe before freeing */
};

void
certs_errf(char *err, size_t errlen, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256];
	size_t used;
	va_list ap;
	int n;

	if (err == NULL || errlen == 0) {
		ERR_clear_error();
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n < 0)
		err[0] = '\0';
	if (e != 0) {
		ERR_error_string_n(e, reason, sizeof(reason));
		/* Keep only the human part of "error:CODE:lib:func:reason". */
		used = strlen(err);
		if (used + 2 < errlen)
			snprintf(err + used, errlen - used, ": %s",
			    ERR_reason_error_string(e) != NULL ?
			    ERR_reason_error_string(e) : reason);
	}
	ERR_clear_error();
}

/* Frees a blob, wiping a secret one first. */
static void
certs_blob_free(struct certs_blob *b)
{
	if (b->data != NULL && b->secret)
		OPENSSL_cleanse(b->data, b->len);
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* Reads what fd holds, at most CERTS_FILE_MAX bytes; 0 or -1 (errno). */
static int
certs_read_fd(int fd, size_t size, struct certs_blob *b)
{
	ssize_t n;

	b->data = malloc(size + 1);
	if (b->data == NULL)
		return -1;
	while (b->len < size) {
		n = read(fd, b->data + b->len, size - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	return 0;
}

/* Checks what the descriptor of path is; 0 or -1 with a message. */
static int
certs_check_fd(int fd, const char *label, const char *path, int is_key,
    size_t *size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		certs_errf(err, errlen, "%s: cannot read %s: %s", label, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		certs_errf(err, errlen, "%s: %s is not a regular file", label,
		    path);
		return -1;
	}
	if (is_key && (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		certs_errf(err, errlen, "%s: private key %s is accessible by "
		    "other users (mode %04o); allow only its owner and group: "
		    "chmod o-rwx %s", label, path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_size > CERTS_FILE_MAX) {
		certs_errf(err, errlen, "%s: %s is larger than %d bytes",
		    label, path, CERTS_FILE_MAX);
		return -1;
	}
	*size = (size_t)st.st_size;
	return 0;
}

/* Opens, checks and reads one file; 0 or -1 with a message. */
static int
certs_read_file(const char *label, const char *path, int is_key,
    struct certs_blob *b, char *err, size_t errlen)
{
	size_t size;
	int fd, rc = -1;

	memset(b, 0, sizeof(*b));
	b->secret = is_key;
	ERR_clear_error();	/* messages below are not OpenSSL's */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		certs_errf(err, errlen, "%s: cannot read %s: %s", label, path,
		    strerror(errno));
		return -1;
	}
	if (certs_check_fd(fd, label, path, is_key, &size, err, errlen) < 0)
		goto out;
	if (certs_read_fd(fd, size, b) < 0) {
		certs_errf(err, errlen, "%s: cannot read %s: %s", label, path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (rc < 0)
		certs_blob_free(b);
	return rc;
}

/* Passphrase callback: never prompt; remember that one was wanted. */
static int
certs_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	if (u != NULL)
		*(int *)u = 1;
	return -1;
}

/* 1 if the last OpenSSL error only says "no more PEM blocks". */
static int
certs_pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/*
 * Appends every certificate of path to chain (the first one to *leaf when
 * leaf is not NULL); 0 or -1 with a message.
 */
static int
certs_read_certs(const char *label, const char *path, X509 **leaf,
    STACK_OF(X509) *chain, char *err, size_t errlen)
{
	struct certs_blob b;
	BIO *bio;
	X509 *x;
	int count = 0, rc = -1;

	if (certs_read_file(label, path, 0, &b, err, errlen) < 0)
		return -1;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	if (bio == NULL) {
		certs_errf(err, errlen, "%s: out of memory", label);
		goto out;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, certs_no_passphrase,
	    NULL)) != NULL) {
		if (count++ == 0 && leaf != NULL)
			*leaf = x;
		else if (!sk_X509_push(chain, x)) {
			X509_free(x);
			certs_errf(err, errlen, "%s: out of memory", label);
			goto out;
		}
	}
	if (count == 0 || !certs_pem_at_end()) {
		certs_errf(err, errlen, "%s: %s %s", label, path, count == 0 ?
		    "holds no PEM certificate" : "has a damaged certificate");
		goto out;
	}
	ERR_clear_error();
	rc = 0;
out:
	BIO_free(bio);
	certs_blob_free(&b);
	return rc;
}

int
certs_read_chain(const char *label, const char *path, STACK_OF(X509) *out,
    char *err, size_t errlen)
{
	return certs_read_certs(label, path, NULL, out, err, errlen);
}

/* Reads the private key of path; NULL with a message. */
static EVP_PKEY *
certs_read_key(const char *label, const char *path, char *err, size_t errlen)
{
	struct certs_blob b;
	EVP_PKEY *key = NULL;
	BIO *bio;
	int wanted = 0;

	if (certs_read_file(label, path, 1, &b, err, errlen) < 0)
		return NULL;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	if (bio == NULL)
		certs_errf(err, errlen, "%s: out of memory", label);
	else {
		ERR_clear_error();
		key = PEM_read_bio_PrivateKey(bio, NULL, certs_no_passphrase,
		    &wanted);
		if (key == NULL && wanted)
			certs_errf(err, errlen, "%s: private key %s is "
			    "encrypted; spfgate needs it without a passphrase",
			    label, path);
		else if (key == NULL)
			certs_errf(err, errlen, "%s: %s holds no usable PEM "
			    "private key", label, path);
	}
	BIO_free(bio);
	certs_blob_free(&b);
	return key;
}

int
certs_pair_load(const struct certs_keypair *kp, struct certs_pair *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->chain = sk_X509_new_null();
	if (out->chain == NULL) {
		certs_errf(err, errlen, "%s: out of memory", kp->label);
		return -1;
	}
	if (certs_read_certs(kp->label, kp->cert_file, &out->leaf, out->chain,
	    err, errlen) < 0)
		return -1;
	if (kp->chain_file != NULL && kp->chain_file[0] != '\0' &&
	    certs_read_certs(kp->label, kp->chain_file, NULL, out->chain, err,
	    errlen) < 0)
		return -1;
	out->key = certs_read_key(kp->label, kp->key_file, err, errlen);
	if (out->key == NULL)
		return -1;
	ERR_clear_error();
	if (X509_check_private_key(out->leaf, out->key) != 1) {
		certs_errf(err, errlen, "%s: private key %s does not match "
		    "certificate %s", kp->label, kp->key_file, kp->cert_file);
		return -1;
	}
	return 0;
}

void
certs_pair_clear(struct certs_pair *p)
{
	if (p == NULL)
		return;
	X509_free(p->leaf);
	if (p->chain != NULL)
		sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof(*p));
}

int
certs_pair_install(SSL_CTX *ctx, const struct certs_pair *p,
    const char *label, char *err, size_t errlen)
{
	int i;

	ERR_clear_error();
	/* The certificate selects its key type's slot; the chain goes there. */
	if (SSL_CTX_use_certificate(ctx, p->leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, p->key) != 1) {
		certs_errf(err, errlen, "%s: OpenSSL refused the certificate "
		    "or key", label);
		return -1;
	}
	for (i = 0; i < sk_X509_num(p->chain); i++) {
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(p->chain, i)) !=
		    1) {
			certs_errf(err, errlen, "%s: OpenSSL refused chain "
			    "certificate %d", label, i + 1);
			return -1;
		}
	}
	return 0;
}

/* The lists of struct certs_tls; 0 or -1 with a message. */
static int
certs_ctx_lists(SSL_CTX *ctx, const struct certs_tls *tls, const char *what,
    char *err, size_t errlen)
{
	ERR_clear_error();
	if (tls->ciphers != NULL && tls->ciphers[0] != '\0' &&
	    SSL_CTX_set_cipher_list(ctx, tls->ciphers) != 1) {
		certs_errf(err, errlen, "%s ciphers: no usable cipher in '%s'",
		    what, tls->ciphers);
		return -1;
	}
	if (tls->ciphersuites != NULL && tls->ciphersuites[0] != '\0' &&
	    SSL_CTX_set_ciphersuites(ctx, tls->ciphersuites) != 1) {
		certs_errf(err, errlen, "%s ciphersuites: '%s' is not a valid "
		    "TLS 1.3 cipher suite list", what, tls->ciphersuites);
		return -1;
	}
	if (tls->groups != NULL && tls->groups[0] != '\0' &&
	    SSL_CTX_set1_groups_list(ctx, tls->groups) != 1) {
		certs_errf(err, errlen, "%s groups: '%s' is not a valid group "
		    "list", what, tls->groups);
		return -1;
	}
	return 0;
}

int
certs_ctx_policy(SSL_CTX *ctx, const struct certs_tls *tls, int server,
    const char *what, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "spfgate";
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;

	ERR_clear_error();
	if (SSL_CTX_set_min_proto_version(ctx, tls->min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, tls->max_version) != 1) {
		certs_errf(err, errlen, "%s: unsupported protocol range", what);
		return -1;
	}
	if (server && tls->prefer_server_ciphers)
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	if (server && !tls->session_tickets)
		opts |= SSL_OP_NO_TICKET;
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (server) {
		/* Workers do not share a cache: tickets resume, or nothing. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_session_id_context(ctx, sid_ctx,
		    sizeof(sid_ctx) - 1);
		if (!tls->session_tickets)
			SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_dh_auto(ctx, 1);
	}
	return certs_ctx_lists(ctx, tls, what, err, errlen);
}

const char *
certs_key_type(const EVP_PKEY *key)
{
	return certs_key_name(EVP_PKEY_get_id(key));
}

const char *
certs_key_name(int id)
{
	switch (id) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_RSA_PSS:
		return "RSA-PSS";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_ED25519:
		return "Ed25519";
	case EVP_PKEY_ED448:
		return "Ed448";
	default:
		return OBJ_nid2sn(id);
	}
}
