"""Images straight from a registry: ``registry://HOST[:PORT]/REPO[:TAG|@DIGEST]``.

No engine and no temporary copy: the manifest (or image index), then the
config, come over the OCI distribution API (``/v2/``), and each layer blob is
handed to the engine as the HTTP response itself, read as it arrives. The
engine hashes what it reads, so every blob's digest is verified as it is for
files; a few layers stream at once while the ones already arriving are scanned.

Everything that is not HTTP is shared with archives: the registry is a
``BlobStore`` (``RegistrySource``: manifests, blobs, layer openers) read by
the same ``ImageReader``, so indexes, platforms, descriptors and their checks
behave the same for both; only finding the first manifest (by tag or digest)
is this module's own (``_describe``).

Policy, so that a bad server gets one clear line instead of a hang:

- TLS is verified; plain HTTP only with ``--insecure`` (which also skips
  certificate checks) or for a loopback address, and then only when the
  server does not speak TLS.
- Every request has a timeout (``$LAYERSCOPE_REGISTRY_TIMEOUT`` seconds,
  default 30, for connecting and for each wait for data); 429 and 5xx answers
  and refused or reset connections are retried with backoff (``Retry-After``
  honoured, capped).
- Redirects (blob storage) are followed by hand: at most ``MAX_REDIRECTS``, a
  loop is named, and the ``Authorization`` header never goes to another host.
- Credentials come from ``auth`` (the user's auth files and credential
  helpers) only when the registry asks, and never appear in a message.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, cast
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InsecureRequestWarning,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.response import BaseHTTPResponse

from ..errors import ImageError, SelectionError
from ..model import DIGEST_MISMATCH, Image, LoadWarning
from .auth import AuthFileError, Challenge, Credentials, auth_files, find_credentials, parse_challenges
from .cache import BlobCache, CacheConfigError, CacheWriter
from .image import DIGEST_RE, INDEX_TYPES, MANIFEST_TYPES, Candidate, ImageReader, digest_ok, loads_json

SCHEME = "registry://"
FORMAT = "registry"  # Image.format of an image read from a registry
MAX_MANIFEST = 4 << 20  # the distribution spec's suggested limit for manifests and indexes
MAX_ERROR_BODY = 64 << 10
MAX_TOKEN_BODY = 1 << 20
MAX_REDIRECTS = 10
RETRIES = 3  # extra attempts after a 429/5xx answer or a failed connection
BACKOFF = 0.5  # seconds before the first retry; doubled each time, with jitter
MAX_RETRY_AFTER = 30.0
DEFAULT_TIMEOUT = 30.0
POOL_SIZE = 8  # keep-alive connections per host: layers stream in parallel
USER_AGENT = "layerscope"

SCHEMA1_TYPES = {
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
}
MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
REDIRECTS = (301, 302, 303, 307, 308)
RETRY_STATUS = (429, 500, 502, 503, 504)

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RegistryError(ImageError):
    """The registry cannot give the image (unreachable, refused, not found, misbehaving)."""


@dataclass
class RegistryOptions:
    """What the command line says about registries (``--insecure``, ``--no-cache``)."""

    insecure: bool = False
    cache: bool = True


OPTIONS = RegistryOptions()


def configure(insecure: bool = False, cache: bool = True) -> None:
    """Set the options every ``registry://`` source of this run uses (image, --base, --compare)."""
    OPTIONS.insecure = insecure
    OPTIONS.cache = cache


