#!/usr/bin/env bash
# build-multistage.sh -- rebuild the multi-stage sample images (base detection,
# grouped base findings).  Needs no busybox: every file is a hand-made stub.
#
# What it does (all output lands next to this script):
#   1. writes the build context (tiny stub files, modes normalised) to a temp dir;
#   2. builds stage "base" of ./multistage.Containerfile and tags it
#      localhost/layerscope/base:1, then builds the whole file (final stage
#      FROM localhost/layerscope/base:1, COPY --from=builder) twice:
#        localhost/layerscope/multistage:1     podman's default --layers=true
#        localhost/layerscope/multistage:flat  --layers=false (buildah's default):
#                                              the final stage is one layer
#      all with chroot isolation, private overlay storage under a temp dir and
#      --timestamp 1704067200, so layers, diff_ids and configs are reproducible;
#   3. saves
#        multistage-base-oci.tar     podman save --format oci-archive   base:1
#        multistage-oci.tar          podman save --format oci-archive   multistage:1
#        multistage-docker.tar       podman save --format docker-archive multistage:1
#        multistage-flat-docker.tar  podman save --format docker-archive multistage:flat
#   4. checks what the tests rely on: layer counts (base 5, final 7, flat 6),
#      the base's diff_ids are the leading diff_ids of both finals, the 12
#      set-id files carry their bits, the OCI manifest of multistage:1 names
#      its base in org.opencontainers.image.base.name, and no registry host
#      name appears anywhere.
#
# Requirements (installs nothing itself): root, podman, python3, e.g.
#   apt-get install -y podman python3
# Idempotent; KEEP_WORK=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_IMAGE="localhost/layerscope/base:1"
IMAGE="localhost/layerscope/multistage:1"
FLAT_IMAGE="localhost/layerscope/multistage:flat"
TIMESTAMP=1704067200   # 2024-01-01T00:00:00Z

die() { echo "build-multistage.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (podman chroot build with real ownership)"
for tool in podman python3; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y podman python3)"
done

