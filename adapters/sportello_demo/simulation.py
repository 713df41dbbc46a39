"""Realistic traffic: the conversations of one demo channel, replayed from the clock.

Time is cut in 10-minute buckets. Each bucket has its own random stream, seeded
from the seed, the channel and the bucket number, which decides how many
customers arrive in it (a Poisson draw whose rate follows the time of day in
Europe/Rome, quieter at night and at weekends; the chat is offline outside staff
hours and the phone queue is empty while the line is closed) and the whole story
of each conversation (:mod:`sportello_demo.stories`).

A fetch replays the buckets of the last five days (one day for the phone) and
reports each conversation as it stands at the clock's now: waiting ones, and the
ones answered in the last 24 hours so that first response times exist. Another
process with the same seed sees the same world.

Now and then a customer who got no answer writes on a second channel; those
events are drawn per hour from the seed alone, so two demo channels with
different profiles agree on them ("also on Facebook").
"""

from __future__ import annotations

from datetime import datetime

from sportello_demo.actions import Actions
from sportello_demo.hours import (
    AGENT_WEEK,
    PHONE_WEEK,
    ROME,
    SHAPE_MESSAGES,
    hourly_weight,
    is_open,
)
from sportello_demo.people import people
from sportello_demo.profiles import PROFILES, Profile
from sportello_demo.randomness import Rand, stable_key, sub_key
from sportello_demo.stories import write_thread
from sportello_demo.threads import MAX_THREAD_S, RECENT_S, Thread, materialise
from sportello_sdk import Conversation

__all__ = ["BUCKET_S", "ECHO_BUCKET_S", "Simulation"]

BUCKET_S = 600  # arrivals are drawn per 10-minute bucket
ECHO_BUCKET_S = 3600  # cross-channel customers are drawn per hour
WINDOW_S = MAX_THREAD_S + RECENT_S
PHONE_WINDOW_S = RECENT_S + 3600


