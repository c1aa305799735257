"""Networks of a whole replicate block as one model: stacked parameters, grouped products.

A block of ``R`` replicates trains ``R`` independent networks. Instead of a Python loop over
them, their parameters are stacked along a leading axis and every layer is one grouped
(batched) matrix product, ``x[r] @ W[r] + b[r]`` for all ``r`` at once (:func:`linear`). The
loss of the block is the *sum* of the replicates' losses, so the gradient with respect to
replicate ``r``'s parameters is the gradient of its own loss alone; Adam's update is
elementwise, so each replicate follows exactly the trajectory it would follow alone (up to the
order of floating-point sums inside the grouped products).

A network's parameters are one flat vector per replicate, laid out by a :class:`Layout`: the
loop stores them as rows of a float array ``[R, P]`` (float32 values held exactly in float64),
and :meth:`Layout.views` cuts a ``[R, P]`` tensor into named ``[R, *shape]`` views without
copying, so one leaf tensor carries every parameter and the optimiser sees one array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod, sqrt
from typing import Any

import numpy as np

from .backend import torch_module

#: How a parameter starts: PyTorch's defaults, so that the networks are the ones a user of
#: ``torch.nn`` would build. ``fan_in`` uniform is ``nn.Linear``'s (weights and biases drawn from
#: U(−1/√fan_in, 1/√fan_in)); ``normal`` is N(0, scale²) (embeddings); ``ones`` and ``zeros``
#: are a layer norm's gain and shift.
INITS = ("fan_in", "normal", "ones", "zeros")


@dataclass(frozen=True)
class Parameter:
    """One named parameter of a network: its shape and how it starts.

    ``scale`` is the fan-in for ``fan_in`` and the standard deviation for ``normal``.
    """

    name: str
    shape: tuple[int, ...]
    init: str
    scale: float = 1.0

    @property
    def size(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True)
class Layout:
    """The parameters of one network, in the order of its flat vector."""

    parameters: tuple[Parameter, ...]

    @property
    def size(self) -> int:
        """``P``, the number of parameters of one network."""
        return sum(p.size for p in self.parameters)

    def initial(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        """Fresh parameters of ``rows`` networks, ``[rows, P]``, drawn from ``rng``.

        Draws parameter by parameter in layout order (uniforms for ``fan_in``, normals for
        ``normal``), each ``[rows, size]``; values are rounded to float32, the precision they
        are trained in, so that storing them as float64 loses nothing.
        """
        out = np.empty((rows, self.size))
        at = 0
        for p in self.parameters:
            part = out[:, at:at + p.size]
            if p.init == "fan_in":
                bound = 1.0 / sqrt(p.scale)
                part[...] = rng.uniform(-bound, bound, size=part.shape)
            elif p.init == "normal":
                part[...] = p.scale * rng.standard_normal(size=part.shape)
            elif p.init == "ones":
                part[...] = 1.0
            else:
                part[...] = 0.0
            at += p.size
        return out.astype(np.float32).astype(np.float64)

    def views(self, theta: Any) -> dict[str, Any]:
        """Named ``[R, *shape]`` views of a ``[R, P]`` tensor (no copies; gradients flow)."""
        # One split, not a slice per parameter: the backward pass of each slice would fill a
        # whole [R, P] gradient with zeros around its part (measured: 16% of a step).
        rows = theta.shape[0]
        parts = theta.split([p.size for p in self.parameters], dim=1)
        return {p.name: part.reshape(rows, *p.shape)
                for p, part in zip(self.parameters, parts, strict=True)}


def linear_parameters(name: str, fan_in: int, fan_out: int) -> tuple[Parameter, Parameter]:
    """The weight ``[fan_in, fan_out]`` and bias ``[fan_out]`` of a dense layer."""
    return (Parameter(f"{name}.w", (fan_in, fan_out), "fan_in", fan_in),
            Parameter(f"{name}.b", (fan_out,), "fan_in", fan_in))


def linear(x: Any, views: dict[str, Any], name: str) -> Any:
    """``x[r] @ W[r] + b[r]`` for every replicate ``r``: one grouped product.

    ``x`` is ``[R, ..., fan_in]``; the middle axes are flattened for the product and restored.
    """
    torch = torch_module()
    weight, bias = views[f"{name}.w"], views[f"{name}.b"]
    lead = x.shape[:-1]
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    out = torch.baddbmm(bias[:, None, :], flat, weight)
    return out.reshape(*lead, weight.shape[-1])


def layer_norm_parameters(name: str, width: int) -> tuple[Parameter, Parameter]:
    """The gain (ones) and shift (zeros) of a layer norm over ``width`` features."""
    return (Parameter(f"{name}.g", (width,), "ones"), Parameter(f"{name}.b", (width,), "zeros"))


def layer_norm(x: Any, views: dict[str, Any], name: str, eps: float = 1e-5) -> Any:
    """Layer normalisation of ``x[R, ..., width]`` with each replicate's gain and shift."""
    torch = torch_module()
    gain, shift = views[f"{name}.g"], views[f"{name}.b"]
    shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
    normed = torch.nn.functional.layer_norm(x, x.shape[-1:], eps=eps)
    return normed * gain.reshape(shape) + shift.reshape(shape)


