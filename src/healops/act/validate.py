"""Strict validators for executor parameters, and the idempotency ledger executors share.

Parameters reach an executor as data from incidents, runbooks and people. Every value an
executor sends to a process, a socket, a URL or the filesystem passes one of these checks
first; a value that fails raises ``InvalidParameter`` (an ``ActionError`` that is never
retryable, because the same input will fail the same way).

>>> name("web-1")
'web-1'
>>> name("web; rm -rf /")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
healops.act.validate.InvalidParameter: target: 'web; rm -rf /' is not a valid name ...
>>> integer("3", field="replicas", low=0, high=50)
3
>>> ledger = IdempotencyLedger()
>>> step = StepRequest(action="restart", target="web")
>>> ledger.apply("k1", step, lambda: ActionResult(ok=True, message="restarted"))
ActionResult(ok=True, message='restarted', retryable=False, changed=True)
>>> ledger.apply("k1", step, lambda: ActionResult(ok=True, message="again"))
ActionResult(ok=True, message='restarted', retryable=False, changed=False)
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from healops.act.base import ActionError, StepRequest
from healops.domain.actions import ActionResult

__all__ = [
    "MAX_TEXT",
    "MAX_TIMEOUT_S",
    "KINDS",
    "IdempotencyLedger",
    "InvalidParameter",
    "backend_server",
    "check_action",
    "check_key",
    "declared_params",
    "hostname",
    "integer",
    "name",
    "number",
    "path_under",
    "string",
    "text",
    "timeout",
    "version",
]

MAX_NAME = 63
MAX_TEXT = 1024
MAX_PATH = 1024
MAX_TIMEOUT_S = 3600.0

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HAPROXY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")  # what HAProxy itself accepts in a name
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces


class InvalidParameter(ActionError):
    """A parameter failed validation. Retrying with the same input cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def _short(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def string(value: object, field: str, limit: int) -> str:
    """Any string up to ``limit`` characters without NUL; the base of every other check."""
    if not isinstance(value, str):
        raise InvalidParameter(f"{field}: expected a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidParameter(f"{field}: {len(value)} characters is longer than {limit}")
    if "\x00" in value:
        raise InvalidParameter(f"{field}: contains a NUL byte")
    return value


def name(value: object, *, field: str = "target") -> str:
    """A service, target, pod or unit name: letters, digits, ``.``, ``_``, ``-``; ≤ 63."""
    s = string(value, field, MAX_NAME)
    if not _NAME.fullmatch(s) or s in {".", ".."}:
        raise InvalidParameter(
            f"{field}: {_short(s)} is not a valid name "
            "(letters, digits, '.', '_', '-'; must start with a letter or digit)"
        )
    return s


def backend_server(value: object, *, field: str = "target") -> tuple[str, str]:
    """An HAProxy ``backend/server`` pair, each part as HAProxy names it.

    >>> backend_server("app/web1")
    ('app', 'web1')
    """
    s = string(value, field, 2 * MAX_NAME + 1)
    backend, sep, server = s.partition("/")
    if not sep or not _HAPROXY_NAME.fullmatch(backend) or not _HAPROXY_NAME.fullmatch(server):
        raise InvalidParameter(
            f"{field}: {_short(s)} is not 'backend/server' "
            "(each part: letters, digits, '_', '.', ':', '-')"
        )
    if len(backend) > MAX_NAME or len(server) > MAX_NAME:
        raise InvalidParameter(f"{field}: backend and server names are at most {MAX_NAME} long")
    return backend, server


def version(value: object, *, field: str = "version") -> str:
    """A release version or image tag such as ``1.4.2`` or ``v2.0.0-rc.1+b7``."""
    s = string(value, field, 128)
    if not _VERSION.fullmatch(s):
        raise InvalidParameter(f"{field}: {_short(s)} is not a valid version")
    return s


def hostname(value: object, *, field: str = "host") -> str:
    """An RFC 1123 host name or a dotted IPv4 address.

    >>> hostname("db-1.example.org")
    'db-1.example.org'
    """
    s = string(value, field, 253)
    labels = s.rstrip(".").split(".") if s else []
    if not labels or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidParameter(f"{field}: {_short(s)} is not a valid host name")
    return s


def text(value: object, *, field: str, limit: int = MAX_TEXT) -> str:
    """Free printable text (a reason, a message): no control characters, bounded length.

    Text is only ever passed as one argv element or one JSON value, never spliced into a
    command line or a template.
    """
    s = string(value, field, limit)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        raise InvalidParameter(f"{field}: contains control characters (newline, tab, ...)")
    return s


def integer(value: object, *, field: str, low: int, high: int) -> int:
    """An integer within ``[low, high]``. Accepts ints and decimal digit strings only."""
    if isinstance(value, bool):
        raise InvalidParameter(f"{field}: expected an integer, got a boolean")
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]{1,12}", value):
            raise InvalidParameter(f"{field}: {_short(value)} is not an integer")
        value = int(value)
    if not isinstance(value, int):
        raise InvalidParameter(f"{field}: expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidParameter(f"{field}: {value} is outside [{low}, {high}]")
    return value


def number(value: object, *, field: str, low: float, high: float) -> float:
    """A finite number within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(f"{field}: expected a number, got {type(value).__name__}")
    f = float(value)
    if not math.isfinite(f) or not low <= f <= high:
        raise InvalidParameter(f"{field}: {value} is outside [{low}, {high}]")
    return f


def timeout(step: StepRequest) -> float:
    """The step's timeout, checked: every action runs under a finite, positive timeout."""
    return number(step.timeout_s, field="timeout_s", low=0.001, high=MAX_TIMEOUT_S)


def path_under(root: Path, relative: object, *, field: str = "path") -> Path:
    """Resolve ``relative`` inside ``root``, refusing anything that could land outside it.

    Rejects absolute paths, ``..`` components, NUL, overlong input and any symlink on the
    way that points out of ``root``. The result is an absolute path inside ``root``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path_under(Path(d), "logs/app.log") == Path(d).resolve() / "logs" / "app.log"
    True
    >>> path_under(Path("/srv"), "../../etc/passwd")
    Traceback (most recent call last):
    ...
    healops.act.validate.InvalidParameter: path: '../../etc/passwd' must not contain '..'
    """
    s = string(relative, field, MAX_PATH)
    if not s:
        raise InvalidParameter(f"{field}: must not be empty")
    if s.startswith(("/", "\\", "~")) or os.path.isabs(s):
        raise InvalidParameter(f"{field}: {_short(s)} must be relative to the allowed root")
    parts = [p for p in re.split(r"[/\\]", s) if p not in ("", ".")]
    if ".." in parts:
        raise InvalidParameter(f"{field}: {_short(s)} must not contain '..'")
    if any(any(ord(c) < 0x20 for c in p) for p in parts):
        raise InvalidParameter(f"{field}: {_short(s)} contains control characters")
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()  # follows symlinks, so escapes show up here
    if candidate != base and base not in candidate.parents:
        raise InvalidParameter(f"{field}: {_short(s)} resolves outside the allowed root")
    return candidate


def _int_text(value: object, field: str) -> str:
    return str(integer(value, field=field, low=-(2**31), high=2**31 - 1))


# Parameter kinds an executor config may declare; each returns the checked value as text.
KINDS: Mapping[str, Callable[[object, str], str]] = {
    "name": lambda v, f: name(v, field=f),
    "version": lambda v, f: version(v, field=f),
    "hostname": lambda v, f: hostname(v, field=f),
    "int": _int_text,
    "text": lambda v, f: text(v, field=f),
}


def declared_params(
    action: str, params: Mapping[str, Any], declared: Mapping[str, str]
) -> dict[str, str]:
    """Check ``params`` against the declared ``{name: kind}``: none missing, none extra."""
    extra = set(params) - set(declared)
    if extra:
        raise InvalidParameter(
            f"{action}: unexpected parameter(s) {sorted(map(str, extra))[:5]}; "
            f"allowed: {sorted(declared)}"
        )
    values = {}
    for pname, kind in declared.items():
        if pname not in params:
            raise InvalidParameter(f"{action}: missing parameter {pname!r}")
        values[pname] = KINDS[kind](params[pname], pname)
    return values


def check_key(key: object) -> str:
    """An idempotency key: printable ASCII without spaces, at most 200 characters."""
    s = string(key, "key", 200)
    if not _KEY.fullmatch(s):
        raise InvalidParameter("key: must be 1-200 printable ASCII characters without spaces")
    return s


def check_action(step: StepRequest, known: Collection[str], executor: str) -> str:
    """Reject an action the executor does not implement, naming the ones it does."""
    if not isinstance(step.action, str) or step.action not in known:
        raise InvalidParameter(
            f"{executor}: unknown action {_short(step.action)}; "
            f"known actions: {', '.join(sorted(known))}"
        )
    return step.action


def _fingerprint(step: StepRequest) -> tuple[str, str, str]:
    params: Mapping[str, Any] = step.params
    return (step.action, step.target, repr(sorted(params.items(), key=lambda kv: str(kv[0]))))


class IdempotencyLedger:
    """Remembers the result of every applied key, so a repeated key is not applied again.

    In memory and thread-safe; one ledger may be shared by several executors. Concurrent
    calls with the same key are serialised, so the action runs once. A failed action is not
    recorded: the same key may be retried. Reusing a key for a different step is an error.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, tuple[tuple[str, str, str], ActionResult]] = {}
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> ActionResult | None:
        with self._lock:
            entry = self._results.get(key)
        return None if entry is None else entry[1]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._results

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)

    def apply(
        self, key: str, step: StepRequest, action: Callable[[], ActionResult]
    ) -> ActionResult:
        """Run ``action`` once for ``key``; a later call returns the first result, unchanged."""
        check_key(key)
        fingerprint = _fingerprint(step)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._results.get(key)
            if entry is not None:
                if entry[0] != fingerprint:
                    raise InvalidParameter(
                        f"key {key!r} was already used for a different step ({entry[0][0]} "
                        f"{entry[0][1]}); use a new key"
                    )
                return replace(entry[1], changed=False)
            result = action()
            if result.ok:
                with self._lock:
                    self._results[key] = (fingerprint, result)
            return result
