"""Spectral initialisation of the AbsMean row weights.

Each row contributes ``|w . x_r + b1|`` to its block's score, so fitting ``w`` is
kin to phase retrieval, which is classically started from a spectral estimate. On
Gene-Perm every row of a negative block is balanced, so the all-ones direction lies
in the null space of the negative rows' second-moment matrix, while rows of positive
blocks can have a nonzero sum. The direction with the largest ratio of positive-row
to negative-row second moments (a generalised eigenvector) is therefore parallel to
the all-ones vector once the negative rows span ``n_columns - 1`` dimensions.
"""

import numpy as np
import scipy.linalg
import torch
from scipy.special import expit, xlogy
from sklearn.linear_model import LogisticRegression

__all__ = ["spectral_parameters"]

# Samples per chunk when streaming over the training data, to bound extra memory.
_SAMPLES_PER_CHUNK = 16_384
# Ridge added to the denominator matrix, relative to its mean diagonal entry.
_RELATIVE_RIDGE = 1e-6
# Inverse regularisation strength of the logistic fit of the output affine: weak,
# so that the threshold is not pulled away from the smallest nonzero pooled score.
_OUTPUT_C = 1e4


def _augmented_second_moments(X, y):
    """Second moments of ``[x_r, 1]`` over rows of negative and of positive blocks.

    Returns two float64 arrays of shape ``(n_columns + 1, n_columns + 1)``.
    """
    n_columns = X.shape[2]
    moments = torch.zeros(
        2, n_columns + 1, n_columns + 1, dtype=torch.float64, device=X.device
    )
    row_counts = torch.zeros(2, dtype=torch.float64, device=X.device)
    for start in range(0, len(X), _SAMPLES_PER_CHUNK):
        blocks = X[start : start + _SAMPLES_PER_CHUNK].to(torch.float64)
        labels = y[start : start + _SAMPLES_PER_CHUNK]
        rows = torch.cat(
            [
                blocks,
                torch.ones(*blocks.shape[:2], 1, dtype=blocks.dtype, device=X.device),
            ],
            dim=2,
        ).reshape(-1, n_columns + 1)
        is_positive = labels.repeat_interleave(blocks.shape[1]).to(torch.bool)
        for label, mask in enumerate((~is_positive, is_positive)):
            class_rows = rows[mask]
            moments[label] += class_rows.T @ class_rows
            row_counts[label] += len(class_rows)
    moments /= row_counts.clamp(min=1)[:, None, None]
    negative, positive = moments.cpu().numpy()
    return negative, positive


def _top_generalised_eigenvector(numerator, denominator):
    """The ``v`` maximising ``v' numerator v / v' (denominator + ridge) v``."""
    ridge = _RELATIVE_RIDGE * max(np.trace(denominator) / len(denominator), 1e-12)
    _, vectors = scipy.linalg.eigh(
        numerator, denominator + ridge * np.eye(len(denominator))
    )
    return vectors[:, -1]


def _pooled_scores(X, directions):
    """``mean_r |[x_r, 1] . v|`` per block for each direction, shape (n, k)."""
    weights = torch.as_tensor(directions[:-1], dtype=X.dtype, device=X.device)
    biases = torch.as_tensor(directions[-1], dtype=X.dtype, device=X.device)
    pooled = [
        (X[start : start + _SAMPLES_PER_CHUNK] @ weights + biases).abs().mean(dim=1)
        for start in range(0, len(X), _SAMPLES_PER_CHUNK)
    ]
    return torch.cat(pooled).cpu().numpy().astype(np.float64)


def _log_loss(y, logits):
    probabilities = expit(logits)
    return -np.mean(xlogy(y, probabilities) + xlogy(1 - y, 1 - probabilities))


def spectral_parameters(X, y):
    """Initial AbsMean parameters from second moments and a one-feature logistic fit.

    Two candidate row directions are computed: the one whose row scores are large
    on positive blocks and small on negative ones, and the reverse. Each is scaled
    so that row scores have unit second moment, the output affine is fitted by
    logistic regression on the pooled scores, and the candidate with the lower
    training log-loss is returned.

    Parameters
    ----------
    X : torch.Tensor of shape (n_blocks, block_size, n_columns)
        Training blocks, on the training device.

    y : torch.Tensor of shape (n_blocks,)
        Labels, 1 for the positive class and 0 for the negative one.

    Returns
    -------
    parameters : dict
        ``row_weights`` (ndarray of shape (n_columns,)), ``row_bias``,
        ``output_weight`` and ``output_bias`` (floats).
    """
    negative, positive = _augmented_second_moments(X, y)
    positive_fraction = float(y.to(torch.float64).mean())
    overall = positive_fraction * positive + (1 - positive_fraction) * negative
    directions = np.stack(
        [
            _top_generalised_eigenvector(positive, negative),
            _top_generalised_eigenvector(negative, positive),
        ],
        axis=1,
    )
    scale = np.sqrt(np.einsum("ik,ij,jk->k", directions, overall, directions))
    directions /= np.maximum(scale, np.finfo(np.float64).tiny)

    pooled = _pooled_scores(X, directions)
    labels = y.cpu().numpy().astype(np.float64)
    best = None
    for k in range(directions.shape[1]):
        output = LogisticRegression(C=_OUTPUT_C).fit(pooled[:, [k]], labels)
        loss = _log_loss(labels, output.decision_function(pooled[:, [k]]))
        if best is None or loss < best[0]:
            best = (loss, k, output)
    _, k, output = best
    return {
        "row_weights": directions[:-1, k],
        "row_bias": directions[-1, k],
        "output_weight": output.coef_[0, 0],
        "output_bias": output.intercept_[0],
    }
