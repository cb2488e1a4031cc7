/*
 * certs_server.c - the server certificates: one SSL_CTX per set of names,
 * chosen by SNI (see certs.h).
 *
 * Every SSL starts on the default context (group 0).  The servername
 * callback runs early in the handshake, finds the set through the SSL's
 * ex_data (which holds a reference, so the set outlives a reload for as
 * long as the handshake needs it) and switches the SSL to the group whose
 * certificate matches the name.  All groups carry the same policy, so the
 * switch changes only the certificates.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certs/certs_int.h"

#define CERTS_GROUP_KEYS 4		/* key types per group (RSA, EC, ...) */

/* Pairs whose certificates carry the same names, in one context. */
struct certs_group {
	SSL_CTX *ctx;
	X509 *leaf;			/* first pair's certificate, for SNI */
	char *names;			/* sorted, lower-case, ','-joined */
	int key_ids[CERTS_GROUP_KEYS];	/* EVP_PKEY ids installed */
	int nkeys;
};

struct certs_server {
	int refs;
	size_t ngroups;
	struct certs_group *groups;	/* [0] is the default */
};

static int certs_server_idx = -1;	/* SSL ex_data slot: the set */
static pthread_once_t certs_server_once = PTHREAD_ONCE_INIT;

/*
 * Reference counting
 */

/* Frees a group's contents. */
static void
certs_group_clear(struct certs_group *g)
{
	SSL_CTX_free(g->ctx);
	X509_free(g->leaf);
	free(g->names);
	memset(g, 0, sizeof(*g));
}

void
certs_server_free(struct certs_server *set)
{
	size_t i;

	if (set == NULL || --set->refs > 0)
		return;
	for (i = 0; i < set->ngroups; i++)
		certs_group_clear(&set->groups[i]);
	free(set->groups);
	free(set);
}

struct certs_server *
certs_server_ref(struct certs_server *set)
{
	set->refs++;
	return set;
}

/* ex_data destructor: an SSL ends, and with it its reference. */
static void
certs_server_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	certs_server_free(ptr);
}

/* Allocates the ex_data slot once per process. */
static void
certs_server_init_idx(void)
{
	certs_server_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    certs_server_ex_free);
}

/*
 * Names of a certificate
 */

/* Appends a lower-cased copy of name[0..len) to the vector; 0 or -1. */
static int
certs_names_push(char ***v, size_t *n, const unsigned char *name, size_t len)
{
	char **grown, *copy;
	size_t i;

	if (len == 0 || memchr(name, '\0', len) != NULL || memchr(name, ',',
	    len) != NULL)
		return 0;	/* not a host name: never matches SNI anyway */
	grown = realloc(*v, (*n + 1) * sizeof(**v));
	if (grown == NULL)
		return -1;
	*v = grown;
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	for (i = 0; i < len; i++)
		copy[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] + 32 : name[i]);
	copy[len] = '\0';
	(*v)[(*n)++] = copy;
	return 0;
}

/* The subjectAltName dNSName entries; 0 or -1. */
static int
certs_names_san(X509 *x, char ***v, size_t *n)
{
	GENERAL_NAMES *sans;
	const GENERAL_NAME *gn;
	int i, rc = 0;

	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && rc == 0 && i < sk_GENERAL_NAME_num(sans);
	    i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS)
			rc = certs_names_push(v, n,
			    ASN1_STRING_get0_data(gn->d.dNSName),
			    (size_t)ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	return rc;
}

/* The subject CN, used only when there is no dNSName; 0 or -1. */
static int
certs_names_cn(X509 *x, char ***v, size_t *n)
{
	const X509_NAME *subject = X509_get_subject_name(x);
	unsigned char *utf8 = NULL;
	int i, len, rc;

	i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (i < 0)
		return 0;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subject, i)));
	if (len < 0)
		return 0;
	rc = certs_names_push(v, n, utf8, (size_t)len);
	OPENSSL_free(utf8);
	return rc;
}

