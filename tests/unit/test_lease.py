"""The background-projection lease: one holder per file, handed on when released."""

from __future__ import annotations

from pathlib import Path

from dialogue_engine.projections.lease import Lease


def test_one_holder_at_a_time_and_the_next_takes_over(tmp_path: Path) -> None:
    path = tmp_path / "views.db.follower"
    first, second = Lease(path), Lease(path)
    assert first.held()
    assert not second.held()
    assert first.held()  # asking again keeps it
    first.release()
    assert second.held()
    assert not first.held()
    second.release()


def test_without_a_file_the_only_process_always_holds_it() -> None:
    assert Lease(None).held()
