"""Print the versions of the library, its dependencies and the platform."""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from ._version import __version__

__all__ = ["show_versions"]

# Distribution names: what geneperm_sk needs, then what its extras use.
REQUIRED = ("numpy", "scipy", "scikit-learn", "torch", "skorch", "tqdm")
OPTIONAL = ("pandas", "matplotlib", "dask", "distributed")
NOT_INSTALLED = "not installed"


def _system_info():
    """Python, its executable and the platform, as an ordered dict."""
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _distribution_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return NOT_INSTALLED


def _dependencies_info():
    """The version of geneperm_sk and of each dependency, or "not installed"."""
    info = {"geneperm_sk": __version__}
    info.update((name, _distribution_version(name)) for name in REQUIRED + OPTIONAL)
    return info


def _cuda_info():
    """Whether PyTorch sees a CUDA device, and which ones."""
    try:
        import torch
    except ImportError:
        return {"available": "unknown (torch is not installed)"}
    info = {
        "available": str(torch.cuda.is_available()),
        "torch built with CUDA": str(torch.version.cuda),
    }
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            info[f"device {index}"] = torch.cuda.get_device_name(index)
    return info


def _print_section(title, info):
    print(f"\n{title}:")
    width = max(len(key) for key in info)
    for key, value in info.items():
        print(f"{key:>{width + 4}}: {value}")


def show_versions():
    """Print the versions of Python, geneperm_sk and its dependencies, and CUDA.

    Paste the output into a bug report: it lists the Python version and the
    platform, the versions of geneperm_sk, of its dependencies (numpy, scipy,
    scikit-learn, torch, skorch, tqdm) and of the optional packages its extras use
    (pandas, matplotlib, dask, distributed; "not installed" when missing), and
    whether PyTorch can use a CUDA device, with the name of each device.

    Read more in the :ref:`User Guide <getting_started>`.

    See Also
    --------
    sklearn.show_versions : The same report for scikit-learn.

    Examples
    --------
    >>> from geneperm_sk import show_versions
    >>> show_versions()  # doctest: +SKIP
    <BLANKLINE>
    System:
            python: 3.11.7 (main, ...) [GCC 12.2.0]
        executable: .../bin/python
           machine: Linux-6.1.0-x86_64-with-glibc2.36
    <BLANKLINE>
    Python dependencies:
       geneperm_sk: 0.1.0
             numpy: 2.4.6
    ...
    <BLANKLINE>
    CUDA:
                    available: False
        torch built with CUDA: None
    """
    _print_section("System", _system_info())
    _print_section("Python dependencies", _dependencies_info())
    _print_section("CUDA", _cuda_info())
