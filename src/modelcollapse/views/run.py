"""A run as the figures and the report read it, and the numbers both draw.

:class:`RunView` reads each metric's trajectories of the first replicates once and computes
theory's prediction once; :func:`quantile_bands` gives the bands across replicates,
:func:`choose_scale` the log-or-linear rule, :func:`absorbed_fractions` the coin's absorbed
fractions by generation, :func:`mixture_density` mixture densities, :func:`metric_label` each
metric's title and axis label.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ..config import RunConfig
    from ..results.run import Result
    from ..theory.prediction import Prediction, TheoryCurve


#: A metric whose positive values span more than this many decades is drawn on a log axis.
LOG_DECADES = 2.0

#: The lowest value a log axis shows; smaller values (exact zeros, underflow) are drawn here.
LOG_FLOOR = 1e-300


def replicates_text(shown: int, total: int) -> str:
    """``"10 replicates"``, or ``"first 500 of 1,000,000 replicates"`` when only some are drawn."""
    if shown >= total:
        return plural(total, "replicate")
    return f"first {shown:,} of {total:,} replicates"


def plural(n: int | None, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def choose_scale(values: np.ndarray) -> tuple[str, float | None]:
    """Pick a linear or log axis for ``values`` by the log rule.

    Parameters
    ----------
    values
        Any array; non-finite entries are ignored.

    Returns
    -------
    scale
        ``"log"`` when the positive finite values span more than :data:`LOG_DECADES` decades,
        else ``"linear"``.
    floor
        For a log axis, the value at which smaller entries (zeros, underflow) are drawn, or
        ``None`` when every finite value is at least the smallest positive one and above
        :data:`LOG_FLOOR`.
    """
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if positive.size == 0:
        return "linear", None
    low, high = float(positive.min()), float(positive.max())
    if math.log10(high) - math.log10(low) <= LOG_DECADES:
        return "linear", None
    floor = max(low, LOG_FLOOR)
    return "log", (floor if (finite < floor).any() else None)


def quantile_bands(values: np.ndarray, percents: Sequence[float]) -> np.ndarray:
    """Percentiles across replicates at each generation, ignoring non-finite values.

    Parameters
    ----------
    values
        ``[replicate, generation]``.
    percents
        Percentiles in ``[0, 100]``.

    Returns
    -------
    numpy.ndarray
        ``[len(percents), generation]``; NaN where a generation has no finite value.
    """
    finite = np.isfinite(values)
    if finite.all():
        return np.percentile(values, percents, axis=0)
    masked = np.where(finite, values, np.nan)
    with warnings.catch_warnings():  # an all-NaN generation is a gap in the band, not an error
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(masked, percents, axis=0)


def absorbed_fractions(replicates: pd.DataFrame, n_generations: int) -> dict[str, np.ndarray]:
    """Fraction of all rollouts absorbed by each generation ``t = 0..G``.

    Parameters
    ----------
    replicates
        The per-replicate table of a coin run (``absorption_time``, ``absorbed_at``).
    n_generations
        ``G``.

    Returns
    -------
    dict
        ``"absorbed"``: fraction with ``absorption_time ≤ t``; ``"at 1"`` and ``"at 0"``: the
        same restricted to rollouts that end at 1 or at 0. Under ``replace`` absorption is final,
        so these are the fractions fixed at 1 and at 0 by generation ``t``; they sum to
        ``"absorbed"``.
    """
    from ..statistics import empirical_cdf

    n = len(replicates)
    times = replicates["absorption_time"].to_numpy(dtype=float, na_value=np.nan)
    fixed = replicates["absorbed_at"].to_numpy(dtype=float, na_value=np.nan)
    out = {}
    for key, keep in (("absorbed", np.ones(n, dtype=bool)), ("at 1", fixed == 1.0),
                      ("at 0", fixed == 0.0)):
        # Over all n rollouts: the others count as never absorbed.
        out[key] = empirical_cdf(np.where(keep, times, np.nan), n_generations)
    return out


def mixture_density(x: np.ndarray, weights: np.ndarray, means: np.ndarray,
                    stds: np.ndarray) -> np.ndarray:
    """Densities of 1-D normal mixtures.

    Parameters
    ----------
    x
        ``[R, P]`` points (one row per mixture) or ``[P]``.
    weights, means, stds
        ``[R, K]`` (or ``[K]``) component parameters.

    Returns
    -------
    numpy.ndarray
        The densities at ``x``, shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)[..., :, None]
    w, mu, sd = (np.asarray(a, dtype=float)[..., None, :] for a in (weights, means, stds))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        z = (x - mu) / sd
        parts = w * np.exp(-0.5 * z * z) / (sd * math.sqrt(2 * math.pi))
    return np.nansum(parts, axis=-1)


