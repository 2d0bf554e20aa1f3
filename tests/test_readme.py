"""The README tells the truth: every Python block runs on its own, as a newcomer pastes it, and
prints exactly the ```text block that follows it; every `gradkit ...` command it shows parses
with the real CLI (its sub-command and flags exist)."""

import contextlib
import io
import pathlib
import re
import shlex

import pytest

from gradkit import cli

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCK = re.compile(r"```python\n(.*?)```(?:\n+```text\n(.*?)```)?", re.S)
PYTHON_BLOCKS = [(m.group(1), m.group(2)) for m in BLOCK.finditer(TEXT)]


def _line_of(code):
    return TEXT[:TEXT.index(code)].count("\n") + 1


@pytest.mark.parametrize("code, expected", PYTHON_BLOCKS,
                         ids=[f"line{_line_of(c)}" for c, _ in PYTHON_BLOCKS])
def test_python_block_runs_alone_and_prints_what_the_readme_shows(code, expected, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md:{_line_of(code)}", "exec"), {"__name__": "__readme__"})
    if expected is not None:
        assert out.getvalue().rstrip() == expected.rstrip()


def test_the_readme_has_its_examples():
    assert len(PYTHON_BLOCKS) >= 5
    assert sum(expected is not None for _, expected in PYTHON_BLOCKS) >= 4


def _commands():
    for block in re.findall(r"```bash\n(.*?)```", TEXT, re.S):
        for line in block.splitlines():
            for part in line.split("#", 1)[0].split(";"):
                part = part.strip()
                if part.startswith(("gradkit ", ".venv/bin/gradkit ")):
                    yield part


COMMANDS = sorted(set(_commands()))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_cli_command_in_the_readme_parses(command):
    argv = shlex.split(command)[1:]
    parser = cli.build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on an unknown flag or sub-command
        assert stop.code == 0, f"`{command}` does not parse"


def test_the_readme_shows_the_cli():
    assert len(COMMANDS) >= 6
    assert "../shared" not in TEXT


def test_every_link_in_the_readme_points_into_the_repository():
    root = README.parent
    for target in re.findall(r"\]\(([^)#\s]+)", TEXT):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = (root / target).resolve()
        assert path.is_relative_to(root) and path.exists(), f"README links to {target}"
