"""The per-replicate PyTorch loops a user would write for the neural families (benchmark reference).

Two ``torch.nn`` models of the same shapes, losses and optimiser as modelcollapse's ``vae`` and
``charlm`` networks, each trained one replicate at a time in a Python loop, with
``torch.optim.Adam``, ``torch.randperm`` minibatches and PyTorch's default threads (what a user
gets):

* :class:`VAE`: an MLP variational autoencoder, ``64 → hidden (ReLU) → (μ, log σ²)`` of a
  ``latent``-dimensional normal, decoder ``latent → hidden (ReLU) → 64`` logits; the loss per
  image is the negative ELBO, the Bernoulli cross-entropy summed over pixels (targets in
  ``[0, 1]``) plus ``KL(N(μ, σ²) ‖ N(0, I))``, averaged over the minibatch;
* :class:`CharTransformer`: a pre-LayerNorm decoder-only transformer over characters:
  ``nn.Embedding`` of the ``V`` tokens and BOS, a learned position embedding,
  ``nn.TransformerEncoderLayer(norm_first=True, activation="gelu", batch_first=True,
  dropout=0)`` blocks with a causal mask (the GPT block: ``4 ×`` GELU MLP), a final
  ``nn.LayerNorm`` and an untied ``nn.Linear`` head; the loss is the mean next-character
  cross-entropy under teacher forcing, the input ``[BOS, x_1 … x_{L−1}]`` and the targets
  ``x_1 … x_L``.

Work is counted as in the family: every replicate makes ``epochs × ⌈n / batch_size⌉`` Adam steps
over its own ``n`` items, so a loop over ``R`` replicates processes ``R × n × epochs`` images (or
``× L`` tokens), exactly the items modelcollapse's stacked training processes for a block.
:func:`load_vae` and :func:`load_transformer` copy one replicate's weights from modelcollapse's
flat parameter row into these modules (``tests/test_bench_neural.py`` checks that both compute the
same loss, so the benchmark compares like with like).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class VAE(nn.Module):
    """The MLP VAE of the ``vae`` family as a user writes it with ``torch.nn``."""

    def __init__(self, pixels: int = 64, hidden: int = 128, latent: int = 8) -> None:
        super().__init__()
        self.encoder = nn.Linear(pixels, hidden)
        self.mean = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Linear(latent, hidden)
        self.output = nn.Linear(hidden, pixels)

    def loss(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """The minibatch's mean negative ELBO (``noise``: the ε of z = μ + σ ε, else drawn)."""
        h = torch.relu(self.encoder(x))
        mean, log_var = self.mean(h), self.log_var(h)
        if noise is None:
            noise = torch.randn_like(mean)
        z = mean + torch.exp(0.5 * log_var) * noise
        logits = self.output(torch.relu(self.decoder(z)))
        reconstruction = nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="none").sum(-1)
        kl = 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(-1)
        return (reconstruction + kl).mean()


class CharTransformer(nn.Module):
    """The ``charlm`` family's network as a user writes it with ``torch.nn``."""

    def __init__(self, vocab: int, *, context: int = 64, embedding: int = 64, layers: int = 2,
                 heads: int = 4) -> None:
        super().__init__()
        self.vocab = vocab
        self.token = nn.Embedding(vocab + 1, embedding)  # the last id is BOS
        self.position = nn.Embedding(context, embedding)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(embedding, heads, dim_feedforward=4 * embedding,
                                       dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(layers))
        self.norm = nn.LayerNorm(embedding)
        self.head = nn.Linear(embedding, vocab)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``[B, T, V]`` of input ids ``[B, T]``."""
        length = inputs.shape[1]
        positions = torch.arange(length, device=inputs.device)
        x = self.token(inputs) + self.position(positions)
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=inputs.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))

    def loss(self, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per token of the sequences ``targets[B, L]`` (teacher forcing)."""
        bos = torch.full_like(targets[:, :1], self.vocab)
        logits = self(torch.cat([bos, targets[:, :-1]], dim=1))
        return nn.functional.cross_entropy(logits.reshape(-1, self.vocab), targets.reshape(-1))


