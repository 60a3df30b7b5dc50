"""The CI gate: thresholds on waste and findings, pass or fail.

Thresholds come from ``[tool.layerscope]`` in ``pyproject.toml`` or from
``.layerscope.toml`` (top level or a ``[ci]`` table), overridden by flags.
Keys accept kebab-case or snake_case; dive's ``.dive-ci`` rule names are
accepted too and are checked against the dive-compatible figures:

    min-efficiency             layerscope efficiency (0.95 or "95%")
    max-wasted-bytes           layerscope wasted bytes ("20MB", "20MiB", 20000000)
    max-wasted-percent         wasted bytes as a percent of the image ("10%" or 10)
    max-user-wasted-bytes      waste caused by non-base layers
    max-user-wasted-percent    ... as a percent of the non-base layers' size
    lowestEfficiency           dive's efficiency (a fraction, e.g. 0.9)
    highestWastedBytes         dive's wasted bytes ("20MB")
    highestUserWastedPercent   dive's user wasted fraction (0.1 = 10 %)
    forbid-findings            rule ids or severities ("high", "secret-hidden")
    forbid-paths               globs no layer may ship ("/root/.ssh/**", "*.pem"; see globs.py)
    ignore-paths               globs whose findings and forbidden paths are ignored
    base                       base image: a layer count, "auto" or an image path

With no configuration at all the defaults are ``min-efficiency = 0.9`` and
``forbid-findings = ["high"]``.

Before any threshold, the gate asks whether it saw the whole image: a damaged
layer, a digest that does not match, a blob of the wrong size or content left
unread (the ``UNVERIFIED_KINDS`` of the model) make the result unverified, and
``layerscope ci`` exits 2 instead of passing what it could not read. A finding
in a layer that failed to read simply is not there to fail on. The opt-out
``--allow-damaged`` is a flag only, never a config key, so a checked-in file
cannot quietly weaken the gate.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .analysis import RULE_IDS, SEVERITIES, Analysis, Finding
from .errors import LayerscopeError
from .fmt import human_size, plural
from .globs import GlobError, compile_glob, compile_globs
from .merge import Merged
from .model import DAMAGED, Entry, Image, LoadWarning


class GateConfigError(LayerscopeError):
    pass


_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")


def parse_size(value: Any, what: str = "size") -> int:
    """``20MB`` = 20 000 000, ``20MiB`` = 20 971 520, ``1.5GB``, plain integers = bytes."""
    if isinstance(value, bool):
        raise GateConfigError(f"{what}: {value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise GateConfigError(f"{what}: {value} is negative")
        return value
    if isinstance(value, float):
        if value < 0 or not math.isfinite(value):
            raise GateConfigError(f"{what}: {value} is not a size")
        return int(value)
    m = _SIZE.match(str(value))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise GateConfigError(f"{what}: {value!r} is not a size (use e.g. 20MB, 20MiB or a byte count)")
    return int(float(m.group(1)) * _UNITS[unit])


def _number(value: Any, what: str) -> tuple[float, bool]:
    """(number, had a % sign)."""
    if isinstance(value, bool):
        raise GateConfigError(f"{what}: {value!r} is not a number")
    if isinstance(value, int | float):
        v, pct = float(value), False
    else:
        s = str(value).strip()
        pct = s.endswith("%")
        try:
            v = float(s.rstrip("%").strip())
        except ValueError:
            raise GateConfigError(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise GateConfigError(f"{what}: {value!r} is out of range")
    return v, pct


def parse_percent(value: Any, what: str) -> float:
    """A percent: ``10``, ``"10%"`` and ``10.5`` all mean percent."""
    v, _ = _number(value, what)
    if v > 100:
        raise GateConfigError(f"{what}: {value!r} is over 100 %")
    return v


def parse_fraction(value: Any, what: str) -> float:
    """A fraction in 0..1: ``0.9``; ``"90%"`` or a bare number over 1 is read as percent."""
    v, pct = _number(value, what)
    if pct or v > 1:
        v /= 100
    if v > 1:
        raise GateConfigError(f"{what}: {value!r} is over 100 %")
    return v


@dataclass
class Thresholds:
    min_efficiency: float | None = None
    max_wasted_bytes: int | None = None
    max_wasted_percent: float | None = None
    max_user_wasted_bytes: int | None = None
    max_user_wasted_percent: float | None = None
    dive_lowest_efficiency: float | None = None
    dive_highest_wasted_bytes: int | None = None
    dive_highest_user_wasted_percent: float | None = None  # a fraction, as in .dive-ci
    max_fixable_bytes: int | None = None  # --max-fixable 20MB
    max_fixable_percent: float | None = None  # --max-fixable 5%
    forbid_findings: list[str] = field(default_factory=list)
    forbid_paths: list[str] = field(default_factory=list)
    ignore_paths: list[str] = field(default_factory=list)
    base: str | None = None
    source: str = "defaults"

    def is_empty(self) -> bool:
        return all(getattr(self, n) in (None, []) for n in self.__dataclass_fields__ if n not in ("source", "base"))


FORBID_ALL = "all"  # --forbid all: any finding fails the gate

DEFAULTS = {"min-efficiency": 0.9, "forbid-findings": ["high"]}

_ALIASES = {
    "lowestefficiency": "dive_lowest_efficiency",
    "highestwastedbytes": "dive_highest_wasted_bytes",
    "highestuserwastedpercent": "dive_highest_user_wasted_percent",
}


def _key(k: str) -> str:
    low = k.replace("-", "_").lower()
    return _ALIASES.get(low.replace("_", ""), low)


def apply(th: Thresholds, raw: dict[str, Any], where: str, names: dict[str, str] | None = None) -> Thresholds:
    """Set thresholds from a mapping (config file table or flags); unknown keys are an error.

    ``names``: how the user spelt a key (``--min-efficiency``), used alone in errors.
    """
    for k, v in raw.items():
        if v is None:
            continue
        key = _key(k)
        what = names[k] if names and k in names else f"{where}: {k}"
        if key in ("min_efficiency", "dive_lowest_efficiency"):
            setattr(th, key, parse_fraction(v, what))
        elif key in ("max_wasted_bytes", "max_user_wasted_bytes", "dive_highest_wasted_bytes"):
            setattr(th, key, parse_size(v, what))
        elif key in ("max_wasted_percent", "max_user_wasted_percent"):
            setattr(th, key, parse_percent(v, what))
        elif key == "dive_highest_user_wasted_percent":
            setattr(th, key, parse_fraction(v, what))
        elif key == "max_fixable":
            if isinstance(v, str) and v.strip().endswith("%"):
                th.max_fixable_percent = parse_percent(v, what)
            else:
                th.max_fixable_bytes = parse_size(v, what)
        elif key in ("forbid_findings", "forbid_paths", "ignore_paths"):
            items = [v] if isinstance(v, str) else v
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                raise GateConfigError(f"{what}: expected a list of strings")
            if key == "forbid_findings":
                for x in items:
                    if x not in RULE_IDS and x not in SEVERITIES and x != FORBID_ALL:
                        raise GateConfigError(
                            f"{what}: unknown rule or severity {x!r} (rules: {', '.join(RULE_IDS)}; "
                            f"severities: {', '.join(SEVERITIES)}; or '{FORBID_ALL}' for any finding)"
                        )
            else:
                for x in items:
                    try:
                        compile_glob(x)  # a bad pattern is a config error before the slow load
                    except GlobError as exc:
                        raise GateConfigError(f"{what}: {exc}") from None
            getattr(th, key).extend(items)
        elif key == "base":
            th.base = str(v)
        elif key == "ci" and isinstance(v, dict):
            apply(th, v, where)
        else:
            raise GateConfigError(f"{what}: unknown setting")
    return th


def find_config(start: str | None = None) -> str | None:
    """``.layerscope.toml`` or a ``pyproject.toml`` with ``[tool.layerscope]``, from ``start`` upwards."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        cand = os.path.join(d, ".layerscope.toml")
        if os.path.isfile(cand):
            return cand
        py = os.path.join(d, "pyproject.toml")
        if os.path.isfile(py):
            try:
                with open(py, "rb") as fh:
                    if "layerscope" in tomllib.load(fh).get("tool", {}):
                        return py
            except (OSError, tomllib.TOMLDecodeError):
                pass
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load_config(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise GateConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise GateConfigError(f"{path}: invalid TOML ({exc})") from None
    if os.path.basename(path) == "pyproject.toml":
        table = data.get("tool", {}).get("layerscope", {})
    else:
        table = data.get("tool", {}).get("layerscope", data) if "tool" in data else data
    if not isinstance(table, dict):
        raise GateConfigError(f"{path}: [tool.layerscope] is not a table")
    return table


def thresholds(
    config_path: str | None, flags: dict[str, Any], use_config: bool = True, names: dict[str, str] | None = None
) -> Thresholds:
    th = Thresholds()
    path = config_path or (find_config() if use_config else None)
    if path:
        apply(th, load_config(path), path)
        th.source = path
    apply(th, flags, "flag", names)
    if th.is_empty():
        apply(th, DEFAULTS, "defaults")
        th.source = "defaults"
    elif flags and any(v not in (None, []) for v in flags.values()) and path:
        th.source = f"{path} + flags"
    elif not path:
        th.source = "flags"
    return th


# ================================================================================
# Checking
# ================================================================================


@dataclass(slots=True)
class Check:
    name: str
    passed: bool
    value: Any
    limit: Any
    message: str  # as layerscope.ci/1 has always worded it ("1 forbidden finding(s)")
    fatal: bool = True  # False: reported, but the result does not depend on it (--allow-damaged)
    text: str = ""  # the sentence for people, when it reads better than ``message`` ("1 forbidden finding")

    @property
    def sentence(self) -> str:
        """What the text output prints: ``text``, else ``message``."""
        return self.text or self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": "pass" if self.passed else "fail",
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
            "fatal": self.fatal,
        }


