"""The shared descriptions of the block classifiers' docstrings."""

import re

import pytest

from geneperm_sk import AbsMeanClassifier, AttentionMILClassifier, DeepSetsClassifier
from geneperm_sk._docstrings import BLOCK_CLASSIFIER_DOCS, Substitution

CLASSIFIERS = [AbsMeanClassifier, DeepSetsClassifier, AttentionMILClassifier]


def test_placeholders_take_the_indent_of_their_line():
    @Substitution(entry="name : int\n    What it is.\n\n    Second paragraph.")
    def documented():
        """Summary.

        Parameters
        ----------
        {entry}
        """

    assert documented.__doc__ == (
        "Summary.\n\n        Parameters\n        ----------\n"
        "        name : int\n            What it is.\n\n"
        "            Second paragraph.\n        "
    )


def test_an_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError, match=r"\{missing\} has no text.*'known'"):

        @Substitution(known="text")
        def documented():
            """Summary.

            {missing}
            """


def test_text_in_braces_within_a_line_is_left_alone():
    @Substitution(known="text")
    def documented():
        """Summary.

        pooling : {"mean", "max"}, default="mean"
        """

    assert '{"mean", "max"}' in documented.__doc__


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda cls: cls.__name__)
def test_classifier_docstrings_hold_the_shared_text_and_no_placeholder(estimator):
    docstring = estimator.__doc__
    assert not re.search(r"^\s*\{\w+\}\s*$", docstring, re.M)
    for name in ("layout_parameters", "max_samples_per_epoch", "device", "device_"):
        first_line = BLOCK_CLASSIFIER_DOCS[name].splitlines()[0]
        assert first_line in docstring, (name, estimator.__name__)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda cls: cls.__name__)
def test_the_documented_epoch_length_is_the_default(estimator):
    documented = re.search(
        r"^\s*max_samples_per_epoch : int(?:, None or \"auto\"| or None), "
        r"default=(\"auto\"|[\d_]+)$",
        estimator.__doc__,
        re.M,
    )
    default = estimator().get_params()["max_samples_per_epoch"]
    assert documented is not None, estimator.__name__
    written = documented.group(1)
    assert (written.strip('"') if default == "auto" else int(written)) == default
