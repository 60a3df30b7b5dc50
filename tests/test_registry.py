"""registry:// sources against real and deliberately bad registries on loopback.

The reference for "right" is always independent of the registry code: the
same image read from its file (report JSON, cat, the damaged-layer message),
or what the server recorded (requests, headers, token scopes).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from imagegen import config_for, file, layer_tar, oci_blobs, oci_index, run_cli, sha, write_oci_layout
from registry_env import (
    FakeRegistry,
    RealRegistry,
    TokenServer,
    htpasswd,
    need,
    send,
    stalled_server,
    temp_dir,
    tls_context,
)

from layerscope.sources import registry as reg
from layerscope.sources.auth import Credentials, _best_auth, find_credentials, parse_challenges

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"


@pytest.fixture(autouse=True)
def _private_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the user's auth files or cache, and options do not leak between tests."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG", "LAYERSCOPE_CACHE_SIZE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_TIMEOUT", "10")
    monkeypatch.setattr(reg, "BACKOFF", 0.01)
    reg.configure()
    yield
    reg.configure()


def report_json(*argv: str) -> dict[str, Any]:
    code, out, err = run_cli("report", "--json", *argv)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def run_bytes(*argv: str) -> tuple[int, bytes, str]:
    """The CLI in a subprocess (``cat`` writes bytes to the real stdout)."""
    proc = subprocess.run([sys.executable, "-m", "layerscope", *argv], capture_output=True, timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr.decode()


def without_origin(doc: dict[str, Any]) -> dict[str, Any]:
    """What differs between an image in a file and the same image in a registry: where it was
    read (source, format, the reference) and the archive's own name for it (an index.json annotation)."""
    img = doc["image"]
    for key in ("source", "format", "ref"):
        img.pop(key)
    img["annotations"].pop("org.opencontainers.image.ref.name", None)
    return doc


def small_image(seed: str, n_layers: int = 3, compress: str = "gzip") -> tuple[dict[str, bytes], dict[str, Any]]:
    layers = [
        layer_tar([file(f"/data/{seed}-{i}.txt", f"{seed} layer {i}\n" * 2000), file("/etc/shared", f"v{i}\n")])
        for i in range(n_layers)
    ]
    return oci_blobs(layers, compress=compress)


# -- a real registry -------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Iterator[RealRegistry]:
    need("docker-registry", "skopeo")
    root = temp_dir("layerscope-reg-")
    r = RealRegistry(root)
    try:
        r.push(f"docker-archive:{SAMPLES / 'sample-docker.tar'}", "sample/docker:1")
        r.push(f"oci-archive:{SAMPLES / 'sample-oci-gzip.tar'}", "sample/gzip:1")
        r.push(f"oci-archive:{SAMPLES / 'sample-oci-zstd.tar'}", "sample/zstd:1")
        yield r
    finally:
        r.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("name", ["gzip", "zstd"])
def test_report_json_from_registry_equals_the_file(registry: RealRegistry, name: str) -> None:
    from_file = report_json(str(SAMPLES / f"sample-oci-{name}.tar"))
    from_registry = report_json(registry.ref(f"sample/{name}:1"))
    assert from_registry["image"]["source"] == registry.ref(f"sample/{name}:1")
    assert from_registry["image"]["format"] == "registry"
    assert from_registry["image"]["ref"] == f"{registry.host}/sample/{name}:1"
    assert without_origin(from_registry) == without_origin(from_file)


