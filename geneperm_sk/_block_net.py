"""The scikit-learn base of the block classifiers: a torch module trained by skorch.

Everything that does not depend on the model lives here, written once: reading
2-D or 3-D input as blocks of rows and sequences of bags of any size, validation,
seeding without touching the global random state, the device, batching, early
stopping from the initial parameters, divergence checks, batch-invariant
prediction and saving to a plain file. A model class adds its module
(``_make_module``) and whatever is truly its own.
"""

import math
import numbers
import sys
import threading
import warnings
from contextlib import contextmanager
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNetBinaryClassifier
from threadpoolctl import ThreadpoolController
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits

from ._batching import BagSubset, BlockBatchIterator, BlockSubset
from ._callbacks import (
    EarlyStoppingFromInitialParameters,
    StopOnDivergence,
    StopTraining,
    TrainingDiverged,
)
from ._layout import (
    Bags,
    check_bags,
    check_finite_bags,
    check_finite_blocks,
    check_fitted_layout,
    is_bag_sequence,
    resolve_layout,
    split_layout,
)
from ._model_file import (
    encode_labels,
    encode_parameters,
    read_model_file,
    write_model_file,
)
from ._spectral import input_scale

__all__ = ["BlockNetClassifier"]

# Input dtypes kept as they are (converted to float32 a batch at a time); any other
# dtype is converted to float32 once, as scikit-learn estimators do.
_KEPT_DTYPES = [np.float32, np.float64, np.int8]
_KEPT_DTYPE_NAMES = ("float32", "float64", "int8")
# Values (blocks x rows x columns) per forward pass at prediction and validation
# time: 4 MiB of float32, small enough to stay in cache and to be allocated
# without fresh pages (larger gathers were several times slower), large enough to
# amortise the per-pass overhead. At prediction every pass has exactly this shape,
# padded with zeros, so that a sample's score is computed by the same kernels
# whatever else is predicted with it.
_CHUNK_VALUES = 1 << 20
# Rows per forward pass of bags are a multiple of this, so that elementwise
# kernels treat every row with the same (vector) code; see _modules.py.
_ROW_MULTIPLE = 64


