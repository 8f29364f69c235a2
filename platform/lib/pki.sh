#!/usr/bin/env bash
# Certificates and kubeconfigs of the local cluster, all signed by one throw-away CA in
# ${PKI} (30 days, deleted by `cluster.sh stop`). Source after platform/lib.sh.
# ECDSA P-256 keys throughout: a fraction of RSA's key-generation time, which matters
# on a busy 2-core CI machine.

gen_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 \
    -keyout "${PKI}/$1.key" -out "${PKI}/$1.crt" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

# gen_cert NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]  (CA_NAME=ca by default)
gen_cert() {
  local name="$1" subj="$2" eku="$3" san="${4:-}" ca="${CA_NAME:-ca}"
  local ext="${PKI}/${name}.ext"
  mkdir -p "$(dirname "${PKI}/${name}")"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=${eku}"
    [[ -n "${san}" ]] && echo "subjectAltName=${san}"
  } > "${ext}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout "${PKI}/${name}.key" \
    -out "${PKI}/${name}.csr" -subj "${subj}" 2>/dev/null
  openssl x509 -req -sha256 -days 30 -in "${PKI}/${name}.csr" -CA "${PKI}/${ca}.crt" -CAkey "${PKI}/${ca}.key" \
    -CAcreateserial -out "${PKI}/${name}.crt" -extfile "${ext}" 2>/dev/null
  rm -f "${PKI}/${name}.csr" "${ext}"
  chmod 600 "${PKI}/${name}.key"
}

b64() { base64 -w0 < "$1"; }

# write_kubeconfig FILE CERT_NAME SERVER: a kubeconfig with the client cert ${PKI}/CERT_NAME.crt
write_kubeconfig() {
  local file="$1" user="$2" server="$3"
  (
    umask 077
    cat > "${file}" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: $(b64 "${PKI}/ca.crt")
users:
- name: ${user##*/}
  user:
    client-certificate-data: $(b64 "${PKI}/${user}.crt")
    client-key-data: $(b64 "${PKI}/${user}.key")
contexts:
- name: local
  context:
    cluster: local
    user: ${user##*/}
current-context: local
KUBECONFIG
  )
}
