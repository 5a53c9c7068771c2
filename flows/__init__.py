"""Prefect flows of shiryo: orchestration only, the work lives in `tasks`."""
