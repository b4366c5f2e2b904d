"""The package's every use of a private scikit-learn name, listed.

Private names can change in any 1.x release. Rather than vendor them, the package
lists them here: this test fails when a module imports one that is not listed, and
checks that each listed one is there in the scikit-learn installed. The suite runs
both at the declared floor (``.ci/floors``) and at the newest release (README's
test command), so every listed name is proved at both ends of the range.
"""

import ast
import importlib
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import geneperm_sk

PACKAGE = Path(geneperm_sk.__file__).parent

# module -> the private names the package imports from it. A module whose own
# path is private (sklearn.utils._param_validation) counts all its names.
PRIVATE_IMPORTS = {
    "sklearn.base": {"_fit_context"},
    "sklearn.utils._param_validation": {
        "HasMethods",
        "Interval",
        "InvalidParameterError",
        "StrOptions",
        "validate_params",
        "validate_parameter_constraints",
    },
    "sklearn.utils.validation": {"_check_feature_names_in"},
}
# Private methods of scikit-learn's base classes that the estimators override or
# call: parameter validation from ``_parameter_constraints``.
PRIVATE_METHODS = {BaseEstimator: {"_validate_params"}}


def _is_private(dotted):
    return any(part.startswith("_") for part in dotted.split("."))


def _private_sklearn_imports():
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("sklearn") and _is_private(alias.name):
                        found.setdefault(alias.name, set())
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                module = node.module or ""
                if not module.startswith("sklearn"):
                    continue
                names = {
                    alias.name
                    for alias in node.names
                    if _is_private(module) or alias.name.startswith("_")
                }
                if names:
                    found.setdefault(module, set()).update(names)
    return found


def test_every_private_sklearn_import_is_listed():
    found = _private_sklearn_imports()
    unlisted = {
        module: sorted(names - PRIVATE_IMPORTS.get(module, set()))
        for module, names in found.items()
        if names - PRIVATE_IMPORTS.get(module, set()) or module not in PRIVATE_IMPORTS
    }
    assert not unlisted, (
        f"private scikit-learn names imported but not listed: {unlisted}. List "
        "them in PRIVATE_IMPORTS (and run .ci/floors), or use a public name."
    )
    # The list holds nothing the package no longer uses, so that it stays honest.
    unused = {
        module: sorted(names - found.get(module, set()))
        for module, names in PRIVATE_IMPORTS.items()
        if names - found.get(module, set())
    }
    assert not unused, f"listed but no longer imported: {unused}"


@pytest.mark.parametrize(
    "module, name",
    [(module, name) for module, names in PRIVATE_IMPORTS.items() for name in names],
)
def test_each_listed_private_name_exists_in_this_scikit_learn(module, name):
    assert hasattr(importlib.import_module(module), name)


def test_each_private_method_used_exists_in_this_scikit_learn():
    for cls, names in PRIVATE_METHODS.items():
        for name in names:
            assert callable(getattr(cls, name, None)), f"{cls.__name__}.{name}"
