"""The store's schema, versioned.

``MIGRATIONS`` is the ordered list of ``(version, script)`` pairs. The store applies
every script whose version is above the database's ``PRAGMA user_version``, in
order, inside one ``BEGIN IMMEDIATE`` transaction, and sets ``user_version`` to the
last one applied. A released migration is never edited: a schema change is a new
entry at the end.

Conventions: every instant is Unix seconds (UTC) as ``REAL``; booleans are
``INTEGER`` 0/1; customer text is stored raw (the store caps its length).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

Migration = tuple[int, str]

# "SPRT": marks a SQLite file as a sportello store (PRAGMA application_id, set by
# the store when it applies the first migration).
APPLICATION_ID = 0x53505254

_V1 = """
-- One row per channel ever configured. ``position`` is the channel's place in the
-- current config; NULL once the channel has left the config (its history stays).
CREATE TABLE channels (
    id              TEXT PRIMARY KEY,
    label           TEXT NOT NULL,
    adapter         TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'other',
    position        INTEGER,
    health          TEXT NOT NULL DEFAULT 'unknown',
    last_error      TEXT,
    failing_since   REAL,
    last_poll_at    REAL,
    last_ok_at      REAL,
    on_hold         INTEGER,
    longest_hold_s  REAL
);

CREATE TABLE conversations (
    id                          INTEGER PRIMARY KEY,
    channel_id                  TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id                 TEXT NOT NULL,
    customer_name               TEXT,
    customer_email              TEXT,
    customer_phone              TEXT,
    customer_handle             TEXT,
    subject                     TEXT NOT NULL,
    first_customer_message_at   REAL NOT NULL,
    waiting_since               REAL,
    first_response_at           REAL,
    assignee                    TEXT,
    last_activity_at            REAL NOT NULL,
    left_queue_at               REAL,
    UNIQUE (channel_id, external_id)
);

-- The queue: only waiting conversations are indexed, so the index stays small
-- however long the history grows.
CREATE INDEX conversations_waiting
    ON conversations (waiting_since) WHERE waiting_since IS NOT NULL;
CREATE INDEX conversations_channel_waiting
    ON conversations (channel_id, waiting_since) WHERE waiting_since IS NOT NULL;
CREATE INDEX conversations_first_response
    ON conversations (first_response_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX conversations_last_activity ON conversations (last_activity_at);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    author           TEXT NOT NULL,
    author_name      TEXT,
    sent_at          REAL NOT NULL,
    text             TEXT NOT NULL,
    UNIQUE (conversation_id, key)
);
CREATE INDEX messages_conversation_sent ON messages (conversation_id, sent_at);

-- Queue history. Clustered on (channel, time): a range of one channel's
-- snapshots is one contiguous b-tree walk, however many years are stored.
CREATE TABLE snapshots (
    channel_id            TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    taken_at              REAL NOT NULL,
    waiting               INTEGER NOT NULL,
    oldest_waiting_since  REAL,
    PRIMARY KEY (channel_id, taken_at)
) WITHOUT ROWID;

CREATE TABLE polls (
    id             INTEGER PRIMARY KEY,
    channel_id     TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    started_at     REAL NOT NULL,
    finished_at    REAL NOT NULL,
    ok             INTEGER NOT NULL,
    error          TEXT,
    conversations  INTEGER NOT NULL
);
CREATE INDEX polls_channel_finished ON polls (channel_id, finished_at);
"""

_V2 = """
-- What the queue filter searches of a conversation's messages: the start of each of
-- its last few messages, folded (case and accents removed, sportello.core.folding) and
-- bounded. Kept current by the store when messages arrive or change. NULL until
-- the store computes it: SQL cannot fold accents, so a conversation stored before
-- this version gets it at its next fetch (a waiting one is fetched on every poll).
ALTER TABLE conversations ADD COLUMN search_text TEXT;
"""

_V3 = """
-- Who polls this store's channels: one row, written by the collector when it takes
-- over and when it pauses or resumes, so that every other process can say who
-- collects, since when, whether it is paused, and whether it polls the channels
-- of the same configuration (a digest per channel, as JSON {id: digest}).
CREATE TABLE collector (
    slot        INTEGER PRIMARY KEY CHECK (slot = 1),
    user        TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    channels    TEXT NOT NULL DEFAULT '{}'
);

