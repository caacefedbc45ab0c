"""The console's template environment: autoescaping Jinja2 over the package's templates.

>>> render("error.html", title="<x>", message="m", principal=None, csrf="").count("&lt;x&gt;")
2
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = ["render", "render_api_index"]


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


_env = Environment(
    loader=PackageLoader("healops.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["duration"] = _duration


def render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def render_api_index(openapi: dict[str, Any]) -> str:
    """A readable list of the API's operations, from the OpenAPI document."""
    ops = []
    for path, methods in sorted(openapi.get("paths", {}).items()):
        for method, op in methods.items():
            ops.append({"method": method.upper(), "path": path,
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                        "role": op.get("x-healops-role", ""),
                        "tags": ", ".join(op.get("tags", []))})
    return render("api.html", ops=ops, info=openapi.get("info", {}), principal=None, csrf="",
                  title="API")
