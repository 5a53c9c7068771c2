"""Many plans' files checked together: one GX run per suite the plans share, every finding
what a run of each plan alone gives, each plan's Data Docs share its own rows only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tasks.check.gx_context import forget_validations, keep_validations, publish_data_docs
from tasks.check.read import read_submission
from tasks.check.submissions import validate_staged
from tasks.check.together import PlanFrames, validate_together
from tasks.check.validate import stack_batches, stage_frames
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.flows.test_municipalities import _answer, _rename_to_aoba
from tests.helpers import filled_workbook
from tests.midorino import midorino_config


def _frames(plan: Plan, files: list[tuple[str, bytes]]) -> PlanFrames:
    reads = {
        hashlib.sha256(data).hexdigest(): (dept, read_submission(data, plan))
        for dept, data in files
    }
    return PlanFrames(plan, stack_batches([stage_frames(plan, reads)]))


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> list[PlanFrames]:
    """みどり野市 and あおば町 (one suite), and three presets with suites of their own.

    Each has a file sent back; あおば町 also got みどり野市's workbook (the same bytes as
    みどり野市's own file: one sha256 in two plans), whose identity names another municipality.
    """
    root = tmp_path_factory.mktemp("together")
    midorino = load_plan(midorino_config(root / "midorino"))
    aoba = load_plan(midorino_config(root / "aoba", _rename_to_aoba))
    shared_file = ("fukushi-seisaku", _answer(midorino, "fukushi-seisaku", "みどり野"))
    items = [
        _frames(
            midorino,
            [shared_file, ("korei-fukushi", _answer(midorino, "korei-fukushi", "み", "甲"))],
        ),
        _frames(
            aoba,
            [
                shared_file,
                ("korei-fukushi", _answer(aoba, "korei-fukushi", "あ", "乙")),
                ("kosodate", _answer(aoba, "kosodate", "あ")),
            ],
        ),
    ]
    for preset in ("niigata-minami", "kitamoto", "nishitokyo"):
        plan = load_plan(preset)
        first, second = plan.departments[0].id, plan.departments[1].id
        items.append(
            _frames(
                plan,
                [
                    (first, filled_workbook(plan, first, grade=plan.grade_scale.codes[0])),
                    (second, filled_workbook(plan, second, grade="Ｅ")),
                ],
            )
        )
    return items


def test_every_finding_is_the_plans_own_runs(plans: list[PlanFrames]) -> None:
    """It finds for each plan exactly what validate_staged finds for it alone, in order."""
    alone = [validate_staged(p.plan, p.staged, p.calls) for p in plans]
    forget_validations()
    together = validate_together(plans)
    assert all(shared is not None for shared in together)
    for plan_alone, shared in zip(alone, together, strict=True):
        assert shared is not None and shared.findings == plan_alone
    # Each plan has something to be told, みどり野市's workbook at あおば町 its municipality.
    assert all(alone)
    assert any("別の自治体（みどり野市）" in f.message for f in alone[1])


def test_plans_with_one_suite_share_one_run(plans: list[PlanFrames]) -> None:
    """It checks みどり野市's and あおば町's rows in one run per sheet kind, and every plan's
    identity in one run; the presets' own suites run apart."""
    runs: list[dict[str, str]] = []
    for shared in validate_together(plans):
        assert shared is not None
        runs.append(
            {
                r.suite_name.rsplit("-", 1)[0]: r.meta["batch_markers"]["pandas_data_fingerprint"]
                for _, r in shared.validations
            }
        )
    midorino, aoba = runs[:2]
    assert len(midorino) == 3 and midorino == aoba  # the same stacked rows: one run each
    assert len({run["identity"] for run in runs}) == 1
    main = [next(v for k, v in run.items() if k not in ("identity", "indicators")) for run in runs]
    assert len(set(main)) == 4  # みどり野市 and あおば町 together, each preset alone


def test_each_plans_data_docs_show_its_own_rows(plans: list[PlanFrames], tmp_path: Path) -> None:
    """It publishes, from a shared run, Data Docs with the plan's own findings only."""
    together = validate_together(plans)
    pages = {}
    for index in (0, 1):
        shared = together[index]
        assert shared is not None
        forget_validations()
        keep_validations(shared.validations)
        storage = open_storage(tmp_path / str(index))
        assert publish_data_docs(storage, "docs") == "docs/index.html"
        pages[index] = "".join(
            p.read_text(encoding="utf-8") for p in (tmp_path / str(index) / "docs").rglob("*.html")
        )
    assert "甲" in pages[0] and "乙" not in pages[0]
    assert "乙" in pages[1] and "甲" not in pages[1]
    assert "\x1f" not in pages[0] + pages[1]  # no plan's tag reaches a page
