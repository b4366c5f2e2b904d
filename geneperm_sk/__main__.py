"""The command line: ``python -m geneperm_sk`` or ``geneperm-sk``.

Without a subcommand it runs the canonical comparison: AbsMean against generic
classifiers over block sizes, cross-validated, with the table printed and a CSV and
a PNG plot written into an output folder. ``study`` runs a study over a grid of
generator settings with repeats, on this machine or on a Dask cluster, and resumes
when the same command is run again; ``mil`` runs the multiple-instance benchmark
on real data sets the same way and prints its table beside the published rows.

Every value is checked before any work: a bad one is an argparse error (exit 2).
Results are appended to their CSV file as they are finished; Ctrl-C stops the run
with exit status 130, keeping them.
"""

import argparse
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from joblib import parallel_config
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from ._absmean import AbsMeanClassifier
from ._curve import curve_records, plan_curve
from ._datasets import _DATASETS
from ._display import GenePermCurveDisplay, GenePermHeatmapDisplay
from ._features import RowSecondMoments
from ._mil_benchmark import (
    DEFAULT_DATASETS,
    MIL_BENCHMARK_ESTIMATORS,
    mil_benchmark_estimators,
    mil_benchmark_table,
    plan_mil_benchmark,
)
from ._set_models import AttentionMILClassifier, DeepSetsClassifier
from ._study import GENERATOR_SETTINGS, SETTING_TYPES, plan_study

# Command-line name -> (display name, factory taking the random seed). A new model
# needs one line here.
ESTIMATORS = {
    "absmean": ("AbsMean", lambda seed: AbsMeanClassifier(random_state=seed)),
    "logistic": ("LogisticRegression", lambda seed: LogisticRegression(max_iter=1000)),
    "poly2": (
        "Poly2+LogisticRegression",
        lambda seed: make_pipeline(
            PolynomialFeatures(2, include_bias=False),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
    ),
    "rowmoments": (
        "RowMoments+LogisticRegression",
        lambda seed: make_pipeline(
            RowSecondMoments(),
            StandardScaler(),
            LogisticRegression(C=100, max_iter=1000),
        ),
    ),
    "deepsets": ("DeepSets", lambda seed: DeepSetsClassifier(random_state=seed)),
    "attention": (
        "AttentionMIL",
        lambda seed: AttentionMILClassifier(random_state=seed),
    ),
    "forest": (
        "RandomForest",
        lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
    ),
    "hgb": (
        "HistGradientBoosting",
        lambda seed: HistGradientBoostingClassifier(random_state=seed),
    ),
    "mlp": (
        "MLP",
        lambda seed: MLPClassifier(
            hidden_layer_sizes=(128,), early_stopping=True, random_state=seed
        ),
    ),
}
DEFAULT_ESTIMATORS = ("absmean", "logistic", "forest")
RESULTS_NAME = "results.csv"
PLOT_NAME = "comparison.png"
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT)


# Argument types ----------------------------------------------------------------


def _int_in(minimum, maximum=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            expected = (
                f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            )
            raise argparse.ArgumentTypeError(
                f"expected an integer {expected}, got {value}"
            )
        return value

    return parse


_positive_int = _int_in(1)
_seed = _int_in(0, 2**32 - 1)


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "expected a positive integer, or -1 for all cores, got 0"
        )
    return value