#: Panel title and y-axis label of each metric; ``{i}`` is a mixture component.
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "p": ("Estimated probability of heads", "p̂ (probability)"),
    "entropy": ("Entropy of the fitted distribution", "entropy (nats)"),
    "support": ("Support: tokens still possible", "tokens with q̂ > 0 (count)"),
    "tv": ("Total variation distance to the truth", "TV distance (probability)"),
    "mean": ("Mean of the fitted distribution", "mean (data units)"),
    "var": ("Variance of the fitted distribution", "variance σ² (data units²)"),
    "w2": ("Wasserstein-2 distance to the truth", "W₂ (data units)"),
    "kl": ("KL divergence KL(truth ‖ fit)", "KL (nats)"),
    "gini_simpson": ("Gini–Simpson diversity 1 − Σ q²", "P(two draws differ)"),
    "tail_mass": ("Mass outside the truth's central 99%", "tail mass (probability)"),
    "em_iterations": ("EM iterations per fit", "iterations (count)"),
    "tail_share": ("Share of text from the truth's rarest 10% of types", "tail share (fraction)"),
    "types_2": ("Distinct bigrams in the text", "bigram types (count)"),
    "perplexity": ("Held-out perplexity", "perplexity (tokens)"),
    "kl_rate": ("KL rate to the truth per token", "KL rate (nats/token)"),
    "reward": ("Mean reward of the model, E r(x)", "reward (reward units)"),
    "accept_rate": ("Share of candidates the curator kept", "kept / drawn (fraction)"),
    "rare_mass": ("The truth's rarest 10% of mass still possible", "surviving share (fraction)"),
    "mean_": ("Mean of component {i}", "mean μ{i} (data units)"),
    "std_": ("Standard deviation of component {i}", "σ{i} (data units)"),
    "weight_": ("Weight of component {i}", "weight w{i} (probability)"),
    "mean_x_": ("Mixture mean, coordinate {i} (gmm in d ≥ 2)", "mean m{i} (data units)"),
    "test_error": ("Test error on fresh real data, σ² + ‖ŵ − w‖²", "mean squared error (y units²)"),
    "param_error": ("Squared error of the fitted coefficients, ‖ŵ − w‖²",
                    "‖ŵ − w‖² (coefficient units²)"),
    "noise": ("Fitted noise variance RSS / (n − d)", "σ̂² (y units²)"),
    "trace": ("Total variance of the fit, tr Σ", "tr Σ (data units²)"),
    "logdet": ("Log generalised variance, ln det Σ", "ln det Σ (nats)"),
    "min_eig": ("Smallest eigenvalue of the fitted covariance", "λ_min (data units²)"),
    "mean_dist": ("Distance of the fitted mean from the truth's", "|μ − μ₀| (data units)"),
    "spread": ("Second moment of a model sample about the truth's mean, E‖X − μ₀‖²",
               "E‖X − μ₀‖² (data units²)"),
    "nll": ("Negative log-likelihood of real data (cross-entropy)", "NLL (nats)"),
    "class_entropy": ("Entropy of the digits generated", "class entropy (nats; log 10 = all)"),
    "class_kl": ("KL(generated digits ‖ real digit mix)", "KL (nats)"),
    "frechet": ("Fréchet distance to real digits (FID idea)", "Fréchet distance (features²)"),
    "precision": ("Precision: generated digits that look real", "precision (fraction)"),
    "recall": ("Recall: real digits the model covers", "recall (fraction)"),
    "pixel_var": ("Per-pixel variance of generated images", "variance (intensity²)"),
    "latent_spread": ("Spread of the encoder's latent means", "sd of μ(x) (latent units)"),
    "nelbo": ("Held-out negative ELBO of real digits", "−ELBO (nats per image)"),
}


def metric_label(metric: str) -> tuple[str, str]:
    """Panel title and axis label for ``metric`` (its own name when unknown)."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    stem, _, index = metric.rpartition("_")
    if index.isdigit() and f"{stem}_" in METRIC_LABELS:
        title, label = METRIC_LABELS[f"{stem}_"]
        return title.format(i=index), label.format(i=index)
    return metric, metric


def theory_pieces_real(config: RunConfig) -> int:
    """Fresh samples of the truth per generation under the run's policy."""
    from ..theory.assembly import pieces

    return pieces(config.data_policy, config.n_samples).real


class RunView:
    """A finished run as the figures and the report read it.

    Each metric's trajectories of the first ``limit`` replicates are read once, and theory's
    prediction is computed once (``None``, with a warning, if it fails: a figure without its
    theory beats no figure at all).

    Parameters
    ----------
    result
        The run, in memory or loaded.
    limit
        Most replicates read per metric.
    """

    def __init__(self, result: Result, limit: int) -> None:
        self.result = result
        self.config: RunConfig = result.config
        self.seed: int | None = self.config.seed
        self.total = int(self.config.n_replicates)
        self.limit = limit
        self._cache: dict[str, np.ndarray] = {}
        self._prediction: list[Prediction | None] = []

    def traj(self, metric: str) -> np.ndarray:
        """Trajectories ``[replicates read, G + 1]`` as floats (at most ``limit`` replicates)."""
        if metric not in self._cache:
            values = np.asarray(self.result.trajectories(metric, self.limit), dtype=float)
            self._cache[metric] = values[:self.limit]
        return self._cache[metric]

    @property
    def shown(self) -> int:
        return self.traj(self.config.metric_names[0]).shape[0]

    @property
    def n_generations(self) -> int:
        return self.traj(self.config.metric_names[0]).shape[1] - 1

    @property
    def prediction(self) -> Prediction | None:
        """What theory says about this run (computed once; ``None`` if it failed)."""
        if not self._prediction:
            from ..theory.prediction import predict

            try:
                self._prediction.append(predict(self.config))
            except Exception as err:
                warnings.warn(f"no theory overlay: {err}", RuntimeWarning, stacklevel=3)
                self._prediction.append(None)
        return self._prediction[0]

    def theory(self, metric: str) -> list[TheoryCurve]:
        """Theory's exact curves of ``metric`` (empty when it has none)."""
        prediction = self.prediction
        return prediction.for_metric(metric) if prediction is not None else []
