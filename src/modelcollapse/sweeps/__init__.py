"""Sweeps: a grid of experiments, split into work units, run anywhere, never losing finished work.

``modelcollapse sweep SWEEP.toml`` is :func:`modelcollapse.api.sweep`, which runs
:func:`~modelcollapse.sweeps.driver.sweep` and draws ``sweep.png``. The grid (``grid.py``) expands
into cells; each cell's replicates are cut into *work units* of whole replicate blocks
(``plan.py``), so a large cell spreads over many workers and a small one is a single unit. Units
run (``units.py``) on an executor (``executors.py``: this process, local processes, or Dask) and
come back as encoded Parquet files, which the driver (``driver.py``) writes atomically into the
sweep folder (``store.py``) as they arrive; running the same command again resumes, skipping units
whose files exist. The summary's statistics per cell are ``summary.py``, and ``reader.py`` reads a
sweep folder back (:class:`~modelcollapse.sweeps.reader.SweepResult`).

Every number depends only on (cell, seed): a unit draws its blocks from
``SeedSequence(seed, spawn_key=(stream_key(cell), block))`` exactly as ``modelcollapse run`` does,
so a cell of a sweep is bit-for-bit the run with the same options and seed, whatever the executor,
the number of workers, the unit size or the order in which units finish.
"""
