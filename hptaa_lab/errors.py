"""Exceptions raised by hptaa_lab; each also derives from the matching built-in."""

from __future__ import annotations

import difflib
from pathlib import Path

__all__ = [
    "HptaaError",
    "InteropError",
    "InvalidSearchSpaceError",
    "InvalidStudyNameError",
    "InvalidTrialError",
    "MappingError",
    "StoreError",
    "StudyExistsError",
    "StudyNotFoundError",
    "StudyReplacedError",
    "UnknownNameError",
]


class HptaaError(Exception):
    """Base class of every error hptaa_lab raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled (a worker process's error) as its message and attributes:
        # subclasses whose __init__ takes other arguments come back whole.
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(
    cls: type[HptaaError], args: tuple[object, ...], state: dict[str, object]
) -> HptaaError:
    """An error of class ``cls`` with ``args`` and attributes ``state``,
    without calling its __init__."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class UnknownNameError(HptaaError, ValueError):
    """A benchmark, task, sampler or transfer name that does not exist."""

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = list(valid)
        super().__init__(
            f"Unknown {kind} {name!r}. Valid {kind} names: {', '.join(self.valid)}."
            f"{did_you_mean(name, self.valid)}"
        )


def did_you_mean(name: str, valid: list[str]) -> str:
    """The hint for an unknown ``name``: a space, then "Did you mean 'x'?" with
    the valid name closest to it, ignoring case; "" when none is close."""
    by_lower = {v.lower(): v for v in reversed(valid)}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


class InvalidSearchSpaceError(HptaaError, ValueError):
    """A search space that is empty, malformed, or not ConfigSpace JSON."""


class InvalidStudyNameError(HptaaError, ValueError):
    """A study name the store cannot keep or show: empty, too long, or holding
    control characters."""


class InvalidTrialError(HptaaError, ValueError):
    """A trial that cannot be told: unknown, or no longer RUNNING."""


class InteropError(HptaaError, ValueError):
    """Data to import or export that cannot be converted; nothing was written."""


class MappingError(HptaaError, ValueError):
    """A mapping that does not fit the previous and current search spaces."""


class StoreError(HptaaError, RuntimeError):
    """The trial store cannot be opened or written."""


_LISTED = 12
"""Existing studies a StudyNotFoundError names at most."""


class StudyReplacedError(StoreError):
    """The study a Study object tunes was deleted, and another study took its
    name: nothing is written to that one."""


class StudyNotFoundError(HptaaError, KeyError):
    """A study name that is not in the trial store."""

    def __init__(
        self, name: str, existing: list[str], store: str | None = None
    ) -> None:
        self.name = name
        self.existing = list(existing)
        self.store = store
        shown = self.existing[:_LISTED]
        listing = ", ".join(shown) if shown else "(the store is empty)"
        if len(self.existing) > len(shown):
            listing += (
                f" and {len(self.existing) - len(shown)} more (`hptaa studies` "
                "lists them all)"
            )
        where = f"the trial store {store}" if store else "the trial store"
        super().__init__(
            f"No study named {name!r} in {where}. Existing studies: {listing}."
            f"{did_you_mean(name, self.existing)}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class StudyExistsError(HptaaError, ValueError):
    """A study name that is already taken in the trial store."""

    def __init__(
        self,
        name: str,
        store: str | None = None,
        *,
        importing: bool = False,
        notebook: bool = False,
        advice: str | None = None,
    ) -> None:
        self.name = name
        self.store = store
        # The default store needs no store= to be found again, and an in-memory
        # one cannot be opened by its URL: it is the TrialStore object itself.
        default = (
            store is None
            or store
            in (
                "sqlite:///.hptaa/studies.db",
                f"sqlite:///{Path.cwd() / '.hptaa' / 'studies.db'}",
            )
            or store.rstrip("/") in ("sqlite:", "sqlite:///:memory:")
        )
        where = "the trial store" if store is None else f"the trial store {store}"
        call = f"{name!r}" if default else f"{name!r}, store={store!r}"
        if advice is not None:
            pass
        elif importing:
            advice = (
                "Import under another name (the NAME of hptaa import, or name= in "
                "Python); the existing study stays as it is."
            )
        elif notebook:
            advice = (
                "Add --resume to the %%hptaa tune line to continue it (in a script: "
                f"hptaa_lab.load_study({call})), or choose another --study name."
            )
        else:
            advice = (
                f"Use hptaa_lab.load_study({call}) to resume it, or choose another "
                "name."
            )
        super().__init__(f"A study named {name!r} already exists in {where}. {advice}")
