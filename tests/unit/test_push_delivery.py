"""Pushes at least once: a worker that dies between claiming a push and confirming it loses
nothing, and repeats only what it had in flight, under the same collapse id.

A worker here is one "process": its own view of the shared inbox, claim log and push
provider. Killing it is instantaneous: from that moment none of its calls reach anything
(no claim is given back, no event completed), as with SIGKILL. The stateful test mixes
posts, worker passes, kills at any send of a pass (before the provider got it, or after
it got it and before the claim was confirmed), provider outages and time, on the memory
and the Beanie (in-process MongoDB double) inbox and claim log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.support.mongo_double.stores import double_stores
from tests.support.world import World, build_world
from yc_chat.adapters.memory import InMemoryEffectClaims, InMemoryEventInbox
from yc_chat.adapters.stream.events import decode_stream_event
from yc_chat.domain.events import push_collapse_id
from yc_chat.domain.inbox import InboxState, RetryPolicy
from yc_chat.domain.model import ChannelId, ClaimState, Notification, OrgId, PushOutcome, UserId
from yc_chat.domain.usecases import HandleChatEvent, ProcessInboxEvents
from yc_chat.domain.usecases.events import PushesPending, push_claim_key

T = TypeVar("T")
NURSE, VET, VET2 = UserId("nurse-1"), UserId("vet-1"), UserId("vet-2")
STAFF = [NURSE, VET, VET2]
LEASE = timedelta(seconds=60)
# Never parks in these runs: a kill costs an attempt, and the test kills often.
POLICY = RetryPolicy(
    max_attempts=10_000, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=8)
)


class WorkerDied(BaseException):
    """The worker's process is gone: nothing it does from here on has any effect."""


class Provider:
    """The push provider as the devices see it: every push it accepted, in order."""

    def __init__(self) -> None:
        self.accepted: list[Notification] = []
        self.down: set[UserId] = set()  # recipients it cannot reach for now (RETRY)

    def take(self, notifications: Sequence[Notification]) -> list[PushOutcome]:
        outcomes = []
        for notification in notifications:
            if notification.recipient_id in self.down:
                outcomes.append(PushOutcome.RETRY)
            else:
                self.accepted.append(notification)
                outcomes.append(PushOutcome.SENT)
        return outcomes


class Worker:
    """One worker process over the shared stores.

    At its `stop_at`-th send (counting from 0) it is killed at once (`stall=False`), or it
    stalls there until `resume()` or `kill()` (`stall=True`); with `after_send` the provider
    has taken that send by then, else not yet.
    """

    def __init__(
        self,
        *,
        world: World,
        claims: Any,
        inbox: Any,
        provider: Provider,
        kills: Counter[str],
        stop_at: int | None = None,
        after_send: bool = False,
        stall: bool = False,
    ) -> None:
        self.dead = False
        self.provider = provider
        self.kills = kills
        self.stop_at = stop_at
        self.after_send = after_send
        self.stall = stall
        self.stalled = asyncio.Event()
        self.gate = asyncio.Event()
        self.sends = 0
        self.in_flight: set[str] = set()  # keys it claimed and has not confirmed or released
        self.real_claims = claims
        self.handle = HandleChatEvent(
            directory=world.directory,
            chat_links=world.appointments,
            chat=world.chat,  # type: ignore[arg-type]
            notifier=self,
            fingerprints=world.fingerprints,
            effect_claims=self,  # type: ignore[arg-type]
            clock=world.clock,
        )
        self.process = ProcessInboxEvents(
            inbox=_Mortal(inbox, self),  # type: ignore[arg-type]
            handle=self.handle,
            decode=decode_stream_event,
            clock=world.clock,
            lease_for=LEASE,
            policy=POLICY,
            jitter=lambda: 1.0,
        )

    def die(self) -> None:
        self.dead = True
        for key in self.in_flight:
            self.kills[key] += 1  # a kill between this key's claim and its confirmation
        self.gate.set()

    def resume(self) -> None:
        self.gate.set()

    def _alive(self) -> None:
        if self.dead:
            raise WorkerDied

    # -- the Notifier, stopping at the `stop_at`-th send --------------------------------------

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        self._alive()
        self.sends += 1
        if self.sends - 1 != self.stop_at:
            return self.provider.take(notifications)
        taken = self.provider.take(notifications) if self.after_send else None
        if not self.stall:
            self.die()
        self.stalled.set()
        await self.gate.wait()
        self._alive()  # killed while stalled: the answer never came
        return taken if taken is not None else self.provider.take(notifications)

    # -- the EffectClaims, as this process reaches it ----------------------------------------------

    async def claim(self, key: str, **lease: Any) -> ClaimState:
        self._alive()
        state: ClaimState = await self.real_claims.claim(key, **lease)
        if state is ClaimState.TAKEN:
            self.in_flight.add(key)
        self._alive()
        return state

    async def confirm(self, key: str, *, owner: str) -> None:
        self._alive()
        await self.real_claims.confirm(key, owner=owner)
        self.in_flight.discard(key)

    async def release(self, key: str, *, owner: str) -> None:
        self._alive()
        await self.real_claims.release(key, owner=owner)
        self.in_flight.discard(key)


