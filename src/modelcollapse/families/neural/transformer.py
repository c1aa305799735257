"""A replicate block's decoder-only transformers as one model: layout, forward pass, generation.

``R`` character-level language models, one per replicate, are held as one ``[R, P]`` parameter
tensor (:mod:`~.stacked`); every layer below is a grouped product over the replicate axis, so
the block trains and generates with one call per layer, not one Python loop per replicate.

The network (GPT-2's shape, small; Radford et al. 2019), for tokens ``0 … V − 1`` and the
beginning-of-sequence symbol BOS ``= V``:

* input ``h⁰_i = E[x_i] + Q[i]``: a token embedding ``E`` of ``V + 1`` rows (BOS included) and a
  learned position embedding ``Q`` of ``context`` rows;
* ``layers`` pre-LayerNorm blocks, each
  ``h ← h + W_o · attention(LN₁(h))`` then ``h ← h + W₂ · GELU(W₁ · LN₂(h))``, with
  ``heads``-head causal self-attention (head width ``d = embedding / heads``):
  ``softmax(q kᵀ / √d + M) v`` and ``M_ij = −∞`` for ``j > i`` (a position sees itself and the
  positions before it, never after), and an MLP of width ``4 × embedding``;
* a final LayerNorm and an untied output head ``W_out`` over the ``V`` tokens (BOS is never
  predicted): ``log p(x_{i+1} | x_{≤i}) = log_softmax(W_out · LN(h^L_i))``.

Written with explicit matrix products (no ``torch.nn.MultiheadAttention``) so that every product
is grouped over replicates and the causal mask is visible. Initial weights are PyTorch's
defaults (:class:`~.stacked.Layout`): ``nn.Linear``'s ``U(−1/√fan_in, 1/√fan_in)`` for every
dense layer and ``nn.Embedding``'s ``N(0, 1)`` for both embeddings, drawn from the block's
numpy generator.

Generation (:func:`generate`) runs the same network one position at a time with a cache of
every layer's keys and values (so a sequence of ``L`` tokens costs ``L`` single-position passes,
not ``L`` whole prefixes); each step's next-token law goes through a caller-given ``decode``
(the family's temperature, top-k, top-p) and the token is picked by inversion of its cumulative
distribution with a uniform drawn beforehand from the block's numpy generator, on the CPU in
float64: the draws never depend on the device.

References
----------
.. [1] A. Vaswani et al., "Attention is all you need", NeurIPS (2017).
.. [2] A. Radford et al., "Language models are unsupervised multitask learners" (GPT-2, 2019);
   pre-LayerNorm blocks as in R. Xiong et al., "On layer normalization in the transformer
   architecture", ICML (2020).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt
from typing import Any

import numpy as np

from .backend import torch_module
from .stacked import (
    Layout,
    Parameter,
    layer_norm,
    layer_norm_parameters,
    linear,
    linear_parameters,
)

#: The MLP's width in units of the embedding width (GPT's 4).
MLP_FACTOR = 4

#: Activations (floats) one chunk of a pass may hold per replicate block: a pass over many
#: sequences (held-out text, generation, scoring candidates) runs in chunks of sequences
#: so that its memory stays near 4 bytes × this, whatever the number of sequences.
CHUNK_FLOATS = 1 << 24


@dataclass(frozen=True)
class Architecture:
    """The sizes of one network.

    Parameters
    ----------
    vocab
        ``V``, output tokens (the input has ``V + 1``: BOS is the id ``V``).
    context
        Positions of the position embedding: the longest input.
    embedding
        Width of the residual stream.
    layers
        Transformer blocks.
    heads
        Attention heads per block (must divide ``embedding``).
    """

    vocab: int
    context: int
    embedding: int
    layers: int
    heads: int

    @property
    def bos(self) -> int:
        """The id of the beginning-of-sequence symbol (input only)."""
        return self.vocab

    @property
    def head_width(self) -> int:
        return self.embedding // self.heads

    @property
    def layout(self) -> Layout:
        """Every parameter, in the order of the flat vector."""
        e = self.embedding
        params: list[Parameter] = [
            Parameter("embed.token", (self.vocab + 1, e), "normal", 1.0),
            Parameter("embed.position", (self.context, e), "normal", 1.0),
        ]
        for layer in range(self.layers):
            name = f"block{layer}"
            params += [*layer_norm_parameters(f"{name}.ln1", e),
                       *linear_parameters(f"{name}.qkv", e, 3 * e),
                       *linear_parameters(f"{name}.out", e, e),
                       *layer_norm_parameters(f"{name}.ln2", e),
                       *linear_parameters(f"{name}.fc", e, MLP_FACTOR * e),
                       *linear_parameters(f"{name}.proj", MLP_FACTOR * e, e)]
        params += [*layer_norm_parameters("final.ln", e),
                   *linear_parameters("head", e, self.vocab)]
        return Layout(tuple(params))

    def activation_floats(self, positions: int) -> int:
        """Floats a forward pass holds per sequence of ``positions`` tokens (a bound used to
        size chunks and memory estimates; the backward pass keeps about as many again)."""
        e, t = self.embedding, positions
        per_layer = t * (10 * e + 2 * MLP_FACTOR * e) + 2 * self.heads * t * t
        return self.layers * per_layer + t * (2 * e + 3 * self.vocab)

    def chunk(self, rows: int, positions: int) -> int:
        """Sequences per chunk of a pass over ``rows`` replicates (at least 1)."""
        return max(1, CHUNK_FLOATS // max(1, rows * self.activation_floats(positions)))


def _embed(views: dict[str, Any], tokens: Any, start: int = 0) -> Any:
    """``E[x] + Q[start + i]`` for input ids ``tokens[R, B, T]`` → ``[R, B, T, e]``.

    Each replicate's table is looked up by offsetting its ids by ``r (V + 1)`` into the
    block's tables stacked end to end: one embedding lookup for the whole block.
    """
    torch = torch_module()
    table = views["embed.token"]
    rows, size, width = table.shape
    offset = torch.arange(rows, device=tokens.device).reshape(rows, 1, 1) * size
    x = torch.nn.functional.embedding(tokens + offset, table.reshape(rows * size, width))
    positions = views["embed.position"][:, start:start + tokens.shape[-1]]
    return x + positions[:, None]


def _split_heads(x: Any, heads: int) -> Any:
    """``[R, B, T, e] → [R, B, H, T, d]``."""
    rows, batch, length, width = x.shape
    return x.reshape(rows, batch, length, heads, width // heads).transpose(2, 3)


def _merge_heads(x: Any) -> Any:
    """``[R, B, H, T, d] → [R, B, T, e]``."""
    rows, batch, heads, length, width = x.shape
    return x.transpose(2, 3).reshape(rows, batch, length, heads * width)


def _mlp(views: dict[str, Any], x: Any, name: str) -> Any:
    torch = torch_module()
    hidden = torch.nn.functional.gelu(linear(layer_norm(x, views, f"{name}.ln2"), views,
                                             f"{name}.fc"))
    return linear(hidden, views, f"{name}.proj")


def forward(views: dict[str, Any], tokens: Any, arch: Architecture) -> Any:
    """Next-token logits ``[R, B, T, V]`` for input ids ``tokens[R, B, T]`` (``T ≤ context``).

    Position ``i``'s logits depend on ``tokens[..., :i + 1]`` only (the causal mask).
    """
    torch = torch_module()
    length = tokens.shape[-1]
    x = _embed(views, tokens)
    later = torch.ones(length, length, dtype=torch.bool, device=tokens.device).triu(1)
    scale = 1.0 / sqrt(arch.head_width)
    for layer in range(arch.layers):
        name = f"block{layer}"
        qkv = linear(layer_norm(x, views, f"{name}.ln1"), views, f"{name}.qkv")
        q, k, v = (_split_heads(part, arch.heads) for part in qkv.chunk(3, dim=-1))
        scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # [R, B, H, T, T]
        weights = torch.softmax(scores.masked_fill(later, float("-inf")), dim=-1)
        x = x + linear(_merge_heads(torch.matmul(weights, v)), views, f"{name}.out")
        x = x + _mlp(views, x, name)
    return linear(layer_norm(x, views, "final.ln"), views, "head")


def token_log_probs(views: dict[str, Any], targets: Any, arch: Architecture) -> Any:
    """``log p(x_i | BOS, x_1 … x_{i−1})`` of every token of ``targets[R, B, T]`` → ``[R, B, T]``.

    Teacher forcing: the input is ``[BOS, x_1 … x_{T−1}]``, the targets ``x_1 … x_T``; every
    sequence starts from BOS. Padding after a sequence's end may hold any token: the mask is
    causal, so it changes nothing before it (callers ignore its values).
    """
    torch = torch_module()
    bos = torch.full_like(targets[..., :1], arch.bos)
    inputs = torch.cat([bos, targets[..., :-1]], dim=-1)
    logits = forward(views, inputs, arch)
    return torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None])[..., 0]


def decoded_log_probs(views: dict[str, Any], targets: Any, arch: Architecture,
                      decode: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``log q(x_i | BOS, x_{<i})`` of every token of ``targets[R, B, T]`` under the decoded law
    ``q = decode(p)`` of each network's next-token law ``p`` (as :func:`generate` draws):
    float64 ``[R, B, T]`` on the CPU, ``−∞`` for a token that decoding removed."""
    torch = torch_module()
    bos = torch.full_like(targets[..., :1], arch.bos)
    logits = forward(views, torch.cat([bos, targets[..., :-1]], dim=-1), arch)
    probs = np.exp(torch.log_softmax(logits, dim=-1).to("cpu", torch.float64).numpy())
    drawn = decode(probs / probs.sum(axis=-1, keepdims=True))
    chosen = targets.to("cpu").numpy()[..., None]
    with np.errstate(divide="ignore"):
        return np.log(np.take_along_axis(drawn, chosen, axis=-1)[..., 0])


