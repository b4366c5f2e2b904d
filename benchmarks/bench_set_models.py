"""Time DeepSetsClassifier and AttentionMILClassifier against a hand-written loop,
and their default fits against AbsMeanClassifier.

Run with ``python benchmarks/bench_set_models.py`` (``--seeds 1`` for a shorter
run). Everything runs on one torch thread, as fits on the CPU do.

1. Training cost. Each classifier with ``early_stopping=False`` and full-pass
   epochs (``max_samples_per_epoch=None``) against a minimal PyTorch loop doing
   the same work: the same module (built by the classifier's own
   ``_make_module``), Adam with the same learning rate, ``BCEWithLogitsLoss``,
   epochs and batch size, data moved to the device once, a permutation per epoch
   and batches taken with ``index_select``. Timed interleaved (A, B, A, B, ...),
   best of ``--repeats`` (target: classifier at most 1.3x the hand loop).
2. Default fits at ``make_geneperm(10000, block_size=4, n_columns=20)``, scored
   on 5,000 fresh samples from the same table, for each seed: fit time, epochs
   run, epoch kept and accuracy against ``bayes_accuracy(4)`` (target: under 1 s
   at the ceiling).
3. With ``--grid``: the set models' default fits over block sizes 2, 4 and 8, 8
   and 20 columns and 2,000 and 10,000 training samples (or those of
   ``--grid-block-sizes``, ``--grid-n-columns`` and ``--grid-n-samples``), for
   each seed, scored likewise (the check that the defaults are not tuned to the
   one setting of 2).

``--n-samples`` sets the training size of 2. ``--max-samples-per-epoch`` fits
the set models of 2 and 3 with another epoch length (5000 was their default
before epochs of 2,000 samples), to print the previous defaults' figures with
the same code; ``--set NAME=VALUE ...`` sets any other of their parameters
there (``--set batch_size=128 "row_hidden_sizes=(32, 32)"``), and ``--models``
picks which set models 2 and 3 fit.
"""

import argparse
import ast
import statistics
import time

import bench_fit
import torch
from _shared import training_and_test_sets
from bench_fit import best_times_interleaved, hand_loop, module_accuracy

from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    DeepSetsClassifier,
    bayes_accuracy,
    make_geneperm,
)

N_SAMPLES, BLOCK_SIZE, N_COLUMNS, TEST_SIZE = 10_000, 4, 20, 5000
GRID_BLOCK_SIZES, GRID_N_COLUMNS, GRID_N_SAMPLES = [2, 4, 8], [8, 20], [2000, 10_000]
MODELS = {
    "DeepSetsClassifier": DeepSetsClassifier,
    "AttentionMILClassifier": AttentionMILClassifier,
}


def training_cost(args, device):
    X, y, X_test, y_test = training_and_test_sets(
        N_SAMPLES,
        TEST_SIZE,
        n_columns=N_COLUMNS,
        block_size=BLOCK_SIZE,
        seed=0,
        test_seed=1,
    )
    print(
        f"1. training cost: make_geneperm({N_SAMPLES}, block_size={BLOCK_SIZE}, "
        f"n_columns={N_COLUMNS}), {args.epochs} full epochs, no early stopping; "
        f"best of {args.repeats}, interleaved"
    )
    print(
        f"  {'model':<24} {'batch':>5} {'lr':>6} {'classifier s':>13} "
        f"{'hand loop s':>12} {'ratio':>7} {'acc':>7} {'hand acc':>8}"
    )
    for name, cls in MODELS.items():
        classifier = cls(
            n_columns=N_COLUMNS,
            early_stopping=False,
            max_epochs=args.epochs,
            max_samples_per_epoch=None,
            device=str(device),
            random_state=0,
        )
        (classifier_s, hand_s), (fitted, module) = best_times_interleaved(
            [
                lambda classifier=classifier: classifier.fit(X, y),
                lambda classifier=classifier: hand_loop(
                    X,
                    y,
                    N_COLUMNS,
                    BLOCK_SIZE,
                    args.epochs,
                    classifier.batch_size,
                    classifier.lr,
                    device,
                    seed=0,
                    index_select=True,
                    make_module=classifier._make_module,
                ),
            ],
            args.repeats,
            device,
        )
        hand_accuracy = module_accuracy(
            module, X_test, y_test, N_COLUMNS, BLOCK_SIZE, device
        )
        print(
            f"  {name:<24} {classifier.batch_size:>5} {classifier.lr:>6} "
            f"{classifier_s:>13.3f} {hand_s:>12.3f} {classifier_s / hand_s:>6.2f}x "
            f"{fitted.score(X_test, y_test):>7.4f} {hand_accuracy:>8.4f}",
            flush=True,
        )
    print("  target: classifier / hand loop <= 1.3x")