/* qsort comparator for C strings. */
static int
certs_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins the sorted vector without duplicates; NULL on out of memory. */
static char *
certs_names_join(char **v, size_t n)
{
	size_t i, total = 1, used = 0, len;
	char *out;

	for (i = 0; i < n; i++)
		total += strlen(v[i]) + 1;
	out = malloc(total);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		len = strlen(v[i]);
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, v[i], len + 1);
		used += len;
	}
	return out;
}

/* The certificate's name set as one canonical string; NULL on OOM. */
static char *
certs_names_of(X509 *x)
{
	char **v = NULL, *joined = NULL;
	size_t n = 0, i;

	if (certs_names_san(x, &v, &n) == 0 &&
	    (n > 0 || certs_names_cn(x, &v, &n) == 0)) {
		qsort(v, n, sizeof(*v), certs_names_cmp);
		joined = certs_names_join(v, n);
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return joined;
}

/*
 * SNI
 */

/* The group for an SNI name: exact match first, then wildcards. */
static const struct certs_group *
certs_server_pick(const struct certs_server *set, const char *name)
{
	static const unsigned int passes[2] = {
		X509_CHECK_FLAG_NO_WILDCARDS, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS
	};
	size_t i, p;

	for (p = 0; p < 2; p++)
		for (i = 0; i < set->ngroups; i++)
			if (X509_check_host(set->groups[i].leaf, name, 0,
			    passes[p], NULL) == 1)
				return &set->groups[i];
	return NULL;
}

/* servername callback: switch to the certificate matching the name. */
static int
certs_server_sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct certs_server *set;
	const struct certs_group *g;
	const char *name;

	(void)alert;
	(void)arg;
	set = SSL_get_ex_data(ssl, certs_server_idx);
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (set == NULL || name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	g = certs_server_pick(set, name);
	if (g == NULL)
		return SSL_TLSEXT_ERR_NOACK;	/* the default certificate */
	if (g->ctx != SSL_get_SSL_CTX(ssl) && SSL_set_SSL_CTX(ssl, g->ctx) ==
	    NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * Construction
 */

/* A server context with the policy and the SNI callback; NULL + err. */
static SSL_CTX *
certs_server_ctx_new(const struct certs_tls *tls, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		certs_errf(err, errlen, "[tls]: cannot create a TLS context");
		return NULL;
	}
	if (certs_ctx_policy(ctx, tls, 1, "[tls]", err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, certs_server_sni_cb);
	return ctx;
}

/* The group with this name set, or a new one; NULL + err. */
static struct certs_group *
certs_server_group(struct certs_server *set, const struct certs_tls *tls,
    char *names, X509 *leaf, char *err, size_t errlen)
{
	struct certs_group *g;
	size_t i;

	for (i = 0; i < set->ngroups; i++)
		if (strcmp(set->groups[i].names, names) == 0) {
			free(names);
			return &set->groups[i];
		}
	g = &set->groups[set->ngroups];
	g->names = names;
	g->ctx = certs_server_ctx_new(tls, err, errlen);
	if (g->ctx == NULL) {
		free(names);
		g->names = NULL;
		return NULL;
	}
	X509_up_ref(leaf);
	g->leaf = leaf;
	set->ngroups++;
	return g;
}

/* Loads pair i into its group; 0 or -1 with a message. */
static int
certs_server_add(struct certs_server *set, const struct certs_tls *tls,
    const struct certs_keypair *pairs, size_t i, size_t *group_of,
    char *err, size_t errlen)
{
	struct certs_pair pair;
	struct certs_group *g;
	char *names;
	int id, k, rc = -1;
	size_t j;

	if (certs_pair_load(&pairs[i], &pair, err, errlen) < 0)
		goto out;
	names = certs_names_of(pair.leaf);
	if (names == NULL) {
		certs_errf(err, errlen, "%s: out of memory", pairs[i].label);
		goto out;
	}
	g = certs_server_group(set, tls, names, pair.leaf, err, errlen);
	if (g == NULL)
		goto out;
	group_of[i] = (size_t)(g - set->groups);
	id = EVP_PKEY_get_id(pair.key);
	for (k = 0; k < g->nkeys; k++) {
		if (g->key_ids[k] != id)
			continue;
		for (j = 0; j < i && group_of[j] != group_of[i]; j++)
			;
		certs_errf(err, errlen, "%s: %s has the same names (%s) and "
		    "key type (%s) as %s; keep one of them", pairs[i].label,
		    pairs[i].cert_file, g->names[0] ? g->names : "none",
		    certs_key_type(pair.key), j < i ? pairs[j].label :
		    "another certificate");
		goto out;
	}
	if (g->nkeys == CERTS_GROUP_KEYS) {
		certs_errf(err, errlen, "%s: too many certificates for the "
		    "names %s", pairs[i].label, g->names);
		goto out;
	}
	if (certs_pair_install(g->ctx, &pair, pairs[i].label, err, errlen) < 0)
		goto out;
	g->key_ids[g->nkeys++] = id;
	rc = 0;
out:
	certs_pair_clear(&pair);
	return rc;
}

struct certs_server *
certs_server_new(const struct certs_tls *tls,
    const struct certs_keypair *pairs, size_t npairs, char *err,
    size_t errlen)
{
	struct certs_server *set;
	size_t *group_of = NULL, i;

	if (npairs == 0) {
		certs_errf(err, errlen, "no certificate configured");
		return NULL;
	}
	pthread_once(&certs_server_once, certs_server_init_idx);
	if (certs_server_idx < 0) {
		certs_errf(err, errlen, "cannot allocate OpenSSL ex_data");
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		goto fail_oom;
	set->refs = 1;
	set->groups = calloc(npairs, sizeof(*set->groups));
	group_of = calloc(npairs, sizeof(*group_of));
	if (set->groups == NULL || group_of == NULL)
		goto fail_oom;
	for (i = 0; i < npairs; i++)
		if (certs_server_add(set, tls, pairs, i, group_of, err,
		    errlen) < 0)
			goto fail;
	free(group_of);
	return set;
fail_oom:
	certs_errf(err, errlen, "out of memory loading certificates");
fail:
	free(group_of);
	certs_server_free(set);
	return NULL;
}

/*
 * Use
 */

size_t
certs_server_groups(const struct certs_server *set)
{
	return set->ngroups;
}

int
certs_server_describe(const struct certs_server *set, size_t i, char *out,
    size_t outlen)
{
	const struct certs_group *g;
	size_t used;
	int k, n;

	if (i >= set->ngroups || outlen == 0)
		return -1;
	g = &set->groups[i];
	n = snprintf(out, outlen, "names=%s keys=", g->names[0] != '\0' ?
	    g->names : "-");
	for (k = 0; n >= 0 && (size_t)n < outlen && k < g->nkeys; k++) {
		used = (size_t)n;
		n = snprintf(out + used, outlen - used, "%s%s", k ? "," : "",
		    certs_key_name(g->key_ids[k]));
		if (n >= 0)
			n += (int)used;
	}
	return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

SSL *
certs_server_ssl_new(struct certs_server *set)
{
	SSL *ssl;

	ssl = SSL_new(set->groups[0].ctx);
	if (ssl == NULL)
		return NULL;
	if (SSL_set_ex_data(ssl, certs_server_idx, set) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	set->refs++;			/* dropped by certs_server_ex_free */
	return ssl;
}

void
certs_ssl_own_subject(const SSL *ssl, char *out, size_t outlen)
{
	X509 *x = SSL_get_certificate(ssl);
	const X509_NAME *subject;
	unsigned char *utf8 = NULL;
	int i, len = -1;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (x == NULL)
		return;
	subject = X509_get_subject_name(x);
	i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (i >= 0)
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subject, i)));
	if (len >= 0)
		snprintf(out, outlen, "%.*s", len, (const char *)utf8);
	else
		X509_NAME_oneline(subject, out, (int)(outlen > 4096 ? 4096 :
		    outlen));
	OPENSSL_free(utf8);
}
