"""Time AbsMeanClassifier.fit against a minimal hand-written PyTorch training loop.

Run with ``python benchmarks/bench_fit.py``; on a GPU machine, for instance
``python benchmarks/bench_fit.py --device cuda --n-samples 1000000 --block-size 16
--n-columns 64``. The classifier and the hand loop are timed interleaved (A, B, A,
B, ...) in the same run and the best of each is kept, so the printed ratio holds on
a shared, noisy machine.

- AbsMeanClassifier with ``init="random"`` and ``early_stopping=False`` against a
  hand loop doing the same work: the same AbsMeanModule, Adam (with the
  classifier's options), BCEWithLogitsLoss, epochs and batch size, data moved to
  the device once (inside the timing, as fit does it), a new permutation per
  epoch and batches indexed from the tensors (target: classifier at most 1.3x the
  hand loop);
- samples per second of both;
- the default AbsMeanClassifier (spectral initialisation, early stopping): fit time
  and test accuracy against the Bayes-optimal accuracy;
- LogisticRegression and RandomForestClassifier on the same flat data: fit time and
  test accuracy (skipped with ``--skip-baselines``).
"""

import argparse
import time

import numpy as np
import sklearn
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import geneperm_sk._block_net
from geneperm_sk import AbsMeanClassifier, AbsMeanModule, bayes_accuracy, make_geneperm

# The classifiers' Adam options (none in versions before they were set), so that
# the hand loops make the same updates.
ADAM_OPTIONS = getattr(geneperm_sk._block_net, "ADAM_OPTIONS", {})

# What ``timed`` reads: wall time by default; a script may set it to
# time.process_time, which another job on a shared machine does not inflate.
clock = time.perf_counter


def timed(function, device):
    """Run ``function`` and return ``(seconds, result)``, waiting for the GPU."""
    start = clock()
    result = function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return clock() - start, result


def best_time(function, repeats, device):
    """The minimum over ``repeats`` runs, and the result of the last run."""
    timings, result = [], None
    for _ in range(repeats):
        seconds, result = timed(function, device)
        timings.append(seconds)
    return min(timings), result


def best_times_interleaved(functions, repeats, device):
    """Run the functions in turn (A, B, A, B, ...); the best time of each, and the
    result of each one's last run."""
    timings = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            seconds, results[index] = timed(function, device)
            timings[index].append(seconds)
    return [min(seconds) for seconds in timings], results


