"""The neural families' shared machinery: PyTorch loaded on demand, stacked networks, Adam.

The claim of :mod:`modelcollapse.families.neural.stacked` is that a block of ``R`` networks
trained as one stacked model is ``R`` independent trainings: each replicate's parameters follow
exactly the steps it would take alone. These tests replay a stacked training one replicate at a
time, and check that a replicate never sees another's data.
"""

from __future__ import annotations

import numpy as np
import pytest

from modelcollapse.errors import ConfigError
from modelcollapse.families.neural import backend
from modelcollapse.families.neural.stacked import (
    Layout,
    Parameter,
    gather_rows,
    layer_norm,
    layer_norm_parameters,
    linear,
    linear_parameters,
    minibatches,
    to_tensor,
    train,
)
from neural_support import require_torch

torch = require_torch()

LAYOUT = Layout((*linear_parameters("hidden", 5, 7), *layer_norm_parameters("norm", 7),
                 *linear_parameters("out", 7, 1), Parameter("embed", (3, 2), "normal", 0.02)))


def regression_data(rng, rows, n=64):
    x = rng.normal(size=(rows, n, 5))
    y = np.sin(x.sum(axis=-1, keepdims=True))
    return x, y


def make_loss(x, y, seen=None):
    xt, yt = to_tensor(x, "cpu"), to_tensor(y, "cpu")

    def loss(views, index):
        if seen is not None:
            seen.append(np.array(index))
        h = torch.tanh(layer_norm(linear(gather_rows(xt, index), views, "hidden"), views,
                                  "norm"))
        out = linear(h, views, "out")
        return ((out - gather_rows(yt, index)) ** 2).mean(dim=(1, 2))

    return loss


def settings(rng):
    return dict(layout=LAYOUT, n=64, epochs=3, batch_size=16, learning_rate=1e-2, rng=rng,
                device="cpu")


def test_a_missing_torch_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setattr(backend, "_import_torch", lambda: None)
    with pytest.raises(ConfigError) as caught:
        backend.torch_module("vae")
    message = str(caught.value)
    assert "\n" not in message
    assert "modelcollapse[neural]" in message and message.startswith("family vae needs PyTorch")


def test_devices_resolve_and_a_missing_gpu_is_refused():
    assert backend.resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert backend.resolve_device("auto") == expected
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device is cuda, but PyTorch finds no CUDA"):
            backend.resolve_device("cuda")


def test_the_backend_fixes_threads_and_determinism():
    backend.torch_module()
    assert torch.get_num_threads() == backend.THREADS
    assert torch.are_deterministic_algorithms_enabled()


def test_fresh_parameters_follow_pytorch_defaults_and_are_float32_exact():
    rng = np.random.default_rng(1)
    init = LAYOUT.initial(rng, 400)
    assert init.shape == (400, LAYOUT.size)
    assert np.array_equal(init, init.astype(np.float32).astype(np.float64))
    views = LAYOUT.views(torch.tensor(init))
    w = views["hidden.w"].numpy()
    bound = 1 / np.sqrt(5)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    # A uniform on (−b, b) has variance b²/3: checked within 5 standard errors.
    var, se = w.var(), bound**2 * np.sqrt(4 / 45 / w.size)
    assert abs(var - bound**2 / 3) < 5 * se
    assert np.all(views["norm.g"].numpy() == 1) and np.all(views["norm.b"].numpy() == 0)
    embed = views["embed"].numpy()
    assert abs(embed.std() - 0.02) < 5 * 0.02 / np.sqrt(2 * embed.size)
    again = LAYOUT.initial(np.random.default_rng(1), 400)
    assert np.array_equal(init, again)


def test_a_grouped_product_is_each_replicates_own():
    rng = np.random.default_rng(2)
    params = LAYOUT.initial(rng, 3)
    x = rng.normal(size=(3, 4, 6, 5))
    views = LAYOUT.views(torch.tensor(params, dtype=torch.float32))
    out = linear(to_tensor(x, "cpu"), views, "hidden").numpy()
    for r in range(3):
        w, b = views["hidden.w"][r].numpy(), views["hidden.b"][r].numpy()
        np.testing.assert_allclose(out[r], x[r].astype(np.float32) @ w + b, rtol=1e-5,
                                   atol=1e-6)


def test_every_replicate_sees_each_item_once_per_epoch():
    batches = list(minibatches(np.random.default_rng(3), 4, 10, 3))
    assert [b.shape for b in batches] == [(4, 3)] * 3 + [(4, 1)]
    epoch = np.concatenate(batches, axis=1)
    assert all(sorted(row) == list(range(10)) for row in epoch)
    assert len({tuple(row) for row in epoch}) > 1  # each replicate has its own order


def replay_alone(initial_row, x_row, y_row, indices, learning_rate=1e-2):
    """One replicate trained alone with plain PyTorch, on the minibatches the block used."""
    theta = torch.tensor(initial_row[None], dtype=torch.float32, requires_grad=True)
    optimiser = torch.optim.Adam([theta], lr=learning_rate)
    loss = make_loss(x_row[None], y_row[None])
    for index in indices:
        optimiser.zero_grad()
        loss(LAYOUT.views(theta), index[None]).sum().backward()
        optimiser.step()
    return theta.detach().double().numpy()[0]


def test_a_stacked_block_trains_each_replicate_as_it_would_train_alone():
    rng = np.random.default_rng(4)
    x, y = regression_data(rng, 3)
    initial = LAYOUT.initial(rng, 3)
    seen: list[np.ndarray] = []
    trained = train(initial, make_loss(x, y, seen), **settings(np.random.default_rng(5)))
    assert not np.allclose(trained, initial)  # it trained
    for r in range(3):
        alone = replay_alone(initial[r], x[r], y[r], [index[r] for index in seen])
        np.testing.assert_allclose(trained[r], alone, rtol=1e-4, atol=1e-6)
    # The comparison can fail: replaying on another replicate's minibatches does not match.
    wrong = replay_alone(initial[0], x[0], y[0], [index[1] for index in seen])
    assert not np.allclose(trained[0], wrong, rtol=1e-4, atol=1e-6)


def test_a_replicate_never_sees_another_replicates_data():
    rng = np.random.default_rng(6)
    x, y = regression_data(rng, 3)
    initial = LAYOUT.initial(rng, 3)
    base = train(initial, make_loss(x, y), **settings(np.random.default_rng(7)))
    changed_y = y.copy()
    changed_y[1] = -5.0
    other = train(initial, make_loss(x, changed_y), **settings(np.random.default_rng(7)))
    assert np.array_equal(base[[0, 2]], other[[0, 2]])  # bit for bit
    assert not np.allclose(base[1], other[1])


def test_training_is_reproducible_bit_for_bit_on_the_cpu():
    rng = np.random.default_rng(8)
    x, y = regression_data(rng, 2)
    initial = LAYOUT.initial(rng, 2)
    first = train(initial, make_loss(x, y), **settings(np.random.default_rng(9)))
    second = train(initial, make_loss(x, y), **settings(np.random.default_rng(9)))
    assert np.array_equal(first, second)
