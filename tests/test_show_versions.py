"""show_versions prints what a bug report needs."""

from importlib.metadata import PackageNotFoundError

import torch

import geneperm_sk
from geneperm_sk import _show_versions, show_versions


def test_show_versions_prints_python_library_dependencies_and_cuda(capsys):
    assert show_versions() is None
    out = capsys.readouterr().out
    for heading in ("System:", "Python dependencies:", "CUDA:"):
        assert heading in out
    assert "python: 3." in out
    assert f"geneperm_sk: {geneperm_sk.__version__}" in out
    for name in (
        "numpy",
        "scipy",
        "scikit-learn",
        "torch",
        "skorch",
        "tqdm",
        "pandas",
        "matplotlib",
        "dask",
        "distributed",
    ):
        assert f"{name}: " in out, name
    assert f"torch: {torch.__version__}" in out
    assert f"available: {torch.cuda.is_available()}" in out


def test_missing_optional_package_is_reported_not_installed(monkeypatch, capsys):
    real_version = _show_versions.version

    def version(name):
        if name == "distributed":
            raise PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(_show_versions, "version", version)
    show_versions()
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "distributed: not installed" in lines
    assert f"numpy: {real_version('numpy')}" in lines


def test_cuda_devices_are_named(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Card {index}")
    show_versions()
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "available: True" in lines
    assert "device 0: Card 0" in lines
    assert "device 1: Card 1" in lines


def test_show_versions_is_public():
    assert "show_versions" in geneperm_sk.__all__
