"""CQL2 filters, text and JSON, parsed into the pygeofilter tree that pygeoapi and the provider use.

OGC API - Features Part 3 names two filter languages, `cql2-text` and `cql2-json`;
pygeoapi 0.21 knows only its older names (`cql-text`, parsed as ECQL, and `cql-json`,
read from a POST body). Here all four are accepted:

- CQL2 text is parsed by `cql2` (cql2-rs, a complete CQL2 1.0 parser: `''` escapes,
  `BBOX(...)` literals, `S_*` functions, `IS NOT NULL` ...) into CQL2 JSON; text it
  cannot read is tried as ECQL, as pygeoapi 0.21 parsed it, so older queries keep
  working.
- CQL2 JSON goes to pygeofilter's CQL2 JSON reader, after three corrections where
  pygeofilter 0.4 follows an earlier CQL2 draft (see `_standard`).

pygeoapi then asks for the same filter again (`install` hands it `parse_any`), which
tells the two encodings apart by their first character: a CQL2 JSON filter is an object,
and no CQL2 or ECQL text starts with `{`.

Every mistake is a `FilterError` with a message for the person who wrote the filter.
cql2-rs is native code: a filter nested thousands deep overflows its stack and kills
the server process, so the nesting a filter can have is bounded before it is parsed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import cql2
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_pygeofilter_json
from pygeofilter.parsers.ecql import parse as parse_ecql

#: Part 3's names, and the pygeoapi 0.21 names they replace (kept for older clients).
TEXT = ("cql2-text", "cql-text")
JSON = ("cql2-json", "cql-json")
LANGUAGES = TEXT + JSON
#: What pygeoapi 0.21's own `filter-lang` check accepts for each language.
PYGEOAPI_NAME = {
    "cql2-text": None,  # pygeoapi's default, so the parameter is left out
    "cql-text": None,
    "cql2-json": "cql-json",
    "cql-json": "cql-json",
}

#: Operators, brackets and keywords a filter may hold. Far beyond a real query, and well
#: below the few thousand that overflow cql2-rs's stack and the ~250 levels at which
#: pygeoapi's copy of the parsed filter exceeds Python's recursion limit.
MAX_OPERATORS = 100

# Quoted strings and identifiers hold no structure; a minus sign before a digit is a sign.
_QUOTED = re.compile(r"'(?:[^']|'')*'?|\"[^\"]*\"?")
_STRUCTURE = re.compile(
    r"[()\[\]=<>+*/%^]|-(?![\d.])|\b(?:AND|OR|NOT|LIKE|BETWEEN|IN|IS|DIV)\b", re.IGNORECASE
)
# Identifiers are matched first so that the digits in `pct_aged_65_plus` are not numbers.
_NUMBER = re.compile(r"[A-Za-z_]\w*|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_INTEGER = re.compile(r"\d+")
_POSITION = re.compile(r"-->\s*(\d+):(\d+)")


class FilterError(ValueError):
    """A filter that cannot be read; the message says why, for the person who wrote it."""


def parse(text: str, language: str | None = None) -> ast.AstType:
    """The filter as a pygeofilter tree; `language` is the request's `filter-lang`."""
    if language is not None and language not in LANGUAGES:
        raise FilterError(
            f"filter-lang {language!r} is not supported; use one of {', '.join(LANGUAGES)}"
        )
    if language in JSON:
        return parse_json(text)
    if text.lstrip().startswith("{"):
        raise FilterError(
            "filter looks like CQL2 JSON; send it with filter-lang=cql2-json "
            "(the default filter-lang is cql2-text)"
        )
    return parse_text(text)


def parse_any(text: str) -> ast.AstType:
    """pygeoapi's entry point: CQL2 JSON if the filter is an object, CQL2 text otherwise."""
    return parse_json(text) if text.lstrip().startswith("{") else parse_text(text)


def parse_text(text: str) -> ast.AstType:
    """CQL2 text (through cql2-rs), or the ECQL pygeoapi 0.21 accepted."""
    operators = len(_STRUCTURE.findall(_QUOTED.sub("''", text)))
    if operators > MAX_OPERATORS:
        raise FilterError(
            f"filter has {operators} operators and brackets; at most {MAX_OPERATORS} are allowed"
        )
    try:
        return _standard(_exact_numbers(text, cql2.parse_text(text).to_json()))
    except Exception as error:  # cql2's ParseError, pygeofilter's KeyError/ValueError, depth
        reason = _reason(error)
    try:
        return parse_ecql(text)
    except Exception:  # lark raises many kinds; any of them means "not ECQL either"
        raise FilterError(f"filter is not valid CQL2 text: {reason}") from None


