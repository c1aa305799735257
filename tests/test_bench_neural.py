"""The neural benchmark compares like with like, and the ngram-vs-charlm sweep is reproducible.

* ``benchmarks/reference_neural.py``'s ``torch.nn`` models, given the weights of one replicate of
  modelcollapse's stacked networks, compute the same loss on the same batch (the VAE with the
  same reparametrisation noise): the per-replicate loop of the benchmark trains the same
  network on the same objective. Each check is shown to catch a planted mismatch (swapped
  heads, a square weight loaded without its transpose).
* ``examples/sweeps/ngram-vs-charlm.toml`` expands into its four cells, none skipped, and its
  two families read the same text; a grid of the same shape at tiny sizes gives bit-identical
  tables on local processes and on a local Dask cluster.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neural_support import require_torch

torch = require_torch()

from modelcollapse.families import FAMILIES  # noqa: E402
from modelcollapse.families.neural import digits, stacked, transformer  # noqa: E402
from modelcollapse.sweeps.driver import sweep  # noqa: E402
from modelcollapse.sweeps.grid import SweepSpec, expand  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load_reference():
    """benchmarks/reference_neural.py as a module (without putting benchmarks/ on the path)."""
    spec = importlib.util.spec_from_file_location(
        "reference_neural", ROOT / "benchmarks" / "reference_neural.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


reference = _load_reference()

ROWS = 3
#: float32 sums in another order (a grouped product against one product per replicate).
RTOL = 1e-5


def _views(layout: stacked.Layout, theta: np.ndarray) -> dict[str, torch.Tensor]:
    return layout.views(torch.tensor(theta, dtype=torch.float32))


def _one(views: dict[str, torch.Tensor], r: int) -> dict[str, np.ndarray]:
    return {name: value[r].detach().numpy() for name, value in views.items()}


def test_the_reference_vae_computes_the_family_loss_for_the_same_weights():
    family = FAMILIES.get("vae")(hidden=16, latent=4)
    rng = np.random.default_rng(5)
    views = _views(family.layout, family.layout.initial(rng, ROWS))
    images = digits.digits().train[rng.integers(0, 1000, size=(ROWS, 10))]
    x = torch.tensor(images, dtype=torch.float32)
    noise = torch.tensor(rng.standard_normal((ROWS, 10, 4)), dtype=torch.float32)
    ours = family._negative_elbo(views, x, noise).mean(dim=-1).detach().numpy()
    theirs, planted = [], []
    for r in range(ROWS):
        model = reference.load_vae(reference.VAE(64, 16, 4), _one(views, r))
        theirs.append(model.loss(x[r], noise[r]).item())
        # A planted mismatch: the two heads of the encoder swapped (μ read as log σ²).
        model.mean, model.log_var = model.log_var, model.mean
        planted.append(model.loss(x[r], noise[r]).item())
    np.testing.assert_allclose(theirs, ours, rtol=RTOL)
    assert not np.allclose(planted, ours, rtol=RTOL, atol=0)


def test_the_reference_transformer_computes_the_family_loss_for_the_same_weights():
    arch = transformer.Architecture(vocab=11, context=8, embedding=16, layers=2, heads=2)
    rng = np.random.default_rng(6)
    views = _views(arch.layout, arch.layout.initial(rng, ROWS))
    tokens = torch.tensor(rng.integers(0, 11, size=(ROWS, 5, 8)), dtype=torch.int64)
    ours = (-transformer.token_log_probs(views, tokens, arch)).mean(dim=(1, 2))
    theirs, planted = [], []
    for r in range(ROWS):
        model = reference.CharTransformer(11, context=8, embedding=16, layers=2, heads=2)
        model = reference.load_transformer(model, _one(views, r))
        theirs.append(model.loss(tokens[r]).item())
        # A planted mismatch: the attention's square output projection loaded untransposed.
        with torch.no_grad():
            out = model.blocks[0].self_attn.out_proj.weight
            out.copy_(out.T.clone())
        planted.append(model.loss(tokens[r]).item())
    np.testing.assert_allclose(theirs, ours.detach().numpy(), rtol=RTOL)
    assert not np.allclose(planted, ours.detach().numpy(), rtol=RTOL, atol=0)


# -- the comparison sweep: processes and Dask give the same tables ------------------------------

#: The shape of examples/sweeps/ngram-vs-charlm.toml at tiny sizes: only settings both families
#: take can be set in a grid over family (charlm keeps its default network).
TINY = {"experiment": {"corpus": "demo", "max-vocab": 32, "length": 16, "samples": 320,
                       "generations": 2, "replicates": 2, "policy": "mix", "seed": 3},
        "grid": {"family": ["ngram", "charlm"], "real": [0.1]}}

KEY = ["cell", "replicate", "metric", "generation"]


def _metrics(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path / "metrics")
    for column in ("cell", "family", "metric"):
        frame[column] = frame[column].astype(str)
    return frame.sort_values(KEY, ignore_index=True)


def test_the_example_sweep_has_its_four_cells_and_no_skipped_one():
    spec = SweepSpec.from_toml(ROOT / "examples" / "sweeps" / "ngram-vs-charlm.toml")
    expansion = expand(spec, seed=spec.seed)
    assert not expansion.skipped
    cells = {(c.values["family"], c.values["real"]): c.config for c in expansion.cells}
    assert set(cells) == {(f, r) for f in ("ngram", "charlm") for r in (0.0, 0.1)}
    ngram, charlm = cells["ngram", 0.0].model, cells["charlm", 0.0].model
    assert ngram.order == 2 and ngram.smoothing == "kn" and ngram.tokens == "chars"
    # The same text: corpus, vocabulary, sequences, truth and its tail.
    assert ngram.language().vocab == charlm.language().vocab == 64
    assert ngram.length == charlm.length and ngram.corpus_sha256 == charlm.corpus_sha256
    np.testing.assert_array_equal(ngram.language().train, charlm.language().train)


def test_the_comparison_sweep_is_bit_identical_on_processes_and_dask(tmp_path):
    pytest.importorskip("distributed")
    processes = sweep(TINY, out=tmp_path / "processes", workers=2, plots=False)
    dask = sweep(TINY, out=tmp_path / "dask", dask_local=2, plots=False)
    assert "Dask" in dask.manifest["sessions"][-1]["executor"]
    a, b = _metrics(tmp_path / "processes"), _metrics(tmp_path / "dask")
    assert set(a.family) == {"ngram", "charlm"}
    assert {"perplexity", "tail_share", "support"} <= set(a.metric[a.family == "charlm"])
    assert np.isfinite(a.value[(a.family == "charlm") & (a.generation > 0)]).all()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "processes" / "summary.parquet"),
                                  pd.read_parquet(tmp_path / "dask" / "summary.parquet"))
    assert processes.complete and dask.complete
