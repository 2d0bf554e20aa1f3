"""The README's Python examples run as written (a newcomer pastes them)."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    assert namespace["loss"].item() > 0 and (tmp_path / "spiral.safetensors").exists()
