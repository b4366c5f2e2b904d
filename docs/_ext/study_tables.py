"""Tables of the user guide computed from committed study records at build time.

``examples/plot_inductive_bias.py`` records its study in
``examples/inductive_bias.csv`` (and resumes from it). The user guide's tables of
that study are computed from the file when the documentation is built and written
to ``docs/generated/inductive_bias_tables.rst.inc``, which
``docs/user_guide/baselines.rst`` includes, so the page and the records cannot
disagree.

Likewise ``examples/plot_mil_benchmarks.py`` records the multiple-instance
benchmark in ``examples/mil_benchmarks.csv``; its table, summed up by
:func:`geneperm_sk.mil_benchmark_table` beside the published rows, is written to
``docs/generated/mil_benchmark_table.rst.inc`` for
``docs/user_guide/multiple_instance.rst``.
"""

import csv
import json
from collections import defaultdict
from pathlib import Path
from statistics import mean

DOCS = Path(__file__).resolve().parents[1]
RECORDS = DOCS.parent / "examples" / "inductive_bias.csv"
OUTPUT = DOCS / "generated" / "inductive_bias_tables.rst.inc"
MIL_RECORDS = DOCS.parent / "examples" / "mil_benchmarks.csv"
MIL_OUTPUT = DOCS / "generated" / "mil_benchmark_table.rst.inc"
MIL_DATASETS = {"musk1": "Musk1", "musk2": "Musk2", "elephant": "Elephant"}

# The study's estimator names and how the page writes them.
LABELS = {
    "LogisticRegression": ":class:`~sklearn.linear_model.LogisticRegression`, flat",
    "Poly2+LogisticRegression": (
        ":class:`PolynomialFeatures(2) <sklearn.preprocessing.PolynomialFeatures>`"
        " + LR, flat"
    ),
    "RowMoments+LogisticRegression": ":class:`RowSecondMoments` + LR",
    "DeepSets": ":class:`DeepSetsClassifier`",
    "AttentionMIL": ":class:`AttentionMILClassifier`",
    "AbsMean": ":class:`AbsMeanClassifier`",
}


def _list_table(title, header, rows, widths):
    lines = [
        f".. list-table:: {title}",
        "   :header-rows: 1",
        "   :stub-columns: 1",
        f"   :widths: {' '.join(str(width) for width in widths)}",
        "",
    ]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def tables(records):
    """reStructuredText of the mean accuracy per model, block size and training
    size, and of the smallest training size within 0.01 of the ceiling."""
    scores = defaultdict(list)
    bayes = {}
    for record in records:
        key = (record["estimator"], int(record["block_size"]), int(record["n_samples"]))
        scores[key].append(float(record["mean_test_score"]))
        bayes[int(record["block_size"])] = float(record["bayes_accuracy"])
    names = [name for name in LABELS if any(key[0] == name for key in scores)]
    names += sorted({key[0] for key in scores} - set(names))
    sizes = sorted({key[2] for key in scores})
    repeats = sorted({len(values) for values in scores.values()})
    text = []
    smallest = {}
    for block_size in sorted(bayes):
        rows = []
        for name in names:
            means = [
                mean(scores.get((name, block_size, n), [float("nan")])) for n in sizes
            ]
            rows.append([LABELS.get(name, name), *(f"{value:.3f}" for value in means)])
            reached = [
                n
                for n, value in zip(sizes, means, strict=True)
                if value >= bayes[block_size] - 0.01
            ]
            smallest[name, block_size] = f"{min(reached):,}" if reached else "—"
        text.append(
            _list_table(
                f"Mean accuracy against training samples (block size {block_size}, "
                f"Bayes {bayes[block_size]:.3f})",
                ["model", *(f"{n:,}" for n in sizes)],
                rows,
                [40] + [12] * len(sizes),
            )
        )
    text.insert(
        0,
        _list_table(
            "Smallest training size within 0.01 of the ceiling (— : none up to "
            f"{sizes[-1]:,})",
            ["model", *(f"block size {b}" for b in sorted(bayes))],
            [
                [LABELS.get(name, name), *(smallest[name, b] for b in sorted(bayes))]
                for name in names
            ],
            [40] + [30] * len(bayes),
        ),
    )
    note = (
        f"Means over {', '.join(map(str, repeats))} repeats of the "
        f"{len(records)} records in ``examples/inductive_bias.csv``, computed when "
        "these pages were built.\n"
    )
    # The full tables, folded under the summary.
    opening = (
        ".. raw:: html\n\n   <details><summary>The mean accuracy of every model "
        "at every training size</summary>\n"
    )
    closing = ".. raw:: html\n\n   </details>\n"
    return "\n".join([note, text[0], opening, *text[1:], closing])


def mil_table(records):
    """reStructuredText of the benchmark's mean ± standard error per pipeline and
    data set, then the published rows with their sources."""
    from geneperm_sk import mil_benchmark_table

    for record in records:
        record["test_scores"] = json.loads(record["test_scores"])
    rows = mil_benchmark_table(records)
    cells = {(row["estimator"], row["dataset"]): row for row in rows}
    names = list(dict.fromkeys(row["estimator"] for row in rows))
    table = []
    for name in names:
        line = [name]
        for dataset in MIL_DATASETS:
            row = cells.get((name, dataset))
            if row is None:
                line.append("—")
            elif row["source"] is None:
                line.append(f"{row['mean']:.3f} ± {row['standard_error']:.3f}")
            else:
                line.append(f"{row['mean']:.3f}")
        source = next(row["source"] for row in rows if row["estimator"] == name)
        line.append(source or "measured here")
        table.append(line)
    n_scores = sorted({row["n_scores"] for row in rows if row["source"] is None})
    n_repeats = sorted({row["n_repeats"] for row in rows if row["source"] is None})
    note = (
        f"Mean bag accuracy ± the standard error of the {', '.join(map(str, n_scores))}"
        f" fold accuracies of each pipeline and data set, from the {len(records)} "
        "records in ``examples/mil_benchmarks.csv``, computed when these pages "
        "were built.\n"
    )
    return "\n".join(
        [
            note,
            _list_table(
                "Bag accuracy, 10-fold stratified cross-validation repeated "
                f"{', '.join(map(str, n_repeats))} times",
                ["model", *MIL_DATASETS.values(), "source"],
                table,
                [24, 14, 14, 14, 34],
            ),
        ]
    )


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_tables(app=None):
    with RECORDS.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    _write(OUTPUT, tables(records))
    with MIL_RECORDS.open(newline="", encoding="utf-8") as file:
        _write(MIL_OUTPUT, mil_table(list(csv.DictReader(file))))


def setup(app):
    app.connect("builder-inited", write_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
