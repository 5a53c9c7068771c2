"""Generate N realistic department workbooks (調査票) from the product's own templates.

The N files come from cities (the hosted service's tenants) of M departments on average
(M = 50 by default, cities of 30–70: "a city sends 30–60 workbooks a year"; ``--per-plan 0``
puts every department in one plan). Each city has its own synthetic plan: M departments with
20 initiatives (事業) each, under four 基本目標 of five 分野別計画 of five 目標; three
initiatives of every department have an indicator, and every department's first initiative
is listed a second time (再掲). Each department's workbook is the product's
``build_submission_workbook``, filled in with openpyxl the way
``tests/helpers.filled_workbook`` does, with Japanese text. About 5% of the files carry a
blocking mistake (grade ``Ｅ`` or a blank 実績) and about 10% a warning (an indicator typed
as ``１２回``); the rest are clean, some with full-width grades (``Ａ``) that fold.

A set is written once under ``/tmp/shiryo-bench/sets/`` (``$SHIRYO_BENCH_CACHE``) keyed by N,
M, the generator version and the product code workbooks are built from, and reused:

    <set>/cities/<city>/plan/plan.yaml          the city's plan (``load_plan`` takes the folder)
    <set>/cities/<city>/intake/<fy>/<dept>/…    one filled workbook per department
    <set>/manifest.json                         per file: city, key, what the product should say

Generation runs on every core. The product's plan lookups are linear scans
(``Plan.initiative``, ``Plan.department``) and ``ordered_initiatives`` is quadratic in the
number of initiatives, which makes building thousands of workbooks from one big plan take
days; for plans over 2,000 initiatives the generator (only the generator, in its own
processes) swaps those lookups for indexed ones that give the same answers, so the workbooks
are byte-for-byte what the product would write. The product itself always runs unchanged.

    python -m bench.generate --files 2000 [--per-plan 50]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

import tasks.call.workbook as workbook_module  # noqa: E402
import tasks.plan.model as plan_module  # noqa: E402
import tasks.plan.parts as parts_module  # noqa: E402
from tasks.call.workbook import (  # noqa: E402
    HEADER_ROW,
    INDICATOR_INPUT_HEADER,
    build_submission_workbook,
    field_label,
)
from tasks.plan.load import call_version, load_plan, plan_hash  # noqa: E402
from tasks.plan.model import Plan  # noqa: E402
from tasks.plan.parts import Initiative, Placement  # noqa: E402
from tasks.workspace.keys import submission_filename  # noqa: E402

GENERATOR_VERSION = 3
DEFAULT_PER_PLAN = 50
INDEX_ABOVE_INITIATIVES = 2000
"""Plans with more initiatives get the generator's indexed lookups."""
FISCAL_YEAR = 2021
INITIATIVES_PER_DEPARTMENT = 20
INDICATOR_POSITIONS = (2, 9, 16)
CACHE_ROOT = Path(os.environ.get("SHIRYO_BENCH_CACHE", "/tmp/shiryo-bench"))

