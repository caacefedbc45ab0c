"""API tokens and roles. A token is shown once; only its SHA-256 digest is stored.

A token reads ``hot_<id>_<secret>``: ``id`` finds the row, the digest of the whole token is
compared in constant time. The secret has 256 bits of entropy, so a fast hash is enough
(a slow KDF protects low-entropy passwords, which these are not).

>>> from healops.store.sqlalchemy import make_engine
>>> tokens = TokenStore(make_engine("sqlite://"))
>>> issued = tokens.create(role=Role.APPROVER, name="alice", now=0.0)
>>> tokens.verify(issued.token).role, tokens.verify(issued.token + "x")
(<Role.APPROVER: 'approver'>, None)
>>> Role.ADMIN >= Role.APPROVER > Role.OPERATOR >= Role.VIEWER
True
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Float, MetaData, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

__all__ = ["NAME_PATTERN", "IssuedToken", "Role", "TokenInfo", "TokenRow", "TokenStore",
           "hash_token"]

_TOKEN = re.compile(r"hot_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# A name goes into timelines as "approved by <name>: <comment>", so no colon in it.
NAME_PATTERN = r"^[\w .@-]{1,100}$"


class Role(enum.StrEnum):
    """Ordered: each role can do everything the ones below it can."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank


class _Base(DeclarativeBase):
    # Its own metadata: the token table is created on first use beside the engine's tables.
    metadata = MetaData()


class TokenRow(_Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    info: TokenInfo
    token: str  # shown once, never stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _Base.metadata.create_all(engine, checkfirst=True)

    def create(self, *, role: Role, name: str, now: float) -> IssuedToken:
        if not re.fullmatch(NAME_PATTERN, name):
            raise ValueError(f"token name {name!r} must be 1-100 letters, digits, spaces "
                             "or . @ _ -")
        tid = secrets.token_hex(6)
        token = f"hot_{tid}_{secrets.token_urlsafe(32)}"
        with Session(self.engine) as s, s.begin():
            s.add(TokenRow(id=tid, name=name, role=str(role), digest=hash_token(token),
                           created_at=now))
        return IssuedToken(TokenInfo(tid, name, role, now), token)

    def verify(self, token: str) -> TokenInfo | None:
        m = _TOKEN.fullmatch(token)
        if m is None:
            return None
        with Session(self.engine) as s:
            row = s.get(TokenRow, m.group(1))
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.digest, hash_token(token)):
                return None
            return _info(row)

    def list(self) -> list[TokenInfo]:
        with Session(self.engine) as s:
            return [_info(r) for r in s.scalars(select(TokenRow).order_by(TokenRow.created_at))]

    def revoke(self, token_id: str, *, now: float) -> bool:
        with Session(self.engine) as s, s.begin():
            row = s.get(TokenRow, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            return True


def _info(row: TokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.name, Role(row.role), row.created_at, row.revoked_at)
