"""The documentation lists the whole API, its code runs, and it builds cleanly.

The build runs Sphinx with warnings as errors, so a broken docstring, a broken
cross-reference or an example that raises fails the test. sphinx-gallery executes
every ``examples/plot_*.py`` during the build.
"""

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import geneperm_sk

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOCS_PACKAGES = (
    "sphinx",
    "numpydoc",
    "sphinx_gallery",
    "pydata_sphinx_theme",
    "myst_parser",
    "matplotlib",
    "pandas",
)
# A directive such as ".. autosummary::" and its indented options and entries.
_AUTOSUMMARY = re.compile(
    r"^\.\. autosummary::[^\n]*\n((?:[ \t]+[^\n]*\n|[ \t]*\n)*)", re.M
)
_DATA = re.compile(r"^\.\. (?:py:)?data:: +(\S+)", re.M)


def api_reference_names(text):
    """The names listed in autosummary blocks and ``data`` directives of api.rst."""
    names = set(_DATA.findall(text))
    for block in _AUTOSUMMARY.findall(text):
        for line in block.splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                names.add(entry.lstrip("~").removeprefix("geneperm_sk."))
    return names


def test_api_reference_parser():
    text = (
        "Title\n\n.. autosummary::\n   :toctree: generated/\n   :nosignatures:\n\n"
        "   make_geneperm\n   ~geneperm_sk.bayes_accuracy\n\nProse naming Other.\n\n"
        ".. data:: __version__\n\n   The version.\n"
    )
    assert api_reference_names(text) == {
        "make_geneperm",
        "bayes_accuracy",
        "__version__",
    }


def test_api_reference_lists_every_public_name():
    listed = api_reference_names((DOCS / "api.rst").read_text(encoding="utf-8"))
    missing = sorted(set(geneperm_sk.__all__) - listed)
    assert not missing, (
        f"docs/api.rst does not list {missing} from geneperm_sk.__all__: add each "
        "to an autosummary block of docs/api.rst"
    )
    unknown = sorted(listed - set(geneperm_sk.__all__))
    assert not unknown, (
        f"docs/api.rst lists {unknown}, which are not in geneperm_sk.__all__"
    )


PAGES_WITH_CODE = sorted(
    path
    for path in DOCS.rglob("*.rst")
    if "_build" not in path.parts and ">>>" in path.read_text(encoding="utf-8")
)


def test_pages_with_code_are_found():
    assert DOCS / "index.rst" in PAGES_WITH_CODE


@pytest.mark.parametrize(
    "page", PAGES_WITH_CODE, ids=lambda path: str(path.relative_to(DOCS))
)
def test_interactive_code_of_the_pages_runs(page):
    """The ``>>>`` sessions of the user guide print what the pages say."""
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} examples of {page.name} failed"


def _problems(log):
    """The warnings and errors of a Sphinx log, with their details: numpydoc's
    check codes ("  PR01: ...") and the tracebacks of failing examples."""
    problems, current = [], None
    for line in log.splitlines():
        if "WARNING" in line or "ERROR" in line or "Error" in line:
            current = [line]
            problems.append(current)
        elif current is not None and re.match(r"(  [A-Z]{2}\d\d: |    )", line):
            current.append(line)
        else:
            current = None
    return ["\n".join(problem) for problem in problems]


def test_docs_build_with_warnings_as_errors(tmp_path):
    # The test extra includes the docs extra: a missing package fails here.
    for name in DOCS_PACKAGES:
        importlib.import_module(name)
    output = tmp_path / "html"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        # A fresh environment, and every example executed even when
        # docs/auto_examples holds results of an earlier build.
        "-E",
        "-d",
        str(tmp_path / "doctrees"),
        "-D",
        "sphinx_gallery_conf.run_stale_examples=1",
        str(DOCS),
        str(output),
    ]
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = completed.stdout + completed.stderr
    report = ["the docs build failed; its warnings and errors:", *_problems(log)]
    assert completed.returncode == 0, "\n".join([*report, log[-3000:]])
    for page in (
        "index.html",
        "api.html",
        "generated/geneperm_sk.AbsMeanClassifier.html",
        "user_guide/problem.html",
        "user_guide/performance.html",
        "changelog.html",
    ):
        assert (output / page).is_file(), page
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert examples
    for example in examples:
        assert (output / "auto_examples" / f"{example.stem}.html").is_file()
    api_page = (output / "api.html").read_text(encoding="utf-8")
    for name in geneperm_sk.__all__:
        assert name in api_page, name
