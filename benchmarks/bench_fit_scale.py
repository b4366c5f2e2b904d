"""Fit and prediction cost of AbsMeanClassifier against one forward pass, at scale.

Run with ``python benchmarks/bench_fit_scale.py`` (``--sizes 10000 100000`` for a
shorter run, ``--device cuda`` on a GPU machine).

For each training size and input dtype (float32, int8), a fresh process draws
``make_geneperm(n, block_size=16, n_columns=64)`` and measures, side by side:

- one forward pass ``(X @ w).abs().mean(1)`` over the same X (float32 for float32
  input; for int8 input, the int8 data converted chunk by chunk), the floor;
- the default ``AbsMeanClassifier(n_columns=64).fit``: its time, its ratio to the
  forward pass (target at most 10x at 10,000 blocks; at 1,000,000, 3x for
  float32 and 2x for int8), the epochs run and the epoch kept (0 is the
  spectral start), and its peak memory: the peak resident size during the fit
  over the size of X, counting X itself (target at most 1.3x for float32), and the
  peak growth during the fit over the size of X (target at most 2x for int8);
- ``decision_function`` over the whole X: its time and ratio to the forward pass
  (target at most 1.5x);
- the accuracy on a fresh test set of 20,000 blocks from the same table, against
  ``bayes_accuracy(16)``.

Peak memory is read from the kernel (``VmHWM``), reset before the fit through
``/proc/self/clear_refs``, so it covers the fit alone. Each timing is the best of
``--repeats`` runs (at least 15 below 1M blocks; the fit is timed once at 1M: it
is the long part), after a small warm-up fit that loads what the libraries load
lazily and two untimed calls of each timed function (the first passes over fresh
memory are slow).
"""

import argparse
import contextlib
import json
import subprocess
import sys
import time

import numpy as np
import torch
from _shared import best_time, training_and_test_sets

import geneperm_sk._absmean as absmean_module
import geneperm_sk._block_net as block_net_module
from geneperm_sk import AbsMeanClassifier, bayes_accuracy

BLOCK_SIZE = 16
N_COLUMNS = 64
N_TEST = 20_000
# The first calls of a pass over fresh memory are slow (at 10,000 blocks the
# first three forward passes took 1.6 to 2.2 times the later ones: the
# allocator and the caches warming up), so every timed function runs this many
# times untimed first, and below SMALL_SIZE each timing is the best of at least
# SMALL_SIZE_REPEATS calls: a best of 3 took the floor at 1.7 times its
# steady value there, which flattered every ratio to it.
WARM_UP_CALLS = 2
SMALL_SIZE = 1_000_000
SMALL_SIZE_REPEATS = 15


# What the timings read: wall time, or with --clock cpu this process's CPU time,
# which another job on a shared machine does not inflate (everything measured runs
# on one thread on the CPU; on CUDA only wall time means anything).
clock = time.perf_counter


def resident_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def forward_pass(blocks, weights, device, buffer):
    """``(X @ w).abs().mean(1)`` over all blocks, the cheapest full read of X.

    float32 data on the CPU are read in place; other data are converted to
    float32 (and moved to the device) a chunk at a time, into one reused buffer.
    """
    if blocks.dtype == torch.float32 and blocks.device == device:
        return (blocks @ weights).abs().mean(1)
    chunk = len(buffer)
    scores = []
    for start in range(0, len(blocks), chunk):
        piece = blocks[start : start + chunk]
        converted = buffer[: len(piece)].copy_(piece)
        scores.append((converted @ weights).abs().mean(1))
    return torch.cat(scores)


