#!/usr/bin/env bash
# Reading OCI image archives (platform/images/mkimage.sh and build-dockerfile.sh write
# them). Source after platform/lib.sh.

# oci_archive_image_name ARCHIVE -> the image name recorded in its index.json. Parsed as
# JSON: mkimage.sh writes it compact, buildah indented.
oci_archive_image_name() {
  tar -xOf "$1" index.json \
    | jq -r 'first(.manifests[].annotations["io.containerd.image.name"] // empty) // empty'
}
