"""Tables of the user guide computed from committed study records at build time.

``examples/plot_inductive_bias.py`` records its study in
``examples/inductive_bias.csv`` (and resumes from it). The user guide's tables of
that study are computed from the file when the documentation is built and written
to ``docs/generated/inductive_bias_tables.rst.inc``, which
``docs/user_guide/baselines.rst`` includes, so the page and the records cannot
disagree.
"""

import csv
from collections import defaultdict
from pathlib import Path
from statistics import mean

DOCS = Path(__file__).resolve().parents[1]
RECORDS = DOCS.parent / "examples" / "inductive_bias.csv"
OUTPUT = DOCS / "generated" / "inductive_bias_tables.rst.inc"

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


def write_tables(app=None):
    with RECORDS.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    text = tables(records)
    if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
        OUTPUT.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", write_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
