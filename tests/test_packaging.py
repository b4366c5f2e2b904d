"""The sdist and the wheel build, and the wheel works in a fresh environment."""

import os
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import geneperm_sk

ROOT = Path(__file__).resolve().parents[1]


def _run(command, **kwargs):
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=300, **kwargs
    )
    assert completed.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n"
        f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return completed.stdout


@pytest.fixture(scope="module")
def distributions(tmp_path_factory):
    """Build the sdist, then the wheel from the unpacked sdist (python -m build)."""
    # build and setuptools are in the test extra: a missing one fails here.
    import build  # noqa: F401
    import setuptools  # noqa: F401

    dist = tmp_path_factory.mktemp("dist")
    # Without build isolation: the build needs no network, only setuptools here.
    _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT],
        cwd=ROOT,
    )
    (sdist,) = dist.glob("geneperm_sk-*.tar.gz")
    (wheel,) = dist.glob("geneperm_sk-*-py3-none-any.whl")
    return sdist, wheel


def _package_modules():
    return sorted(path.name for path in (ROOT / "geneperm_sk").glob("*.py"))


def test_sdist_holds_sources_docs_examples_and_tests(distributions):
    sdist, _ = distributions
    with tarfile.open(sdist) as archive:
        prefix = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(prefix + "/") for name in archive.getnames()}
    expected = {
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "BENCHMARKS.md",
        "pyproject.toml",
        "docs/conf.py",
        "docs/api.rst",
        "docs/index.rst",
        "docs/comparison.png",
        "examples/README.txt",
        "tests/test_docs.py",
        *(f"geneperm_sk/{module}" for module in _package_modules()),
        *(f"examples/{path.name}" for path in (ROOT / "examples").glob("plot_*.py")),
    }
    assert not expected - names, f"missing from the sdist: {sorted(expected - names)}"
    generated = [
        name
        for name in names
        if name.startswith(("docs/_build", "docs/generated", "docs/auto_examples"))
        or "__pycache__" in name
    ]
    assert not generated, f"build outputs in the sdist: {generated[:10]}"


def test_wheel_holds_the_package_and_the_license(distributions):
    _, wheel = distributions
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata_text = archive.read(metadata).decode()
    assert {f"geneperm_sk/{module}" for module in _package_modules()} <= names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert f"Version: {geneperm_sk.__version__}" in metadata_text
    assert "License-Expression: BSD-3-Clause" in metadata_text
    assert not any(name.startswith(("tests/", "docs/", "examples/")) for name in names)


def test_wheel_installs_and_runs_in_a_fresh_environment(distributions, tmp_path):
    _, wheel = distributions
    venv = tmp_path / "venv"
    # The dependencies (torch is large) come from the environment running the
    # tests, whatever it is (a virtual environment, a system or a conda Python):
    # a .pth file puts its site-packages after the new environment's own, where
    # the wheel is installed. `--system-site-packages` would not do: from inside a
    # virtual environment it exposes the base interpreter's packages instead.
    _run([sys.executable, "-m", "venv", venv])
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    ).strip()
    dependencies = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        dependencies.append(site.getusersitepackages())
    (Path(purelib) / "_test_dependencies.pth").write_text(
        "".join(f"{path}\n" for path in dependencies)
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME")
    }
    work = tmp_path / "elsewhere"
    work.mkdir()
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "--disable-pip-version-check",
            "--quiet",
            wheel,
        ],
        cwd=work,
        env=environment,
    )
    names = ", ".join(name for name in geneperm_sk.__all__ if name != "__version__")
    check = (
        "import sys, geneperm_sk\n"
        f"from geneperm_sk import {names}\n"
        "print(geneperm_sk.__file__)\n"
        "print(geneperm_sk.__version__)\n"
        "print(sorted(geneperm_sk.__all__))\n"
    )
    lines = _run([python, "-c", check], cwd=work, env=environment).splitlines()
    location, version, public = lines[-3:]
    assert Path(location).resolve().is_relative_to(venv.resolve()), (
        f"imported {location}, not the wheel installed in {venv}"
    )
    assert version == geneperm_sk.__version__
    assert public == str(sorted(geneperm_sk.__all__))

    help_text = _run([python, "-m", "geneperm_sk", "--help"], cwd=work, env=environment)
    assert "usage: geneperm-sk" in help_text
    script = python.parent / ("geneperm-sk.exe" if os.name == "nt" else "geneperm-sk")
    assert "usage: geneperm-sk" in _run([script, "--help"], cwd=work, env=environment)
