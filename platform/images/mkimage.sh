#!/usr/bin/env bash
# Make an OCI image archive from root filesystems (folders or tars) and an image config,
# without a daemon, a registry or a storage backend: it writes the OCI image layout
# (layer tar.gz blobs + config + manifest + index.json) and tars it.
#
# usage: mkimage.sh --ref localhost/golden-path/NAME:TAG --out FILE.tar
#                   --layer DIR|TAR [--layer DIR|TAR ...]      (bottom first)
#                   [--entrypoint JSON-ARRAY] [--cmd JSON-ARRAY] [--env K=V ...]
#                   [--user UID[:GID]] [--workdir DIR] [--expose PORT/PROTO ...]
#                   [--stop-signal SIGNAL] [--label K=V ...]
#
# The archive imports with `ctr -n k8s.io images import FILE.tar` under the name --ref
# (annotation io.containerd.image.name) and pulls with buildah/skopeo/podman as
# `oci-archive:FILE.tar` (annotation org.opencontainers.image.ref.name = --ref, as
# containers/image writes it).
#
# Reproducible: entries sorted, numeric owners, mtimes clamped to SOURCE_DATE_EPOCH
# (default 0), gzip without names/timestamps, created = SOURCE_DATE_EPOCH. Same inputs,
# same digests: containerd then dedups re-imports. A folder keeps its owners and the
# security.capability xattr (file capabilities, e.g. CoreDNS binding port 53 as non-root).
# A tar is taken as it is (e.g. mmdebstrap's output); a .tar.gz/.tgz is decompressed.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-images.sh"

require_cmd jq jq
require_cmd gzip gzip
require_cmd tar tar

ref="" out="" entrypoint="" cmd="" user="" workdir="" stop_signal=""
layers=() envs=() exposes=() labels=()
while (($#)); do
  case "$1" in
    --ref) ref="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --layer) layers+=("$2"); shift 2 ;;
    --entrypoint) entrypoint="$2"; shift 2 ;;
    --cmd) cmd="$2"; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --expose) exposes+=("$2"); shift 2 ;;
    --stop-signal) stop_signal="$2"; shift 2 ;;
    --label) labels+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" >&2; exit 2 ;;
    *) die "mkimage.sh: unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n "${ref}" && -n "${out}" && ${#layers[@]} -gt 0 ]] || die "mkimage.sh needs --ref, --out and at least one --layer (see --help)"
[[ "${ref}" =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+:[A-Za-z0-9_.-]+$ ]] || die "--ref '${ref}' must be host/path:tag, e.g. ${IMAGE_PREFIX}/pause:3.10"
for j in "${entrypoint}" "${cmd}"; do
  [[ -z "${j}" ]] || jq -e 'type == "array" and all(type == "string")' <<<"${j}" >/dev/null 2>&1 \
    || die "--entrypoint/--cmd must be a JSON array of strings, got: ${j}"
done

epoch="${SOURCE_DATE_EPOCH:-0}"
created="$(date -u -d "@${epoch}" +%Y-%m-%dT%H:%M:%SZ)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/layout/blobs/sha256"
blobs="${work}/layout/blobs/sha256"

# blob_from <file>: move a file into blobs/ under its digest; print "sha256:<hex> <size>".
blob_from() {
  local hex size
  hex="$(sha256sum "$1" | awk '{print $1}')"
  size="$(stat -c %s "$1")"
  mv "$1" "${blobs}/${hex}"
  printf 'sha256:%s %s\n' "${hex}" "${size}"
}

diff_ids=() layer_descs=() history=() info=()
i=0
for src in "${layers[@]}"; do
  i=$((i + 1))
  raw="${work}/layer-${i}.tar"
  if [[ -d "${src}" ]]; then
    # Entry list without "./" prefixes, sorted bytewise, so the tar is the same on every
    # machine and its paths look like any registry image's.
    (cd "${src}" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) > "${work}/list-${i}"
    tar -C "${src}" --no-recursion --verbatim-files-from -T "${work}/list-${i}" \
      --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
      --mtime="@${epoch}" --clamp-mtime --numeric-owner \
      --xattrs --xattrs-include='security.capability' \
      -cf "${raw}"
  elif [[ -f "${src}" ]]; then
    case "${src}" in
      *.tar.gz|*.tgz) gzip -dc "${src}" > "${raw}" ;;
      *.tar) cp --reflink=auto "${src}" "${raw}" ;;
      *) die "layer '${src}' is neither a folder nor a .tar/.tar.gz file" ;;
    esac
  else
    die "layer '${src}' does not exist"
  fi
  raw_size="$(stat -c %s "${raw}")"
  diff_ids+=("sha256:$(sha256sum "${raw}" | awk '{print $1}')")
  gzip -n -6 "${raw}"
  read -r digest size < <(blob_from "${raw}.gz")
  layer_descs+=("$(jq -cn --arg d "${digest}" --argjson s "${size}" \
    '{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}')")
  history+=("$(jq -cn --arg c "${created}" --arg b "golden-path mkimage.sh: layer $(basename "${src}")" '{created: $c, created_by: $b}')")
  info+=("layer${i}=$(basename "${src}") raw=${raw_size} gz=${size}")
