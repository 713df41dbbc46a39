"""The checks an adapter's declaration and its fetches must pass, as plain functions.

One place for the rules, used by the registry (a plug-in whose declaration cannot
work is refused), by the contract kit (:mod:`sportello_sdk.testing`), by
``sportello check-adapter`` and by the collector's sense checks. Nothing here
raises on bad input or does I/O: every function returns what is wrong, in words
fit to show a plug-in author (and never a secret: values are described by their
type, times and ids are shown, text is not).

- :mod:`~sportello_sdk.checks.declaration`: :func:`declaration_problems`, what makes
  an adapter class unusable (the registry skips it); :func:`option_problems`, what
  else a declaration gets wrong (defaults that do not fit their option, a secret
  with a default…).
- :mod:`~sportello_sdk.checks.conversations`: :func:`sense_check`, the collector's
  own checks of a fetch's conversations (used by ``sportello.core.state_check``; its
  rules are written above it): each conversation checked on its own. One that fails
  is *dropped* with its reason, what can be repaired is, and said (:class:`Fixed`),
  the rest are kept.
- :mod:`~sportello_sdk.checks.fetch`: :func:`review_state`, a whole fetch (for the
  kit and ``check-adapter``): the same per conversation, and what makes a state
  unusable as a whole (:func:`state_problems`: a bad memory, a negative hold…).
- :mod:`~sportello_sdk.checks.contract`: what the contract asks beyond what the
  collector needs (:func:`contract_problems`: every time in UTC, not merely aware;
  :func:`time_problem`: an action's time), and :func:`size_notes`: text that will
  be cut when stored.
- :mod:`~sportello_sdk.checks.words`: a value in words (its type, never its content).
"""
