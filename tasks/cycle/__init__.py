"""8. The cycle: each step storage in, work, storage out; cache keys; the no-op check; the demo."""