done

# The image config (OCI image-spec config.md). Env always has a PATH, as Docker's do.
env_json="$(printf '%s\n' "${envs[@]+"${envs[@]}"}" | jq -Rsc 'split("\n") | map(select(length > 0))')"
jq -e 'any(startswith("PATH="))' <<<"${env_json}" >/dev/null \
  || env_json="$(jq -c '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + .' <<<"${env_json}")"
ports_json="$(printf '%s\n' "${exposes[@]+"${exposes[@]}"}" | jq -Rsc 'split("\n") | map(select(length > 0) | {(if test("/") then . else . + "/tcp" end): {}}) | add // {}')"
labels_json="$(printf '%s\n' "${labels[@]+"${labels[@]}"}" | jq -Rsc 'split("\n") | map(select(length > 0) | split("=") | {(.[0]): (.[1:] | join("="))}) | add // {}')"
jq -cn \
  --arg created "${created}" \
  --argjson env "${env_json}" \
  --argjson ports "${ports_json}" \
  --argjson labels "${labels_json}" \
  --arg user "${user}" --arg workdir "${workdir}" --arg stop "${stop_signal}" \
  --argjson entrypoint "${entrypoint:-null}" --argjson cmd "${cmd:-null}" \
  --argjson diff_ids "$(printf '%s\n' "${diff_ids[@]}" | jq -Rsc 'split("\n") | map(select(length > 0))')" \
  --argjson history "$(printf '%s\n' "${history[@]}" | jq -sc .)" \
  '{
     created: $created, architecture: "amd64", os: "linux",
     config: ({Env: $env}
       + (if $entrypoint then {Entrypoint: $entrypoint} else {} end)
       + (if $cmd then {Cmd: $cmd} else {} end)
       + (if $user != "" then {User: $user} else {} end)
       + (if $workdir != "" then {WorkingDir: $workdir} else {} end)
       + (if ($ports | length) > 0 then {ExposedPorts: $ports} else {} end)
       + (if ($labels | length) > 0 then {Labels: $labels} else {} end)
       + (if $stop != "" then {StopSignal: $stop} else {} end)),
     rootfs: {type: "layers", diff_ids: $diff_ids},
     history: $history
   }' > "${work}/config.json"
read -r config_digest config_size < <(blob_from "${work}/config.json")

jq -cn --arg cd "${config_digest}" --argjson cs "${config_size}" --arg created "${created}" --arg ref "${ref}" \
  --argjson layers "$(printf '%s\n' "${layer_descs[@]}" | jq -sc .)" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
    layers: $layers,
    annotations: {"org.opencontainers.image.created": $created, "org.opencontainers.image.ref.name": $ref}}' \
  > "${work}/manifest.json"
read -r manifest_digest manifest_size < <(blob_from "${work}/manifest.json")

jq -cn --arg md "${manifest_digest}" --argjson ms "${manifest_size}" --arg ref "${ref}" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
                 platform: {architecture: "amd64", os: "linux"},
                 annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $ref}}]}' \
  > "${work}/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "${work}/layout/oci-layout"

mkdir -p "$(dirname "${out}")"
(cd "${work}/layout" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) > "${work}/list-layout"
tar -C "${work}/layout" --no-recursion --verbatim-files-from -T "${work}/list-layout" \
  --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
  --mtime="@${epoch}" --owner=0 --group=0 --numeric-owner -cf "${out}.partial"
mv "${out}.partial" "${out}"
{
  printf 'manifest=%s config=%s\n' "${manifest_digest}" "${config_digest}"
  printf '%s\n' "${info[@]}"
} > "${out}.info"
log "mkimage: ${ref} -> ${out} ($(stat -c %s "${out}") bytes, manifest ${manifest_digest})"