class _Mortal:
    """A store as one worker reaches it: unreachable once that worker is dead."""

    def __init__(self, inner: Any, worker: Worker) -> None:
        self._inner = inner
        self._worker = worker

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._worker._alive()
            return await method(*args, **kwargs)

        return call


def payload(channel_id: str, sender: UserId, n: int, *, system: bool) -> bytes:
    return json.dumps(
        {"type": "message.new", "channel_id": channel_id,
         "message": {"id": f"m{n}", "text": f"note {n}", "user": {"id": sender},
                     "type": "system" if system else "regular"}}
    ).encode()  # fmt: skip


class PushDelivery(RuleBasedStateMachine):
    """Posts, passes, kills, outages and time; pushes at least once, repeats only by kills."""

    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self.world: World = self.run(build_world())
        if self.backend == "memory":
            self.claims: Any = InMemoryEffectClaims()
            self.inbox: Any = InMemoryEventInbox()
        else:
            stores, _ = self.run(self.stack.enter_async_context(double_stores()))
            self.claims, self.inbox = stores.effect_claims, stores.inbox
        self.provider = Provider()
        self.kills: Counter[str] = Counter()
        self.owed: dict[str, set[UserId]] = {}  # event id -> recipients owed a push
        self.numbers = itertools.count()
        self.channel = ChannelId("")
        self.slow: Worker | None = None  # a worker hanging at a send, and its pass
        self.slow_pass: asyncio.Task[Any] | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.settle_everything()
        finally:
            self.run(self.stack.aclose())
            self.loop.close()

    @initialize()
    def a_group(self) -> None:
        ref = self.run(
            self.world.service.create_group(
                caller=NURSE, created_by=NURSE, org_id=OrgId("org-1"), name="W", member_ids=STAFF
            )
        )
        self.channel = ref.channel_id

    def worker(self, stop_at: int | None = None, **stop: bool) -> Worker:
        return Worker(
            world=self.world,
            claims=self.claims,
            inbox=self.inbox,
            provider=self.provider,
            kills=self.kills,
            stop_at=stop_at,
            **stop,
        )

    @rule(sender=st.sampled_from(STAFF), system=st.booleans() | st.just(False))
    def post(self, sender: UserId, system: bool) -> None:
        n = next(self.numbers)
        event_id = f"wh-{n}"
        body = payload(self.channel, sender, n, system=system)
        now = self.world.clock.now()
        assert self.run(
            self.inbox.record(event_id, event_type="message.new", payload=body, received_at=now)
        )
        self.owed[event_id] = set() if system else {u for u in STAFF if u != sender}

    @rule(
        crash_at=st.none() | st.integers(min_value=0, max_value=4),
        after_send=st.booleans(),
    )
    def a_pass(self, crash_at: int | None, after_send: bool) -> None:
        """One worker pass, the worker killed at its `crash_at`-th send (if it gets there)."""
        worker = self.worker(crash_at, after_send=after_send)
        before = asyncio.all_tasks(self.loop)
        try:
            self.run(worker.process())
        except WorkerDied:
            self.let_the_dead_stop(before)
        assert worker.dead == (crash_at is not None and worker.sends > crash_at)

    def let_the_dead_stop(self, others: set[asyncio.Task[Any]]) -> None:
        """A killed worker's other handlings stop at their next call: let them reach it
        (`others`: tasks that are not that worker's)."""
        orphans = asyncio.all_tasks(self.loop) - others
        if orphans:
            self.run(asyncio.wait(orphans))

    @precondition(lambda self: self.slow is None)
    @rule(stop_at=st.integers(min_value=0, max_value=3), after_send=st.booleans())
    def a_pass_stalls_at_a_send(self, stop_at: int, after_send: bool) -> None:
        """A pass that hangs at one send (before or after the provider took it), its other
        handlings running on, while the rules below go on around it."""
        worker = self.worker(stop_at, after_send=after_send, stall=True)
        task = self.loop.create_task(worker.process())
        stalled = self.loop.create_task(worker.stalled.wait())
        self.run(asyncio.wait({task, stalled}, return_when=asyncio.FIRST_COMPLETED))
        if task.done():  # fewer sends than that: it finished
            stalled.cancel()
            self.run(asyncio.wait({stalled}))
            task.result()
        else:
            self.slow, self.slow_pass = worker, task

    @precondition(lambda self: self.slow is not None)
    @rule(kill=st.booleans())
    def the_stalled_pass_ends(self, kill: bool) -> None:
        """It resumes (its lease has not run out: time stands still while it hangs), or its
        process is killed there."""
        self.finish_stalled(kill=kill)

    def finish_stalled(self, *, kill: bool) -> None:
        assert self.slow is not None and self.slow_pass is not None
        (self.slow.die if kill else self.slow.resume)()
        try:
            self.run(self.slow_pass)
        except WorkerDied:
            self.let_the_dead_stop(set())
        self.slow = self.slow_pass = None

    @precondition(lambda self: self.slow is not None)
    @rule(pick=st.integers(min_value=0, max_value=15))
    def another_worker_gets_an_event_the_stalled_one_holds(self, pick: int) -> None:
        """On FerretDB two workers can lease one event (its conditional updates are not
        atomic across processes): a second worker handles an event the stalled one leased,
        and completes it if its handling says it is done."""
        held = [
            event
            for event in self.run(self.leased_events())
            if event.state is InboxState.PROCESSING
        ]
        if not held:
            return
        event = held[pick % len(held)]
        other = self.worker()
        try:
            self.run(
                other.handle(
                    event_id=event.id,
                    event=decode_stream_event(event.payload),
                    lease_until=event.due_at,
                )
            )
        except PushesPending:
            return  # not done: the stalled worker's pushes are still owed
        self.run(self.inbox.complete(event, now=self.world.clock.now()))

    async def leased_events(self) -> list[Any]:
        found = [await self.inbox.get(event_id) for event_id in self.owed]
        return [event for event in found if event is not None]

    @precondition(lambda self: self.slow is None)
    @rule(seconds=st.sampled_from([1, 10, 59, 61, 300]))
    def time_passes(self, seconds: int) -> None:
        self.world.clock.advance(timedelta(seconds=seconds))

    @rule(user=st.sampled_from(STAFF))
    def provider_cannot_reach(self, user: UserId) -> None:
        self.provider.down ^= {user}

    @rule()
    def settle(self) -> None:
        self.settle_everything()

    def settle_everything(self) -> None:
        """The provider back, time past every lease and backoff, a healthy worker until the
        inbox is empty: then every owed push has been accepted at least once."""
        if self.slow is not None:
            self.finish_stalled(kill=False)
        self.provider.down.clear()
        for _ in range(50):
            counts = self.run(self.inbox.counts())
            if not counts.get(InboxState.PENDING) and not counts.get(InboxState.PROCESSING):
                break
            self.world.clock.advance(LEASE + timedelta(seconds=1))
            self.run(self.worker().process.drain())
        else:
            raise AssertionError(f"the inbox never emptied: {counts}")
        assert self.run(self.inbox.counts()).get(InboxState.PARKED, 0) == 0
        for event_id, recipients in self.owed.items():
            for recipient in recipients:
                key = push_claim_key(event_id, recipient)
                assert self.accepted()[key] >= 1, f"{key} was never pushed"

    def accepted(self) -> Counter[str]:
        """How many times the provider accepted each push, by its claim key."""
        by_id = {
            push_collapse_id(event_id, r): push_claim_key(event_id, r)
            for event_id, recipients in self.owed.items()
            for r in recipients
        }
        return Counter(by_id[n.collapse_id] for n in self.provider.accepted if n.collapse_id)

    @invariant()
    def every_push_is_owed_and_carries_its_collapse_id(self) -> None:
        owed_ids = {
            push_collapse_id(event_id, r): r
            for event_id, recipients in self.owed.items()
            for r in recipients
        }
        for notification in self.provider.accepted:
            # Never the sender, never a system message, always the (event, recipient)'s id.
            assert owed_ids.get(notification.collapse_id or "") == notification.recipient_id

    @invariant()
    def a_repeat_needs_a_kill_between_its_claim_and_its_confirmation(self) -> None:
        for key, count in self.accepted().items():
            assert count - 1 <= self.kills[key], (key, count, self.kills[key])


