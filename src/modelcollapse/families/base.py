"""The interface every model family implements.

A family is a small frozen dataclass: its fields are the truth and the fitting settings, its
methods are batched over a block of replicates. The generation loop
(:func:`modelcollapse.loop.simulate_block`) only ever calls these methods, so adding a family means
writing one module and registering it.

Parameters of a fitted model are one float array per block, shape ``[R, *param_shape]``; the truth
has shape ``param_shape``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..events import COLLAPSE, Event
from ..policies import Policy
from ..rewards import Reward
from ..training_sets import Dataset, Samples, take_samples

#: Metadata key under which a dataclass field declares its command-line / TOML option.
OPTION = "modelcollapse.option"


def option(default: Any, *, flag: str, help: str, kind: str = "float",
           choices: tuple[str, ...] = (), neutral: bool = False) -> Any:
    """A family field that is also a command-line flag and a TOML key.

    Parameters
    ----------
    default
        The field's default (``None`` for "derived from other fields").
    flag
        The option's name without dashes (``"components"`` → ``--components``).
    help
        One line for ``--help``.
    kind
        How text is parsed: ``"float"``, ``"int"``, ``"str"``, ``"bool"``, ``"floats"``
        (a comma-separated list) or ``"name-or-number"`` (``--bandwidth scott`` or ``0.5``).
    choices
        Allowed values for ``kind="str"``.
    neutral
        The default switches a later-added feature off (no sampling bias, no weights): at that
        value the field is left out of the run's stream key (:meth:`Family.stream_settings`),
        so runs that do not use the feature draw the same random numbers as before it existed.
    """
    meta = {OPTION: {"flag": flag, "help": help, "kind": kind, "choices": choices,
                     "neutral": neutral}}
    return dataclasses.field(default=default, metadata=meta)


def temperature_option() -> Any:
    """The sampling temperature ``τ`` of a discrete family's model (``--temperature``)."""
    return option(1.0, flag="temperature", neutral=True,
                  help="sampling temperature of the model, q ∝ q^(1/τ) (default 1: no bias)")


def sampling_scale_option() -> Any:
    """The sampling scale ``λ`` of a continuous family's model (``--sampling-scale``)."""
    return option(1.0, flag="sampling-scale", neutral=True,
                  help="λ: the model is sampled with every standard deviation times λ "
                       "(default 1: no bias)")


def real_weight_option() -> Any:
    """The weight of the real samples in a weighted fit (``--real-weight``)."""
    return option(None, flag="real-weight", neutral=True,
                  help="weight w of the real samples in the fit, 1 - w for the synthetic ones "
                       "(default: each counts once)")


def loop_setting_words(*, temperature: float = 1.0, sampling_scale: float = 1.0,
                       real_weight: float | None = None) -> str:
    """The words a family's ``describe()`` adds for its sampling bias and real weight."""
    words = ""
    if temperature != 1.0:
        words += f", sampled at temperature {temperature:g}"
    if sampling_scale != 1.0:
        words += f", sampled with sd × {sampling_scale:g}"
    if real_weight is not None:
        words += f", real data weighted {real_weight:g}"
    return words


