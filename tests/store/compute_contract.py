"""The named-compute-target part of the TrackingStore contract (mixed into
:class:`tests.store.contract.TrackingStoreContract`, so it runs against every store)."""

from __future__ import annotations

import pytest

from runtrack.errors import ConflictError, InvalidValueError, NotFoundError
from runtrack.store.base import TrackingStore


class ComputeContract:
    def test_compute_targets_add_list_remove(self, store: TrackingStore) -> None:
        assert store.list_compute_targets() == []
        made = store.add_compute_target("gpu", "ray", "http://127.0.0.1:8265")
        assert (made.name, made.kind, made.address) == ("gpu", "ray", "http://127.0.0.1:8265")
        store.add_compute_target("cpu-cluster", "local")
        listed = store.list_compute_targets()
        assert [(t.name, t.kind, t.address) for t in listed] == [
            ("cpu-cluster", "local", None), ("gpu", "ray", "http://127.0.0.1:8265")]
        assert listed[1].created_time == pytest.approx(made.created_time)
        with pytest.raises(ConflictError, match="exists already"):
            store.add_compute_target("gpu", "ray", "http://other:8265")
        store.remove_compute_target("gpu")
        assert [t.name for t in store.list_compute_targets()] == ["cpu-cluster"]
        with pytest.raises(NotFoundError, match="'gpu' does not exist"):
            store.remove_compute_target("gpu")

    def test_compute_target_bad_input_says_what_to_do(self, store: TrackingStore) -> None:
        with pytest.raises(InvalidValueError, match="always exists"):
            store.add_compute_target("local", "local")
        with pytest.raises(InvalidValueError, match="kind 'slurm' is unknown; use one of"):
            store.add_compute_target("x", "slurm")
        with pytest.raises(InvalidValueError, match="Ray job-submission address"):
            store.add_compute_target("x", "ray", "127.0.0.1:6379")
        with pytest.raises(InvalidValueError, match="always exists"):
            store.remove_compute_target("local")
        assert store.list_compute_targets() == []