def _grid_item(text):
    """``SETTING=V1,V2,...`` -> (setting, [values])."""
    name, equals, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not equals:
        raise argparse.ArgumentTypeError(
            f"expected SETTING=V1,V2,... such as block_size=1,2,4, got {text!r}"
        )
    if name not in GENERATOR_SETTINGS:
        raise argparse.ArgumentTypeError(
            f"expected a setting among {', '.join(GENERATOR_SETTINGS)}, got {name!r}"
        )
    parts = [part.strip() for part in values.split(",")]
    if not values.strip() or not all(parts):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of values for {name}, got {text!r}"
        )
    kind = SETTING_TYPES[name]
    try:
        return name, [kind(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {kind.__name__} values for {name}, got {values!r}"
        ) from None


# The parser --------------------------------------------------------------------


def _add_shared_arguments(
    parser, *, n_jobs_group, estimators=ESTIMATORS, default=DEFAULT_ESTIMATORS
):
    parser.add_argument(
        "--estimators",
        nargs="+",
        choices=list(estimators),
        default=list(default),
        metavar="NAME",
        help=(
            f"estimators to compare, from {', '.join(estimators)} "
            f"(default: {' '.join(default)})"
        ),
    )
    n_jobs_group.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        help="tasks to run in parallel, -1 for all cores (default: 1)",
    )
    parser.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        help="seed for the data and the estimators (default: 0)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="geneperm-sk",
        usage=(
            "%(prog)s [options]\n"
            "       %(prog)s study --grid SETTING=V1,V2 [SETTING=V1,V2 ...] "
            "--results-file CSV [options]\n"
            "       %(prog)s mil --results-file CSV [options]"
        ),
        description=(
            "Compare AbsMean with generic classifiers on Gene-Perm data across block "
            "sizes: cross-validated accuracy against the Bayes-optimal ceiling. "
            "Results are written as they are finished; Ctrl-C stops with exit "
            "status 130 and keeps them."
        ),
        epilog="Run 'geneperm-sk study --help' for studies over grids of settings.",
    )
    parser.set_defaults(command=None, command_parser=parser)
    parser.add_argument(
        "--block-sizes",
        type=_positive_int,
        nargs="+",
        default=[1, 2, 4, 8, 16],
        metavar="B",
        help="block sizes to compare (default: 1 2 4 8 16)",
    )
    parser.add_argument(
        "--n-samples",
        type=_positive_int,
        default=2000,
        help="samples per data set (default: 2000)",
    )
    parser.add_argument(
        "--n-columns",
        type=_positive_int,
        default=20,
        help="columns of the table, even (default: 20)",
    )
    parser.add_argument(
        "--n-table-rows",
        type=_positive_int,
        default=1000,
        help="rows of the table (default: 1000)",
    )
    parser.add_argument(
        "--cv",
        type=_int_in(2),
        default=5,
        help="cross-validation folds (default: 5)",
    )
    _add_shared_arguments(parser, n_jobs_group=parser)
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("geneperm_output"),
        help=(f"folder for {RESULTS_NAME} and {PLOT_NAME} (default: geneperm_output)"),
    )
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results of an earlier run in the output folder",
    )
    existing.add_argument(
        "--resume",
        action="store_true",
        help=(
            "finish an interrupted run with the same options, keeping the results "
            "it saved"
        ),
    )

    subparsers = parser.add_subparsers(title="subcommands", metavar="COMMAND")
    study = subparsers.add_parser(
        "study",
        prog=f"{parser.prog} study",
        help="a study over a grid of generator settings, with repeats",
        description=(
            "Fit and score estimators on every combination of the grid's settings, "
            "each drawn --repeats times with a new table, scored on a fresh test "
            "set (or by --cv folds). Records are appended to --results-file as "
            "they are finished; run the same command again to resume. Settings not "
            "in the grid take make_geneperm's defaults (n_samples=100, "
            "n_columns=20, block_size=4, n_table_rows=1000, positive_fraction=0.5)."
        ),
    )
    study.set_defaults(command="study", command_parser=study)
    study.add_argument(
        "--grid",
        type=_grid_item,
        nargs="+",
        required=True,
        metavar="SETTING=V1,V2",
        help=(
            "settings and their values, such as block_size=1,2,4 "
            "n_samples=100,1000,10000; a single value holds a setting fixed"
        ),
    )
    study.add_argument(
        "--repeats",
        type=_positive_int,
        default=1,
        help="independent draws per grid point (default: 1)",
    )
    study.add_argument(
        "--results-file",
        type=Path,
        required=True,
        help="CSV file the records are appended to, and resumed from",
    )
    study.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="PNG",
        help=(
            "write a plot: accuracy curves for a grid varying one setting, heatmaps "
            "of the gap to the Bayes ceiling for two"
        ),
    )
    study.add_argument(
        "--cv",
        type=_int_in(2),
        default=None,
        help="score by this many folds of the drawn samples (default: fresh test set)",
    )
    study.add_argument(
        "--test-size",
        type=_positive_int,
        default=10_000,
        help="fresh test samples per draw (default: 10000)",
    )
    where = study.add_mutually_exclusive_group()
    _add_shared_arguments(study, n_jobs_group=where)
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help=(
            "run the tasks on an existing Dask cluster, such as tcp://host:8786 "
            "(its workers need geneperm_sk installed)"
        ),
    )
    study.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a results file written by a different study",
    )

    mil = subparsers.add_parser(
        "mil",
        prog=f"{parser.prog} mil",
        help="the multiple-instance benchmark on real data sets",
        description=(
            "Bag accuracy of the library's pipelines on multiple-instance data sets "
            "(loaded with load_mil_dataset; needs the 'mil' extra) by the protocol "
            "of the deep multiple-instance papers: stratified --folds-fold "
            "cross-validation repeated --repeats times. Prints the mean and the "
            "standard error of the fold accuracies beside published rows. Records "
            "are appended to --results-file as they are finished; run the same "
            "command again to resume."
        ),
    )
    mil.set_defaults(command="mil", command_parser=mil)
    mil.add_argument(
        "--datasets",
        nargs="+",
        choices=list(_DATASETS),
        default=list(DEFAULT_DATASETS),
        metavar="NAME",
        help=(
            f"data sets, from {', '.join(_DATASETS)} "
            f"(default: {' '.join(DEFAULT_DATASETS)})"
        ),
    )
    mil.add_argument(
        "--folds",
        type=_int_in(2),
        default=10,
        help="stratified folds per repeat (default: 10)",
    )
    mil.add_argument(
        "--repeats",
        type=_positive_int,
        default=5,
        help="repeats of the cross-validation, each with other folds (default: 5)",
    )
    mil.add_argument(
        "--results-file",
        type=Path,
        required=True,
        help="CSV file the records are appended to, and resumed from",
    )
    where = mil.add_mutually_exclusive_group()
    _add_shared_arguments(
        mil,
        n_jobs_group=where,
        estimators=MIL_BENCHMARK_ESTIMATORS,
        default=tuple(MIL_BENCHMARK_ESTIMATORS),
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help=(
            "run the tasks on an existing Dask cluster, such as tcp://host:8786 "
            "(its workers need geneperm_sk and the 'mil' extra installed)"
        ),
    )
    mil.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute: replace the results file (and its description) that an "
        "earlier benchmark wrote, whatever it holds",
    )
    return parser