VERIFIED_CHECK = "verified"


@dataclass(slots=True)
class GateResult:
    checks: list[Check]
    failed_findings: list[Finding]
    forbidden_paths: list[tuple[str, int]]  # (path, layer)
    thresholds: Thresholds
    problems: list[LoadWarning] = field(default_factory=list)  # content not read or not checked
    warnings: list[str] = field(default_factory=list)  # every load warning, as in the report
    allow_damaged: bool = False
    notes: list[str] = field(default_factory=list)  # the warnings not among the problems

    @property
    def verified(self) -> bool:
        """Was every layer read and every declared digest and size checked?"""
        return not self.problems

    @property
    def passed(self) -> bool:
        return all(c.passed or not c.fatal for c in self.checks)

    @property
    def unverifiable(self) -> bool:
        """Must the gate refuse to answer (exit 2)? Unverified, and not told to go on regardless."""
        return not self.verified and not self.allow_damaged

    def to_dict(self) -> dict[str, Any]:
        return {
            "result": "pass" if self.passed else "fail",
            "config": self.thresholds.source,
            "checks": [c.to_dict() for c in self.checks],
            "failed_findings": [f.to_dict() for f in self.failed_findings],
            "forbidden_paths": [{"path": p, "layer": k} for p, k in self.forbidden_paths],
            "verified": self.verified,
            "allow_damaged": self.allow_damaged,
            "damaged": [{"layer": w.layer, "error": w.message} for w in self.problems if w.kind == DAMAGED],
            "unverified": [{"kind": w.kind, "layer": w.layer, "message": w.message} for w in self.problems],
            "warnings": list(self.warnings),
        }


