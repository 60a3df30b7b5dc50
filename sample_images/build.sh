#!/usr/bin/env bash
# build.sh -- rebuild the layerscope sample images and their expected listings.
#
# What it does (all output lands next to this script):
#   1. builds ./Containerfile FROM scratch with podman (chroot isolation,
#      private overlay storage under a temp dir, --timestamp 1704067200 so
#      layer contents, diff_ids and the config are reproducible);
#   2. writes the same image in three archive formats:
#        sample-docker.tar    podman save --format docker-archive   (uncompressed layers)
#        sample-oci-gzip.tar  podman save --format oci-archive      (gzip layers)
#        sample-oci-zstd.tar  skopeo copy --dest-compress-format zstd ... oci-archive:
#   3. checks the archives contain no registry host name and no apt sources;
#   4. for each archive, unpacks the top image and every prefix of its layers
#      (L0..Ln, via oci_truncate.py) with `umoci unpack` and writes
#        <archive-basename>.expected.txt      (top of image)
#        <archive-basename>.L<k>.expected.txt (merged tree of layers 0..k)
#      using listing.py.
#
# Requirements (installs nothing itself):
#   root; Debian bookworm packages: podman buildah skopeo umoci busybox-static
#   (fuse-overlayfs only if kernel overlay is unavailable) and python3, e.g.
#     apt-get install -y podman buildah skopeo umoci busybox-static python3
#   /bin/busybox must be the static busybox (busybox-static package).
#
# Idempotent: every run starts from an empty private storage/temp dir and
# overwrites the outputs.  Set KEEP_WORK=1 to keep the temp dir for debugging.
#
# The multi-stage sample (multistage-*.tar: base detection, grouped base
# findings) has its own script, build-multistage.sh, which needs no busybox.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="localhost/layerscope/sample:1"
TIMESTAMP=1704067200   # 2024-01-01T00:00:00Z
BUSYBOX="${BUSYBOX:-/bin/busybox}"

die() { echo "build.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (podman chroot build, umoci unpack with ownership)"
for tool in podman skopeo umoci python3 tar; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y podman skopeo umoci busybox-static python3)"
done
[ -x "$BUSYBOX" ] || die "missing $BUSYBOX (apt-get install -y busybox-static)"
if ! python3 - "$BUSYBOX" <<'PY'
import sys
with open(sys.argv[1], "rb") as f:
    head = f.read(1 << 20)
# a dynamically linked ELF carries a PT_INTERP path to the loader
sys.exit(1 if b"/lib64/ld-linux" in head or b"/lib/ld-linux" in head else 0)
PY
then
    die "$BUSYBOX is dynamically linked; install busybox-static"
fi

