"""Silences: Alertmanager-style matchers over an anomaly's labels, and a ``Muter`` that
mutes what an active silence matches.

An anomaly's labels are its series labels plus ``__name__`` (the metric), ``service``,
``instance`` and ``kind`` (the symptom). A matcher is ``name="value"``, ``name!="value"``,
``name=~"regex"`` or ``name!~"regex"``; as in Alertmanager a label the series does not
have reads as the empty string, and a regex must match the whole value (it is anchored at
both ends). Quoted values take the escapes ``\\"``, ``\\\\``, ``\\n`` and ``\\t``; other
backslashes are kept, so ``"db-\\d+"`` is the regex ``db-\\d+``.

>>> m = parse_matcher('service=~"db|cache"')
>>> m.matches({"service": "db"}), m.matches({"service": "dbx"}), str(m)
(True, False, 'service=~"db|cache"')
>>> parse_matcher('kind != errors').matches({"kind": "latency"})
True

A silence mutes from ``starts_at`` up to, not including, ``ends_at``:

>>> s = Silence("s1", (parse_matcher('service="db"'),), starts_at=100.0, ends_at=200.0)
>>> [s.state(t) for t in (99.0, 100.0, 199.0, 200.0)]
['pending', 'active', 'active', 'expired']
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, cast

from healops.domain.signals import Anomaly

if TYPE_CHECKING:
    from healops.config.models import SilenceConfig

__all__ = [
    "MatchOp",
    "Matcher",
    "MatcherError",
    "Silence",
    "SilenceError",
    "SilenceMuter",
    "SilenceState",
    "anomaly_labels",
    "check_matchers",
    "parse_matcher",
]

MatchOp = Literal["=", "!=", "=~", "!~"]
SilenceState = Literal["pending", "active", "expired"]

_SYNTAX = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", re.S)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_EXAMPLE = 'service="db", kind=~"errors|latency" or instance!~"db-[0-9]+"'


class SilenceError(ValueError):
    """A silence that cannot be made; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class MatcherError(SilenceError):
    """A matcher that does not parse; the message quotes it and says how to write it."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"matcher {text!r}: {problem}", field="matchers")
        self.text = text


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition; ``=~`` and ``!~`` regexes are anchored at both ends."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False,
                                           compare=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            try:
                object.__setattr__(self, "_regex", re.compile(self.value))
            except re.error as exc:
                raise MatcherError(str(self), f"the regex does not compile ({exc}); write "
                                   "a valid regular expression, e.g. "
                                   f'{self.name}=~"db-.*"') from exc

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        quoted = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{quoted}"'


def _unquote(text: str, raw: str) -> str:
    inner = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == '"':
            raise MatcherError(text, 'a quote inside the value must be escaped as \\"')
        if c == "\\" and i + 1 < len(inner):
            nxt = inner[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if c == "\\":
            raise MatcherError(text, "the value ends in a lone backslash; write \\\\ for one")
        out.append(c)
        i += 1
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """Parse ``name op value``; the value may be quoted (``"..."``) or bare."""
    m = _SYNTAX.fullmatch(text)
    if m is None:
        raise MatcherError(text, "write label, operator (=, !=, =~ or !~) and value, "
                           f"e.g. {_EXAMPLE}; a label name is letters, digits and _, "
                           "not starting with a digit")
    name, op, raw = m.group(1), cast(MatchOp, m.group(2)), m.group(3)
    if raw.startswith('"') or raw.endswith('"'):
        if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            raise MatcherError(text, 'the value has an unbalanced quote; write it as "value"')
        value = _unquote(text, raw)
    else:
        value = raw
    return Matcher(name, op, value)


def check_matchers(texts: Sequence[str]) -> tuple[Matcher, ...]:
    """Parse a silence's matchers; like Alertmanager, refuse a set that also matches an
    anomaly with no labels at all, which would mute everything."""
    if not texts:
        raise SilenceError(f"a silence needs at least one matcher, e.g. {_EXAMPLE}",
                           field="matchers")
    matchers = tuple(parse_matcher(t) for t in texts)
    if all(m.matches({}) for m in matchers):
        raise SilenceError(
            f"{[str(m) for m in matchers]} also match an empty label set, so the silence "
            "would mute everything; add a matcher that needs a value, e.g. service=\"db\"",
            field="matchers")
    return matchers


def _when(t: float) -> str:
    """A time for a message: ISO-8601 and the Unix seconds it was given as."""
    try:
        iso = datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{t:g}"
    return f"{iso} ({t:.0f})"


def anomaly_labels(a: Anomaly) -> dict[str, str]:
    """What matchers see: the series labels, ``__name__``, ``service``, ``instance`` and
    ``kind`` (the anomaly's own kind wins over a series label of that name)."""
    labels = dict(a.key.labels)
    labels["__name__"] = a.key.name
    labels["service"] = a.service
    labels["instance"] = a.instance
    labels["kind"] = a.kind
    return labels


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes every anomaly all of whose labels match, from ``starts_at`` until ``ends_at``."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.starts_at) and math.isfinite(self.ends_at)):
            raise SilenceError("starts_at and ends_at must be finite times", field="ends_at")
        if self.ends_at < self.starts_at:
            raise SilenceError(f"ends_at {_when(self.ends_at)} is before starts_at "
                               f"{_when(self.starts_at)}; give an end after the start",
                               field="ends_at")

    def state(self, now: float) -> SilenceState:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    @classmethod
    def from_config(cls, cfg: SilenceConfig, default_id: str) -> Silence:
        return cls(cfg.id or default_id, check_matchers(cfg.matchers), cfg.starts_at,
                   cfg.ends_at, cfg.created_by, cfg.comment)


def _uuid() -> str:
    return str(uuid.uuid4())


class SilenceMuter:
    """A ``Muter`` holding silences: an anomaly is muted while an active silence matches it.

    Silences declared in the config file are made again at every start. Those added at
    runtime (``add``, ``expire``) are handed to ``on_change`` as JSON after every change
    (``bootstrap`` saves them in the store) and come back with ``restore``.

    >>> muter = SilenceMuter(new_id=lambda: "s1")
    >>> s = muter.add(['service="db"'], starts_at=0.0, ends_at=60.0, now=0.0, comment="m")
    >>> from healops.domain.signals import SeriesKey
    >>> a = Anomaly(SeriesKey.of("up", service="db"), "down", 1.0, 0.0, 1.0, 0.0, 0.0)
    >>> muter(a, 30.0), muter(a, 60.0)
    (True, False)
    """

    def __init__(self, silences: Iterable[Silence] = (), *,
                 new_id: Callable[[], str] = _uuid) -> None:
        self._silences: dict[str, Silence] = {}
        self._new_id = new_id
        for s in silences:
            if s.id in self._silences:
                raise SilenceError(f"silence id {s.id!r} is used twice; rename one",
                                   field="id")
            self._silences[s.id] = s
        self._declared = frozenset(self._silences)  # from the config: not saved
        self.on_change: Callable[[bytes, float], None] | None = None

    @classmethod
    def from_config(cls, cfgs: Sequence[SilenceConfig], *,
                    new_id: Callable[[], str] = _uuid) -> SilenceMuter:
        return cls((Silence.from_config(c, f"config-{i + 1}") for i, c in enumerate(cfgs)),
                   new_id=new_id)

    def __call__(self, anomaly: Anomaly, now: float) -> bool:
        return self.silencing(anomaly, now) is not None

    def silencing(self, anomaly: Anomaly, now: float) -> Silence | None:
        """The first active silence that matches ``anomaly``, if any."""
        labels: dict[str, str] | None = None
        for s in self._silences.values():
            if s.active(now):
                labels = labels if labels is not None else anomaly_labels(anomaly)
                if s.matches(labels):
                    return s
        return None

    def add(self, matchers: Sequence[str], *, starts_at: float, ends_at: float, now: float,
            created_by: str = "", comment: str = "") -> Silence:
        """Make a silence; its end must lie after both its start and ``now``."""
        parsed = check_matchers(matchers)
        if ends_at <= starts_at:
            raise SilenceError(f"ends_at {_when(ends_at)} is not after starts_at "
                               f"{_when(starts_at)}; give an end after the start",
                               field="ends_at")
        if ends_at <= now:
            raise SilenceError(f"ends_at {_when(ends_at)} is not after now {_when(now)}: "
                               "the silence would already be over; give an end in the future",
                               field="ends_at")
        silence = Silence(self._new_id(), parsed, starts_at, ends_at, created_by, comment)
        self._silences[silence.id] = silence
        self._changed(now)
        return silence

    def expire(self, silence_id: str, now: float) -> Silence | None:
        """End a silence at ``now`` (a pending one never starts); None when unknown. An
        already expired silence is returned unchanged."""
        s = self._silences.get(silence_id)
        if s is None or s.state(now) == "expired":
            return s
        s = replace(s, starts_at=min(s.starts_at, now), ends_at=now)
        self._silences[silence_id] = s
        self._changed(now)
        return s

    def dump(self) -> bytes:
        """The silences made at runtime, as JSON (matchers in their text form)."""
        return json.dumps([
            {"id": s.id, "matchers": [str(m) for m in s.matchers], "starts_at": s.starts_at,
             "ends_at": s.ends_at, "created_by": s.created_by, "comment": s.comment}
            for s in self._silences.values() if s.id not in self._declared]).encode()

    def restore(self, data: bytes) -> int:
        """Take back silences from ``dump``; a config silence with the same id wins.
        Returns how many came back."""
        n = 0
        for row in json.loads(data.decode()):
            if row["id"] in self._silences:
                continue
            self._silences[row["id"]] = Silence(
                row["id"], check_matchers(row["matchers"]), float(row["starts_at"]),
                float(row["ends_at"]), row.get("created_by", ""), row.get("comment", ""))
            n += 1
        return n

    def _changed(self, now: float) -> None:
        if self.on_change is not None:
            self.on_change(self.dump(), now)

    def get(self, silence_id: str) -> Silence | None:
        return self._silences.get(silence_id)

    def list(self) -> list[Silence]:
        """Every silence, pending, active and expired, in the order they were made."""
        return list(self._silences.values())