def _timeout() -> float:
    raw = os.environ.get("LAYERSCOPE_REGISTRY_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        raise RegistryError(f"LAYERSCOPE_REGISTRY_TIMEOUT={raw[:20]!r} is not a number of seconds")
    return value


@dataclass(frozen=True)
class Reference:
    """A parsed ``registry://`` reference."""

    spec: str  # as typed
    host: str  # host[:port], as in URLs and auth files
    repo: str
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when given, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """``HOST/REPO:TAG`` or ``HOST/REPO@DIGEST``: the image's ref."""
        return f"{self.host}/{self.repo}" + (f"@{self.digest}" if self.digest else f":{self.tag}")

    @property
    def loopback(self) -> bool:
        return _loopback_host(self.host)


USAGE = "registry://HOST[:PORT]/REPO[:TAG|@DIGEST]"


def parse_ref(spec: str) -> Reference:
    """``registry://127.0.0.1:5000/team/app:1`` -> host, repo, tag/digest; one clear error otherwise."""
    rest = spec[len(SCHEME) :] if spec.startswith(SCHEME) else spec
    host, sep, path = rest.partition("/")
    if not host or not sep or not path:
        raise RegistryError(f"{spec}: expected {USAGE}")
    m = _HOST.match(host)
    if not m or (m.group(2) is not None and not 0 < int(m.group(2)) < 65536):
        raise RegistryError(f"{spec}: {host!r} is not a host name or address with an optional port ({USAGE})")
    digest = None
    if "@" in path:
        path, digest = path.split("@", 1)
        if not DIGEST_RE.match(digest):
            raise RegistryError(f"{spec}: {digest[:80]!r} is not a digest (sha256:<64 hex>)")
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise RegistryError(f"{spec}: {tag[:80]!r} is not a valid tag")
    if not _REPO.match(path):
        raise RegistryError(f"{spec}: {path[:80]!r} is not a valid repository name (lower-case a-z, 0-9, . _ - /)")
    if digest is None and tag is None:
        tag = "latest"
    return Reference(spec, host, path, tag, digest)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _loopback_host(netloc: str) -> bool:
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        host = host[1 : host.find("]")]
    else:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_code(resp: BaseHTTPResponse) -> str:
    """The registry's error code (``MANIFEST_UNKNOWN``…) from an error body, if it gave one."""
    try:
        body = resp.read(MAX_ERROR_BODY, decode_content=True)
    except (HTTPError, OSError):
        return ""
    finally:
        resp.release_conn()
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        if isinstance(code, str) and re.fullmatch(r"[A-Z_]{1,40}", code):
            return code
    return ""


def _discard(resp: BaseHTTPResponse) -> None:
    """Drop a response we do not read (a redirect, a 401): never download a body for nothing."""
    try:
        if (resp.length_remaining or 0) <= 64 << 10:
            resp.drain_conn()
            resp.release_conn()
        else:
            resp.close()
    except (HTTPError, OSError):
        resp.close()


class Client:
    """The distribution API of one repository: scheme, auth, retries, redirects."""

    def __init__(self, ref: Reference, insecure: bool) -> None:
        self.ref = ref
        self.insecure = insecure
        self.timeout_s = _timeout()
        self.allow_http = insecure or ref.loopback
        self.scope = f"repository:{ref.repo}:pull"
        timeout = urllib3.Timeout(connect=self.timeout_s, read=self.timeout_s)
        if insecure:
            urllib3.disable_warnings(InsecureRequestWarning)
            self.pool = urllib3.PoolManager(
                num_pools=8, maxsize=POOL_SIZE, retries=False, timeout=timeout, cert_reqs="CERT_NONE"
            )
        else:
            self.pool = urllib3.PoolManager(num_pools=8, maxsize=POOL_SIZE, retries=False, timeout=timeout)
        self.base = ""
        self._lock = threading.Lock()
        self._token: str | None = None
        self._basic = False
        self._creds: Credentials | None = None
        self._creds_looked = False

    # -- transport -------------------------------------------------------------
    def _send(
        self, method: str, url: str, headers: dict[str, str], what: str, body: bytes | None = None
    ) -> BaseHTTPResponse:
        """One request, retried on 429/5xx and on connections refused or reset."""
        host = urlsplit(url).netloc
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                resp = self.pool.request(
                    method,
                    url,
                    headers=headers,
                    body=body,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=False,
                )
            except SSLError as exc:
                raise _TLSFailed(f"{what}: TLS with {host} failed ({_reason(exc)})") from None
            except NewConnectionError as exc:
                if last:
                    raise RegistryError(f"{what}: cannot connect to {host} ({_reason(exc)})") from None
            except ConnectTimeoutError:
                raise RegistryError(f"{what}: connecting to {host} timed out after {self.timeout_s:g} s") from None
            except ReadTimeoutError:
                raise RegistryError(f"{what}: {host} did not answer within {self.timeout_s:g} s (timeout)") from None
            except ProtocolError as exc:
                if last:
                    raise RegistryError(f"{what}: connection to {host} failed ({_reason(exc)})") from None
            except HTTPError as exc:
                raise RegistryError(f"{what}: request to {host} failed ({_reason(exc)})") from None
            else:
                if resp.status not in RETRY_STATUS or last:
                    return resp
                wait = _retry_after(resp.headers.get("Retry-After"))
                _discard(resp)
                if wait is not None:
                    delay = max(delay, wait)
            time.sleep(delay * (1 + random.random() / 4))
            delay = min(delay * 2, MAX_RETRY_AFTER)
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """``GET /v2/``: pick the scheme, learn that it is a registry, refuse what is not."""
        spec = self.ref.spec
        schemes = ["https", "http"] if self.allow_http else ["https"]
        for scheme in schemes:
            self.base = f"{scheme}://{self.ref.host}"
            try:
                resp = self._send("GET", self.base + "/v2/", self._headers(), spec)
            except _TLSFailed as exc:
                untrusted = "CERTIFICATE" in str(exc).upper()
                if scheme == "https" and self.allow_http and not untrusted:
                    continue  # a loopback or --insecure registry that speaks plain HTTP
                hint = "; --insecure skips certificate checks" if untrusted else ""
                raise RegistryError(f"{exc}{hint}") from None
            break
        status = resp.status
        ctype = resp.headers.get("Content-Type", "")
        api = resp.headers.get("Docker-Distribution-Api-Version")
        _discard(resp)
        if status == 401:
            return  # the challenge is answered on the first real request, with its scope
        if status == 200 and (api or "json" in ctype.lower()):
            return
        what = f"answered HTTP {status}" + (f", {ctype.split(';')[0]}" if ctype else "")
        raise RegistryError(f"{spec}: {self.ref.host} is not a container registry (GET /v2/ {what})")

    def _headers(self, accept: str | None = None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if accept:
            headers["Accept"] = accept
        return headers

    def get(self, path: str, what: str, accept: str | None = None, method: str = "GET") -> BaseHTTPResponse:
        """A request to the registry with auth, following redirects by hand."""
        url = self.base + path
        origin = _origin(url)
        hops: list[str] = []
        authed = False
        while True:
            headers = self._headers(accept)
            if _origin(url) == origin:
                auth = self._authorization()
                if auth:
                    headers["Authorization"] = auth
            resp = self._send(method, url, headers, what)
            if resp.status in REDIRECTS:
                location = resp.headers.get("Location")
                _discard(resp)
                if not location:
                    raise RegistryError(f"{what}: HTTP {resp.status} redirect without a Location")
                nxt = urljoin(url, location)
                scheme, netloc = _origin(nxt)
                if nxt in hops or nxt == url or len(hops) >= MAX_REDIRECTS:
                    raise RegistryError(f"{what}: redirect loop ({len(hops) + 1} redirects, last to {netloc})")
                if scheme not in ("http", "https"):
                    raise RegistryError(f"{what}: redirected to a {scheme or 'relative'} URL, not HTTP")
                if scheme == "http" and not (self.insecure or _loopback_host(netloc)):
                    raise RegistryError(f"{what}: redirected to plain HTTP at {netloc}; refused (--insecure allows it)")
                hops.append(nxt)
                url = nxt
                continue
            if resp.status == 401 and _origin(url) == origin and not authed:
                challenges = parse_challenges(resp.headers.getlist("WWW-Authenticate"))
                _discard(resp)
                self._authenticate(challenges, what)
                authed = True
                continue
            return resp

    # -- auth ------------------------------------------------------------------------
    def _credentials(self) -> Credentials | None:
        with self._lock:
            if not self._creds_looked:
                self._creds_looked = True
                try:
                    self._creds = find_credentials(self.ref.host, self.ref.repo)
                except AuthFileError as exc:
                    raise RegistryError(f"{self.ref.spec}: {exc}") from None
            return self._creds

    def _authorization(self) -> str | None:
        if self._token:
            return "Bearer " + self._token
        if self._basic and self._creds is not None:
            return self._creds.basic()
        return None

    def _who(self) -> str:
        if self._creds is not None:
            return f"with the credentials from {self._creds.origin}"
        looked = ", ".join(auth_files())
        return f"anonymously (no credentials for {self.ref.host} in {looked})"

    def _authenticate(self, challenges: list[Challenge], what: str) -> None:
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if bearer is not None:
            token = self._fetch_token(bearer, what)
            with self._lock:
                self._token = token
            return
        if basic is not None:
            creds = self._credentials()
            if creds is None or not creds.username:
                raise RegistryError(f"{what}: access denied (401) for {self.scope} {self._who()}")
            self._basic = True
            return
        schemes = ", ".join(c.scheme for c in challenges) or "none"
        raise RegistryError(f"{what}: unauthorized (401) and no Bearer or Basic challenge (offered: {schemes[:60]})")

    def _fetch_token(self, challenge: Challenge, what: str) -> str:
        """The bearer-token flow: ask the realm for a token for this repository's pull scope."""
        realm = challenge.params.get("realm", "")
        scheme, netloc = _origin(realm)
        if scheme not in ("http", "https") or not netloc:
            raise RegistryError(f"{what}: the registry's token realm {realm[:100]!r} is not an HTTP URL")
        if scheme == "http" and not (self.insecure or _loopback_host(netloc)):
            raise RegistryError(f"{what}: the token realm {netloc} is plain HTTP; refused (--insecure allows it)")
        scope = challenge.params.get("scope") or self.scope
        fields = {"scope": scope}
        if challenge.params.get("service"):
            fields["service"] = challenge.params["service"]
        creds = self._credentials()
        headers = self._headers("application/json")
        if creds is not None and creds.identity_token:
            grant = {"grant_type": "refresh_token", "refresh_token": creds.identity_token, "client_id": "layerscope"}
            body = urlencode({**fields, **grant}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            resp = self._send("POST", realm, headers, what, body=body)
        else:
            if creds is not None and creds.username:
                headers["Authorization"] = creds.basic()
            sep = "&" if urlsplit(realm).query else "?"
            resp = self._send("GET", realm + sep + urlencode(fields), headers, what)
        if resp.status != 200:
            code = _error_code(resp)
            detail = f"HTTP {resp.status}" + (f" {code}" if code else "")
            if resp.status in (401, 403):
                raise RegistryError(f"{what}: the token server {netloc} refused {scope} ({detail}) {self._who()}")
            raise RegistryError(f"{what}: the token server {netloc} answered {detail} for {scope}")
        data = _read_limited(resp, MAX_TOKEN_BODY, f"{what}: token from {netloc}")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(f"{what}: the token server {netloc} did not answer JSON") from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise RegistryError(f"{what}: the token server {netloc} gave no usable token")
        return token

    # -- the API ---------------------------------------------------------------------
    def fail(self, resp: BaseHTTPResponse, what: str, kind: str, name: str) -> NoReturn:
        """One line for an answer that is not the document asked for."""
        status = resp.status
        code = _error_code(resp)
        detail = f"{status}" + (f" {code}" if code else "")
        if status in (401, 403):
            raise RegistryError(f"{what}: access denied ({detail}) for {self.scope} {self._who()}")
        if status == 404:
            where = f"{self.ref.host}/{self.ref.repo}"
            if code == "NAME_UNKNOWN":
                raise RegistryError(f"{what}: no repository {self.ref.repo!r} on {self.ref.host} ({detail})")
            if kind == "manifest" and name == self.ref.tag:
                raise RegistryError(f"{what}: no tag {name!r} in {where} (manifest: {detail})")
            if kind == "manifest":
                raise RegistryError(f"{what}: manifest {name} not found in {where} ({detail})")
            raise RegistryError(f"{what}: blob {name} not found in {where} ({detail})")
        if status in RETRY_STATUS:
            raise RegistryError(f"{what}: the registry answered HTTP {detail} (after {RETRIES} retries)")
        raise RegistryError(f"{what}: unexpected answer HTTP {detail} for the {kind} {name}")

    def manifest(self, reference: str) -> tuple[bytes, str | None, str | None]:
        """A manifest or index by tag or digest: (bytes, media type, Docker-Content-Digest)."""
        what = self.ref.spec if reference == self.ref.reference else f"{self.ref.spec}: manifest {reference}"
        resp = self.get(f"/v2/{self.ref.repo}/manifests/{reference}", what, MANIFEST_ACCEPT)
        if resp.status != 200:
            self.fail(resp, what, "manifest", reference)
        ctype = (resp.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower() or None
        digest = resp.headers.get("Docker-Content-Digest")
        data = _read_limited(resp, MAX_MANIFEST, f"{what}: the manifest")
        if ctype in ("text/html", "text/plain"):
            raise RegistryError(f"{what}: answered {ctype}, not a manifest: is {self.ref.host} a registry?")
        return data, ctype, digest

    def blob(self, digest: str) -> BaseHTTPResponse:
        """A streaming response for a blob (redirects to blob storage followed)."""
        what = f"{self.ref.spec}: blob {digest}"
        resp = self.get(f"/v2/{self.ref.repo}/blobs/{digest}", what)
        if resp.status != 200:
            self.fail(resp, what, "blob", digest)
        return resp

    def blob_size(self, digest: str) -> int:
        what = f"{self.ref.spec}: blob {digest}"
        resp = self.get(f"/v2/{self.ref.repo}/blobs/{digest}", what, method="HEAD")
        if resp.status != 200:
            self.fail(resp, what, "blob", digest)
        length = resp.headers.get("Content-Length")
        _discard(resp)
        if length is None or not length.isdigit():
            raise RegistryError(f"{what}: the registry gave no size for the blob")
        return int(length)


class _TLSFailed(RegistryError):
    """The TLS handshake failed (a plain-HTTP server, or a certificate not trusted)."""


def _reason(exc: BaseException) -> str:
    """The useful end of urllib3's error text, without the connection object it names."""
    args: tuple[Any, ...] = exc.args
    if isinstance(exc, ProtocolError) and len(args) > 1 and isinstance(args[1], BaseException):
        exc = args[1]
    text = re.sub(r"<[^>]*>:?\s*", "", str(exc)).strip()
    if "Connection refused" in text:
        return "connection refused"
    text = text.removeprefix("Failed to establish a new connection: ")
    return text[:200] or type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_AFTER)
    return None


def _read_limited(resp: BaseHTTPResponse, limit: int, what: str) -> bytes:
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        resp.close()
        raise RegistryError(f"{what} is {int(length)} bytes, over the {limit}-byte limit")
    try:
        data = resp.read(limit + 1, decode_content=True)
    except ReadTimeoutError:
        resp.close()
        raise RegistryError(f"{what}: no data within the timeout") from None
    except (HTTPError, OSError) as exc:
        resp.close()
        raise RegistryError(f"{what}: connection failed ({_reason(exc)})") from None
    if len(data) > limit:
        resp.close()
        raise RegistryError(f"{what} is over the {limit}-byte limit")
    resp.release_conn()
    return data


class BlobStream:
    """A layer blob as the HTTP response delivers it: ``read(n)`` and ``close()``.

    What arrives is also copied into the cache (when on); the copy is kept only
    if the whole blob arrived with the right digest.
    """

    def __init__(
        self,
        resp: BaseHTTPResponse,
        what: str,
        timeout: float,
        writer: CacheWriter | None,
        on_bytes: Callable[[int], None] | None,
    ) -> None:
        self._resp = resp
        self._what = what
        self._timeout = timeout
        self._writer = writer
        self._on_bytes = on_bytes
        self._count = 0
        self._done = False
        self._failed = False
        self._closed = False
        length = resp.headers.get("Content-Length")
        self.length = int(length) if length is not None and length.isdigit() else None

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._done or self._closed:
            return b""
        got = f"{self._count}" + (f" of {self.length}" if self.length is not None else "")
        try:
            # read1: whatever has arrived (up to n), so the engine scans while the rest downloads
            data = self._resp.read1(n if n is not None and n >= 0 else None, decode_content=False)
        except ReadTimeoutError:
            # TimeoutError/ConnectionError: the engine prefixes the type name to the layer's error.
            # The stream ends there: a second read must not name a second, later symptom.
            self._done = self._failed = True
            raise TimeoutError(f"no data from {self._what} for {self._timeout:g} s after {got} bytes") from None
        except (HTTPError, OSError) as exc:
            self._done = self._failed = True
            raise ConnectionError(f"{self._what} broke off after {got} bytes ({_reason(exc)})") from None
        if data:
            self._count += len(data)
            if self._writer is not None:
                self._writer.write(data)
            if self._on_bytes is not None:
                self._on_bytes(self._count)
        else:
            self._done = True
        return data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.finish(verified=self._done and not self._failed)
        if self._done and not self._failed:
            self._resp.release_conn()
        else:
            self._resp.close()  # a half-read body is not worth draining

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _digest_of(path: str) -> str:
    """``blobs/sha256/<hex>`` -> ``sha256:<hex>``."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "blobs":
        raise ImageError(f"{path}: not a blob name")
    return f"{parts[1]}:{parts[2]}"


class RegistrySource:
    """A registry repository seen as a file source of ``blobs/<alg>/<hex>`` names.

    Manifests and blobs live at different API paths: the digests of manifests
    (the children of an index) are registered by the reader as it walks.
    """

    def __init__(self, ref: Reference, client: Client, cache: BlobCache | None) -> None:
        self.ref = ref
        self.name = ref.spec
        self.client = client
        self.cache = cache
        self.warnings: list[LoadWarning] = []
        self.truncated: str | None = None  # a registry serves whole blobs or none
        self.received: dict[int, int] = {}  # layer index -> compressed bytes received
        self._small: dict[str, bytes] = {}

    def exists(self, path: str) -> bool:
        return False

    def names(self) -> list[str]:
        return []

    def close(self) -> None:
        pass  # the pool stays: content views stream blobs again later

    def size(self, path: str) -> int:
        return self.client.blob_size(_digest_of(path))

    def read_manifest(self, path: str, limit: int) -> bytes:
        """A manifest or index named by an index: served under ``/manifests/``, not ``/blobs/``."""
        digest = _digest_of(path)
        if digest not in self._small:
            self._small[digest] = self.client.manifest(digest)[0]  # bounded by the client (MAX_MANIFEST)
        return self._small[digest]

    def layer_size(self, path: str, declared: int | None) -> int:
        # The descriptor's size until the blob streams (the stream checks it): no request per layer.
        return declared if declared is not None else self.size(path)

    def layer_opener(
        self, path: str, index: int, declared: int | None, on_size: Callable[[int], None]
    ) -> Callable[[], BinaryIO]:
        return lambda: self.open_blob(path, index, declared, on_size)

    def read(self, path: str, limit: int) -> bytes:
        digest = _digest_of(path)
        if digest in self._small:
            return self._small[digest]
        cached = self.cache.read(digest, limit) if self.cache is not None else None
        if cached is not None:
            data = cached
        else:
            what = f"{self.ref.spec}: blob {digest}"
            data = _read_limited(self.client.blob(digest), limit, what)
            if self.cache is not None and digest_ok(data, digest):
                self.cache.put(digest, data)
        self._small[digest] = data
        return data

    def open(self, path: str) -> BinaryIO:
        return self.open_blob(path)

    def open_blob(
        self,
        path: str,
        index: int | None = None,
        declared: int | None = None,
        on_size: Callable[[int], None] | None = None,
    ) -> BinaryIO:
        """The blob from the cache (a plain file, read in place) or as a live HTTP stream."""
        digest = _digest_of(path)
        if self.cache is not None:
            fh = self.cache.open(digest)
            if fh is not None:
                size = os.fstat(fh.fileno()).st_size
                if index is not None:
                    self.received[index] = size
                if declared is not None and on_size is not None and size != declared:
                    on_size(size)
                return fh
        resp = self.client.blob(digest)
        what = urlsplit(resp.geturl() or self.client.base).netloc or self.ref.host
        writer = self.cache.writer(digest) if self.cache is not None else None

        def count(n: int) -> None:
            if index is not None:
                self.received[index] = n

        stream = BlobStream(resp, what, self.client.timeout_s, writer, count)
        if declared is not None and on_size is not None and stream.length is not None and stream.length != declared:
            on_size(stream.length)
        return cast(BinaryIO, stream)


def _describe(reader: ImageReader, source: RegistrySource) -> Image:
    """The image a registry reference names: its manifest by tag or digest,
    then indexes, platforms and layers as for an archive (the shared reader)."""
    ref = source.ref
    data, media_type, header_digest = source.client.manifest(ref.reference)
    digest = ref.digest or "sha256:" + hashlib.sha256(data).hexdigest()
    if ref.digest and not digest_ok(data, ref.digest):
        reader.warn(DIGEST_MISMATCH, f"{ref.spec}: the manifest served does not match the digest asked for")
    elif header_digest and DIGEST_RE.match(header_digest) and not digest_ok(data, header_digest):
        reader.warn(DIGEST_MISMATCH, f"{ref.spec}: the manifest does not match its Docker-Content-Digest")
    obj = loads_json(data, source, f"manifest {ref.reference}")
    if not isinstance(obj, dict):
        raise RegistryError(f"{ref.spec}: the manifest is not a JSON object")
    mt = media_type if media_type and media_type != "application/json" else obj.get("mediaType")
    if mt in SCHEMA1_TYPES or obj.get("schemaVersion") == 1:
        raise RegistryError(f"{ref.spec}: a Docker schema 1 manifest (deprecated); not supported")
    if mt in INDEX_TYPES or (mt not in MANIFEST_TYPES and isinstance(obj.get("manifests"), list)):
        cands: list[Candidate] = []
        # depth 1: a registry's index is not an index.json, its descriptors cannot rename the image
        reader.walk_index(obj, ref.name, 1, {digest}, cands)
        if not cands:
            raise RegistryError(f"{ref.spec}: the image index lists no image manifests")
    elif mt in MANIFEST_TYPES or "layers" in obj or "config" in obj:
        cands = [Candidate(obj, digest, ref.name, None)]
    else:
        raise RegistryError(f"{ref.spec}: answered a {str(mt)[:80]} document, not an image manifest or index")
    return reader.from_manifest(reader.choose(cands), FORMAT)


def open_registry_image(spec: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """Read the manifest and config of ``registry://…`` (layers stream later, on demand)."""
    ref = parse_ref(spec)
    if image_ref:
        raise SelectionError(f"{spec}: --image picks an image inside an archive; a registry reference names one")
    client = Client(ref, OPTIONS.insecure)
    try:
        cache = BlobCache() if OPTIONS.cache else None
    except CacheConfigError as exc:
        raise RegistryError(str(exc)) from None
    client.ping()
    source = RegistrySource(ref, client, cache)
    return ImageReader(ref.spec, platform, None, files=source).read(lambda reader: _describe(reader, source))
