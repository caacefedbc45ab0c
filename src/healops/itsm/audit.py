"""The audit log's hash chain: each entry's hash covers its canonical JSON and the previous
entry's hash, so changing, deleting or reordering any entry breaks the chain.

Pure functions; the rows live in the store (``ItsmRepository.append_audit``).

>>> e1 = seal(GENESIS, 1, ts=1.0, actor="policy", kind="decision", subject="I1", data={"a": 1})
>>> e2 = seal(e1.hash, 2, ts=2.0, actor="alice", kind="approval", subject="I1", data={})
>>> verify([e1, e2]).ok
True
>>> verify([e2, e1]).problems[0]
'entry 1: sequence 2 where 1 was expected (entries deleted or reordered)'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, SecretStr

__all__ = ["GENESIS", "AuditEntry", "AuditReport", "canonical_json", "changed_paths",
           "config_digest", "seal", "verify"]

GENESIS = "0" * 64


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8, no NaN: the same object gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=str)


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: float
    actor: str
    kind: str
    subject: str
    body: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.body).get("data", {})
        return out


def seal(prev_hash: str, seq: int, *, ts: float, actor: str, kind: str, subject: str,
         data: Mapping[str, Any]) -> AuditEntry:
    body = canonical_json({"seq": seq, "ts": ts, "actor": actor, "kind": kind,
                           "subject": subject, "data": dict(data)})
    return AuditEntry(seq, ts, actor, kind, subject, body, prev_hash, chain_hash(prev_hash, body))


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    problems: tuple[str, ...]
    head: str

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(entries: Sequence[AuditEntry], *, head: tuple[int, str] | None = None) -> AuditReport:
    """Check the chain in storage order; ``head`` is the stored (seq, hash) of the last
    entry, which catches a truncated tail."""
    problems: list[str] = []
    prev = GENESIS
    for pos, e in enumerate(entries, start=1):
        where = f"entry {pos}"
        if e.seq != pos:
            problems.append(f"{where}: sequence {e.seq} where {pos} was expected "
                            "(entries deleted or reordered)")
        try:
            body = json.loads(e.body)
        except ValueError:
            body = {}
        fields = {"seq": e.seq, "ts": e.ts, "actor": e.actor, "kind": e.kind,
                  "subject": e.subject}
        if any(body.get(k) != v for k, v in fields.items()):
            problems.append(f"{where} (seq {e.seq}): its columns differ from its sealed body "
                            "(modified)")
        if e.prev_hash != prev:
            problems.append(f"{where} (seq {e.seq}): does not follow the entry before it "
                            "(an entry was deleted, inserted or reordered)")
        if chain_hash(e.prev_hash, e.body) != e.hash:
            problems.append(f"{where} (seq {e.seq}): its hash does not match its content "
                            "(modified)")
        prev = e.hash
    last = (entries[-1].seq, entries[-1].hash) if entries else (0, GENESIS)
    if head is not None and head != last:
        problems.append(f"the chain head says {head[0]} entries ending in {head[1][:12]}, "
                        f"the log ends at {last[0]} with {last[1][:12]} "
                        "(entries deleted from the end, or the log was rewritten)")
    return AuditReport(len(entries), tuple(problems), last[1])


def _plain(obj: Any) -> Any:
    """A model dump with secrets replaced by a digest: comparable, never readable."""
    if isinstance(obj, SecretStr):
        return "secret:" + hashlib.sha256(obj.get_secret_value().encode()).hexdigest()[:16]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def changed_paths(old: BaseModel, new: BaseModel) -> list[str]:
    """The dotted paths whose values differ between two configs (values are not returned,
    so a rotated secret is reported as a path, never as a value).

    >>> from healops.config.itsm import ProblemRule, ItsmConfig
    >>> changed_paths(ItsmConfig(), ItsmConfig(problems=ProblemRule(occurrences=5)))
    ['problems.occurrences']
    """
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                walk(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        elif a != b:
            out.append(path or "(root)")

    walk(_plain(old.model_dump()), _plain(new.model_dump()), "")
    return out


def config_digest(cfg: BaseModel) -> str:
    """SHA-256 of the config's canonical JSON, secrets included only as digests."""
    return hashlib.sha256(canonical_json(_plain(cfg.model_dump())).encode()).hexdigest()
