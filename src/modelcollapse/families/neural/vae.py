"""A variational autoencoder on handwritten digits, retrained on the digits it generates.

Truth (generation 0): the real digits (:mod:`~.digits`: scikit-learn's 8 × 8 handwritten
digits in ``[0, 1]``, split once into 1438 training and 359 held-out images). A fresh sample of
the truth is ``n`` images drawn uniformly with replacement from the training split (a
bootstrap, from the block's generator); the held-out split is never trained on.

Model: an MLP VAE (Kingma and Welling [1]_), the networks of a replicate block stacked
(:mod:`~.stacked`). The encoder ``64 → H`` (ReLU) gives the mean ``μ(x)`` and the log-variance
``log σ²(x)`` of a ``d``-dimensional normal ``q(z | x)`` (two dense layers ``H → d``); the
decoder ``d → H`` (ReLU) ``→ 64`` gives the logits of Bernoulli means ``p(x | z)``
(``H`` = ``--hidden``, ``d`` = ``--latent``). The loss per image is the negative ELBO

.. math:: ℓ(x) = Σ_{j=1}^{64} \\mathrm{BCE}(x_j, \\hat x_j(z)) + \\mathrm{KL}(q(z|x) ‖ N(0, I)),
   \\qquad z = μ(x) + σ(x) ε,

the binary cross-entropy ``−x log x̂ − (1 − x) log(1 − x̂)`` with *continuous* targets
``x_j ∈ [0, 1]`` (the standard choice for MNIST-like grey images; it is not a likelihood of grey
levels, but its minimiser is ``x̂ = x``) and the closed-form Gaussian KL
``½ Σ_k (μ_k² + σ_k² − 1 − log σ_k²)``. The reparametrisation noise ``ε`` is drawn from the block's
generator at every step (``[R, b, d]``, after the epoch's minibatch order). Each generation
trains with Adam for ``--epochs`` passes over its training set in minibatches of
``--batch-size``, from fresh PyTorch-default weights (the default: each model then depends on
earlier ones only through its data, Gerstgrasser et al.'s retraining) or, with
``--warm-start``, from the previous generation's network (Shumailov et al.'s fine-tuning).
The defaults (``H = 128``, ``d = 8``, 40 epochs of minibatches of 64 at step size 0.003) train a
generation of the default block (8 networks, ``N = 1000``) in about 2 s on one core, and give a
first model whose images are recognisably digits (Fréchet distance about 5, against 0.27 for
held-out real images; 20 epochs at 0.001 give 15 and collapse in two generations).

Generated images: the decoded Bernoulli *means* ``x̂(z)`` of ``z ~ N(0, λ² I)``
(``λ`` = ``--sampling-scale``, default 1), values in ``[0, 1]``, as Shumailov et al. [2]_ feed
their VAE's decoded samples back. With ``--real-weight w`` the real images of a training set
together weigh ``w`` in the loss and the synthetic ones ``1 − w``
(:func:`~modelcollapse.training_sets.sample_weights`, the package's weighted fit): each image's
loss in a minibatch is multiplied by ``n ω_i``, so a replicate's loss is an unbiased estimate of
``Σ_i ω_i ℓ(x_i)``; without it every image counts once.

Metrics (each generation is measured with rulers fitted once on real data, :mod:`~.digits`):

* ``class_entropy``, ``class_kl``, ``frechet``, ``precision``, ``recall``, ``pixel_var``: of the
  model's images at ``M = 359`` fixed latents ``z_i ~ N(0, I)`` (:func:`~.digits.ruler_latents`;
  always ``λ = 1``, so the metrics measure the model, not the sampling bias of its training
  data, as every family's metrics are the fitted model's), decoded to Bernoulli means. For the
  truth (generation 0) the images are the 359 held-out real images, so ``frechet`` at
  generation 0 is the held-out-versus-training baseline of the real data itself (0.27), and
  every image set has the same size ``M``.
* ``latent_spread``: the encoder's means ``μ(x)`` of the held-out real images: the standard
  deviation across images (divisor ``M``) of each latent coordinate, averaged over the ``d``
  coordinates (Shumailov et al.'s measure of how the latent distribution narrows).
* ``nelbo``: the held-out negative ELBO per image, ``(1/M) Σ_i ℓ(x_i)`` over the held-out real
  images with one fixed ``ε`` per image (:func:`~.digits.heldout_noise`): a one-draw
  Monte-Carlo estimate of the expected loss, the same draw for every model.

``latent_spread`` and ``nelbo`` are ``NaN`` at generation 0, by definition: the truth is data,
with no encoder or decoder to evaluate. Every other metric is a number for any network,
collapsed or not.

Collapse is *mode* collapse: ``collapse_time`` is the first generation whose ``class_entropy``
falls below ``--collapse-fraction`` (½) of the real data's, i.e. whose generated images are
classified as much fewer digits than the real ones. Not ``pixel_var``: decoded means are
smoother than real images from generation 1 on (about 0.4 of the real pixel variance at the
defaults), so a variance threshold would record every run as collapsed at once.

Curation (``best-of``; units are single images) scores by a reward of the ruler classifier:
``confidence``, ``log max_c p(c | x)`` (a quality filter, as the reward models of Ferbach et
al. [3]_), or ``class:c``, ``log p(c | x)`` (curating towards digit ``c``). The model's mean
reward ``E_model r`` (the metric ``reward``) is a Monte-Carlo estimate over the same ``M``
fixed latents (the held-out real images for the truth): deterministic, the same draws for every
model.

References
----------
.. [1] D. P. Kingma, M. Welling, "Auto-encoding variational Bayes", ICLR 2014,
   arXiv:1312.6114.
.. [2] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal, "AI models
   collapse when trained on recursively generated data", Nature 631, 755–759 (2024).
.. [3] D. Ferbach, Q. Bertrand, A. J. Bose, G. Gidel, "Self-consuming generative models with
   curated data provably optimize human preferences", NeurIPS 2024, arXiv:2407.09499.
.. [4] M. Gerstgrasser et al., "Is model collapse inevitable? Breaking the curse of recursion
   by accumulating real and synthetic data", arXiv:2404.01413 (2024).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...rewards import Reward, unknown_reward
from ...training_sets import Dataset, Samples, sample_weights
from ...validation import check_int, check_real_weight, check_sampling_scale
from .. import FAMILIES
from ..base import loop_setting_words, option, real_weight_option, sampling_scale_option
from . import digits, stacked
from .common import NeuralFamily, device_option, warm_start_option

#: The curators the family supports (units are single images).
CURATORS = ("none", "best-of")

#: What ``--reward`` takes.
REWARDS = ("confidence (log of the ruler classifier's top class probability of an image) or "
           "class:c (log probability of digit c, 0 to 9)")

#: Widest hidden layer and largest latent dimension accepted.
MAX_HIDDEN = 4096
MAX_LATENT = 256

#: Replicates per block by default (``--stack``): one stacked model of 8 networks. Part of a
#: run's definition, like the seed, never of the machine.
BLOCK = 8
#: Most replicates in one block.
MAX_STACK = 4096

#: Networks evaluated together by the metrics (bounds their memory: a chunk's distances to the
#: real features are ``CHUNK × 359 × 1438`` floats, 33 MB).
CHUNK = 8

#: Images pictured per generation (:meth:`VAE.pictures`).
PICTURED = 16

#: Measured on one core at the defaults (hidden 128, latent 8, 40 epochs, blocks of 8): ns of
#: training per image per generation (:attr:`VAE.cost_ns`), and ns of metrics per
#: replicate-generation.
TRAIN_NS_PER_IMAGE = 225_000.0
DEFAULT_WORK = 40 * 19_792  # epochs × parameters at the defaults, the unit the cost scales by
METRICS_NS = 1e7


@FAMILIES.register
@dataclass(frozen=True)
class VAE(NeuralFamily):
    """An MLP variational autoencoder on handwritten digits (see the module notes).

    Parameters
    ----------
    hidden
        ``H``: width of the encoder's and the decoder's hidden layer.
    latent
        ``d``: dimension of the latent normal.
    epochs, batch_size, learning_rate
        Adam's passes over each training set, images per step and step size.
    warm_start
        Start each generation from the previous network instead of fresh weights.
    device
        ``cpu``, ``cuda`` or ``auto`` (where networks train; the metrics are always computed
        on the CPU).
    sampling_scale
        ``λ``: generated images decode ``z ~ N(0, λ² I)``.
    real_weight
        ``None``, or the total weight ``w`` of the real images in the loss.
    """

    name: ClassVar[str] = "vae"
    # Two blocks of BLOCK networks: one for each of two cores (a single block would leave the
    # second core idle; measured: 16 replicates take 25% longer than 8).
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 1000, "n_generations": 20,
                                                "n_replicates": 16}
    key_metrics: ClassVar[tuple[str, ...]] = ("class_entropy", "frechet", "recall",
                                              "pixel_var", "latent_spread", "nelbo")
    #: Mode collapse: the generated digits' class entropy (see the module notes).
    collapse_metric: ClassVar[str | None] = "class_entropy"
    model_only_metrics: ClassVar[tuple[str, ...]] = ("latent_spread", "nelbo")
    needs: ClassVar[tuple[tuple[str, str], ...]] = (("sklearn", "scikit-learn (for its digits)"),)
    generation_ns: ClassVar[float] = METRICS_NS
    curators: ClassVar[tuple[str, ...]] = CURATORS
    reward_words: ClassVar[str] = REWARDS
    default_reward: ClassVar[str | None] = "confidence"

    hidden: int = option(128, flag="hidden", kind="int",
                         help=f"hidden units of the encoder and decoder, 1 to {MAX_HIDDEN} "
                              "(default 128)")
    latent: int = option(8, flag="latent", kind="int",
                         help=f"latent dimension d, 1 to {MAX_LATENT} (default 8)")
    epochs: int = option(40, flag="epochs", kind="int",
                         help="passes over each training set (default 40)")
    batch_size: int = option(64, flag="batch-size", kind="int",
                             help="images per Adam step (default 64)")
    learning_rate: float = option(3e-3, flag="learning-rate",
                                  help="Adam's step size (default 0.003)")
    warm_start: bool = warm_start_option()
    stack: int = option(BLOCK, flag="stack", kind="int",
                        help=f"replicates trained together as one batched model (default {BLOCK}; "
                             "more on a GPU; part of the run's definition, like the seed)")
    device: str = device_option()
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        for name, top in (("hidden", MAX_HIDDEN), ("latent", MAX_LATENT), ("stack", MAX_STACK)):
            value = getattr(self, name)
            bounds = ConfigError(name, f"must be an integer between 1 and {top}", value)
            try:
                value = check_int(name, value, minimum=1)
            except ConfigError:
                raise bounds from None
            if value > top:
                raise bounds
            set_(name, value)
        self.check_training()
        set_("sampling_scale", check_sampling_scale(self.sampling_scale))
        set_("real_weight", check_real_weight(self.real_weight))
        self.check_size()

    # -- shape -------------------------------------------------------------------------------

    @property
    def layout(self) -> stacked.Layout:
        """The network's parameters: ``encoder``, ``mean``, ``log_var``, ``decoder``,
        ``output`` (dense layers, ``x @ W + b``, named as the ``torch.nn`` modules of
        ``benchmarks/reference_neural.py``)."""
        h, d, p = self.hidden, self.latent, digits.PIXELS
        return stacked.Layout((*stacked.linear_parameters("encoder", p, h),
                               *stacked.linear_parameters("mean", h, d),
                               *stacked.linear_parameters("log_var", h, d),
                               *stacked.linear_parameters("decoder", d, h),
                               *stacked.linear_parameters("output", h, p)))

    @property
    def metric_names(self) -> tuple[str, ...]:
        return (*digits.IMAGE_METRICS, "latent_spread", "nelbo")

    @property
    def sample_width(self) -> int:
        return digits.PIXELS

    @property
    def cost_ns(self) -> tuple[float, float]:  # type: ignore[override]
        """Training ns per image per generation, scaled from the measured default by epochs ×
        parameters (the work of a step is proportional to both); a scheduling hint only."""
        work = self.epochs * self.layout.size
        return (TRAIN_NS_PER_IMAGE * work / DEFAULT_WORK, 0.0)

    def block_size(self, policy: Policy, n_samples: int) -> int:
        """``stack``: the replicates trained together (a setting, never the machine's)."""
        return self.stack

    # -- the network -------------------------------------------------------------------------

    def _encode(self, views: dict[str, Any], x: Any) -> tuple[Any, Any]:
        """``μ(x)`` and ``log σ²(x)``, each ``[R, b, d]``, of images ``x[R, b, 64]``."""
        torch = self.torch()
        hidden = torch.relu(stacked.linear(x, views, "encoder"))
        return stacked.linear(hidden, views, "mean"), stacked.linear(hidden, views, "log_var")

    def _decode(self, views: dict[str, Any], z: Any) -> Any:
        """The Bernoulli logits ``[R, b, 64]`` of latents ``z[R, b, d]``."""
        torch = self.torch()
        return stacked.linear(torch.relu(stacked.linear(z, views, "decoder")), views, "output")

    def _negative_elbo(self, views: dict[str, Any], x: Any, noise: Any) -> Any:
        """``ℓ(x)`` ``[R, b]`` of images ``x[R, b, 64]`` with reparametrisation noise ``ε``."""
        torch = self.torch()
        mean, log_var = self._encode(views, x)
        z = mean + torch.exp(0.5 * log_var) * noise
        logits = self._decode(views, z)
        reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="none").sum(dim=-1)
        kl = 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(dim=-1)
        return reconstruction + kl

    def _views(self, params: np.ndarray, device: str) -> dict[str, Any]:
        """The networks of model rows ``params[B, 1 + P]`` as named float32 views."""
        return self.layout.views(stacked.to_tensor(np.asarray(params)[:, 1:], device))

    def decoded(self, params: np.ndarray, z: np.ndarray, device: str = "cpu") -> np.ndarray:
        """The Bernoulli means ``[B, m, 64]`` (float64 of float32 values) that the networks
        ``params[B, 1 + P]`` decode from latents ``z[B or 1, m, d]``."""
        torch = self.torch()
        with torch.no_grad():
            views = self._views(params, device)
            latents = stacked.to_tensor(_copy(z, (params.shape[0], *z.shape[-2:])), device)
            images = torch.sigmoid(self._decode(views, latents))
        return images.to("cpu", torch.float64).numpy()

    # -- the loop's operations ---------------------------------------------------------------

    def sample(self, params, n, rng, *, stats):
        """``n`` images per replicate: a bootstrap of the real training split for the truth's
        rows, the decoded means of ``z ~ N(0, λ² I)`` for a model's rows (``z`` from ``rng``).

        The sampling scale is applied here, to the latents (it is not a parameter of the
        network), so :meth:`sampling_params` is the identity; the truth is never scaled. Draws:
        the truth rows' indices ``[R_truth, n]``, then the model rows' latents
        ``[R_model, n, d]`` (a block holds one kind or the other).
        """
        params = np.asarray(params, dtype=float)
        rows = params.shape[0]
        out = np.empty((rows, n, digits.PIXELS))
        truth = self.is_truth(params)
        if truth.any():
            train = digits.digits().train
            index = rng.integers(0, train.shape[0], size=(int(truth.sum()), n))
            out[truth] = train[index]
        if (~truth).any():
            z = self.sampling_scale * rng.standard_normal((int((~truth).sum()), n, self.latent))
            out[~truth] = self.decoded(params[~truth], z, self.resolved_device())
        return Samples(out)

    def fit(self, data, *, rng, previous):
        """Train each replicate's network on its images (:func:`~.stacked.train`): fresh or
        warm-started weights, then for each epoch a minibatch order and, per step, the
        reparametrisation noise, all drawn from ``rng``."""
        assert isinstance(data, Samples)
        device = self.resolved_device()
        values = np.asarray(data.values, dtype=np.float32)
        rows, n = values.shape[:2]
        x = stacked.to_tensor(values, device)
        weight = None
        if self.real_weight is not None and data.real is not None:
            omega = n * sample_weights(np.asarray(data.real), self.real_weight)
            weight = stacked.to_tensor(omega, device)
        latent = self.latent

        def loss(views: dict[str, Any], index: np.ndarray) -> Any:
            batch = stacked.gather_rows(x, index)
            noise = stacked.to_tensor(rng.standard_normal((rows, index.shape[1], latent)),
                                      device)
            per_image = self._negative_elbo(views, batch, noise)
            if weight is not None:
                per_image = per_image * stacked.gather_rows(weight, index)
            return per_image.mean(dim=-1)

        initial = self.initial_weights(rng, previous)
        trained = stacked.train(initial, loss, layout=self.layout, n=n, epochs=self.epochs,
                                batch_size=self.batch_size, learning_rate=self.learning_rate,
                                rng=rng, device=device)
        return self.with_params(trained), {}

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, params, info=None):
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-1]
        flat = params.reshape(-1, params.shape[-1])
        out = {name: np.full(flat.shape[0], np.nan) for name in self.metric_names}
        truth = self.is_truth(flat)
        if truth.any():
            for name, value in digits.heldout_image_metrics().items():
                out[name][truth] = value
        models = np.flatnonzero(~truth)
        for lo in range(0, models.size, CHUNK):
            rows = models[lo:lo + CHUNK]
            for name, values in self._model_metrics(flat[rows]).items():
                out[name][rows] = values
        return {name: out[name].reshape(lead) for name in self.metric_names}

    def _model_metrics(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric of the networks ``params[B, 1 + P]``, on the CPU."""
        torch = self.torch()
        ruler = digits.ruler()
        held = digits.digits().heldout
        images = self.decoded(params, digits.ruler_latents(self.latent))
        out = ruler.image_metrics(images)
        with torch.no_grad():
            views = self._views(params, "cpu")
            rows = params.shape[0]
            x = stacked.to_tensor(_copy(held, (rows, *held.shape)), "cpu")
            noise = stacked.to_tensor(_copy(digits.heldout_noise(self.latent),
                                            (rows, held.shape[0], self.latent)), "cpu")
            mean, _ = self._encode(views, x)
            nelbo = self._negative_elbo(views, x, noise).mean(dim=-1)
            spread = mean.to(torch.float64).std(dim=1, correction=0).mean(dim=-1)
        out["latent_spread"] = spread.numpy()
        out["nelbo"] = nelbo.to(torch.float64).numpy()
        return out

    def _ruler_images(self, params: np.ndarray) -> np.ndarray:
        """The images each row of ``params[B, 1 + P]`` is measured by ``[B, M, 64]``: the
        held-out real images for the truth, the decoded ruler latents for a model."""
        held = digits.digits().heldout
        out = np.empty((params.shape[0], *held.shape))
        truth = self.is_truth(params)
        out[truth] = held
        models = np.flatnonzero(~truth)
        for lo in range(0, models.size, CHUNK):
            rows = models[lo:lo + CHUNK]
            out[rows] = self.decoded(params[rows], digits.ruler_latents(self.latent))
        return out

    # -- curation ----------------------------------------------------------------------------

    def reward(self, spec: str) -> Reward:
        """``confidence`` or ``class:c``: a log-probability of the ruler classifier.

        ``confidence``: ``r(x) = log max_c p(c | x)``; ``class:c``: ``r(x) = log p(c | x)``,
        ``p`` the ruler classifier's softmax (:mod:`~.digits`). ``expected(params)`` is the
        mean reward over the ``M`` images a model is measured by (its decoded ruler latents;
        the held-out real images for the truth): a Monte-Carlo estimate with ``M = 359`` fixed
        draws, the same for every model, so it is deterministic.

        Raises
        ------
        ConfigError
            For any other text, or a digit outside 0..9.
        """
        column: int | None = None
        if spec.startswith("class:"):
            text = spec.removeprefix("class:").strip()
            if not text.isdigit() or int(text) >= digits.CLASSES:
                raise ConfigError("reward", "must be class:c with c a digit from 0 to 9", spec)
            column = int(text)
            spec = f"class:{column}"
            words = f"reward: the ruler classifier's log probability of digit {column}"
        elif spec == "confidence":
            words = "reward: the ruler classifier's log confidence"
        else:
            raise unknown_reward(spec, self.name, self.reward_words)

        def score_images(images: np.ndarray) -> np.ndarray:
            _, log_probs = digits.ruler().features(images)
            return log_probs.max(axis=-1) if column is None else log_probs[..., column]

        def score(units: Any) -> np.ndarray:
            return score_images(units.values)

        def expected(params: np.ndarray) -> np.ndarray:
            params = np.asarray(params, dtype=float)
            flat = params.reshape(-1, params.shape[-1])
            return score_images(self._ruler_images(flat)).mean(axis=-1).reshape(
                params.shape[:-1])

        return Reward(spec, score, expected, words)

    # -- pictures and description ------------------------------------------------------------

    def pictures(self, data: Dataset) -> np.ndarray | None:
        """The first replicate's first 16 images as ``[16, 8, 8]`` grey levels in ``[0, 1]``."""
        if not isinstance(data, Samples) or data.values.ndim != 3:
            return None
        first = np.asarray(data.values[0, :PICTURED], dtype=float)
        return first.reshape(-1, digits.SIDE, digits.SIDE)

    def describe(self) -> str:
        start = "warm-started" if self.warm_start else "fresh weights"
        return (f"vae: MLP VAE 64-{self.hidden}-{self.latent} on scikit-learn's digits, "
                f"{self.epochs} epochs of Adam (lr {self.learning_rate:g}, batch "
                f"{self.batch_size}), {start}"
                + loop_setting_words(sampling_scale=self.sampling_scale,
                                     real_weight=self.real_weight))


def _copy(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` broadcast to ``shape`` as a writable float32 copy (PyTorch refuses to wrap
    the read-only rulers)."""
    return np.array(np.broadcast_to(values, shape), dtype=np.float32)
