#!/usr/bin/env bash
# mkcerts.sh - the test PKI of the TLS tests, made with the openssl CLI.
#
# usage: mkcerts.sh DIR
#
# DIR/ca.pem            test CA (ECDSA P-256), the trust anchor
# DIR/NAME.pem, .key    leaf certificates signed by it (keys mode 0600):
#   mail-rsa            RSA 2048,  DNS mail.test, smtp.test   (CN mail.test)
#   mail-ec             ECDSA P-256, the same names            (CN mail.test)
#   other-rsa           RSA 2048,  DNS other.test             (CN other.test)
#   wild-rsa            RSA 2048,  DNS *.wild.test            (CN *.wild.test)
#   mail-rsa-2          RSA 2048,  mail.test again, new key  (O=Reloaded)
#   backend             ECDSA,     DNS backend.test, IP 127.0.0.1
#   backend-expired     ECDSA,     the same names, valid in January 2020 only
#   backend-wrongname   ECDSA,     DNS wrong.test only
#   client              ECDSA,     CN relay client (a client certificate)
# DIR/stray.key         an unrelated RSA key (for "does not match" tests)
# DIR/enc.key           an encrypted RSA key (passphrase "secret")
set -euo pipefail
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

ec_key ca.key
openssl req -new -x509 -key ca.key -out ca.pem -days 3650 -subj "/CN=spfgate test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# leaf NAME KEYTYPE SUBJECT SAN: signs NAME.key into NAME.pem for 10 days.
leaf() {
	local name=$1 type=$2 subj=$3 san=$4
	"${type}_key" "$name.key"
	openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' \
		"$san" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 10 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

leaf mail-rsa rsa "/CN=mail.test" "DNS:mail.test,DNS:smtp.test"
leaf mail-ec ec "/CN=mail.test" "DNS:mail.test,DNS:smtp.test"
leaf other-rsa rsa "/CN=other.test" "DNS:other.test"
leaf wild-rsa rsa "/CN=*.wild.test" "DNS:*.wild.test"
leaf mail-rsa-2 rsa "/O=Reloaded/CN=mail.test" "DNS:mail.test,DNS:smtp.test"
leaf backend ec "/CN=backend.test" "DNS:backend.test,IP:127.0.0.1"
leaf backend-wrongname ec "/CN=wrong.test" "DNS:wrong.test"
leaf client ec "/CN=relay client" "DNS:relay.test"

# An expired certificate needs explicit dates: "openssl ca" takes them.
ec_key backend-expired.key
openssl req -new -key backend-expired.key -subj "/CN=backend.test" -out expired.csr
mkdir -p ca.db
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $PWD/ca.db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
[ leaf ]
subjectAltName = DNS:backend.test,IP:127.0.0.1
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -notext \
	-startdate 20200101000000Z -enddate 20200131000000Z -extensions leaf \
	-in expired.csr -out backend-expired.pem 2>/dev/null
rm -f expired.csr

rsa_key stray.key
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-128-cbc \
	-pass pass:secret -out enc.key 2>/dev/null
chmod 600 ./*.key
chmod 644 ./*.pem
