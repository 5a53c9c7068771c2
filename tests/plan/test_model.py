"""Tests of the plan as typed data: reposted initiatives, shared ones, checks on its parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ConfigError
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.settings import PRESETS_DIR


def test_it_stores_a_reposted_initiative_once(minami: Plan) -> None:
    """It keeps a （再掲） initiative once and lists it under each of its goals."""
    placements = minami.placements()
    listed = [p.initiative.id for p in placements]
    assert len(minami.initiatives) == len(set(listed)) < len(listed)
    reposts = [p for p in placements if p.is_repost]
    assert {p.initiative.id for p in reposts} == {"i002", "i006", "i012", "i019", "i023"}
    first_goal = next(p.goal_path[-1].id for p in placements if p.initiative.id == "i002")
    repost_goal = next(p.goal_path[-1].id for p in reposts if p.initiative.id == "i002")
    assert (first_goal, repost_goal) == ("g1-1-1", "g1-1-2")


def test_it_keeps_several_departments_of_one_initiative(minami: Plan) -> None:
    """It lists every department the seed names for an initiative."""
    both = [i for i in minami.initiatives if len(i.departments) > 1]
    assert both, "the seed has initiatives shared by 健康福祉課 and 社会福祉協議会"
    assert any({"kenko-fukushi", "shakyo"} <= set(i.departments) for i in both)


def test_it_refuses_a_goal_listing_an_unknown_initiative(tmp_path: Path, minami: Plan) -> None:
    """It refuses a plan whose goal lists an initiative that does not exist."""
    source = (PRESETS_DIR / "niigata-minami" / "plan.yaml").read_text(encoding="utf-8")
    broken = source.replace("initiatives: [i001, i002,", "initiatives: [i999, i002,", 1)
    assert broken != source
    path = tmp_path / "plan.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match="i999"):
        load_plan(path)


def test_a_report_section_is_listed_once(minami: Plan) -> None:
    """It refuses a plan that lists one section of the 資料 twice."""
    from pydantic import ValidationError

    from tasks.plan.parts import ReportProfile

    raw = {**minami.report.model_dump(), "sections": ["tables", "tables"]}
    with pytest.raises(ValidationError, match="report section repeats"):
        ReportProfile.model_validate(raw)


def _with_contact(tmp_path: Path, contact: str) -> Path:
    """Write the 南区 plan with ``contact`` added to 健康福祉課's entry; return its path."""
    source = (PRESETS_DIR / "niigata-minami" / "plan.yaml").read_text(encoding="utf-8")
    entry = '{id: "kenko-fukushi", name: "健康福祉課"'
    assert entry in source
    path = tmp_path / "plan.yaml"
    path.write_text(source.replace(entry, f"{entry}, {contact}", 1), encoding="utf-8")
    return path


def test_a_department_may_name_its_contact(tmp_path: Path, minami: Plan) -> None:
    """It keeps a department's mail address and contact, and a contact changes neither the
    調査票's version nor the steps' cache keys."""
    from tasks.plan.load import call_version, plan_hash

    plan = load_plan(
        _with_contact(tmp_path, 'email: "kenko@city.example.lg.jp", contact: "福祉係 山田"')
    )
    department = plan.department("kenko-fukushi")
    assert (department.email, department.contact) == ("kenko@city.example.lg.jp", "福祉係 山田")
    assert minami.department("kenko-fukushi").email is None
    assert call_version(plan) == call_version(minami)
    assert plan_hash(plan) == plan_hash(minami)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("kenko＠city.example.lg.jp", "全角"),  # full-width at sign, typed in Japanese input
        ("kenko.city.example.lg.jp", "「@」がありません"),  # no at sign at all
        ("kenko@city", "名前@ドメイン"),  # a domain without a dot
        ("kenko@city.jp, fukushi@city.jp", "1 つだけ"),  # two addresses in one
        ("山田 <kenko@city.jp>", "全角"),  # a display name with the address
    ],
)
def test_a_mail_address_that_is_not_one_names_the_department(
    tmp_path: Path, written: str, hint: str
) -> None:
    """It stops with a Japanese message naming the file, the department and what to write."""
    with pytest.raises(ConfigError) as raised:
        load_plan(_with_contact(tmp_path, f'email: "{written}"'))
    message = str(raised.value)
    assert str(tmp_path / "plan.yaml") in message
    assert "部署「健康福祉課」（kenko-fukushi）の email" in message
    assert f"「{written}」はメールアドレスの形ではありません" in message
    assert hint in message
    assert "Value error" not in message