def test_docker_sample_pushed_recompressed_reads_the_same_tree(registry: RealRegistry) -> None:
    """skopeo gzips a docker-archive's plain layers on push: new blobs, same diff_ids and content."""
    from_file = without_origin(report_json(str(SAMPLES / "sample-docker.tar")))
    from_registry = without_origin(report_json(registry.ref("sample/docker:1")))
    blob_fields = ("digest", "media_type", "compression", "compressed_bytes")
    for la in from_registry["layers"]:
        assert la["media_type"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        assert la["compression"] == "gzip"
    for doc in (from_file, from_registry):
        for la in doc["layers"]:
            for f in blob_fields:
                la.pop(f)
    assert from_registry == from_file


def test_cat_ls_which_diff_and_base_take_registry_refs(registry: RealRegistry) -> None:
    sample = str(SAMPLES / "sample-oci-gzip.tar")
    ref = registry.ref("sample/gzip:1")
    for argv in (["cat", "/app/config.txt"], ["cat", "/bin/busybox"], ["ls", "--long"], ["which", "/app/config.txt"]):
        want = run_bytes(argv[0], sample, *argv[1:])
        got = run_bytes(argv[0], "--no-cache", ref, *argv[1:])
        assert got[0] == want[0] == 0, got[2]
        assert got[1] == want[1] and len(got[1]) > 10
    code, out, err = run_cli("diff", "--json", sample, ref)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["b"] == ref
    assert (doc["totals"]["added"], doc["totals"]["removed"], doc["totals"]["changed"]) == (0, 0, 0)
    doc = report_json("--base", registry.ref("sample/zstd:1"), sample)
    assert doc["image"]["waste"]["base"]["layers"] == 7
    assert doc["image"]["waste"]["base"]["ref"] == registry.ref("sample/zstd:1")


def _multi_platform_layout(root: Path) -> Path:
    blobs: dict[str, bytes] = {}
    descs = []
    for arch in ("amd64", "arm64"):
        tars = [layer_tar([file(f"/arch-{arch}.txt", arch)])]
        b, desc = oci_blobs(tars)
        cfg_digest = json.loads(b[desc["digest"]])["config"]["digest"]
        cfg = json.loads(b[cfg_digest])
        assert cfg["architecture"] == "amd64"
        # a config of this architecture: rebuild the manifest around it
        b, desc = oci_blobs(tars, config=config_for(tars, architecture=arch))
        blobs.update(b)
        desc["platform"] = {"os": "linux", "architecture": arch}
        descs.append(desc)
    index = json.dumps(oci_index(descs)).encode()
    blobs[sha(index)] = index
    top = {
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": sha(index),
        "size": len(index),
        "annotations": {"org.opencontainers.image.ref.name": "multi"},
    }
    return Path(write_oci_layout(root / "multi", blobs, oci_index([top])))


def test_platform_picks_from_a_multi_platform_index(registry: RealRegistry, tmp_path: Path) -> None:
    layout = _multi_platform_layout(tmp_path)
    registry.push(f"oci:{layout}:multi", "multi/app:1", all_images=True)
    ref = registry.ref("multi/app:1")
    arm = report_json("--platform", "linux/arm64", ref)
    assert arm["image"]["platform"] == "linux/arm64"
    assert [f["path"] for f in arm["files"] if f["type"] == "file"] == ["/arch-arm64.txt"]
    assert report_json("--platform", "linux/arm64", ref) == arm
    amd = report_json("--platform", "linux/amd64", ref)
    assert [f["path"] for f in amd["files"] if f["type"] == "file"] == ["/arch-amd64.txt"]
    code, _, err = run_cli("report", "--platform", "linux/s390x", ref)
    assert code == 2
    assert "no image for platform linux/s390x (available: linux/amd64, linux/arm64)" in err


def _corrupt_copy(data: bytes, where: int) -> bytes:
    b = bytearray(data)
    b[where] ^= 0xFF
    return bytes(b)


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        (lambda n: n // 2, "damaged"),  # inside the deflate stream: the layer cannot be read
        (lambda n: 5, "digest"),  # the gzip header's mtime: reads fine, the digest differs
    ],
)
def test_blob_corrupted_in_storage_warns_as_for_a_file(
    registry: RealRegistry, tmp_path: Path, where: Any, kind: str
) -> None:
    blobs, desc = small_image(f"corrupt-{kind}")
    layout = Path(write_oci_layout(tmp_path / "good", blobs, oci_index([{**desc}])))
    name = f"corrupt/{kind}:1"
    registry.push(f"oci:{layout}", name)
    manifest = json.loads(blobs[desc["digest"]])
    victim = manifest["layers"][1]["digest"]
    stored = registry.blob_file(victim)
    bad = _corrupt_copy(stored.read_bytes(), where(len(blobs[victim])))
    stored.write_bytes(bad)
    # the same damage in a file image
    damaged_layout = Path(write_oci_layout(tmp_path / "bad", {**blobs, victim: bad}, oci_index([desc])))
    want = report_json(str(damaged_layout))
    got = report_json(registry.ref(name))
    assert got["layers"][1]["error"] == want["layers"][1]["error"]
    assert got["image"]["warnings"] == want["image"]["warnings"]
    if kind == "damaged":
        assert got["layers"][1]["error"]
    else:
        assert got["layers"][1]["error"] is None
        assert any("blob digest mismatch" in w and victim in w for w in got["image"]["warnings"])
    assert without_origin(got)["layers"] == without_origin(want)["layers"]
    code, _, _ = run_cli("ci", registry.ref(name))
    assert code == 2  # not verified
    # a blob that failed its digest is never cached
    assert not (tmp_path / "cache" / "blobs" / "sha256" / victim.split(":")[1]).exists()


