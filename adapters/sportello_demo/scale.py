"""The scale mode (``scale: N``): exactly N waiting conversations, for benchmarks.

N slots, each holding one conversation at a time that is replaced by a new one
when its simulated lifetime ends: minutes to hours for one slot in 20, so that the
queue moves; two to eight days for the rest, so that two fetches a few minutes
apart mostly agree (the benchmarks seed a store from one fetch and expect the
app's first poll to find the same world). It is cheap: one message per
conversation, texts and names drawn in advance, no story written. The previous
occupants of the first slots are reported as answered, so that first response
times exist at scale too.
"""

from __future__ import annotations

from functools import lru_cache

from sportello_demo import data
from sportello_demo.actions import Actions
from sportello_demo.hours import utc
from sportello_demo.people import ascii_lower, phone_number
from sportello_demo.profiles import Profile
from sportello_demo.randomness import GOLDEN, MASK, Rand, mix, stable_key
from sportello_demo.threads import RECENT_S, Event, Thread, fill, materialise
from sportello_sdk import Author, Conversation, Customer, Message

__all__ = ["SCALE_ANSWERED", "ScaleQueue"]

SCALE_ANSWERED = 200  # at most this many recently answered conversations
SCALE_LIVELY = 20  # one slot in 20 turns over within a few expectations
SCALE_STILL_S = 2 * 86400  # ...the others last two to eight days

Texts = tuple[tuple[tuple[str, str], ...], ...]  # per language: (subject, first message)
Names = tuple[tuple[tuple[str, str, str, str], ...], ...]  # per language: (first, last, …)


class ScaleQueue:
    """The scale-mode queue of one channel: ``size`` slots. Keeps no state of its
    own, so it may be read from a worker thread (with a copy of the actions)."""

    def __init__(self, channel_id: str, profile: Profile, seed: int, size: int) -> None:
        self.profile = profile
        self.seed = seed
        self.size = size
        self._key = stable_key("scale", seed, channel_id, profile.name)
        self._expectation = max(60, int(profile.expectation.total_seconds()))

    def conversations(self, now: float, acts: Actions) -> list[Conversation]:
        """Exactly ``size`` waiting conversations (fewer only where the user acted),
        and the recently answered previous occupants of the first slots."""
        key, expectation = self._key, self._expectation
        texts = _scale_texts(self.seed)
        names = _scale_names()
        phone = self.profile.name == "phone"
        now_i = int(now)
        acted = bool(acts.replies or acts.closed or acts.snoozed or acts.assigned)
        out: list[Conversation] = []
        append = out.append
        waiting = self._waiting
        for slot in range(self.size):
            h, life, generation, arrived = _scale_slot(key, slot, expectation, now_i)
            conversation, lang = waiting(h, slot, generation, arrived, texts, names)
            if acted and acts.touched(conversation.external_id):
                acted_on = _act_on(conversation, now, acts, phone, lang)
                if acted_on is not None:
                    append(acted_on)
            else:
                append(conversation)
            if slot < SCALE_ANSWERED and arrived >= now - RECENT_S:
                append(self._answered(h, slot, generation - 1, arrived - life, arrived))
        return out

    def conversation(self, external_id: str, now: float, acts: Actions) -> Conversation | None:
        """What :meth:`conversations` reports of one conversation, computed from its
        slot alone (``ValueError``: not an id of this channel)."""
        slot_text, _, generation_text = external_id[len(self.profile.tag) + 1 :].partition("-")
        if not slot_text.startswith("s"):
            return None
        slot, generation = int(slot_text[1:]), int(generation_text)
        if not 0 <= slot < self.size:
            return None
        h, life, current, arrived = _scale_slot(self._key, slot, self._expectation, int(now))
        if generation == current:
            texts, names = _scale_texts(self.seed), _scale_names()
            conversation, lang = self._waiting(h, slot, current, arrived, texts, names)
            if not acts.touched(external_id):
                return conversation
            return _act_on(conversation, now, acts, self.profile.name == "phone", lang)
        if generation == current - 1 and slot < SCALE_ANSWERED and arrived >= now - RECENT_S:
            return self._answered(h, slot, generation, arrived - life, arrived)
        return None

    def clear(self) -> None:
        return None

    def _waiting(
        self, h: int, slot: int, generation: int, arrived: int, texts: Texts, names: Names
    ) -> tuple[Conversation, str]:
        """The waiting occupant of a scale slot, and its language."""
        g = mix(h ^ (generation & MASK))
        lang = 1 if g & 3 == 0 else 0  # a quarter in English
        subject, text = texts[lang][(g >> 2) % len(texts[lang])]
        first, last, local, domain = names[lang][(g >> 10) % len(names[lang])]
        number = (g >> 24) % 100_000
        external_id = f"{self.profile.tag}-s{slot}-{generation}"
        started = utc(arrived)
        if self.profile.name == "phone":
            caller = phone_number(data.LANGUAGES[lang], number)
            customer = Customer(name=f"{first} {last}", phone=caller)
            subject = data.PHONE_SUBJECT_WAITING
            text = data.PHONE_INCOMING.format(caller=caller)
        else:
            customer = Customer(name=f"{first} {last}", email=f"{local}{number}@{domain}")
        conversation = Conversation(
            external_id=external_id,
            customer=customer,
            subject=subject,
            first_customer_message_at=started,
            waiting_since=started,
            messages=(Message(Author.CUSTOMER, started, text, f"{external_id}/m0"),),
        )
        return conversation, data.LANGUAGES[lang]

    def _answered(
        self, h: int, slot: int, generation: int, started_at: float, answered_at: float
    ) -> Conversation:
        """The previous occupant of a scale slot, answered when the slot turned over."""
        g = mix(h ^ (generation & MASK))
        lang = 1 if g & 3 == 0 else 0
        subject, text = _scale_texts(self.seed)[lang][(g >> 2) % 64]
        names = _scale_names()[lang]
        first, last, local, domain = names[(g >> 10) % len(names)]
        number = (g >> 24) % 100_000
        agent_id, agent_name = data.AGENTS[g % len(data.AGENTS)]
        external_id = f"{self.profile.tag}-s{slot}-{generation}"
        if self.profile.name == "phone":
            caller = phone_number(data.LANGUAGES[lang], number)
            customer = Customer(name=f"{first} {last}", phone=caller)
            subject = data.PHONE_SUBJECT_ANSWERED
            text = data.PHONE_INCOMING.format(caller=caller)
            reply = data.PHONE_PICKED_UP.format(agent=agent_name)
        else:
            customer = Customer(name=f"{first} {last}", email=f"{local}{number}@{domain}")
            reply = data.SECOND_REPLIES[data.LANGUAGES[lang]][0]
        started, answered = utc(started_at), utc(answered_at)
        return Conversation(
            external_id=external_id,
            customer=customer,
            subject=subject,
            first_customer_message_at=started,
            waiting_since=None,
            first_response_at=answered,
            messages=(
                Message(Author.CUSTOMER, started, text, f"{external_id}/m0"),
                Message(Author.BUSINESS, answered, reply, f"{external_id}/m1", agent_name),
            ),
            assignee=agent_id,
        )


