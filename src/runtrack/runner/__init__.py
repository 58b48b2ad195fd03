"""Execution layer: snapshot a source folder, run it under a supervisor, report status.

Modules: ``spec`` (what a run needs, log layout), ``snapshot``, ``envs``
(interpreters and cached virtual environments), ``runenv`` (the variables each process
gets), ``procs`` (process groups, ending whole trees), ``capture`` (live log pumping),
``outcome`` (exit → status/error), ``supervisor`` and ``target`` (ComputeTarget,
LocalTarget). The runner imports spool, store.base and layer 0 only; the supervisor
process is wired to its stores by ``runtrack.cli._supervise``.
"""