def hand_loop(
    X,
    y,
    n_columns,
    block_size,
    epochs,
    batch_size,
    lr,
    device,
    seed,
    index_select,
    make_module=AbsMeanModule,
):
    """Train ``make_module(n_columns)`` (AbsMeanModule by default) with a minimal
    PyTorch loop; return the module.

    Batches are taken as ``X[batch]``, or with ``index_select`` (as the
    classifier's batch iterator does) when ``index_select`` is True.
    """
    X_tensor = torch.from_numpy(X).reshape(-1, block_size, n_columns).to(device)
    y_tensor = torch.as_tensor(y, dtype=torch.float32, device=device)
    torch.manual_seed(seed)
    module = make_module(n_columns).to(device)
    # The classifiers' Adam options, so that both sides make the same updates.
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, **ADAM_OPTIONS)
    criterion = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    n_samples = len(X_tensor)
    module.train()
    for _ in range(epochs):
        order = torch.randperm(n_samples, generator=generator, device=device)
        for start in range(0, n_samples, batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            if index_select:
                X_batch = X_tensor.index_select(0, batch)
                y_batch = y_tensor.index_select(0, batch)
            else:
                X_batch, y_batch = X_tensor[batch], y_tensor[batch]
            loss = criterion(module(X_batch), y_batch)
            loss.backward()
            optimizer.step()
    return module


def module_accuracy(module, X, y, n_columns, block_size, device):
    blocks = torch.from_numpy(X).reshape(-1, block_size, n_columns).to(device)
    with torch.no_grad():
        logits = module.eval()(blocks).cpu().numpy()
    return float(np.mean((logits > 0) == (y == 1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--block-size", type=int, default=8)
    parser.add_argument("--n-columns", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads for the hand loop (default: 1, as AbsMeanClassifier "
        "uses for fits on the CPU)",
    )
    parser.add_argument(
        "--hand-loop-index-select",
        action="store_true",
        help="take the hand loop's batches with index_select instead of X[batch]",
    )
    parser.add_argument(
        "--skip-baselines",
        action="store_true",
        help="skip LogisticRegression and RandomForestClassifier",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="time with the wall clock or with the process's CPU time (steadier on "
        "a busy machine; CPU only)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was given, but CUDA is not available")
    if args.clock == "cpu":
        if device.type != "cpu":
            parser.error("--clock cpu measures CPU fits only; use --device cpu")
        global clock
        clock = time.process_time
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X, y, table = make_geneperm(
        args.n_samples,
        n_columns=args.n_columns,
        block_size=args.block_size,
        random_state=0,
        return_table=True,
    )
    X_test, y_test = make_geneperm(
        args.n_samples, block_size=args.block_size, table=table, random_state=1
    )

    device_name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu, {torch.get_num_threads()} threads"
    )
    print(
        f"fit on make_geneperm(n_samples={args.n_samples}, "
        f"block_size={args.block_size}, n_columns={args.n_columns}, float32); "
        f"epochs={args.epochs}, batch_size={args.batch_size}, lr={args.lr}; "
        f"best of {args.repeats}, interleaved; {args.clock} clock"
    )
    print(
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"device {args.device} ({device_name})"
    )

    classifier = AbsMeanClassifier(
        n_columns=args.n_columns,
        init="random",
        early_stopping=False,
        max_epochs=args.epochs,
        # Full passes, as the hand loop makes.
        max_samples_per_epoch=None,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        random_state=0,
    )
    (classifier_seconds, hand_seconds), (fitted, module) = best_times_interleaved(
        [
            lambda: classifier.fit(X, y),
            lambda: hand_loop(
                X,
                y,
                args.n_columns,
                args.block_size,
                args.epochs,
                args.batch_size,
                args.lr,
                device,
                seed=0,
                index_select=args.hand_loop_index_select,
            ),
        ],
        args.repeats,
        device,
    )
    hand_accuracy = module_accuracy(
        module, X_test, y_test, args.n_columns, args.block_size, device
    )
    classifier_accuracy = fitted.score(X_test, y_test)

    spectral_repeats = min(3, args.repeats)
    spectral_seconds, spectral = best_time(
        lambda: AbsMeanClassifier(
            n_columns=args.n_columns, device=args.device, random_state=0
        ).fit(X, y),
        spectral_repeats,
        device,
    )
    spectral_epochs = len(spectral.net_.history)

    n_seen = args.n_samples * args.epochs
    rows = [
        (
            f"hand PyTorch loop (random init, {args.epochs} epochs)",
            hand_seconds,
            n_seen / hand_seconds,
            hand_accuracy,
        ),
        (
            f"AbsMeanClassifier(init=random, {args.epochs} epochs)",
            classifier_seconds,
            n_seen / classifier_seconds,
            classifier_accuracy,
        ),
        (
            f"AbsMeanClassifier() default ({spectral_epochs} epochs run)",
            spectral_seconds,
            None,
            spectral.score(X_test, y_test),
        ),
    ]
    if not args.skip_baselines:
        baselines = [
            ("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000)),
            (
                "RandomForestClassifier(100 trees)",
                RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0),
            ),
        ]
        for name, estimator in baselines:
            seconds, fitted_baseline = timed(lambda e=estimator: e.fit(X, y), device)
            rows.append((name, seconds, None, fitted_baseline.score(X_test, y_test)))

    print()
    print(f"  {'model':<48} {'fit s':>8} {'samples/s':>11} {'test acc':>9}")
    for name, seconds, throughput, accuracy in rows:
        rate = f"{throughput:11.3g}" if throughput is not None else f"{'':>11}"
        print(f"  {name:<48} {seconds:8.2f} {rate} {accuracy:9.4f}")
    print(
        f"  {'Bayes-optimal accuracy (ceiling)':<48} {'':>8} {'':>11} "
        f"{bayes_accuracy(args.block_size):9.4f}"
    )
    print()
    print(
        f"AbsMeanClassifier / hand loop:  {classifier_seconds / hand_seconds:6.2f}x"
        "  (target <= 1.3)"
    )
    print(
        f"spectral default fit is best of {spectral_repeats}; "
        "samples/s counts n_samples * epochs / best fit time"
    )


if __name__ == "__main__":
    main()
