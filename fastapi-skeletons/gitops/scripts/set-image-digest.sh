#!/usr/bin/env bash
# Points an environment at one build: rewrites the image line of overlays/ENV/kustomization.yaml
# to `digest: sha256:...`, the way `kustomize edit set image` would, without needing kustomize.
#
#   scripts/set-image-digest.sh ENV sha256:<64 hex>     # set (the deploy workflow, for dev)
#   scripts/set-image-digest.sh --promote FROM TO       # TO gets the digest FROM runs
#   scripts/set-image-digest.sh --show ENV              # print the digest ENV runs
#
# Exit 1 with the reason when the overlay has no image line or FROM names no digest yet.
# {% raw %}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENVIRONMENTS=" dev staging prod "

die() { echo "set-image-digest: $*" >&2; exit "${2:-1}"; }
overlay() {
  [[ "$ENVIRONMENTS" == *" $1 "* ]] || die "unknown environment '$1' (one of:$ENVIRONMENTS)" 2
  printf '%s\n' "$ROOT/overlays/$1/kustomization.yaml"
}
show() {
  local digest
  digest="$(sed -nE 's/^[[:space:]]+digest:[[:space:]]*"?(sha256:[0-9a-f]{64})"?[[:space:]]*$/\1/p' "$(overlay "$1")")"
  [[ -n "$digest" ]] || die "overlays/$1 names no digest yet (it still deploys VERSION's tag)"
  printf '%s\n' "$digest"
}
set_digest() {
  local file count
  file="$(overlay "$1")"
  [[ "$2" =~ ^sha256:[0-9a-f]{64}$ ]] || die "not a digest: '$2' (sha256:<64 hex digits>)" 2
  count="$(grep -cE '^[[:space:]]+(newTag|digest):' "$file" || true)"
  [[ "$count" == 1 ]] || die "overlays/$1/kustomization.yaml must have exactly one newTag: or digest: line, found $count"
  sed -i -E "s/^([[:space:]]+)(newTag|digest):.*$/\1digest: \"$2\"/" "$file"
  echo "overlays/$1 now runs $2"
}

case "${1:-}" in
  --show) (($# == 2)) || die "usage: --show ENV" 2; show "$2" ;;
  --promote)
    (($# == 3)) || die "usage: --promote FROM TO" 2
    digest="$(show "$2")"
    set_digest "$3" "$digest" ;;
  -*|"") die "usage: ENV DIGEST | --promote FROM TO | --show ENV" 2 ;;
  *) (($# == 2)) || die "usage: ENV DIGEST" 2; set_digest "$1" "$2" ;;
esac
# {% endraw %}