class Simulation:
    """The simulated traffic of one channel. ``key``: the channel's own random key.

    It keeps the threads of the buckets it replayed (they never change), and
    drops those that left the window. Not safe to share between threads."""

    def __init__(self, profile: Profile, seed: int, rate: float, key: int) -> None:
        self.profile = profile
        self.seed = seed
        self.rate = rate
        self._key = key
        self._people = people(seed)
        self._threads: dict[int, tuple[Thread, ...]] = {}  # bucket -> its threads
        self._echoes: dict[int, Thread | None] = {}  # hour -> this channel's echo thread

    def conversations(self, now: float, acts: Actions) -> list[Conversation]:
        """Every conversation worth reporting at ``now``, oldest first."""
        first_bucket, first_hour = self._window(now)
        for bucket in [b for b in self._threads if b < first_bucket]:
            del self._threads[bucket]
        for hour in [h for h in self._echoes if h < first_hour]:
            del self._echoes[hour]

        threads: list[Thread] = []
        cache = self._threads
        for bucket in range(first_bucket, int(now // BUCKET_S) + 1):
            cached = cache.get(bucket)
            threads.extend(cached if cached is not None else self._bucket_threads(bucket))
        for hour in range(first_hour, int(now // ECHO_BUCKET_S) + 1):
            echo = self._echo_thread(hour)
            if echo is not None:
                threads.append(echo)
        threads.sort(key=lambda thread: thread.start)

        out: list[Conversation] = []
        for thread in threads:
            if thread.start > now:
                break
            conversation = materialise(thread, now, acts)
            if conversation is not None:
                out.append(conversation)
        return out

    def conversation(self, external_id: str, now: float, acts: Actions) -> Conversation | None:
        """What :meth:`conversations` reports of one conversation (``ValueError``:
        not an id of this channel)."""
        first_bucket, first_hour = self._window(now)
        rest = external_id[len(self.profile.tag) + 1 :]
        thread: Thread | None = None
        if rest.startswith("x"):  # tag-x<hour>: a customer who wrote on two channels
            hour = int(rest[1:])
            if first_hour <= hour <= now // ECHO_BUCKET_S:
                thread = self._echo_thread(hour)
        else:  # tag-<bucket>-<i>
            bucket = int(rest.split("-", 1)[0])
            if first_bucket <= bucket <= now // BUCKET_S:
                found = [t for t in self._bucket_threads(bucket) if t.external_id == external_id]
                thread = found[0] if found else None
        if thread is None or thread.external_id != external_id or thread.start > now:
            return None
        return materialise(thread, now, acts)

    def clear(self) -> None:
        self._threads.clear()
        self._echoes.clear()

    def _window(self, now: float) -> tuple[int, int]:
        """The first bucket and the first echo hour that a fetch replays."""
        start = now - (PHONE_WINDOW_S if self.profile.name == "phone" else WINDOW_S)
        return int(start // BUCKET_S), int(start // ECHO_BUCKET_S)

    def _bucket_threads(self, bucket: int) -> tuple[Thread, ...]:
        cached = self._threads.get(bucket)
        if cached is None:
            cached = self._threads[bucket] = self._bucket(bucket)
        return cached

    def _echo_thread(self, hour: int) -> Thread | None:
        if hour not in self._echoes:
            self._echoes[hour] = self._echo(hour)
        return self._echoes[hour]

    def _arrival_weight(self, t: float) -> float:
        p = self.profile
        weight = hourly_weight(datetime.fromtimestamp(t, ROME), p.shape)
        if p.offline_share < 1.0 and not is_open(t, AGENT_WEEK):
            weight *= p.offline_share
        return weight

    def _bucket(self, bucket: int) -> tuple[Thread, ...]:
        """Every conversation that starts in one 10-minute bucket."""
        p = self.profile
        rng = Rand(sub_key(self._key, bucket))
        begin = bucket * BUCKET_S
        lam = p.peak_per_hour * self.rate * self._arrival_weight(begin + BUCKET_S / 2)
        count = rng.poisson(lam * BUCKET_S / 3600.0)
        starts = sorted(begin + rng.below(BUCKET_S) for _ in range(count))
        threads = []
        for i, start in enumerate(starts):
            if p.name == "phone" and not is_open(start, PHONE_WEEK):
                continue
            person = rng.choice(self._people)
            thread_rng = Rand(sub_key(sub_key(self._key ^ 0x7A, bucket), i))
            external_id = f"{p.tag}-{bucket}-{i}"
            threads.append(write_thread(p, thread_rng, external_id, start, person))
        return tuple(threads)

    def _echo(self, hour: int) -> Thread | None:
        """This channel's part of a customer who wrote on two channels, if any this hour.

        The event (who, which channels, when) is drawn from the seed alone, so every
        demo channel of the same seed agrees on it; the thread's story is drawn from
        this channel's own stream.
        """
        rng = Rand(sub_key(stable_key("echo", self.seed), hour))
        begin = hour * ECHO_BUCKET_S
        weight = hourly_weight(datetime.fromtimestamp(begin + 1800, ROME), SHAPE_MESSAGES)
        if not rng.chance(min(1.0, 0.25 * weight * self.rate)):
            return None
        person = rng.choice(self._people)
        first = rng.choice(PROFILES)
        second = rng.choice([name for name in PROFILES if name != first])
        first_at = begin + rng.below(ECHO_BUCKET_S)
        second_at = first_at + int(rng.uniform(15 * 60, 2 * 3600))
        name = self.profile.name
        if name == first:
            start, mention = first_at, None
        elif name == second:
            start, mention = second_at, first
        else:
            return None
        if name == "phone" and not is_open(start, PHONE_WEEK):
            return None  # the shop was closed: nobody on hold
        if self.profile.offline_share < 1.0 and not is_open(start, AGENT_WEEK):
            return None  # the chat was offline
        thread_rng = Rand(sub_key(self._key ^ 0xEC40, hour))
        external_id = f"{self.profile.tag}-x{hour}"
        return write_thread(
            self.profile, thread_rng, external_id, start, person, mention, known=True
        )
