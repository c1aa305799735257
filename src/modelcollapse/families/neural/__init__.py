"""Neural families: real networks in the same loop, trained with PyTorch (the ``neural`` extra).

=============== ====================================================================
``vae``         a variational autoencoder on scikit-learn's handwritten digits (:mod:`.vae`)
``charlm``      a character-level transformer language model on a text corpus (:mod:`.charlm`)
=============== ====================================================================

Modules: :mod:`.backend` (PyTorch imported on first use, the device, determinism),
:mod:`.stacked` (a replicate block's networks as one model: stacked parameters, grouped matrix
products, Adam), :mod:`.common` (what the neural families share). Importing this package never
imports PyTorch: the families register without it and load it when they first train.
"""
