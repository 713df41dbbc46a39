"""The demo channel: the channels of a simulated shop, Bottega Rossi.

It is the embedded default, so that a new user sees a living dashboard in the first
minute, and the traffic source of tests and benchmarks. Every demo channel has a
``profile`` (email, chat, phone, facebook, telegram) that shapes its traffic.

The world is a pure function of ``(seed, channel id, profile)`` and the clock:

- Time is cut in 10-minute buckets. Each bucket has its own random stream, seeded
  from the seed, the channel and the bucket number, which decides how many
  customers arrive in it (a Poisson draw whose rate follows the time of day in
  Europe/Rome, quieter at night and at weekends) and the whole story of each
  conversation: who writes, about what, when the shop answers (a delay drawn
  around the channel's expectation, counted in working time), and whether the
  customer writes again. Staff answer Mon-Fri 9-13 and 14-19:30, Sat 9-13; the
  owner also clears e-mail and social messages 21-23 every evening; the chat is
  offline outside staff hours; the phone line is open Mon-Fri 9-13 and
  15:30-19:30, Sat 9-13, and its queue is empty otherwise.
- ``fetch()`` replays the buckets of the last five days (one day for the phone)
  and reports each conversation as it stands at the clock's now: waiting ones, and
  the ones answered in the last 24 hours so that first response times exist.
  Another process with the same seed sees the same world; only what the user did
  is stored.
- Now and then a customer who got no answer writes on a second channel; those
  events are seeded from the seed alone, so two demo channels with different
  profiles agree on them ("also on Facebook").
- ``act()`` (reply, close, assign, snooze, reopen) changes the world through a
  durable record of what the channel accepted (:mod:`sportello_demo.record`), one
  fsynced JSON line per action written before ``act()`` answers. The session
  reads the record when it first needs it and again whenever it grew, so after a
  restart the conversations look as they did, ``lookup()`` answers by key, and a
  line that another tool appended (``answer_elsewhere``) shows as a business
  message. After a reply or a close the customer may write again a few minutes
  later (drawn from the seed and the conversation), which puts the conversation
  back in the queue.

``scale: N`` replaces the simulation with exactly N waiting conversations (for
benchmarks): N slots, each holding one conversation that is replaced by a new
one when its simulated lifetime ends (minutes to hours for one slot in 20, days
for the rest). It is cheap: one message per conversation.

The package, module by module: :mod:`~sportello_demo.adapter` the declaration,
:mod:`~sportello_demo.options` its options, :mod:`~sportello_demo.session` the
session (fetch and the actions), :mod:`~sportello_demo.simulation` the realistic
traffic and :mod:`~sportello_demo.scale` the scale mode,
:mod:`~sportello_demo.stories` one conversation's story,
:mod:`~sportello_demo.threads` a story as it stands at an instant,
:mod:`~sportello_demo.actions` the record applied, :mod:`~sportello_demo.record`
the record itself, :mod:`~sportello_demo.profiles`, :mod:`~sportello_demo.hours`,
:mod:`~sportello_demo.people`, :mod:`~sportello_demo.randomness` and
:mod:`~sportello_demo.data` what the world is made of. Besides the standard
library it imports only the public names of :mod:`sportello_sdk`, as a plug-in would.
"""

from sportello_demo.adapter import DemoAdapter

__all__ = ["DemoAdapter"]
