"""Write each method's option table into its docs page, from the method's options dataclass.

    .venv/bin/python scripts/option_docs.py          # rewrite the tables
    .venv/bin/python scripts/option_docs.py --check  # exit 1 if a page is out of date (the test does this)

A table lives between ``<!-- options:NAME -->`` and ``<!-- /options:NAME -->`` in its page.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from steergan.methods import build_method, method_names
from steergan.methods.options import options_table

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"spatial": "docs/spatialgan.md", "link": "docs/linkgan.md", "semantic": "docs/semanticstylegan.md",
         "train": "docs/cli.md"}


def train_table() -> str:
    """``steergan train``'s options, from ``TrainOptions`` (the CLI builds its flags from the same fields)."""
    from dataclasses import MISSING, fields

    from steergan.train import TrainOptions
    rows = ["| flag | default | what it does |", "|---|---|---|"]
    for f in fields(TrainOptions):
        if f.metadata.get("cli") is False:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        shown = "required" if f.name in ("data", "out") else ("–" if default in (None, "", [], {}) else f"`{default}`")
        choices = f.metadata.get("choices")
        extra = f" One of {', '.join(f'`{c}`' for c in choices())}." if choices else ""
        text = (f.metadata.get("help", "") + extra).replace("|", "\\|")
        rows.append(f"| `{TrainOptions.flag(f.name)}` | {shown} | {text} |")
    return "\n".join(rows)


def blocks() -> dict[str, str]:
    """{method name: the generated block, markers included} for every method with options."""
    out = {}
    for name in method_names():
        cls = type(build_method(name, {"links": [{"region": {"box": [0, 0, 0.5, 1]}, "axes": 1}]}
                                if name == "link" else {}))
        if getattr(cls, "Options", None) is None:
            continue
        out[name] = (f"<!-- options:{name} -->\n*Generated from `{cls.Options.__name__}` by "
                     f"`scripts/option_docs.py`; do not edit by hand.*\n\n{options_table(cls.Options)}\n"
                     f"<!-- /options:{name} -->")
    out["train"] = ("<!-- options:train -->\n*Generated from `TrainOptions` by `scripts/option_docs.py`; do not "
                    f"edit by hand.*\n\n{train_table()}\n<!-- /options:train -->")
    return out


def update(check: bool) -> list[str]:
    stale = []
    for name, block in blocks().items():
        page = ROOT / PAGES[name]
        text = page.read_text()
        pattern = re.compile(rf"<!-- options:{name} -->.*?<!-- /options:{name} -->", re.S)
        if not pattern.search(text):
            stale.append(f"{PAGES[name]}: no <!-- options:{name} --> block")
            continue
        new = pattern.sub(lambda _: block, text)
        if new != text:
            stale.append(PAGES[name])
            if not check:
                page.write_text(new)
    return stale


if __name__ == "__main__":
    check = "--check" in sys.argv
    stale = update(check)
    if stale:
        print(("out of date: " if check else "rewrote: ") + ", ".join(stale))
    sys.exit(1 if check and stale else 0)
