"""The local web app: preview, unsubscribe, dashboard (FastAPI)."""
