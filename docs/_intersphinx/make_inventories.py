"""Write the intersphinx inventories the documentation links through.

The documentation builds without network access, so it cannot download the
``objects.inv`` files of numpy, scikit-learn and the others. Instead each
project gets a small inventory, written by this script, that lists only the
names these pages reference, each with its address in that project's published
documentation. Add a name to ``INVENTORIES`` when a page starts referring to
it (a nitpicky build, ``python -m sphinx -n ...``, lists the references that go
nowhere), then run ``python docs/_intersphinx/make_inventories.py``;
``tests/test_docs.py`` checks that the committed files match this script.

The files use Sphinx's inventory format, version 2: four header lines, then
zlib-compressed lines ``name domain:role priority address display-name``, where
an address ending in ``$`` stands for the address followed by the name.
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project key: (project name, base address, {role: {name: address relative to base}})
INVENTORIES = {
    "python": (
        "Python",
        "https://docs.python.org/3/",
        {
            # numpydoc links the builtin types of parameter lists to these.
            "py:class": {
                "int": "library/functions.html#$",
                "float": "library/functions.html#$",
                "str": "library/stdtypes.html#$",
                "dict": "library/stdtypes.html#$",
                "list": "library/stdtypes.html#$",
                "tuple": "library/stdtypes.html#$",
            },
            "py:data": {
                "None": "library/constants.html#$",
                "True": "library/constants.html#$",
                "False": "library/constants.html#$",
            },
            "py:function": {"callable": "library/functions.html#$"},
            # the label numpydoc links "bool" to; the page of the bool type
            "std:label": {"bltin-boolean-values": "library/functions.html#bool"},
            # the term numpydoc links "sequence" to (a sequence of bags)
            "std:term": {"sequence": "glossary.html#term-sequence"},
        },
    ),
    "numpy": (
        "NumPy",
        "https://numpy.org/doc/stable/",
        {
            "py:class": {
                "numpy.ndarray": "reference/generated/numpy.ndarray.html#$",
                "numpy.dtype": "reference/generated/numpy.dtype.html#$",
                "numpy.random.RandomState": "reference/random/legacy.html#$",
                "numpy.random.Generator": "reference/random/generator.html#$",
                "numpy.random.SeedSequence": (
                    "reference/random/bit_generators/generated/"
                    "numpy.random.SeedSequence.html#$"
                ),
            },
            "std:term": {"array_like": "glossary.html#term-array_like"},
            "py:function": {
                "numpy.asarray": "reference/generated/numpy.asarray.html#$",
                "numpy.triu_indices": "reference/generated/numpy.triu_indices.html#$",
            },
        },
    ),
    "scipy": (
        "SciPy",
        "https://docs.scipy.org/doc/scipy/",
        {
            "py:function": {
                "scipy.linalg.eigh": "reference/generated/scipy.linalg.eigh.html#$",
            },
        },
    ),
    "sklearn": (
        "scikit-learn",
        "https://scikit-learn.org/stable/",
        {
            "py:class": {
                name: f"modules/generated/{name}.html#$"
                for name in (
                    "sklearn.base.BaseEstimator",
                    "sklearn.calibration.CalibratedClassifierCV",
                    "sklearn.base.ClassifierMixin",
                    "sklearn.decomposition.PCA",
                    "sklearn.exceptions.FitFailedWarning",
                    "sklearn.pipeline.Pipeline",
                    "sklearn.model_selection.GridSearchCV",
                    "sklearn.model_selection.ParameterGrid",
                    "sklearn.model_selection.StratifiedKFold",
                    "sklearn.linear_model.LogisticRegression",
                    "sklearn.preprocessing.PolynomialFeatures",
                    "sklearn.preprocessing.StandardScaler",
                    "sklearn.ensemble.RandomForestClassifier",
                    "sklearn.ensemble.HistGradientBoostingClassifier",
                    "sklearn.neural_network.MLPClassifier",
                    "sklearn.utils.metadata_routing.MetadataRequest",
                    "sklearn.utils.Bunch",
                )
            },
            "py:function": {
                name: f"modules/generated/{name}.html#$"
                for name in (
                    "sklearn.base.clone",
                    "sklearn.model_selection.cross_val_score",
                    "sklearn.model_selection.cross_validate",
                    "sklearn.model_selection.validation_curve",
                    "sklearn.set_config",
                    "sklearn.show_versions",
                    "sklearn.utils.estimator_checks.check_estimator",
                )
            },
        },
    ),
    "torch": (
        "PyTorch",
        "https://docs.pytorch.org/docs/stable/",
        {
            "py:class": {
                "torch.device": "tensor_attributes.html#$",
                "torch.dtype": "tensor_attributes.html#$",
                "torch.Tensor": "tensors.html#$",
                "torch.nn.Module": "generated/torch.nn.Module.html#$",
                "torch.nn.Linear": "generated/torch.nn.Linear.html#$",
                "torch.nn.Sequential": "generated/torch.nn.Sequential.html#$",
            },
            "py:function": {
                "torch.manual_seed": "generated/torch.manual_seed.html#$",
                "torch.set_num_threads": "generated/torch.set_num_threads.html#$",
            },
        },
    ),
    "skorch": (
        "skorch",
        "https://skorch.readthedocs.io/en/stable/",
        {
            "py:class": {
                # skorch documents its classes under their modules and exports
                # them at the top level; pages here use both spellings.
                "skorch.NeuralNet": "net.html#skorch.net.NeuralNet",
                "skorch.net.NeuralNet": "net.html#$",
                "skorch.NeuralNetBinaryClassifier": (
                    "classifier.html#skorch.classifier.NeuralNetBinaryClassifier"
                ),
                "skorch.classifier.NeuralNetBinaryClassifier": "classifier.html#$",
                "skorch.callbacks.EarlyStopping": "callbacks.html#$",
                "skorch.history.History": "history.html#$",
            },
        },
    ),
    "pandas": (
        "pandas",
        "https://pandas.pydata.org/docs/",
        {
            "py:class": {"pandas.DataFrame": "reference/api/pandas.DataFrame.html#$"},
            "py:function": {"pandas.read_csv": "reference/api/pandas.read_csv.html#$"},
        },
    ),
    "joblib": (
        "joblib",
        "https://joblib.readthedocs.io/en/stable/",
        {
            "py:class": {
                "joblib.Parallel": "generated/joblib.Parallel.html#$",
                "joblib.parallel_config": "generated/joblib.parallel_config.html#$",
            },
            "py:function": {
                # a class used as a context manager; pages call it a function
                "joblib.parallel_config": "generated/joblib.parallel_config.html#$",
            },
        },
    ),
    "matplotlib": (
        "Matplotlib",
        "https://matplotlib.org/stable/",
        {
            "py:class": {
                name: f"api/_as_gen/{name}.html#$"
                for name in (
                    "matplotlib.axes.Axes",
                    "matplotlib.figure.Figure",
                    "matplotlib.lines.Line2D",
                    "matplotlib.image.AxesImage",
                    "matplotlib.colors.Colormap",
                )
            }
            | {"matplotlib.colorbar.Colorbar": "api/colorbar_api.html#$"},
            "py:function": {
                "matplotlib.pyplot.subplots": (
                    "api/_as_gen/matplotlib.pyplot.subplots.html#$"
                ),
            },
        },
    ),
    "distributed": (
        "Dask.distributed",
        "https://distributed.dask.org/en/stable/",
        {
            "py:class": {
                "distributed.Client": "api.html#$",
                "distributed.LocalCluster": "api.html#$",
            },
        },
    ),
}


# Labels and terms rank below objects in Sphinx's searches, and labels carry the
# title of their section as the text of a link.
_PRIORITY = {"std:label": -1, "std:term": -1}
_PRIORITY = {
    role: _PRIORITY.get(role, 1)
    for role in ("py:class", "py:data", "py:function", "std:label", "std:term")
}
_DISPLAY = {"bltin-boolean-values": "Boolean Values", "array_like": "array_like"}


def inventory_bytes(project, entries):
    """The bytes of a version 2 inventory holding ``entries``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: stable\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [
        f"{name} {role} {_PRIORITY[role]} {address} {_DISPLAY.get(name, '-')}\n"
        for role, names in sorted(entries.items())
        for name, address in sorted(names.items())
    ]
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def base_address(key):
    """The address the inventory of project ``key`` is relative to."""
    return INVENTORIES[key][1]


def main():
    for key, (project, _, entries) in INVENTORIES.items():
        (HERE / f"{key}.inv").write_bytes(inventory_bytes(project, entries))


if __name__ == "__main__":
    main()
