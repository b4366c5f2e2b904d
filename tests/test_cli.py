import csv
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from geneperm_sk.__main__ import main

QUICK = ["--block-sizes", "1", "2", "--n-samples", "200", "--cv", "2"]


def test_main_prints_the_table_and_writes_csv_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    arguments = [*QUICK, "--estimators", "absmean", "logistic"]
    assert main([*arguments, "--output-dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "AbsMean" in printed and "LogisticRegression" in printed
    assert "Bayes-optimal" in printed and "0.875" in printed
    with open(tmp_path / "out" / "results.csv") as file:
        rows = list(csv.DictReader(file))
    assert [(row["estimator"], row["block_size"]) for row in rows] == [
        ("AbsMean", "1"),
        ("LogisticRegression", "1"),
        ("AbsMean", "2"),
        ("LogisticRegression", "2"),
    ]
    assert len(rows[0]["test_scores"].split()) == 2
    assert (tmp_path / "out" / "comparison.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--block-sizes", "0"], "--block-sizes: expected an integer >= 1, got 0"),
        (["--n-samples", "many"], "--n-samples: expected an integer, got 'many'"),
        (["--cv", "1"], "--cv: expected an integer >= 2, got 1"),
        (["--estimators", "svm"], "--estimators: invalid choice: 'svm'"),
        (["--n-columns", "3"], "'n_columns' parameter of make_geneperm must be even"),
        (["--n-table-rows", "2", "--block-sizes", "4"], "at most n_table_rows=2"),
    ],
)
def test_bad_arguments_get_argparse_errors(arguments, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "usage: geneperm-sk" in error
    assert message in error


def test_module_runs_as_a_command():
    completed = subprocess.run(
        [sys.executable, "-m", "geneperm_sk", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--block-sizes" in completed.stdout


def test_console_script_is_declared():
    scripts = entry_points(group="console_scripts")
    assert scripts["geneperm-sk"].value == "geneperm_sk.__main__:main"


def test_further_baselines_run(tmp_path, capsys):
    arguments = ["--block-sizes", "2", "--n-samples", "200", "--cv", "2"]
    main([*arguments, "--estimators", "hgb", "mlp", "--output-dir", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "HistGradientBoosting" in printed and "MLP" in printed
