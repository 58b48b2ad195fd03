"""MLflow's search grammar: ``filter`` strings and ``order_by`` lists, evaluated in Python.

A filter is comparisons joined by ``AND``::

    metrics.acc > 0.9 AND params.optimizer = 'adam' AND tags.`mlflow.user` LIKE 'a%'
    attributes.run_id IN ('a1', 'b2') AND attributes.start_time >= 1700000000000

Entities: ``metrics.`` (``metric.``), ``params.`` (``param.``, ``parameter.``,
``parameters.``), ``tags.`` (``tag.``), ``attributes.`` (``attribute.``, ``attr.``,
``run.``, or no prefix). Comparators ``= != < <= > >= LIKE ILIKE IN NOT IN IS NULL
IS NOT NULL``. Keys with dots or spaces may be quoted with backticks or double quotes.
``OR``, parentheses and ``NOT`` are rejected with INVALID_PARAMETER_VALUE, as MLflow does.

The caller supplies a ``lookup(entity, key)`` returning the value (None when absent);
this module knows nothing about runs or experiments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from runtrack.server.mlflow._errors import bad_type, invalid

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "param", "tag", "attribute", "dataset"
_ENTITIES = {
    "metric": METRIC, "metrics": METRIC,
    "param": PARAM, "params": PARAM, "parameter": PARAM, "parameters": PARAM,
    "tag": TAG, "tags": TAG,
    "attribute": ATTRIBUTE, "attributes": ATTRIBUTE, "attr": ATTRIBUTE, "run": ATTRIBUTE,
    "dataset": DATASET, "datasets": DATASET,
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<bq>`[^`]*`)
    | (?P<dq>"(?:[^"\\]|\\.)*")
    | (?P<sq>'(?:[^'\\]|\\.)*')
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    | (?P<word>[\w.:/\-]+)
    )""",
    re.VERBOSE,
)
_NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
_STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"}


