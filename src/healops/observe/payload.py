"""Clear errors for JSON payloads that do not match their documented shape.

Every problem names the field path inside the payload, what is wrong, and how to fix it.

>>> from pydantic import BaseModel, ConfigDict, ValidationError
>>> class Point(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     x: float
>>> try:
...     Point.model_validate({"x": "a", "y": 1})
... except ValidationError as exc:
...     err = PayloadError.from_validation_error(exc, what="point", model=Point)
>>> print(err)
invalid point: x: Input should be a valid number, unable to parse string as a number \
(send a number); y: unknown field (remove it; allowed fields: x)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

__all__ = ["PayloadError", "Problem", "field_path"]

_FIXES = {
    "missing": "add this required field",
    "string_type": "send a string",
    "int_type": "send an integer",
    "int_parsing": "send an integer",
    "float_type": "send a number",
    "float_parsing": "send a number",
    "bool_type": "send true or false",
    "bool_parsing": "send true or false",
    "dict_type": "send a JSON object",
    "model_type": "send a JSON object",
    "model_attributes_type": "send a JSON object",
    "list_type": "send a JSON array",
    "datetime_type": "send an RFC 3339 time with a zone, or seconds since the epoch",
    "datetime_parsing": "send an RFC 3339 time with a zone, or seconds since the epoch",
    "datetime_from_date_parsing": "send an RFC 3339 time with a zone, or seconds since the epoch",
    "timezone_aware": "add a time zone, e.g. 'Z' or '+00:00'",
    "string_too_short": "send a non-empty string",
    "too_long": "send fewer items",
    "union_tag_invalid": "use one of the documented types",
    "union_tag_not_found": "add the discriminator field",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a payload: where, what, and how to fix it."""

    loc: str
    msg: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}{self.msg} ({self.fix})"


def field_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as a path: ``alerts[0].labels``.

    >>> field_path(("alerts", 0, "labels", "severity"))
    'alerts[0].labels.severity'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _walk(
    model: type[BaseModel] | None, loc: Sequence[int | str], *, keep_last: bool
) -> tuple[tuple[int | str, ...], list[str]]:
    """Follow ``loc`` through the model: the path a user would write (without union tags or
    union member names) and the fields allowed where the path ends.
    """
    if model is None:
        return tuple(loc), []
    candidates: list[type[BaseModel]] = [model]
    path: list[int | str] = []
    union_label_next = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if union_label_next and isinstance(part, str):
            union_label_next = False  # pydantic names the union member that failed; drop it
            continue
        if isinstance(part, int) or not candidates:
            path.append(part)
            continue
        for candidate in candidates:
            info = _field(candidate, part)
            if info is not None:
                path.append(part)
                if not last:
                    candidates = _models_in(info.annotation)
                    union_label_next = not candidates and _is_scalar_union(info.annotation)
                break
        else:
            tagged = [c for c in candidates if _tag_of(c) == part]
            if tagged:
                candidates = tagged
            elif last and keep_last:
                path.append(part)
    allowed = (
        sorted(f.alias or n for n, f in candidates[0].model_fields.items())
        if len(candidates) == 1
        else []
    )
    return tuple(path), allowed


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def _is_scalar_union(annotation: Any) -> bool:
    if get_origin(annotation) not in (Union, UnionType):
        return False
    return len([a for a in get_args(annotation) if a is not type(None)]) > 1


def _tag_of(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("type")
    if info is None:
        return None
    args: tuple[Any, ...] = getattr(info.annotation, "__args__", ())
    return str(args[0]) if len(args) == 1 else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found


class PayloadError(ValueError):
    """A payload that does not match its documented shape."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = tuple(problems)
        super().__init__(f"invalid {what}: " + "; ".join(str(p) for p in self.problems))

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, *, what: str, model: type[BaseModel] | None = None
    ) -> PayloadError:
        problems: dict[str, Problem] = {}
        for err in exc.errors(include_url=False):
            kind = err["type"]
            extra = kind == "extra_forbidden"
            path, allowed = _walk(model, tuple(err["loc"]), keep_last=extra)
            loc = field_path(path)
            if extra:
                fix = f"remove it; allowed fields: {', '.join(allowed)}" if allowed else "remove it"
                problem = Problem(loc, "unknown field", fix)
            else:
                fix = _FIXES.get(kind, "see docs/observe.md for the expected shape")
                if kind == "literal_error":
                    fix = "use one of the values listed"
                problem = Problem(loc, err["msg"], fix)
            seen = problems.get(loc)
            if seen is not None and not extra:
                # Alternatives of a union at one place read as one problem.
                problem = Problem(loc, f"{seen.msg}, or {problem.msg}", f"{seen.fix}, or {fix}")
            problems[loc] = problem
        return cls(what, list(problems.values()))
