"""The benchmark's smoke mode: it runs and reports what it measured."""

import re

from codegen.bench import main
from conftest import ROOT


def test_quick_benchmark_writes_a_report(tmp_path):
    output = tmp_path / "benchmarks.md"
    assert (
        main(
            [
                "--root",
                str(ROOT),
                "--quick",
                "--only",
                "sigmoid",
                "softmax",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    text = output.read_text()
    rows = [line for line in text.splitlines() if line.startswith(("| sigmoid", "| softmax"))]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(re.fullmatch(r"\d+\.\d\d", c) for c in cells[2:6]), row  # four time ratios
        assert cells[-1].startswith("1 / ")  # one array kept by ours
    assert "import generated after jax" in text