-- What other processes ask of the collector ("poll now"); it reads the requests
-- newer than the last it has seen. Kept a day.
CREATE TABLE requests (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    channel_id  TEXT,
    made_at     REAL NOT NULL,
    made_by     TEXT NOT NULL
);
"""

_V4 = """
-- Revisions: one counter per thing a write touched, bumped in the same transaction
-- ('c:<channel>' anything about a channel, 'q:<channel>' its waiting conversations
-- or their actions, 'outbox', 'collector'). Other processes compare them to know
-- what changed (sportello.core.store_contract).
CREATE TABLE revisions (
    scope  TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;

-- What sportello did to a conversation: answered, closed or snoozed it at
-- ``handled_at`` (a fetch still reporting the wait handled then does not put it
-- back, sportello.core.ingest.kept_waiting), snoozed until ``snoozed_until``, closed at.
ALTER TABLE conversations ADD COLUMN handled_at REAL;
ALTER TABLE conversations ADD COLUMN snoozed_until REAL;
ALTER TABLE conversations ADD COLUMN closed_at REAL;

-- The outbox: every reply and action, committed before anything is sent
-- (sportello.core.outbox holds its states). ``payload``, ``extra``: JSON objects.
CREATE TABLE outbox (
    key              TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    channel_id       TEXT NOT NULL,
    conversation_id  INTEGER NOT NULL,
    external_id      TEXT NOT NULL,
    payload          TEXT NOT NULL,
    made_by          TEXT NOT NULL,
    made_at          REAL NOT NULL,
    due_at           REAL NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_try_at      REAL,
    lease_owner      TEXT,
    error            TEXT,
    retryable        INTEGER NOT NULL DEFAULT 0,
    done_at          REAL,
    result           TEXT,
    updated_at       REAL NOT NULL,
    extra            TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE INDEX outbox_active ON outbox (due_at)
    WHERE state IN ('pending', 'sending', 'failed', 'unknown', 'elsewhere');
CREATE INDEX outbox_conversation ON outbox (conversation_id, made_at);
CREATE INDEX outbox_updated ON outbox (updated_at);

-- Replies being written, one per conversation and author (user@host).
CREATE TABLE drafts (
    conversation_id  INTEGER NOT NULL,
    author           TEXT NOT NULL,
    text             TEXT NOT NULL,
    opened_at        REAL NOT NULL,
    updated_at       REAL NOT NULL,
    PRIMARY KEY (conversation_id, author)
) WITHOUT ROWID;
"""

# Version 5: what the channel SDK keeps per channel.
_V5 = """
-- A channel's memory (a cursor: an offset, UIDVALIDITY/UIDNEXT), a JSON object saved
-- in the transaction of the fetch that returned it and handed to the next fetch.
ALTER TABLE channels ADD COLUMN memory TEXT;
-- What the last good poll refused of what the adapter returned (sense checks): a
-- JSON object {"count": n, "reasons": [...]}, NULL when nothing was refused.
ALTER TABLE channels ADD COLUMN dropped TEXT;
-- What the HTTP policy saw at the last poll (breaker, rate limits, TLS facts): JSON.
ALTER TABLE channels ADD COLUMN transport TEXT;
"""

# Version 6: work proportional to change.
_V6 = """
-- A hash of what the last fetch said of the conversation and its messages
-- (sportello.core.ingest.fingerprint), written with them: a fetch that says the
-- same again skips the conversation and its messages (no write at all). Any other
-- write to the conversation (this process or another: the outbox's reply, close,
-- snooze, assign, reopen) clears it, so that the next fetch is applied whole. A
-- writer of messages updates their conversation too (the outbox's reply does).
-- search_text is left out: only a fetch (which sets the fingerprint) derives it.
ALTER TABLE conversations ADD COLUMN fingerprint INTEGER;
CREATE TRIGGER conversations_fingerprint_reset AFTER UPDATE OF
    customer_name, customer_email, customer_phone, customer_handle, subject,
    first_customer_message_at, waiting_since, first_response_at, assignee,
    last_activity_at, left_queue_at, handled_at, snoozed_until, closed_at, channel_id,
    external_id
    ON conversations
    WHEN old.fingerprint IS NOT NULL AND new.fingerprint IS old.fingerprint
BEGIN
    UPDATE conversations SET fingerprint = NULL WHERE id = new.id;
END;
"""

MIGRATIONS: tuple[Migration, ...] = (
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
)


def latest(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version a store has once every migration is applied."""
    return migrations[-1][0] if migrations else 0


def check(migrations: Sequence[Migration]) -> None:
    """Raise ``ValueError`` unless versions are 1, 2, 3… in order."""
    for expected, (version, _script) in enumerate(migrations, start=1):
        if version != expected:
            raise ValueError(f"migration versions must be 1, 2, 3…; found {version} at {expected}")


def statements(script: str) -> Iterator[str]:
    """Split a script into complete SQL statements (triggers included).

    ``executescript`` cannot be used inside our transaction: it commits first.
    """
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            buffer = ""
            if _has_sql(statement):
                yield statement
    if _has_sql(buffer.removesuffix(";")):
        raise ValueError("the migration script ends with an incomplete statement")


def _has_sql(text: str) -> bool:
    """True when ``text`` holds more than whitespace, comments and semicolons."""
    for line in text.splitlines():
        code = line.split("--", 1)[0].strip().strip(";").strip()
        if code:
            return True
    return False
