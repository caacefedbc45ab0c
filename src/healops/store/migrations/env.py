"""Alembic environment: runs on the connection handed over by ``healops.store.migrate``."""

from alembic import context
from sqlalchemy import create_engine

from healops.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
    connection = create_engine(url).connect()
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
