"""Method options, declared once: a frozen dataclass per method whose fields carry their
type, choices or range and a one-line help in metadata. ``parse_options`` checks a JSON
dict against it (the same one-line errors for every method), ``options_table`` renders the
docs table from it (``scripts/option_docs.py`` writes it; a test fails when docs drift).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence

from ..errors import UserError

_KINDS = ("int", "float", "bool", "str", "choice", "json")


def option(default: Any, help: str, kind: str, *, choices: Sequence[str] = (), lo: Optional[float] = None,
           hi: Optional[float] = None, nullable: bool = False, hi_open: bool = False) -> Any:
    """A dataclass field with its check: ``kind`` int | float | bool | str | choice | json (any
    JSON value the method checks itself); ``nullable``: None is allowed (often "derive it")."""
    assert kind in _KINDS
    meta = {"help": help, "kind": kind, "choices": tuple(choices), "lo": lo, "hi": hi,
            "nullable": nullable, "hi_open": hi_open}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _check(method: str, name: str, value: Any, m: dict) -> Any:
    def fail(expected: str):
        raise UserError(f"{method} option {name}={value!r}: expected {expected}")
    if value is None:
        if m["nullable"]:
            return None
        fail("a value, not null")
    kind = m["kind"]
    rng = f"[{m['lo']:g}, {m['hi']:g}{')' if m['hi_open'] else ']'}" if m["lo"] is not None else ""
    if kind == "bool":
        if not isinstance(value, bool):
            fail("true/false")
    elif kind == "choice":
        if value not in m["choices"]:
            raise UserError(f"{method} option {name}={value!r}: choose one of {', '.join(m['choices'])}")
    elif kind == "str":
        if not isinstance(value, str):
            fail("a string")
    elif kind in ("int", "float"):
        ok = isinstance(value, int) if kind == "int" else isinstance(value, (int, float)) and math.isfinite(value)
        if isinstance(value, bool) or not ok:
            fail(f"{'an integer' if kind == 'int' else 'a number'}" + (f" in {rng}" if rng else ""))
        if m["lo"] is not None and (value < m["lo"] or value > m["hi"] or (m["hi_open"] and value == m["hi"])):
            fail(f"{'an integer' if kind == 'int' else 'a number'} in {rng}")
        value = int(value) if kind == "int" else float(value)
    return value


def parse_options(cls: type, values: Optional[dict], method: str):
    """``cls(**values)`` after checking every value against its field's metadata; unknown keys
    are an error that lists the known ones."""
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"unknown {method} option(s) {unknown}; known: {', '.join(fields)}")
    checked = {k: _check(method, k, v, fields[k].metadata) for k, v in values.items()}
    return cls(**checked)


def _allowed(m: dict) -> str:
    if m["kind"] == "choice":
        text = " \\| ".join(f"`{c}`" for c in m["choices"])
    elif m["kind"] in ("int", "float") and m["lo"] is not None:
        text = f"{m['kind']} in [{m['lo']:g}, {m['hi']:g}{')' if m['hi_open'] else ']'}"
    else:
        text = {"bool": "true / false", "str": "string", "json": "JSON"}.get(m["kind"], m["kind"])
    return text + (" or null" if m["nullable"] else "")


def options_table(cls: type) -> str:
    """The markdown table of a method's options (name, default, allowed values, what it does)."""
    rows = ["| option | default | allowed | what it does |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown = "null" if default is None else str(default).lower() if isinstance(default, bool) else default
        rows.append(f"| `{f.name}` | `{shown}` | {_allowed(f.metadata)} | {f.metadata['help']} |")
    return "\n".join(rows)