WORK="$(mktemp -d /tmp/layerscope-samples.XXXXXX)"
STORE=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay)
cleanup() {
    set +e +o pipefail
    podman "${STORE[@]}" rmi -a -f >/dev/null 2>&1 || true
    # unmount anything left mounted below our private storage (newest first)
    grep -o " $WORK/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "build.sh: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- context
CTX="$WORK/ctx"
mkdir -p "$CTX"
cp "$BUSYBOX" "$CTX/busybox"
chmod 0755 "$CTX/busybox"
cp -r "$HERE/rootfs" "$CTX/rootfs"
# 300 deterministic "random" bytes (sha256 counter stream)
python3 - "$CTX/rootfs/app/data.bin" <<'PY'
import hashlib, sys
out = b"".join(hashlib.sha256(b"layerscope-sample-%d" % i).digest() for i in range(10))[:300]
open(sys.argv[1], "wb").write(out)
PY
# normalise modes: git only keeps the executable bit, umask varies
find "$CTX/rootfs" -type d -exec chmod 0755 {} +
find "$CTX/rootfs" -type f -exec chmod 0644 {} +
chmod 0755 "$CTX/rootfs/app/run.sh" "$CTX/rootfs/app/hello.py"

# ---------------------------------------------------------------- build
podman "${STORE[@]}" build \
    --isolation=chroot --cgroup-manager=cgroupfs \
    --pull=never \
    --timestamp "$TIMESTAMP" \
    -f "$HERE/Containerfile" -t "$IMAGE" "$CTX"

# ---------------------------------------------------------------- archives
rm -f "$HERE/sample-docker.tar" "$HERE/sample-oci-gzip.tar" "$HERE/sample-oci-zstd.tar"
podman "${STORE[@]}" save --format docker-archive -o "$HERE/sample-docker.tar" "$IMAGE"
podman "${STORE[@]}" save --format oci-archive    -o "$HERE/sample-oci-gzip.tar" "$IMAGE"
skopeo copy --quiet --dest-compress --dest-compress-format zstd \
    "containers-storage:[overlay@$WORK/storage+$WORK/run]$IMAGE" \
    "oci-archive:$HERE/sample-oci-zstd.tar:$IMAGE"

# ---------------------------------------------------------------- checks
# No registry host name may appear anywhere.  The well-known ones all end in
# .io, and nothing in this image mentions "registry".  The docker-archive is
# grepped whole (its layers are uncompressed); for the OCI archives the
# index, manifest and config are grepped, and their config must be the very
# config of the docker-archive (same diff_ids = same uncompressed layers).
HOSTS_RE='[a-z0-9-]+\.io\b|registry'
if grep -a -q -i -E "$HOSTS_RE" "$HERE/sample-docker.tar"; then
    die "sample-docker.tar mentions a registry host name"
fi
meta_of() {  # print config digest; dump index/manifest/config text to $2
    python3 - "$1" "$2" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
with open(sys.argv[2], "wb") as out:
    if "manifest.json" in t.getnames():               # docker-archive
        man = t.extractfile("manifest.json").read()
        cfg = json.loads(man)[0]["Config"]
        out.write(man + t.extractfile(cfg).read())
        print("sha256:" + cfg.split(".")[0])
    else:                                             # oci-archive
        idx = t.extractfile("index.json").read()
        mdig = json.loads(idx)["manifests"][0]["digest"]
        man = t.extractfile("blobs/sha256/" + mdig[7:]).read()
        cdig = json.loads(man)["config"]["digest"]
        out.write(idx + man + t.extractfile("blobs/sha256/" + cdig[7:]).read())
        print(cdig)
PY
}
CFG="$(meta_of "$HERE/sample-docker.tar" "$WORK/meta-docker")"
for a in sample-oci-gzip sample-oci-zstd; do
    [ "$(meta_of "$HERE/$a.tar" "$WORK/meta-$a")" = "$CFG" ] \
        || die "$a.tar has a different config than sample-docker.tar"
    if grep -a -q -i -E "$HOSTS_RE" "$WORK/meta-$a"; then
        die "$a.tar metadata mentions a registry host name"
    fi
done

# ---------------------------------------------------------------- listings
# layout_of ARCHIVE DIR: turn an archive into an OCI layout dir with ref "sample"
layout_of() {
    case "$1" in
        sample-docker)
            skopeo copy --quiet "docker-archive:$HERE/$1.tar" "oci:$2:sample" ;;
        sample-oci-zstd)
            # umoci 0.4.7 (bookworm) rejects tar+zstd layers: let skopeo
            # decompress them and re-compress as gzip
            skopeo copy --quiet --dest-compress --dest-compress-format gzip \
                "oci-archive:$HERE/$1.tar:$IMAGE" "oci:$2:sample" ;;
        *)  # an oci-archive is an OCI layout in a tar: use it as is
            mkdir -p "$2" && tar -xf "$HERE/$1.tar" -C "$2" ;;
    esac
}

for a in sample-docker sample-oci-gzip sample-oci-zstd; do
    rm -f "$HERE/$a".expected.txt "$HERE/$a".L*.expected.txt
    lay="$WORK/layout-$a"
    layout_of "$a" "$lay"
    ref=sample
    [ "$a" = sample-oci-gzip ] && ref="$IMAGE"

    umoci unpack --image "$lay:$ref" "$WORK/bundle-$a" >/dev/null
    python3 "$HERE/listing.py" "$WORK/bundle-$a/rootfs" > "$HERE/$a.expected.txt"

    nlayers="$(python3 - "$lay" "$ref" <<'PY'
import json, os, sys
lay, ref = sys.argv[1:]
idx = json.load(open(os.path.join(lay, "index.json")))
desc = next(d for d in idx["manifests"]
            if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
man = json.load(open(os.path.join(lay, "blobs", *desc["digest"].split(":"))))
print(len(man["layers"]))
PY
)"
    for ((k = 0; k < nlayers; k++)); do
        tl="$WORK/layout-$a-L$k"
        python3 "$HERE/oci_truncate.py" "$lay" "$ref" "$tl" "L$k" "$k"
        umoci unpack --image "$tl:L$k" "$WORK/bundle-$a-L$k" >/dev/null
        python3 "$HERE/listing.py" "$WORK/bundle-$a-L$k/rootfs" > "$HERE/$a.L$k.expected.txt"
    done
    cmp -s "$HERE/$a.expected.txt" "$HERE/$a.L$((nlayers - 1)).expected.txt" \
        || die "$a: top listing differs from L$((nlayers - 1)) listing"
done

for a in sample-oci-gzip sample-oci-zstd; do
    for f in "$HERE"/sample-docker*.expected.txt; do
        g="${f/sample-docker/$a}"
        cmp -s "$f" "$g" || die "listing mismatch between $(basename "$f") and $(basename "$g")"
    done
done

# every file ever added by a layer shows up in some per-layer listing
if grep -l -E '^/etc/apt(/|\s)|sources\.list' "$HERE"/*.expected.txt; then
    die "an apt sources list ended up in the image"
fi

ls -l "$HERE"/*.tar
echo "build.sh: done"
