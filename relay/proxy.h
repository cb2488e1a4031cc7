/*
 * proxy.h - parser of the HAProxy PROXY protocol header, v1 and v2.
 *
 * CONTRACT
 *	A load balancer in front of spfgate (haproxy "send-proxy" or
 *	"send-proxy-v2") prepends one header to the connection that names
 *	the real client.  proxy_parse() reads it from the first bytes of
 *	the stream, picohttpparser style: pure, incremental, allocation
 *	free, libc only.  Call it again with the longer buffer after each
 *	read until it returns non-zero:
 *
 *	  > 0	the header is complete: that many octets belong to it (the
 *		SMTP stream starts right after), *out is filled;
 *	  0	the bytes so far are a valid beginning: read more;
 *	  -1	not a valid PROXY header: out->error says why.  Drop the
 *		connection (the spec asks to abort as soon as possible).
 *
 *	Invalid input is rejected as early as the bytes allow (a wrong first
 *	octet fails at once), so the caller never waits for a header that
 *	cannot come.  The caller still owns the deadline for a header that
 *	stops half way (style rule 4).
 *
 *	Strictness follows the spec (doc/proxy-protocol.txt of haproxy):
 *	v1 is one line of at most PROXY_V1_MAX octets with CRLF, single
 *	spaces, upper-case keywords, dotted-quad IPv4 without leading zeros,
 *	ports 0..65535 without leading zeros; "UNKNOWN" ignores the rest of
 *	its line.  v2 needs version 2, command LOCAL or PROXY, a known
 *	family and transport, and a length of at most PROXY_V2_MAX_LEN; an
 *	address block shorter than its family needs is an error.  TLVs are
 *	walked for well-formedness and skipped, except PP2_TYPE_CRC32C, which
 *	is verified when present (a mismatch is an error).
 *
 *	out->local is 1 when the header says to keep the real connection's
 *	endpoints: v1 UNKNOWN, the v2 LOCAL command (health checks), and v2
 *	PROXY with a family or transport spfgate does not relay (AF_UNSPEC,
 *	AF_UNIX, UDP).  Otherwise src is the client and dst the address it
 *	connected to (struct sockaddr_in or sockaddr_in6, port set).
 *	out->check is 1 only for the v2 LOCAL command: the proxy opened the
 *	connection itself (a health check), no client is behind it.
 *
 *	Caution: with local set and check clear, a client IS behind the
 *	proxy but its address is unknown; the real endpoint is then the
 *	proxy's own address, which SPF records of the site may authorize.
 *	Evaluating SPF against it is the caller's policy decision (the spec
 *	allows rejecting such connections); do not do it by accident.
 *
 *	Caution: the header is trusted input only from the load balancer's
 *	address; the caller must accept PROXY headers only from configured
 *	peers, or any client can forge its address (and so its SPF result).
 */
#ifndef RELAY_PROXY_H
#define RELAY_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX 107	/* longest v1 line, CRLF included */
#define PROXY_V2_HEAD 16	/* fixed part of a v2 header */
#define PROXY_V2_MAX_LEN 1024	/* largest v2 length accepted (the spec:
				   a header always fits in one segment) */

/* What a complete header says. */
struct proxy_info {
	int version;			/* 1 or 2 */
	int local;			/* 1: use the real endpoints */
	int check;			/* 1: v2 LOCAL (proxy's own link) */
	struct sockaddr_storage src;	/* the client (AF_UNSPEC if local) */
	struct sockaddr_storage dst;	/* where it connected to */
	const char *error;		/* static reason after -1, else NULL */
};

/*
 * Parses the PROXY header at the start of buf[0..len).  Returns the
 * header's length when complete, 0 when more bytes are needed, -1 when
 * invalid (reason in out->error).  *out is overwritten in every case.
 */
int proxy_parse(const unsigned char *buf, size_t len, struct proxy_info *out);

#endif /* RELAY_PROXY_H */
