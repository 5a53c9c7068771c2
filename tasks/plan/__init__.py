"""1. The plan (計画): its models, loaded once from plan.yaml, and its fiscal years (西暦・和暦)."""