@contextlib.contextmanager
def timed_stages(seconds):
    """Add the time spent in each stage of a fit to ``seconds``, by name.

    A stage the installed version lacks is left out, so that the same script
    times an earlier version too (``PYTHONPATH`` pointing at its checkout).
    """
    net = block_net_module.BlockNetClassifier
    pins = getattr(block_net_module, "_OneThreadPins", None)
    stages = [
        (pins, "enter", "thread pins"),
        (pins, "leave", "thread pins"),
        (block_net_module, "validate_data", "input check"),
        (block_net_module, "check_finite_blocks", "input check"),
        (net, "_validation_split", "split"),
        (block_net_module, "input_scale", "input scale"),
        (absmean_module, "spectral_start", "spectral start"),
        (absmean_module, "spectral_parameters", "spectral start"),
        (net, "_validation_loss", "initial loss"),
        (net, "_validation_losses", "sample losses"),
        (block_net_module._BlockNet, "fit", "epochs"),
    ]
    stages = [stage for stage in stages if hasattr(stage[0], stage[1])]
    originals = [getattr(owner, attribute) for owner, attribute, _ in stages]

    def timed(function, label):
        def wrapper(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + clock() - start

        return wrapper

    for (owner, attribute, label), original in zip(stages, originals, strict=True):
        setattr(owner, attribute, timed(original, label))
    try:
        yield
    finally:
        for (owner, attribute, _), original in zip(stages, originals, strict=True):
            setattr(owner, attribute, original)


def measure(n_samples, dtype, device, repeats):
    if n_samples < SMALL_SIZE:
        repeats = max(repeats, SMALL_SIZE_REPEATS)
    # The floor runs on one torch thread, as fits and predictions on the CPU do.
    torch.set_num_threads(1)
    rss_before_data = resident_bytes("VmRSS")
    X, y, X_test, y_test = training_and_test_sets(
        n_samples,
        N_TEST,
        n_columns=N_COLUMNS,
        block_size=BLOCK_SIZE,
        seed=0,
        test_seed=1,
        dtype=dtype,
    )
    device = torch.device(device)
    blocks = torch.from_numpy(X.reshape(n_samples, BLOCK_SIZE, N_COLUMNS))
    weights = torch.ones(N_COLUMNS, device=device)
    buffer = torch.empty(1024, BLOCK_SIZE, N_COLUMNS, device=device)
    if device.type == "cuda":
        blocks = blocks.to(device)
        torch.cuda.synchronize()

    def forward():
        forward_pass(blocks, weights, device, buffer)
        if device.type == "cuda":
            torch.cuda.synchronize()

    forward_s = best_time(forward, repeats, clock, WARM_UP_CALLS)

    model = AbsMeanClassifier(n_columns=N_COLUMNS, device=str(device), random_state=0)
    # A first fit loads what torch, skorch and scikit-learn load lazily: a cost of
    # the process, not of the fit.
    model.fit(X[:2000], y[:2000])
    fit_repeats = 1 if n_samples >= 1_000_000 else repeats
    if n_samples < SMALL_SIZE:
        for _ in range(WARM_UP_CALLS):
            model.fit(X, y)
    fit_times = []
    for _ in range(fit_repeats):
        reset_peak()
        rss_before_fit = resident_bytes("VmRSS")
        start = clock()
        model.fit(X, y)
        fit_times.append(clock() - start)
        peak_during_fit = resident_bytes("VmHWM")
    # More fits, with each stage timed (the timing adds nothing measurable): the
    # least time of each stage, and of the whole fit, over the timed fits.
    stages = {}
    for _ in range(fit_repeats):
        fit_stages = {}
        start = clock()
        with timed_stages(fit_stages):
            model.fit(X, y)
        fit_stages["whole fit"] = clock() - start
        for label, seconds in fit_stages.items():
            stages[label] = min(stages.get(label, np.inf), seconds)
    predict_s = best_time(
        lambda: model.decision_function(X), repeats, clock, WARM_UP_CALLS
    )
    history = model.net_.history
    early_stopping = dict(model.net_.callbacks_).get("early_stopping")
    return {
        "n_samples": n_samples,
        "dtype": np.dtype(dtype).name,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "x_bytes": X.nbytes,
        "forward_s": forward_s,
        "fit_s": min(fit_times),
        "predict_s": predict_s,
        "epochs_run": len(history),
        "epoch_kept": None if early_stopping is None else early_stopping.best_epoch_,
        "peak_over_x": (peak_during_fit - rss_before_data) / X.nbytes,
        "growth_over_x": (peak_during_fit - rss_before_fit) / X.nbytes,
        "accuracy": model.score(X_test, y_test),
        "bayes": bayes_accuracy(BLOCK_SIZE),
        "stages_in_forward_passes": {
            label: seconds / forward_s for label, seconds in stages.items()
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--dtypes", nargs="+", default=["float32", "int8"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="time with the wall clock or with the process's CPU time (steadier on "
        "a busy machine; CPU only)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("N", "DTYPE"), help="internal")
    args = parser.parse_args()
    if args.clock == "cpu":
        if args.device != "cpu":
            parser.error("--clock cpu measures CPU fits only; use --device cpu")
        global clock
        clock = time.process_time
    if args.worker:
        n_samples, dtype = int(args.worker[0]), args.worker[1]
        print(json.dumps(measure(n_samples, dtype, args.device, args.repeats)))
        return

    print(
        f"AbsMeanClassifier() default fit on make_geneperm(n, block_size={BLOCK_SIZE}, "
        f"n_columns={N_COLUMNS}); torch {torch.__version__}, device {args.device}; "
        f"each row in its own process; best of {args.repeats} (of "
        f"{SMALL_SIZE_REPEATS} below {SMALL_SIZE:,} blocks; fit once at 1M), "
        f"after {WARM_UP_CALLS} untimed calls; "
        f"{args.clock} clock"
    )
    header = (
        f"{'n':>9} {'dtype':>7} {'X MiB':>7} {'fwd s':>7} {'fit s':>7} "
        f"{'fit/fwd':>8} {'pred s':>7} {'pred/fwd':>8} {'peak/X':>7} "
        f"{'grow/X':>7} {'epochs':>6} {'kept':>4} {'acc':>7} {'Bayes':>6}"
    )
    print(header)
    print("-" * len(header))
    stage_lines = []
    for n_samples in args.sizes:
        for dtype in args.dtypes:
            completed = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    str(n_samples),
                    dtype,
                    "--device",
                    args.device,
                    "--repeats",
                    str(args.repeats),
                    "--clock",
                    args.clock,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(completed.stdout.strip().splitlines()[-1])
            print(
                f"{r['n_samples']:>9} {r['dtype']:>7} {r['x_bytes'] / 2**20:>7.0f} "
                f"{r['forward_s']:>7.3f} {r['fit_s']:>7.2f} "
                f"{r['fit_s'] / r['forward_s']:>7.1f}x {r['predict_s']:>7.3f} "
                f"{r['predict_s'] / r['forward_s']:>7.2f}x {r['peak_over_x']:>6.2f}x "
                f"{r['growth_over_x']:>6.2f}x {r['epochs_run']:>6} "
                f"{r['epoch_kept'] if r['epoch_kept'] is not None else '-':>4} "
                f"{r['accuracy']:>7.4f} {r['bayes']:>6.4f}",
                flush=True,
            )
            if r["stages_in_forward_passes"]:
                parts = ", ".join(
                    f"{label} {value:.1f}"
                    for label, value in r["stages_in_forward_passes"].items()
                )
                stage_lines.append(f"  {n_samples} {dtype}: {parts}")
    if stage_lines:
        print("fit stages, in forward passes (more fits, each stage timed):")
        print("\n".join(stage_lines))
    print(
        "targets (CPU): fit/fwd <= 10x at 10,000 blocks, <= 3x (float32) and <= 2x "
        "(int8) at 1,000,000; pred/fwd <= 1.5x, peak/X <= 1.3x (float32), "
        "grow/X <= 2x (int8); one torch thread for the floor, the fit and the "
        "prediction"
    )


if __name__ == "__main__":
    main()
