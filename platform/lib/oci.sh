#!/usr/bin/env bash
# oci_archive ROOTFS_DIR IMAGE_NAME OUT_FILE CONFIG_JSON
# Packs a directory as a one-layer OCI image archive that `ctr images import` accepts
# (oci-layout + index.json + blobs). CONFIG_JSON is the image config's "config" object,
# e.g. '{"Entrypoint":["/pause"]}'. Reproducible: sorted entries, fixed owner and
# mtime, gzip without a timestamp, so the same inputs give the same digests.
# Source after platform/lib.sh.

oci_archive() {
  local rootfs="$1" name="$2" out="$3" config_obj="$4"
  local tmp layer diff_id layer_digest layer_size config config_digest manifest manifest_digest
  tmp="$(mktemp -d)"
  mkdir -p "${tmp}/blobs/sha256"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${rootfs}" -cf "${tmp}/layer.tar" .
  diff_id="$(sha256sum < "${tmp}/layer.tar" | cut -d' ' -f1)"
  gzip -n -9 < "${tmp}/layer.tar" > "${tmp}/layer.tar.gz"
  layer_digest="$(sha256sum < "${tmp}/layer.tar.gz" | cut -d' ' -f1)"
  layer_size="$(stat -c %s "${tmp}/layer.tar.gz")"
  mv "${tmp}/layer.tar.gz" "${tmp}/blobs/sha256/${layer_digest}"

  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":${config_obj},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:${diff_id}\"]}}"
  config_digest="$(printf '%s' "${config}" | sha256sum | cut -d' ' -f1)"
  printf '%s' "${config}" > "${tmp}/blobs/sha256/${config_digest}"

  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:${config_digest}\",\"size\":${#config}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:${layer_digest}\",\"size\":${layer_size}}]}"
  manifest_digest="$(printf '%s' "${manifest}" | sha256sum | cut -d' ' -f1)"
  printf '%s' "${manifest}" > "${tmp}/blobs/sha256/${manifest_digest}"

  printf '{"imageLayoutVersion":"1.0.0"}' > "${tmp}/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
    "${manifest_digest}" "${#manifest}" "${name}" "${name##*:}" > "${tmp}/index.json"
  rm -f "${tmp}/layer.tar"
  mkdir -p "$(dirname "${out}")"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${tmp}" -cf "${out}.tmp" oci-layout index.json blobs
  mv "${out}.tmp" "${out}"
  rm -rf "${tmp}"
}

# oci_archive_image_name ARCHIVE -> the image name recorded in its index.json
oci_archive_image_name() {
  tar -xOf "$1" index.json | grep -o '"io.containerd.image.name":"[^"]*"' | head -1 | cut -d'"' -f4
}
