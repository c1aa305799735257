"""The ``vae`` family's real data and the fixed rulers that measure every generation.

Real data: scikit-learn's handwritten digits (``sklearn.datasets.load_digits``: 1797 images of
8 × 8 pixels, grey levels 0..16, shipped with scikit-learn, no download), scaled to ``[0, 1]``
by dividing by 16, and split once, stratified by digit, into a training split (80%) and a
held-out split (20%, never trained on) from the fixed key :data:`SPLIT_KEY`.

Rulers. Every metric of the family is measured with instruments fitted once, on real data,
from fixed seeds, on the CPU, and cached for the process (:func:`ruler`), so every generation,
replicate, run and device is measured with the same ruler:

* a digit classifier, a small MLP ``64 → 64 → 10`` with ReLU trained with Adam on the training
  split (:data:`CLASSIFIER_KEY`); its held-out accuracy is :attr:`Ruler.accuracy` (0.958), and
  its 64 penultimate (post-ReLU) activations are the *feature space* of the Fréchet distance
  and of precision and recall, as the Inception network's are for FID;
* the real training split's features: their mean and covariance (Fréchet) and each real
  point's distance to its ``k``-th nearest real neighbour (precision);
* fixed latent draws (:func:`ruler_latents`) at which a model's decoder is evaluated, and
  fixed reparametrisation noise for the held-out ELBO (:func:`heldout_noise`).

Measuring draws no random numbers and is done in float64 by PyTorch on one CPU thread (the
classifier's trained float32 weights held exactly), so the numbers do not depend on the
machine's thread count or on where the networks trained.

The image metrics (:meth:`Ruler.image_metrics`) of a set of ``M`` images ``x_1..x_M``:

``class_entropy``
    ``H(p̂) = −Σ_c p̂_c log p̂_c`` (nats) of the histogram ``p̂`` of the classifier's predicted
    digits (argmax); ``log 10 = 2.303`` is uniform over the digits, 0 a single digit.
``class_kl``
    ``KL(p̂ ‖ q) = Σ_c p̂_c log(p̂_c / q_c)`` with ``q`` the training split's digit mix. This
    direction is finite when digits vanish from the generated images (a vanished digit adds
    0), so a mode collapse onto one digit ``c`` is the number ``log(1/q_c) ≈ 2.3``, not ``∞``.
``frechet``
    ``‖μ_r − μ_g‖² + tr(Σ_r + Σ_g − 2 (Σ_r^{1/2} Σ_g Σ_r^{1/2})^{1/2})`` between normals fitted
    (unbiased covariances) to the training split's features and the images' features (the FID
    idea of Heusel et al. on digits); the matrix square roots come from symmetric
    eigendecompositions (negative rounding eigenvalues read as 0), never a complex ``sqrtm``.
``precision``, ``recall``
    Kynkäänniemi et al.'s improved precision and recall with ``k = 3``: the real manifold is
    the union of balls around the real training features, each of radius the distance to its
    ``k``-th nearest real neighbour (itself excluded); precision is the share of the images'
    features inside it, recall the share of real features inside the images' own manifold
    (balls of their ``k``-th neighbour distances among the images).
``pixel_var``
    ``(1/64) Σ_j Var_i(x_ij)``: the mean over pixels of the variance across the images (divisor
    ``M``).

References
----------
.. [1] M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter, "GANs trained by a
   two time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017 (FID).
.. [2] T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila, "Improved precision and
   recall metric for assessing generative models", NeurIPS 2019.
.. [3] E. Alpaydin, C. Kaynak, "Optical recognition of handwritten digits", UCI Machine
   Learning Repository (1998) (the data of ``load_digits``).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import ConfigError
from . import stacked
from .backend import torch_module

#: Pixels of one image, and its side.
PIXELS = 64
SIDE = 8
#: Digit classes.
CLASSES = 10
#: Grey levels of ``load_digits`` run 0..16; images are divided by this.
GREY_LEVELS = 16.0

#: The :class:`numpy.random.SeedSequence` entropy of the stratified split.
SPLIT_KEY = 2024_0717
#: Share of each digit's images held out (rounded per digit: 359 of 1797).
HELD_OUT_SHARE = 0.2

#: The classifier: hidden width, training settings and the key of its initial weights and
#: minibatch orders (held-out accuracy 0.958; 0.955 to 0.961 over five other keys).
CLASSIFIER_HIDDEN = 64
CLASSIFIER_EPOCHS = 100
CLASSIFIER_BATCH = 128
CLASSIFIER_LEARNING_RATE = 3e-3
CLASSIFIER_KEY = 2024_0718

#: Neighbours of the precision/recall manifolds (Kynkäänniemi et al.'s default).
NEIGHBOURS = 3

#: Keys of the fixed latent draws and of the held-out ELBO's noise.
LATENT_KEY = 2024_0719
NOISE_KEY = 2024_0720

#: Names of the metrics that :meth:`Ruler.image_metrics` returns.
IMAGE_METRICS = ("class_entropy", "class_kl", "frechet", "precision", "recall", "pixel_var")

SKLEARN_EXTRA = "pip install 'modelcollapse[neural]' (or scikit-learn>=1.3)"

_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class Digits:
    """The real images, split once (read-only arrays).

    Attributes
    ----------
    train, heldout
        Images ``[n, 64]`` in ``[0, 1]`` (float64, multiples of 1/16).
    train_labels, heldout_labels
        Their digits ``[n]``.
    """

    train: np.ndarray
    train_labels: np.ndarray
    heldout: np.ndarray
    heldout_labels: np.ndarray

    @property
    def class_mix(self) -> np.ndarray:
        """The training split's share of each digit ``[10]``."""
        return np.bincount(self.train_labels, minlength=CLASSES) / self.train_labels.size


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@lru_cache(maxsize=1)
def digits() -> Digits:
    """The digits and their fixed stratified split (cached).

    For each digit, its images are permuted by a generator from :data:`SPLIT_KEY` (digit by
    digit, in order) and the first ``round(0.2 n_c)`` are held out; each split keeps the
    original order of the images.

    Raises
    ------
    ConfigError
        When scikit-learn (which ships the images) is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ConfigError("family", f"vae needs scikit-learn for its digits; install it with "
                                    f"{SKLEARN_EXTRA}") from None
    bunch = load_digits()
    images = np.asarray(bunch.data, dtype=float) / GREY_LEVELS
    labels = np.asarray(bunch.target, dtype=np.int64)
    rng = np.random.default_rng(np.random.SeedSequence(SPLIT_KEY))
    held = np.zeros(labels.size, dtype=bool)
    for c in range(CLASSES):
        members = rng.permutation(np.flatnonzero(labels == c))
        held[members[:round(HELD_OUT_SHARE * members.size)]] = True
    return Digits(_readonly(images[~held]), _readonly(labels[~held]),
                  _readonly(images[held]), _readonly(labels[held]))


@lru_cache(maxsize=8)
def ruler_latents(latent: int) -> np.ndarray:
    """The fixed latent draws ``z_1..z_M ~ N(0, I)`` ``[M, latent]`` a model is measured at.

    ``M`` is the number of held-out images (359), so the generated images of a model and the
    held-out real images that stand for the truth at generation 0 are sets of the same size:
    the finite-sample biases of ``frechet``, ``precision`` and ``recall`` are then the same at
    every generation. ``M × latent`` standard normals from the key :data:`LATENT_KEY`, row by
    row (read-only).
    """
    m = digits().heldout.shape[0]
    rng = np.random.default_rng(np.random.SeedSequence(LATENT_KEY))
    return _readonly(rng.standard_normal((m, latent)))


@lru_cache(maxsize=8)
def heldout_noise(latent: int) -> np.ndarray:
    """One fixed ``ε ~ N(0, I)`` per held-out image ``[M, latent]`` for the held-out ELBO
    (key :data:`NOISE_KEY`, read-only)."""
    m = digits().heldout.shape[0]
    rng = np.random.default_rng(np.random.SeedSequence(NOISE_KEY))
    return _readonly(rng.standard_normal((m, latent)))


def classifier_layout() -> stacked.Layout:
    """The ruler classifier's parameters: ``64 → 64`` (ReLU) ``→ 10``."""
    return stacked.Layout((*stacked.linear_parameters("hidden", PIXELS, CLASSIFIER_HIDDEN),
                           *stacked.linear_parameters("out", CLASSIFIER_HIDDEN, CLASSES)))


