"""Tests of loading the plan: presets, plan.yaml files and their mistakes, other years."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ConfigError
from tasks.plan.load import list_presets, load_plan, plan_for_year
from tasks.plan.model import Plan
from tasks.settings import PRESETS_DIR, REPO_ROOT

SEED = REPO_ROOT.parent / "shared" / "seeds" / "niigata-minami_hyoka_2021.txt"


def test_it_ships_the_minami_preset(minami: Plan) -> None:
    """It loads the 新潟市南区 preset with its four 基本目標 and the A–D scale."""
    assert "niigata-minami" in list_presets()
    assert minami.municipality == "新潟市南区"
    assert [g.title for g in minami.goals] == [
        "安心して産み子育てできるまち",
        "障がいのある人もない人も安心して暮らせるまち",
        "高齢者も安心して暮らせるまち",
        "私たちが支えあい、助けあうまち",
    ]
    assert minami.grade_scale.codes == ["A", "B", "C", "D"]
    assert minami.fiscal_year.current == 2021 and minami.fiscal_year.previous == 2020


@pytest.mark.skipif(not SEED.exists(), reason="the shared seeds are not beside the repository")
def test_every_initiative_name_is_in_the_seed(minami: Plan) -> None:
    """It takes each initiative's name from the seed (line breaks of the PDF ignored)."""
    seed = "".join(SEED.read_text(encoding="utf-8").split())
    missing = [
        i.name for i in minami.initiatives if "".join(i.name.split("（")[0].split()) not in seed
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        # not YAML at all
        ("schema_version: [1", "YAML として読めません"),
        # a key with the wrong type, named with its path
        ("schema_version: 1\nfiscal_year: {current: soon}\n", "fiscal_year.current"),
        # an unknown key is refused, not ignored
        ("schema_version: 1\nmunicipaliti: x\n", "municipaliti"),
    ],
)
def test_it_names_file_and_key_of_a_malformed_plan(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    """It stops on a malformed plan with the file, the key path and the problem."""
    path = tmp_path / "plan.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_plan(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_it_moves_the_plan_to_another_year(minami: Plan) -> None:
    """It reports on another fiscal year with the year before as previous."""
    moved = plan_for_year(minami, 2022)
    assert (moved.fiscal_year.current, moved.fiscal_year.previous) == (2022, 2021)
    assert plan_for_year(minami, None) is minami


def test_a_moved_plan_keeps_its_own_first_and_target_years() -> None:
    """It keeps 目標年度 and 計画1年目 (西東京市: 2023 and 2019) when reporting on 2020."""
    moved = plan_for_year(load_plan("nishitokyo"), 2020).fiscal_year
    assert (moved.current, moved.previous, moved.final, moved.first) == (2020, 2019, 2023, 2019)


def test_a_preset_name_wins_over_a_folder_without_a_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It loads the shipped preset when a same-named folder (a workspace) has no plan.yaml."""
    from tasks.plan.load import resolve_config_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "nishitokyo").mkdir()
    assert resolve_config_path("nishitokyo") == PRESETS_DIR / "nishitokyo" / "plan.yaml"
    (tmp_path / "nishitokyo" / "plan.yaml").write_text("schema_version: 1\n", encoding="utf-8")
    assert resolve_config_path("nishitokyo") == Path("nishitokyo") / "plan.yaml"


def test_it_names_the_folder_that_holds_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It says which folder it looked in when neither a preset nor a plan.yaml is there."""
    from tasks.errors import ConfigError
    from tasks.plan.load import resolve_config_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match=r"mine にも plan\.yaml がありません"):
        resolve_config_path("mine")


def test_a_plan_is_parsed_once_per_content(tmp_path: Path) -> None:
    """It hands out the plan parsed before for the same bytes, and reads an edit anew."""
    source = (REPO_ROOT / "tests" / "data" / "midorino" / "plan.yaml").read_text("utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text(source, encoding="utf-8")
    first = load_plan(path)
    assert load_plan(path) is first
    path.write_text(source.replace("みどり野市", "あおば野市"), encoding="utf-8")
    edited = load_plan(path)
    assert edited.municipality == "あおば野市" != first.municipality