def problem_line(w: LoadWarning) -> str:
    """One line per problem: ``DAMAGED: layer 3 (blobs/sha256/…): gzip stream is truncated``."""
    if w.kind == DAMAGED:
        return f"DAMAGED: {w.message}"
    return f"UNVERIFIED ({w.kind}): {w.message}"


def verified_check(image: Image, allow_damaged: bool) -> tuple[Check | None, list[LoadWarning]]:
    """The check that the whole image was read and verified (None when it was)."""
    problems = image.unverified()
    if not problems:
        return None, problems
    damaged = sum(1 for w in problems if w.kind == DAMAGED)
    others = len(problems) - damaged

    def sentence(legacy: bool) -> str:
        parts = []
        if damaged:
            parts.append(f"{damaged} damaged layer(s)" if legacy else plural(damaged, "damaged layer"))
        if others:
            parts.append(f"{others} other problem(s)" if legacy else plural(others, "other problem"))
        msg = f"{', '.join(parts)}: part of the image was not read or not checked"
        return msg + (" (not fatal: --allow-damaged)" if allow_damaged else "")

    check = Check(VERIFIED_CHECK, False, len(problems), 0, sentence(True), not allow_damaged, sentence(False))
    return check, problems


CI_SCHEMA = "layerscope.ci/1"