# -- auth ------------------------------------------------------------------------------------

USER, PASSWORD = "alice", "s3cret-Pa55"


def _auth_file(path: Path, host: str, user: str = USER, password: str = PASSWORD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path


@pytest.fixture(scope="module")
def basic_registry() -> Iterator[RealRegistry]:
    need("docker-registry", "skopeo", "htpasswd")
    root = temp_dir("layerscope-reg-basic-")
    htpasswd(root / "htpasswd", USER, PASSWORD)
    r = RealRegistry(root, {"htpasswd": {"realm": "basic-realm", "path": str(root / "htpasswd")}})
    try:
        r.push(f"oci-archive:{SAMPLES / 'sample-oci-gzip.tar'}", "private/app:1", creds=f"{USER}:{PASSWORD}")
        yield r
    finally:
        r.stop()


def test_basic_auth_from_registry_auth_file(basic_registry: RealRegistry, tmp_path: Path, monkeypatch: Any) -> None:
    ref = basic_registry.ref("private/app:1")
    code, out, err = run_cli("report", ref)
    assert code == 2
    assert "access denied (401" in err and "repository:private/app:pull anonymously" in err
    assert err.count("\n") == 1
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(_auth_file(tmp_path / "auth.json", basic_registry.host)))
    doc = report_json(ref)
    assert without_origin(doc) == without_origin(report_json(str(SAMPLES / "sample-oci-gzip.tar")))
    # a wrong password: the file is named, the secret never printed
    wrong = "wrong-Pa55word"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(_auth_file(tmp_path / "bad.json", basic_registry.host, USER, wrong)))
    code, out, err = run_cli("report", "--no-cache", ref)
    assert code == 2
    assert "access denied (401" in err and str(tmp_path / "bad.json") in err
    for secret in (wrong, PASSWORD, base64.b64encode(f"{USER}:{wrong}".encode()).decode()):
        assert secret not in err + out


def test_docker_config_credential_helper(basic_registry: RealRegistry, tmp_path: Path, monkeypatch: Any) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    asked = tmp_path / "asked"
    helper = bindir / "docker-credential-layerscopetest"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 1\ncat > {asked}\n'
        f'printf \'{{"ServerURL":"x","Username":"{USER}","Secret":"{PASSWORD}"}}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    docker = Path(os.environ["HOME"]) / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {basic_registry.host: "layerscopetest"}}))
    doc = report_json(basic_registry.ref("private/app:1"))
    assert doc["image"]["platform"] == "linux/amd64"
    assert asked.read_text() == basic_registry.host
    # a helper that is named but missing is one clear line
    (docker / "config.json").write_text(json.dumps({"credsStore": "nosuchhelper"}))
    code, _, err = run_cli("report", "--no-cache", basic_registry.ref("private/app:1"))
    assert code == 2 and "docker-credential-nosuchhelper is not installed" in err


@pytest.fixture(scope="module")
def token_registry() -> Iterator[tuple[RealRegistry, TokenServer]]:
    need("docker-registry", "skopeo", "openssl")
    root = temp_dir("layerscope-reg-token-")
    tokens = TokenServer(root, {USER: PASSWORD})
    r = RealRegistry(root, tokens.registry_auth())
    try:
        r.push(f"oci-archive:{SAMPLES / 'sample-oci-zstd.tar'}", "private/app:1", creds=f"{USER}:{PASSWORD}")
        yield r, tokens
    finally:
        r.stop()
        tokens.stop()