@dataclass(frozen=True)
class Clause:
    entity: str
    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class OrderKey:
    entity: str
    key: str
    descending: bool


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise invalid(f"invalid filter {text!r}: cannot parse near {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body) if token[0] != "`" else body


def _identifier(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[str, str, int]:
    kind, token = tokens[i]
    if kind in ("bq", "dq"):
        return ATTRIBUTE, _unquote(token), i + 1
    if kind != "word":
        raise invalid(f"invalid filter {text!r}: expected a key, got {token!r}")
    prefix, dot, rest = token.partition(".")
    entity = _ENTITIES.get(prefix.lower()) if dot else None
    if entity is None:
        return ATTRIBUTE, token, i + 1
    if rest:
        return entity, rest, i + 1
    if i + 1 < len(tokens) and tokens[i + 1][0] in ("bq", "dq"):
        return entity, _unquote(tokens[i + 1][1]), i + 2
    raise invalid(f"invalid filter {text!r}: {token!r} needs a key after the dot")


def _word(tokens: list[tuple[str, str]], i: int) -> str:
    return tokens[i][1].upper() if i < len(tokens) and tokens[i][0] == "word" else ""


def _comparator(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[str, int]:
    if i >= len(tokens):
        raise invalid(f"invalid filter {text!r}: a comparison is incomplete")
    kind, token = tokens[i]
    if kind == "op":
        return token, i + 1
    word = _word(tokens, i)
    if word in ("LIKE", "ILIKE", "IN"):
        return word, i + 1
    if word == "NOT" and _word(tokens, i + 1) == "IN":
        return "NOT IN", i + 2
    if word == "IS":
        if _word(tokens, i + 1) == "NULL":
            return "IS NULL", i + 2
        if _word(tokens, i + 1) == "NOT" and _word(tokens, i + 2) == "NULL":
            return "IS NOT NULL", i + 3
    raise invalid(f"invalid filter {text!r}: unknown comparator {token!r}")


def _value(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[Any, int]:
    if i >= len(tokens):
        raise invalid(f"invalid filter {text!r}: a comparison has no value")
    kind, token = tokens[i]
    if kind in ("sq", "dq"):
        return _unquote(token), i + 1
    if kind == "num":
        return float(token), i + 1
    if kind == "punct" and token == "(":
        items: list[Any] = []
        i += 1
        while i < len(tokens):
            kind, token = tokens[i]
            if kind == "punct" and token == ")":
                return tuple(items), i + 1
            if kind == "punct" and token == ",":
                i += 1
                continue
            if kind not in ("sq", "dq"):
                raise invalid(f"invalid filter {text!r}: IN lists hold quoted strings")
            items.append(_unquote(token))
            i += 1
        raise invalid(f"invalid filter {text!r}: unclosed '('")
    raise invalid(f"invalid filter {text!r}: unexpected value {token!r}")


def _check(clause: Clause, numeric_attributes: set[str], text: str) -> None:
    entity, op, value = clause.entity, clause.op, clause.value
    if entity == DATASET:
        raise invalid(f"invalid filter {text!r}: dataset filters are not supported by runtrack")
    if entity == METRIC or (entity == ATTRIBUTE and clause.key in numeric_attributes):
        if op not in _NUMERIC_OPS or not isinstance(value, float):
            raise invalid(
                f"invalid filter {text!r}: {entity} {clause.key!r} takes one of "
                f"{sorted(_NUMERIC_OPS)} with a number"
            )
    elif entity in (PARAM, TAG):
        if op not in _STRING_OPS or (value is not None and not isinstance(value, str)):
            raise invalid(
                f"invalid filter {text!r}: {entity} {clause.key!r} takes one of "
                f"{sorted(_STRING_OPS)} with a quoted string"
            )
    elif op in ("IN", "NOT IN"):
        if not isinstance(value, tuple):
            raise invalid(f"invalid filter {text!r}: {op} needs a list such as ('a', 'b')")
    elif op not in ("=", "!=", "LIKE", "ILIKE") or not isinstance(value, str):
        raise invalid(
            f"invalid filter {text!r}: attribute {clause.key!r} takes = != LIKE ILIKE IN "
            "NOT IN with a quoted string"
        )


def parse_filter(
    text: str | None, attribute_aliases: dict[str, str], numeric_attributes: set[str]
) -> list[Clause]:
    """The comparisons of ``text`` (empty/None: no clause). Attribute keys are
    canonicalised through ``attribute_aliases``; unknown attributes are rejected."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while True:
        entity, key, i = _identifier(tokens, i, text)
        op, i = _comparator(tokens, i, text)
        value: Any = None
        if op not in ("IS NULL", "IS NOT NULL"):
            value, i = _value(tokens, i, text)
        if entity == ATTRIBUTE:
            canonical = attribute_aliases.get(key) or attribute_aliases.get(key.lower())
            if canonical is None:
                raise invalid(
                    f"invalid filter {text!r}: unknown attribute {key!r}; use one of "
                    f"{sorted(set(attribute_aliases.values()))}"
                )
            key = canonical
        clause = Clause(entity, key, op, value)
        _check(clause, numeric_attributes, text)
        clauses.append(clause)
        if i >= len(tokens):
            return clauses
        if _word(tokens, i) != "AND":
            raise invalid(
                f"invalid filter {text!r}: only AND joins comparisons (no OR, NOT or parentheses)"
            )
        i += 1


def _like(pattern: str, value: str, ignore_case: bool) -> bool:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(parts), value, flags) is not None


def compare(op: str, actual: Any, wanted: Any) -> bool:
    """One comparison; an absent value matches only ``IS NULL``."""
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False
    if isinstance(actual, float) and math.isnan(actual):
        return op == "!="
    if op == "=":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    if op == "LIKE":
        return _like(wanted, str(actual), False)
    if op == "ILIKE":
        return _like(wanted, str(actual), True)
    if op == "IN":
        return actual in wanted
    if op == "NOT IN":
        return actual not in wanted
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    return ops[op](actual, wanted)


def matches(clauses: Sequence[Clause], lookup: Callable[[str, str], Any]) -> bool:
    return all(compare(c.op, lookup(c.entity, c.key), c.value) for c in clauses)


def parse_order_by(items: Sequence[str], attribute_aliases: dict[str, str]) -> list[OrderKey]:
    """``["metrics.acc DESC", "params.lr"]`` as :class:`OrderKey` values."""
    keys: list[OrderKey] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise invalid(f"invalid order_by clause {item!r}")
        tokens = _tokens(item)
        entity, key, i = _identifier(tokens, 0, item)
        descending = False
        if i < len(tokens):
            direction = _word(tokens, i)
            if direction not in ("ASC", "DESC") or i + 1 != len(tokens):
                raise invalid(f"invalid order_by clause {item!r}: use '<key> [ASC|DESC]'")
            descending = direction == "DESC"
        if entity == ATTRIBUTE:
            canonical = attribute_aliases.get(key) or attribute_aliases.get(key.lower())
            if canonical is None:
                raise invalid(
                    f"invalid order_by clause {item!r}: unknown attribute {key!r}; use one of "
                    f"{sorted(set(attribute_aliases.values()))}"
                )
            key = canonical
        if entity == DATASET:
            raise invalid(f"invalid order_by clause {item!r}: cannot order by datasets")
        if (entity, key) in seen:
            raise invalid(f"invalid order_by: {item!r} repeats a key")
        seen.add((entity, key))
        keys.append(OrderKey(entity, key, descending))
    return keys


T = TypeVar("T")


def ordered(
    items: list[T], keys: Sequence[OrderKey], lookup: Callable[[T, str, str], Any]
) -> list[T]:
    """``items`` sorted by ``keys`` left to right; absent (and NaN) values sort last
    in both directions."""
    result = list(items)
    for key in reversed(keys):
        present, absent = [], []
        for item in result:
            value = lookup(item, key.entity, key.key)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                absent.append(item)
            else:
                present.append((value, item))
        present.sort(key=lambda pair: pair[0], reverse=key.descending)
        result = [item for _, item in present] + absent
    return result


def page(items: list[T], token: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of ``items`` from an opaque offset token, and the next token (None at
    the end)."""
    start = decode_token(token)
    end = start + size
    return items[start:end], (encode_token(end) if end < len(items) else None)


def encode_token(offset: int) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    import base64
    import json

    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except Exception:
        raise invalid(f"invalid page_token {token!r}; pass back the token you were given") from None


_VIEW_TYPES = {"ACTIVE_ONLY": (False,), "DELETED_ONLY": (True,), "ALL": (False, True),
               "1": (False,), "2": (True,), "3": (False, True)}


#: MLflow's largest page of a search.
MAX_SEARCH_RESULTS = 50_000


def page_size(args: Any) -> int:
    """``max_results`` of a search request (default 1000, at most 50,000)."""
    size = int(args.integer("max_results", default=1000))
    if size > MAX_SEARCH_RESULTS:
        raise bad_type("max_results", size)
    if size <= 0:
        raise invalid(
            f"Invalid value {size} for parameter 'max_results' supplied. It must be "
            "a positive integer"
        )
    return size


def view_type(args: Any, field: str) -> tuple[bool, ...]:
    """Which deleted flags a search's ``view_type`` field (ACTIVE_ONLY, DELETED_ONLY, ALL
    or their numbers) admits."""
    view = _VIEW_TYPES.get(args.enum(field, default="ACTIVE_ONLY").upper())
    if view is None:
        raise invalid(f"unknown {field} {args.enum(field)!r}; use ACTIVE_ONLY, DELETED_ONLY or ALL")
    return view
