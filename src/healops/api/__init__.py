"""HTTP API: thin FastAPI routers; no decisions live here."""
