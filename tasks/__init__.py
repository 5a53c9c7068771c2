"""The work of shiryo, as plain typed functions in packages named after the stages, in order.

1. ``plan``       the plan (計画) from plan.yaml
2. ``workspace``  where everything is kept (folder or S3), every key, the lease
3. ``call``       the submission workbooks (調査票) sent to departments
4. ``intake``     files taken exactly once, the ledger, 提出状況
5. ``check``      guard, read, normalise, validate (GX), feedback (差戻し票)
6. ``dataset``    the consolidated yearly dataset and its history
7. ``render``     the 資料 in Word and Excel
8. ``cycle``      the steps the flows run, their cache keys, the demo

Beside them: ``errors`` (the error hierarchy), ``settings`` (folders, environment, YAML),
``ooxml`` (deterministic Office packages). A stage imports only from the stages before it
(``tests/test_architecture.py``); nothing here imports Prefect: ``flows/`` orchestrates.
"""
