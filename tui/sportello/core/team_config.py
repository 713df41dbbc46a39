"""The ``team:`` list of config.yaml: the people conversations can be assigned to.

Each entry is a name (``- Anna``) or a mapping ``{name: Anna, user: anna}``, where
``user`` is the person's login on this server: sportello then shows "Anna" for
what the OS user ``anna`` did. Names are unique ignoring case, and so are logins.
"""

from __future__ import annotations

import re

from sportello.core.config_fields import MISSING, Section, show
from sportello.core.settings import Person
from sportello.core.yaml_lines import LineList, LineMap
from sportello_sdk.options import kind_of

__all__ = ["NAME_MAX", "TEAM_KEYS", "TEAM_MAX", "check_team"]

NAME_MAX = 60
TEAM_MAX = 200
TEAM_KEYS = ("name", "user")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}")
_EXAMPLE = "a list of people such as - Anna or - {name: Anna, user: anna}"


def check_team(top: Section) -> tuple[Person, ...]:
    """The people of the document's ``team:``; none when it is absent or empty."""
    value = top.mapping.get("team", MISSING)
    if value is MISSING or value is None:  # "team:" with every name commented out
        return ()
    if not isinstance(value, LineList):
        top.problem("team", f"expected {_EXAMPLE}, got {kind_of(value)}")
        return ()
    if len(value) > TEAM_MAX:
        top.problem("team", f"at most {TEAM_MAX} people, got {len(value)}")
        return ()
    people: list[Person] = []
    names: dict[str, int] = {}  # casefolded name → line
    users: dict[str, int] = {}  # login → line
    for index, item in enumerate(value):
        line = value.line_of(index)
        where = f"team #{index + 1}"
        person = _person(top, item, line, where)
        if person is None:
            continue
        folded = person.name.casefold()
        if folded in names:
            message = (
                f"{person.name!r} is already in the team (line {names[folded]}); "
                "names must differ, ignoring capitals"
            )
            top.context.add(line, where, message)
            continue
        if person.user is not None and person.user in users:
            message = f"the login {person.user!r} is already someone's (line {users[person.user]})"
            top.context.add(line, f"{where} · user", message)
            continue
        names[folded] = line
        if person.user is not None:
            users[person.user] = line
        people.append(person)
    return tuple(people)


def _person(top: Section, item: object, line: int, where: str) -> Person | None:
    context = top.context
    if isinstance(item, str):
        try:
            return Person(_name(item))
        except ValueError as exc:
            context.add(line, where, str(exc))
            return None
    if not isinstance(item, LineMap):
        context.add(line, where, f"expected a name or {{name: …, user: …}}, got {kind_of(item)}")
        return None
    if "name" not in item and "user" not in item and len(item) == 1:
        # "- Anna: anna": a name and a login written as one key and its value
        [key] = item
        hint = f"write - {{name: {key[:NAME_MAX]}, user: …}} or just - {key[:NAME_MAX]}"
        context.add(item.line_of(key), where, f"unknown key {key[:40]!r}; {hint}")
        return None
    section = Section(context, item, where)
    before = len(context.problems)
    section.only(TEAM_KEYS)
    raw = item.get("name", MISSING)
    name: str | None = None
    if raw is MISSING:
        message = "missing (required): the name shown and sent to the channel"
        section.problem("name", message, item.line)
    elif not isinstance(raw, str):
        section.problem("name", f"expected text, got {kind_of(raw)}")
    else:
        try:
            name = _name(raw)
        except ValueError as exc:
            section.problem("name", str(exc))
    user = _user(section, item.get("user", MISSING))
    if len(context.problems) > before or name is None:
        return None
    return Person(name, user)


def _name(text: str) -> str:
    """The name, stripped; ``ValueError`` saying why it cannot be one."""
    name = text.strip()
    if not name:
        raise ValueError("a name cannot be empty")
    if not name.isprintable():
        raise ValueError(f"{show(name)} contains a control character")
    if len(name) > NAME_MAX:
        raise ValueError(f"a name of at most {NAME_MAX} characters, got {len(name)}")
    return name


def _user(section: Section, value: object) -> str | None:
    if value is MISSING or value is None:
        return None
    expected = "expected a login on this server such as anna (letters, digits, _ . -)"
    if not isinstance(value, str):
        section.problem("user", f"{expected}, got {kind_of(value)}")
        return None
    user = value.strip()
    if _USER.fullmatch(user) is None:
        section.problem("user", f"{expected}, got {show(value)}")
        return None
    return user