WORK="$(mktemp -d /tmp/layerscope-multistage.XXXXXX)"
STORE=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay)
cleanup() {
    set +e +o pipefail
    podman "${STORE[@]}" rmi -a -f >/dev/null 2>&1 || true
    grep -o " $WORK/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "build-multistage.sh: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- context
CTX="$WORK/ctx"
umask 022
mkdir -p "$CTX"/base/{bin,etc,root,var/cache/apt} "$CTX"/suid "$CTX"/sgid "$CTX"/app
printf '#!/bin/sh\n# stub: the sample has no shell\n' > "$CTX/base/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n' > "$CTX/base/etc/passwd"
printf 'root:x:0:\nshadow:x:42:\napp:x:1000:\n' > "$CTX/base/etc/group"
printf 'PRETTY_NAME="layerscope sample base"\nID=layerscope\n' > "$CTX/base/etc/os-release"
printf 'machine example.invalid login demo password FAKE-NOT-A-SECRET\n' > "$CTX/base/root/.netrc"
printf 'fake apt package cache\n' > "$CTX/base/var/cache/apt/pkgcache.bin"
printf 'fake apt source package cache\n' > "$CTX/base/var/cache/apt/srcpkgcache.bin"
for p in chfn chsh gpasswd mount newgrp passwd su umount; do
    printf '#!/bin/sh\n# stub of setuid %s\n' "$p" > "$CTX/suid/$p"
done
for p in chage expiry unix_chkpwd; do
    printf '#!/bin/sh\n# stub of setgid %s\n' "$p" > "$CTX/sgid/$p"
done
: > "$CTX/netrc-blank"
printf '#!/bin/sh\necho "demo app: $*"\n' > "$CTX/app/run"
printf 'mode = demo\n' > "$CTX/app/app.conf"
printf '#!/bin/sh\n# stub of a setuid helper\n' > "$CTX/helper"
find "$CTX" -type d -exec chmod 0755 {} +
find "$CTX" -type f -exec chmod 0644 {} +
chmod 0700 "$CTX/base/root"
chmod 0600 "$CTX/base/root/.netrc" "$CTX/netrc-blank"
chmod 0755 "$CTX/base/bin/sh" "$CTX/app/run" "$CTX"/suid/* "$CTX"/sgid/* "$CTX/helper"

# ---------------------------------------------------------------- build
BUILD=(build --isolation=chroot --cgroup-manager=cgroupfs --pull=never --timestamp "$TIMESTAMP"
       -f "$HERE/multistage.Containerfile")
podman "${STORE[@]}" "${BUILD[@]}" --target base -t "$BASE_IMAGE" "$CTX"
podman "${STORE[@]}" "${BUILD[@]}" -t "$IMAGE" "$CTX"
podman "${STORE[@]}" "${BUILD[@]}" --layers=false -t "$FLAT_IMAGE" "$CTX"

# ---------------------------------------------------------------- archives
OUT=(multistage-base-oci.tar multistage-oci.tar multistage-docker.tar multistage-flat-docker.tar)
for f in "${OUT[@]}"; do rm -f "$HERE/$f"; done
podman "${STORE[@]}" save --format oci-archive    -o "$HERE/multistage-base-oci.tar"    "$BASE_IMAGE"
podman "${STORE[@]}" save --format oci-archive    -o "$HERE/multistage-oci.tar"         "$IMAGE"
podman "${STORE[@]}" save --format docker-archive -o "$HERE/multistage-docker.tar"      "$IMAGE"
podman "${STORE[@]}" save --format docker-archive -o "$HERE/multistage-flat-docker.tar" "$FLAT_IMAGE"

# ---------------------------------------------------------------- checks
python3 - "$HERE" <<'PY' || die "check failed"
import gzip, io, json, re, sys, tarfile

here = sys.argv[1]

def image(name):
    """(diff_ids, layer tars in order, manifest annotations) of an archive."""
    t = tarfile.open(f"{here}/{name}")
    names = t.getnames()
    if "manifest.json" in names:
        m = json.load(t.extractfile("manifest.json"))[0]
        cfg = json.load(t.extractfile(m["Config"]))
        tars = [t.extractfile(x).read() for x in m["Layers"]]
        ann = {}
    else:
        idx = json.load(t.extractfile("index.json"))
        m = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
        cfg = json.load(t.extractfile("blobs/sha256/" + m["config"]["digest"][7:]))
        tars = [gzip.decompress(t.extractfile("blobs/sha256/" + x["digest"][7:]).read()) for x in m["layers"]]
        ann = m.get("annotations", {})
    meta = json.dumps([cfg, ann])
    if re.search(r"[a-z0-9-]+\.io\b|registry", meta, re.I):
        sys.exit(f"{name}: metadata mentions a registry host name")
    return cfg["rootfs"]["diff_ids"], tars, ann

base, _, _ = image("multistage-base-oci.tar")
layered, tars, ann = image("multistage-oci.tar")
docker, _, _ = image("multistage-docker.tar")
flat, _, _ = image("multistage-flat-docker.tar")
assert len(base) == 5, base
assert layered == docker and len(layered) == 7, layered
assert len(flat) == 6, flat
assert layered[:5] == base and flat[:5] == base
assert ann.get("org.opencontainers.image.base.name") == "localhost/layerscope/base:1", ann
setid = {}
for k, data in enumerate(tars):
    for ti in tarfile.open(fileobj=io.BytesIO(data)):
        if ti.isfile() and ti.mode & 0o6000:
            setid["/" + ti.name] = (k, ti.mode & 0o7777, ti.gid)
want = {f"/usr/bin/{p}": (1, 0o4755, 0) for p in "chfn chsh gpasswd mount newgrp passwd su umount".split()}
want |= {"/usr/bin/chage": (2, 0o2755, 42), "/usr/bin/expiry": (2, 0o2755, 42),
         "/usr/sbin/unix_chkpwd": (3, 0o2755, 42), "/usr/local/bin/app-helper": (6, 0o4755, 0)}
assert setid == want, setid
PY

ls -l "${OUT[@]/#/$HERE/}"
echo "build-multistage.sh: done"