def _scale_slot(key: int, slot: int, expectation: int, now: int) -> tuple[int, int, int, int]:
    """A scale slot at ``now``: (its hash, the life of each occupant, the current
    occupant's generation, when it arrived)."""
    h = mix(key ^ (slot * GOLDEN & MASK))
    if (h >> 48) % SCALE_LIVELY == 0:  # turns over on the channel's own timescale
        life = max(30, int(expectation * (0.25 + (h & 0xFFFF) * (4.75 / 65536))))
    else:  # nearly still, so that a store seeded from one fetch matches the next
        life = int(SCALE_STILL_S * (1.0 + (h & 0xFFFF) * (3.0 / 65536)))
    phase = (h >> 16) % life
    generation = (now + phase) // life
    return h, life, generation, generation * life - phase


def _act_on(
    conversation: Conversation, now: float, acts: Actions, phone: bool, lang: str
) -> Conversation | None:
    """Apply the user's actions to a scale-mode conversation."""
    thread = Thread(
        external_id=conversation.external_id,
        start=conversation.first_customer_message_at.timestamp(),
        customer=conversation.customer,
        subject=conversation.subject,
        events=tuple(
            Event(m.sent_at.timestamp(), m.author, m.text, m.author_name)
            for m in conversation.messages
        ),
        assignee=conversation.assignee,
        phone=phone,
        lang=lang,
    )
    return materialise(thread, now, acts)


@lru_cache(maxsize=16)
def _scale_texts(seed: int) -> Texts:
    """(subject, first message) pairs per language ("it", "en"), filled in advance."""
    rng = Rand(stable_key("scale-texts", seed))
    out = []
    for lang in data.LANGUAGES:
        pairs = []
        for _ in range(64):
            topic = rng.choice(data.TOPICS[lang])
            values = {
                "order": f"#{rng.below(20000) + 10000}",
                "item": rng.choice(data.ITEMS[lang]),
                "size": rng.choice(data.SIZES),
                "first": "",
            }
            pairs.append((fill(topic.subject, values), fill(rng.choice(topic.openings), values)))
        out.append(tuple(pairs))
    return tuple(out)


@lru_cache(maxsize=1)
def _scale_names() -> Names:
    """(first, last, e-mail local part, domain) per language ("it", "en")."""
    out = []
    for lang in data.LANGUAGES:
        combos = []
        for i, first in enumerate(data.FIRST_NAMES[lang]):
            for j, last in enumerate(data.LAST_NAMES[lang]):
                domains = data.EMAIL_DOMAINS[lang]
                local = f"{ascii_lower(first)}.{ascii_lower(last)}"
                combos.append((first, last, local, domains[(i + j) % len(domains)]))
        out.append(tuple(combos))
    return tuple(out)
