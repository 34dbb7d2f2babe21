from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol, final

from typing_extensions import Self, disjoint_base

from webhook_signature._events import Authenticated, Event, Mode

Body = bytes | bytearray | memoryview | str
Now = int | float | datetime | None

class HeaderMap(Protocol):
    """What is read of the headers: a dict, or Starlette's or Werkzeug's ``Headers``."""

    def get(self, key: str, /) -> str | None: ...
    def items(self) -> Iterable[tuple[str, str]]: ...

GOOGLE_JWKS_URL: Final[str]
GIL_RELEASE_BYTES: Final[int]
__version__: Final[str]

def hmac_data(key: Body, data: Body) -> bytes: ...

@final
class Webhook:
    def __new__(cls, secret: str | bytes | Sequence[str | bytes], *, tolerance: int = 300) -> Webhook: ...
    def verify(self, data: Body, headers: HeaderMap, now: Now = None) -> int: ...
    def sign(self, msg_id: str, timestamp: int, data: Body) -> str: ...

@final
class Delivery:
    @property
    def id(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def replay_key(self) -> str | None:
        """Dynamic mode: 64 hex digits from what Google signed; deduplicate on it too."""
    @property
    def mode(self) -> Mode: ...
    @property
    def key(self) -> int | None: ...
    @property
    def kid(self) -> str | None: ...
    @property
    def authenticated(self) -> Authenticated: ...
    @property
    def bound_by(self) -> str | None: ...
    @property
    def event(self) -> Event | None: ...
    @property
    def event_type(self) -> str | None: ...
    @property
    def not_envelope(self) -> str | None: ...

@disjoint_base
class Receiver:
    def __new__(
        cls,
        secrets: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        jwks: Mapping[str, Any] | str | bytes | None = None,
        jwks_url: str = ...,
    ) -> Self: ...
    def verify(self, body: Body, headers: HeaderMap, *, now: Now = None) -> Delivery: ...
    def verify_or_notify(
        self, body: Body, headers: HeaderMap, notify: Callable[[], object], *, now: Now = None
    ) -> Delivery | None: ...