_WARDS = [
    "北区", "東区", "中央区", "江南区", "秋葉区", "南区", "西区", "西蒲区", "緑区", "青葉区",
    "港北区", "都筑区", "栄区", "泉区", "若葉区", "美浜区", "花見川区", "稲毛区", "清田区",
    "豊平区",
]  # fmt: skip
_SECTIONS = [
    "健康福祉課", "地域総務課", "保護課", "障がい福祉課", "こども家庭課",
    "高齢者支援課", "社会福祉協議会", "地域包括支援センター", "保健センター", "区民生活課",
]  # fmt: skip
_TOP_GOALS = [
    "安心して産み子育てできるまち",
    "障がいのある人もない人も安心して暮らせるまち",
    "高齢者も安心して暮らせるまち",
    "誰もが支え合い安全に暮らせるまち",
]
_FIELDS = [
    "子ども・子育て支援", "障がい者・生活困窮者支援", "高齢者・介護者支援", "地域の支え合い",
    "防災・防犯", "健康づくり", "権利擁護", "担い手の育成", "情報提供と相談", "居場所づくり",
]  # fmt: skip
_AIMS = ["の充実", "の推進", "のしくみづくり", "の体制強化", "への支援"]
_SUBJECTS = [
    "子育て世帯", "妊産婦", "高齢者", "介護者", "障がいのある人", "生活困窮者", "ひとり親家庭",
    "認知症の人", "外国人住民", "若者", "民生委員・児童委員", "地域ボランティア", "自治会",
    "地域コミュニティ協議会", "ひきこもりの人", "要配慮者",
]  # fmt: skip
_ACTIVITIES = [
    "見守り活動", "相談支援", "居場所づくり", "交流事業", "就労支援", "情報発信", "研修会",
    "訪問支援", "担い手育成", "ネットワーク会議", "出前講座", "避難支援体制づくり",
    "健康づくり教室", "権利擁護", "生活支援",
]  # fmt: skip
_VERBS = ["の推進", "の充実", "の強化", "の周知", "の拡大", "の継続", "の見直し", "の構築"]
_PLACES = [
    "地域の茶の間", "コミュニティセンター", "児童館", "公民館", "区役所", "各圏域",
    "小学校区ごと", "オンライン", "地区社会福祉協議会", "特別養護老人ホーム",
]  # fmt: skip
_PURPOSES = [
    "地域で支え合う体制づくりを進める", "必要な支援につなげる", "孤立を防ぐ",
    "関係機関と情報を共有する", "住民の理解を深める", "早期の相談につなげる",
]  # fmt: skip
_EXTRAS = [
    "参加者アンケートでは満足度が高かった。",
    "新型コロナウイルス感染症の影響で一部を中止した。",
    "関係機関との連携により新たな参加者につながった。",
    "前年度より参加者が増えた。",
    "",
]
_ISSUES = [
    "担い手の高齢化が課題",
    "周知が十分でない",
    "参加者が固定化している",
    "感染症対策との両立が課題",
    "男性の参加が少ない",
]
_NEXT_STEPS = [
    "次年度は若い世代への周知を強化する",
    "関係機関と協議を継続する",
    "オンライン開催を検討する",
    "地区ごとの実情に合わせて進める",
]
_REMARKS = ["予算額 50千円", "委託事業", "県補助事業", "一部再掲"]
_UNITS = [("開催回数", "回"), ("参加者数", "人"), ("相談件数", "件"), ("登録者数", "人")]
_GRADES = ["A", "B", "C", "D"]
_GRADE_WEIGHTS = [40, 35, 20, 5]
_FULL_WIDTH = str.maketrans("0123456789ABCD", "０１２３４５６７８９ＡＢＣＤ")


@dataclass(frozen=True)
class GeneratedSet:
    """A generated benchmark set on disk."""

    root: Path
    files: int
    per_plan: int
    seconds: float
    """Time it took to generate, 0 when it came from the cache."""
    cached: bool

    @property
    def cities(self) -> list[str]:
        return sorted(p.name for p in (self.root / "cities").iterdir())

    def city(self, city: str) -> Path:
        """Return a city's folder: its ``plan/`` and its ``intake/``."""
        return self.root / "cities" / city

    def config(self, city: str) -> Path:
        return self.city(city) / "plan"

    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads(
            (self.root / "manifest.json").read_text(encoding="utf-8")
        )
        return manifest


def department_id(index: int) -> str:
    """Return the slug of the index-th synthetic department."""
    return f"d{index:05d}"


