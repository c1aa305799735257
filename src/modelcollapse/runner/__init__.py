"""Running one configuration: replicate blocks on threads, in memory or streamed to a folder.

=================  ==========================================================================
``driver.py``      :func:`~modelcollapse.runner.driver.simulate` (in memory) and
                   :func:`~modelcollapse.runner.driver.run_to_folder`: a run from seed to folder
``blocks.py``      the replicate blocks of a run on a thread pool, yielded in order
``memory.py``      the memory a run will need, estimated and checked before it starts
``duration.py``    the time a run will take, estimated before it starts (and a sweep's units)
``summary.py``     the numbers at the end of a run: final values, events, theory beside them
``progress.py``    the progress bar (rate and ETA), shown only for work longer than a moment
``provenance.py``  versions, platform, command line and times for manifests
``compilation.py`` whether a family's numba kernels still need compiling on this machine
=================  ==========================================================================
"""
