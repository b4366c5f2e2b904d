"""skorch callbacks used by the block classifiers."""

import math
from copy import deepcopy

import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = [
    "EarlyStoppingFromInitialParameters",
    "RecordRowWeights",
    "StopOnDivergence",
    "StopTraining",
    "TrainingDiverged",
]


class StopTraining(Exception):
    """Raised by a callback to end training early, as planned.

    skorch's own callbacks raise ``KeyboardInterrupt`` for this and skorch catches
    it, which also swallows a real Ctrl-C; the nets of this library catch this
    exception instead and let ``KeyboardInterrupt`` through.
    """


class TrainingDiverged(Exception):
    """Raised inside skorch's training loop when the loss or the parameters stop
    being finite; the estimator turns it into an error that names its settings.

    Parameters
    ----------
    epoch : int
        The epoch (from 1) in which training diverged.

    what : str
        What was found non-finite.
    """

    def __init__(self, epoch, what):
        super().__init__(f"epoch {epoch}: {what}")
        self.epoch = epoch
        self.what = what


class StopOnDivergence(Callback):
    """Stop training as soon as a batch loss or, at an epoch's end, a parameter is
    not finite, by raising :class:`TrainingDiverged`.

    Training on after that point only spends time: every later step is NaN.
    """

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            epoch = len(net.history)
            raise TrainingDiverged(epoch, f"the training loss became {loss}")

    def on_epoch_end(self, net, **kwargs):
        for name, parameter in net.module_.named_parameters():
            if not bool(torch.isfinite(parameter).all()):
                epoch = len(net.history)
                raise TrainingDiverged(epoch, f"the parameter {name!r} is not finite")


class RecordRowWeights(Callback):
    """Store a copy of the row weights ``w`` in the history at every epoch's end,
    as ``net.history[:, "row_weights"]``, to follow what the model learns."""

    def on_epoch_end(self, net, **kwargs):
        weights = net.module_.row_linear.weight.detach().cpu().numpy()
        net.history.record("row_weights", weights.reshape(-1).copy())


class EarlyStoppingFromInitialParameters(EarlyStopping):
    """skorch's ``EarlyStopping`` with the parameters before the first epoch as the
    first candidate.

    skorch's callback compares epochs with each other, so when training only ever
    makes a good initialisation worse it still restores the best *trained* epoch.
    Here the validation score of the initial parameters is the score to beat:
    when training ends, they are restored unless the best epoch improved on them
    by the relative ``initial_margin``. When to stop is decided as by skorch.

    Parameters
    ----------
    initial_score : float
        The monitored score (a loss: lower is better) of the parameters before
        training.

    initial_margin : float, default=0.0
        The relative improvement on ``initial_score`` that the best epoch must
        reach to replace the initial parameters.

    **kwargs
        Passed to :class:`skorch.callbacks.EarlyStopping`; ``load_best`` is True.
    """

    def __init__(self, initial_score, initial_margin=0.0, **kwargs):
        super().__init__(load_best=True, **kwargs)
        self.initial_score = initial_score
        self.initial_margin = initial_margin

    def __getstate__(self):
        state = super().__getstate__()
        state["initial_model_weights_"] = None
        return state

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.dynamic_threshold_ = self._calc_new_threshold(self.initial_score)
        self.initial_model_weights_ = deepcopy(net.module_.state_dict())
        self.best_model_weights_ = self.initial_model_weights_
        self.best_epoch_ = 0

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            # skorch's way of saying that patience ran out (see StopTraining).
            raise StopTraining from None

    def on_train_end(self, net, **kwargs):
        if self.best_epoch_ != 0:
            (best_score,) = [
                entry[self.monitor]
                for entry in net.history
                if entry["epoch"] == self.best_epoch_
            ]
            if best_score > self.initial_score * (1 - self.initial_margin):
                self.best_epoch_ = 0
                self.best_model_weights_ = self.initial_model_weights_
        super().on_train_end(net, **kwargs)
