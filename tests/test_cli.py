import json
import os
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import distributed
import numpy as np
import pandas
import psutil  # a dependency of distributed, which the test extra declares
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_limits

import geneperm_sk._geneperm_recipe as recipe_module
import geneperm_sk._study as study_module
from geneperm_sk.__main__ import ESTIMATORS, main

QUICK = ["--block-sizes", "1", "2", "--n-samples", "200", "--cv", "2"]
STUDY = [
    "study",
    "--grid",
    "block_size=1,2",
    "n_samples=60,120",
    "n_columns=6",
    "--test-size",
    "300",
]


def read_csv(path):
    return pandas.read_csv(path)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any data are drawn."""

    def no_drawing(*args, **kwargs):
        raise AssertionError("data drawn before the arguments were checked")

    monkeypatch.setattr(recipe_module, "make_geneperm", no_drawing)


class BudgetClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; raises KeyboardInterrupt (as Ctrl-C does) once
    ``budget`` fits have been made in this process."""

    fits = 0
    budget = None
    lock = threading.Lock()

    def fit(self, X, y):
        cls = type(self)
        with cls.lock:
            if cls.budget is not None and cls.fits >= cls.budget:
                raise KeyboardInterrupt
            cls.fits += 1
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


@pytest.fixture
def budget(monkeypatch):
    monkeypatch.setitem(
        ESTIMATORS, "budget", ("Budget", lambda seed: BudgetClassifier())
    )
    BudgetClassifier.fits, BudgetClassifier.budget = 0, None
    yield BudgetClassifier
    BudgetClassifier.fits, BudgetClassifier.budget = 0, None


def test_main_prints_the_table_and_writes_csv_and_plot(tmp_path, capsys):
    arguments = [*QUICK, "--estimators", "absmean", "logistic"]
    assert main([*arguments, "--output-dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "AbsMean" in printed and "LogisticRegression" in printed
    assert "Bayes-optimal" in printed and "0.875" in printed
    rows = read_csv(tmp_path / "out" / "results.csv")
    assert list(zip(rows["estimator"], rows["block_size"], strict=True)) == [
        ("AbsMean", 1),
        ("LogisticRegression", 1),
        ("AbsMean", 2),
        ("LogisticRegression", 2),
    ]
    assert set(rows["n_samples"]) == {200} and set(rows["n_columns"]) == {20}
    assert len(json.loads(rows["test_scores"][0])) == 2
    assert (tmp_path / "out" / "comparison.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--block-sizes", "0"], "--block-sizes: expected an integer >= 1, got 0"),
        (["--n-samples", "many"], "--n-samples: expected an integer, got 'many'"),
        (["--cv", "1"], "--cv: expected an integer >= 2, got 1"),
        (["--estimators", "svm"], "--estimators: invalid choice: 'svm'"),
        (["--n-columns", "3"], "'n_columns' setting of geneperm_curve must be even"),
        (["--n-table-rows", "2", "--block-sizes", "4"], "at most n_table_rows=2"),
        (["--n-jobs", "0"], "--n-jobs: expected a positive integer, or -1 for all"),
        (
            ["--random-state", "-1"],
            "--random-state: expected an integer in [0, 4294967295], got -1",
        ),
        (
            ["--n-samples", "9", "--cv", "5"],
            "'n_samples' setting of geneperm_curve is too small: for 5 stratified "
            "folds every draw needs at least 5 samples of each class",
        ),
        (["--n-samples", "1", "--cv", "2"], "Use n_samples >= "),
        (["--n-table-rows", str(10**13)], "GiB are available: use fewer"),
        (["--overwrite", "--resume"], "not allowed with argument --overwrite"),
    ],
)
def test_bad_arguments_get_argparse_errors_before_any_work(
    arguments, message, capsys, tmp_path, no_work
):
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "usage: geneperm-sk" in error
    assert message in error
    assert not (tmp_path / "out" / "results.csv").exists()


