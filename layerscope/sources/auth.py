"""Registry credentials from the files users already have, and auth challenges.

A person who can ``podman pull`` or ``docker pull`` an image should be able to
look at it with layerscope without logging in again, so credentials come from
the same places those tools keep them, in the order containers-auth.json(5)
gives: ``$REGISTRY_AUTH_FILE``, ``${XDG_RUNTIME_DIR}/containers/auth.json``,
``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json``, then docker's
``${DOCKER_CONFIG:-~/.docker}/config.json``. In each file a credential helper
named for the host (``credHelpers``) comes first, then the ``auths`` entry
that matches the repository most closely, then the file's ``credsStore``.

Secrets never reach a message, a log line or a ``repr``: errors name the file
or the helper, never what it holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

HELPER_TIMEOUT = 30.0  # seconds a credential helper may take
MAX_AUTH_FILE = 4 << 20  # bytes read from one auth file


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or an identity token), and where they came from."""

    username: str
    password: str = field(repr=False)
    origin: str  # the file or helper, for messages
    identity_token: str | None = field(default=None, repr=False)

    def basic(self) -> str:
        """The value of an ``Authorization: Basic`` header."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: its scheme (lower-case) and parameters."""

    scheme: str
    params: dict[str, str]


_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.-]*)(?:\s+|$)")


def parse_challenges(headers: list[str]) -> list[Challenge]:
    """``Bearer realm="…",service="…",scope="…"`` (one or more headers) as challenges."""
    out: list[Challenge] = []
    for header in headers:
        pos = 0
        while pos < len(header):
            m = _SCHEME.match(header, pos)
            if not m:
                break
            scheme = m.group(1).lower()
            pos = m.end()
            params: dict[str, str] = {}
            while pos < len(header):
                p = _PARAM.match(header, pos)
                if not p:
                    break
                value = p.group(2)
                if value.startswith('"'):
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                params[p.group(1).lower()] = value
                pos = p.end()
            out.append(Challenge(scheme, params))
            while pos < len(header) and header[pos] in ", ":
                pos += 1
    return out


def auth_files() -> list[str]:
    """The auth files looked at, in order (existing or not)."""
    env = os.environ
    home = os.path.expanduser("~")
    files: list[str] = []
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        files.append(os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    files.append(os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "containers", "auth.json"))
    files.append(os.path.join(env.get("DOCKER_CONFIG") or os.path.join(home, ".docker"), "config.json"))
    return files


def _key_of(raw: str) -> str:
    """An ``auths`` key as ``host[:port][/path]``: scheme and docker's ``/v1/`` suffix dropped."""
    key = re.sub(r"^[a-z]+://", "", raw.strip(), flags=re.I).rstrip("/")
    return re.sub(r"/v[12]$", "", key)


def _best_auth(auths: dict[str, object], host: str, repo: str) -> tuple[str, dict[str, object]] | None:
    """The ``auths`` entry for ``host/repo``: an exact repository or namespace key beats the host's."""
    full = f"{host}/{repo}"
    best: tuple[int, str, dict[str, object]] | None = None
    for raw, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        key = _key_of(raw)
        matches = key == host or full == key or full.startswith(key + "/")
        if matches and (best is None or len(key) > best[0]):
            best = (len(key), raw, entry)
    return None if best is None else (best[1], best[2])


def _from_entry(entry: dict[str, object], origin: str) -> Credentials | None:
    """Credentials from an ``auths`` entry: ``auth`` (base64 ``user:password``) or explicit fields."""
    token = entry.get("identitytoken")
    identity = token if isinstance(token, str) and token else None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise AuthFileError(f"{origin}: the 'auth' entry is not base64 of user:password") from None
        if not sep:
            raise AuthFileError(f"{origin}: the 'auth' entry is not base64 of user:password")
        return Credentials(user, password, origin, identity)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret, origin, identity)
    if identity:
        return Credentials("", "", origin, identity)
    return None


class AuthFileError(Exception):
    """An auth file or credential helper is unusable (the message never holds a secret)."""


def run_helper(name: str, server: str) -> Credentials | None:
    """``docker-credential-NAME get`` for ``server``; None when it knows no credentials for it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise AuthFileError(f"credential helper name {name[:40]!r} is not valid")
    prog = f"docker-credential-{name}"
    if shutil.which(prog) is None:
        raise AuthFileError(f"credential helper {prog} is not installed or not on PATH")
    try:
        proc = subprocess.run(
            [prog, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuthFileError(f"credential helper {prog} did not answer within {HELPER_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise AuthFileError(f"cannot run credential helper {prog} ({exc.strerror})") from None
    if proc.returncode != 0:
        # "credentials not found in native keychain": no credentials, not an error.
        # Its output is not repeated: a helper may echo what it was given.
        return None
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise AuthFileError(f"credential helper {prog} did not print JSON") from None
    if not isinstance(doc, dict):
        raise AuthFileError(f"credential helper {prog} did not print a JSON object")
    user, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    if user == "<token>":  # docker's marker for an identity (refresh) token
        return Credentials("", "", f"credential helper {prog}", secret)
    return Credentials(user, secret, f"credential helper {prog}")


def _load(path: str) -> dict[str, object] | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_AUTH_FILE + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthFileError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_AUTH_FILE:
        raise AuthFileError(f"{path}: over {MAX_AUTH_FILE >> 20} MiB; not an auth file")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise AuthFileError(f"{path}: not valid JSON") from None
    if not isinstance(doc, dict):
        raise AuthFileError(f"{path}: not a JSON object")
    return doc


def find_credentials(host: str, repo: str, files: list[str] | None = None) -> Credentials | None:
    """The first credentials any auth file (or a helper it names) has for ``host/repo``."""
    for path in auth_files() if files is None else files:
        doc = _load(path)
        if doc is None:
            continue
        helpers = doc.get("credHelpers")
        if isinstance(helpers, dict) and isinstance(helpers.get(host), str):
            creds = run_helper(helpers[host], host)
            if creds is not None:
                return creds
        auths = doc.get("auths")
        if isinstance(auths, dict):
            found = _best_auth(auths, host, repo)
            if found is not None:
                creds = _from_entry(found[1], f"{path} (auths {found[0]!r})")
                if creds is not None:
                    return creds
        store = doc.get("credsStore")
        if isinstance(store, str) and store:
            creds = run_helper(store, host)
            if creds is not None:
                return creds
    return None