def department_name(index: int) -> str:
    """Return a unique Japanese department name, e.g. ``北区健康福祉課`` or ``…第2係``."""
    ward = _WARDS[index % len(_WARDS)]
    section = _SECTIONS[(index // len(_WARDS)) % len(_SECTIONS)]
    round_ = index // (len(_WARDS) * len(_SECTIONS)) + 1
    return f"{ward}{section}" + (f"第{round_}係" if round_ > 1 else "")


def initiative_id(department: int, position: int) -> str:
    """Return the slug of a department's position-th initiative."""
    return f"{department_id(department)}-{position:02d}"


def city_id(index: int) -> str:
    """Return the folder name of the index-th city."""
    return f"c{index:04d}"


def municipality(index: int) -> str:
    """Return the index-th city's name."""
    return "ベンチ市" if index == 0 else f"ベンチ第{index + 1}市"


def plan_document(departments: int, city: int = 0) -> dict[str, Any]:
    """Return the raw plan (as plan.yaml holds it) of a city with ``departments`` departments."""
    rng = random.Random(f"plan-{city}")
    leaves: list[list[str]] = [[] for _ in range(len(_TOP_GOALS) * 25)]
    initiatives: list[dict[str, Any]] = []
    for d in range(departments):
        for k in range(INITIATIVES_PER_DEPARTMENT):
            iid = initiative_id(d, k)
            leaves[(d * 4 + k // 5) % len(leaves)].append(iid)
            subject, activity = rng.choice(_SUBJECTS), rng.choice(_ACTIVITIES)
            initiative: dict[str, Any] = {
                "id": iid,
                "name": f"{subject}の{activity}{rng.choice(_VERBS)}",
                "summary": f"{subject}を対象に、{rng.choice(_PLACES)}で{activity}を実施し、"
                f"{rng.choice(_PURPOSES)}。",
                "departments": [department_id(d)],
            }
            if k in INDICATOR_POSITIONS:
                what, unit = rng.choice(_UNITS)
                baseline = rng.randint(5, 60)
                initiative["indicators"] = [
                    {
                        "id": "ind-1",
                        "name": f"{activity} {what}",
                        "unit": unit,
                        "direction": "higher",
                        "baseline": baseline,
                        "baseline_year": FISCAL_YEAR - 1,
                        "targets": {FISCAL_YEAR: baseline + rng.randint(0, 10)},
                    }
                ]
            initiatives.append(initiative)
        # Every department's first initiative is listed again under another goal (再掲).
        leaves[(d * 4 + 7) % len(leaves)].append(initiative_id(d, 0))
    goals = []
    for t, top in enumerate(_TOP_GOALS):
        sections = []
        for s in range(5):
            field_title = _FIELDS[(t * 5 + s) % len(_FIELDS)]
            targets = []
            for g in range(5):
                index = t * 25 + s * 5 + g
                target: dict[str, Any] = {
                    "id": f"g{t + 1}-{s + 1}-{g + 1}",
                    "title": f"{_SUBJECTS[index % len(_SUBJECTS)]}{_AIMS[g]}",
                }
                if leaves[index]:
                    target["initiatives"] = leaves[index]
                targets.append(target)
            sections.append({"id": f"g{t + 1}-{s + 1}", "title": field_title, "children": targets})
        goals.append({"id": f"g{t + 1}", "title": top, "children": sections})
    minami = load_plan("niigata-minami")
    return {
        "schema_version": 1,
        "municipality": municipality(city),
        "plan_name": f"{municipality(city)}地域福祉計画",
        "committee": "地域福祉計画推進委員会",
        "levels": ["基本目標", "分野別計画", "目標"],
        "initiative_label": "具体的な取り組み・事業",
        "fiscal_year": {"current": FISCAL_YEAR, "previous": FISCAL_YEAR - 1},
        "grade_scale": minami.grade_scale.model_dump(),
        "departments": [
            {"id": department_id(d), "name": department_name(d)} for d in range(departments)
        ],
        "goals": goals,
        "initiatives": initiatives,
        "submission": minami.submission.model_dump(exclude_none=True),
        "report": {
            "name": "bench-hyoka",
            "title": f"{municipality(city)}地域福祉計画 評価シート",
            "document_number": "資料1",
            "docx_template": "hyoka/shiryo.docx",
            "xlsx_template": "hyoka/shiryo.xlsx",
            "suite": "hyoka",
        },
    }


def write_plan_yaml(document: dict[str, Any], folder: Path) -> Path:
    """Write the raw plan as ``folder/plan.yaml`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(
        document,
        Dumper=dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=4096,
    )
    path.write_text(
        "# Synthetic plan for the benchmark (bench/generate.py); do not edit.\n" + text,
        encoding="utf-8",
    )
    return path


# --- Indexed plan lookups, for the generator only (same answers as the product's). ---


@dataclass
class _PlanIndex:
    departments: dict[str, Any]
    initiatives: dict[str, Initiative]
    ordered: list[Initiative]
    of_department: dict[str, list[Initiative]]
    placements: list[Placement]
    version: str
    placements_of: dict[str, list[Placement]]
    """Placements of each department's initiatives: all that its workbook looks up."""
    focus: str | None = None
    """The department whose workbook is being built, if any."""


_INDEXES: dict[int, _PlanIndex] = {}


def _set_unique(what: str, values: list[str]) -> None:
    # The product's check (tasks.plan.parts.require_unique) with a Counter instead of list.count.
    repeated = sorted(v for v, count in Counter(values).items() if count > 1)
    if repeated:
        raise ValueError(f"{what} repeats: {repeated}")


def _indexed(method: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def lookup(self: Plan, *args: Any) -> Any:
        index = _INDEXES.get(id(self))
        if index is None:
            return original(self, *args)
        if method == "department":
            return index.departments[args[0]]
        if method == "initiative":
            return index.initiatives[args[0]]
        if method == "ordered_initiatives":
            return list(index.ordered)
        if method == "initiatives_of":
            return list(index.of_department.get(args[0], []))
        if index.focus is not None:
            # build_submission_workbook looks up only its department's initiatives' paths;
            # scanning all 200,000 placements per workbook would dominate generation.
            return list(index.placements_of[index.focus])
        return list(index.placements)

    return lookup


def _install_indexed_lookups() -> None:
    if getattr(Plan, "_bench_indexed", False):
        return
    plan_module.require_unique = _set_unique  # type: ignore[assignment]
    parts_module.require_unique = _set_unique  # type: ignore[assignment]
    for method in ("department", "initiative", "ordered_initiatives", "initiatives_of"):
        setattr(Plan, method, _indexed(method, getattr(Plan, method)))
    original_placements = Plan.placements
    Plan.placements = _indexed("placements", original_placements)  # type: ignore[method-assign]
    original_version = workbook_module.call_version

    def cached_version(plan: Plan) -> str:
        index = _INDEXES.get(id(plan))
        return index.version if index is not None else original_version(plan)

    workbook_module.call_version = cached_version
    Plan._bench_indexed = True  # type: ignore[attr-defined]


def indexed_plan(document: dict[str, Any]) -> Plan:
    """Return the validated plan with indexed lookups (generator only)."""
    _install_indexed_lookups()
    plan = Plan.model_validate(document)
    initiatives = {i.id: i for i in plan.initiatives}
    ordered: dict[str, Initiative] = {}
    for goal, _ in plan.iter_goals():
        for iid in goal.initiatives:
            ordered.setdefault(iid, initiatives[iid])
    of_department: dict[str, list[Initiative]] = {}
    for initiative in ordered.values():
        if getattr(initiative, "status", "active") != "active":
            continue  # Plan.initiatives_of asks only for active initiatives
        for d in initiative.departments:
            of_department.setdefault(d, []).append(initiative)
    index = _PlanIndex(
        departments={d.id: d for d in plan.departments},
        initiatives=initiatives,
        ordered=list(ordered.values()),
        of_department=of_department,
        placements=[],
        version=call_version(plan),
        placements_of={},
    )
    _INDEXES[id(plan)] = index
    index.placements = _placements(plan)
    for placement in index.placements:
        for d in placement.initiative.departments:
            index.placements_of.setdefault(d, []).append(placement)
    return plan


def _build_workbook(plan: Plan, department: str) -> bytes:
    index = _INDEXES.get(id(plan))
    if index is not None:
        index.focus = department
    try:
        return build_submission_workbook(plan, department)
    finally:
        if index is not None:
            index.focus = None


def _placements(plan: Plan) -> list[Placement]:
    # The product's Plan.placements, with the initiative lookup indexed.
    index = _INDEXES[id(plan)]
    placements: list[Placement] = []
    first_seen: set[str] = set()
    for path in plan._goal_paths():
        for iid in path[-1].initiatives:
            placements.append(
                Placement(
                    goal_path=tuple(path),
                    initiative=index.initiatives[iid],
                    is_repost=iid in first_seen,
                )
            )
            first_seen.add(iid)
    return placements


# --- Filling a workbook as a department would. ---


def _expected_outcome(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.05:
        return "rejected"
    if draw < 0.15:
        return "warning"
    return "clean"


def fill_department_workbook(plan: Plan, index: int, city: int = 0) -> tuple[bytes, dict[str, Any]]:
    """Return one department's filled workbook and what the product should make of it."""
    rng = random.Random(f"bench-{city}-{index}")
    outcome = _expected_outcome(rng)
    dept = department_id(index)
    workbook = load_workbook(io.BytesIO(_build_workbook(plan, dept)))
    sheet = workbook[plan.submission.sheet_name]
    headers = {cell.value: cell.column for cell in sheet[HEADER_ROW]}
    rows = list(range(HEADER_ROW + 1, sheet.max_row + 1))
    mistake_row = rng.choice(rows)
    mistake = rng.choice(["grade", "blank_result"]) if outcome == "rejected" else None
    for row in rows:
        values = _row_values(rng)
        if row == mistake_row and mistake == "grade":
            values["grade"] = "Ｅ"
        if row == mistake_row and mistake == "blank_result":
            values["result_text"] = None
        for field in plan.submission.fields:
            value = values.get(field.key)
            cell = sheet.cell(row=row, column=headers[field_label(plan, field.label)])
            cell.value = value
            if value is not None:
                cell.data_type = "s"
    indicator_sheet = plan.submission.indicator_sheet_name
    if indicator_sheet in workbook.sheetnames:
        indicators = workbook[indicator_sheet]
        actual_col = next(
            cell.column
            for cell in indicators[HEADER_ROW]
            if cell.value == INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current)
        )
        indicator_rows = list(range(HEADER_ROW + 1, indicators.max_row + 1))
        typed_row = rng.choice(indicator_rows) if outcome == "warning" else None
        for row in indicator_rows:
            value = rng.randint(3, 80)
            if row == typed_row:
                typed = indicators.cell(row=row, column=actual_col, value=f"{value}回")
                typed.value = str(typed.value).translate(_FULL_WIDTH)
                typed.data_type = "s"
            else:
                indicators.cell(row=row, column=actual_col, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    key = f"intake/{FISCAL_YEAR}/{dept}/{submission_filename(plan, dept)}"
    entry = {"city": city_id(city), "department_id": dept, "key": key, "expected": outcome}
    return buffer.getvalue(), entry


def _row_values(rng: random.Random) -> dict[str, str | None]:
    place, activity = rng.choice(_PLACES), rng.choice(_ACTIVITIES)
    times, people = rng.randint(2, 24), rng.randint(10, 900)
    grade = rng.choices(_GRADES, weights=_GRADE_WEIGHTS)[0]
    if rng.random() < 0.1:
        grade = grade.translate(_FULL_WIDTH)  # 全角 from a copied cell; folds to the code
    return {
        "plan_text": f"{place}で{activity}を年{times}回実施する予定。",
        "result_text": f"{place}で{activity}を{times}回実施し、延べ{people}人が参加した。"
        f"{rng.choice(_EXTRAS)}",
        "grade": grade,
        "comment": f"{rng.choice(_ISSUES)}。{rng.choice(_NEXT_STEPS)}。",
        "remarks": rng.choice(_REMARKS) if rng.random() < 0.3 else None,
    }


# --- The set: generate in parallel, cache by N and M. ---

_WORKER: dict[str, Any] = {}


def _init_worker(target: str) -> None:
    _WORKER["target"] = Path(target)


def city_sizes(files: int, per_plan: int) -> list[int]:
    """Return the number of departments of each city: ``per_plan`` on average.

    Cities differ (from 0.6 to 1.4 times ``per_plan``: 30–70 departments for 50), as real
    ones do, which also lets a single run separate what a flow run costs from what a file
    costs. The last city takes what is left; ``files <= per_plan`` is one city.
    """
    if not per_plan or files <= per_plan:
        return [files]
    rng = random.Random(f"cities-{files}-{per_plan}")
    low, high = max(1, round(per_plan * 0.6)), max(1, round(per_plan * 1.4))
    sizes: list[int] = []
    left = files
    while left > 0:
        sizes.append(min(left, rng.randint(low, high)))
        left -= sizes[-1]
    return sizes


def builder_digest() -> str:
    """Return a hash of the product code a workbook is built from (a new one: a new set)."""
    digest = hashlib.sha256()
    for name in ("plan/model.py", "call/workbook.py", "ooxml.py", "plan/fiscal_year.py"):
        digest.update((REPO_ROOT / "tasks" / name).read_bytes())
    return digest.hexdigest()[:8]


def set_root(files: int, per_plan: int, cache_root: Path = CACHE_ROOT) -> Path:
    """Return where the set of ``files`` workbooks in plans of ``per_plan`` is cached."""
    name = f"v{GENERATOR_VERSION}-n{files}-p{per_plan or files}-{builder_digest()}"
    return cache_root / "sets" / name


def generate(
    files: int,
    per_plan: int = DEFAULT_PER_PLAN,
    workers: int | None = None,
    cache_root: Path = CACHE_ROOT,
    log: Callable[[str], None] = print,
) -> GeneratedSet:
    """Return the set of ``files`` workbooks, generating it unless it is cached.

    ``per_plan`` departments share a city's plan; 0 puts all of them in one plan.
    """
    per_plan = min(per_plan or files, files)
    root = set_root(files, per_plan, cache_root)
    if (root / "manifest.json").is_file():
        return GeneratedSet(root, files, per_plan, seconds=0.0, cached=True)
    started = time.perf_counter()
    building = root.with_name(root.name + f".tmp-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    sizes = city_sizes(files, per_plan)
    for city, departments in enumerate(sizes):
        document = plan_document(departments, city)
        path = write_plan_yaml(document, building / "cities" / city_id(city) / "plan")
        if city == 0:
            _check_round_trip(document, path)
    workers = workers or os.cpu_count() or 1
    shape = (
        f"1 plan of {files} departments"
        if len(sizes) == 1
        else f"{len(sizes)} plans of {min(sizes)}–{max(sizes)} departments"
    )
    log(f"generating {files} workbooks ({shape}) on {workers} processes into {root} …")
    entries: list[dict[str, Any]] = []
    jobs = _jobs(sizes, workers)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(str(building),)) as pool:
        for done in pool.imap_unordered(_write_city_part, jobs):
            entries += done
            if len(entries) // 1000 != (len(entries) - len(done)) // 1000:
                log(f"  {len(entries)}/{files} workbooks ({time.perf_counter() - started:.0f} s)")
    entries.sort(key=lambda e: (e["city"], e["department_id"]))
    seconds = time.perf_counter() - started
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "files": files,
        "per_plan": per_plan,
        "cities": len(sizes),
        "fiscal_year": FISCAL_YEAR,
        "initiatives": files * INITIATIVES_PER_DEPARTMENT,
        "seconds": round(seconds, 1),
        "entries": entries,
    }
    (building / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=0), encoding="utf-8"
    )
    shutil.rmtree(root, ignore_errors=True)
    building.rename(root)
    return GeneratedSet(root, files, per_plan, seconds=seconds, cached=False)


def _jobs(sizes: list[int], workers: int) -> list[tuple[int, int, int, int]]:
    """Split the work into (city, departments, first, last) parts small enough to share."""
    part = 50 if len(sizes) > 1 else max(1, min(50, sizes[0] // (workers * 4) or 1))
    return [
        (city, departments, start, min(start + part, departments))
        for city, departments in enumerate(sizes)
        for start in range(0, departments, part)
    ]


def _write_city_part(job: tuple[int, int, int, int]) -> list[dict[str, Any]]:
    """Write departments ``first``..``last`` of one city (its plan is kept per process)."""
    city, departments, first, last = job
    plans: dict[int, Plan] = _WORKER.setdefault("plans", {})
    if city not in plans:
        for old in plans.values():
            _INDEXES.pop(id(old), None)
        plans.clear()
        document = plan_document(departments, city)
        # A city-sized plan is fast enough with the product's own lookups; index big ones.
        big = departments * INITIATIVES_PER_DEPARTMENT > INDEX_ABOVE_INITIATIVES
        plans[city] = indexed_plan(document) if big else Plan.model_validate(document)
    folder: Path = _WORKER["target"] / "cities" / city_id(city)
    entries = []
    for index in range(first, last):
        data, entry = fill_department_workbook(plans[city], index, city)
        path = folder / entry["key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append(entry)
    return entries


def _check_round_trip(document: dict[str, Any], path: Path) -> None:
    """Refuse a plan.yaml that would not load to the plan the workbooks embed (plan_hash)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _install_indexed_lookups()
    written = Plan.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
    if plan_hash(written) != plan_hash(Plan.model_validate(document)):
        raise RuntimeError(f"{path}: the plan does not survive a YAML round trip")


def main(argv: list[str] | None = None) -> None:
    """Generate (or find cached) a set of N workbooks and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--per-plan", type=int, default=DEFAULT_PER_PLAN, help="0: one plan")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    generated = generate(args.files, args.per_plan, args.workers)
    state = "cached" if generated.cached else f"generated in {generated.seconds:.1f} s"
    print(f"{generated.files} workbooks at {generated.root} ({state})")


if __name__ == "__main__":
    main()