def warm_up(classes, device):
    """A first small fit of each class loads what torch, skorch and scikit-learn
    load lazily: a cost of the process, not of the fits timed after it."""
    X, y = make_geneperm(200, n_columns=N_COLUMNS, block_size=BLOCK_SIZE)
    for cls in classes:
        cls(n_columns=N_COLUMNS, max_epochs=1, device=str(device)).fit(X, y)


def default_fits(args, device):
    print(
        f"\n2. default fits{describe_params(args)} on make_geneperm({args.n_samples}, "
        f"block_size={BLOCK_SIZE}, n_columns={N_COLUMNS}), {TEST_SIZE} fresh test "
        "samples; seeds "
        f"0-{args.seeds - 1}; Bayes-optimal accuracy {bayes_accuracy(BLOCK_SIZE):.4f}"
    )
    print(
        f"  {'model':<24} {'seed':>4} {'fit s':>7} {'epochs':>6} {'kept':>4} "
        f"{'accuracy':>9} {'gap':>7}"
    )
    summary = {}
    models = {"AbsMeanClassifier": AbsMeanClassifier, **selected(args)}
    warm_up(models.values(), device)
    for seed in range(args.seeds):
        X, y, X_test, y_test = training_and_test_sets(
            args.n_samples,
            TEST_SIZE,
            n_columns=N_COLUMNS,
            block_size=BLOCK_SIZE,
            seed=seed,
            test_seed=seed + 1000,
        )
        for name, cls in models.items():
            model = cls(n_columns=N_COLUMNS, device=str(device), random_state=seed)
            if cls in MODELS.values():
                model.set_params(**set_model_params(args))
            seconds, _ = bench_fit.timed(
                lambda model=model, X=X, y=y: model.fit(X, y), device
            )
            accuracy = model.score(X_test, y_test)
            gap = bayes_accuracy(BLOCK_SIZE) - accuracy
            early_stopping = dict(model.net_.callbacks_).get("early_stopping")
            kept = "-" if early_stopping is None else early_stopping.best_epoch_
            summary.setdefault(name, []).append((seconds, gap))
            print(
                f"  {name:<24} {seed:>4} {seconds:>7.2f} {len(model.net_.history):>6} "
                f"{kept:>4} {accuracy:>9.4f} {gap:>+7.4f}",
                flush=True,
            )
    for name, results in summary.items():
        print(
            f"  {name:<24} median fit {statistics.median(r[0] for r in results):.2f} s"
            f", largest gap to Bayes {max(r[1] for r in results):+.4f}"
        )
    print("  target: set models under 1 s, within 0.01 of Bayes")


def set_model_params(args):
    """The set models' parameters that ``--max-samples-per-epoch`` and ``--set``
    give."""
    params = dict(args.set)
    if args.max_samples_per_epoch is not None:
        params["max_samples_per_epoch"] = args.max_samples_per_epoch
    return params


# What the script sets itself in every fit.
_FIXED_PARAMS = ("n_columns", "random_state", "device")


def check_set_model_params(parser, args):
    """Refuse, before any fit, a ``--set`` name that is not a parameter of every
    model of ``--models``, one the script sets itself, or one given twice."""
    names = [name for name, _ in args.set]
    if args.max_samples_per_epoch is not None:
        names.append("max_samples_per_epoch")
    for name in names:
        if names.count(name) > 1:
            parser.error(f"{name} is set more than once")
        if name in _FIXED_PARAMS:
            parser.error(f"--set {name}: the script sets {name} itself")
        for model_name, cls in selected(args).items():
            if name not in cls().get_params():
                parser.error(f"--set {name}: {model_name} has no parameter {name}")


def selected(args):
    """The set models of ``--models``."""
    return {name: MODELS[name] for name in args.models}


