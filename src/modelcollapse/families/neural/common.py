"""What the neural families share: training settings, the device, and the truth's marker.

A neural model's parameters, as the generation loop holds them, are one row per replicate:
``[marker, θ_1 … θ_P]``. The marker is 1 for the truth (real data, which no network stands for)
and 0 for a trained network, whose flat parameters follow (:mod:`~.stacked`). So the truth is a
row like any other, and every method can tell real data from a model row by row.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...validation import check_choice, check_float, check_int
from ..base import Family, option
from .backend import DEVICES, NEURAL_EXTRA, THREADS, resolve_device, torch_module
from .stacked import Layout

#: The marker of the truth's row (the first parameter).
TRUTH_MARKER = 1.0

#: Most parameters of one network (a block's networks, their Adam state and gradients must fit
#: in memory many times over; 10⁷ float32 parameters are 40 MB per replicate).
MAX_PARAMETERS = 10**7


def device_option() -> Any:
    """``--device cpu|cuda|auto`` (never part of the stream key: the device draws no numbers)."""
    return option("auto", flag="device", kind="str", choices=DEVICES,
                  help="where networks train: cpu, cuda, or auto (CUDA when PyTorch finds a "
                       "GPU; default)")


def warm_start_option() -> Any:
    """``--warm-start``: start each generation's training from the previous network."""
    return option(False, flag="warm-start", kind="bool",
                  help="start each generation from the previous network (fine-tuning, as "
                       "Shumailov et al.) instead of fresh weights (default: fresh, as "
                       "Gerstgrasser et al.)")


@dataclass(frozen=True)
class NeuralFamily(Family):
    """A family whose model is a neural network trained with Adam on every training set.

    Subclasses declare the fields ``epochs``, ``batch_size``, ``learning_rate``,
    ``warm_start`` and ``device`` (each with its own default), a :attr:`layout`, and the loss.
    Fresh weights are the default: each generation's network then depends on the earlier ones
    only through its training data, as every statistical family's fit does, which is the
    setting the package's theory describes and the one Gerstgrasser et al. (2024) use;
    ``warm_start`` fine-tunes the previous network instead, as Shumailov et al. (2024) do with
    their language model.
    """

    collapse_metric: ClassVar[str | None] = None
    #: Metrics of a network that real data has not (an encoder's spread, a held-out loss):
    #: ``NaN`` at generation 0, whose "model" is the truth, by definition.
    model_only_metrics: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # fields every subclass declares, each with its own default
        epochs: int
        batch_size: int
        learning_rate: float
        warm_start: bool
        device: str
    #: PyTorch's intra-op threads per block (recorded in the manifest: :mod:`~.backend`).
    threads: ClassVar[int] = THREADS

    @property
    def layout(self) -> Layout:
        raise NotImplementedError

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (1 + self.layout.size,)

    def truth(self) -> np.ndarray:
        out = np.zeros(self.param_shape)
        out[0] = TRUTH_MARKER
        return out

    @staticmethod
    def is_truth(params: np.ndarray) -> np.ndarray:
        """Which rows of ``params[..., 1 + P]`` are the truth."""
        return np.asarray(params)[..., 0] == TRUTH_MARKER

    def check_training(self) -> None:
        """Validate the shared training fields (call from ``__post_init__``)."""
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("epochs", check_int("epochs", self.epochs, minimum=1))
        set_("batch_size", check_int("batch_size", self.batch_size, minimum=1))
        set_("learning_rate", check_float("learning_rate", self.learning_rate, low=0.0,
                                          high=10.0, low_open=True,
                                          what="a number in (0, 10]"))
        check_choice("device", self.device, DEVICES)
        if not isinstance(self.warm_start, bool):
            raise ConfigError("warm_start", "must be true or false", self.warm_start)

    def check_size(self) -> None:
        """Refuse a network over :data:`MAX_PARAMETERS` parameters, up front."""
        size = self.layout.size
        if size > MAX_PARAMETERS:
            raise ConfigError("family", f"{self.name}'s network would have {size:,} parameters; "
                              f"at most {MAX_PARAMETERS:,} are allowed (make it smaller)")

    @property
    def activation_floats(self) -> int:
        """Floats of activations kept for the backward pass per training item of a minibatch
        (an image, a sequence); each family counts its own layers."""
        return 0

    def fit_bytes(self, n_items: int, block: int) -> int:
        """A block's networks in float32: parameters, gradients and Adam's two moments (four
        copies of ``P`` per replicate, one more while the result is copied out), the training
        set on the device, and the activations of one minibatch."""
        batch = min(self.batch_size, max(n_items, 1))
        weights = 5 * self.layout.size
        on_device = n_items * self.sample_width
        return 4 * block * (weights + on_device + batch * self.activation_floats)

    #: Modules a run needs beyond PyTorch, each with the package that provides it.
    needs: ClassVar[tuple[tuple[str, str], ...]] = ()

    def check_installed(self) -> None:
        """PyTorch (and :attr:`needs`) are importable, found without importing them."""
        for module, package in (("torch", "PyTorch"), *self.needs):
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):  # a broken or blocked installation
                found = False
            if not found:
                raise ConfigError("family", f"{self.name} needs {package}, which is not "
                                            f"installed; install it with {NEURAL_EXTRA}")

    def resolved_device(self) -> str:
        """The device a block trains on (``auto`` resolved on the machine that runs it)."""
        return resolve_device(self.device, self.name)

    def torch(self) -> Any:
        """PyTorch, or a one-line error naming the extra."""
        return torch_module(self.name)

    def initial_weights(self, rng: np.random.Generator, previous: np.ndarray) -> np.ndarray:
        """Where training starts: the previous networks (``warm_start``, ``t ≥ 2``) or fresh
        weights drawn from ``rng`` (always at ``t = 1``, whose previous model is the truth)."""
        previous = np.asarray(previous, dtype=float)
        if self.warm_start and not self.is_truth(previous).any():
            return np.array(previous[:, 1:])
        return self.layout.initial(rng, previous.shape[0])

    def stream_settings(self) -> dict[str, Any]:
        """The stream key leaves out the device: it draws no numbers (:mod:`~.backend`)."""
        out = super().stream_settings()
        out.pop("device", None)
        return out

    def with_params(self, params: np.ndarray) -> np.ndarray:
        """Fitted networks ``[R, P]`` as loop parameters ``[R, 1 + P]`` (marker 0)."""
        out = np.zeros((params.shape[0], 1 + params.shape[1]))
        out[:, 1:] = params
        return out
