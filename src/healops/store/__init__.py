"""Store: durable records behind a unit of work; SQLite by default, PostgreSQL by URL."""

from healops.store.base import Store
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = ["SqlAlchemyStore", "Store"]
