"""Sphinx configuration of the geneperm_sk documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The build and the built pages need no network: links to numpy, SciPy,
scikit-learn, PyTorch, skorch, pandas, joblib, Matplotlib and Dask go through
inventories kept in ``docs/_intersphinx`` (written by ``make_inventories.py``
there), and the formulas are rendered by a copy of MathJax in ``docs/_static``.
"""

import os
import re
import sys
from pathlib import Path

import torch

import geneperm_sk

DOCS = Path(__file__).resolve().parent

# The examples draw their figures with matplotlib's non-interactive backend.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- Project -----------------------------------------------------------------

project = "geneperm_sk"
author = "The geneperm_sk developers"
copyright = "The geneperm_sk developers"
release = geneperm_sk.__version__
version = re.match(r"\d+\.\d+", release).group(0)

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sphinx_copybutton",
    # docs/_ext: the public names of CHANGELOG.md link to their API pages.
    "changelog_links",
    # docs/_ext: the user guide's tables of the committed study records.
    "study_tables",
    # docs/_ext: the output blocks of the performance page in a smaller type.
    "benchmark_output",
]

templates_path = ["_templates"]
# The execution-times pages of earlier builds (see "write_computation_times").
exclude_patterns = ["_build", "sg_execution_times.rst", "**/sg_execution_times.rst"]
# Markdown is read only where an .rst page includes it (BENCHMARKS.md, CHANGELOG.md).
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
# Literal blocks without a language (the benchmark output) are plain text.
highlight_language = "text"

# -- Links to other projects, offline ---------------------------------------------

sys.path[:0] = [str(DOCS / "_intersphinx"), str(DOCS / "_ext")]
from make_inventories import INVENTORIES  # noqa: E402

# Each project's inventory is the small file in docs/_intersphinx, which points
# at the project's published pages; nothing is downloaded during the build.
intersphinx_mapping = {
    key: (base, str(DOCS / "_intersphinx" / f"{key}.inv"))
    for key, (_, base, _) in INVENTORIES.items()
}

# -- Formulas, offline ---------------------------------------------------------------

# MathJax 3.2.2 (es5/tex-svg.js from the npm package "mathjax", Apache-2.0, its
# LICENSE beside it): TeX input and SVG output in one file with no fonts to fetch.
mathjax_path = "mathjax/tex-svg.js"

# -- autodoc, autosummary and numpydoc ----------------------------------------

autosummary_generate = True
# Estimators show the methods they inherit from scikit-learn (score, get_params,
# ...); torch modules do not repeat torch.nn.Module's (see setup below).
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# "fit()" rather than "AbsMeanClassifier.fit()" in the page's table of contents.
toc_object_entries_show_parents = "hide"
# numpydoc lists class members through the autosummary templates instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# The names of other projects' types in parameter lists link to their pages;
# every other word of a type stays plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "RandomState": "numpy.random.RandomState",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "Line2D": "matplotlib.lines.Line2D",
    "AxesImage": "matplotlib.image.AxesImage",
    "Colorbar": "matplotlib.colorbar.Colorbar",
    "Colormap": "matplotlib.colors.Colormap",
    "DataFrame": "pandas.DataFrame",
    "Client": "distributed.Client",
} | {
    # numpydoc leaves a name that is its own alias unlinked; a role links it.
    name: f":obj:`{name}`"
    for name in (
        "numpy.dtype",
        "pandas.DataFrame",
        "torch.Tensor",
        "torch.device",
        "torch.nn.Linear",
        "torch.nn.Module",
        "torch.nn.Sequential",
        "skorch.NeuralNetBinaryClassifier",
        "distributed.Client",
    )
}
# Docstring checks: every public docstring needs a summary, documented
# parameters that match the signature, and well-formed sections.
numpydoc_validation_checks = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "PR01",  # parameter not documented
    "PR02",  # documented parameter not in the signature
    "PR03",  # parameters in the wrong order
    "SS01",  # no summary
}
# Methods generated by scikit-learn's metadata routing carry sklearn's docstrings.
numpydoc_validation_exclude = {r"\.set_\w+_request$"}

# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    # The gallery in reading order (docs/_ext/gallery_order.py).
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("geneperm_sk",),
    "backreferences_dir": "generated/backreferences",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "download_all_examples": False,
    "capture_repr": ("_repr_html_",),
    # The thumbnail of examples that draw no figure: a Gene-Perm block with its
    # overwritten column.
    "default_thumb_file": str(DOCS / "_static" / "gallery_thumb.png"),
    # The execution-times page loads its table scripts from other hosts.
    "write_computation_times": False,
}

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_css_files = ["geneperm.css"]
# The logo: a block of four balanced rows of +1 (dark) and -1 (light) whose third
# column (orange) has been overwritten with random signs.
html_logo = "_static/logo.svg"
html_favicon = "_static/logo.svg"
html_title = f"geneperm_sk {release}"
html_short_title = "geneperm_sk"
html_theme_options = {
    "navbar_align": "left",
    "logo": {"text": "geneperm_sk", "alt_text": "geneperm_sk - home"},
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # Only these pages have a right-hand table of contents; the examples and the
    # API pages get the full width for their code (patterns must not overlap).
    "secondary_sidebar_items": {
        pattern: ["page-toc", "sourcelink"]
        for pattern in ("index", "api", "glossary", "changelog", "user_guide/*")
    }
    # The benchmark output is wide (an exact name overrides the pattern above).
    | {"user_guide/performance": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}
# The front page and the changelog need no section navigation on the left.
html_sidebars = {"index": [], "changelog": []}
html_show_sourcelink = True
html_copy_source = True


# -- sphinx-copybutton -------------------------------------------------------------

# The copy button copies the code without its prompts and output: ">>> " and
# "... " in Python sessions, "$ " in shell sessions.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# -- Hooks -----------------------------------------------------------------------


def _skip_torch_module_members(app, what, name, obj, skip, options):
    """Leave out what a torch module inherits from torch.nn.Module unchanged."""
    if name in vars(torch.nn.Module) and getattr(torch.nn.Module, name) is obj:
        return True
    return None


# "name : type" lines of numpydoc sections, and names ending in an underscore
# inside the type, such as the fitted attribute in "(n_features_in_,)".
_PARAMETER_LINE = re.compile(r"^(\s*[*\w][\w, *]* : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=[\s,)\]}]|$)")


def _escape_trailing_underscores_in_types(app, what, name, obj, options, lines):
    """Keep shapes such as ``(n_features_in_,)`` in parameter types literal.

    In reStructuredText a word ending in an underscore is a link to a target of
    that name, so the scikit-learn spelling ``ndarray of shape (n_features_in_,)``
    would be a broken link. The underscore is escaped in the type part only,
    before numpydoc reads the docstring.
    """
    for index, line in enumerate(lines):
        match = _PARAMETER_LINE.match(line)
        if match:
            head, types = match.groups()
            lines[index] = head + _TRAILING_UNDERSCORE.sub(r"\1\\_", types)


def setup(app):
    app.connect("autodoc-skip-member", _skip_torch_module_members)
    # Before numpydoc (priority 500) turns the docstring into reStructuredText.
    app.connect(
        "autodoc-process-docstring", _escape_trailing_underscores_in_types, priority=100
    )