def generate(views: dict[str, Any], uniforms: np.ndarray, arch: Architecture, *,
             decode: Callable[[np.ndarray], np.ndarray], device: str) -> np.ndarray:
    """Sequences of ``T`` tokens from every replicate's network, one position at a time.

    Parameters
    ----------
    views
        The block's parameters (:meth:`~.stacked.Layout.views`), no gradients needed.
    uniforms
        ``[R, S, T]`` uniforms in ``[0, 1)``, ``T ≤ context``: token ``i`` of sequence ``s`` of
        replicate ``r`` is the first token whose cumulative decoded probability exceeds
        ``uniforms[r, s, i]`` (inversion; a token of probability 0 is never chosen).
    decode
        The next-token law from the network's: ``[R, S, V]`` probabilities (float64, rows
        summing to 1) → the law to draw from (temperature, top-k, top-p).
    device
        Where the network runs.

    Returns
    -------
    numpy.ndarray
        ``int32 [R, S, T]``.
    """
    torch = torch_module()
    rows, count, length = uniforms.shape
    out = np.empty((rows, count, length), dtype=np.int32)
    step = arch.chunk(rows, arch.context)
    with torch.no_grad():
        for lo in range(0, count, step):
            out[:, lo:lo + step] = _generate_chunk(views, uniforms[:, lo:lo + step], arch,
                                                   decode, device)
    return out


