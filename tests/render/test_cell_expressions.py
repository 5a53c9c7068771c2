"""Tests of a template cell's Jinja, compiled once: it evaluates as Jinja itself does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined, Undefined, UndefinedError

from tasks.render.cell_expressions import compile_cell

SCOPE: dict[str, Any] = {
    "row": {
        "name": "見守り活動",
        "count": 12,
        "rate": 0.5,
        "flag": True,
        "empty": None,
        "items": "項目の値",  # a key named like a dict method: Jinja prefers the method
        "marks": ["○", "", "○"],
        "nested": {"label": "（１）地域"},
    },
    "goal": {"counts": [3, 0, 1], "title": "安心のまち"},
    "municipality": "南区",
    "ind": {"initiative_id": "i002"},
    "rows_by_id": {"i002": {"no": 2, "goal_cell": "基本目標１\n地域"}},
    "levels": ["基本目標", "施策"],
}


def _jinja_env() -> Environment:
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["vmerge"] = lambda value: value
    return env


def _as_jinja(text: str, scope: dict[str, Any]) -> object:
    """The cell rules on Jinja alone: one expression gives its value, else the rendered text."""
    env = _jinja_env()
    single = re.match(r"^\{\{((?:(?!\}\}|\{\{).)*)\}\}$", text.strip(), re.S)
    if single and "|vmerge" not in single.group(1):
        value = env.compile_expression(single.group(1).strip(), undefined_to_none=False)(**scope)
        assert not isinstance(value, Undefined)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return "" if value is None else str(value)
    return env.from_string(text).render(**scope)


@pytest.mark.parametrize(
    "text",
    [
        "{{ row.name }}",  # a name and an attribute (the usual cell)
        "  {{ row.name }}  ",  # spaces round one expression are not printed
        "{{ row.count }}",  # a number stays a number
        "{{ row.rate }}",  # a float too
        "{{ row.flag }}",  # a boolean is text
        "{{ row.empty }}",  # None is an empty cell
        "{{ row.items }}",  # Jinja's getattr finds dict.items before the key
        "{{ row['items'] }}",  # a subscript finds the key
        "{{ row.marks[0] }}{{ row.marks[1] }}{{ row.marks[2] }}",  # constant subscripts
        "{{ goal.counts[0] }}",  # a number from a list
        "{{ rows_by_id[ind.initiative_id].goal_cell }}",  # a subscript looked up
        "{{ rows_by_id[ind.initiative_id].no }}",  # … giving a number
        "{{ row.nested.label|vmerge }}",  # |vmerge prints as it is, as text
        "{{ row.count|vmerge }}",  # … a number too
        "{{ levels[0] }}　{{ goal.title }}",  # text around expressions
        "〔{{ row.empty }}〕",  # None inside text prints as Jinja prints it
        "{{ row.count + 1 }}",  # arithmetic: Jinja's own
        "{{ row.marks|join('・') }}",  # a filter: Jinja's own
        "{% if row.flag %}◎{% else %}○{% endif %}{{ row.name }}",  # a block: Jinja's own
        "{{ municipality }}\n",  # a trailing line break dropped, as Jinja does
        "{{ range }}",  # a Jinja global
    ],
)
def test_a_cell_evaluates_as_jinja_does(text: str) -> None:
    """It gives the value Jinja gives, a number as a number, whichever way it compiled."""
    expected = _as_jinja(text, SCOPE)
    value = compile_cell(_jinja_env(), text)(SCOPE)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "{{ row.sumary }}",  # a misspelt field, alone
        "注：{{ row.sumary }}",  # … within text
        "{{ rows.name }}",  # a misspelt name
        "{{ row.marks[7] }}",  # past the end of a list
        "{{ rows_by_id[row.name].no }}",  # a key the mapping lacks
    ],
)
def test_a_name_the_report_lacks_is_an_error(text: str) -> None:
    """It refuses to print a name the report does not have, instead of a blank."""
    with pytest.raises(UndefinedError):
        compile_cell(_jinja_env(), text)(SCOPE)


def test_a_compiled_cell_is_evaluated_again_with_each_scope() -> None:
    """It compiles once and reads each row's values, not the first row's."""
    evaluate = compile_cell(_jinja_env(), "{{ row.name }}（{{ row.count }}）")
    rows = [{"name": f"事業{i}", "count": i} for i in range(3)]
    assert [evaluate({"row": row}) for row in rows] == ["事業0（0）", "事業1（1）", "事業2（2）"]


def test_a_header_value_goes_through_finalize() -> None:
    """It passes each printed value through the environment's finalize, not the literal text."""
    env = Environment(undefined=StrictUndefined, finalize=lambda v: v.replace("&", "&&"))
    evaluate = compile_cell(env, "&P {{ number }}", values=False)
    assert evaluate({"number": "資料1&2"}) == "&P 資料1&&2"
    assert evaluate({"number": "資料1&2"}) == env.from_string("&P {{ number }}").render(
        number="資料1&2"
    )
