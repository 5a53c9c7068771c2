"""The orchestration: Prefect flows, their tasks and results, the UI's artifacts, the CLI."""
