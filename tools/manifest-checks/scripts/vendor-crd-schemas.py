"""Vendors the openAPIV3Schema of the custom resources the generated repositories declare
(Flux, Argo CD) into manifest_checks/crds/, one JSON file per kind and version, so they are
schema-checked offline like built-in kinds.

The CRDs come from the Go module cache, fetched (checksum-verified by the Go module mirror)
with `go mod download`:

  go mod download -json github.com/fluxcd/source-controller@v1.9.6 \
      github.com/fluxcd/kustomize-controller@v1.9.6 github.com/argoproj/argo-cd/v3@v3.6.1
  python scripts/vendor-crd-schemas.py "$(go env GOMODCACHE)"

(Argo CD's module needs Go 1.27 to build, but `go mod download` fetches and verifies its zip
with any Go: the error it prints after the download is about building, not the files; this
script then reads the CRD from the verified zip.)
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "manifest_checks" / "crds"
SOURCES = [
    ("dir", "github.com/fluxcd/source-controller@v1.9.6/config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml"),
    ("dir", "github.com/fluxcd/kustomize-controller@v1.9.6/config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"),
    ("zip", "cache/download/github.com/argoproj/argo-cd/v3/@v/v3.6.1.zip",
     "github.com/argoproj/argo-cd/v3@v3.6.1/manifests/crds/application-crd.yaml"),
]


def read(modcache: Path, source: tuple[str, ...]) -> str:
    if source[0] == "dir":
        return (modcache / source[1]).read_text(encoding="utf-8")
    with zipfile.ZipFile(modcache / source[1]) as archive:
        return archive.read(source[2]).decode("utf-8")


def main(modcache: Path) -> None:
    OUT.mkdir(exist_ok=True)
    for source in SOURCES:
        crd = yaml.safe_load(read(modcache, source))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            schema = version["schema"]["openAPIV3Schema"]
            target = OUT / f"{kind.lower()}-{group}-{version['name']}.json"
            target.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
            print(f"{target.name}: {source[-1]}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