def _generate_chunk(views, uniforms, arch, decode, device):
    torch = torch_module()
    rows, count, length = uniforms.shape
    heads, width = arch.heads, arch.head_width
    cache_shape = (rows, count, heads, length, width)
    keys = [torch.empty(cache_shape, device=device) for _ in range(arch.layers)]
    values = [torch.empty(cache_shape, device=device) for _ in range(arch.layers)]
    token = torch.full((rows, count, 1), arch.bos, dtype=torch.int64, device=device)
    out = np.empty((rows, count, length), dtype=np.int32)
    scale = 1.0 / sqrt(width)
    for i in range(length):
        x = _embed(views, token, start=i)  # [R, S, 1, e]
        for layer in range(arch.layers):
            name = f"block{layer}"
            qkv = linear(layer_norm(x, views, f"{name}.ln1"), views, f"{name}.qkv")
            q, k, v = (_split_heads(part, heads) for part in qkv.chunk(3, dim=-1))
            keys[layer][:, :, :, i:i + 1] = k
            values[layer][:, :, :, i:i + 1] = v
            # Position i attends to positions 0..i: the cache holds exactly those.
            scores = torch.matmul(q, keys[layer][:, :, :, :i + 1].transpose(-1, -2)) * scale
            weights = torch.softmax(scores, dim=-1)
            y = torch.matmul(weights, values[layer][:, :, :, :i + 1])
            x = x + linear(_merge_heads(y), views, f"{name}.out")
            x = x + _mlp(views, x, name)
        logits = linear(layer_norm(x, views, "final.ln"), views, "head")[:, :, 0]
        # The law in float64 on the CPU: decoding and the draw are the same on every device.
        log_p = torch.log_softmax(logits, dim=-1).to("cpu", torch.float64).numpy()
        probs = np.exp(log_p)
        probs /= probs.sum(axis=-1, keepdims=True)
        chosen = pick(decode(probs), uniforms[:, :, i])
        out[:, :, i] = chosen
        token = torch.as_tensor(chosen.astype(np.int64), device=device)[..., None]
    return out


def pick(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The first token whose cumulative probability exceeds the uniform, ``[...]``.

    ``probs[..., V]`` (renormalised here, as the n-gram generator does), ``uniforms[...]``
    in ``[0, 1)``: the cumulative distribution's last entry is 1 exactly, so a token of
    probability 0 (a flat step, or the tail after the last positive one) is never chosen.
    """
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[..., -1:]
    return (cdf <= uniforms[..., None]).sum(axis=-1).astype(np.int32)