def minibatches(rng: np.random.Generator, rows: int, n: int,
                batch_size: int) -> Iterator[np.ndarray]:
    """One epoch's minibatch indices ``[rows, b]``: an independent permutation per replicate.

    Every replicate sees each of its ``n`` training items once per epoch; the last batch is
    smaller when ``batch_size`` does not divide ``n``.
    """
    order = rng.permuted(np.broadcast_to(np.arange(n), (rows, n)), axis=1)
    for start in range(0, n, batch_size):
        yield order[:, start:start + batch_size]


def train(initial: np.ndarray, loss: Callable[[dict[str, Any], np.ndarray], Any], *,
          layout: Layout, n: int, epochs: int, batch_size: int, learning_rate: float,
          rng: np.random.Generator, device: str) -> np.ndarray:
    """Train a block of networks with Adam; return their parameters ``[R, P]``.

    Parameters
    ----------
    initial
        Starting parameters ``[R, P]`` (fresh from :meth:`Layout.initial`, or the previous
        generation's for a warm start).
    loss
        ``loss(views, index)`` → each replicate's mean loss ``[R]`` on the items
        ``index[R, b]`` of its training set. It may draw from ``rng`` (the VAE's noise), in
        the order of the steps.
    n
        Items in each replicate's training set.
    epochs, batch_size, learning_rate
        Passes over the training set, items per step, Adam's step size (its other settings
        are PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8).
    rng
        The block's generator: minibatch orders, and whatever ``loss`` draws.
    device
        ``"cpu"`` or ``"cuda"``.
    """
    torch = torch_module()
    theta = torch.tensor(initial, dtype=torch.float32, device=device, requires_grad=True)
    optimiser = torch.optim.Adam([theta], lr=learning_rate)
    for _ in range(epochs):
        for index in minibatches(rng, initial.shape[0], n, batch_size):
            optimiser.zero_grad(set_to_none=True)
            # The sum: each replicate's gradient is that of its own mean loss.
            loss(layout.views(theta), index).sum().backward()
            optimiser.step()
    return theta.detach().to("cpu", torch.float64).numpy()


def gather_rows(data: Any, index: np.ndarray) -> Any:
    """``data[r, index[r]]`` for every replicate: items ``[R, b, ...]`` of ``data[R, n, ...]``."""
    torch = torch_module()
    picks = torch.as_tensor(index, device=data.device)
    rows = torch.arange(data.shape[0], device=data.device)[:, None]
    return data[rows, picks]


def to_tensor(values: np.ndarray, device: str, dtype: str = "float32") -> Any:
    """A numpy array on ``device`` as a tensor of ``dtype`` (float32 or int64)."""
    torch = torch_module()
    return torch.as_tensor(np.ascontiguousarray(values), dtype=getattr(torch, dtype),
                           device=device)
