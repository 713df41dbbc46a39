"""What the dashboard and ``--once`` show: each channel's figures and the queue.

Pure: :func:`compute_board` computes every metric with the channel's schedule
from what was read of the store (:mod:`sportello.core.board_read` does the reading);
the result is immutable, so the screen can receive it as a message from a worker
and apply it in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sportello.core.hours import Schedule
from sportello.core.metrics import ChannelMetrics, channel_metrics
from sportello.core.outbox import Action
from sportello.core.records import ChannelRecord, DropReport, FirstResponse, Health, QueueItem
from sportello.core.settings import Channel, Config

TREND_DAYS = 7
TREND_BUCKETS = 14  # two points a day over the last week
INSTANT_S = 60.0  # an FRT under this reads as "answered at once"


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel's line of the dashboard."""

    channel: Channel
    record: ChannelRecord | None
    metrics: ChannelMetrics
    trend: tuple[int | None, ...] | None = None  # max waiting per bucket, None = no data
    opens_at: float | None = None  # the channel is closed now and opens then
    # Why the running collector (another process) does not poll this channel as
    # configured here ("not polled by the running collector: restart it"), or None.
    not_polled: str | None = None

    @property
    def health(self) -> Health:
        return self.record.health if self.record is not None else Health.UNKNOWN

    @property
    def error(self) -> str | None:
        return self.record.last_error if self.record is not None else None

    @property
    def dropped(self) -> DropReport | None:
        """What the sense checks refused of the last good poll; None when nothing."""
        return self.record.dropped if self.record is not None else None

    @property
    def queue_known(self) -> bool:
        """Whether the channel's queue was ever read: a successful poll is stored.

        When not, its waiting, oldest wait and gap are unknown (``—``, JSON
        ``null``), never 0: the dashboard and ``--once`` both ask this.
        """
        return self.record is not None and self.record.last_ok_at is not None

    @property
    def waits_not_started(self) -> bool:
        """The channel is closed now and none of its waits has started counting.

        Its customers wrote after closing: their wait (open hours) is 0 until it
        opens, which must not read as "just arrived" (the screen and ``--once``
        say ``closed``).
        """
        metrics = self.metrics
        return (
            self.opens_at is not None
            and metrics.waiting > 0
            and self.record is not None
            and self.record.on_hold is None
            and metrics.oldest_wait_s == 0
        )

    @property
    def answered_off_hours(self) -> bool:
        """FRT p50 under a minute of open time, but not in real time: the answers were
        given while the channel was closed, not at once."""
        metrics = self.metrics
        return (
            metrics.frt_p50_s is not None
            and metrics.frt_p50_s < INSTANT_S
            and metrics.frt_p50_real_s is not None
            and metrics.frt_p50_real_s >= INSTANT_S
        )


def dropped_note(report: DropReport | None) -> str | None:
    """``2 dropped``, ``3 fixed``, ``2 dropped, 3 fixed``: what the channel's state
    says of its last good poll's sense checks; None when they refused nothing."""
    if report is None:
        return None
    parts = [f"{report.count} dropped"] if report.count else []
    if report.fixed:
        parts.append(f"{report.fixed} fixed")
    return ", ".join(parts) or None


def dropped_summary(report: DropReport) -> str:
    """The words of the channel's detail: what the last good poll dropped and fixed."""
    parts: list[str] = []
    if report.count:
        what = "conversation" if report.count == 1 else "conversations"
        parts.append(f"dropped {report.count} {what} (not stored: see why below)")
    if report.fixed:
        repairs = "repair" if report.fixed == 1 else "repairs"
        parts.append(f"made {report.fixed} {repairs} to stored ones")
    return "The last good poll " + " and ".join(parts or ["refused nothing"]) + "."


def opens_label(row: ChannelRow, now: float) -> str | None:
    """``09:00`` (today), ``Mon 09:00`` (another day) when the channel is closed now.

    A closed channel's waits do not grow: its customers are not waiting on us.
    """
    if row.opens_at is None or row.channel.hours is None:
        return None
    tz = row.channel.hours.timezone
    opens = datetime.fromtimestamp(row.opens_at, tz)
    today = datetime.fromtimestamp(now, tz).date()
    return opens.strftime("%H:%M") if opens.date() == today else opens.strftime("%a %H:%M")


@dataclass(frozen=True, slots=True)
class Board:
    now: float
    channels: tuple[ChannelRow, ...]
    queue: tuple[QueueItem, ...]
    waits: tuple[float, ...]  # open-hours wait of each queue item, same order
    complete: bool = True  # False: ``queue`` holds only the head of each channel's queue
    # False: the items were read without their search texts (a big queue, until the
    # filter is first used): their rows are made without haystacks.
    searchable: bool = True
    # The latest action of each conversation that has one still under way or
    # recently done (by conversation id): what the queue says of its delivery.
    actions: Mapping[int, Action] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return sum(row.metrics.waiting for row in self.channels)


def schedule_for(channel: Channel) -> Schedule:
    """The channel's schedule (shared between channels with equal hours)."""
    return Schedule.from_hours(channel.hours)


def compute_board(
    config: Config,
    records: list[ChannelRecord],
    queue: list[QueueItem],
    responses: list[FirstResponse],
    now: float,
    trends: dict[str, tuple[int | None, ...]] | None = None,
    summary: dict[str, tuple[int, float]] | None = None,
    not_polled: Mapping[str, str] | None = None,
    actions: Mapping[int, Action] | None = None,
) -> Board:
    """Pure: the board from what the store holds, at ``now``.

    With ``summary`` (per channel: how many wait, the oldest waiting since),
    ``queue`` may be only the head of each channel's queue: the channel figures
    come from the summary and the board says it is not complete.
    """
    by_id = {record.id: record for record in records}
    items_by_channel: dict[str, list[QueueItem]] = defaultdict(list)
    for item in queue:
        items_by_channel[item.channel_id].append(item)
    responses_by_channel: dict[str, list[FirstResponse]] = defaultdict(list)
    for response in responses:
        responses_by_channel[response.channel_id].append(response)

    rows: list[ChannelRow] = []
    kept: list[QueueItem] = []
    waits: list[float] = []
    for channel in config.channels:
        schedule = schedule_for(channel)
        items = items_by_channel.get(channel.id, [])
        starts = [item.waiting_since for item in items]
        record = by_id.get(channel.id)
        count, oldest = (summary or {}).get(channel.id, (0, 0.0))
        metrics = channel_metrics(
            expectation_s=channel.expectation.total_seconds(),
            schedule=schedule,
            waiting_since=starts if summary is None else ([oldest] if count else []),
            first_responses=responses_by_channel.get(channel.id, []),
            now=now,
            on_hold=record.on_hold if record else None,
            longest_hold_s=record.longest_hold_s if record else None,
        )
        if summary is not None and (record is None or record.on_hold is None):
            metrics = replace(metrics, waiting=count)
        opens_at = None if schedule.is_open(now) else schedule.next_open(now)
        rows.append(
            ChannelRow(
                channel,
                record,
                metrics,
                (trends or {}).get(channel.id),
                opens_at,
                (not_polled or {}).get(channel.id),
            )
        )
        kept.extend(items)
        waits.extend(schedule.open_seconds_many(starts, now))
    return Board(
        now=now,
        channels=tuple(rows),
        queue=tuple(kept),
        waits=tuple(waits),
        complete=summary is None,
        actions=actions or {},
    )
