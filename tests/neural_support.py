"""What the neural families' tests share: PyTorch, or a skip (locally) or a failure (in CI).

CI sets ``MODELCOLLAPSE_REQUIRE_TORCH=1`` (``.ci/run``), so the neural tests can never pass there
by being skipped; on a machine without PyTorch they are skipped with the reason.
"""

from __future__ import annotations

import os

import pytest


def require_torch():
    """PyTorch, or skip the calling test module (fail instead under MODELCOLLAPSE_REQUIRE_TORCH)."""
    try:
        import torch
    except ImportError:
        if os.environ.get("MODELCOLLAPSE_REQUIRE_TORCH") == "1":
            pytest.fail("PyTorch is required here (MODELCOLLAPSE_REQUIRE_TORCH=1) but is not "
                        "installed", pytrace=False)
        pytest.skip("PyTorch is not installed (pip install 'modelcollapse[neural]')",
                    allow_module_level=True)
    return torch