class Family(ABC):
    """A model family: a truth, a batched fit, a batched sampler and metrics.

    Subclasses are frozen dataclasses registered in :data:`modelcollapse.families.FAMILIES`.
    """

    #: Registry name, also the command-line family argument.
    name: ClassVar[str]
    #: Run sizes used when the user gives none (the family's classic experiment).
    default_run: ClassVar[Mapping[str, int]]
    #: Metrics shown as fan charts and in the summary.
    key_metrics: ClassVar[tuple[str, ...]]
    #: The event each replicate's table records (:mod:`modelcollapse.events`).
    event: ClassVar[Event] = COLLAPSE
    #: The metric whose fall below ``collapse_fraction`` × the truth's value is the collapse
    #: (``None`` for a family whose event is not a collapse).
    collapse_metric: ClassVar[str | None] = "var"
    #: Rough nanoseconds per generation for each training-set value drawn and fitted, and for
    #: each parameter when exact sufficient statistics are used: a scheduling hint (sweeps size
    #: their work units with it, and runs and sweeps estimate their time:
    #: :mod:`modelcollapse.runner.duration`), measured on one core; never changes a number.
    cost_ns: ClassVar[tuple[float, float]] = (20.0, 20.0)
    #: Rough nanoseconds per replicate-generation whatever the data size (e.g. metrics computed
    #: by quadrature); the same kind of hint.
    generation_ns: ClassVar[float] = 0.0
    #: The curators (:mod:`modelcollapse.curation`) this family supports, by name.
    curators: ClassVar[tuple[str, ...]] = ()
    #: Whether a verifier's belief can be the truth moved by a shift (continuous families).
    shiftable_belief: ClassVar[bool] = False
    #: The rewards ``--reward`` takes, in words, for messages and ``--help``.
    reward_words: ClassVar[str] = ""
    #: The reward best-of curation uses when none is given (``None``: one must be given).
    default_reward: ClassVar[str | None] = None

    # -- shape and truth ---------------------------------------------------------------------

    @property
    @abstractmethod
    def param_shape(self) -> tuple[int, ...]:
        """Shape of one replicate's fitted parameters."""

    @abstractmethod
    def truth(self) -> np.ndarray:
        """Parameters of the true distribution, shape :attr:`param_shape`."""

    @property
    @abstractmethod
    def metric_names(self) -> tuple[str, ...]:
        """Names of the metrics :meth:`metrics` returns, in a fixed order."""

    # -- the three operations of the loop ----------------------------------------------------

    def sampling_params(self, params: np.ndarray) -> np.ndarray:
        """The parameters that model samples are drawn from: ``params`` with the sampling bias.

        The loop samples model ``t − 1`` from ``sampling_params(params)`` and the truth from its
        own parameters. The default has no bias; a family with a temperature or a sampling
        scale returns the tempered or scaled parameters (every bias here is one: a tempered
        Bernoulli or categorical is again one, a normal with its deviation scaled is again one).
        """
        return params

    @property
    def weighs_real(self) -> bool:
        """Whether the fit weighs real against synthetic samples (``real_weight`` is set)."""
        return getattr(self, "real_weight", None) is not None

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        """Whether training sets are held as exact sufficient statistics under ``policy``."""
        return False

    def for_run(self, n_samples: int, n_generations: int, policy: Policy) -> Family:
        """This family bound to a run's sizes and policy; the default is ``self``.

        :class:`~modelcollapse.config.RunConfig` binds its family, and
        :func:`~modelcollapse.loop.simulate_block` binds a bare one, so this must return a
        bound family unchanged (it is called again with the same sizes).

        A family whose fitted parameters must hold data (a kernel density estimator's points,
        a regression's fixed inputs) learns here how many: its :attr:`param_shape` may depend
        on what it returns. A field set here is derived, not chosen: leave it out of
        :meth:`stream_settings` (the streams never depend on ``G``) and of
        :meth:`idle_settings`.
        """
        return self

    def block_size(self, policy: Policy, n_samples: int) -> int:
        """Replicates simulated together from one random stream.

        Part of the definition of a run (replicate *i* is drawn from block ``i // block_size``), so
        it may depend only on the configuration, never on the machine.
        """
        return 1

    @abstractmethod
    def sample(self, params: np.ndarray, n: int, rng: np.random.Generator, *,
               stats: bool) -> Dataset:
        """``n`` samples of each replicate's model.

        Parameters
        ----------
        params
            ``[R, *param_shape]``.
        n
            Samples per replicate.
        rng
            The block's generator.
        stats
            Return exact sufficient statistics instead of raw samples.
        """

    @abstractmethod
    def fit(self, data: Dataset, *, rng: np.random.Generator,
            previous: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fit each replicate's model to its training set.

        Parameters
        ----------
        data
            The block's training sets.
        rng
            The block's generator, for fits that randomise (e.g. k-means++ initialisation).
        previous
            The previous generation's parameters ``[R, *param_shape]`` (the truth at *t = 1*), for
            warm starts.

        Returns
        -------
        params
            ``[R, *param_shape]``.
        info
            Per-replicate diagnostics of the fit (e.g. EM iterations), recorded as metrics.
        """

    @abstractmethod
    def metrics(self, params: np.ndarray,
                info: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Metrics of fitted models ``params[..., *param_shape]``, each of shape ``params[...]``.

        ``info`` is the diagnostics dictionary of :meth:`fit` (``None`` for the truth).
        """

    # -- derived per-replicate quantities ----------------------------------------------------

    def derived(self, metrics: Mapping[str, np.ndarray], *,
                collapse_fraction: float) -> dict[str, np.ndarray]:
        """Per-replicate event times from whole trajectories ``metrics[name][R, G + 1]``.

        The default is the collapse time (``collapse_time``): the first generation at which
        :attr:`collapse_metric` falls below ``collapse_fraction`` times its value at generation 0
        (the truth's); ``NaN`` where it never does within the run (censored).
        """
        if self.collapse_metric is None:
            return {}
        values = metrics[self.collapse_metric]
        return {self.event.column: first_generation(values < collapse_fraction * values[:, :1])}

    @property
    def sample_width(self) -> int:
        """Floats per raw sample: 1 for a number, ``d`` for a point in d dimensions, ``d + 1``
        for a regression's ``(x, y)`` (memory estimates)."""
        return 1

    def fit_bytes(self, n_items: int, block: int) -> int:
        """Working memory of one block's fit beyond its training set, in bytes (memory
        estimates): 0 for a closed-form fit; a network's parameters, gradients, optimiser
        state and activations for a neural family. ``n_items`` is the training set's size."""
        return 0

    def points(self, data: Dataset) -> np.ndarray | None:
        """The first replicate's training points ``[n, 2]`` for a scatter picture per generation.

        Families whose samples are points in the plane (or have two coordinates worth drawing)
        return them; the runtime keeps those of the block's first replicate for every
        generation it pictures (reading them never draws random numbers). ``None``: nothing to
        draw.
        """
        return None

    def pictures(self, data: Dataset) -> np.ndarray | None:
        """The first replicate's first few samples as images ``[m, h, w]`` for a picture per
        generation (``m ≤ 16``).

        Families whose samples are images (the ``vae``'s digits) return the first ``m`` rows
        of the block's first replicate, each reshaped to ``h × w`` pixels: floats in
        ``[0, 1]``, 0 the background and 1 full ink (drawn black to white); NaN only where a
        model that blew up produced it (drawn red). The runtime keeps them at every
        generation it pictures, like :meth:`points` (``pictures.parquet``, ``samples.png``,
        the report's grid); reading them never draws random numbers. ``None``: nothing to
        draw (the default, and any form of the data that holds no images).
        """
        return None

    def excerpts(self, data: Dataset) -> list[str] | None:
        """A few readable samples of a training set (one string for each of its first rows).

        Text families return the first sequence of each of the first few replicates; the runtime
        saves them per generation (``samples.parquet``). ``None``: nothing readable to show.
        """
        return None

    # -- curation (modelcollapse.curation) ---------------------------------------------------
    #
    # A curator handles *units*: single samples here, whole sequences in a text family. These
    # hooks draw, score and select them; a family lists the curators its hooks support in
    # :attr:`curators`.

    @property
    def available_curators(self) -> tuple[str, ...]:
        """The curators this configuration of the family supports (:attr:`curators`, less any
        that need what it lacks, e.g. a truth whose law is known)."""
        return self.curators

    def curation_units(self, n: int) -> int:
        """The number of units that make up ``n`` samples (``n``: each sample is one)."""
        return n

    def draw_units(self, params: np.ndarray, k: int, rng: np.random.Generator) -> Dataset:
        """``k`` raw candidate units per replicate of the model ``params`` (already biased).

        The candidates must be independent draws *in draw order*: best-of takes each slot's
        ``K`` from consecutive positions and the verifier keeps the first accepted, so a sampler
        that groups its output (the GMM's, by component) must shuffle it here.
        """
        return self.sample(params, k, rng, stats=False)

    def take_units(self, units: Dataset, index: np.ndarray) -> Dataset:
        """The units at ``index[R, S]`` of each replicate's candidates, as raw samples."""
        assert isinstance(units, Samples)
        return Samples(take_samples(units.values, index))

    def training_form(self, units: Dataset, n: int, *, stats: bool) -> Dataset:
        """Kept units as ``n`` samples in the form of the loop's training sets (counts or moments
        with ``stats``; a sequence family cuts its last sequence to make ``n`` tokens)."""
        return units

    def unit_log_likelihood(self, params: np.ndarray, units: Dataset) -> np.ndarray:
        """``log p(x)`` of each unit ``[R, k]`` under each replicate's model ``params``."""
        raise NotImplementedError(f"{self.name} does not score units")

    def proposal_log_likelihood(self, params: np.ndarray, units: Dataset) -> np.ndarray:
        """``log`` density of the law :meth:`draw_units` drew ``units`` from, for model ``params``
        (with the sampling bias): the denominator of an importance weight."""
        return self.unit_log_likelihood(self.sampling_params(params), units)

    def truth_log_likelihood(self, units: Dataset) -> np.ndarray:
        """``log p_truth(x)`` of each unit ``[R, k]``."""
        raise NotImplementedError(f"{self.name} does not know its truth's likelihood")

    def belief_log_relative(self, units: Dataset, shift: float) -> np.ndarray:
        """``log(b(x) / max b) ≤ 0`` for a verifier whose belief ``b`` is the truth moved by
        ``shift``."""
        raise NotImplementedError(f"{self.name} has no verifier")

    def reward(self, spec: str) -> Reward:
        """The reward ``spec`` (``--reward``) bound to this family's truth.

        Raises
        ------
        ConfigError
            For a reward this family does not take.
        """
        raise ConfigError("reward", f"does not apply to family {self.name}", spec)

    def kernels(self) -> tuple[Any, ...]:
        """The compiled (numba) kernels this family's runs call; compiled on first use."""
        return ()

    # -- validation and description ----------------------------------------------------------

    def check_installed(self) -> None:  # noqa: B027 (a hook)
        """Raise :class:`ConfigError` if an optional dependency a run of this family needs is
        missing (a neural family's PyTorch), before the run starts. Loading a stored run never
        calls it: its results can be read without the dependency."""

    def validate_run(self, n_samples: int, policy: Policy) -> None:  # noqa: B027 (a hook)
        """Raise :class:`ConfigError` if the family cannot run with these settings."""

    def idle_settings(self) -> dict[str, str]:
        """Settings that have no effect in this configuration, each with why.

        Keys are the family's field names, or ``collapse_fraction`` (the run's) for a family
        that records no collapse; values complete "--name has no effect ...", e.g.
        ``"with smoothing kn (it is the k of add-k smoothing)"``. The command line and TOML
        files refuse such a setting when it is given explicitly (a default is never refused;
        :func:`modelcollapse.options.build`), so that nobody believes a run used it. Python
        callers may pass anything: a stored configuration carries every field.
        """
        if self.collapse_metric is None:
            return {"collapse_fraction": f"for {self.name} (it sets the collapse time, and "
                                         f"{self.name} runs record {self.event.name} instead)"}
        return {}

    def settings(self) -> dict[str, Any]:
        """The family's fields as plain JSON-able values (manifests, stream keys)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def stream_settings(self) -> dict[str, Any]:
        """:meth:`settings` without the neutral options at their defaults (the stream key's).

        Adding a feature behind a neutral option must not move any existing run's random
        streams: results depend only on (config, seed), across versions too.
        """
        neutral = {f.name: f.default for f in dataclasses.fields(self)  # type: ignore[arg-type]
                   if f.metadata.get(OPTION, {}).get("neutral")}
        return {k: v for k, v in self.settings().items()
                if not (k in neutral and v == neutral[k])}

    @abstractmethod
    def describe(self) -> str:
        """One line describing the truth and the fit, for summaries and plot titles."""


def first_generation(events: np.ndarray) -> np.ndarray:
    """Index of the first ``True`` along the last axis; ``NaN`` where there is none.

    Parameters
    ----------
    events
        Boolean array ``[R, G + 1]``.
    """
    hit = events.any(axis=-1)
    first = np.argmax(events, axis=-1).astype(float)
    first[~hit] = np.nan
    return first
