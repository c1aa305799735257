"""What theory says about the neural families: that it has no exact result for them.

The package's exact results follow the law of a fit that is a function of its training set's
sufficient statistics (a mean, counts, moments, a kernel's points). A network trained by
stochastic gradient descent from random weights has no such law: its parameters depend on the
initialisation, the order of the minibatches and every step of the optimiser, and no closed
form, chain or recursion for the distribution of its metrics is known. :func:`explain` says so
in the prediction's notes, and names the statistical relatives whose theory describes the same
mechanism, so that a user can put the simulation beside them.
"""

from __future__ import annotations

from ..config import RunConfig
from .curves import Prediction

#: The statistical family whose exact theory is closest to each neural family's mechanism.
RELATIVES = {
    "vae": ("gaussian or mvgaussian (the variance lost to estimation at every refit) and kde "
            "(a model that memorises its samples)"),
    "charlm": ("ngram on the same corpus (the tail lost to sampling; `modelcollapse "
               "collapse-speed` and the README's comparison of the two)"),
}


def explain(config: RunConfig, out: Prediction) -> None:
    """Add the note that no exact result covers a neural family, with its relatives."""
    name = config.model.name
    relative = RELATIVES.get(name, "the statistical families")
    out.notes.append(
        f"{name}: a neural network trained by stochastic gradient descent; no exact theory "
        f"covers it (its fit is not a function of sufficient statistics with a known law), so "
        f"no curve is drawn for any metric. The closest exact results are those of "
        f"{relative}.")
