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
# Every PFX uses the password in client.pass. Keys and passwords are mode 0600.
# Nothing here is secret: the material is for tests only.
set -euo pipefail

OUT=${1:?usage: pki.sh OUTDIR}
mkdir -p "$OUT"
cd "$OUT"
umask 077

FILES="ca.pem ca.key broker.pem broker.key client.pfx client.pass client.pem client.key
other-ca.pem other-ca.key other-client.pfx wronghost.pem wronghost.key expired.pfx legacy.pfx"
complete=1
for f in $FILES; do [ -s "$f" ] || complete=0; done
if [ $complete = 1 ]; then
	exit 0
fi

OSSL=${OPENSSL:-openssl}
q() { "$OSSL" "$@" >/dev/null 2>&1 || { echo "pki.sh: openssl $1 failed" >&2; "$OSSL" "$@" >&2; exit 1; }; }

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

SERVER_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth'
CLIENT_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'

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
exit 0
