"""Build small images for tests: layer tars in memory, written as real formats.

Layers are lists of simple specs; the writers produce docker-save archives
(legacy and Docker 25+), OCI layouts and OCI archives with correct digests,
so the loader sees exactly what real tools write. Used for merge-rule tests
and for broken/hostile variants; real-tool images live in sample_images/.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from typing import Any


@dataclass
class F:
    """A tar member spec."""

    path: str
    kind: str = "file"  # file|dir|symlink|hardlink|fifo|char|whiteout|opaque
    data: bytes = b""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    link: str = ""
    xattrs: dict[str, str] = field(default_factory=dict)


def file(path: str, data: bytes | str = b"", mode: int = 0o644, **kw: Any) -> F:
    return F(path, "file", data.encode() if isinstance(data, str) else data, mode, **kw)


def d(path: str, mode: int = 0o755, **kw: Any) -> F:
    return F(path, "dir", mode=mode, **kw)


def sym(path: str, target: str) -> F:
    return F(path, "symlink", link=target, mode=0o777)


def hard(path: str, target: str) -> F:
    return F(path, "hardlink", link=target, mode=0o644)


def wh(path: str) -> F:
    return F(path, "whiteout")


def opq(dirpath: str) -> F:
    return F(dirpath, "opaque")


def layer_tar(specs: list[F], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for s in specs:
            name = s.path.lstrip("/") if not s.path.startswith("//") else s.path
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            info.uid, info.gid = s.uid, s.gid
            data: bytes | None = None
            if s.kind == "file":
                info.type = tarfile.REGTYPE
                info.mode = 0o644 if s.mode is None else s.mode
                info.size = len(s.data)
                data = s.data
            elif s.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755 if s.mode is None else s.mode
            elif s.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = s.link
                info.mode = 0o777
            elif s.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = s.link.lstrip("/")
                info.mode = 0o644 if s.mode is None else s.mode
            elif s.kind == "fifo":
                info.type = tarfile.FIFOTYPE
                info.mode = 0o644
            elif s.kind == "char":
                info.type = tarfile.CHRTYPE
                info.mode = 0o666
            elif s.kind == "whiteout":
                head, _, base = name.rpartition("/")
                info.name = (head + "/" if head else "") + ".wh." + base
                info.mode = 0
            elif s.kind == "opaque":
                info.name = name.rstrip("/") + "/.wh..wh..opq"
                info.mode = 0o755
            else:
                raise ValueError(s.kind)
            if s.xattrs:
                info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in s.xattrs.items()}
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_for(layers: list[bytes], history: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    if history is None:
        history = [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))]
    cfg: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]},
        "history": history,
    }
    cfg.update(extra)
    return cfg


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    tf.addfile(info, io.BytesIO(data))


def docker_archive(
    path: str | os.PathLike[str],
    layers: list[bytes],
    config: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    symlink_dupes: bool = True,
    manifest: Any = None,
) -> str:
    """A legacy ``docker save`` tar: ``<id>/layer.tar`` + manifest.json.

    Identical layers are stored once and linked as ``../<id>/layer.tar``, as
    docker does.
    """
    cfg = json.dumps(config if config is not None else config_for(layers)).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    seen: dict[str, str] = {}
    names = []
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tf:
        for i, data in enumerate(layers):
            lid = hashlib.sha256(data + str(i).encode()).hexdigest()
            name = f"{lid}/layer.tar"
            digest = sha(data)
            if symlink_dupes and digest in seen:
                info = tarfile.TarInfo(name)
                info.type = tarfile.SYMTYPE
                info.linkname = f"../{seen[digest]}"
                tf.addfile(info)
            else:
                _add(tf, name, data)
                seen[digest] = name
            names.append(name)
        _add(tf, cfg_name, cfg)
        man = (
            manifest
            if manifest is not None
            else [{"Config": cfg_name, "RepoTags": tags if tags is not None else ["test/image:1"], "Layers": names}]
        )
        _add(tf, "manifest.json", json.dumps(man).encode())
    return str(path)


def oci_blobs(
    layers: list[bytes], config: dict[str, Any] | None = None, compress: str = "gzip"
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Blobs (digest -> bytes) and the manifest descriptor for one image."""
    blobs: dict[str, bytes] = {}
    descs = []
    for data in layers:
        if compress == "gzip":
            blob = gzip.compress(data, mtime=0)
            mt = "application/vnd.oci.image.layer.v1.tar+gzip"
        elif compress == "zstd":
            import zstandard

            blob = zstandard.ZstdCompressor().compress(data)
            mt = "application/vnd.oci.image.layer.v1.tar+zstd"
        else:
            blob = data
            mt = "application/vnd.oci.image.layer.v1.tar"
        blobs[sha(blob)] = blob
        descs.append({"mediaType": mt, "digest": sha(blob), "size": len(blob)})
    cfg = json.dumps(config if config is not None else config_for(layers)).encode()
    blobs[sha(cfg)] = cfg
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
        "layers": descs,
    }
    mbytes = json.dumps(manifest).encode()
    blobs[sha(mbytes)] = mbytes
    desc = {"mediaType": manifest["mediaType"], "digest": sha(mbytes), "size": len(mbytes)}
    return blobs, desc


def oci_index(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}


