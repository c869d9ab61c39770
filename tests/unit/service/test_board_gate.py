"""The board gate (tally/service/board_snapshot.py): a flood of board readers is worked on a few at
a time, the others park; station requests never wait on it; a reader that does not read its
response does not keep a slot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tally.service.board_snapshot import BoardGate, is_board_path


class _App:
    """An ASGI app that counts the requests inside it and answers when told to."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.go = asyncio.Event()
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.seen.append(scope["path"])
        try:
            await self.go.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        finally:
            self.inside -= 1


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "GET"}


async def _noop_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _sink(message: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("path", "board"),
    [
        ("/board/", True),
        ("/board", True),
        ("/board/static/board.css", True),
        ("/api/board", True),
        ("/api/board/proof", True),
        ("/station/checkin", False),
        ("/api/remote/cast", False),
        ("/api/health", False),
        ("/boardroom", False),
    ],
)
def test_only_the_boards_paths_pass_the_gate(path: str, board: bool) -> None:
    assert is_board_path(path) is board


def test_a_flood_of_board_reads_is_worked_on_two_at_a_time_and_station_requests_pass() -> None:
    async def go() -> None:
        app = _App()
        gate = BoardGate(app, limit=2)
        board = [
            asyncio.create_task(gate(_scope("/api/board"), _noop_receive, _sink)) for _ in range(64)
        ]
        await asyncio.sleep(0.01)
        assert app.inside == 2  # 62 parked before any work is done for them
        station = asyncio.create_task(gate(_scope("/station/checkin"), _noop_receive, _sink))
        await asyncio.sleep(0.01)
        assert app.inside == 3 and app.seen[-1] == "/station/checkin"  # not behind the flood
        app.go.set()
        await asyncio.wait_for(asyncio.gather(*board, station), 5)
        assert app.most == 3 and len(app.seen) == 65

    asyncio.run(go())


def test_a_reader_that_does_not_read_its_response_frees_its_slot() -> None:
    """The slot is freed as the last part of the response is handed over, not when the socket
    has drained: two stalled readers cannot close the board to everyone else."""

    async def go() -> None:
        app = _App()
        app.go.set()
        gate = BoardGate(app, limit=2)
        never = asyncio.Event()

        async def stalled(message: Any) -> None:
            if message["type"] == "http.response.body":
                await never.wait()  # the client's socket never drains

        stuck = [
            asyncio.create_task(gate(_scope("/board/"), _noop_receive, stalled)) for _ in range(2)
        ]
        await asyncio.sleep(0.01)
        await asyncio.wait_for(gate(_scope("/api/board"), _noop_receive, _sink), 2)
        never.set()
        await asyncio.wait_for(asyncio.gather(*stuck), 2)

    asyncio.run(go())


def test_a_failed_board_request_frees_its_slot() -> None:
    async def boom(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("render failed")

    async def go() -> None:
        gate = BoardGate(boom, limit=1)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await asyncio.wait_for(gate(_scope("/api/board"), _noop_receive, _sink), 2)

    asyncio.run(go())