class BeaniePushDelivery(PushDelivery):
    backend = "beanie"


TestPushDeliveryMemory = PushDelivery.TestCase
TestPushDeliveryMemory.settings = settings(settings(), stateful_step_count=30, max_examples=200)
TestPushDeliveryBeanie = BeaniePushDelivery.TestCase
TestPushDeliveryBeanie.settings = settings(settings(), stateful_step_count=30, max_examples=25)


# -- the same, as examples a reader can follow -----------------------------------------------


@pytest.fixture(params=["memory", "beanie"])
async def machine(request: pytest.FixtureRequest) -> Any:
    """The stores of one backend, a group and a provider, as the stateful test sets them up."""
    async with AsyncExitStack() as stack:
        world = await build_world()
        if request.param == "memory":
            claims, inbox = InMemoryEffectClaims(), InMemoryEventInbox()
        else:
            stores, _ = await stack.enter_async_context(double_stores())
            claims, inbox = stores.effect_claims, stores.inbox
        ref = await world.service.create_group(
            caller=NURSE, created_by=NURSE, org_id=OrgId("org-1"), name="W", member_ids=STAFF
        )
        provider, kills = Provider(), Counter[str]()

        def worker(stop_at: int | None = None, after_send: bool = False) -> Worker:
            return Worker(
                world=world,
                claims=claims,
                inbox=inbox,
                provider=provider,
                kills=kills,
                stop_at=stop_at,
                after_send=after_send,
            )

        yield world, inbox, provider, worker, ref.channel_id


