/*
 * spf_rdata.c - bounded readers of DNS wire-format rdata.
 *
 * CONTRACT
 *	The resolver hands the engine rdata as libunbound's struct ub_result
 *	gives it: names uncompressed, TXT as <length octet><text> strings.
 *	Nothing here trusts a length it has not checked against rdlen; a
 *	malformed record is reported (-1) and the caller ignores it.
 *
 *	Names are converted to presentation text with no escapes, so a label
 *	holding '.', a space, a control octet or a non-ASCII octet is refused:
 *	such a name could not be asked again unambiguously anyway.
 */
#include "spf/spf_int.h"

/* Converts the wire name at rd[off] to text; -1 if unusable. */
int
spf_rdata_name(const unsigned char *rd, size_t rdlen, size_t off,
    char *out, size_t outlen)
{
	size_t len = 0, lab, i;
	unsigned char c;

	if (outlen == 0)
		return -1;
	for (;;) {
		if (off >= rdlen)
			return -1;
		lab = rd[off++];
		if (lab == 0)
			break;
		if (lab > 63 || lab > rdlen - off)
			return -1;
		if (len != 0) {
			if (len + 1 >= outlen)
				return -1;
			out[len++] = '.';
		}
		if (len + lab >= outlen)
			return -1;
		for (i = 0; i < lab; i++) {
			c = rd[off + i];
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[len++] = (char)c;
		}
		off += lab;
	}
	out[len] = '\0';
	return (int)len;
}

/* Total length of the TXT strings in rd, or -1 if malformed. */
long
spf_rdata_txt_len(const unsigned char *rd, size_t rdlen)
{
	size_t off = 0, n;
	long total = 0;

	while (off < rdlen) {
		n = rd[off++];
		if (n > rdlen - off)
			return -1;
		total += (long)n;
		off += n;
	}
	return total;
}

/* Copies the first n octets of the concatenated strings; returns count. */
size_t
spf_rdata_txt_copy(const unsigned char *rd, size_t rdlen, char *out,
    size_t n)
{
	size_t off = 0, got = 0, sl;

	while (off < rdlen && got < n) {
		sl = rd[off++];
		if (sl > rdlen - off)
			sl = rdlen - off;
		if (sl > n - got)
			sl = n - got;
		memcpy(out + got, rd + off, sl);
		got += sl;
		off += sl;
	}
	return got;
}
