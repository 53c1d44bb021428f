"""The README and docs/: every relative link and image resolves, anchors exist, README stays short,
every docs page is reachable from the README or docs/index.md. Fast, no network."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 160

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target may carry a "title" after a space
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^(https?:|mailto:)", re.I)


def md_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose_lines(text: str):
    """Yield (line number, line) outside fenced code blocks."""
    fence = None
    for i, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield i, line


def links(path: Path) -> list[tuple[int, str]]:
    out = []
    for i, line in _prose_lines(path.read_text(encoding="utf-8")):
        # code spans become a placeholder, so `[i](j)` in code is not a link but [`x`](y) still is
        line = INLINE_CODE.sub("code", line)
        out.extend((i, m.group(1)) for m in LINK.finditer(line))
    return out


def slugify(heading: str) -> str:
    """The usual markdown heading anchor: lower case, drop punctuation except '-' and '_', spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in _prose_lines(path.read_text(encoding="utf-8")):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = slugify(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_slugify_matches_github():
    assert slugify("The browser editor (`steergan ui`)") == "the-browser-editor-steergan-ui"
    assert slugify("Time to quality (issue #2): the bundled `rooms-stylegan2` baseline") == \
        "time-to-quality-issue-2-the-bundled-rooms-stylegan2-baseline"
    assert slugify("Three methods, one table: how local is a region edit?") == \
        "three-methods-one-table-how-local-is-a-region-edit"


def test_link_parser(tmp_path):
    sample = ("see [a](x.md#b), ![img](../p.png) and [`code`](y.md \"title\");\n"
              "`[not](a link)` [ext](https://example.invalid/)\n```\n[in](fence.md)\n```\n")
    p = tmp_path / "sample.md"
    p.write_text(sample, encoding="utf-8")
    assert [t for _, t in links(p)] == ["x.md#b", "../p.png", "y.md", "https://example.invalid/"]


def test_docs_exist():
    assert DOCS.is_dir()
    assert (DOCS / "index.md").is_file()
    assert len(list(DOCS.glob("*.md"))) >= 2


@pytest.mark.parametrize("path", md_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path):
    broken = []
    for line, target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{path.name}:{line}: {target} (no such file)")
            continue
        if anchor and dest.suffix == ".md" and anchor.lower() not in anchors(dest):
            broken.append(f"{path.name}:{line}: {target} (no heading #{anchor} in {dest.name})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_readme_is_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines (at most {MAX_README_LINES}); move text to docs/"


def test_every_docs_page_is_linked():
    linked = set()
    for src in (README, DOCS / "index.md"):
        for _, target in links(src):
            file_part = target.partition("#")[0]
            if file_part and not EXTERNAL.match(target):
                linked.add((src.parent / file_part).resolve())
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert not missing, f"docs pages linked from neither README.md nor docs/index.md: {missing}"


def test_method_option_tables_match_the_options_dataclasses():
    """Each method's option table in docs/ is generated from its options dataclass; rerun
    `.venv/bin/python scripts/option_docs.py` after changing an option."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "option_docs.py"), "--check"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_json_result_records_where_it_came_from():
    """Every JSON result says what made it: commit, torch, threads, machine and command
    (``_timing.report``, or ``bench/run.py``'s stamp on files a command wrote without one);
    files from before that carry a backfilled record that says what was not recorded."""
    import json
    for path in sorted((ROOT / "bench" / "results").glob("*.json")):
        res = json.loads(path.read_text())
        prov = res.get("provenance") or res.get("env")
        assert isinstance(prov, dict) and prov.get("command"), f"{path.name}: no provenance with a command"
        if prov.get("recorded") is False:
            assert prov.get("commit_last_changed") and "not recorded" in prov["note"], path.name
        else:
            assert {"commit", "torch", "threads", "cpu"} <= set(prov) or "env" in res, path.name


def test_every_bench_result_has_its_command():
    """Issue 15: every file in bench/results is written by an entry of bench/run.py's manifest (or
    listed as legacy, with why), and every manifest command names a script that exists."""
    import importlib.util
    import re
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    written = {w.rstrip("/") for e in run.MANIFEST.values() for w in e["writes"]}
    for path in sorted((ROOT / "bench" / "results").iterdir()):
        assert path.name in written or path.name in run.LEGACY, f"bench/results/{path.name}: no command in bench/run.py"
    assert not written & set(run.LEGACY), written & set(run.LEGACY)
    for name, e in run.MANIFEST.items():
        for cmd in e["commands"]:
            for script in re.findall(r"bench/[\w.]+\.(?:py|sh)", cmd):
                assert (ROOT / script).is_file(), f"{name}: {script} does not exist"
