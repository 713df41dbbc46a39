"""A resolved secret: the value an option's reference (``${env:…}``, ``${keyring:…}``,
``${file:…}``) pointed at, which never shows itself.

``repr``, ``str`` and formatting give ``Secret('•••')``; the value comes out only
through :meth:`Secret.reveal`, at the one place an adapter hands it to its channel
(a header, a login). Every secret made is registered with the process's
redaction (:mod:`sportello_sdk.redaction`), so a value that escapes anyway (an
adapter's own log line, a library's error message) is blanked on its way out.
"""

from __future__ import annotations

from typing import Any, NoReturn, final

from sportello_sdk import redaction
from sportello_sdk.redaction import MASK


@final
class Secret:
    """A value that must never be shown."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a secret is text")
        object.__setattr__(self, "_value", value)
        redaction.register(value)

    def reveal(self) -> str:
        """The value, for the channel and nothing else."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.reveal() == self.reveal()

    def __hash__(self) -> int:
        return hash(("Secret", self.reveal()))

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __len__(self) -> int:
        return len(self.reveal())

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a secret cannot be changed")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a secret is not pickled")

    def __copy__(self) -> Secret:
        return self  # immutable: a copy (copy.deepcopy of a config) is the same secret

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self