def test_bearer_token_flow(token_registry: tuple[RealRegistry, TokenServer], tmp_path: Path, monkeypatch: Any) -> None:
    r, tokens = token_registry
    ref = r.ref("private/app:1")
    tokens.requests.clear()
    code, _, err = run_cli("report", ref)
    assert code == 2
    assert "access denied (401" in err and "repository:private/app:pull anonymously" in err
    assert tokens.requests and tokens.requests[0] == (None, "test-registry", "repository:private/app:pull")
    runtime = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    _auth_file(runtime / "containers" / "auth.json", r.host)
    tokens.requests.clear()
    doc = report_json(ref)
    assert without_origin(doc) == without_origin(report_json(str(SAMPLES / "sample-oci-zstd.tar")))
    assert (USER, "test-registry", "repository:private/app:pull") in tokens.requests
    # the token server refuses a wrong password: said in one line, with the scope
    _auth_file(runtime / "containers" / "auth.json", r.host, USER, "nope-nope")
    code, _, err = run_cli("report", "--no-cache", ref)
    assert code == 2
    assert "token server" in err and "refused repository:private/app:pull (HTTP 401 UNAUTHORIZED)" in err
    assert "nope-nope" not in err
    # an identity token (docker login with OAuth) is a refresh token for the token server
    (runtime / "containers" / "auth.json").write_text(
        json.dumps({"auths": {r.host: {"identitytoken": f"identity-token-of-{USER}"}}})
    )
    tokens.requests.clear()
    assert report_json("--no-cache", ref)["image"]["layer_count"] == 7
    assert (USER, "test-registry", "repository:private/app:pull") in tokens.requests


# -- bad servers (a fake registry that misbehaves on demand) ------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    f = FakeRegistry()
    yield f
    f.stop()


def _image_in(fake: FakeRegistry, seed: str = "img", n_layers: int = 3) -> tuple[dict[str, bytes], dict[str, Any]]:
    blobs, desc = small_image(seed, n_layers)
    fake.add_image(blobs, desc)
    return blobs, desc


def _layers(blobs: dict[str, bytes], desc: dict[str, Any]) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = json.loads(blobs[desc["digest"]])["layers"]
    return layers


def test_stalled_server_times_out(monkeypatch: Any) -> None:
    _sock, port, stop = stalled_server()
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_TIMEOUT", "1")
    try:
        t0 = time.monotonic()
        code, out, err = run_cli("report", f"registry://127.0.0.1:{port}/app:1")
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
    assert code == 2 and out == ""
    assert f"127.0.0.1:{port} did not answer within 1 s (timeout)" in err
    assert err.count("\n") == 1
    assert elapsed < 8


def _stalls_after_100_bytes(data: bytes) -> Callable[[BaseHTTPRequestHandler], bool]:
    """A blob answer that sends 100 bytes of ``data`` and then nothing for 3 s."""

    def stall(h: BaseHTTPRequestHandler) -> bool:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:100])
        h.wfile.flush()
        time.sleep(3)
        return True

    return stall


def test_a_blob_that_stalls_midway_is_a_damaged_layer(fake: FakeRegistry, monkeypatch: Any) -> None:
    blobs, desc = _image_in(fake)
    victim = _layers(blobs, desc)[2]["digest"]
    data = blobs[victim]

    stall = _stalls_after_100_bytes(data)
    fake.hooks[f"/v2/{fake.repo}/blobs/{victim}"] = stall
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_TIMEOUT", "1")
    doc = report_json(fake.ref())
    errors = [la["error"] for la in doc["layers"]]
    assert errors[0] is None and errors[1] is None
    assert f"TimeoutError: no data from {fake.host} for 1 s after 100 of {len(data)} bytes" in errors[2]
    assert any(w.startswith("layer 2 is damaged") for w in doc["image"]["warnings"])


