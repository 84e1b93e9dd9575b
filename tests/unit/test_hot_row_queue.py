"""Writers of one hot row queue in the event loop (issue 22): at most `width` of them in the database at
once, in the order they came, and the queue forgets a row nobody waits for."""

from __future__ import annotations

import asyncio

from backend.lib.db import HotRowQueue


def test_at_most_width_writers_of_one_row_at_once_in_order_of_arrival() -> None:
    async def main() -> tuple[int, list[int], list[int], int]:
        queue = HotRowQueue(width=2)
        inside, most, entered, other = 0, 0, [], []

        async def writer(n: int, key: str) -> None:
            nonlocal inside, most
            async with queue.turn(key):
                if key == "slot-1":
                    entered.append(n)
                    inside += 1
                    most = max(most, inside)
                    await asyncio.sleep(0.002)
                    inside -= 1
                else:
                    other.append(n)

        tasks = [asyncio.create_task(writer(n, "slot-1")) for n in range(20)]
        await asyncio.sleep(0)  # the first two are inside; another row's writer does not wait for them
        await writer(99, "slot-2")
        assert other == [99] and len(entered) < 20
        await asyncio.gather(*tasks)
        return most, entered, other, len(queue._gates)

    most, entered, _other, left = asyncio.run(main())
    assert most == 2
    assert entered == list(range(20))
    assert left == 0


def test_a_writer_that_fails_gives_its_turn_back() -> None:
    async def main() -> int:
        queue = HotRowQueue(width=1)

        async def failing() -> None:
            async with queue.turn("slot"):
                raise RuntimeError("the write failed")

        for _ in range(3):
            try:
                await failing()
            except RuntimeError:
                pass
        async with queue.turn("slot"):  # would wait for ever if a failed writer kept its turn
            pass
        return len(queue._gates)

    assert asyncio.run(asyncio.wait_for(main(), 2)) == 0


def test_a_free_turn_is_taken_without_a_pass_through_the_loop() -> None:
    """The gate scan takes a turn on every scan: when one is free, nothing else runs meanwhile."""

    async def main() -> tuple[bool, int]:
        queue = HotRowQueue(width=2)
        ran = []
        asyncio.get_running_loop().call_soon(ran.append, "other work")
        async with queue.turn("venue"):
            before = bool(ran)
        return before, len(queue._gates)

    assert asyncio.run(main()) == (False, 0)


def test_a_writer_cancelled_while_waiting_leaves_no_place_taken() -> None:
    async def main() -> tuple[list[str], int]:
        queue = HotRowQueue(width=1)
        order: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with queue.turn("slot"):
                order.append("holder")
                await release.wait()

        async def waiter(name: str) -> None:
            async with queue.turn("slot"):
                order.append(name)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        gone = asyncio.create_task(waiter("cancelled"))
        last = asyncio.create_task(waiter("last"))
        await asyncio.sleep(0)
        gone.cancel()
        release.set()
        await asyncio.gather(first, last, gone, return_exceptions=True)
        return order, len(queue._gates)

    assert asyncio.run(asyncio.wait_for(main(), 2)) == (["holder", "last"], 0)