# Checks before any work --------------------------------------------------------


def _available_memory():
    """Bytes of memory available to a new task (all physical memory where psutil is
    not installed), or None if unknown."""
    try:
        import psutil
    except ImportError:
        try:
            return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    return psutil.virtual_memory().available


def _check_memory(parser, plan, n_jobs):
    """Refuse settings whose data could not be held in memory, by arithmetic."""
    available = _available_memory()
    if available is None:
        return
    needed, n_at_once, largest = plan.memory_needed(n_jobs)
    if needed > available:
        settings = ", ".join(f"{name}={value}" for name, value in largest.items())
        parser.error(
            f"the data of {n_at_once} task(s) at once with {settings} would take "
            f"about {needed / 2**30:.3g} GiB of memory, and {available / 2**30:.3g} "
            "GiB are available: use fewer table rows, columns or samples"
        )


def _check_writable_folder(parser, option, folder):
    """Create ``folder`` if needed and make sure files can be written in it."""
    if folder.exists() and not folder.is_dir():
        parser.error(f"{option}: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        parser.error(
            f"{option}: cannot write into the folder {folder} "
            f"({error.strerror or error})"
        )


def _check_file_paths(parser, option, paths):
    for path in paths:
        if path.is_dir():
            parser.error(
                f"{option}: {path} is a folder, so it cannot be written as a file; "
                "remove it or choose another path"
            )