def test_429_and_5xx_are_retried_then_named(fake: FakeRegistry) -> None:
    _image_in(fake)
    path = f"/v2/{fake.repo}/manifests/1"
    answers = [429, 503]

    def flaky(h: BaseHTTPRequestHandler) -> bool:
        if answers:
            send(h, answers.pop(0), b"busy", {"Retry-After": "0"})
            return True
        return False

    fake.hooks[path] = flaky
    assert report_json(fake.ref())["image"]["layer_count"] == 3
    assert [m for m, p, _ in fake.requests if p == path] == ["GET"] * 3

    fake.hooks[path] = lambda h: send(h, 503, b"down") or True
    code, _, err = run_cli("report", fake.ref())
    assert code == 2
    assert "the registry answered HTTP 503 (after 3 retries)" in err
    assert [m for m, p, _ in fake.requests if p == path].count("GET") == 3 + 4


def test_redirects_to_storage_never_carry_the_authorization(
    fake: FakeRegistry, tmp_path: Path, monkeypatch: Any
) -> None:
    blobs, desc = _image_in(fake)
    storage = FakeRegistry(repo="storage")
    try:
        for digest, data in blobs.items():
            storage.blobs[digest] = data
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        fake.require_auth = basic
        for la in _layers(blobs, desc):
            d = la["digest"]
            fake.hooks[f"/v2/{fake.repo}/blobs/{d}"] = lambda h, d=d: (
                h.headers.get("Authorization") == basic
                and send(h, 307, b"", {"Location": f"http://{storage.host}/v2/storage/blobs/{d}?sig=1"}) is None
            )
        monkeypatch.setenv("REGISTRY_AUTH_FILE", str(_auth_file(tmp_path / "auth.json", fake.host)))
        doc = report_json(fake.ref())
        assert all(la["error"] is None for la in doc["layers"])
        assert storage.blob_gets() == 3
        assert all(auth is None for _, _, auth in storage.requests)
        assert any(auth == basic for _, p, auth in fake.requests if "/blobs/" in p)
    finally:
        storage.stop()


def test_redirect_loop_is_named(fake: FakeRegistry) -> None:
    _image_in(fake)
    a, b = f"/v2/{fake.repo}/manifests/1", f"/v2/{fake.repo}/manifests/elsewhere"
    fake.hooks[a] = lambda h: send(h, 302, b"", {"Location": b}) is None
    fake.hooks[b] = lambda h: send(h, 302, b"", {"Location": a}) is None
    code, _, err = run_cli("report", fake.ref())
    assert code == 2 and "redirect loop" in err and err.count("\n") == 1


def test_manifest_over_the_limit(fake: FakeRegistry) -> None:
    _image_in(fake)
    huge = b'{"schemaVersion": 2, "pad": "' + b"x" * (reg.MAX_MANIFEST + 10) + b'"}'
    fake.manifests["1"] = ("application/vnd.oci.image.manifest.v1+json", huge)
    code, _, err = run_cli("report", fake.ref())
    assert code == 2
    assert f"the manifest is {len(huge)} bytes, over the {reg.MAX_MANIFEST}-byte limit" in err


def test_404_says_manifest_or_blob(fake: FakeRegistry) -> None:
    blobs, desc = _image_in(fake)
    code, _, err = run_cli("report", fake.ref("nope"))
    assert code == 2 and f"no tag 'nope' in {fake.host}/{fake.repo} (manifest: 404 MANIFEST_UNKNOWN)" in err
    missing = _layers(blobs, desc)[1]["digest"]
    del fake.blobs[missing]
    doc = report_json(fake.ref())
    assert f"blob {missing} not found in {fake.host}/{fake.repo} (404 BLOB_UNKNOWN)" in doc["layers"][1]["error"]
    config = json.loads(blobs[desc["digest"]])["config"]["digest"]
    del fake.blobs[config]
    code, _, err = run_cli("report", "--no-cache", fake.ref())
    assert code == 2 and f"blob {config} not found" in err


