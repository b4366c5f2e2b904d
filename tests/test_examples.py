"""Every example runs top to bottom as a plain script, without a display.

When the documentation tools are installed, tests/test_docs.py builds the gallery,
which executes every example (and fails on any error), so running them again here
would only double the cost: the scripts then run here only when the docs build
cannot.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))
DOCS_TOOLS = (
    "sphinx",
    "sphinx_gallery",
    "numpydoc",
    "pydata_sphinx_theme",
    "myst_parser",
)
GALLERY_RUNS_THE_EXAMPLES = all(
    importlib.util.find_spec(name) is not None for name in DOCS_TOOLS
)


def test_examples_are_found():
    assert len(EXAMPLES) >= 5


@pytest.mark.skipif(
    GALLERY_RUNS_THE_EXAMPLES,
    reason="tests/test_docs.py runs every example in the gallery build",
)
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script, tmp_path):
    # The test extra declares both: a missing one fails rather than skips.
    import matplotlib  # noqa: F401
    import pandas  # noqa: F401

    environment = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip(), "the example printed nothing"