def ci_document(result: GateResult, merged: Merged, analysis: Analysis) -> dict[str, Any]:
    """The ``layerscope.ci/1`` document ``ci --json`` writes.

    A public interface, like ``report/1`` (report.py) and ``diff/1``
    (compare.py): fields are only ever added, never renamed or dropped. It
    lives beside the result it serialises so the CLI only prints it.
    """
    return {
        "schema": CI_SCHEMA,
        "image": merged.image.source,
        **result.to_dict(),
        "waste": {
            **analysis.waste.to_dict(),
            "percent": analysis.wasted_percent,
            "efficiency": analysis.efficiency,
            "user": analysis.user_waste.to_dict(),
            "base": analysis.base.to_dict(),
        },
        "dive": {k: v for k, v in analysis.dive.to_dict().items() if k != "inefficient_files"},
    }


def _pct(x: float) -> str:
    return f"{x:.2f} %"


class Facts:
    """What the numeric thresholds are checked against: the analysis, and
    the fixes' bytes, found (packages read) only when a threshold asks."""

    def __init__(self, a: Analysis, merged: Merged) -> None:
        self.a = a
        self.merged = merged
        self._fixable: int | None = None

    def fixable(self) -> int:
        """The bytes the user's fixes save (base fixes are not the user's to make)."""
        if self._fixable is None:
            from .fixes import fixes
            from .packages.index import build

            self._fixable = fixes(self.a, build(self.merged)).fixable_bytes
        return self._fixable


@dataclass(frozen=True)
class Limit:
    """One numeric threshold: the ``Thresholds`` field that sets it, the figure
    it bounds, which way, and how a check of it reads (``ci``'s text and JSON).

    ``reported`` is the figure the JSON shows when it is not the one compared
    (dive's user-wasted fraction is None for an image with one layer, and is
    compared as 0 or infinity).
    """

    name: str  # the check's name in layerscope.ci/1
    field: str  # the Thresholds attribute
    at_least: bool  # the figure must be >= the limit (else <=)
    figure: Callable[[Facts], float]
    message: Callable[[float, Any], str]
    reported: Callable[[Facts], float | None] | None = None


def _dive_user_wasted(f: Facts) -> float:
    uwp = f.a.dive.user_wasted_percent
    return uwp if uwp is not None else (math.inf if f.a.dive.wasted_bytes else 0.0)


# In the order ci prints them.
LIMITS: tuple[Limit, ...] = (
    Limit(
        "min-efficiency",
        "min_efficiency",
        True,
        lambda f: f.a.efficiency,
        lambda v, t: f"efficiency {_pct(100 * v)} (minimum {_pct(100 * t)})",
    ),
    Limit(
        "max-wasted-bytes",
        "max_wasted_bytes",
        False,
        lambda f: f.a.waste.total,
        lambda v, t: f"wasted {human_size(int(v))} (maximum {human_size(t)})",
    ),
    Limit(
        "max-wasted-percent",
        "max_wasted_percent",
        False,
        lambda f: f.a.wasted_percent,
        lambda v, t: f"wasted {_pct(v)} of the image (maximum {_pct(t)})",
    ),
    Limit(
        "max-user-wasted-bytes",
        "max_user_wasted_bytes",
        False,
        lambda f: f.a.user_waste.total,
        lambda v, t: f"user layers wasted {human_size(int(v))} (maximum {human_size(t)})",
    ),
    Limit(
        "max-user-wasted-percent",
        "max_user_wasted_percent",
        False,
        lambda f: f.a.user_wasted_percent,
        lambda v, t: f"user layers wasted {_pct(v)} of their size (maximum {_pct(t)})",
    ),
    Limit(
        "lowestEfficiency",
        "dive_lowest_efficiency",
        True,
        lambda f: f.a.dive.efficiency,
        lambda v, t: f"dive efficiency {v:.4f} (lowest allowed {t})",
    ),
    Limit(
        "highestWastedBytes",
        "dive_highest_wasted_bytes",
        False,
        lambda f: f.a.dive.wasted_bytes,
        lambda v, t: f"dive wasted bytes {v} (highest allowed {t})",
    ),
    Limit(
        "highestUserWastedPercent",
        "dive_highest_user_wasted_percent",
        False,
        _dive_user_wasted,
        lambda v, t: f"dive user wasted fraction {v:.4f} (highest allowed {t})",
        reported=lambda f: f.a.dive.user_wasted_percent,
    ),
    Limit(
        "max-fixable-bytes",
        "max_fixable_bytes",
        False,
        lambda f: f.fixable(),
        lambda v, t: f"fixes would save {human_size(int(v))} (maximum {human_size(t)})",
    ),
    Limit(
        "max-fixable-percent",
        "max_fixable_percent",
        False,
        lambda f: 100 * f.fixable() / f.a.size_bytes if f.a.size_bytes else 0.0,
        lambda v, t: f"fixes would save {_pct(v)} of the image (maximum {_pct(t)})",
    ),
)