def _plot_format(parser, path):
    """The format matplotlib writes ``path`` in: its extension's, or PNG for a
    name without one; an argparse error for an extension matplotlib lacks."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        parser.error("--plot needs matplotlib: pip install 'geneperm_sk[plot]'")
    formats = FigureCanvasBase.get_supported_filetypes()
    extension = path.suffix[1:].lower()
    if not extension:
        return "png"
    if extension not in formats:
        parser.error(
            f"--plot: matplotlib cannot write the format of {path.name!r}; expected "
            f"a file name ending in .{', .'.join(sorted(formats))} (or no "
            "extension, for PNG)"
        )
    return extension


def _estimators(keys, seed):
    return {ESTIMATORS[key][0]: ESTIMATORS[key][1](seed) for key in dict.fromkeys(keys)}


def _interrupted(results, n_tasks, how_to_resume):
    print(
        f"\ninterrupted: {results.n_records} of {n_tasks} results are saved in "
        f"{results.path}; {how_to_resume}",
        file=sys.stderr,
    )
    return INTERRUPTED


# The comparison ----------------------------------------------------------------


def format_table(records, block_sizes):
    names = list(dict.fromkeys(record["estimator"] for record in records))
    by_key = {(r["estimator"], r["block_size"]): r for r in records}
    width = max(len(name) for name in [*names, "Bayes-optimal"])
    header = f"{'block size':<{width}}" + "".join(f"{b:>14}" for b in block_sizes)
    lines = [header, "-" * len(header)]
    for name in names:
        cells = [by_key[name, b] for b in block_sizes]
        row = "".join(
            f"{cell['mean_test_score']:>8.3f} ±{cell['std_test_score']:.2f}"
            for cell in cells
        )
        lines.append(f"{name:<{width}}{row}")
    bayes = "".join(
        f"{by_key[names[0], b]['bayes_accuracy']:>14.3f}" for b in block_sizes
    )
    lines.append(f"{'Bayes-optimal':<{width}}{bayes}")
    return "\n".join(lines)


def _compare(args, parser):
    block_sizes = list(dict.fromkeys(args.block_sizes))
    try:
        plan = plan_curve(
            _estimators(args.estimators, args.random_state),
            "block_size",
            block_sizes,
            n_samples=args.n_samples,
            n_repeats=1,
            cv=args.cv,
            test_size=10_000,
            scoring="accuracy",
            error_score="raise",
            random_state=args.random_state,
            results_file=args.output_dir / RESULTS_NAME,
            generator_params={
                "n_columns": args.n_columns,
                "n_table_rows": args.n_table_rows,
            },
        )
    except ValueError as error:
        parser.error(str(error))
    _check_memory(parser, plan, args.n_jobs)
    _check_writable_folder(parser, "--output-dir", args.output_dir)
    csv_path = args.output_dir / RESULTS_NAME
    png_path = args.output_dir / PLOT_NAME
    _check_file_paths(
        parser,
        "--output-dir",
        [csv_path, csv_path.with_name(RESULTS_NAME + ".json"), png_path],
    )
    if csv_path.exists() and not (args.overwrite or args.resume):
        parser.error(
            f"--output-dir: {csv_path} holds the results of an earlier run; pass "
            "--resume to finish or reuse them, --overwrite to replace them, or "
            "choose another --output-dir"
        )
    try:
        results = plan.open_results(csv_path, overwrite=args.overwrite)
    except ValueError as error:
        option = "--resume" if args.resume else "--output-dir"
        parser.error(f"{option}: {error} Or pass --overwrite to replace it.")
    with results:
        try:
            records = plan.run(n_jobs=args.n_jobs, results=results, verbose=1)
        except KeyboardInterrupt:
            return _interrupted(
                results,
                len(plan.tasks),
                "run the same command with --resume to finish",
            )
    records = curve_records(records, "block_size")

    print(
        f"\nCross-validated accuracy ({args.cv}-fold, {args.n_samples} samples, "
        f"{args.n_columns} columns, {args.n_table_rows} table rows)\n"
    )
    print(format_table(records, block_sizes))
    print(f"\nwrote {csv_path}")
    try:
        display = GenePermCurveDisplay(results=records, param_name="block_size").plot()
    except ImportError as error:
        print(f"no plot: {error}", file=sys.stderr)
    else:
        display.ax_.set_title("Gene-Perm: accuracy against block size")
        display.figure_.savefig(png_path, dpi=120, bbox_inches="tight")
        print(f"wrote {png_path}")
    return 0


# The study ---------------------------------------------------------------------


def summary_table(records, varied):
    """Mean +- std over repeats per grid point (rows) and estimator (columns),
    with the Bayes-optimal accuracy, as a pandas DataFrame of strings."""
    import pandas as pd

    frame = pd.DataFrame(records)
    rows = list(varied) or ["block_size"]
    grouped = frame.groupby([*rows, "estimator"], sort=False)
    summary = grouped["mean_test_score"].agg(mean="mean", std=lambda s: s.std(ddof=0))
    cells = summary.apply(lambda row: f"{row['mean']:.3f} ± {row['std']:.3f}", axis=1)
    table = cells.unstack("estimator")
    table = table[list(dict.fromkeys(frame["estimator"]))]
    bayes = frame.groupby(rows, sort=False)["bayes_accuracy"].first()
    table["Bayes-optimal"] = bayes.map("{:.3f}".format)
    return table


def _check_study_files(args, parser):
    """Check that the results file (and the plot, if any) can be written."""
    _check_writable_folder(parser, "--results-file", args.results_file.parent)
    study_files = [
        args.results_file,
        args.results_file.with_name(args.results_file.name + ".json"),
        args.results_file.with_name(args.results_file.name + ".lock"),
    ]
    _check_file_paths(parser, "--results-file", study_files[:2])
    if getattr(args, "plot", None) is not None:
        for path in study_files:
            if os.path.realpath(args.plot) == os.path.realpath(path):
                parser.error(
                    f"--plot: {args.plot} is where the study keeps its results "
                    f"({path.name}); choose another file for the plot"
                )


def _run_plan(args, parser, plan):
    """Check the memory (when run here) and the files, then run ``plan`` into
    ``--results-file``, here or on ``--scheduler``: the records and the path of
    the results file, or the exit status of an interrupted run."""
    if args.scheduler is None:
        _check_memory(parser, plan, args.n_jobs)
    _check_study_files(args, parser)
    client = nullcontext()
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            parser.error(
                "--scheduler needs dask.distributed: "
                "pip install 'geneperm_sk[distributed]'"
            )
        try:
            client = Client(args.scheduler, timeout="10s")
        except Exception as error:  # any failure to connect, before any work
            parser.error(f"--scheduler: cannot connect to {args.scheduler!r}: {error}")
    with client:
        try:
            results = plan.open_results(args.results_file, overwrite=args.overwrite)
        except ValueError as error:
            parser.error(f"--results-file: {error} Or pass --overwrite to replace it.")
        backend = (
            nullcontext() if args.scheduler is None else parallel_config(backend="dask")
        )
        try:
            with results, backend:
                records = plan.run(n_jobs=args.n_jobs, results=results, verbose=1)
        except KeyboardInterrupt:
            return _interrupted(
                results, len(plan.tasks), "run the same command again to resume"
            )
    return records, results.path


def _study(args, parser):
    grid = {}
    for name, values in args.grid:
        if name in grid:
            parser.error(f"--grid: {name} is given twice")
        grid[name] = values
    varied = [name for name, values in grid.items() if len(values) > 1]
    try:
        import pandas  # noqa: F401
    except ImportError:
        parser.error(
            "the study command prints its summary with pandas: pip install pandas"
        )
    plot_format = None
    if args.plot is not None:
        if len(varied) not in (1, 2):
            parser.error(
                "--plot draws a grid that varies one setting (curves) or two "
                f"(heatmaps); this grid varies {len(varied)}: {varied}"
            )
        plot_format = _plot_format(parser, args.plot)
        _check_writable_folder(parser, "--plot", args.plot.parent)
        _check_file_paths(parser, "--plot", [args.plot])
    try:
        plan = plan_study(
            _estimators(args.estimators, args.random_state),
            grid,
            n_repeats=args.repeats,
            cv=args.cv,
            test_size=args.test_size,
            scoring="accuracy",
            error_score="raise",
            random_state=args.random_state,
            generator_params={},
            caller="geneperm_study",
            results_file=args.results_file,
        )
    except ValueError as error:
        parser.error(f"--grid: {error}")
    outcome = _run_plan(args, parser, plan)
    if isinstance(outcome, int):
        return outcome
    records, results_path = outcome

    print(
        f"\nAccuracy, mean ± std over {args.repeats} repeat(s), "
        + (
            f"{args.cv}-fold cross-validation"
            if args.cv is not None
            else f"on {args.test_size} fresh test samples"
        )
        + "\n"
    )
    print(summary_table(records, varied).to_string())
    print(f"\nwrote {results_path}")
    if args.plot is not None:
        if len(varied) == 1:
            display = GenePermCurveDisplay.from_results(records, param_name=varied[0])
        else:
            display = GenePermHeatmapDisplay.from_results(
                records, y_name=varied[0], x_name=varied[1]
            )
        display.figure_.savefig(
            args.plot, format=plot_format, dpi=120, bbox_inches="tight"
        )
        print(f"wrote {args.plot}")
    return 0


# The multiple-instance benchmark -------------------------------------------------


def format_mil_table(rows, datasets):
    """The rows of :func:`mil_benchmark_table` as text: an estimator per line,
    ``mean ± standard error`` per data set, then each published row's source."""
    names = list(dict.fromkeys(row["estimator"] for row in rows))
    cells = {(row["estimator"], row["dataset"]): row for row in rows}
    sources = {row["estimator"]: row["source"] for row in rows}
    titles = [_DATASETS[name].title for name in datasets]
    width = max(len(name) for name in [*names, "estimator"])
    header = f"{'estimator':<{width}}" + "".join(f"{t:>16}" for t in titles)
    lines = [header, "-" * len(header)]
    for name in names:
        text = ""
        for dataset in datasets:
            row = cells.get((name, dataset))
            if row is None:
                text += f"{'-':>16}"
            elif row["source"] is not None:
                text += f"{row['mean']:>16.3f}"
            else:
                text += f"{row['mean']:>8.3f} ± {row['standard_error']:.3f}"
        lines.append(f"{name:<{width}}{text}")
    published = [name for name in names if sources[name] is not None]
    if published:
        lines += ["", "Sources of the published rows:"]
        lines += [f"  {name}: {sources[name]}" for name in published]
    return "\n".join(lines)


def _mil(args, parser):
    datasets = list(dict.fromkeys(args.datasets))
    try:
        plan = plan_mil_benchmark(
            mil_benchmark_estimators(args.estimators, random_state=args.random_state),
            datasets,
            n_splits=args.folds,
            n_repeats=args.repeats,
            scoring="accuracy",
            error_score="raise",
            random_state=args.random_state,
            caller="mil_benchmark",
            results_file=args.results_file,
        )
    except ValueError as error:
        option = "--folds: " if "'n_splits'" in str(error) else ""
        parser.error(f"{option}{error}")
    outcome = _run_plan(args, parser, plan)
    if isinstance(outcome, int):
        return outcome
    records, results_path = outcome
    print(
        f"\nBag accuracy: mean ± standard error of the {args.folds * args.repeats} "
        f"fold accuracies ({args.folds}-fold stratified cross-validation, "
        f"{args.repeats} repeat(s)), beside published rows\n"
    )
    print(format_mil_table(mil_benchmark_table(records), datasets))
    print(f"\nwrote {results_path}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "study":
        return _study(args, args.command_parser)
    if args.command == "mil":
        return _mil(args, args.command_parser)
    return _compare(args, parser)


if __name__ == "__main__":
    sys.exit(main())
