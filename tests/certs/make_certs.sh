#!/bin/bash
# Creates the throw-away certificates the integration tests use, in OUTDIR
# (created if missing; existing files are overwritten). EC P-256 keys keep it
# fast. Needs only the openssl command (OpenSSL 3.0 or later).
#
#   ca.pem ca.key               test root CA "gptq test CA"
#   server.pem server.key       leaf from the CA, SAN localhost, 127.0.0.1, ::1
#   expired.pem expired.key     same SANs, validity entirely in the past
#   wronghost.pem wronghost.key leaf from the CA, SAN DNS:wrong.example only
#   selfsigned.pem selfsigned.key  self-signed leaf, SAN localhost, 127.0.0.1
#   other-ca.pem                an unrelated CA, for a wrong --cacert
#
# Usage: make_certs.sh OUTDIR
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gptq-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Extensions: the CA's, and a section per leaf kind. subjectAltName is
# appended per certificate by ext_with_san.
cat > "$tmp/ca-ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

# ext_with_san NAME SAN [self]: writes $tmp/NAME.ext with section [leaf] for a
# server certificate with subjectAltName SAN; "self" omits the issuer's key id.
ext_with_san() {
    {
        echo "[leaf]"
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, digitalSignature"
        echo "extendedKeyUsage = serverAuth"
        echo "subjectKeyIdentifier = hash"
        if [ "${3:-}" != self ]; then
            echo "authorityKeyIdentifier = keyid, issuer"
        fi
        echo "subjectAltName = $2"
    } > "$tmp/$1.ext"
}

# Minimal `openssl ca` setup: the only way in OpenSSL 3.0 to pick a start date
# in the past (x509 and req have no -not_before).
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = testca

[testca]
dir = $tmp
database = $tmp/index.txt
new_certs_dir = $tmp
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none

[anything]
commonName = supplied
CNF
: > "$tmp/index.txt"

# ossl ARGS...: runs openssl quietly; on failure shows its messages and stops.
ossl() {
    if ! openssl "$@" > "$tmp/log" 2>&1; then
        cat "$tmp/log" >&2
        echo "$0: openssl $1 failed" >&2
        exit 1
    fi
}

# make_ca NAME SUBJECT: self-signed CA certificate NAME.pem with key NAME.key.
make_ca() {
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
        -keyout "$out/$1.key" -out "$out/$1.pem" \
        -subj "$2" -days 3650 -sha256 \
        -config "$tmp/ca-ext.cnf" -extensions ca
}

# make_csr NAME CN SAN: key NAME.key, request $tmp/NAME.csr, and the
# extensions file $tmp/NAME.ext.
make_csr() {
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
        -keyout "$out/$1.key" -out "$tmp/$1.csr" \
        -subj "/CN=$2" -config "$tmp/ca-ext.cnf"
    ext_with_san "$1" "$3"
}

# sign NAME: NAME.pem from $tmp/NAME.csr, signed by the test CA, 30 days.
sign() {
    ossl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
        -extfile "$tmp/$1.ext" -extensions leaf -out "$out/$1.pem"
}

make_ca ca "/CN=gptq test CA"
make_ca other-ca "/CN=gptq other test CA"
rm -f "$out/other-ca.key"

make_csr server localhost "DNS:localhost, IP:127.0.0.1, IP:::1"
sign server

make_csr expired localhost "DNS:localhost, IP:127.0.0.1, IP:::1"
ossl ca -batch -notext -config "$tmp/ca.cnf" \
    -cert "$out/ca.pem" -keyfile "$out/ca.key" -in "$tmp/expired.csr" \
    -startdate 20200101000000Z -enddate 20200201000000Z \
    -extfile "$tmp/expired.ext" -extensions leaf -out "$out/expired.pem"

make_csr wronghost wrong.example "DNS:wrong.example"
sign wronghost

ext_with_san selfsigned "DNS:localhost, IP:127.0.0.1" self
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
        -keyout "$out/selfsigned.key" \
        -out "$out/selfsigned.pem" -subj "/CN=localhost" -days 30 -sha256 \
        -config "$tmp/selfsigned.ext" -extensions leaf