def _train_classifier(data: Digits) -> np.ndarray:
    """The classifier's trained parameters ``[P]`` (PyTorch, CPU, fixed key)."""
    torch = torch_module("vae")
    layout = classifier_layout()
    rng = np.random.default_rng(np.random.SeedSequence(CLASSIFIER_KEY))
    x = stacked.to_tensor(np.array(data.train[None]), "cpu")  # a writable copy for PyTorch
    y = stacked.to_tensor(np.array(data.train_labels[None]), "cpu", "int64")

    def loss(views: dict[str, Any], index: np.ndarray) -> Any:
        hidden = torch.relu(stacked.linear(stacked.gather_rows(x, index), views, "hidden"))
        logits = stacked.linear(hidden, views, "out")
        return torch.nn.functional.cross_entropy(logits[0], stacked.gather_rows(y, index)[0])[None]

    trained = stacked.train(layout.initial(rng, 1), loss, layout=layout, n=data.train.shape[0],
                            epochs=CLASSIFIER_EPOCHS, batch_size=CLASSIFIER_BATCH,
                            learning_rate=CLASSIFIER_LEARNING_RATE, rng=rng, device="cpu")
    return trained[0]


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigh)."""
    lam, vec = np.linalg.eigh(matrix)
    return (vec * np.sqrt(np.maximum(lam, 0.0))[..., None, :]) @ np.swapaxes(vec, -1, -2)


def _tensor(values: np.ndarray) -> Any:
    """A float64 CPU tensor holding a copy of ``values`` (the rulers' arithmetic is PyTorch's on
    one thread, :mod:`~.backend`: numpy's BLAS would pick its own thread count, which both
    slows a machine whose cores already run one block each and may change the sums' order)."""
    torch = torch_module("vae")
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64)