def _limit_checks(facts: Facts, th: Thresholds) -> list[Check]:
    """A check for each numeric threshold that is set, in ``LIMITS`` order."""
    out = []
    for lim in LIMITS:
        limit = getattr(th, lim.field)
        if limit is None:
            continue
        figure = lim.figure(facts)
        ok = figure >= limit if lim.at_least else figure <= limit
        value = lim.reported(facts) if lim.reported is not None else figure
        out.append(Check(lim.name, ok, value, limit, lim.message(figure, limit)))
    return out


def _forbidden_findings(a: Analysis, th: Thresholds, ignored: Callable[[str], bool]) -> tuple[Check, list[Finding]]:
    """``--forbid``: the findings of a forbidden rule or severity (or any, with ``all``)."""
    forbid = set(th.forbid_findings)
    failed = [
        f
        for f in a.findings
        if not ignored(f.path) and (FORBID_ALL in forbid or f.rule in forbid or f.severity in forbid)
    ]
    names = ", ".join(sorted(forbid))
    check = Check(
        "forbid-findings",
        not failed,
        len(failed),
        sorted(forbid),
        f"{len(failed)} forbidden finding(s) ({names})" if failed else f"no forbidden findings ({names})",
        text=f"{plural(len(failed), 'forbidden finding')} ({names})" if failed else "",
    )
    return check, failed


def _forbidden_paths(
    merged: Merged, th: Thresholds, ignored: Callable[[str], bool]
) -> tuple[Check, list[tuple[str, int]]]:
    """``--forbid-path``: every version of a forbidden path that ships, in any layer."""
    forbidden = compile_globs(th.forbid_paths)
    hits: list[tuple[str, int]] = []
    for path in merged.paths():
        if not forbidden(path) or ignored(path):
            continue
        for ev in merged.history(path):
            if type(ev) is Entry and not ev.implicit:
                hits.append((path, ev.layer))
    hits.sort()
    check = Check(
        "forbid-paths",
        not hits,
        len(hits),
        th.forbid_paths,
        f"{len(hits)} forbidden path version(s) ship" if hits else "no forbidden paths ship",
        text=f"{plural(len(hits), 'forbidden path version')} ship{'s' if len(hits) == 1 else ''}" if hits else "",
    )
    return check, hits


def evaluate(merged: Merged, analysis: Analysis, th: Thresholds, allow_damaged: bool = False) -> GateResult:
    """Check the thresholds; first of all, that the whole image was seen.

    With problems and without ``allow_damaged`` the result fails whatever the
    thresholds say (the CLI exits 2 on it); with it, the ``verified`` check is
    reported as failed but does not decide the result. Path globs mean what
    they mean everywhere (:mod:`layerscope.globs`). The JSON's ``message``
    keeps ci/1's wording (``finding(s)``); ``text`` is what the text view prints.
    """
    ignored = compile_globs(th.ignore_paths)
    checks: list[Check] = []
    seen, problems = verified_check(merged.image, allow_damaged)
    if seen is not None:
        checks.append(seen)
    checks += _limit_checks(Facts(analysis, merged), th)
    failed: list[Finding] = []
    if th.forbid_findings:
        check, failed = _forbidden_findings(analysis, th, ignored)
        checks.append(check)
    hits: list[tuple[str, int]] = []
    if th.forbid_paths:
        check, hits = _forbidden_paths(merged, th, ignored)
        checks.append(check)
    image = merged.image
    notes = [w.message for w in image.all_warnings() if not w.unverified]
    return GateResult(checks, failed, hits, th, problems, image.messages(), allow_damaged, notes)