def test_size_that_disagrees_is_the_file_warning(fake: FakeRegistry, tmp_path: Path) -> None:
    blobs, desc = small_image("size")
    manifest = json.loads(blobs.pop(desc["digest"]))
    manifest["layers"][0]["size"] += 7
    mbytes = json.dumps(manifest).encode()
    blobs[sha(mbytes)] = mbytes
    desc = {"mediaType": desc["mediaType"], "digest": sha(mbytes), "size": len(mbytes)}
    fake.add_image(blobs, desc)
    want = report_json(write_oci_layout(tmp_path / "l", blobs, oci_index([desc])))
    got = report_json(fake.ref())
    real = len(blobs[manifest["layers"][0]["digest"]])
    message = f"layer 0 descriptor says {real + 7} bytes but the blob has {real}"
    assert any(message in w for w in want["image"]["warnings"])
    assert any(message in w for w in got["image"]["warnings"])
    assert got["layers"] == want["layers"]
    assert run_cli("ci", fake.ref())[0] == 2


def test_not_a_registry_and_bad_references(fake: FakeRegistry) -> None:
    fake.hooks["/v2/"] = lambda h: send(h, 404, b"<html>nope</html>", {"Content-Type": "text/html"}) is None
    code, _, err = run_cli("report", fake.ref())
    assert code == 2
    assert f"{fake.host} is not a container registry (GET /v2/ answered HTTP 404, text/html)" in err
    for spec, msg in [
        ("registry://", "expected registry://HOST[:PORT]/REPO[:TAG|@DIGEST]"),
        ("registry://127.0.0.1:5000", "expected registry://HOST"),
        ("registry://127.0.0.1:99999/a", "is not a host name"),
        ("registry://127.0.0.1/Upper", "'Upper' is not a valid repository name"),
        ("registry://127.0.0.1/a@sha256:abc", "is not a digest"),
    ]:
        code, _, err = run_cli("report", spec)
        assert code == 2 and msg in err, (spec, err)


