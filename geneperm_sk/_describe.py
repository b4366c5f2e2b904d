"""A study's fingerprint: JSON-ready descriptions of parameter values that are
equal in two runs exactly when the values are.

Estimators are described by class and the parameters they set away from their
defaults (as scikit-learn prints them), so that a library release that adds or
renames a default parameter describes the same estimator alike; functions by name
and by a
digest of their code, defaults and captured values, other objects by their
attributes. What cannot be described that way (an object whose state is hidden
from Python, a function without code) is reported, so that a study which cannot
be told apart from another is not resumed silently.
"""

import hashlib
import inspect
import json
import re
import struct
import types
from numbers import Integral, Real

import numpy as np

__all__ = ["describe"]

_MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_DEPTH = 12
_PLAIN = (type(None), bool, int, float, str)


def describe(value, where):
    """Describe ``value``.

    Parameters
    ----------
    value : object
        A parameter value.

    where : str
        The value's name in messages, such as ``"scoring"``.

    Returns
    -------
    description : JSON-ready value
        Equal for equal values in every run of the same Python and libraries.

    opaque : list of str
        The parts of ``value`` whose description could be the same for different
        values, each as ``"<where>: <what>"``; empty when there is none.
    """
    opaque = []
    return _describe(value, where, opaque, 0, set()), opaque