def train_one(model: nn.Module, items: torch.Tensor, *, epochs: int, batch_size: int,
              learning_rate: float) -> nn.Module:
    """The loop a user writes: Adam, a fresh ``randperm`` each epoch, ``model.loss(batch)``."""
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    n = items.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, device=items.device)
        for start in range(0, n, batch_size):
            optimiser.zero_grad(set_to_none=True)
            model.loss(items[order[start:start + batch_size]]).backward()
            optimiser.step()
    if items.is_cuda:  # the work is done when the GPU is, not when its kernels are queued
        torch.cuda.synchronize(items.device)
    return model


def train_vaes(images: np.ndarray, *, hidden: int, latent: int, epochs: int, batch_size: int,
               learning_rate: float, device: str = "cpu") -> list[VAE]:
    """One VAE per replicate, trained one after another on ``images[R, n, 64]``."""
    out = []
    for replicate in images:
        model = VAE(images.shape[-1], hidden, latent).to(device)
        data = torch.as_tensor(replicate, dtype=torch.float32, device=device)
        out.append(train_one(model, data, epochs=epochs, batch_size=batch_size,
                             learning_rate=learning_rate))
    return out


def train_transformers(sequences: np.ndarray, *, vocab: int, context: int, embedding: int,
                       layers: int, heads: int, epochs: int, batch_size: int,
                       learning_rate: float, device: str = "cpu") -> list[CharTransformer]:
    """One transformer per replicate, trained one after another on ``sequences[R, S, L]``."""
    out = []
    for replicate in sequences:
        model = CharTransformer(vocab, context=context, embedding=embedding, layers=layers,
                                heads=heads).to(device)
        data = torch.as_tensor(replicate, dtype=torch.int64, device=device)
        out.append(train_one(model, data, epochs=epochs, batch_size=batch_size,
                             learning_rate=learning_rate))
    return out


# -- modelcollapse's weights in these modules (for the like-with-like test) ---------------------


def _set(parameter: nn.Parameter, value: Any) -> None:
    with torch.no_grad():
        parameter.copy_(torch.as_tensor(np.asarray(value), dtype=parameter.dtype))


def load_vae(model: VAE, views: dict[str, np.ndarray]) -> VAE:
    """Copy one replicate's weights (``views``: name → array, as the family's layout names them)
    into ``model``: modelcollapse stores a dense layer as ``x @ W`` (``W[in, out]``),
    ``nn.Linear`` as ``x @ Wᵀ``."""
    for name in ("encoder", "mean", "log_var", "decoder", "output"):
        layer = getattr(model, name)
        _set(layer.weight, np.asarray(views[f"{name}.w"]).T)
        _set(layer.bias, views[f"{name}.b"])
    return model


def load_transformer(model: CharTransformer, views: dict[str, np.ndarray]) -> CharTransformer:
    """Copy one replicate's weights (``views``: name → array, as the family's layout names them)
    into ``model``. modelcollapse stores a dense layer as ``x @ W`` (``W[in, out]``), ``nn.Linear``
    as ``x @ Wᵀ``; the fused ``qkv`` weight is ``nn.MultiheadAttention``'s ``in_proj`` (q, k, v)."""
    _set(model.token.weight, views["embed.token"])
    _set(model.position.weight, views["embed.position"])
    for layer, block in enumerate(model.blocks):
        name = f"block{layer}"
        _set(block.norm1.weight, views[f"{name}.ln1.g"])
        _set(block.norm1.bias, views[f"{name}.ln1.b"])
        _set(block.self_attn.in_proj_weight, np.asarray(views[f"{name}.qkv.w"]).T)
        _set(block.self_attn.in_proj_bias, views[f"{name}.qkv.b"])
        _set(block.self_attn.out_proj.weight, np.asarray(views[f"{name}.out.w"]).T)
        _set(block.self_attn.out_proj.bias, views[f"{name}.out.b"])
        _set(block.norm2.weight, views[f"{name}.ln2.g"])
        _set(block.norm2.bias, views[f"{name}.ln2.b"])
        _set(block.linear1.weight, np.asarray(views[f"{name}.fc.w"]).T)
        _set(block.linear1.bias, views[f"{name}.fc.b"])
        _set(block.linear2.weight, np.asarray(views[f"{name}.proj.w"]).T)
        _set(block.linear2.bias, views[f"{name}.proj.b"])
    _set(model.norm.weight, views["final.ln.g"])
    _set(model.norm.bias, views["final.ln.b"])
    _set(model.head.weight, np.asarray(views["head.w"]).T)
    _set(model.head.bias, views["head.b"])
    return model
