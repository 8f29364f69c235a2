#!/usr/bin/env bash
# Reading OCI image archives (platform/images/mkimage.sh and build-dockerfile.sh write
# them). Source after platform/lib.sh.

# oci_archive_image_name ARCHIVE -> the image name recorded in its index.json. Parsed as
# JSON: mkimage.sh writes it compact, buildah indented.
oci_archive_image_name() {
  tar -xOf "$1" index.json \
    | jq -r 'first(.manifests[].annotations["io.containerd.image.name"] // empty) // empty'
}

# oci_archive_digest_reference ARCHIVE -> <name>@<manifest digest> of the image its
# index.json names (nothing when it names none): the reference a registry pull would
# record, so a pod can name this build by digest (platform/node/images.sh tags it).
oci_archive_digest_reference() {
  tar -xOf "$1" index.json | jq -r '
    first(.manifests[] | select(.annotations["io.containerd.image.name"] // empty)) // empty
    | (.annotations["io.containerd.image.name"] | sub("@.*$"; "")) as $ref
    # the name without its tag: a colon after the last slash starts the tag
    | ($ref | if test(":[^/]*$") then sub(":[^/]*$"; "") else . end) + "@" + .digest'
}
