"""The metric names a PromQL expression reads, from its syntax tree (not by guessing at text)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import promql_parser

# Grafana's variables are not PromQL: give each a value of the right kind before parsing.
_GRAFANA_DURATIONS = re.compile(r"\$\{?__(rate_interval|interval|range)\}?")
_GRAFANA_VARIABLES = re.compile(r"\$\{?(\w+)(:\w+)?\}?")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<query>.+),)?\s*\w+\s*\)\s*$")


def metric_names(expr: str) -> set[str]:
    expr = _GRAFANA_DURATIONS.sub("5m", expr)
    expr = _GRAFANA_VARIABLES.sub("grafana_variable", expr)
    return set(_names(promql_parser.parse(expr)))


def variable_query_names(query: str) -> set[str]:
    """A Grafana variable query, ``label_values(expr, label)``: the names ``expr`` reads."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        raise ValueError(f"not a label_values() query: {query!r}")
    return metric_names(match["query"]) if match["query"] else set()


def _names(node: Any) -> Iterator[str]:
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            yield node.name
        for matcher in node.matchers.matchers:
            if matcher.name == "__name__":
                if str(matcher.op) != "MatchOp.Equal":
                    raise ValueError(f"a metric name chosen by a regex cannot be checked: {node}")
                yield matcher.value
        return
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None:
            yield from _names(child)
    for arg in getattr(node, "args", None) or ():
        yield from _names(arg)
