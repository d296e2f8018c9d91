"""One writer, readers on committed versions (decision 0016): the warehouse can be written
while it is read, and a reader never sees a version half written.

Each test plays the other process with a second handle in this one: the locks are taken per
open file, so a second handle conflicts with the first as another process would.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from edubrain.settings import Settings
from edubrain.warehouse import WarehouseBusyError, open_warehouse
from edubrain.warehouse.versions import next_version_path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", key_file=tmp_path / "key", progress=False)


def _write(settings: Settings, values: list[int]) -> Path:
    with open_warehouse(settings) as wh:
        with wh.transaction() as tx:
            tx.replace_table("numbers", pa.table({"n": values}))
        return Path(wh.path)  # type: ignore[attr-defined]


def _numbers(wh: object) -> list[int]:
    return sorted(wh.to_arrow("numbers").column("n").to_pylist())  # type: ignore[attr-defined]


def test_a_writer_with_no_reader_writes_in_place(settings: Settings) -> None:
    assert _write(settings, [1]) == settings.workspace.warehouse
    assert not next_version_path(settings.workspace.warehouse).exists()


def test_a_reader_keeps_its_version_while_a_writer_publishes_the_next(
    settings: Settings,
) -> None:
    _write(settings, [1])
    reader = open_warehouse(settings, read_only=True)
    try:
        written_to = _write(settings, [1, 2, 3])
        assert written_to == next_version_path(settings.workspace.warehouse)
        # The open reader still reads what it opened, and knows a newer version is out.
        assert _numbers(reader) == [1]
        assert not reader.is_current()
        with open_warehouse(settings, read_only=True) as fresh:
            assert _numbers(fresh) == [1, 2, 3]
            assert fresh.is_current()
    finally:
        reader.close()
    assert not next_version_path(settings.workspace.warehouse).exists()


def test_what_a_failed_writer_left_uncommitted_is_never_published(settings: Settings) -> None:
    _write(settings, [1])
    with open_warehouse(settings, read_only=True) as reader:
        with pytest.raises(RuntimeError), open_warehouse(settings) as wh:
            with wh.transaction() as tx:
                tx.replace_table("numbers", pa.table({"n": [1, 2]}))
            with wh.transaction() as tx:
                tx.replace_table("numbers", pa.table({"n": [9, 9, 9]}))
                raise RuntimeError("the job failed half way")
        assert _numbers(reader) == [1]
    with open_warehouse(settings, read_only=True) as after:
        assert _numbers(after) == [1, 2]  # the committed transaction, not the broken one


def test_writers_take_turns(settings: Settings) -> None:
    _write(settings, [0])
    order: list[str] = []
    first_open = threading.Event()
    waited = threading.Event()

    def second() -> None:
        first_open.wait()
        with open_warehouse(settings, on_wait=waited.set) as wh:
            order.append("second writes")
            with wh.transaction() as tx:
                tx.replace_table("numbers", pa.table({"n": [*_numbers(wh), 2]}))

    thread = threading.Thread(target=second)
    thread.start()
    with open_warehouse(settings) as wh:
        first_open.set()
        assert waited.wait(timeout=60), "the second writer did not wait for the first"
        order.append("first writes")
        with wh.transaction() as tx:
            tx.replace_table("numbers", pa.table({"n": [*_numbers(wh), 1]}))
    thread.join(timeout=60)
    assert order == ["first writes", "second writes"]
    with open_warehouse(settings, read_only=True) as wh:
        assert _numbers(wh) == [0, 1, 2]  # neither write was lost


def test_a_reader_waits_for_a_writer_in_place_then_says_why_it_gave_up(
    settings: Settings,
) -> None:
    _write(settings, [1])
    refused: list[Exception] = []

    def another_reader() -> None:  # another thread waits like another process
        try:
            open_warehouse(settings, read_only=True, wait_seconds=0.5).close()
        except WarehouseBusyError as exc:
            refused.append(exc)

    with open_warehouse(settings) as wh:
        assert Path(wh.path) == settings.workspace.warehouse  # type: ignore[attr-defined]
        thread = threading.Thread(target=another_reader)
        thread.start()
        thread.join(timeout=60)
    assert len(refused) == 1 and "正在写入" in str(refused[0])
    with open_warehouse(settings, read_only=True, wait_seconds=0.5) as reader:
        assert _numbers(reader) == [1]


def test_the_demo_refuses_to_delete_a_home_a_service_reads(settings: Settings) -> None:
    from edubrain.usecases.demo import WorkspaceInUseError, run_demo

    _write(settings, [1])
    with open_warehouse(settings, read_only=True):
        with pytest.raises(WorkspaceInUseError, match="edubrain serve"):
            run_demo(settings.home, students=200)
        assert settings.workspace.warehouse.exists()  # nothing was deleted


def test_a_thread_that_writes_can_open_the_warehouse_again(settings: Settings) -> None:
    _write(settings, [1])
    with open_warehouse(settings, read_only=True) as reader:  # a service: the writer copies
        with open_warehouse(settings) as outer:
            with outer.transaction() as tx:
                tx.replace_table("numbers", pa.table({"n": [1, 2]}))
            # A use case inside the write (reading, then writing) shares the writer's file.
            with open_warehouse(settings, read_only=True, wait_seconds=0) as inner:
                assert _numbers(inner) == [1, 2]
            with open_warehouse(settings) as inner, inner.transaction() as tx:
                tx.replace_table("numbers", pa.table({"n": [1, 2, 3]}))
            assert reader.is_current()  # nothing is published before the outer write closes
        assert not reader.is_current()
    with open_warehouse(settings, read_only=True) as after:
        assert _numbers(after) == [1, 2, 3]