def unusable_output_dirs(tmp_path):
    file = tmp_path / "file"
    file.write_text("")
    holds_folder = tmp_path / "holds_folder"
    (holds_folder / "results.csv").mkdir(parents=True)
    holds_plot_folder = tmp_path / "holds_plot_folder"
    (holds_plot_folder / "comparison.png").mkdir(parents=True)
    cases = [
        (file, "exists and is not a folder"),
        (file / "below", "cannot write into the folder"),
        (holds_folder, "results.csv is a folder"),
        (holds_plot_folder, "comparison.png is a folder"),
    ]
    if sys.platform.startswith("linux"):
        cases.append((Path("/proc/geneperm_output"), "cannot write into the folder"))
    if os.name == "posix" and os.geteuid() != 0:  # root may write anywhere
        read_only = tmp_path / "read_only"
        read_only.mkdir()
        read_only.chmod(0o500)
        cases.append((read_only, "cannot write into the folder"))
    return cases


def test_unusable_output_folders_are_errors_before_any_work(tmp_path, capsys, no_work):
    for output_dir, message in unusable_output_dirs(tmp_path):
        with pytest.raises(SystemExit) as exit_info:
            main([*QUICK, "--output-dir", str(output_dir)])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert "error: --output-dir: " in error
        assert str(output_dir) in error and message in error


def test_earlier_results_are_kept_unless_resumed_or_overwritten(
    tmp_path, capsys, monkeypatch
):
    arguments = [*QUICK, "--estimators", "logistic", "--output-dir", str(tmp_path)]
    assert main(arguments) == 0
    csv = tmp_path / "results.csv"
    content = csv.read_bytes()
    table = capsys.readouterr().out.split("wrote")[0]

    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"{csv} holds the results of an earlier run" in error
    assert "--resume" in error and "--overwrite" in error and "--output-dir" in error
    assert csv.read_bytes() == content

    # A finished run resumed prints its table again without computing anything.
    with monkeypatch.context() as patch:
        patch.setattr(study_module, "run_task", None)
        assert main([*arguments, "--resume"]) == 0
    assert capsys.readouterr().out.split("wrote")[0] == table
    assert csv.read_bytes() == content

    # Resuming with other options is refused; overwriting replaces.
    with pytest.raises(SystemExit):
        main([*arguments, "--resume", "--n-samples", "300"])
    assert "different study" in capsys.readouterr().err
    assert main([*arguments, "--overwrite", "--n-samples", "300"]) == 0
    assert set(read_csv(csv)["n_samples"]) == {300}


def test_an_interrupted_comparison_exits_130_keeping_what_it_finished(
    tmp_path, capsys, budget
):
    arguments = [*QUICK, "--estimators", "budget", "logistic"]
    arguments += ["--output-dir", str(tmp_path)]
    budget.budget = 2
    assert main(arguments) == 130
    error = capsys.readouterr().err
    assert "interrupted: 2 of 4 results are saved in" in error
    assert "--resume" in error
    rows = read_csv(tmp_path / "results.csv")
    assert list(rows["estimator"]) == ["Budget", "LogisticRegression"]

    budget.budget, budget.fits = None, 0
    assert main([*arguments, "--resume"]) == 0
    assert budget.fits == 2  # the two folds of block size 2
    assert len(read_csv(tmp_path / "results.csv")) == 4