def _path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(value, where, opaque, depth, seen):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        value = float(value)
        return value if np.isfinite(value) else repr(value)  # JSON has no NaN
    if isinstance(value, np.generic):
        return _describe(value.item(), where, opaque, depth, seen)
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if depth > _MAX_DEPTH or id(value) in seen:
        opaque.append(f"{where}: {type(value).__name__} nested too deeply")
        return {"class": _path(type(value)), "opaque": True}
    seen = seen | {id(value)}

    def inner(item, suffix):
        return _describe(item, f"{where}{suffix}", opaque, depth + 1, seen)

    def attributes(mapping):
        return {str(key): inner(item, f".{key}") for key, item in mapping.items()}

    if isinstance(value, (list, tuple)):
        return [inner(item, f"[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {str(key): inner(item, f"[{key!r}]") for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [inner(item, "{}") for item in value]
        return {"set": sorted(items, key=json.dumps)}
    if isinstance(value, np.ndarray):
        return {"array": inner(value.tolist(), ""), "dtype": str(value.dtype)}
    if isinstance(value, type):
        return _path(value)
    if isinstance(value, types.ModuleType):
        return {"module": value.__name__}
    if isinstance(value, np.random.RandomState):
        return {"class": _path(type(value)), "state": _digest(value.get_state())}
    if isinstance(value, np.random.Generator):
        return {
            "class": _path(type(value)),
            "state": _digest(value.bit_generator.state),
        }
    if callable(getattr(value, "get_params", None)):
        try:
            params = value.get_params(deep=False)
        except TypeError:
            params = None
        if params is not None:
            return {
                "class": _path(type(value)),
                "params": attributes(_changed_params(value, params)),
            }
    if isinstance(value, types.MethodType):
        return {
            "method": inner(value.__func__, ".__func__"),
            "of": inner(value.__self__, ".__self__"),
        }
    if isinstance(value, types.FunctionType):
        return _describe_function(value, inner)
    if inspect.isroutine(value):
        # Built-in functions have no code to read: their name, within the
        # versions of their libraries, says what they do.
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if module and qualname:
            return f"{module}.{qualname}"
        opaque.append(f"{where}: {value!r} has no module-level name")
        return {"class": _path(type(value)), "opaque": True}
    if _has_hidden_state(type(value)):
        # Part of the state may live in C: describe what pickling would keep.
        try:
            reduced = value.__reduce_ex__(4)
        except Exception:  # not picklable: nothing shows the state
            reduced = None
        if isinstance(reduced, tuple) and len(reduced) >= 2:
            return {"class": _path(type(value)), "reduce": inner(reduced[1:3], ".")}
        opaque.append(
            f"{where}: a {_path(type(value))} whose state is hidden from Python"
        )
        return {"class": _path(type(value)), "opaque": True}
    state = _state(value)
    if state is not None:
        return {"class": _path(type(value)), "state": attributes(state)}
    if type(value).__repr__ is object.__repr__:
        opaque.append(
            f"{where}: a {_path(type(value))} whose state is not in its attributes"
        )
        return {"class": _path(type(value)), "opaque": True}
    return {"class": _path(type(value)), "repr": _MEMORY_ADDRESS.sub("", repr(value))}


_POINTER = struct.calcsize("P")


def _changed_params(estimator, params):
    """The parameters whose values differ from the defaults of the class's
    ``__init__`` (by type and ``repr``, as scikit-learn's ``print_changed_only``
    compares them); parameters without a default are always kept."""
    init = type(estimator).__init__
    init = getattr(init, "deprecated_original", init)
    try:
        signature = inspect.signature(init)
    except (TypeError, ValueError):
        return params
    defaults = {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    changed = {}
    for name, value in params.items():
        if name in defaults:
            default = defaults[name]
            same = type(value) is type(default) and repr(value) == repr(default)
            if same or (value is default):
                continue
        changed[name] = value
    return changed


def _has_hidden_state(cls):
    """Whether instances of ``cls`` may keep state in C, out of their __dict__:
    whether a class among its bases makes instances larger than its slots and
    the pointers to ``__dict__`` and ``__weakref__`` take."""
    for base in cls.__mro__[:-1]:
        parent = base.__base__ or object
        slots = base.__dict__.get("__slots__", ())
        slots = (slots,) if isinstance(slots, str) else tuple(slots)
        if base.__basicsize__ - parent.__basicsize__ > _POINTER * (len(slots) + 2):
            return True
    return False


def _state(value):
    """An object's attributes, if it keeps its state in them."""
    state = getattr(value, "__dict__", None)
    if not isinstance(state, dict):
        slots = [
            name
            for cls in type(value).__mro__
            for name in getattr(cls, "__slots__", ())
            if hasattr(value, name)
        ]
        if not slots:
            return None
        state = {name: getattr(value, name) for name in slots}
    if type(value).__repr__ is not object.__repr__ and not state:
        return None
    return dict(sorted(state.items()))


def _describe_function(function, inner):
    """A function by name and by a digest of what decides its result: its code,
    defaults, captured values and the plain global values it reads."""
    code = function.__code__
    captured = [
        cell.cell_contents if _cell_filled(cell) else None
        for cell in function.__closure__ or ()
    ]
    global_values = {
        name: function.__globals__[name]
        for name in _global_names(code)
        if name in function.__globals__
        and isinstance(function.__globals__[name], _PLAIN)
    }
    parts = {
        "code": _code_digest(code),
        "defaults": inner(function.__defaults__, ".__defaults__"),
        "kwdefaults": inner(function.__kwdefaults__, ".__kwdefaults__"),
        "closure": inner(captured, ".__closure__"),
        "globals": global_values,
    }
    return {
        "function": f"{function.__module__}.{function.__qualname__}",
        "digest": _digest(parts),
    }


def _cell_filled(cell):
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(_global_names(const))
    return sorted(names)


def _code_digest(code):
    consts = [
        _code_digest(const) if isinstance(const, types.CodeType) else repr(const)
        for const in code.co_consts
    ]
    return _digest(
        {
            "bytecode": code.co_code.hex(),
            "consts": consts,
            "names": list(code.co_names),
            "varnames": list(code.co_varnames),
        }
    )


def _digest(value):
    text = json.dumps(value, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _json_default(value):
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "values": value.tolist()}
    if isinstance(value, np.generic):
        return value.item()
    return _MEMORY_ADDRESS.sub("", repr(value))
