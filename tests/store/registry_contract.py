"""The model-registry part of the TrackingStore contract (mixed into
:class:`tests.store.contract.TrackingStoreContract`, so it runs against every store)."""

from __future__ import annotations

import threading

import pytest

from runtrack.errors import ConflictError, NotFoundError, PropertyConflictError
from runtrack.store.base import TrackingStore


class RegistryContract:
    def test_versions_count_up_per_name(self, store: TrackingStore) -> None:
        first = store.create_model_version("m", source="s1", files="m/a", run_id="r1",
                                           description="first", tags={"t": "1"},
                                           properties={"p": "x"})
        assert (first.name, first.version, first.source, first.files) == ("m", 1, "s1", "m/a")
        assert first.run_id == "r1" and first.description == "first"
        assert first.tags == {"t": "1"} and first.properties == {"p": "x"}
        assert first.stage == "None" and first.aliases == []
        second = store.create_model_version("m", source="s2")
        assert second.version == 2 and second.files is None and second.run_id is None
        assert store.create_model_version("other", source="s").version == 1
        model = store.get_registered_model("m")
        assert model.latest_version == 2 and model.name == "m"
        assert [m.name for m in store.list_registered_models()] == ["m", "other"]
        assert [(v.name, v.version) for v in store.list_model_versions()] == [
            ("m", 1), ("m", 2), ("other", 1)]
        assert [v.version for v in store.list_model_versions("m")] == [1, 2]
        assert store.get_model_version("m", 1) == first

    def test_create_registered_model(self, store: TrackingStore) -> None:
        made = store.create_registered_model("m", description="d", tags={"a": "b"})
        assert (made.name, made.description, made.tags, made.latest_version) == (
            "m", "d", {"a": "b"}, None)
        assert made.aliases == {}
        with pytest.raises(ConflictError, match="already exists"):
            store.create_registered_model("m")
        assert store.create_model_version("m", source="s").version == 1

    def test_unknown_names_and_versions_say_what_exists(self, store: TrackingStore) -> None:
        with pytest.raises(NotFoundError, match="no model is registered"):
            store.get_registered_model("nope")
        store.create_model_version("known", source="s")
        with pytest.raises(NotFoundError, match="'known'"):
            store.get_registered_model("nope")
        with pytest.raises(NotFoundError, match="versions are: 1"):
            store.get_model_version("known", 7)
        with pytest.raises(NotFoundError):
            store.list_model_versions("nope")
        with pytest.raises(NotFoundError):
            store.delete_model_version("known", 2)
        with pytest.raises(NotFoundError):
            store.set_model_tags("known", {"a": "b"}, version=3)

    def test_tags_properties_and_updates(self, store: TrackingStore) -> None:
        store.create_model_version("m", source="s")
        store.set_model_tags("m", {"a": "1", "b": "2"})
        store.set_model_tags("m", {"a": "3"}, version=1)
        store.remove_model_tags("m", ["b", "unknown"])
        assert store.get_registered_model("m").tags == {"a": "1"}
        assert store.get_model_version("m", 1).tags == {"a": "3"}
        store.remove_model_tags("m", ["a"], version=1)
        assert store.get_model_version("m", 1).tags == {}
        store.add_model_version_properties("m", 1, {"k": "v"})
        store.add_model_version_properties("m", 1, {"k": "v"})
        with pytest.raises(PropertyConflictError):
            store.add_model_version_properties("m", 1, {"k": "changed", "new": "x"})
        assert store.get_model_version("m", 1).properties == {"k": "v"}
        updated = store.update_model_version("m", 1, description="better", stage="Production")
        assert (updated.description, updated.stage) == ("better", "Production")
        renamed = store.update_registered_model("m", new_name="m2", description="about")
        assert (renamed.name, renamed.description) == ("m2", "about")
        assert store.get_model_version("m2", 1).description == "better"
        store.create_model_version("taken", source="s")
        with pytest.raises(ConflictError):
            store.update_registered_model("m2", new_name="taken")

    def test_aliases(self, store: TrackingStore) -> None:
        for _ in range(3):
            store.create_model_version("m", source="s")
        store.set_model_alias("m", "champion", 1)
        store.set_model_alias("m", "champion", 2)
        store.set_model_alias("m", "old", 1)
        assert store.get_registered_model("m").aliases == {"champion": 2, "old": 1}
        assert store.get_model_version("m", 2).aliases == ["champion"]
        with pytest.raises(NotFoundError):
            store.set_model_alias("m", "x", 9)
        store.delete_model_alias("m", "old")
        with pytest.raises(NotFoundError):
            store.delete_model_alias("m", "old")
        store.delete_model_version("m", 2)
        assert store.get_registered_model("m").aliases == {}

    def test_deletes_never_reuse_versions(self, store: TrackingStore) -> None:
        store.create_model_version("m", source="s", tags={"a": "b"}, properties={"c": "d"})
        store.create_model_version("m", source="s")
        gone = store.delete_model_version("m", 2)
        assert gone.version == 2
        assert store.create_model_version("m", source="s").version == 3
        deleted = store.delete_registered_model("m")
        assert [v.version for v in deleted] == [1, 3]
        with pytest.raises(NotFoundError):
            store.get_registered_model("m")
        assert store.create_model_version("m", source="s").version == 1

    def test_concurrent_registrations_get_distinct_versions(self, store: TrackingStore) -> None:
        got: list[int] = []
        errors: list[BaseException] = []

        def register() -> None:
            try:
                for _ in range(3):
                    got.append(store.create_model_version("race", source="s").version)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=register) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(got) == list(range(1, 19))

    # -- datasets and run inputs ----------------------------------------------------------------

    def test_dataset_versions(self, store: TrackingStore) -> None:
        definition = {"paths": ["/data/a.csv"], "format": "delimited"}
        first = store.register_dataset("iris", kind="tabular", definition=definition,
                                       digest="d1", description="flowers", tags={"a": "b"})
        assert (first.name, first.version, first.kind, first.digest) == ("iris", 1, "tabular", "d1")
        assert first.definition == definition and first.tags == {"a": "b"}
        same = store.register_dataset("iris", kind="tabular", definition=definition, digest="d1",
                                      create_new_version=False)
        assert same == first
        with pytest.raises(ConflictError, match="create_new_version=True"):
            store.register_dataset("iris", kind="tabular", definition={}, digest="d2",
                                   create_new_version=False)
        second = store.register_dataset("iris", kind="tabular", definition={}, digest="d2")
        assert second.version == 2
        assert store.get_dataset("iris") == second
        assert store.get_dataset("iris", 1) == first
        assert [(d.name, d.version) for d in store.list_datasets()] == [("iris", 1), ("iris", 2)]
        assert [d.version for d in store.list_datasets("iris")] == [1, 2]
        with pytest.raises(NotFoundError, match="versions are: 1, 2"):
            store.get_dataset("iris", 5)
        with pytest.raises(NotFoundError, match="'iris'"):
            store.get_dataset("nope")

    def test_run_inputs(self, store: TrackingStore) -> None:
        from runtrack.catalog import RunInputInfo
        from tests.store.contract import new_run

        new_run(store, "r1")
        new_run(store, "r2")
        train = RunInputInfo(name="train", digest="d1", dataset_name="iris", dataset_version=1,
                             tags={"mode": "mount"})
        evals = RunInputInfo(name="ds", digest="x", source_type="local", source='{"uri": "/a"}',
                             schema="{}", profile="{}", context="eval")
        store.log_run_inputs("r1", [train, evals])
        store.log_run_inputs("r1", [train])  # the same input again: skipped
        got = store.get_run_inputs(["r1", "r2"])
        assert got == {"r1": [train, evals], "r2": []}
        with pytest.raises(NotFoundError):
            store.log_run_inputs("missing", [train])
        store.delete_run("r1")
        assert store.get_run_inputs(["r1"]) == {"r1": []}