def _adam_options():
    """Adam's options: the fused kernel updates all parameters in one call
    instead of several small operations per parameter tensor (the same update);
    for these small models that is 15-30% of a training step
    (benchmarks/bench_set_models.py). torch before 2.4 has no fused kernel for
    the CPU: then none."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, ValueError, TypeError):
        return {}
    return {"fused": True}


ADAM_OPTIONS = _adam_options()
# torch.optim.Adam's default eps.
_ADAM_EPS = 1e-8

# The most samples set aside for early stopping, however many there are. The
# validation loss only has to rank epochs against each other and against the
# start (by a 10% margin), on the same samples. Near the ceiling the per-sample
# log-loss of a fit on Gene-Perm has a coefficient of variation of about 4 at
# block size 4 (0.8 at block size 1), so 15,000 samples put the standard error
# of the mean loss at 3.3% of it, a third of the margin
# (benchmarks/bench_validation_size.py). At larger block sizes
# the loss is a count of the rare blocks that no model can classify (a fraction
# 2**-(block_size + 1)), and more of them tell two fits at the ceiling no better
# apart. Below 150,000 samples (at the default validation_fraction of 0.1) the
# cap changes nothing; above, it keeps the validation passes, which ran over
# 100,000 blocks every epoch at 1,000,000 samples, to a fixed cost.
MAX_VALIDATION_SAMPLES = 15_000
# The validation samples are read once per epoch and again for the gain test: up
# to this many bytes of them are gathered once, and each pass over them is then
# slices of that copy (at 10,000 blocks of 16 x 64 the fit's second gather of
# them cost more than its validation pass); more are gathered a batch at a time
# on each pass, so that the copy never weighs on the memory of a large fit.
_GATHERED_VALIDATION_BYTES = 32 << 20
# The target types scikit-learn's classifiers accept (check_classification_targets).
_CLASSIFICATION_TARGET_TYPES = (
    "binary",
    "multiclass",
    "multiclass-multioutput",
    "multilabel-indicator",
    "multilabel-sequences",
)


def resolve_device(device, owner):
    """The torch.device for a ``device`` parameter: 'auto', 'cpu', 'cuda[:N]'."""
    expected = (
        f"The 'device' parameter of {owner} must be 'auto', 'cpu', 'cuda' or "
        "'cuda:N' (or a torch.device of type cpu or cuda)"
    )
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{expected}. Got {device!r} instead.") from error
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(
            f"{expected}. Got {device!r}, a {resolved.type!r} device, which "
            f"{owner} does not support."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter of {owner} is {device!r}, but CUDA is not "
                "available on this machine. Use device='cpu' or device='auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter of {owner} is {device!r}, but this machine "
                f"has {torch.cuda.device_count()} CUDA device(s)."
            )
    return resolved


def seed_from(random_state):
    """An int seed: fixed for an int, drawn from a RandomState instance, fresh for
    None (from the operating system, leaving numpy's global state untouched)."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31))
    return int(check_random_state(random_state).randint(2**31))


class _OneThreadPins:
    """The thread settings of torch, OpenMP and BLAS while fits run on one
    thread, shared by fits running in several Python threads.

    Some of these settings belong to the process (OpenBLAS built with
    pthreads) and some to each thread (OpenMP's, and torch's when raised), so
    neither a per-thread save and restore nor a single process-wide one is
    right: a fit entering while another runs would save the pinned value and
    restore it for good, or a restore done in another thread would leave this
    one pinned. Here the first fit in records the settings as they were, every
    fit pins its own thread, and every fit leaving restores its own thread to
    the recorded settings; the last one out forgets them.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._torch = None
        self._native = None
        self._controller = None
        self._modules_seen = None

    def _native_controller(self):
        """threadpoolctl's handle on the loaded OpenMP and BLAS libraries.

        Finding them reads the process's list of shared libraries (about 4 ms,
        a forward pass over 10,000 blocks), so the handle is kept and looked up
        again only when Python has imported modules since: native libraries
        arrive with the extension modules that load them.
        """
        if self._controller is None or self._modules_seen != len(sys.modules):
            self._controller = ThreadpoolController()
            self._modules_seen = len(sys.modules)
        return self._controller

    def enter(self, native_libraries):
        with self._lock:
            controller = self._native_controller()
            if self._users == 0:
                self._torch = torch.get_num_threads()
                self._native = {
                    info["prefix"]: info["num_threads"] for info in controller.info()
                }
            self._users += 1
            torch.set_num_threads(1)
            if native_libraries:
                controller.limit(limits=1)

    def leave(self, native_libraries):
        with self._lock:
            torch.set_num_threads(self._torch)
            if native_libraries:
                self._native_controller().limit(limits=self._native)
            self._users -= 1
            if self._users == 0:
                self._torch = self._native = None


# Held while a fit seeds the global CPU generator and makes its module.
_RNG_LOCK = threading.Lock()
_PINS = _OneThreadPins()


@contextmanager
def one_thread_on(device, *, native_libraries=False):
    """Run torch (and with ``native_libraries`` also OpenMP and BLAS, as used by
    scikit-learn) on one CPU thread while working on the CPU.

    The models of this library do little work per operation, so threads only add
    synchronisation, most of all on a busy machine
    (benchmarks/bench_threads.py); the spectral start's eigenproblem is no
    different. When joblib or Dask runs several fits side by side, each fit taking
    every core would oversubscribe the machine.
    The settings the first of concurrent fits found are restored in each
    thread as its fit ends, whatever order concurrent ones end in.
    """
    if device.type != "cpu":
        yield
        return
    _PINS.enter(native_libraries)
    try:
        yield
    finally:
        _PINS.leave(native_libraries)


class _BlockNet(NeuralNetBinaryClassifier):
    """skorch's binary classifier net, except that Ctrl-C stops ``fit``.

    skorch catches ``KeyboardInterrupt`` in ``partial_fit`` so that a notebook user
    keeps the model trained so far. Inside a library call that returns a
    half-trained model with no word, so here the interrupt propagates.
    """

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        if not self.initialized_:
            self.initialize()
        self.notify("on_train_begin", X=X, y=y)
        try:
            # skorch 1.4's fit passes its routing method in fit_params; older
            # releases neither pass nor accept one.
            self.fit_loop(X, y, **fit_params)
        except StopTraining:
            pass
        self.notify("on_train_end", X=X, y=y)
        return self

    def notify(self, method_name, **cb_kwargs):
        # A callback that ends training at an epoch's end must not keep the
        # callbacks after it, skorch's epoch table last of all, from seeing
        # that epoch: a fit stopped after its first epoch printed no table.
        if method_name != "on_epoch_end":
            return super().notify(method_name, **cb_kwargs)
        self.on_epoch_end(self, **cb_kwargs)
        stop = None
        for _, callback in self.callbacks_:
            try:
                callback.on_epoch_end(self, **cb_kwargs)
            except StopTraining as error:
                stop = error
        if stop is not None:
            raise stop

    def _set_training(self, training=True):
        # skorch sets the mode of the module and the criterion before every batch,
        # walking the module tree each time; only a change of mode needs that.
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)


class _IndexSplit:
    """A skorch ``train_split``: the training samples at fixed positions, without
    a copy, and a fixed validation subset."""

    def __init__(self, train, valid_subset):
        self.train = train
        self.valid_subset = valid_subset

    def __call__(self, dataset, y=None, **fit_params):
        if not isinstance(dataset, BlockSubset | BagSubset):
            dataset = BlockSubset(dataset.X, dataset.y)
        return dataset.subset(self.train), self.valid_subset


class BlockNetClassifier(ClassifierMixin, BaseEstimator):
    """Base class of binary classifiers of blocks of rows trained with skorch.

    Not meant to be used directly: a subclass defines ``__init__`` with its
    parameters (at least those of ``_parameter_constraints`` here) and
    ``_make_module(n_columns)``, which returns a torch module mapping blocks of
    shape ``(n_blocks, block_size, n_columns)`` to logits of shape
    ``(n_blocks,)``, and bags (``forward(rows, offsets)``) likewise, with the
    stages ``row_features``, ``pool_features`` and ``head_logits``, and
    ``_input_layers()``, the linear layers that read the rows' features (see
    :class:`AbsMeanModule`). It may override ``_initialize_module`` to set the
    parameters before training (returning the input scale) and
    ``_extra_callbacks`` to add skorch callbacks.
    A model whose module has ``row_scores`` and ``row_scores_from_features``
    sets ``_has_row_scores`` to offer :meth:`row_scores`.

    Input is 2-D or 3-D blocks of ``block_size`` rows, or a sequence of bags
    (2-D arrays of any number of rows). A model fitted on bags has
    ``block_size_`` None and ``n_features_in_ == n_columns_``, and predicts
    bags and 3-D blocks of any size; a model fitted on blocks predicts blocks
    of its layout and bags of any size.
    """

    _parameter_constraints: dict = {
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_columns": [Interval(Integral, 1, None, closed="left"), None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_samples_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        # "auto": each model class says how long (_early_stopping_options).
        "n_iter_to_first_gain": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Whether a non-finite input always gives a non-finite score. When True,
    # prediction checks its input for NaN and infinity only if a score is not
    # finite, saving a pass over the data; the error is the same.
    _nonfinite_input_gives_nonfinite_score = False

    # With early stopping, an epoch replaces the initial parameters only if it
    # lowers their validation loss by this fraction. For AbsMean's spectral start,
    # smaller gains on validation sets of a few dozen samples are noise, and
    # accepting them moved the start off the all-ones direction
    # (benchmarks/bench_early_stopping.py); the set models' defaults were chosen
    # with the same margin. A model class may set its own.
    _initial_loss_margin = 0.1

    # With early stopping, an epoch that beats the margin replaces the initial
    # parameters only if its mean per-sample improvement on the validation part
    # (paired: the same samples under both) exceeds this many standard errors.
    # The margin alone is a fixed fraction whatever the validation size: on the
    # 4 to 7 validation samples of a fit on 32 to 64 samples one sample's loss
    # decides it, and a trained epoch replaced a spectral start at the ceiling
    # with one 4 points under (benchmarks/bench_small_fits.py). None judges by
    # the margin alone.
    _gain_standard_errors = 2.0

    # Whether the model scores single rows (see row_scores).
    _has_row_scores = False

    # -- what a model class provides ---------------------------------------------

    def _make_module(self, n_columns):
        raise NotImplementedError

    def _initialize_module(self, module, X, y, train_indices):
        """Set the module's parameters before training, and return the input
        scale: the power of two nearest the root mean square of the entries
        (see _fit). By default the parameters are torch's, with the weights
        that read the features divided by the scale."""
        scale = input_scale(X, y, train_indices)
        with torch.no_grad():
            for layer in module._input_layers():
                layer.weight /= scale
        return scale

    def _extra_callbacks(self):
        """(name, callback) pairs to add, and history keys not to print.

        The batches the callbacks are shown share memory: each training and
        validation batch is gathered where the one before it was, so a
        callback that keeps a batch past its ``on_batch_end`` must copy it.
        """
        return [], []

    def _early_stopping_options(self, n_training_samples):
        """More keyword arguments of :class:`EarlyStoppingFromInitialParameters`
        for a fit on ``n_training_samples`` (default: the wait for the first
        gain, "auto" waiting as long as training runs; a model class may give
        "auto" a shorter wait)."""
        wait = self.n_iter_to_first_gain
        if wait == "auto":
            wait = max(self.max_epochs, 1)
        return {"patience_before_gain": wait}

    def _samples_per_epoch(self):
        """``max_samples_per_epoch`` as a number of samples, or None for full
        passes (a model class may accept "auto" and give it a meaning)."""
        return self.max_samples_per_epoch

    # -- input -------------------------------------------------------------------

    def _as_blocks(self, X, device, block_size=None):
        """2-D validated ``X`` as a tensor of blocks on ``device``, without a copy
        when ``X`` is C-contiguous and ``device`` is the CPU."""
        block_size = self.block_size_ if block_size is None else block_size
        blocks = X.reshape(len(X), block_size, self.n_columns_)
        if not blocks.flags.c_contiguous:  # views such as X[::-1] or Fortran order
            blocks = np.ascontiguousarray(blocks)
        return _tensor(blocks).to(device)

    def _validated_prediction_input(self, X):
        """Validate X for prediction. Returns ``(checked, data)``: the 2-D array
        (or the bags' rows) to check for non-finite values, and a CPU tensor of
        blocks or :class:`Bags` of numpy arrays."""
        check_is_fitted(self)
        owner = type(self).__name__
        ensure_all_finite = not self._nonfinite_input_gives_nonfinite_score
        if is_bag_sequence(X) or (isinstance(X, list | tuple) and len(X) == 0):
            bags = check_bags(
                X, owner, dtype=_KEPT_DTYPE_NAMES, n_columns=self.n_columns_
            )
            if ensure_all_finite:
                check_finite_bags(bags, type(self).__name__)
            return bags.rows, bags
        X, layout = split_layout(X, owner)
        if self.block_size_ is None:  # fitted on bags: blocks of any size
            return self._validated_blocks_for_bag_model(X, layout, ensure_all_finite)
        check_fitted_layout(owner, (self.block_size_, self.n_columns_), layout)
        X = validate_data(
            self, X, dtype=_KEPT_DTYPES, reset=False, ensure_all_finite=False
        )
        if ensure_all_finite:
            check_finite_blocks(X, owner)
        return X, self._as_blocks(X, torch.device("cpu"))

    def _validated_blocks_for_bag_model(self, X, layout, ensure_all_finite):
        owner = type(self).__name__
        if layout is None:
            raise ValueError(
                f"{owner} was fitted on bags of rows, so it cannot tell how to split "
                "2-D X into rows. Pass X as a sequence of bags (2-D arrays of "
                f"shape (n_rows, {self.n_columns_})) or as 3-D blocks of shape "
                f"(n_samples, block_size, {self.n_columns_})."
            )
        if layout[1] != self.n_columns_:
            raise ValueError(
                f"{owner} was fitted on bags of rows of {self.n_columns_} columns, "
                f"but got 3-D X of shape (n_samples, {layout[0]}, {layout[1]})."
            )
        X = check_array(
            X,
            dtype=_KEPT_DTYPES,
            input_name="X",
            estimator=self,
            ensure_all_finite=False,
        )
        if ensure_all_finite:
            check_finite_blocks(X, owner)
        return X, self._as_blocks(X, torch.device("cpu"), block_size=layout[0])

    def _validated_training_bags(self, X, y):
        """Bags and labels for fit; sets the fitted layout of a bag model."""
        name = type(self).__name__
        bags = check_bags(X, name, dtype=_KEPT_DTYPE_NAMES)
        n_columns = bags.rows.shape[1]
        if self.n_columns is not None and self.n_columns != n_columns:
            raise ValueError(
                f"{name} got bags of rows of {n_columns} columns in X, but "
                f"n_columns={self.n_columns} was given."
            )
        sizes = bags.sizes
        if self.block_size is not None and (sizes != self.block_size).any():
            raise ValueError(
                f"{name} got block_size={self.block_size}, but X is a sequence of "
                f"bags of {sizes.min()} to {sizes.max()} rows. block_size splits 2-D "
                "X into rows; leave it None for bags."
            )
        check_finite_bags(bags, type(self).__name__)
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True
        )
        if len(y) != bags.n_bags:
            raise ValueError(
                f"{name} got {bags.n_bags} bags in X but {len(y)} labels in y."
            )
        self.block_size_, self.n_columns_ = None, n_columns
        self.n_features_in_ = n_columns
        return bags, y

    # -- fit ---------------------------------------------------------------------

    def _forget_fit(self):
        """Drop fitted attributes, so that a failed or interrupted fit leaves an
        unfitted estimator rather than a mix of two fits."""
        for name in [name for name in vars(self) if name.endswith("_")]:
            if not name.startswith("__"):
                delattr(self, name)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the model on blocks ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns) or \
                (n_samples, block_size, n_columns), or sequence of bags
            The blocks. 2-D input lays each block's rows end to end and needs one
            of ``block_size`` or ``n_columns``. float32, float64 and int8 arrays
            are used as they are, without a copy, and converted to float32 a
            mini-batch at a time; other dtypes are converted to float32 first.
            A list (or 1-D object array) of 2-D arrays of shape
            ``(n_rows_i, n_columns)`` is a sequence of bags of any sizes: their
            rows are concatenated once and pooled bag by bag, never padded.

        y : array-like of shape (n_samples,)
            Two class labels.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._forget_fit()
        try:
            device = resolve_device(self.device, type(self).__name__)
            with one_thread_on(device, native_libraries=True):
                return self._fit(X, y, device)
        except BaseException:
            # A failed or interrupted fit leaves an unfitted estimator.
            self._forget_fit()
            raise

    def _fit(self, X, y, device):
        name = type(self).__name__
        bags = None
        if is_bag_sequence(X):
            bags, y = self._validated_training_bags(X, y)
        else:
            X, layout = split_layout(X, name)
            X, y = validate_data(
                self, X, y, dtype=_KEPT_DTYPES, ensure_all_finite=False
            )
            check_finite_blocks(X, name)
            self.block_size_, self.n_columns_ = resolve_layout(
                name, self.block_size, self.n_columns, layout, X.shape[1]
            )
        # scikit-learn's check_classification_targets, with the target type it
        # computes kept: working it out reads y, and was done twice.
        target_type = type_of_target(y, input_name="y")
        if target_type not in _CLASSIFICATION_TARGET_TYPES:
            raise ValueError(
                f"Unknown label type: {target_type}. Maybe you are trying to fit a "
                "classifier, which expects discrete classes on a regression target "
                "with continuous values."
            )
        if target_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {target_type}."
            )
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise ValueError(
                f"{name} is a binary classifier and needs exactly 2 classes in y; "
                f"got 1 class: {classes.tolist()}."
            )
        early_stopping = self._uses_early_stopping(y_encoded)
        seed = seed_from(self.random_state)

        labels = torch.as_tensor(y_encoded, dtype=torch.float32, device=device)
        if bags is None:
            blocks = self._as_blocks(X, device)
            dataset = BlockSubset(blocks, labels)
        else:  # the rows once, and the bag offsets
            blocks = Bags(
                _tensor(bags.rows).to(device), _tensor(bags.offsets).to(device)
            )
            dataset = BagSubset(blocks.rows, blocks.offsets, labels)
        del X, bags  # the training tensors hold the data
        train = valid = None
        if early_stopping:
            train_positions, valid_positions = self._validation_split(y_encoded, seed)
            train = torch.as_tensor(train_positions, device=device)
            valid = torch.as_tensor(valid_positions, device=device)

        # torch initialises layers from the global CPU generator: seed it for the
        # module's making only, under a lock so that fits in other threads
        # neither draw from nor restore it meanwhile. Only the CPU generator is
        # seeded and restored (torch.manual_seed would reseed every CUDA device).
        with _RNG_LOCK, torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            module = self._make_module(self.n_columns_)
        module = module.to(device)
        # The model is the same for c * X with the weights that read X divided
        # by c: those weights start scaled by the data's scale (a power of two,
        # so exactly), and Adam's steps on them too (_make_net). Fits of c * X
        # and X then give the same predictions.
        scale = self._initialize_module(module, blocks, labels, train)

        callbacks, hidden_keys = self._extra_callbacks()
        callbacks = [("stop_on_divergence", StopOnDivergence()), *callbacks]
        if early_stopping:
            valid_subset = dataset.subset(valid)
            if valid_subset.n_bytes() <= _GATHERED_VALIDATION_BYTES:
                valid_subset = valid_subset.gathered()
            initial_losses = self._validation_losses(module, valid_subset)
            gain_test = {}
            if self._gain_standard_errors is not None:
                gain_test = {
                    "initial_losses": initial_losses,
                    "sample_losses": partial(
                        self._validation_losses, subset=valid_subset
                    ),
                    "gain_standard_errors": self._gain_standard_errors,
                }
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStoppingFromInitialParameters(
                        float(initial_losses.mean()),
                        initial_margin=self._initial_loss_margin,
                        patience=self.n_iter_no_change,
                        **gain_test,
                        **self._early_stopping_options(len(train)),
                    ),
                )
            )
        net = self._make_net(
            module,
            callbacks=callbacks,
            hidden_keys=hidden_keys,
            train_split=_IndexSplit(train, valid_subset) if early_stopping else None,
            seed=seed,
            device=device,
            input_scale=scale,
        )
        try:
            if isinstance(dataset, BagSubset):
                net.fit(dataset, None)
            else:
                net.fit(blocks, labels)
        except TrainingDiverged as diverged:
            raise self._divergence_error(diverged.epoch, diverged.what) from None
        except RuntimeError as error:
            if "overflow" not in str(error):
                raise
            epoch = max(len(net.history), 1)
            raise self._divergence_error(epoch, str(error)) from error
        # The split holds the training tensors: keep them out of the fitted model.
        net.train_split = None
        self.classes_ = classes
        self.device_ = device
        self.net_ = net
        return self

    def _make_net(
        self,
        module,
        *,
        callbacks,
        hidden_keys,
        train_split,
        seed,
        device,
        input_scale=1.0,
    ):
        net = self._make_skorch_net(
            module,
            callbacks=callbacks,
            hidden_keys=hidden_keys,
            train_split=train_split,
            seed=seed,
            device=device,
        )
        # Adam's steps have the size of lr whatever the gradient's scale: on
        # features scaled by s the weights that read them, scaled by 1 / s, take
        # steps of lr / s, and eps grows with the gradients (both exact: s is a
        # power of 2).
        if input_scale != 1.0:
            names = {id(layer): name for name, layer in module.named_modules()}
            options = {"lr": self.lr / input_scale, "eps": _ADAM_EPS * input_scale}
            net.set_params(
                optimizer__param_groups=[
                    (f"{names[id(layer)]}.weight", options)
                    for layer in module._input_layers()
                ]
            )
        return net

    def _make_skorch_net(
        self, module, *, callbacks, hidden_keys, train_split, seed, device
    ):
        return _BlockNet(
            module,
            optimizer=torch.optim.Adam,
            **{f"optimizer__{key}": value for key, value in ADAM_OPTIONS.items()},
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            # The validation loss drives early stopping; accuracy is not needed.
            callbacks__valid_acc=None,
            **self._epoch_table_options(hidden_keys),
            iterator_train=BlockBatchIterator,
            iterator_train__shuffle=True,
            iterator_train__random_state=np.random.default_rng(seed),
            iterator_train__max_samples_per_iteration=self._samples_per_epoch(),
            # A training step is done with its batch (forward, backward and
            # Adam's step) before skorch asks for the next: the batches can
            # share memory (a gather into fresh memory costs a third more,
            # benchmarks/bench_step_cost.py).
            iterator_train__reuse_memory=True,
            iterator_valid=BlockBatchIterator,
            **{
                f"iterator_valid__{key}": value
                for key, value in self._pass_sizes(module).items()
            },
            iterator_valid__reuse_memory=True,
            device=device,
            verbose=self.verbose,
        )

    def _epoch_table_options(self, hidden_keys):
        # skorch's epoch table formats every epoch's row whatever the
        # verbosity: without verbose there is none.
        if not self.verbose:
            return {"callbacks__print_log": None}
        return {"callbacks__print_log__keys_ignored": hidden_keys}

    def _divergence_error(self, epoch, what):
        return ValueError(
            f"{type(self).__name__} training diverged in epoch {epoch}: {what}. The "
            "model would predict garbage, so none is returned. Lower the learning "
            f"rate (lr={self.lr!r}), or scale the features of X."
        )

    def _widest(self, module):
        """The most values per row in any linear layer of ``module``."""
        widths = [self.n_columns_]
        widths += [
            layer.out_features
            for layer in module.modules()
            if isinstance(layer, nn.Linear)
        ]
        return max(widths)

    def _blocks_per_pass(self, module, block_size=None):
        """Blocks per forward pass outside training, so that neither the input
        nor the output of any linear layer of ``module`` holds more than
        ``_CHUNK_VALUES`` values (set models have layers wider than a row)."""
        block_size = self.block_size_ if block_size is None else block_size
        return max(1, _CHUNK_VALUES // (block_size * self._widest(module)))

    def _rows_per_pass(self, module):
        """Rows of bags per forward pass outside training: as many as
        ``_blocks_per_pass`` allows for one-row blocks, in whole multiples of
        ``_ROW_MULTIPLE``."""
        rows = _CHUNK_VALUES // self._widest(module)
        return max(_ROW_MULTIPLE, rows - rows % _ROW_MULTIPLE)

    def _pass_sizes(self, module):
        """The batch sizes of a pass over the validation data: blocks, or bags
        up to ``_rows_per_pass`` rows (or one larger bag)."""
        if self.block_size_ is not None:
            return {"batch_size": self._blocks_per_pass(module)}
        rows = self._rows_per_pass(module)
        return {"batch_size": rows, "max_rows_per_batch": rows}

    def _validation_losses(self, module, subset):
        """The binary cross-entropy of ``module`` on each sample of ``subset``,
        in order, as a float64 array; computed in the passes of the validation
        iterator, so a sample's loss does not depend on the training batches."""
        losses = []
        with torch.no_grad():
            batches = BlockBatchIterator(
                subset, **self._pass_sizes(module), reuse_memory=True
            )
            for X, y in batches:
                logits = module(**X) if isinstance(X, dict) else module(X)
                loss = binary_cross_entropy_with_logits(logits, y, reduction="none")
                losses.append(loss.to(torch.float64).cpu())
        return torch.cat(losses).numpy()

    def _validation_size(self, y_encoded):
        """Validation samples needed, and whether a stratified split can hold them:
        at least one sample of each class on either side. ``validation_fraction``
        of the samples, at most ``MAX_VALIDATION_SAMPLES``."""
        n_samples = len(y_encoded)
        n_valid = min(
            math.ceil(self.validation_fraction * n_samples), MAX_VALIDATION_SAMPLES
        )
        smallest_class = np.bincount(y_encoded).min()
        feasible = n_valid >= 2 and n_samples - n_valid >= 2 and smallest_class >= 2
        return n_valid, feasible

    def _uses_early_stopping(self, y_encoded):
        # Truth, not identity: a grid written as a numpy array passes np.bool_.
        if self.max_epochs == 0 or not self.early_stopping:
            return False
        feasible = self._validation_size(y_encoded)[1]
        if isinstance(self.early_stopping, str) or feasible:
            return feasible
        n_samples = len(y_encoded)
        smallest_class = np.bincount(y_encoded).min()
        raise ValueError(
            f"{type(self).__name__} with early_stopping=True sets aside "
            f"validation_fraction={self.validation_fraction} of the samples for "
            "validation, which needs at least 2 samples in each part and 2 of each "
            f"class; got {n_samples} samples with {smallest_class} in the smallest "
            "class. Pass early_stopping=False to train on data this small."
        )

    def _validation_split(self, y_encoded, seed):
        """Stratified train and validation positions for early stopping, each
        sorted, with at least one sample of each class on either side.

        Each class gives its share of the validation samples (rounded, and
        clipped so that both sides keep the class), drawn without replacement.
        scikit-learn's ``train_test_split`` does the same in about one forward
        pass's time at 1,000,000 samples; this takes a few milliseconds.
        """
        n_valid, _ = self._validation_size(y_encoded)
        rng = np.random.default_rng(seed)
        n_samples = len(y_encoded)
        counts = np.bincount(y_encoded, minlength=2)
        n_valid_positive = round(n_valid * counts[1] / n_samples)
        n_valid_positive = min(
            max(n_valid_positive, 1, n_valid - counts[0] + 1),
            counts[1] - 1,
            n_valid - 1,
        )
        in_validation = np.zeros(n_samples, dtype=bool)
        for label, n_label in ((0, n_valid - n_valid_positive), (1, n_valid_positive)):
            positions = np.flatnonzero(y_encoded == label)
            in_validation[rng.choice(positions, size=n_label, replace=False)] = True
        return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)

    # -- prediction --------------------------------------------------------------

    def decision_function(self, X):
        """The logit of ``classes_[1]`` for each sample.

        A sample's logit does not depend on the other samples passed with it:
        blocks are scored in forward passes of one fixed shape, so the same
        kernels compute it bit for bit whether it is predicted alone, in a slice
        or in a permuted set. Bags likewise: their rows pass through the
        row-wise layers in passes of one fixed shape, each bag is pooled on its
        own, and the pooled bags go through the head in passes of one fixed
        shape. Bags of equal size agree with the 3-D blocks of the same rows up
        to float32 rounding (the operations are grouped differently).

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_), or sequence of bags
            The blocks, or a list (or 1-D object array) of bags: 2-D arrays of
            shape ``(n_rows_i, n_columns_)``, any ``n_rows_i >= 1``.

        Returns
        -------
        logits : ndarray of shape (n_samples,)
            Positive values predict ``classes_[1]``.
        """
        X, data = self._validated_prediction_input(X)
        logits = self._score(data)
        if not np.isfinite(logits).all():
            if isinstance(data, Bags):
                check_finite_bags(data, type(self).__name__)
            check_array(
                X,
                dtype=None,
                input_name="X",
                estimator=self,
                ensure_all_finite=True,
                ensure_min_samples=0,
            )
            raise ValueError(
                f"{type(self).__name__} computed non-finite logits from finite X: "
                "the values of X are too large for float32 arithmetic."
            )
        return logits

    def _score(self, data):
        """Logits of CPU blocks or of :class:`Bags`, computed in passes of fixed
        shapes."""
        if isinstance(data, Bags):
            return self._score_bags(data)
        return self._apply_in_passes(self.net_.module_, data)

    def _score_bags(self, bags):
        """Logits of bags: row features in passes of ``_rows_per_pass`` rows,
        each bag pooled on its own, the head in passes of one fixed shape."""
        module = self.net_.module_
        pooled = [None]

        def pool(features, offsets, first_bag, end_bag):
            bag_pools = module.pool_features(features, offsets)
            if pooled[0] is None:
                pooled[0] = torch.empty(
                    (bags.n_bags, *bag_pools.shape[1:]), dtype=torch.float32
                )
            pooled[0][first_bag:end_bag] = bag_pools.cpu()

        self._stream_bags(bags, pool)
        return self._apply_in_passes(
            module.head_logits, pooled[0], per_pass=self._rows_per_pass(module)
        )

    def _stream_bags(self, bags, consume):
        """Pass the rows of ``bags`` through the module's row-wise layers in
        forward passes of one fixed shape, and hand the row features of every
        run of complete bags to ``consume(features, offsets, first_bag,
        end_bag)``, ``offsets`` relative to ``features``.

        Each pass holds exactly ``_rows_per_pass`` rows (the last one padded with
        zeros); a bag spread over several passes is kept until complete. So the
        extra memory is one pass and the features of one bag, and a bag's
        features, pooled per bag, are the same bits whatever else is passed.
        """
        module = self.net_.module_
        module.eval()
        rows, offsets = bags.rows, bags.offsets
        n_rows = len(rows)
        per_pass = self._rows_per_pass(module)
        chunk = torch.zeros((per_pass, rows.shape[1]))
        # The features of the rows from kept_from on whose bag is not complete
        # yet, one piece per pass: joined once, when the bag completes, so that
        # a bag spread over many passes costs no more than its rows.
        kept, kept_from, next_bag = [], 0, 0
        with one_thread_on(self.device_), torch.no_grad():
            for start in range(0, n_rows, per_pass):
                stop = min(start + per_pass, n_rows)
                chunk[: stop - start] = _tensor(rows[start:stop])
                chunk[stop - start :] = 0  # padding to the fixed shape
                features = module.row_features(chunk.to(self.device_))
                features = features[: stop - start]
                if not kept:
                    kept_from = start
                end_bag = int(np.searchsorted(offsets, stop, side="right")) - 1
                if end_bag == next_bag:  # no bag completes in this pass
                    # A copy: the features may be a view of the reused chunk.
                    kept.append(features.clone())
                    continue
                if kept:
                    features = torch.cat([*kept, features])
                local = offsets[next_bag : end_bag + 1] - kept_from
                consume(
                    features[: local[-1]],
                    torch.from_numpy(local).to(self.device_),
                    next_bag,
                    end_bag,
                )
                done = int(offsets[end_bag]) - kept_from
                kept = [features[done:].clone()] if done < len(features) else []
                kept_from, next_bag = int(offsets[end_bag]), end_bag

    def _apply_in_passes(self, compute, blocks, output_shape=(), per_pass=None):
        """``compute`` (the module, or one of its methods) applied to CPU
        ``blocks`` in forward passes of one fixed shape.

        Every pass holds exactly ``per_pass`` blocks (by default
        ``_blocks_per_pass`` for blocks of this size), the last one padded with
        zeros, so a block's output is computed by the same kernels whatever else
        is passed with it. Returns a float64 array of shape
        ``(n_blocks, *output_shape)``.
        """
        module = self.net_.module_
        module.eval()
        n_samples = len(blocks)
        if per_pass is None:
            per_pass = self._blocks_per_pass(module, blocks.shape[1])
        outputs = np.empty((n_samples, *output_shape), dtype=np.float64)
        converted = None
        with one_thread_on(self.device_), torch.no_grad():
            for start in range(0, n_samples, per_pass):
                chunk = blocks[start : start + per_pass]
                n_in_chunk = len(chunk)
                if n_in_chunk < per_pass or chunk.dtype != torch.float32:
                    if converted is None:
                        converted = torch.zeros(
                            (per_pass, *blocks.shape[1:]), dtype=torch.float32
                        )
                    converted[n_in_chunk:] = 0  # padding to the fixed shape
                    converted[:n_in_chunk] = chunk
                    chunk = converted
                chunk_outputs = compute(chunk.to(self.device_))[:n_in_chunk]
                outputs[start : start + n_in_chunk] = chunk_outputs.cpu().numpy()
        return outputs

    def predict_proba(self, X):
        """Class probabilities for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_), or sequence of bags
            The blocks, or a list of 2-D bags of any sizes (see
            :meth:`decision_function`).

        Returns
        -------
        probabilities : ndarray of shape (n_samples, 2)
            The probabilities of ``classes_[0]`` and ``classes_[1]``.
        """
        positive = expit(self.decision_function(X))
        return np.column_stack([1 - positive, positive])

    def predict(self, X):
        """The predicted class label of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_), or sequence of bags
            The blocks, or a list of 2-D bags of any sizes (see
            :meth:`decision_function`).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            ``classes_[1]`` where the logit is positive, ``classes_[0]`` elsewhere.
        """
        is_second_class = self.decision_function(X) > 0
        return self.classes_[is_second_class.astype(np.intp)]

    @available_if(lambda self: self._has_row_scores)
    def row_scores(self, X):
        """The score of every row of every sample: how much the model makes of it.

        What a row's score is depends on the model: ``|w . x_r + b1|`` for
        :class:`AbsMeanClassifier`, the attention weight ``a_r`` for
        :class:`AttentionMILClassifier`. Like the logits, a row's score does not
        depend on the other samples passed with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns_) or \
                (n_samples, block_size, n_columns_), or sequence of bags
            The blocks, or a list of 2-D bags of any sizes (see
            :meth:`decision_function`).

        Returns
        -------
        scores : ndarray of shape (n_samples, block_size), or list of ndarray
            For blocks, one row of scores per block; for bags, one 1-D array of
            ``n_rows_i`` scores per bag.
        """
        X, data = self._validated_prediction_input(X)
        module = self.net_.module_
        if not isinstance(data, Bags):
            return self._apply_in_passes(module.row_scores, data, data.shape[1:2])
        scores = np.empty(len(data.rows), dtype=np.float64)

        def score(features, offsets, first_bag, end_bag):
            start, stop = data.offsets[first_bag], data.offsets[end_bag]
            bag_scores = module.row_scores_from_features(features, offsets)
            scores[start:stop] = bag_scores.cpu().numpy()

        self._stream_bags(data, score)
        return [
            scores[start:stop]
            for start, stop in zip(data.offsets[:-1], data.offsets[1:], strict=True)
        ]

    # -- saving without pickle ---------------------------------------------------

    def save(self, path):
        """Write the fitted model to a plain JSON file that loads without pickle.

        The file holds the layout, the class labels, the hyperparameters, the
        module's parameters and the library version; :meth:`load` reads it back
        and predicts bit for bit as this model does. Unlike a pickle, loading it
        runs no code, so a model file from someone else is safe to load. The
        training history is not saved. The file is written under a temporary name
        and renamed when complete.

        Parameters
        ----------
        path : str or path-like
            Where to write the file (conventionally ending in ``.json``).
        """
        check_is_fitted(self)
        classes, class_kind = encode_labels(self.classes_)
        names = getattr(self, "feature_names_in_", None)
        write_model_file(
            path,
            {
                "estimator": type(self).__name__,
                "hyperparameters": self._json_hyperparameters(),
                "layout": {
                    "block_size": (
                        None if self.block_size_ is None else int(self.block_size_)
                    ),
                    "n_columns": int(self.n_columns_),
                },
                "classes": classes,
                "class_kind": class_kind,
                "feature_names_in": None if names is None else list(map(str, names)),
                "parameters": encode_parameters(self.net_.module_.state_dict()),
            },
        )

    def _json_hyperparameters(self):
        """The parameters as JSON values. Sequences are written as lists and come
        back from :meth:`load` as tuples; numpy numbers as Python numbers."""

        def as_json(value):
            if isinstance(value, torch.device):
                return str(value)
            if isinstance(value, np.random.RandomState):
                return None  # the fit is done: the seed source is not needed
            if isinstance(value, tuple | list | np.ndarray):
                return [as_json(item) for item in value]
            if isinstance(value, bool | np.bool_):
                return bool(value)
            if isinstance(value, numbers.Integral):
                return int(value)
            if isinstance(value, numbers.Real):
                return float(value)
            return value

        return {
            key: as_json(value) for key, value in self.get_params(deep=False).items()
        }

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`, without unpickling anything.

        A model saved on CUDA loads on a machine without a GPU: it then predicts
        on the CPU (with a warning when its ``device`` asked for CUDA).

        Parameters
        ----------
        path : str or path-like
            The file.

        Returns
        -------
        model : object
            The fitted classifier, an instance of this class.

        Raises
        ------
        ValueError
            When the file is not a model file of this class, or any field in it
            is malformed or inconsistent (tampered with).
        """
        name = cls.__name__
        content = read_model_file(path, name)

        def invalid(reason):
            return ValueError(f"{path} is not a valid {name} model file: {reason}.")

        hyperparameters = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in content["hyperparameters"].items()
        }
        try:
            model = cls(**hyperparameters)
            model._validate_params()
        except (TypeError, ValueError) as error:
            raise invalid(f"its hyperparameters are invalid ({error})") from None
        layout = content["layout"]
        for key in ("block_size", "n_columns"):
            if layout[key] is not None and getattr(model, key) not in (
                None,
                layout[key],
            ):
                raise invalid(
                    f"its hyperparameter {key}={getattr(model, key)} contradicts "
                    f"the fitted layout's {key}={layout[key]}"
                )
        model.block_size_ = layout["block_size"]
        model.n_columns_ = layout["n_columns"]
        model.n_features_in_ = model.n_columns_ * (model.block_size_ or 1)
        if content["feature_names_in"] is not None:
            model.feature_names_in_ = np.asarray(content["feature_names_in"], object)
        model.classes_ = content["classes"]
        module = model._make_module(model.n_columns_)
        expected = {
            key: tuple(value.shape) for key, value in module.state_dict().items()
        }
        stored = {key: value.shape for key, value in content["parameters"].items()}
        if stored != expected:
            raise invalid(
                f"its parameters have the shapes {stored}, but a {name} with these "
                f"hyperparameters and {model.n_columns_} columns has {expected}"
            )
        module.load_state_dict(
            {
                key: torch.from_numpy(value)
                for key, value in content["parameters"].items()
            }
        )
        try:
            device = resolve_device(model.device, name)
        except ValueError:
            warnings.warn(
                f"{name} was saved with device={model.device!r}, which is not "
                "available here; it predicts on the CPU.",
                UserWarning,
                stacklevel=2,
            )
            device = torch.device("cpu")
        model.device_ = device
        model.net_ = model._make_net(
            module.to(device),
            callbacks=[],
            hidden_keys=[],
            train_split=None,
            seed=0,
            device=device,
        ).initialize()
        return model

    # -- scikit-learn plumbing ---------------------------------------------------

    def _validate_params(self):
        super()._validate_params()
        # Python counts True as an int, and so does scikit-learn's Interval: a
        # size or count given as a bool is a mistake, not 1 (row_hidden_sizes=True
        # would build a layer of width 1).
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name)
            if isinstance(value, bool) and any(
                isinstance(constraint, Interval) and constraint.type is Integral
                for constraint in constraints
            ):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be an "
                    f"int, not a bool. Got {value!r} instead."
                )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.three_d_array = True
        return tags

    def __setstate__(self, state):
        # skorch loads a net fitted on CUDA onto the CPU when no GPU is present;
        # follow it so that prediction inputs go where the module is.
        super().__setstate__(state)
        if "net_" in state:
            self.device_ = torch.device(self.net_.device)


def _tensor(array):
    """A CPU tensor sharing the memory of a C-contiguous numpy array."""
    with warnings.catch_warnings():
        # Read-only input (a memory map) is never written to: no copy needed.
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.from_numpy(array)