def test_module_runs_as_a_command():
    completed = subprocess.run(
        [sys.executable, "-m", "geneperm_sk", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--block-sizes" in completed.stdout and "study" in completed.stdout


def test_console_script_is_declared():
    scripts = entry_points(group="console_scripts")
    assert scripts["geneperm-sk"].value == "geneperm_sk.__main__:main"


def test_further_baselines_run(tmp_path, capsys):
    arguments = ["--block-sizes", "2", "--n-samples", "200", "--cv", "2"]
    estimators = ["--estimators", "hgb", "mlp", "poly2"]
    # One OpenMP thread: on a loaded machine, HistGradientBoosting's threads wait
    # for each other for seconds on these tiny fits.
    with threadpool_limits(1, user_api="openmp"):
        assert main([*arguments, *estimators, "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "HistGradientBoosting" in printed and "MLP" in printed
    assert "Poly2+LogisticRegression" in printed


def test_set_model_baselines_run(tmp_path, capsys):
    arguments = ["--block-sizes", "2", "--n-samples", "200", "--cv", "2"]
    arguments += ["--estimators", "rowmoments", "deepsets", "attention"]
    assert main([*arguments, "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for name in ("RowMoments+LogisticRegression", "DeepSets", "AttentionMIL"):
        assert name in printed


# The study command --------------------------------------------------------------


def test_study_prints_a_summary_writes_a_plot_and_resumes(tmp_path, capsys, budget):
    results, plot = tmp_path / "study.csv", tmp_path / "study.png"
    arguments = [*STUDY, "--repeats", "2", "--estimators", "budget", "logistic"]
    arguments += ["--results-file", str(results), "--plot", str(plot)]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert "geneperm_study: 100%" in captured.err and "16/16" in captured.err
    assert "mean ± std over 2 repeat(s), on 300 fresh test samples" in captured.out
    lines = captured.out.splitlines()
    header = next(line for line in lines if "Bayes-optimal" in line)
    assert "Budget" in header and "LogisticRegression" in header
    assert any(line.split()[:2] == ["2", "60"] for line in lines)
    assert plot.stat().st_size > 1000
    frame = read_csv(results)
    assert len(frame) == 16 and set(frame["repeat"]) == {0, 1}

    budget.fits = 0
    assert main(arguments) == 0
    assert budget.fits == 0
    assert len(read_csv(results)) == 16

    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--repeats", "3"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "different study, which differs in n_repeats" in error
    assert "--overwrite" in error


def test_an_interrupted_study_exits_130_and_the_same_command_resumes(
    tmp_path, capsys, budget
):
    results = tmp_path / "study.csv"
    arguments = [*STUDY, "--estimators", "budget", "--results-file", str(results)]
    budget.budget = 3
    assert main(arguments) == 130
    error = capsys.readouterr().err
    assert "interrupted: 3 of 4 results are saved" in error
    assert "run the same command again to resume" in error
    budget.budget, budget.fits = None, 0
    assert main(arguments) == 0
    assert budget.fits == 1
    assert len(read_csv(results)) == 4


@pytest.mark.parametrize(
    "grid, message",
    [
        (["dtype=1"], "--grid: expected a setting among block_size, n_columns"),
        (["block_size="], "expected a comma-separated list of values for block_size"),
        (["block_size=1,,2"], "expected a comma-separated list"),
        (["block_size"], "expected SETTING=V1,V2,... such as block_size=1,2,4"),
        (["block_size=a"], "expected int values for block_size, got 'a'"),
        (["positive_fraction=half"], "expected float values for positive_fraction"),
        (["block_size=0"], "'block_size' setting of geneperm_study must be an int"),
        (["block_size=1,1"], "non-empty list of distinct values for 'block_size'"),
        (["block_size=1", "block_size=2"], "--grid: block_size is given twice"),
        (["n_columns=3"], "'n_columns' setting of geneperm_study must be even"),
        (["n_samples=3"], "'n_samples' setting of geneperm_study is too small"),
        (["positive_fraction=0"], "strictly between 0 and 1"),
    ],
)
def test_bad_grids_are_argparse_errors_before_any_work(
    grid, message, tmp_path, capsys, no_work
):
    results = tmp_path / "study.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["study", "--grid", *grid, "--results-file", str(results)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "usage: geneperm-sk study" in error
    assert message in error
    assert not results.exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--plot", "p.png"], "--plot draws a grid that varies one setting"),
        (["--n-jobs", "2", "--scheduler", "tcp://localhost:1"], "not allowed with"),
        (["--repeats", "0"], "--repeats: expected an integer >= 1, got 0"),
        (["--test-size", "0"], "--test-size: expected an integer >= 1, got 0"),
        (["--random-state", "-1"], "--random-state: expected an integer in [0,"),
        (["--estimators", "svm"], "invalid choice: 'svm'"),
    ],
)
def test_bad_study_options_are_argparse_errors(
    arguments, message, tmp_path, capsys, no_work
):
    grid = ["block_size=1,2", "n_samples=100,200", "n_columns=4,8"]
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "study",
                "--grid",
                *grid,
                "--results-file",
                str(tmp_path / "s.csv"),
                *arguments,
            ]
        )
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_study_on_a_dask_scheduler_gives_the_local_results(tmp_path, capsys):
    arguments = [*STUDY, "--estimators", "logistic"]
    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    assert main([*arguments, "--results-file", str(local)]) == 0
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        command = [*arguments, "--results-file", str(remote), "--scheduler", address]
        assert main(command) == 0
    columns = lambda frame: frame.drop(columns="mean_fit_time")  # noqa: E731
    assert columns(read_csv(remote)).equals(columns(read_csv(local)))


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_ctrl_c_stops_the_command_with_status_130_keeping_finished_results(
    tmp_path, n_jobs
):
    results = tmp_path / "study.csv"
    command = [sys.executable, "-m", "geneperm_sk", *STUDY[:2], "block_size=1,2,4,8"]
    command += ["n_samples=500,1000,2000", "--repeats", "10", "--estimators"]
    command += ["logistic", "--results-file", str(results), "--n-jobs", n_jobs]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal: SIGINT raises KeyboardInterrupt, even if this test
        # runs where it is ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Signal as soon as the first record is written.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 2:
            break
        time.sleep(0.02)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert len(workers) >= (n_jobs == "2")
    # Ctrl-C in a terminal signals the command and its worker processes alike.
    for target in [process, *workers]:
        os.kill(target.pid, signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130, error[-2000:]
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive  # the parallel run was stopped, not left running
    saved = len(results.read_text().splitlines()) - 1
    assert 1 <= saved < 120
    assert results.read_text().endswith("\n")
    assert f"interrupted: {saved} of 120 results are saved in" in error


# Files the study command must not overwrite -----------------------------------------


def test_a_plot_in_the_place_of_the_results_is_refused(tmp_path, capsys, no_work):
    results = tmp_path / "r.png"
    (tmp_path / "link.png").symlink_to(results)
    for plot in (results, tmp_path / "link.png"):
        with pytest.raises(SystemExit) as exit_info:
            main([*STUDY[:3], "--results-file", str(results), "--plot", str(plot)])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert f"--plot: {plot} is where the study keeps its results" in error
    assert not results.exists()


@pytest.mark.parametrize("name", ["plot.xyz", "plot.PNG2"])
def test_a_plot_format_matplotlib_lacks_is_refused_first(
    name, tmp_path, capsys, no_work
):
    results = tmp_path / "study.csv"
    arguments = [*STUDY[:3], "--results-file", str(results)]
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--plot", str(tmp_path / name)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"--plot: matplotlib cannot write the format of {name!r}" in error
    assert ".pdf, " in error and ".png, " in error
    assert not results.exists()


def test_a_plot_name_without_extension_is_written_as_named(tmp_path, capsys):
    results, plot = tmp_path / "study.csv", tmp_path / "xplot"
    arguments = [*STUDY, "--estimators", "logistic", "--results-file", str(results)]
    assert main([*arguments, "--plot", str(plot)]) == 0
    assert f"wrote {plot}\n" in capsys.readouterr().out
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert not plot.with_name("xplot.png").exists()


def test_a_json_file_of_the_users_beside_the_results_is_kept(tmp_path, capsys, no_work):
    own = tmp_path / "study.json"
    own.write_text("{}")
    with pytest.raises(SystemExit) as exit_info:
        main([*STUDY, "--results-file", str(tmp_path / "study")])
    assert exit_info.value.code == 2
    assert "--results-file: The results_file" in capsys.readouterr().err
    assert own.read_text() == "{}"
