"""Find the manifest, config and layer blobs of one image and describe them.

Understands ``docker save`` archives (legacy ``<id>/layer.tar`` and Docker 25+
``blobs/sha256``), Kaniko/crane tarballs, OCI image archives and OCI layout
directories, including nested indexes and multi-platform images. The result is
an ``Image`` whose layers are not read yet: ``loader`` streams them.
"""

from __future__ import annotations

import hashlib
import json
import platform as host_platform
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ImageError, SelectionError
from ..model import (
    DESCRIPTOR_SIZE,
    DIFF_ID_MISMATCH,
    DIGEST_MISMATCH,
    HISTORY,
    INDEX,
    INDEX_MISMATCH,
    OCI_LAYOUT,
    SELECTION,
    HistoryItem,
    Image,
    ImageConfig,
    Layer,
    LoadWarning,
    StreamedSize,
    WarningKind,
)
from .files import DirSource, FileSource, open_files

MAX_JSON = 16 << 20  # manifests and configs are small; refuse to parse more
MAX_INDEX_DEPTH = 8
MAX_MANIFESTS = 1000  # manifests and indexes visited while walking index.json
DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
REF_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
LAYOUT_VERSIONS = ("1.0.0",)  # imageLayoutVersion values of the OCI image spec


def open_archive(path: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """An image in a file or directory: ``docker save``/OCI archives and OCI layouts (layers not read yet)."""
    return ImageReader(path, platform, image_ref).read()


def host_platform_name() -> str:
    machine = host_platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    if machine.startswith("armv7"):
        return "linux/arm/v7"
    return f"linux/{arch}"


def loads_json(data: bytes, files: FileSource, what: str) -> Any:
    """Parse JSON from the image; every failure is one ImageError naming ``what``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ImageError(f"{files.name}: {what} is not valid JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{files.name}: {what} is not valid JSON ({str(exc)[:200]})") from None


def _json(files: FileSource, name: str, what: str) -> Any:
    return loads_json(files.read(name, MAX_JSON), files, f"{what} {name}")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _annotations(obj: dict[str, Any]) -> dict[str, str]:
    """The string annotations of a manifest or descriptor (others are invalid: dropped)."""
    ann = obj.get("annotations")
    if not isinstance(ann, dict):
        return {}
    return {k: v for k, v in ann.items() if isinstance(k, str) and isinstance(v, str)}


def _obj(value: Any) -> dict[Any, Any]:
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def _blob_path(digest: object, files: FileSource, what: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise ImageError(f"{files.name}: {what} has an invalid digest {str(digest)[:80]!r}")
    alg, hexd = digest.split(":", 1)
    return f"blobs/{alg}/{hexd}"


def digest_ok(data: bytes, digest: str) -> bool:
    alg, hexd = digest.split(":", 1)
    return hashlib.new(alg, data).hexdigest() == hexd


def _fold_keys(obj: dict[str, Any]) -> dict[str, Any]:
    """manifest.json keys, lower-cased.

    ``docker load`` decodes manifest.json with Go's encoding/json, which
    matches keys case-insensitively, a later key overriding an earlier one:
    Jib up to 2.2 wrote ``config``, ``repoTags`` and ``layers`` and docker
    loads those archives, so layerscope does too.
    """
    return {k.lower(): v for k, v in obj.items()}


def _as_list(value: Any, files: FileSource, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImageError(f"{files.name}: {what} is not a list")
    return value


@dataclass
class Candidate:
    manifest: dict[str, Any]
    digest: str | None
    ref: str | None
    platform: str | None
    annotations: dict[str, str] | None = None  # of the index descriptor


def _parse_config(raw: Any, files: FileSource) -> ImageConfig:
    if not isinstance(raw, dict):
        raise ImageError(f"{files.name}: image config is not a JSON object")
    c = _obj(raw.get("config"))

    def strs(v: Any) -> list[str] | None:
        if v is None:
            return None
        if isinstance(v, str):
            return [v]
        return [str(x) for x in v] if isinstance(v, list) else None

    def keys(v: Any) -> list[str]:
        return sorted(str(k) for k in v) if isinstance(v, dict) else []

    rootfs = _obj(raw.get("rootfs"))
    diff_ids = rootfs.get("diff_ids")
    if not isinstance(diff_ids, list):
        diff_ids = []
    labels = _obj(c.get("Labels"))
    return ImageConfig(
        os=str(raw.get("os") or ""),
        architecture=str(raw.get("architecture") or ""),
        variant=str(raw.get("variant") or ""),
        created=raw.get("created") if isinstance(raw.get("created"), str) else None,
        author=raw.get("author") if isinstance(raw.get("author"), str) else None,
        env=strs(c.get("Env")) or [],
        entrypoint=strs(c.get("Entrypoint")),
        cmd=strs(c.get("Cmd")),
        user=str(c.get("User") or ""),
        workdir=str(c.get("WorkingDir") or ""),
        labels={str(k): str(v) for k, v in labels.items()},
        exposed_ports=keys(c.get("ExposedPorts")),
        volumes=keys(c.get("Volumes")),
        diff_ids=[str(d) for d in diff_ids],
    )


def _map_history(
    raw: Any, layers: list[Layer], warn: Callable[[WarningKind, str], None]
) -> tuple[list[HistoryItem], list[Layer]]:
    """Attach config history to layers: empty_layer entries belong to none.
    Returns the history and the layers with their commands."""
    hist = raw.get("history") if isinstance(raw, dict) else None
    items: list[HistoryItem] = []
    if not isinstance(hist, list):
        hist = []
    li = 0
    for h in hist:
        if not isinstance(h, dict):
            continue
        empty = bool(h.get("empty_layer"))
        item = HistoryItem(
            created_by=str(h.get("created_by") or ""),
            created=h.get("created") if isinstance(h.get("created"), str) else None,
            empty_layer=empty,
            layer=li if not empty and li < len(layers) else None,
            comment=h.get("comment") if isinstance(h.get("comment"), str) else None,
        )
        if not empty:
            if li < len(layers):
                layers[li] = replace(layers[li], command=item.created_by, created=item.created, comment=item.comment)
            li += 1
        items.append(item)
    if hist and li != len(layers):
        warn(
            HISTORY,
            f"config history lists {li} layer-creating steps but the image has {len(layers)} layers; "
            "commands may be attributed to the wrong layers",
        )
    return items, layers


class ImageReader:
    """Locates one image in a file source and describes it without reading layers."""

    def __init__(
        self, path: str, platform: str | None = None, image_ref: str | None = None, files: FileSource | None = None
    ) -> None:
        self.path = path
        self.want_platform = platform
        self.want_ref = image_ref
        self.files = files if files is not None else open_files(path)
        self.warnings: list[LoadWarning] = list(self.files.warnings)
        self._visited = 0

    def warn(self, kind: WarningKind, message: str) -> None:
        """Record a warning once (a blob read twice must not warn twice), with its kind."""
        if all(w.message != message for w in self.warnings):
            self.warnings.append(LoadWarning(kind, message))

    def _check_size(self, desc: dict[str, Any], actual: int | None, what: str, path: str) -> int | None:
        """A descriptor's ``size`` must be a non-negative integer equal to the blob's size.

        Returns the declared size when it is valid. The message names the blob
        file, since that is what a person opens to look.
        """
        size = desc.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.warn(DESCRIPTOR_SIZE, f"{path}: {what} descriptor has an invalid size {repr(size)[:40]}")
            return None
        if actual is not None and size != actual:
            self.warn(DESCRIPTOR_SIZE, f"{path}: {what} descriptor says {size} bytes but the blob has {actual}")
        return size

    def read(self, describe: Callable[[ImageReader], Image] | None = None) -> Image:
        """The image, or one ImageError line (never a traceback) for any metadata it cannot use.

        ``describe`` finds the image another way than an archive's
        ``manifest.json``/``index.json`` (a registry asks for a manifest by
        tag), calling this reader's ``walk_index``, ``choose`` and
        ``from_manifest``; the guard around it is the same.
        """
        try:
            return describe(self) if describe is not None else self._read()
        except ImageError:
            self.files.close()
            raise
        except RecursionError:
            self.files.close()
            raise ImageError(f"{self.path}: image metadata nested too deeply") from None
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # Metadata of a shape no check above foresaw: still one line, never a traceback.
            self.files.close()
            raise ImageError(f"{self.path}: malformed image metadata ({type(exc).__name__}: {exc})") from None

    def _read(self) -> Image:
        if self.files.exists("manifest.json"):
            return self._docker()
        if self.files.exists("index.json"):
            return self._oci()
        if self.files.truncated is not None:
            # the cut is the cause: the image's metadata may well have been past it
            raise ImageError(
                f"{self.path}: the archive is truncated: {self.files.truncated}; "
                "no manifest.json or index.json before the cut"
            )
        damage = (
            f"; {self.files.warnings[0].message.removeprefix(self.files.name + ': ')}" if self.files.warnings else ""
        )
        raise ImageError(f"{self.path}: not a container image (no manifest.json or index.json{damage})")

    # -- docker save / kaniko / crane --------------------------------------
    def _docker(self) -> Image:
        files = self.files
        manifest = _json(files, "manifest.json", "manifest")
        if isinstance(manifest, dict):
            manifest = [manifest]
        images = [_fold_keys(m) for m in _as_list(manifest, files, "manifest.json") if isinstance(m, dict)]
        if not images:
            raise ImageError(f"{files.name}: manifest.json lists no images")

        def tags(m: dict[str, Any]) -> list[str]:
            t = m.get("repotags")
            return [str(x) for x in t] if isinstance(t, list) else []

        chosen = images[0]
        all_refs = [", ".join(tags(m)) or str(m.get("config", "?")) for m in images]
        if self.want_ref:
            matches = [m for m in images if any(_ref_matches(self.want_ref, t) for t in tags(m))]
            if not matches:
                raise SelectionError(
                    f"{files.name}: no image {self.want_ref!r} in the archive (it has: {'; '.join(all_refs)})"
                )
            chosen = matches[0]
        elif len(images) > 1:
            self.warn(
                SELECTION,
                f"archive holds {len(images)} images ({'; '.join(all_refs)}); showing the first, "
                "choose with --image REF",
            )
        config_name = chosen.get("config")
        layer_names = chosen.get("layers")
        if not isinstance(config_name, str) or not config_name:
            raise ImageError(f"{files.name}: manifest.json has no Config for the image")
        if not isinstance(layer_names, list) or not all(isinstance(x, str) for x in layer_names):
            raise ImageError(f"{files.name}: manifest.json has no valid Layers list")
        config_bytes = files.read(config_name, MAX_JSON)
        config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        raw_config = loads_json(config_bytes, files, f"config {config_name}")
        config = _parse_config(raw_config, files)
        sources = _obj(chosen.get("layersources"))
        layers: list[Layer] = []
        for i, name in enumerate(layer_names):
            diff_id = config.diff_ids[i] if i < len(config.diff_ids) else None
            desc = sources.get(diff_id) if diff_id else None
            digest: str | None = None
            media_type: str | None = None
            m = re.search(r"(?:^|/)(?:blobs/)?sha256[/:]([0-9a-f]{64})$", name) or re.match(
                r"^([0-9a-f]{64})\.tar(?:\.gz)?$", name
            )
            if isinstance(desc, dict):
                digest = desc.get("digest") if isinstance(desc.get("digest"), str) else None
                media_type = desc.get("mediaType") if isinstance(desc.get("mediaType"), str) else None
            elif m:
                digest = "sha256:" + m.group(1)
            layers.append(self._layer(i, name, digest, media_type, diff_id, None))
        if len(config.diff_ids) != len(layers):
            self.warn(
                DIFF_ID_MISMATCH,
                f"config lists {len(config.diff_ids)} diff_ids but manifest.json lists {len(layers)} layers",
            )
        if self.files.exists("index.json") and self.files.exists("oci-layout"):
            self._check_docker_index(config_digest)
        ref = tags(chosen)[0] if tags(chosen) else None
        return self._image("docker-archive", ref, config_digest, config, raw_config, layers)

    def _check_docker_index(self, config_digest: str) -> None:
        """Docker 25+ writes both manifest.json and an OCI index: they must agree.

        Docker 25.0.0 and 25.0.1 wrote ``"manifests": null`` for an image saved
        by ID (untagged): an index that lists nothing contradicts nothing.
        """
        try:
            index = _json(self.files, "index.json", "index")
            if isinstance(index, dict) and not index.get("manifests"):
                return
            cands = self._candidates()
        except ImageError as exc:
            self.warn(INDEX, f"index.json beside manifest.json is unusable: {exc}")
            return
        configs = set()
        for c in cands:
            cfg = c.manifest.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
                configs.add(cfg["digest"])
        if configs and config_digest not in configs:
            self.warn(INDEX_MISMATCH, "manifest.json and index.json describe different images; using manifest.json")

    # -- OCI ------------------------------------------------------------------
    def _oci(self) -> Image:
        files = self.files
        fmt = "oci-layout" if isinstance(files, DirSource) else "oci-archive"
        self._check_layout()
        return self.from_manifest(self.choose(self._candidates()), fmt)

    def from_manifest(self, cand: Candidate, fmt: str) -> Image:
        """The image one OCI/Docker v2 manifest describes: its config and layer descriptors."""
        files = self.files
        manifest = cand.manifest
        cfg_desc = manifest.get("config")
        if not isinstance(cfg_desc, dict):
            raise ImageError(f"{files.name}: manifest has no config descriptor")
        cfg_digest = cfg_desc.get("digest")
        cfg_path = _blob_path(cfg_digest, files, "config descriptor")
        assert isinstance(cfg_digest, str)
        config_bytes = files.read(cfg_path, MAX_JSON)
        self._check_size(cfg_desc, len(config_bytes), "config", cfg_path)
        if not digest_ok(config_bytes, cfg_digest):
            self.warn(DIGEST_MISMATCH, f"{cfg_path}: config {cfg_digest[:19]}… does not match its digest")
        raw_config = loads_json(config_bytes, files, f"config {cfg_digest}")
        config = _parse_config(raw_config, files)
        layers: list[Layer] = []
        descs = _as_list(manifest.get("layers", []), files, "manifest layers")
        for i, d in enumerate(descs):
            if not isinstance(d, dict):
                raise ImageError(f"{files.name}: layer descriptor {i} is not an object")
            digest = d.get("digest")
            path = _blob_path(digest, files, f"layer {i} descriptor")
            assert isinstance(digest, str)
            declared = self._check_size(d, None, f"layer {i}", path)  # the blob's size: _layer
            mt = d.get("mediaType") if isinstance(d.get("mediaType"), str) else None
            diff_id = config.diff_ids[i] if i < len(config.diff_ids) else None
            layers.append(self._layer(i, path, digest, mt, diff_id, declared))
        if len(config.diff_ids) != len(layers):
            self.warn(
                DIFF_ID_MISMATCH,
                f"config lists {len(config.diff_ids)} diff_ids but the manifest lists {len(layers)} layers",
            )
        annotations = {**(cand.annotations or {}), **_annotations(manifest)}
        return self._image(fmt, cand.ref, cfg_digest, config, raw_config, layers, annotations)

    def _check_layout(self) -> None:
        """The ``oci-layout`` marker: present, JSON, and a version this reader knows."""
        files = self.files
        if not files.exists("oci-layout"):
            self.warn(OCI_LAYOUT, "oci-layout file is missing")
            return
        try:
            layout = loads_json(files.read("oci-layout", 4096), files, "oci-layout")
        except (ValueError, UnicodeDecodeError, ImageError):
            self.warn(OCI_LAYOUT, "oci-layout is not valid JSON")
            return
        if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
            self.warn(OCI_LAYOUT, "oci-layout has no imageLayoutVersion")
        elif layout["imageLayoutVersion"] not in LAYOUT_VERSIONS:
            version = repr(layout["imageLayoutVersion"])[:40]
            self.warn(
                OCI_LAYOUT,
                f"oci-layout: unknown imageLayoutVersion {version} (this reader knows {', '.join(LAYOUT_VERSIONS)}); "
                "read as 1.0.0",
            )

    def _load_manifest(self, desc: dict[str, Any], what: str, manifest: bool = True) -> dict[str, Any]:
        """A manifest or index (``manifest``), else a JSON blob such as a config, checked against ``desc``."""
        digest = desc.get("digest")
        path = _blob_path(digest, self.files, what)
        assert isinstance(digest, str)
        self._visited += 1
        if self._visited > MAX_MANIFESTS:
            raise ImageError(f"{self.files.name}: index.json refers to over {MAX_MANIFESTS} manifests")
        data = self.files.read_manifest(path, MAX_JSON) if manifest else self.files.read(path, MAX_JSON)
        self._check_size(desc, len(data), what, path)
        if not digest_ok(data, digest):
            self.warn(DIGEST_MISMATCH, f"{path}: {what} {digest[:19]}… does not match its digest")
        obj = loads_json(data, self.files, f"{what} {digest}")
        if not isinstance(obj, dict):
            raise ImageError(f"{self.files.name}: {what} {digest} is not a JSON object")
        return obj

    def _candidates(self) -> list[Candidate]:
        index = _json(self.files, "index.json", "index")
        if not isinstance(index, dict):
            raise ImageError(f"{self.files.name}: index.json is not a JSON object")
        out: list[Candidate] = []
        self.walk_index(index, None, 0, set(), out)
        if not out:
            raise ImageError(f"{self.files.name}: index.json lists no image manifests")
        return out

    def walk_index(
        self, index: dict[str, Any], ref: str | None, depth: int, seen: set[str], out: list[Candidate]
    ) -> None:
        """Every image manifest an index leads to (nested indexes followed), appended to ``out``."""
        if depth > MAX_INDEX_DEPTH:
            raise ImageError(f"{self.files.name}: image indexes nested deeper than {MAX_INDEX_DEPTH}")
        manifests = index.get("manifests")
        for i, desc in enumerate(_as_list([] if manifests is None else manifests, self.files, "index manifests")):
            if not isinstance(desc, dict):
                continue
            digest = desc.get("digest")
            if isinstance(digest, str) and digest in seen:
                raise ImageError(f"{self.files.name}: image index {digest[:19]}… refers to itself (cycle)")
            ann = _obj(desc.get("annotations"))
            if ann.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            # Image names are valid only on the descriptors of index.json itself
            # (image spec, annotations): a nested index cannot rename what it holds.
            named = next((str(ann[k]) for k in REF_ANNOTATIONS if isinstance(ann.get(k), str)), None)
            dref = named if depth == 0 and named else ref
            plat = desc.get("platform") if isinstance(desc.get("platform"), dict) else None
            pname = _platform_name(plat) if plat else None
            if pname and pname.startswith("unknown/unknown"):
                continue
            mt = _str(desc.get("mediaType"))
            obj = self._load_manifest(desc, f"manifest {i}")
            mt = mt or _str(obj.get("mediaType"))
            if mt in INDEX_TYPES or (mt is None and "manifests" in obj):
                self.walk_index(obj, dref, depth + 1, seen | {str(digest)}, out)
            else:
                out.append(Candidate(obj, str(digest), dref, pname, _annotations(desc)))

    def choose(self, cands: list[Candidate]) -> Candidate:
        names = self.files.name
        if self.want_ref:
            matching = [c for c in cands if c.ref and _ref_matches(self.want_ref, c.ref)]
            if not matching:
                refs = sorted({c.ref or "(unnamed)" for c in cands})
                raise SelectionError(f"{names}: no image {self.want_ref!r} here (it has: {', '.join(refs)})")
            cands = matching
        refs = sorted({c.ref or "(unnamed)" for c in cands})
        for c in cands:
            if c.platform is None:
                c.platform = self._platform_of(c)
        if self.want_platform:
            want = self.want_platform
            matching = [c for c in cands if c.platform and _platform_matches(want, c.platform)]
            if not matching:
                plats = ", ".join(sorted({c.platform or "?" for c in cands}))
                raise SelectionError(f"{names}: no image for platform {want} (available: {plats})")
            cands = matching
        elif len({c.platform for c in cands}) > 1:
            host = host_platform_name()
            matching = [c for c in cands if c.platform and _platform_matches(host, c.platform)]
            if not matching:
                plats = ", ".join(sorted({c.platform or "?" for c in cands}))
                raise SelectionError(f"{names}: several platforms ({plats}); choose one with --platform")
            cands = matching
        if len(refs) > 1 and not self.want_ref:
            self.warn(
                SELECTION,
                f"archive holds {len(refs)} images ({', '.join(refs)}); showing {cands[0].ref or 'the first'}, "
                "choose with --image REF",
            )
        elif len(cands) > 1:
            self.warn(SELECTION, f"{len(cands)} manifests match; showing the first")
        return cands[0]

    def _platform_of(self, cand: Candidate) -> str | None:
        cfg = cand.manifest.get("config")
        if not isinstance(cfg, dict):
            return None
        try:
            raw = self._load_manifest(cfg, "config", manifest=False)
        except ImageError:
            return None
        return _platform_name(raw)

    # -- shared -----------------------------------------------------------
    def _layer(
        self, i: int, name: str, digest: str | None, media_type: str | None, diff_id: str | None, declared: int | None
    ) -> Layer:
        files = self.files
        error = None
        size = 0
        try:
            size = files.layer_size(name, declared)
        except ImageError as exc:
            error = str(exc).removeprefix(f"{files.name}: ")
        except KeyError:
            error = f"{name} is missing"

        streamed = StreamedSize()

        def size_differs(actual: int) -> None:
            """The layer's blob is not its descriptor's size: the layer's own warning
            (its row is marked), whether measured now (a file) or as it streams (a
            registry: the loader takes it from ``streamed``)."""
            message = f"{name}: layer {i} descriptor says {declared} bytes but the blob has {actual}"
            streamed.actual, streamed.warning = actual, LoadWarning(DESCRIPTOR_SIZE, message, i)

        if not error and declared is not None and declared != size:
            size_differs(size)
        warnings = () if streamed.warning is None else (streamed.warning,)
        return Layer(
            index=i,
            digest=digest,
            media_type=media_type,
            compressed_bytes=size,
            open_blob=files.layer_opener(name, i, declared, size_differs),
            diff_id=diff_id,
            source_name=name,
            error=error or None,
            warnings=warnings,
            streamed=streamed,
        )

    def _image(
        self,
        fmt: str,
        ref: str | None,
        config_digest: str,
        config: ImageConfig,
        raw: Any,
        layers: list[Layer],
        annotations: dict[str, str] | None = None,
    ) -> Image:
        history, layers = _map_history(raw, layers, self.warn)
        plat = _platform_name({"os": config.os, "architecture": config.architecture, "variant": config.variant})
        return Image(
            source=self.path,
            format=fmt,
            ref=ref,
            platform=plat or "",
            config_digest=config_digest,
            config=config,
            history=history,
            layers=tuple(layers),
            warnings=tuple(self.warnings),
            annotations=annotations or {},
        )


def _platform_name(p: Any) -> str | None:
    if not isinstance(p, dict):
        return None
    os_ = p.get("os")
    arch = p.get("architecture")
    if not os_ and not arch:
        return None
    name = f"{os_ or 'unknown'}/{arch or 'unknown'}"
    if p.get("variant"):
        name += f"/{p['variant']}"
    return name


def _platform_matches(want: str, have: str) -> bool:
    w = want.lower().split("/")
    h = have.lower().split("/")
    if len(w) == 2:
        return w == h[:2]
    return w == h


def _ref_matches(want: str, have: str) -> bool:
    """``alpine`` matches ``alpine:latest`` and ``localhost/alpine:latest``."""
    candidates = {have}
    base = have.split("@", 1)[0]
    if "/" in base.split(":")[0] or base.startswith("localhost/"):
        candidates.add(base.split("/", 1)[1])
    for c in list(candidates):
        if c.endswith(":latest"):
            candidates.add(c[: -len(":latest")])
        candidates.add(c.rsplit("/", 1)[-1])
    return want in candidates
