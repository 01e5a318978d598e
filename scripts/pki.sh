#!/usr/bin/env bash
# Throwaway test PKI for the integration tests, the benches and `make demo`.
#
#   scripts/pki.sh OUTDIR
#
# Creates in OUTDIR (idempotent: an existing complete set is reused):
#   ca.pem ca.key                 test CA
#   broker.pem broker.key         broker certificate, CN/SAN localhost + IP 127.0.0.1
#   client.pfx client.pass        client certificate + key (+ CA) as PKCS#12, password file
#   client.pem client.key         the same client certificate as PEM (for tools that want it)
#   other-ca.pem other-ca.key     a second, unrelated CA (untrusted-server tests)
#   other-client.pfx              client certificate issued by the other CA (broker rejects it)
#   wronghost.pem wronghost.key   broker certificate for "not-this-host.example" (test CA)
#   expired.pfx                   client certificate valid 2020-01-01 .. 2021-01-01
#   legacy.pfx                    client.pfx re-packed with -legacy (RC2/3DES, SHA1 MAC)
# and a weak PKI mimicking the Bluetti cloud broker (EVIDENCE.md §5: keys below OpenSSL 3's
# default security level; a broker serving it needs `ciphers DEFAULT:@SECLEVEL=0`):
#   weak-ca.pem weak-ca.key       CA, RSA-1024, self-signed with SHA-1
#   weak-broker.pem .key          broker certificate, RSA-1024, SHA-1, localhost/127.0.0.1
#   weak-broker2.pem .key         the same names with another key (a "changed" broker key)
#   weak-client.pfx               RSA-1024 client key, SHA-1, weak CA inside
#   weakca-client.pfx             P-256 client key issued by the weak CA, weak CA inside
#   weak-bundle.pem               ca.pem + weak-ca.pem (a broker accepting both clients)
# Every PFX uses the password in client.pass. Keys and passwords are mode 0600.
# Nothing here is secret: the material is for tests only.
set -euo pipefail

OUT=${1:?usage: pki.sh OUTDIR}
mkdir -p "$OUT"
cd "$OUT"
umask 077

FILES="ca.pem ca.key broker.pem broker.key client.pfx client.pass client.pem client.key
other-ca.pem other-ca.key other-client.pfx wronghost.pem wronghost.key expired.pfx legacy.pfx"
SERVER_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth'
CLIENT_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
WEAK_FILES="weak-ca.pem weak-ca.key weak-broker.pem weak-broker.key weak-broker2.pem
weak-broker2.key weak-client.pfx weakca-client.pfx weak-bundle.pem"
OSSL=${OPENSSL:-openssl}
q() { "$OSSL" "$@" >/dev/null 2>&1 || { echo "pki.sh: openssl $1 failed" >&2; "$OSSL" "$@" >&2; exit 1; }; }

# The weak set (added to an existing complete set too). args: none; needs ca.pem, client.pass
mkweak() {
	local ext
	q req -x509 -newkey rsa:1024 -nodes -keyout weak-ca.key -sha1 -days 3650 \
		-subj "/CN=bluetti-c weak test CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out weak-ca.pem
	for b in weak-broker weak-broker2; do
		q req -newkey rsa:1024 -nodes -keyout $b.key -subj "/CN=localhost" -out $b.csr
		printf '%b\n' "$SERVER_EXT\nsubjectAltName=DNS:localhost,IP:127.0.0.1" >$b.ext
		q x509 -req -in $b.csr -CA weak-ca.pem -CAkey weak-ca.key -CAcreateserial -sha1 \
			-days 825 -extfile $b.ext -out $b.pem
		rm -f $b.csr $b.ext
	done
	ext=$(mktemp weak.XXXXXX)
	printf '%b\n' "$CLIENT_EXT" >"$ext"
	q req -newkey rsa:1024 -nodes -keyout weak-client.key -subj "/CN=bluetti-c-weak-client" \
		-out weak-client.csr
	q x509 -req -in weak-client.csr -CA weak-ca.pem -CAkey weak-ca.key -CAcreateserial \
		-sha1 -days 825 -extfile "$ext" -out weak-client.pem
	q pkcs12 -export -in weak-client.pem -inkey weak-client.key -certfile weak-ca.pem \
		-name weak -passout file:client.pass -out weak-client.pfx
	q genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out weakca-client.key
	q req -new -key weakca-client.key -subj "/CN=bluetti-c-weakca-client" -out weakca-client.csr
	q x509 -req -in weakca-client.csr -CA weak-ca.pem -CAkey weak-ca.key -CAcreateserial \
		-sha256 -days 825 -extfile "$ext" -out weakca-client.pem
	q pkcs12 -export -in weakca-client.pem -inkey weakca-client.key -certfile weak-ca.pem \
		-name weakca -passout file:client.pass -out weakca-client.pfx
	cat ca.pem weak-ca.pem >weak-bundle.pem
	rm -f "$ext" weak-client.csr weakca-client.csr weak-client.pem weak-client.key \
		weakca-client.pem weakca-client.key weak-ca.srl
	chmod 600 ./weak*.key ./weak*.pfx
	chmod 644 ./weak*.pem
}

