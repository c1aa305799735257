"""Where a sweep's work units run: this process, local processes, or a Dask cluster.

Every executor has the same two methods: ``imap_unordered(fn, tasks)`` yields ``fn(task)`` for
every task as each finishes (in any order), and ``close(cancel=...)`` releases the workers. The
numbers never depend on the executor: a work unit's result is a function of the task alone
(:mod:`modelcollapse.seeding`), and the sweep writes each result under the unit's own name.

Workers send results back to the process that started the sweep, which alone writes files; so a
cluster needs no shared file system, and a worker that dies mid-task cannot leave a half file.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from ..errors import ConfigError
from ..results.folders import process_alive

T = TypeVar("T")
R = TypeVar("R")

#: The extra that installs Dask distributed.
DASK_EXTRA = "pip install 'modelcollapse[dask]'"


class Executor(Protocol):
    """What a sweep needs from an executor."""

    #: Shown to the user ("processes (2 workers)").
    description: str

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]: ...

    def close(self, *, cancel: bool = False) -> None: ...


class SerialExecutor:
    """Runs every task in this process, one after another (``--workers 1``)."""

    description = "this process"

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        for task in tasks:
            yield fn(task)

    def close(self, *, cancel: bool = False) -> None:
        pass


#: Exit status of a worker that stops because the sweep's process has gone.
ORPHANED = 75

#: Seconds between two looks at the sweep's process where it cannot be waited on (no pidfd).
ORPHAN_POLL = 1.0


def _init_worker(sweep_pid: int) -> None:
    # Ctrl-C reaches the whole process group; only the sweep's own process handles it (it
    # stops the workers), so workers do not print tracebacks of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_process(sweep_pid)


def watch_process(pid: int) -> None:
    """Exit this process (status :data:`ORPHANED`) as soon as process ``pid`` ends.

    A worker waits for tasks for ever, and may be blocked sending a result into a pipe that
    nobody reads any more; if the sweep is killed outright (SIGKILL, out of memory) nothing
    else tells it to stop. Watching the parent is not enough: the fork server is every
    worker's parent, and it stays alive as long as any worker does (each worker holds the
    write end of the pipe whose closing tells the fork server to exit), as does the resource
    tracker (whose pipe the workers hold too). So the worker watches the sweep's own process,
    from a thread that ends the whole process with ``os._exit`` whatever the main thread is
    doing; the fork server and the resource tracker then see their pipes close and exit too.

    On Linux the thread waits on a pidfd (``os.pidfd_open``), which becomes readable when the
    process ends, even if it is not yet reaped, and cannot be fooled by a reused pid.
    Elsewhere it looks every :data:`ORPHAN_POLL` seconds whether the process is alive and
    whether this process's parent has changed (with the ``spawn`` start method the sweep's
    process is the parent).
    """
    try:
        fd: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(ORPHANED)  # gone already, before this worker started
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        fd = None
    parent = os.getppid()

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:
            while process_alive(pid) and os.getppid() == parent:
                time.sleep(ORPHAN_POLL)
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="modelcollapse-orphan-watch", daemon=True).start()


class ProcessExecutor:
    """Local worker processes, each running one work unit at a time.

    Parameters
    ----------
    workers
        Processes to start.

    Notes
    -----
    Workers start from a fork server that has already imported the package (not by forking the
    sweep's own process, which may hold threads), so a worker starts in a fraction of a second.
    At most ``2 × workers`` tasks are queued at once, so memory does not grow with the sweep.
    Each worker watches the process that made the executor and exits when it ends, however it
    ends (:func:`watch_process`), so a sweep killed outright leaves no process behind.
    """

    def __init__(self, workers: int) -> None:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["modelcollapse.sweeps.units"])
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                         initializer=_init_worker, initargs=(os.getpid(),))

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        todo = iter(tasks)
        pending: set[Future[R]] = set()
        while True:
            for task in todo:
                pending.add(self._pool.submit(fn, task))
                if len(pending) >= 2 * self.workers:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            # Running units are abandoned: their results would be lost anyway, and waiting
            # for them would hold up an interrupt for as long as a unit takes.
            processes = list(getattr(self._pool, "_processes", {}).values())
            for process in processes:
                process.kill()
            for process in processes:
                process.join(timeout=10)
            # A worker killed while sending its result leaves half a message in the result
            # pipe. The pool's manager thread then waits for the rest for ever (this process
            # holds the pipe's write end too, so no end-of-file comes), and interpreter exit
            # waits for that thread: a hang after Ctrl-C, about 1 in 20 under load. With the
            # workers gone, closing our write end turns the wait into end-of-file, which the
            # manager treats as a broken pool and exits.
            writer = getattr(getattr(self._pool, "_result_queue", None), "_writer", None)
            if writer is not None:
                writer.close()
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start, so that they inherit "ignore".

    A started Python process keeps an inherited "ignore" instead of installing its
    KeyboardInterrupt handler; so Ctrl-C on a terminal, which reaches the whole process group,
    stops the sweep through its own process alone, without a traceback from every worker.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ConfigError("Dask", f"is not installed; {DASK_EXTRA}") from None
    return distributed


def _worker_version() -> str:
    from ..version import __version__

    return __version__


class DaskExecutor:
    """Work units as tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``), as started by ``dask scheduler``,
        dask-jobqueue or a Kubernetes operator. Its workers need this package installed.
    local_workers
        Instead, start a :class:`distributed.LocalCluster` of this many single-threaded worker
        processes on the loopback interface (dashboard on 127.0.0.1 only).

    Notes
    -----
    A worker lost mid-task (killed, out of memory, preempted) has its tasks rescheduled on the
    others by the Dask scheduler; a task that keeps killing workers is given up after the
    scheduler's ``allowed-failures`` (3 by default), which stops the sweep with the finished
    units kept.
    """

    def __init__(self, *, scheduler: str | None = None, local_workers: int | None = None) -> None:
        distributed = _import_distributed()
        self._cluster = None
        if local_workers is not None:
            with _interrupts_ignored():  # inherited by the workers: Ctrl-C is ours to handle
                self._cluster = distributed.LocalCluster(
                    n_workers=local_workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR)
            self.client = distributed.Client(self._cluster)
            where = f"a local Dask cluster of {local_workers} workers"
        else:
            try:
                self.client = distributed.Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as err:
                raise ConfigError("--scheduler", f"could not connect to a Dask scheduler there "
                                  f"({type(err).__name__}: {err})", scheduler) from None
            where = f"the Dask cluster at {scheduler}"
        self._check_versions()
        dashboard = self.client.dashboard_link
        self.description = where + (f" (dashboard {dashboard})" if dashboard else "")
        self._futures: list[Any] = []

    def _check_versions(self) -> None:
        mine = _worker_version()
        theirs = self.client.run(_worker_version)
        wrong = {worker: v for worker, v in theirs.items() if v != mine}
        if wrong:
            worker, version = next(iter(wrong.items()))
            self.close()
            raise ConfigError("--scheduler", f"has workers running modelcollapse {version}, not "
                              f"{mine} (e.g. {worker}); install the same version everywhere")

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        distributed = _import_distributed()
        tasks = list(tasks)
        if not tasks:
            return
        run = uuid.uuid4().hex[:8]  # unique keys: a long-lived cluster may have seen this sweep
        keys = [f"modelcollapse-{getattr(t, 'name', i)}-{run}" for i, t in enumerate(tasks)]
        self._futures = self.client.map(fn, tasks, key=keys, pure=False)
        for future in distributed.as_completed(self._futures):
            result = future.result()
            future.release()  # the result is written; the cluster need not keep it
            yield result

    def close(self, *, cancel: bool = False) -> None:
        if cancel and self._futures:
            self.client.cancel(self._futures)
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(*, workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None) -> Executor:
    """The executor the options ask for: Dask if a scheduler or local cluster is given, else
    local processes (or this process for one worker)."""
    if scheduler is not None and dask_local is not None:
        raise ConfigError("--scheduler", "and --dask-local cannot be used together")
    if scheduler is not None or dask_local is not None:
        return DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    from ..runner.blocks import default_workers

    workers = default_workers() if workers is None else workers
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)

