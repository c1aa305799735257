"""Results on disk: a run's folder and its tables, written whole and read back lazily.

=================  ==========================================================================
``run.py``         a run's folder: :class:`~modelcollapse.results.run.RunWriter` streams it,
                   :class:`~modelcollapse.results.run.Result` reads it (or holds a run in memory)
``tables.py``      the Arrow tables of a run: tidy metrics, per-replicate, sample texts, points
``folders.py``     where folders go, how they appear whole (:class:`~modelcollapse.results.
                   folders.PartialFolder`, :func:`~modelcollapse.results.folders.atomic_write`)
                   and the figures step every folder shares
=================  ==========================================================================

A sweep's folder is :mod:`modelcollapse.sweeps.store` (one table per work unit); a study's is
:mod:`modelcollapse.studies.output`.
"""
