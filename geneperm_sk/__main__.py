"""The canonical comparison: ``python -m geneperm_sk`` or ``geneperm-sk``.

Cross-validates AbsMean against generic classifiers over block sizes, prints the
table, and writes a CSV and a PNG plot into an output folder.
"""

import argparse
import csv
import sys
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from tqdm.auto import tqdm

from ._absmean import AbsMeanClassifier
from ._curve import _iter_records
from ._display import GenePermCurveDisplay
from ._generator import make_geneperm

# Command-line name -> (display name, factory taking the random seed).
ESTIMATORS = {
    "absmean": ("AbsMean", lambda seed: AbsMeanClassifier(random_state=seed)),
    "logistic": ("LogisticRegression", lambda seed: LogisticRegression(max_iter=1000)),
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
CSV_FIELDS = (
    "estimator",
    "block_size",
    "mean_test_score",
    "std_test_score",
    "mean_fit_time",
    "bayes_accuracy",
    "chance_accuracy",
    "test_scores",
)


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {value}"
            )
        return value

    return parse


_positive_int = _int_at_least(1)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="geneperm-sk",
        description=(
            "Compare AbsMean with generic classifiers on Gene-Perm data across block "
            "sizes: cross-validated accuracy against the Bayes-optimal ceiling."
        ),
    )
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
        "--estimators",
        nargs="+",
        choices=sorted(ESTIMATORS),
        default=list(DEFAULT_ESTIMATORS),
        metavar="NAME",
        help=(
            "estimators to compare, from "
            f"{', '.join(sorted(ESTIMATORS))} (default: {' '.join(DEFAULT_ESTIMATORS)})"
        ),
    )
    parser.add_argument(
        "--cv",
        type=_int_at_least(2),
        default=5,
        help="cross-validation folds (default: 5)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="fits to run in parallel, -1 for all cores (default: 1)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("geneperm_output"),
        help="folder for results.csv and comparison.png (default: geneperm_output)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed for the data and the estimators (default: 0)",
    )
    return parser


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


def write_csv(records, path):
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for record in records:
            row = {field: record[field] for field in CSV_FIELDS}
            row["test_scores"] = " ".join(f"{s:.4f}" for s in record["test_scores"])
            writer.writerow(row)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    estimators = {
        ESTIMATORS[key][0]: ESTIMATORS[key][1](args.random_state)
        for key in dict.fromkeys(args.estimators)
    }
    block_sizes = list(dict.fromkeys(args.block_sizes))
    generator_params = {"n_columns": args.n_columns, "n_table_rows": args.n_table_rows}
    for block_size in block_sizes:
        try:
            make_geneperm(1, block_size=block_size, **generator_params)
        except ValueError as error:
            parser.error(str(error))
    records_iterator = _iter_records(
        estimators,
        "block_size",
        block_sizes,
        n_samples=args.n_samples,
        cv=args.cv,
        scoring="accuracy",
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        generator_params=generator_params,
    )
    records = []
    with tqdm(
        total=len(block_sizes) * len(estimators),
        unit="curve point",
        desc="cross-validating",
        file=sys.stderr,
    ) as progress:
        for record in records_iterator:
            progress.set_postfix_str(
                f"block_size={record['block_size']} {record['estimator']}"
            )
            progress.update()
            records.append(record)

    print(
        f"\nCross-validated accuracy ({args.cv}-fold, {args.n_samples} samples, "
        f"{args.n_columns} columns, {args.n_table_rows} table rows)\n"
    )
    print(format_table(records, block_sizes))

    args.output_dir.mkdir(parents=True, exist_ok=True)
    csv_path = args.output_dir / "results.csv"
    write_csv(records, csv_path)
    print(f"\nwrote {csv_path}")
    try:
        display = GenePermCurveDisplay(results=records, param_name="block_size").plot()
    except ImportError as error:
        print(f"no plot: {error}", file=sys.stderr)
    else:
        png_path = args.output_dir / "comparison.png"
        display.ax_.set_title("Gene-Perm: accuracy against block size")
        display.figure_.savefig(png_path, dpi=120, bbox_inches="tight")
        print(f"wrote {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
