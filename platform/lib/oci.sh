#!/usr/bin/env bash
# Reading OCI image archives (platform/images/mkimage.sh and build-dockerfile.sh write
# them). Source after platform/lib.sh.

# oci_archive_image_name ARCHIVE -> the image name recorded in its index.json
oci_archive_image_name() {
  tar -xOf "$1" index.json | grep -o '"io.containerd.image.name":"[^"]*"' | head -1 | cut -d'"' -f4
}
