"""Link the public names of the changelog to their API pages.

``CHANGELOG.md`` stays plain Markdown, readable as it is: names are code spans
such as ```AbsMeanClassifier.save(path)``` or ```show_versions()```. When the page
is built, each code span that starts with a public name of ``geneperm_sk`` (an
attribute or method after a dot, a call after it) becomes a link to that name,
as the ``:class:`` and ``:func:`` roles would make it; so do the few
scikit-learn names of ``OTHER_PROJECTS``. A name that does not exist fails the
nitpicky build like any other broken reference.
"""

import re

from docutils import nodes
from sphinx import addnodes

import geneperm_sk

# Names of other projects that the changelog writes without their module.
OTHER_PROJECTS = {
    "GridSearchCV": "sklearn.model_selection.GridSearchCV",
    "cross_val_score": "sklearn.model_selection.cross_val_score",
    "CalibratedClassifierCV": "sklearn.calibration.CalibratedClassifierCV",
    "check_estimator": "sklearn.utils.estimator_checks.check_estimator",
}

# A dotted name at the start of a code span, before any call parentheses.
_NAME = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\(.*\))?$")
PAGES = {"changelog"}


def public_target(text):
    """The full name a code span refers to (``geneperm_sk.`` or another
    project's), or None."""
    match = _NAME.match(text.strip())
    if match is None:
        return None
    name = match.group(1)
    if name in OTHER_PROJECTS:
        return OTHER_PROJECTS[name]
    if name.split(".")[0] not in geneperm_sk.__all__ or name == "__version__":
        return None
    return f"geneperm_sk.{name}"


def link_public_names(app, doctree):
    if app.env.docname not in PAGES:
        return
    for literal in list(doctree.findall(nodes.literal)):
        if isinstance(literal.parent, addnodes.pending_xref):
            continue
        target = public_target(literal.astext())
        if target is None:
            continue
        reference = addnodes.pending_xref(
            "",
            refdomain="py",
            reftype="obj",
            reftarget=target,
            refexplicit=True,
            refwarn=True,
            refdoc=app.env.docname,
        )
        literal.replace_self(reference)
        reference += literal


def setup(app):
    app.connect("doctree-read", link_public_names)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