def parameter(text):
    """``NAME=VALUE`` of ``--set``, VALUE a Python literal."""
    name, separator, value = text.partition("=")
    if not separator or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            f"the value of {name} must be a Python literal, got {value!r}"
        ) from None


def grid(args, device):
    """Default fits of the set models over block sizes, widths and training
    sizes: accuracy, gap to the Bayes ceiling, fit time and epochs."""
    print(
        f"\n3. set models' default fits{describe_params(args)}: block sizes "
        f"{args.grid_block_sizes}, n_columns {args.grid_n_columns}, training sizes "
        f"{args.grid_n_samples}, seeds 0-{args.seeds - 1}; {TEST_SIZE} fresh test "
        "samples"
    )
    print(
        f"  {'model':<24} {'n':>6} {'block':>5} {'cols':>4} {'seed':>4} "
        f"{'fit s':>6} {'epochs':>6} {'accuracy':>8} {'gap':>7}"
    )
    totals = {}
    warm_up(selected(args).values(), device)
    for name, cls in selected(args).items():
        for n_samples in args.grid_n_samples:
            for block_size in args.grid_block_sizes:
                for n_columns in args.grid_n_columns:
                    for seed in range(args.seeds):
                        X, y, X_test, y_test = training_and_test_sets(
                            n_samples,
                            TEST_SIZE,
                            n_columns=n_columns,
                            block_size=block_size,
                            seed=seed,
                            test_seed=seed + 1000,
                        )
                        model = cls(
                            n_columns=n_columns,
                            device=str(device),
                            random_state=seed,
                            **set_model_params(args),
                        )
                        seconds, _ = bench_fit.timed(
                            lambda model=model, X=X, y=y: model.fit(X, y), device
                        )
                        accuracy = model.score(X_test, y_test)
                        gap = bayes_accuracy(block_size) - accuracy
                        total = totals.setdefault((name, n_samples), [0.0, 0.0])
                        total[0] += seconds
                        total[1] = max(total[1], gap)
                        print(
                            f"  {name:<24} {n_samples:>6} {block_size:>5} "
                            f"{n_columns:>4} {seed:>4} {seconds:>6.2f} "
                            f"{len(model.net_.history):>6} {accuracy:>8.4f} "
                            f"{gap:>+7.4f}",
                            flush=True,
                        )
    for (name, n_samples), (seconds, gap) in totals.items():
        print(
            f"  {name:<24} {n_samples:>6} samples: fit time in all {seconds:.1f} s, "
            f"largest gap to Bayes {gap:+.4f}"
        )


def describe_params(args):
    params = set_model_params(args)
    if not params:
        return ""
    return " with " + ", ".join(f"{name}={value!r}" for name, value in params.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--skip-defaults", action="store_true")
    parser.add_argument(
        "--n-samples",
        type=int,
        default=N_SAMPLES,
        help="the training samples of the default fits (2.)",
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="also fit the set models over block sizes, widths and training sizes",
    )
    for name, default in [
        ("block-sizes", GRID_BLOCK_SIZES),
        ("n-columns", GRID_N_COLUMNS),
        ("n-samples", GRID_N_SAMPLES),
    ]:
        parser.add_argument(
            f"--grid-{name}",
            type=int,
            nargs="+",
            default=default,
            help=f"the grid's {name.replace('-', ' ')} (default: {default})",
        )
    parser.add_argument(
        "--max-samples-per-epoch",
        type=int,
        default=None,
        help="the set models' epoch length in the default fits and the grid "
        "(default: their default)",
    )
    parser.add_argument(
        "--set",
        type=parameter,
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="more parameters of the set models in the default fits and the grid, "
        "e.g. batch_size=128 'row_hidden_sizes=(32, 32)'",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="the set models of the default fits and the grid (default: both)",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="time with the wall clock or with the process's CPU time (steadier on "
        "a busy machine; CPU only)",
    )
    args = parser.parse_args()
    check_set_model_params(parser, args)
    device = torch.device(args.device)
    if args.clock == "cpu":
        if device.type != "cpu":
            parser.error("--clock cpu measures CPU fits only; use --device cpu")
        bench_fit.clock = time.process_time
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, device {device}, one torch thread; "
        f"{args.clock} clock"
    )
    if not args.skip_cost:
        training_cost(args, device)
    if not args.skip_defaults:
        default_fits(args, device)
    if args.grid:
        grid(args, device)


if __name__ == "__main__":
    main()
