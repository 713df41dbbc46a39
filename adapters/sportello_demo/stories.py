"""Writing one conversation's whole story: who writes, about what, when the shop answers.

A story is drawn from its own random stream, so the same stream always writes the
same :class:`~sportello_demo.threads.Thread`: the customer's opening (an e-mail
with its greeting and signature, a chat line, a phone call), maybe a second
message, the shop's answer after a delay drawn around the channel's expectation
and counted in its working time, and maybe the customer again and a second answer.
"""

from __future__ import annotations

from sportello_demo import data
from sportello_demo.hours import add_open, awake, span_end
from sportello_demo.people import Person, customer_of
from sportello_demo.profiles import Profile
from sportello_demo.randomness import Rand
from sportello_demo.threads import MAX_THREAD_S, Event, Thread, fill
from sportello_sdk import Author, Customer

__all__ = ["write_thread"]


def write_thread(
    profile: Profile,
    rng: Rand,
    external_id: str,
    start: int,
    person: Person,
    mention: str | None = None,
    known: bool = False,
) -> Thread:
    """One conversation's whole story; ``mention``: the channel they tried first;
    ``known``: the customer is in the shop's contacts."""
    customer = customer_of(profile.name, person, rng, known)
    if profile.name == "phone":
        return _call(rng, external_id, start, person, customer)
    p = profile
    lang = person.lang
    topic = rng.choice(data.TOPICS[lang])
    values = {
        "order": f"#{rng.below(20000) + 10000}",
        "item": rng.choice(data.ITEMS[lang]),
        "size": rng.choice(data.SIZES),
        "first": person.first,
    }
    opening = fill(rng.choice(topic.openings), values)
    if mention is not None:
        opening = f"{opening} {data.ALSO_WROTE[lang][mention]}"
    if profile.name == "email":
        opening = (
            data.EMAIL_OPENING[lang] + opening + data.EMAIL_CLOSING[lang].format(name=person.full)
        )
    agent_id, agent_name = rng.choice(data.AGENTS)
    limit = start + MAX_THREAD_S
    events = [Event(start, Author.CUSTOMER, opening)]
    answered = min(limit, _answer_at(p, rng, start))
    if rng.chance(p.p_more):
        more_at = start + int(rng.uniform(*p.more_gap))
        if more_at < answered:
            events.append(Event(more_at, Author.CUSTOMER, fill(rng.choice(topic.more), values)))
    body = fill(rng.choice(topic.replies), values)
    if profile.name == "email":
        reply = data.REPLY_OPENING[lang].format(first=person.first) + body
        reply += f"\n\n{agent_name}"
    else:
        reply = data.CHAT_OPENING[lang].format(first=person.first) + body
    events.append(Event(answered, Author.BUSINESS, reply, agent_name))
    if rng.chance(p.p_followup):
        again = awake(answered + int(rng.uniform(*p.followup_gap)), rng)
        if again < limit - 3600:
            events.append(Event(again, Author.CUSTOMER, fill(rng.choice(topic.followups), values)))
            second = min(limit, _answer_at(p, rng, again))
            text = rng.choice(data.SECOND_REPLIES[lang])
            events.append(Event(second, Author.BUSINESS, text, agent_name))
    return Thread(
        external_id=external_id,
        start=start,
        customer=customer,
        subject=fill(topic.subject, values),
        events=tuple(events),
        assignee=agent_id if rng.chance(0.3) else None,
        lang=lang,
        followups=topic.followups,
        values=tuple(values.items()),
    )


def _answer_at(p: Profile, rng: Rand, t: float) -> float:
    """When the shop answers a customer message sent at ``t``."""
    draw = rng.random()
    low, high = p.delays[-1][1:]
    for share, band_low, band_high in p.delays:
        if draw < share:
            low, high = band_low, band_high
            break
        draw -= share
    answer = add_open(t, rng.uniform(low, high), p.answer_hours)
    if p.finish_by_close:
        closing = span_end(t, p.answer_hours)
        if closing is not None and answer > closing:
            answer = closing + rng.uniform(60, 900)
    return int(answer)


def _call(rng: Rand, external_id: str, start: int, person: Person, customer: Customer) -> Thread:
    """A caller in the phone queue: short holds, a few hang up."""
    draw = rng.random()
    if draw < 0.08:  # hangs up
        hold, answered = int(rng.uniform(20, 240)), False
    elif draw < 0.20:  # a long hold
        hold, answered = int(rng.uniform(180, 540)), True
    else:
        hold, answered = int(min(rng.expo(110), 420)) + 5, True
    caller = person.phone if customer.name is None else f"{person.phone} ({customer.name})"
    events = [Event(start, Author.CUSTOMER, data.PHONE_INCOMING.format(caller=caller))]
    if answered:
        _, agent_name = rng.choice(data.AGENTS)
        events.append(
            Event(
                start + hold,
                Author.BUSINESS,
                data.PHONE_PICKED_UP.format(agent=agent_name),
                agent_name,
            )
        )
    return Thread(
        external_id=external_id,
        start=start,
        customer=customer,
        subject=data.PHONE_SUBJECT_WAITING,
        events=tuple(events),
        ends_at=None if answered else start + hold,
        phone=True,
    )
