"""A token that cannot leak by accident: every way of printing it prints asterisks."""

from __future__ import annotations

from typing import ClassVar


class Secret:
    """Holds a bearer token; repr/str/format show only the env var it came from."""

    __slots__ = ("_source", "_value")

    # Every token this process was given, so a connector can scrub all of them (a control
    # plane may echo the broker's token): see tradeops.connectors._http.scrub.
    _known: ClassVar[set[str]] = set()
    _longest_first: ClassVar[tuple[str, ...]] = ()  # _known, sorted once per new token

    def __init__(self, value: str, source: str = "env") -> None:
        self._value = value
        self._source = source
        if value and value not in Secret._known:
            Secret._known.add(value)
            Secret._longest_first = tuple(sorted(Secret._known, key=len, reverse=True))

    @staticmethod
    def every() -> tuple[str, ...]:
        """Every token value seen by this process, longest first (so none is half-scrubbed)."""
        return Secret._longest_first

    def reveal(self) -> str:
        """The token itself, for an Authorization header and nothing else."""
        return self._value

    @property
    def source(self) -> str:
        """Where the token came from, e.g. `$OANDA_TOKEN`: safe to print."""
        return self._source

    def __repr__(self) -> str:
        return f"Secret({self._source}=***)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple:
        # Pickling would carry the token into xdist workers and caches; refuse.
        raise TypeError("a Secret is never pickled; pass the env var name instead")