def write_oci_layout(root: str | os.PathLike[str], blobs: dict[str, bytes], index: dict[str, Any]) -> str:
    root = str(root)
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    for digest, data in blobs.items():
        with open(os.path.join(root, "blobs", "sha256", digest.split(":")[1]), "wb") as fh:
            fh.write(data)
    with open(os.path.join(root, "oci-layout"), "w") as fh:
        json.dump({"imageLayoutVersion": "1.0.0"}, fh)
    with open(os.path.join(root, "index.json"), "w") as fh:
        json.dump(index, fh)
    return root


def write_oci_archive(path: str | os.PathLike[str], blobs: dict[str, bytes], index: dict[str, Any]) -> str:
    with tarfile.open(path, "w") as tf:
        for digest in sorted(blobs):  # digest order, as real tools write
            _add(tf, "blobs/sha256/" + digest.split(":")[1], blobs[digest])
        _add(tf, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add(tf, "index.json", json.dumps(index).encode())
    return str(path)


def oci_archive(
    path: str | os.PathLike[str], layers: list[bytes], compress: str = "gzip", ref: str | None = "test:1"
) -> str:
    blobs, desc = oci_blobs(layers, compress=compress)
    if ref:
        desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
    return write_oci_archive(path, blobs, oci_index([desc]))


def build(tmp: str | os.PathLike[str], layers: list[list[F]], fmt: str = "docker") -> str:
    """Write the layer specs as an image of the given format; return its path."""
    tars = [layer_tar(x) for x in layers]
    if fmt == "docker":
        return docker_archive(os.path.join(tmp, "image.tar"), tars)
    if fmt == "oci-layout":
        blobs, desc = oci_blobs(tars)
        return write_oci_layout(os.path.join(tmp, "layout"), blobs, oci_index([desc]))
    return oci_archive(os.path.join(tmp, "oci.tar"), tars, compress=fmt.removeprefix("oci-"))


# -- raw tar building blocks for broken and hostile layers ---------------------


def tar_header(
    name: bytes | str,
    size: int = 0,
    flag: bytes = b"0",
    mode: int = 0o644,
    linkname: bytes | str = b"",
    size_field: bytes | None = None,
    checksum: int | None = None,
    mtime_field: bytes | None = None,
) -> bytes:
    """One raw ustar header block; fields can be forced to hostile values."""
    name_b = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    link_b = linkname.encode("utf-8", "surrogateescape") if isinstance(linkname, str) else linkname
    h = bytearray(512)
    h[0 : min(100, len(name_b))] = name_b[:100]
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = mtime_field if mtime_field is not None else b"%011o\0" % 1700000000
    h[148:156] = b" " * 8
    h[156:157] = flag
    h[157 : 157 + min(100, len(link_b))] = link_b[:100]
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    csum = sum(h) if checksum is None else checksum
    h[148:156] = b"%06o\0 " % csum
    return bytes(h)


def member(name: bytes | str, data: bytes | str = b"", flag: bytes = b"0", **kw: Any) -> bytes:
    """A raw member: header plus padded data (size from data unless forced)."""
    if isinstance(data, str):
        data = data.encode()
    kw.setdefault("size", len(data))
    return tar_header(name, flag=flag, **kw) + data + bytes(-len(data) % 512)


def pax_member(records: dict[str, bytes | str], name: str = "PaxHeader", flag: bytes = b"x") -> bytes:
    body = b""
    for k, v in records.items():
        vb = v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v
        rec = b" " + k.encode() + b"=" + vb + b"\n"
        n = len(rec) + 1
        while len(str(n).encode()) + len(rec) != n:
            n = len(str(n).encode()) + len(rec)
        body += str(n).encode() + rec
    return member(name, body, flag=flag)


def gnu_long(name: bytes | str, flag: bytes = b"L") -> bytes:
    nb = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    return member("././@LongLink", nb + b"\0", flag=flag)


def raw_tar(*members: bytes, end: bool = True) -> bytes:
    return b"".join(members) + (bytes(1024) if end else b"")


def gzip_bomb(path: str | os.PathLike[str], size: int, name: str = "zeros") -> str:
    """A gzip'd layer tar holding one ``size``-byte file of zeros, written in a stream."""
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    with open(path, "wb") as fh:
        fh.write(comp.compress(tar_header(name, size)))
        left = size
        while left:
            n = min(left, len(zeros))
            fh.write(comp.compress(zeros[:n]))
            left -= n
        fh.write(comp.compress(bytes(-size % 512) + bytes(1024)))
        fh.write(comp.flush())
    return str(path)


def docker_archive_blobs(path: str | os.PathLike[str], blobs: list[bytes], config: dict[str, Any] | None = None) -> str:
    """A docker-save archive whose layer members are arbitrary bytes (any compression)."""
    return docker_archive(path, blobs, config=config, symlink_dupes=False)


def tar_of(path: str | os.PathLike[str], members: list[bytes]) -> str:
    """Write raw members as an outer archive file."""
    with open(path, "wb") as fh:
        fh.write(raw_tar(*members))
    return str(path)


def load_outcome(path: str, **kw: Any) -> tuple[str, Any]:
    """Load through the public API: ("error", message) or ("ok", merged)."""
    from layerscope.api import load
    from layerscope.errors import LayerscopeError

    try:
        return "ok", load(path, **kw)
    except LayerscopeError as exc:
        return "error", str(exc)


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run layerscope.cli.main in-process; (exit code, stdout, stderr)."""
    import contextlib

    from layerscope.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
