"""The bad-input corpus (tests/bad_inputs/cases.yaml) through the countysim CLI.

Every case must end with exit status 2, a message naming the file and field, no
traceback, and no output folder left behind. The CLI's ``main`` is called in-process
(capturing stderr) so that the whole corpus runs in seconds; test_cli.py runs the same
paths in real subprocesses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from experiments.cli.main import main

HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))["cases"]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    files = {p.name for p in (HERE / "files").iterdir()}
    used = {a for c in CASES for a in c["args"] if a in files}
    assert len(used) >= 60, "most corpus files are used by some case"


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{' '.join(c['args'][:2])}" for i, c in enumerate(CASES)])
def test_bad_input_exits_2_with_a_clear_message(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(HERE / "files")
    out = tmp_path / "out"
    args = [a.replace("{out}", str(out)) for a in case["args"]]
    before = set(os.listdir(HERE / "files"))
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(args))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    for needle in case["expect"]:
        assert needle in err, f"{needle!r} not in: {err}"
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, "one paragraph"
    assert not out.exists(), "no output folder left behind"
    assert set(os.listdir(HERE / "files")) == before, "nothing written next to the inputs"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folders left"