def _exact_numbers(text: str, document: Any) -> Any:
    """cql2-rs's JSON with each number as Python reads it from the text.

    cql2-rs 0.6 reads some 17-digit numbers one unit in the last place off (e.g.
    -1.6047009876925757 as ...755), so S_TOUCHES or S_EQUALS with coordinates copied
    from the data would miss. Numbers keep the order they are written in, so they are
    replaced one for one; if the two lists do not pair up, cql2-rs's values stand.
    """
    written = [m["number"] for m in _NUMBER.finditer(_QUOTED.sub(" ", text)) if m["number"]]
    slots: list[tuple[list[Any], int]] = []

    def walk(node: Any) -> None:  # depth is bounded by MAX_OPERATORS, checked before
        children = node.values() if isinstance(node, dict) else node
        for index, child in enumerate(children):
            if isinstance(child, dict | list):
                walk(child)
            elif (
                isinstance(node, list)
                and isinstance(child, int | float)
                and not isinstance(child, bool)
            ):
                slots.append((node, index))

    walk(document)
    if len(written) != len(slots):
        return document
    exact = [float(number) for number in written]
    if not all(
        math.isclose(abs(c[i]), e, rel_tol=1e-12) for (c, i), e in zip(slots, exact, strict=True)
    ):
        return document
    for (container, index), number, value in zip(slots, written, exact, strict=True):
        whole = value.is_integer() and _INTEGER.fullmatch(number)
        container[index] = (
            math.copysign(value, container[index])
            if not whole
            else (int(value) if container[index] >= 0 else -int(value))
        )
    return document


def parse_json(text: str | bytes) -> ast.AstType:
    """CQL2 JSON, from the `filter` parameter or a POST body."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FilterError(f"filter is not valid JSON: {error}") from None
    if not isinstance(document, dict | bool):
        raise FilterError('a CQL2 JSON filter is an object, e.g. {"op": "=", "args": [...]}')
    _check_size(document)
    try:
        return _standard(document)
    except FilterError:
        raise
    except Exception as error:  # pygeofilter raises KeyError, TypeError, ValueError ...
        raise FilterError(f"filter is not valid CQL2 JSON: {_reason(error)}") from None


def _check_size(document: Any) -> None:
    """Bound the operators in a JSON filter without recursion (the document may be deep)."""
    operators, stack = 0, [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            operators += "op" in node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        if operators > MAX_OPERATORS:
            raise FilterError(f"filter has more than {MAX_OPERATORS} operators")


def _standard(document: Any) -> ast.AstType:
    """pygeofilter's tree for a CQL2 1.0 JSON document.

    pygeofilter 0.4's CQL2 JSON reader follows an earlier draft in three places, so
    those nodes are built here and handed to it ready-made (it passes tree nodes through):
    - BETWEEN: CQL2 1.0 writes `[value, low, high]`; the draft wrote `[value, [low, high]]`;
    - a `{"bbox": [minx, miny, maxx, maxy]}` literal: pygeofilter reads it as
      `Envelope(minx, miny, ...)` but Envelope's fields are (minx, maxx, miny, maxy);
    - LIKE: CQL2's single-character wildcard is `_`; pygeofilter uses `.`, so a `.` in a
      pattern would match anything and `_` only itself.
    Hand-written because no library does this translation; each case is tested.
    """
    if isinstance(document, list):
        return [_standard(item) for item in document]
    if not isinstance(document, dict):
        return document
    if "bbox" in document and "op" not in document:
        box = document["bbox"]
        if not isinstance(box, list) or len(box) not in (4, 6):
            raise FilterError("a bbox literal needs 4 or 6 numbers")
        half = len(box) // 2
        return values.Envelope(box[0], box[half], box[1], box[half + 1])
    op, args = document.get("op"), document.get("args")
    if op == "between" and isinstance(args, list) and len(args) == 3:
        document = {"op": "between", "args": [args[0], [args[1], args[2]]]}
    elif op == "like" and isinstance(args, list) and len(args) == 2:
        if not isinstance(args[1], str):
            raise FilterError("LIKE takes a plain text pattern")
        value = parse_pygeofilter_json(_standard(args[0]))
        return ast.Like(value, args[1], False, "%", "_", "\\", False)
    if op is None and "args" not in document:
        return parse_pygeofilter_json(document)  # a property, geometry, date, interval ...
    return parse_pygeofilter_json(
        {key: _standard(value) if key == "args" else value for key, value in document.items()}
    )


def _reason(error: BaseException) -> str:
    """A one-line reason from a parser's error (cql2-rs gives a multi-line pest report)."""
    message = str(error)
    position = _POSITION.search(message)
    expected = next(
        (line.split("=", 1)[1].strip() for line in message.splitlines() if "= expected" in line),
        None,
    )
    if position and expected:
        return f"at column {position.group(2)}, {expected}"
    return message.splitlines()[0] if message else type(error).__name__


#: How pygeoapi labels CRS84 geometries in a filter, and the same CRS as PostGIS knows it.
_CRS84 = "urn:ogc:def:crs:OGC::CRS84"
_EPSG4326 = "urn:ogc:def:crs:EPSG::4326"


def with_postgis_srids(tree: ast.AstType) -> ast.AstType:
    """The filter with CRS84 geometry literals labelled EPSG::4326.

    pygeoapi labels each geometry in a filter with the collection's storage CRS;
    pygeofilter's SQL backend (pygeoapi's PostgreSQL provider) takes the label's code as
    the PostGIS SRID, and `SRID=CRS84` is an SQL error, so every geometry filter on the
    PostGIS-served API was a 500. SRID 4326 is the same longitude/latitude in PostGIS;
    the in-memory provider ignores the label.
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, values.Geometry):
            crs = node.geometry.get("crs", {}).get("properties", {})
            if crs.get("name") == _CRS84:
                crs["name"] = _EPSG4326
        elif isinstance(node, ast.Node):
            stack.extend(node.get_sub_nodes())
        elif isinstance(node, list):
            stack.extend(node)
    return tree
