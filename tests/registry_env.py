"""Registries on loopback for the registry:// tests.

- ``RealRegistry``: Debian's ``docker-registry`` (the CNCF distribution
  registry) on 127.0.0.1 and a random port, storage in a temp dir, filled by
  ``skopeo copy``; optionally behind htpasswd (basic) or token auth.
- ``TokenServer``: a bearer-token server (http.server) that signs JWTs with a
  throwaway key through the ``openssl`` command, as a registry's auth service does.
- ``FakeRegistry``: a small distribution API over in-memory blobs whose
  misbehaviour each test chooses (stalls, redirects, 429s, wrong sizes...).

Every server binds 127.0.0.1 only and stops with its fixture.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import need_tools

_NEW_CERT = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj"]


need = need_tools  # the registry tests' name for it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (401 for an auth registry)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def htpasswd(path: Path, user: str, password: str) -> None:
    line = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True).stdout
    path.write_text(line.strip() + "\n")


class RealRegistry:
    """``docker-registry serve`` on 127.0.0.1:PORT with its storage in ``root``."""

    def __init__(self, root: Path, auth: dict[str, Any] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.storage = root / "storage"
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True}},
            "http": {"addr": self.host},
        }
        if auth:
            config["auth"] = auth
        cfg = root / "config.yml"
        cfg.write_text(json.dumps(config))  # YAML is a superset of JSON
        self.log = open(root / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(cfg)], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            wait_http(f"http://{self.host}/v2/")
        except BaseException:
            self.stop()
            raise

    def ref(self, name: str) -> str:
        return f"registry://{self.host}/{name}"

    def push(self, src: str, name: str, creds: str | None = None, all_images: bool = False) -> None:
        cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if creds:
            cmd += ["--dest-creds", creds]
        if all_images:
            cmd.append("--all")
        cmd += [src, f"docker://{self.host}/{name}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)

    def blob_file(self, digest: str) -> Path:
        hexd = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _QuietServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that stays quiet when a client hangs up.

    Tests drop connections on purpose (a truncated blob, a timeout); the
    stock server printed "Exception occurred during processing of request"
    and a traceback into the test run for each. Any other error still prints.
    """

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Server:
    """An http.server on 127.0.0.1 in a thread; ``handle(handler)`` answers each request."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                handle(self)

            def do_HEAD(self) -> None:
                handle(self)

            def do_POST(self) -> None:
                handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self._outer = outer

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    hdrs = {"Content-Length": str(len(body)), **(headers or {})}
    for k, v in hdrs.items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD" and body:
        h.wfile.write(body)


class TokenServer:
    """Issues registry bearer tokens (RS256 JWTs with the signing certificate in ``x5c``).

    ``users`` may pull and push anything; anonymous callers get a token with no
    access. ``requests`` records (user or None, service, scope) for each call.
    """

    def __init__(self, root: Path, users: dict[str, str], service: str = "test-registry") -> None:
        self.service = service
        self.issuer = "layerscope-test-issuer"
        self.users = users
        self.requests: list[tuple[str | None, str | None, str | None]] = []
        self.key = root / "token.key"
        self.cert = root / "token.crt"
        subprocess.run(
            [*_NEW_CERT, "/CN=token-signer", "-keyout", str(self.key), "-out", str(self.cert)],
            check=True,
            capture_output=True,
        )
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"], check=True, capture_output=True
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.server = _Server(self._handle)
        self.realm = f"http://{self.server.host}/token"

    def registry_auth(self) -> dict[str, Any]:
        return {
            "token": {
                "realm": self.realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(self.cert),
            }
        }

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{_b64url(sig)}"

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(h.path).query)
        if h.command == "POST":  # the OAuth2 refresh-token grant (docker's identity tokens)
            q = parse_qs(h.rfile.read(int(h.headers.get("Content-Length", "0"))).decode())
        service = q.get("service", [None])[0]
        scopes = q.get("scope", [])
        user = None
        auth = h.headers.get("Authorization", "")
        if h.command == "POST":
            refresh = q.get("refresh_token", [""])[0]
            user = next((u for u in self.users if refresh == f"identity-token-of-{u}"), None)
            if user is None or q.get("grant_type") != ["refresh_token"]:
                send(h, 401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad refresh token"}]}')
                return
        elif auth.startswith("Basic "):
            name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if self.users.get(name) != password:
                self.requests.append((name, service, ",".join(scopes) or None))
                send(h, 401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                return
            user = name
        self.requests.append((user, service, ",".join(scopes) or None))
        access = []
        if user is not None:
            for scope in scopes:
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": hashlib.sha256(os.urandom(16)).hexdigest(),
            "access": access,
        }
        body = json.dumps({"token": self._sign(claims), "expires_in": 300}).encode()
        send(h, 200, body, {"Content-Type": "application/json"})

    def stop(self) -> None:
        self.server.stop()


class FakeRegistry:
    """The distribution API over in-memory ``blobs`` (digest -> bytes) and ``manifests`` (ref -> (type, bytes)).

    Tests bend it: ``hooks[path]`` may answer a request itself (return True),
    and ``requests`` records (method, path, Authorization header) in order.
    """

    def __init__(self, repo: str = "test/app") -> None:
        self.repo = repo
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[str, bytes]] = {}
        self.hooks: dict[str, Callable[[BaseHTTPRequestHandler], bool]] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.require_auth: str | None = None  # a Basic/Bearer header value the registry demands
        self.challenge = 'Basic realm="fake"'
        self.server = _Server(self._handle)
        self.host = self.server.host

    def ref(self, tag: str = "1") -> str:
        return f"registry://{self.host}/{self.repo}:{tag}"

    def add_image(self, blobs: dict[str, bytes], desc: dict[str, Any], tag: str = "1") -> None:
        """Blobs and the manifest descriptor as ``tests.imagegen.oci_blobs`` makes them."""
        manifest = blobs[desc["digest"]]
        for digest, data in blobs.items():
            if digest != desc["digest"]:
                self.blobs[digest] = data
        self.manifests[tag] = self.manifests[desc["digest"]] = (desc["mediaType"], manifest)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        self.requests.append((h.command, path, h.headers.get("Authorization")))
        hook = self.hooks.get(path)
        if hook is not None and hook(h):
            return
        if path == "/v2/":
            send(h, 200, b"{}", {"Docker-Distribution-Api-Version": "registry/2.0", "Content-Type": "application/json"})
            return
        if self.require_auth and h.headers.get("Authorization") != self.require_auth:
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            send(h, 401, body, {"WWW-Authenticate": self.challenge, "Content-Type": "application/json"})
            return
        prefix = f"/v2/{self.repo}/"
        if path.startswith(prefix + "manifests/"):
            ref = path[len(prefix + "manifests/") :]
            if ref in self.manifests:
                mt, data = self.manifests[ref]
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                send(h, 200, data, {"Content-Type": mt, "Docker-Content-Digest": digest})
                return
            send(h, 404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            return
        if path.startswith(prefix + "blobs/"):
            digest = path[len(prefix + "blobs/") :]
            if digest in self.blobs:
                send(h, 200, self.blobs[digest], {"Content-Type": "application/octet-stream"})
                return
            send(h, 404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            return
        send(h, 404, b"not found")

    def blob_gets(self) -> int:
        return sum(1 for m, p, _ in self.requests if m == "GET" and "/blobs/" in p)

    def stop(self) -> None:
        self.server.stop()


def tls_context(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key)."""
    cert, key = root / "tls.crt", root / "tls.key"
    subprocess.run(
        [*_NEW_CERT, "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def stalled_server() -> tuple[socket.socket, int, threading.Event]:
    """A socket on loopback that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue
        for c in held:
            c.close()
        sock.close()

    threading.Thread(target=accept, daemon=True).start()
    return sock, int(sock.getsockname()[1]), stop


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
