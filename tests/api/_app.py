"""A served healops over the simulated estate, with a real incident awaiting approval.

A slow database (the ``slow_dependency`` fault on ``db``) is diagnosed, and the policy
asks a human before failing it over: the incident waits in ``awaiting_approval``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from healops.api.app import create_app
from healops.api.tokens import Role
from healops.api.wiring import LabRuntime, awaiting_approval, build_lab_runtime


@dataclass
class Served:
    app: FastAPI
    lab: LabRuntime
    tokens: dict[Role, str]
    pending: str  # an incident awaiting approval

    def client(self) -> Client:
        return Client(self.app)

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def serve_lab(*, seed: int = 1, webhook_secret: str | None = None,
              db_url: str = "sqlite://") -> Served:
    lab = build_lab_runtime(seed=seed, db_url=db_url, faults=[(0.0, "slow_dependency", "db")])
    if not lab.runtime.run_until(lambda: bool(awaiting_approval(lab.engine)), max_ticks=400):
        raise AssertionError("the slow database never reached awaiting_approval")
    app = create_app(lab.runtime, config=lab.engine.config, db=lab.store.engine,
                     pages=lambda: (lab.pages.pages, lab.pages.tickets),
                     page_times=lambda: list(lab.pages.times),
                     webhook_secret=SecretStr(webhook_secret) if webhook_secret else None)
    tokens = {role: app.state.tokens.create(role=role, name=f"{role}-user", now=0.0).token
              for role in Role}
    return Served(app, lab, tokens, awaiting_approval(lab.engine)[0])


class Client:
    """A synchronous face over httpx's ASGI transport: the app runs in-process."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                         cookies=self.cookies) as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)
