# SPDX-License-Identifier: Apache-2.0
"""A minimal OCI image archive, built without a registry or a builder:
one layer holding a static busybox, an entrypoint, and an index that names
the image, ready for `ctr images import`. The tests' pod sandbox (pause)
image."""
import hashlib
import io
import json
import os
import tarfile

BUSYBOX = "/bin/busybox"


def _blob(tar, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}", len(data)


def _layer(tools):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as layer:
        d = tarfile.TarInfo("bin")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        layer.addfile(d)
        with open(BUSYBOX, "rb") as f:
            data = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        layer.addfile(info, io.BytesIO(data))
        for tool in tools:
            link = tarfile.TarInfo(f"bin/{tool}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            layer.addfile(link)
    return buf.getvalue()


def build(path, name, entrypoint, tools=("sh", "sleep", "ip", "wget", "httpd")):
    """Write an OCI archive of the image `name` (e.g. cubenet.test/pause:1)."""
    layer = _layer(tools)
    with tarfile.open(path, "w") as tar:
        layer_digest, layer_size = _blob(tar, layer)
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Entrypoint": entrypoint},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
        config_digest, config_size = _blob(tar, config)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest, "size": layer_size}]}).encode()
        manifest_digest, manifest_size = _blob(tar, manifest)
        for fname, data in (
                ("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
                ("index.json", json.dumps({"schemaVersion": 2, "manifests": [{
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest, "size": manifest_size,
                    "annotations": {"io.containerd.image.name": name,
                                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]},
                    "platform": {"architecture": "amd64", "os": "linux"}}]}).encode())):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


if __name__ == "__main__":
    import sys
    build(sys.argv[1], sys.argv[2], sys.argv[3:])
    print(os.path.getsize(sys.argv[1]))
