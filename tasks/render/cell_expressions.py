"""A template cell's Jinja text, compiled once and evaluated once per output cell.

The Excel 資料's cells follow two rules (see ``tasks.render.xlsx``): a cell that is one
``{{ … }}`` gives that expression's value (a number stays a number, None is empty); any other
text is rendered as a Jinja template, a string. Most cells only look something up
(``{{ row.summary }}``, ``{{ goal.counts[0] }}``, ``{{ rows_by_id[ind.initiative_id].no }}``,
``{{ row.grade }}{{ row.check }}``): those
are evaluated here with Jinja's own lookups (``Environment.getattr`` / ``getitem``, names
missing from the report are ``StrictUndefined``), without a Jinja context built per cell, which
was most of the time of 3,000 rows. Anything else (``{% if %}``, filters, arithmetic) is
Jinja's, compiled once per template cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Environment, Undefined, UndefinedError, nodes
from jinja2.parser import Parser

Scope = Mapping[str, Any]
Evaluate = Callable[[Scope], object]
Lookup = Callable[[Scope], Any]

_SINGLE_EXPRESSION = re.compile(r"^\{\{((?:(?!\}\}|\{\{).)*)\}\}$", re.S)
_DICT_NAMES = frozenset(dir(dict))
_MISSING = object()


def compile_cell(env: Environment, text: str, values: bool = True) -> Evaluate:
    """Return the evaluation of a cell's text in a scope.

    With ``values``, a text that is one expression gives its value (a number, else a string,
    None as ""); a ``|vmerge`` cell and every other text give the rendered string.
    """
    single = _SINGLE_EXPRESSION.match(text.strip()) if values else None
    if single and "|vmerge" not in single.group(1):
        return _value_of(env, single.group(1).strip())
    return _text_of(env, text)


def _value_of(env: Environment, source: str) -> Evaluate:
    lookup = _parsed_lookup(env, source)
    if lookup is None:
        expression = env.compile_expression(source, undefined_to_none=False)

        def lookup(scope: Scope) -> Any:
            return expression(**scope)

    def evaluate(scope: Scope) -> object:
        value = lookup(scope)
        if isinstance(value, Undefined):
            raise UndefinedError(f"{source} is not in the report")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return "" if value is None else str(value)

    return evaluate


def _parsed_lookup(env: Environment, source: str) -> Lookup | None:
    """Return a lookup for an expression that only names and subscripts, else None."""
    parser = Parser(env, source, state="variable")
    expression = parser.parse_expression()
    return _lookup(env, expression) if parser.stream.eos else None


def _text_of(env: Environment, text: str) -> Evaluate:
    parts = _template_parts(env, text)
    if parts is None:
        template = env.from_string(text)
        return lambda scope: template.render(scope)
    finalize = env.finalize

    def evaluate(scope: Scope) -> object:
        shown = []
        for literal, lookup in parts:
            if lookup is None:
                shown.append(literal)
            else:
                value = lookup(scope)
                shown.append(str(value if finalize is None else finalize(value)))
        return "".join(shown)

    return evaluate


def _template_parts(env: Environment, text: str) -> list[tuple[str, Lookup | None]] | None:
    """Return a template's text and lookups in order, or None when it does more than print."""
    parts: list[tuple[str, Lookup | None]] = []
    for statement in env.parse(text).body:
        if not isinstance(statement, nodes.Output):
            return None
        for child in statement.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append((child.data, None))  # as Jinja: literal text is never finalized
                continue
            lookup = _lookup(env, _unmerged(env, child))
            if lookup is None:
                return None
            parts.append(("", lookup))
    return parts


def _unmerged(env: Environment, node: nodes.Node) -> nodes.Node:
    """Return the node under an argument-less ``|vmerge`` (which prints its value as it is)."""
    if (
        isinstance(node, nodes.Filter)
        and node.name == "vmerge"
        and "vmerge" in env.filters
        and node.node is not None
        and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
    ):
        return node.node
    return node


def _lookup(env: Environment, node: nodes.Node) -> Lookup | None:
    """Return a name with attributes and subscripts (constant or looked up), or None."""
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return _name(env, node.name)
    if isinstance(node, nodes.Getattr) and node.ctx == "load":
        inner = _lookup(env, node.node)
        return None if inner is None else _attribute(env, inner, node.attr)
    if isinstance(node, nodes.Getitem) and node.ctx == "load":
        inner = _lookup(env, node.node)
        if inner is None:
            return None
        getitem = env.getitem
        if isinstance(node.arg, nodes.Const):
            key = node.arg.value
            return lambda scope: getitem(inner(scope), key)
        looked_up = _lookup(env, node.arg)  # rows_by_id[ind.initiative_id]
        if looked_up is None:
            return None
        return lambda scope: getitem(inner(scope), looked_up(scope))
    return None


def _name(env: Environment, name: str) -> Lookup:
    # As a Jinja template resolves a name: the scope, then the environment's globals.
    def resolve(scope: Scope) -> Any:
        value = scope.get(name, _MISSING)
        if value is _MISSING:
            value = env.globals.get(name, _MISSING)
        return env.undefined(name=name) if value is _MISSING else value

    return resolve


def _attribute(env: Environment, inner: Lookup, name: str) -> Lookup:
    getattr_ = env.getattr
    if name in _DICT_NAMES:
        return lambda scope: getattr_(inner(scope), name)

    def attribute(scope: Scope) -> Any:
        owner = inner(scope)
        # Jinja's getattr on a dict: not a dict attribute, so the item (when it is there).
        if type(owner) is dict:
            value = owner.get(name, _MISSING)
            if value is not _MISSING:
                return value
        return getattr_(owner, name)

    return attribute