async def _killed(worker: Worker) -> None:
    with pytest.raises(WorkerDied):
        await worker.process()
    orphans = asyncio.all_tasks() - {asyncio.current_task()}
    if orphans:
        await asyncio.wait(orphans)


async def test_a_push_claimed_by_a_worker_killed_before_sending_is_sent_after_its_lease(
    machine: Any,
) -> None:
    world, inbox, provider, worker, channel = machine
    await inbox.record(
        "wh-1", event_type="message.new", payload=payload(channel, NURSE, 1, system=False),
        received_at=world.clock.now(),
    )  # fmt: skip
    await _killed(worker(stop_at=0))
    assert provider.accepted == []
    assert (await inbox.get("wh-1")).state is InboxState.PROCESSING  # not done: owed
    assert await worker().process() == []  # nothing due while the dead worker's lease runs
    world.clock.advance(LEASE)
    [outcome] = await worker().process()
    assert outcome.result == "processed"
    assert sorted(n.recipient_id for n in provider.accepted) == [VET, VET2]
    assert {n.collapse_id for n in provider.accepted} == {
        push_collapse_id("wh-1", VET),
        push_collapse_id("wh-1", VET2),
    }


async def test_a_send_in_flight_at_a_kill_is_repeated_once_with_the_same_collapse_id(
    machine: Any,
) -> None:
    world, inbox, provider, worker, channel = machine
    await inbox.record(
        "wh-1", event_type="message.new", payload=payload(channel, NURSE, 1, system=False),
        received_at=world.clock.now(),
    )  # fmt: skip
    await _killed(worker(stop_at=0, after_send=True))
    world.clock.advance(LEASE)
    await worker().process()
    world.clock.advance(LEASE * 10)
    assert await worker().process.drain() == 0  # done: nothing more, ever
    assert Counter((n.recipient_id, n.collapse_id) for n in provider.accepted) == {
        (VET, push_collapse_id("wh-1", VET)): 2,
        (VET2, push_collapse_id("wh-1", VET2)): 2,
    }


async def test_an_event_is_not_done_while_a_live_worker_still_holds_one_of_its_pushes(
    machine: Any,
) -> None:
    """Another worker retook the event (the first one's lease ran out while it was slow):
    it must not complete the event while the first one's claim is unconfirmed."""
    world, inbox, provider, worker, channel = machine
    await inbox.record(
        "wh-1", event_type="message.new", payload=payload(channel, NURSE, 1, system=False),
        received_at=world.clock.now(),
    )  # fmt: skip
    slow = worker()
    now = world.clock.now()
    owner_claim = await slow.claim(
        push_claim_key("wh-1", VET), owner="slow", now=now, until=now + 2 * LEASE
    )
    assert owner_claim is ClaimState.TAKEN
    [outcome] = await worker().process()
    assert outcome.result == "retry" and PushesPending.__name__ in (outcome.reason or "")
    assert [n.recipient_id for n in provider.accepted] == [VET2]  # the free one went out
    await slow.confirm(push_claim_key("wh-1", VET), owner="slow")  # it did send, after all
    world.clock.advance(timedelta(seconds=10))
    [outcome] = await worker().process()
    assert outcome.result == "processed"
    assert [n.recipient_id for n in provider.accepted] == [VET2]  # nobody pushed twice


def test_a_second_worker_on_a_stalled_workers_event_leaves_it_owed_until_the_kill() -> None:
    """The steps the stateful test can take, spelled out: FerretDB gives the event to a
    second worker while the first hangs at its send; the first is then killed."""
    machine = BeaniePushDelivery()
    try:
        machine.a_group()
        machine.post(NURSE, system=False)
        machine.a_pass_stalls_at_a_send(stop_at=0, after_send=False)
        assert machine.slow is not None
        machine.another_worker_gets_an_event_the_stalled_one_holds(pick=0)
        assert machine.provider.accepted == []  # the stalled worker's claims held it off
        machine.the_stalled_pass_ends(kill=True)
        machine.settle()
        assert sorted(n.recipient_id for n in machine.provider.accepted) == [VET, VET2]
    finally:
        machine.teardown()