def _squared_distances(a: Any, b: Any) -> Any:
    """``‖a_i − b_j‖²`` for tensors ``a[..., m, d]``, ``b[..., n, d]``."""
    return ((a**2).sum(dim=-1)[..., :, None] + (b**2).sum(dim=-1)[..., None, :]
            - 2.0 * (a @ b.transpose(-1, -2)))


def kth_neighbour_radii(features: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Squared distance of each point of ``features[..., m, d]`` to its ``k``-th nearest other
    point ``[..., m]`` (the point itself, at distance 0, is excluded; duplicates are not)."""
    return _kth_radii(_tensor(features), k).numpy()


def _kth_radii(points: Any, k: int = NEIGHBOURS) -> Any:
    d2 = _squared_distances(points, points)
    k = min(k, points.shape[-2] - 1)
    return d2.kthvalue(k + 1, dim=-1).values  # the (k + 1)-th smallest: itself comes first


@dataclass(frozen=True, eq=False)
class Ruler:
    """The instruments fitted once on real data (see the module notes).

    Attributes
    ----------
    weights
        The classifier's parameters, by name (float64 arrays of the trained float32 values).
    accuracy
        The classifier's accuracy on the held-out split.
    class_mix
        The training split's digit shares ``q`` ``[10]``.
    real_features
        The training split's features ``[n, 64]``.
    real_mean, real_cov_sqrt, real_trace
        ``μ_r``, ``Σ_r^{1/2}`` and ``tr Σ_r`` of those features.
    real_radii
        Each real feature's squared ``k``-th neighbour distance among them ``[n]``.
    """

    weights: dict[str, np.ndarray]
    accuracy: float
    class_mix: np.ndarray
    real_features: np.ndarray
    real_mean: np.ndarray
    real_cov_sqrt: np.ndarray
    real_trace: float
    real_radii: np.ndarray
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The classifier's features and log-probabilities of images ``[..., m, 64]``.

        Evaluated in float64 on the CPU (the trained float32 weights held exactly): no random
        numbers, no device.

        Returns
        -------
        features
            ``[..., m, 64]``, the post-ReLU hidden activations.
        log_probs
            ``[..., m, 10]``, ``log softmax`` of the logits.
        """
        torch = torch_module("vae")
        w = self._tensors()
        hidden = torch.relu(_tensor(images) @ w["hidden.w"] + w["hidden.b"])
        logits = hidden @ w["out.w"] + w["out.b"]
        return hidden.numpy(), torch.log_softmax(logits, dim=-1).numpy()

    def _tensors(self, what: str = "weights") -> dict[str, Any]:
        """The weights, or the real features' arrays, as tensors (made once per ruler)."""
        cached = self._cache.get(what)
        if cached is None:
            if what == "weights":
                cached = {name: _tensor(value) for name, value in self.weights.items()}
            else:
                real_sq = (self.real_features**2).sum(axis=-1)
                cached = {"real": _tensor(self.real_features), "real_sq": _tensor(real_sq),
                          "offset": _tensor(real_sq - self.real_radii)}
            self._cache[what] = cached
        return cached

    def image_metrics(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """:data:`IMAGE_METRICS` of each image set ``images[B, M, 64]``, each ``[B]``.

        Degenerate sets (a collapsed model decoding one image, every pixel 0) give numbers:
        a zero covariance is a valid normal's, a zero ``k``-th neighbour distance a valid
        (empty) ball. An image set with a NaN (a network that blew up) gives NaN.
        """
        images = np.asarray(images, dtype=float)
        m = images.shape[1]
        features, log_probs = self.features(images)
        predicted = log_probs.argmax(axis=-1)
        counts = (predicted[..., None] == np.arange(CLASSES)).sum(axis=1)
        share = counts / m
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(share > 0, share * np.log(np.where(share > 0, share, 1.0)), 0.0)
            ratio = np.where(share > 0, np.log(np.where(share > 0, share, 1.0) / self.class_mix),
                             0.0)
        out = {"class_entropy": np.maximum(-plogp.sum(axis=-1), 0.0),  # not −0 for one digit
               "class_kl": np.maximum((share * ratio).sum(axis=-1), 0.0),
               "frechet": self.frechet(features),
               "pixel_var": images.var(axis=1).mean(axis=-1)}
        out["precision"], out["recall"] = self.precision_recall(features)
        bad = np.isnan(images).any(axis=(1, 2))
        return {name: np.where(bad, np.nan, out[name]) for name in IMAGE_METRICS}

    def frechet(self, features: np.ndarray) -> np.ndarray:
        """Fréchet distance between the real features' normal and that of each set
        ``features[B, M, 64]`` ``[B]`` (unbiased covariances; eigh square roots)."""
        mean = features.mean(axis=1)
        centred = features - mean[:, None, :]
        cov = np.swapaxes(centred, -1, -2) @ centred / max(features.shape[1] - 1, 1)
        product = self.real_cov_sqrt @ cov @ self.real_cov_sqrt
        product = 0.5 * (product + np.swapaxes(product, -1, -2))  # symmetric against rounding
        root_trace = np.sqrt(np.maximum(np.linalg.eigvalsh(product), 0.0)).sum(axis=-1)
        value = (((mean - self.real_mean) ** 2).sum(axis=-1) + self.real_trace
                 + np.trace(cov, axis1=-2, axis2=-1) - 2.0 * root_trace)
        return np.maximum(value, 0.0)

    def precision_recall(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Improved precision and recall (``k`` = :data:`NEIGHBOURS`) of each set
        ``features[B, M, 64]`` against the real training features, ``([B], [B])``.

        With ``c_gr = ‖g‖² + ‖r‖² − 2 g·r`` the squared distance, ``g`` is inside the real
        manifold when ``min_r (c_gr − ρ_r) ≤ 0`` and ``r`` inside the images' when
        ``min_g (c_gr − ρ_g) ≤ 0``; both minima come from one ``[B, M, n]`` product, updated in
        place (the ``B M n`` distances are the metrics' largest cost).
        """
        t = self._tensors("real")
        points = _tensor(features)
        image_sq = (points**2).sum(dim=-1)
        work = points @ (-2.0 * t["real"].T)  # −2 g·r, [B, M, n]
        work += t["offset"]  # ‖r‖² − ρ_r
        precision = (work.amin(dim=-1) + image_sq <= 0.0).double().mean(dim=-1)
        work -= t["offset"]
        work += (image_sq - _kth_radii(points))[..., None]  # ‖g‖² − ρ_g
        recall = (work.amin(dim=-2) + t["real_sq"] <= 0.0).double().mean(dim=-1)
        return precision.numpy(), recall.numpy()


def _build_ruler() -> Ruler:
    data = digits()
    layout = classifier_layout()
    flat = _train_classifier(data)
    at, weights = 0, {}
    for p in layout.parameters:
        weights[p.name] = _readonly(flat[at:at + p.size].reshape(p.shape).copy())
        at += p.size
    partial = Ruler(weights, 0.0, np.empty(0), np.empty((0, 0)), np.empty(0), np.empty((0, 0)),
                    0.0, np.empty(0))
    real, _ = partial.features(data.train)
    _, held_log_probs = partial.features(data.heldout)
    accuracy = float((held_log_probs.argmax(axis=-1) == data.heldout_labels).mean())
    mean = real.mean(axis=0)
    cov = np.cov(real, rowvar=False)
    return Ruler(weights, accuracy, _readonly(data.class_mix), _readonly(real),
                 _readonly(mean), _readonly(_sqrt_psd(cov)), float(np.trace(cov)),
                 _readonly(kth_neighbour_radii(real)))


_cached: list[Ruler] = []


def ruler() -> Ruler:
    """The process's ruler, built on first use (about half a second) and then cached.

    Built under a lock, so that replicate blocks starting together on worker threads share one
    ruler instead of each training a classifier.
    """
    with _lock:
        if not _cached:
            _cached.append(_build_ruler())
        return _cached[0]


@lru_cache(maxsize=1)
def heldout_image_metrics() -> dict[str, float]:
    """The held-out real images' :data:`IMAGE_METRICS` (the truth's at generation 0)."""
    values = ruler().image_metrics(digits().heldout[None])
    return {name: float(values[name][0]) for name in IMAGE_METRICS}