complete=1
for f in $FILES; do [ -s "$f" ] || complete=0; done
weak_complete=1
for f in $WEAK_FILES; do [ -s "$f" ] || weak_complete=0; done
if [ $complete = 1 ]; then
	[ $weak_complete = 1 ] || mkweak
	exit 0
fi

key() { q genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# CA: self-signed, basicConstraints CA:TRUE.
mkca() { # name CN
	key "$1.key"
	q req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

# Leaf signed by a CA. args: name CA CN extfile-content
mkleaf() {
	local name=$1 ca=$2 cn=$3 ext=$4
	key "$name.key"
	q req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
	printf '%b\n' "$ext" >"$name.ext"
	q x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -sha256 \
		-days 825 -extfile "$name.ext" -out "$name.pem"
	rm -f "$name.csr" "$name.ext"
}


mkca ca "bluetti-c test CA"
mkca other-ca "bluetti-c unrelated CA"
mkleaf broker ca localhost "$SERVER_EXT\nsubjectAltName=DNS:localhost,IP:127.0.0.1"
mkleaf wronghost ca not-this-host.example "$SERVER_EXT\nsubjectAltName=DNS:not-this-host.example"
mkleaf client ca bluetti-c-test-client "$CLIENT_EXT"
mkleaf other-client other-ca bluetti-c-foreign-client "$CLIENT_EXT"

# Password: random, printable, no newline.
"$OSSL" rand -hex 12 | tr -d '\n' >client.pass

q pkcs12 -export -in client.pem -inkey client.key -certfile ca.pem -name client \
	-passout file:client.pass -out client.pfx
q pkcs12 -export -legacy -in client.pem -inkey client.key -certfile ca.pem -name client \
	-passout file:client.pass -out legacy.pfx
q pkcs12 -export -in other-client.pem -inkey other-client.key -certfile other-ca.pem \
	-name other -passout file:client.pass -out other-client.pfx

# Expired client certificate: OpenSSL 3.0's x509 cannot back-date, `openssl ca` can
# (-startdate/-enddate), with a minimal throwaway CA database.
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca-db/ca.cnf <<EOF
[ ca ]
default_ca = tca
[ tca ]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
x509_extensions = ext
[ pol ]
commonName = supplied
[ ext ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOF
key expired.key
q req -new -key expired.key -subj "/CN=bluetti-c-expired-client" -out expired.csr
q ca -batch -config ca-db/ca.cnf -startdate 20200101000000Z -enddate 20210101000000Z \
	-in expired.csr -out expired.pem -notext
q pkcs12 -export -in expired.pem -inkey expired.key -certfile ca.pem -name expired \
	-passout file:client.pass -out expired.pfx
rm -rf ca-db expired.csr expired.key expired.pem ca.srl other-ca.srl

chmod 600 ./*.key client.pass ./*.pfx
chmod 644 ./*.pem
mkweak
exit 0
