#!/usr/bin/env bash
# oci_archive_image_name on the two index.json layouts the platform writes: compact
# (mkimage.sh) and indented (buildah), and on an archive that names no image.
set -euo pipefail
# shellcheck source=platform/lib/oci.sh
source "$(dirname "${BASH_SOURCE[0]}")/oci.sh"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

archive() { # archive NAME INDEX_JSON -> an archive holding only that index.json
  mkdir -p "${work}/$1"
  printf '%s\n' "$2" >"${work}/$1/index.json"
  tar -cf "${work}/$1.tar" -C "${work}/$1" index.json
  echo "${work}/$1.tar"
}
expect() { # expect WANT GOT
  [[ "$2" == "$1" ]] || { echo "FAIL: expected '$1', got '$2'" >&2; exit 1; }
}

expect localhost/golden-path/busybox:1.35.0 "$(oci_archive_image_name "$(archive compact \
  '{"manifests":[{"annotations":{"io.containerd.image.name":"localhost/golden-path/busybox:1.35.0"}}]}')")"
expect localhost/shop:1.0.0 "$(oci_archive_image_name "$(archive indented '{
  "manifests": [
    {
      "annotations": {
        "org.opencontainers.image.ref.name": "localhost/shop:1.0.0",
        "io.containerd.image.name": "localhost/shop:1.0.0"
      }
    }
  ]
}')")"
expect "" "$(oci_archive_image_name "$(archive unnamed '{"manifests":[{"annotations":{}}]}')")"
echo "oci_archive_image_name: compact, indented and unnamed index.json read"

digest="sha256:$(printf '%064d' 7)"
expect "localhost/shop@${digest}" "$(oci_archive_digest_reference "$(archive tagged \
  "{\"manifests\":[{\"digest\":\"${digest}\",\"annotations\":{\"io.containerd.image.name\":\"localhost/shop:1.0.0\"}}]}")")"
# A registry with a port: its colon is not a tag.
expect "127.0.0.1:5000/team/shop@${digest}" "$(oci_archive_digest_reference "$(archive port \
  "{\"manifests\":[{\"digest\":\"${digest}\",\"annotations\":{\"io.containerd.image.name\":\"127.0.0.1:5000/team/shop\"}}]}")")"
expect "" "$(oci_archive_digest_reference "$(archive unnamed-digest \
  "{\"manifests\":[{\"digest\":\"${digest}\",\"annotations\":{}}]}")")"
echo "oci_archive_digest_reference: tagged, registry-with-port and unnamed index.json read"