def test_tls_verified_by_default_insecure_skips_checks(fake: FakeRegistry, tmp_path: Path, monkeypatch: Any) -> None:
    need("openssl")
    _image_in(fake)
    cert, key = tls_context(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd = fake.server.httpd
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    code, _, err = run_cli("report", "--no-cache", fake.ref())
    assert code == 2
    assert "CERTIFICATE_VERIFY_FAILED" in err and "--insecure skips certificate checks" in err
    assert report_json("--no-cache", "--insecure", fake.ref())["image"]["layer_count"] == 3
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust it: verified TLS works
    assert report_json("--no-cache", fake.ref())["image"]["layer_count"] == 3


def test_cache_serves_a_second_look(fake: FakeRegistry, tmp_path: Path, monkeypatch: Any) -> None:
    blobs, desc = _image_in(fake)
    first = report_json(fake.ref())
    assert fake.blob_gets() == 4  # config + 3 layers
    assert report_json(fake.ref()) == first
    assert fake.blob_gets() == 4  # nothing downloaded again
    code, out, _ = run_bytes("cat", fake.ref(), "/data/img-1.txt")
    assert code == 0 and out == b"img layer 1\n" * 2000 and fake.blob_gets() == 4
    cache = tmp_path / "cache" / "blobs" / "sha256"
    for digest, data in blobs.items():
        if digest != desc["digest"]:
            p = cache / digest.split(":")[1]
            assert p.read_bytes() == data
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert report_json("--no-cache", fake.ref()) == first
    assert fake.blob_gets() == 8
    # bounded: with room for one layer, older blobs go
    monkeypatch.setenv("LAYERSCOPE_CACHE_SIZE", str(max(len(b) for b in blobs.values()) + 10))
    _image_in(fake, "other")
    report_json(fake.ref())
    total = sum(p.stat().st_size for p in cache.iterdir() if not p.name.startswith("."))
    assert total <= max(len(b) for b in blobs.values()) + 10


def test_content_re_streams_without_the_cache(fake: FakeRegistry) -> None:
    _image_in(fake)
    code, out, err = run_bytes("cat", "--no-cache", fake.ref(), "/data/img-2.txt")
    assert code == 0, err
    assert out == b"img layer 2\n" * 2000
    assert fake.blob_gets() == 1 + 3 + 1  # config, every layer, then layer 2 again for the content
    assert not (Path(os.environ["LAYERSCOPE_CACHE_DIR"]) / "blobs").exists()


# -- pieces ---------------------------------------------------------------------------------


def test_parse_ref() -> None:
    r = reg.parse_ref("registry://127.0.0.1:5000/team/app")
    assert (r.host, r.repo, r.tag, r.digest, r.reference, r.loopback) == (
        "127.0.0.1:5000",
        "team/app",
        "latest",
        None,
        "latest",
        True,
    )
    d = "sha256:" + "a" * 64
    r = reg.parse_ref(f"registry://[::1]:5000/a/b:1@{d}")
    assert (r.host, r.repo, r.tag, r.digest, r.reference, r.loopback) == ("[::1]:5000", "a/b", "1", d, d, True)
    assert r.name == f"[::1]:5000/a/b@{d}"
    assert not reg.parse_ref("registry://host.invalid/x:2").loopback


def test_challenges_and_auth_file_matching(tmp_path: Path) -> None:
    (c,) = parse_challenges(['Bearer realm="https://a/token",service="reg, x",scope="repository:a/b:pull"'])
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://a/token", "service": "reg, x", "scope": "repository:a/b:pull"}
    basic, bearer = parse_challenges(['Basic realm="r"', 'Bearer realm="t"'])
    assert (basic.scheme, bearer.scheme) == ("basic", "bearer")
    auths: dict[str, object] = {
        "https://h:5000/v1/": {"auth": "x"},
        "h:5000/team": {"auth": "y"},
        "h:5000/team/app": {"auth": "z"},
        "other:5000": {"auth": "w"},
    }
    assert _best_auth(auths, "h:5000", "team/app") == ("h:5000/team/app", {"auth": "z"})
    assert _best_auth(auths, "h:5000", "team/other") == ("h:5000/team", {"auth": "y"})
    assert _best_auth(auths, "h:5000", "solo") == ("https://h:5000/v1/", {"auth": "x"})
    assert _best_auth(auths, "h:5001", "solo") is None
    f = _auth_file(tmp_path / "a.json", "h:5000", "bob", "pw:with:colons")
    creds = find_credentials("h:5000", "x", [str(tmp_path / "missing.json"), str(f)])
    assert creds is not None and (creds.username, creds.password) == ("bob", "pw:with:colons")
    assert "pw:with:colons" not in repr(creds)
    assert Credentials("u", "p", "o").basic() == "Basic " + base64.b64encode(b"u:p").decode()


def test_gzip_helper_roundtrip() -> None:
    """small_image really compresses (so the corruption tests hit a gzip stream)."""
    blobs, desc = small_image("g")
    layer = _layers(blobs, desc)[0]["digest"]
    assert gzip.decompress(blobs[layer])[:1]
    assert hashlib.sha256(blobs[layer]).hexdigest() == layer.split(":")[1]


def test_progress_line_draws_bytes_per_layer_and_erases_itself(monkeypatch: Any) -> None:
    import io

    from layerscope import progress

    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    out = io.StringIO()
    line = progress.ProgressLine(out)
    line(2, 1_500_000)
    line(0, 2_000)
    drawn = out.getvalue().split("\r\x1b[K")
    assert drawn[-1] == "reading layers 1.5 MB: L0 2.0 kB  L2 1.5 MB"
    line.close()
    assert out.getvalue().endswith("\r\x1b[K") and "\n" not in out.getvalue()
    quiet = io.StringIO()
    progress.ProgressLine(quiet).close()
    assert quiet.getvalue() == ""


def test_a_stalled_layer_is_named_a_read_error_not_corrupt_data(fake: FakeRegistry, monkeypatch: Any) -> None:
    """The core tells a source that failed from bad compressed data, and says it once."""
    blobs, desc = _image_in(fake)
    victim = _layers(blobs, desc)[2]["digest"]
    data = blobs[victim]

    stall = _stalls_after_100_bytes(data)
    fake.hooks[f"/v2/{fake.repo}/blobs/{victim}"] = stall
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_TIMEOUT", "1")
    error = report_json(fake.ref())["layers"][2]["error"]
    assert "corrupt" not in error
    assert error.count("TimeoutError") == 1, error
