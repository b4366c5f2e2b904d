"""The documentation lists the whole API, its code runs, and it builds cleanly.

The build runs Sphinx with warnings as errors and in nitpicky mode, so a broken
docstring, a cross-reference that goes nowhere or an example that raises fails
the test. sphinx-gallery executes every ``examples/plot_*.py`` during the build.
The built pages must work offline: no page loads a script or a stylesheet from
another host.
"""

import doctest
import importlib
import io
import os
import posixpath
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
    "sphinx_copybutton",
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


@pytest.mark.parametrize("name", sorted(set(geneperm_sk.__all__) - {"__version__"}))
def test_public_docstrings_point_to_the_user_guide(name):
    """As scikit-learn's do: the nitpicky build checks that each label exists."""
    docstring = getattr(geneperm_sk, name).__doc__
    assert re.search(r"Read more in the :ref:`User Guide <\w+>`\.", docstring), (
        f"the docstring of {name} does not say 'Read more in the "
        ":ref:`User Guide <label>`.' with the label of its user guide section"
    )


PAGES_WITH_CODE = sorted(
    path
    for path in DOCS.rglob("*.rst")
    if "_build" not in path.parts and ">>>" in path.read_text(encoding="utf-8")
)


def test_pages_with_code_are_found():
    assert DOCS / "getting_started.rst" in PAGES_WITH_CODE


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


# The address of a script (<script src=...>) or of a linked file such as a
# stylesheet or an icon (<link href=...>) in a built page.
_LOADED = re.compile(
    r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']*)[\"']", re.I
)
_OTHER_HOST = re.compile(r"^\s*(?:https?:)?//", re.I)


def loads_from_other_hosts(html):
    """The addresses of scripts and linked files a page fetches from other hosts."""
    return [url for url in _LOADED.findall(html) if _OTHER_HOST.match(url)]


def test_loads_from_other_hosts_parser():
    html = (
        '<script defer="defer" src="https://cdn.example.org/tex.js"></script>\n'
        '<script src="../_static/mathjax/tex-svg.js?v=1"></script>\n'
        "<link rel='stylesheet' href='//fonts.example.com/a.css'/>\n"
        '<link rel="stylesheet" href="_static/theme.css" />\n'
        '<a href="https://numpy.org/doc/stable/">numpy</a>\n'
        '<script>let s = "https://not.loaded.example";</script>\n'
    )
    assert loads_from_other_hosts(html) == [
        "https://cdn.example.org/tex.js",
        "//fonts.example.com/a.css",
    ]


def test_inventories_match_their_script():
    """The committed intersphinx inventories are what make_inventories.py writes,
    each readable by Sphinx and pointing at published pages."""
    from sphinx.util.inventory import InventoryFile

    sys.path.insert(0, str(DOCS / "_intersphinx"))
    try:
        import make_inventories
    finally:
        sys.path.remove(str(DOCS / "_intersphinx"))
    for key, (project, base, entries) in make_inventories.INVENTORIES.items():
        path = DOCS / "_intersphinx" / f"{key}.inv"
        expected = make_inventories.inventory_bytes(project, entries)
        assert path.read_bytes() == expected, (
            f"{path.name} is stale: run python docs/_intersphinx/make_inventories.py"
        )
        if hasattr(InventoryFile, "loads"):  # Sphinx 8.2 and later
            inventory = InventoryFile.loads(expected, uri=base).data
        else:
            inventory = InventoryFile.load(io.BytesIO(expected), base, posixpath.join)
        names = {
            name: item for role in inventory.values() for name, item in role.items()
        }
        assert set(names) == {name for role in entries.values() for name in role}
        for name, item in names.items():
            uri = getattr(item, "uri", None) or item[2]
            assert uri.startswith(base) and "$" not in uri, (name, uri)


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
        # nitpicky: every cross-reference must resolve
        "-n",
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
        "getting_started.html",
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
    # Offline: every page renders its formulas, scripts and styles from the build.
    fetched = {
        str(page.relative_to(output)): urls
        for page in sorted(output.rglob("*.html"))
        if (urls := loads_from_other_hosts(page.read_text(encoding="utf-8")))
    }
    assert not fetched, f"pages that load files from other hosts: {fetched}"
    maths_page = (output / "user_guide" / "absmean.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-svg.js" in maths_page
    # The changelog's names link to the API reference.
    changelog = (output / "changelog.html").read_text(encoding="utf-8")
    for name in ("RowSecondMoments", "geneperm_study", "AbsMeanClassifier.save"):
        assert f'href="generated/geneperm_sk.{name.split(".")[0]}.html' in changelog
    # Names of other projects link to their documentation.
    assert "https://skorch.readthedocs.io/en/stable/classifier.html" in (
        output / "generated" / "geneperm_sk.AbsMeanClassifier.html"
    ).read_text(encoding="utf-8")
