"""A plain JSON file for fitted block classifiers: loading it runs no code.

A pickle runs whatever code it holds when loaded, so a model received from someone
else cannot be unpickled safely. The models of this library are a few hundred to a
few thousand numbers; this file holds them, the layout, the classes, the
hyperparameters and the library version as JSON, and reading it back checks every
field before anything is built from it.
"""

import json
import math
from pathlib import Path

import numpy as np

from ._atomic_file import write_atomically
from ._version import __version__

__all__ = ["read_model_file", "write_model_file"]

FORMAT_NAME = "geneperm_sk model"
FORMAT_VERSION = 1
# Larger files are refused before parsing: the models of this library take a few
# hundred kilobytes at most.
MAX_FILE_BYTES = 64 * 2**20
_PARAMETER_DTYPES = ("float32", "float64")


class _InvalidModelFile(ValueError):
    pass


def _fail(path, reason):
    raise _InvalidModelFile(f"{path} is not a valid {FORMAT_NAME} file: {reason}.")


def encode_labels(classes):
    """The class labels as a JSON list and the name of their kind."""
    kind = np.asarray(classes).dtype.kind
    if kind in "iu":
        return [int(label) for label in classes], "int"
    if kind == "b":
        return [bool(label) for label in classes], "bool"
    if kind == "f":
        return [float(label) for label in classes], "float"
    if kind in "UO" and all(isinstance(label, str) for label in classes):
        return [str(label) for label in classes], "str"
    raise TypeError(
        "Only models whose class labels are integers, booleans, floats or strings "
        f"can be saved; got the labels {list(classes)!r}."
    )


def write_model_file(path, content):
    """Write ``content`` (a dict of JSON values) as a model file, atomically.

    The file is written under a temporary name beside ``path`` and renamed over
    it only when complete, so an interrupted save never leaves half a file. The
    library version is recorded as ``library_version``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"Cannot save a model to {path}: it is a folder; give a file name such "
            "as model.json."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot save a model to {path}: the folder {path.parent} does not exist."
        )
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        **content,
    }
    write_atomically(path, json.dumps(payload, indent=1, allow_nan=False))


def read_model_file(path, estimator_name):
    """Read and check a model file written for ``estimator_name``.

    Returns the parsed dict; ``parameters`` entries are float ndarrays of the
    stored shape and dtype. Raises ValueError naming the file and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        _fail(path, f"it has {size} bytes, more than a model file can have")
    try:
        with open(path, encoding="utf-8") as file:
            content = json.load(file, parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        _fail(path, f"it is not JSON text ({error})")
    except _InvalidModelFile:
        _fail(path, "it holds NaN or infinite values")
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        _fail(path, f"it does not declare the format {FORMAT_NAME!r}")
    if content.get("format_version") != FORMAT_VERSION:
        _fail(
            path,
            f"its format version is {content.get('format_version')!r}; this version "
            f"of geneperm_sk reads version {FORMAT_VERSION}",
        )
    if content.get("estimator") != estimator_name:
        _fail(
            path,
            f"it holds a {content.get('estimator')!r}, not a {estimator_name!r}",
        )
    expected = {
        "format",
        "format_version",
        "estimator",
        "library_version",
        "hyperparameters",
        "layout",
        "classes",
        "class_kind",
        "feature_names_in",
        "parameters",
    }
    if set(content) != expected:
        _fail(
            path,
            f"it has the fields {sorted(content)}, expected exactly {sorted(expected)}",
        )
    if not isinstance(content["hyperparameters"], dict):
        _fail(path, "'hyperparameters' is not a mapping")
    layout = content["layout"]
    # block_size is null for a model fitted on bags of any size.
    if (
        not isinstance(layout, dict)
        or set(layout) != {"block_size", "n_columns"}
        or not _is_positive_int(layout["n_columns"])
        or not (layout["block_size"] is None or _is_positive_int(layout["block_size"]))
    ):
        _fail(
            path,
            "'layout' must hold positive n_columns and a positive or null "
            f"block_size: {layout!r}",
        )
    content["classes"] = _decode_labels(path, content["classes"], content["class_kind"])
    names = content["feature_names_in"]
    if names is not None and (
        not isinstance(names, list)
        or not all(isinstance(name, str) for name in names)
        or len(names) != (layout["block_size"] or 1) * layout["n_columns"]
    ):
        _fail(path, "'feature_names_in' must be null or one string per feature")
    content["parameters"] = _decode_parameters(path, content["parameters"])
    return content


def encode_parameters(state_dict):
    """A module's ``state_dict`` as JSON: shape, dtype and values of each tensor."""
    encoded = {}
    for name, tensor in state_dict.items():
        array = tensor.detach().cpu().numpy()
        encoded[name] = {
            "shape": list(array.shape),
            "dtype": str(array.dtype),
            # float32 values are exact in float64, and JSON floats round-trip it.
            "values": array.astype(np.float64).reshape(-1).tolist(),
        }
    return encoded


def _decode_parameters(path, parameters):
    if not isinstance(parameters, dict) or not parameters:
        _fail(path, "'parameters' must be a non-empty mapping of tensors")
    decoded = {}
    for name, entry in parameters.items():
        if not isinstance(entry, dict) or set(entry) != {"shape", "dtype", "values"}:
            _fail(path, f"parameter {name!r} must have a shape, a dtype and values")
        shape, dtype, values = entry["shape"], entry["dtype"], entry["values"]
        if not isinstance(shape, list) or not all(
            isinstance(size, int) and size >= 0 for size in shape
        ):
            _fail(path, f"parameter {name!r} has an invalid shape {shape!r}")
        if dtype not in _PARAMETER_DTYPES:
            _fail(path, f"parameter {name!r} has the unsupported dtype {dtype!r}")
        if not isinstance(values, list) or len(values) != math.prod(shape):
            _fail(path, f"parameter {name!r} does not hold {math.prod(shape)} values")
        if not all(
            isinstance(value, int | float) and not isinstance(value, bool)
            for value in values
        ):
            _fail(path, f"parameter {name!r} holds values that are not numbers")
        array = np.asarray(values, dtype=np.float64)
        if not np.isfinite(array).all():
            _fail(path, f"parameter {name!r} holds non-finite values")
        decoded[name] = array.astype(dtype).reshape(shape)
    return decoded


def _decode_labels(path, labels, kind):
    types = {"int": int, "bool": bool, "float": float, "str": str}
    if kind not in types:
        _fail(path, f"'class_kind' must be one of {sorted(types)}, got {kind!r}")
    if not isinstance(labels, list) or len(labels) != 2:
        _fail(path, f"'classes' must list the 2 class labels, got {labels!r}")
    expected = types[kind]
    for label in labels:
        is_kind = isinstance(label, expected) and (
            expected is bool or not isinstance(label, bool)
        )
        if kind == "float" and isinstance(label, int) and not isinstance(label, bool):
            is_kind = True
        if not is_kind:
            _fail(path, f"the class label {label!r} is not of kind {kind!r}")
    if labels[0] == labels[1] or sorted(labels) != labels:
        _fail(path, f"'classes' must be 2 distinct sorted labels, got {labels!r}")
    if kind == "str":
        return np.asarray(labels)
    return np.asarray(labels, dtype={"int": np.int64, "bool": bool}.get(kind, float))


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _reject_constant(name):
    raise _InvalidModelFile(f"a model file holds no {name} values")
