"""Small trained runs shared by the CLI tests (each trains in well under a second)."""

import pytest

from gradkit import cli

TINY_DIGITS = ["--model", "mlp", "--dataset", "digits", "--epochs", "1", "--batch-size", "64",
               "--lr", "0.1", "--schedule", "constant", "--augment", "none",
               "--set", "model.kwargs.hidden=[16]", "--no-report"]
TINY_SPIRAL = ["--model", "mlp", "--dataset", "spiral", "--epochs", "2", "--batch-size", "32",
               "--lr", "0.5", "--augment", "none", "--set", "model.kwargs.hidden=[16]"]


@pytest.fixture
def digits_argv():
    """``gradkit train`` flags of a 1-epoch MLP on the digits (constant lr: it can be
    extended; no report)."""
    return list(TINY_DIGITS)


@pytest.fixture
def spiral_argv():
    """``gradkit train`` flags of a 2-epoch MLP on the spiral (with its report)."""
    return list(TINY_SPIRAL)


@pytest.fixture(scope="session")
def tiny_digits_run(tmp_path_factory):
    """A 1-epoch MLP on the 8×8 digits: an image model with a dark training background."""
    out = tmp_path_factory.mktemp("tiny") / "digits"
    assert cli.main(["train", *TINY_DIGITS, "--out", str(out)]) == 0
    return out
