"""Channel adapters: the contract, its data and its errors. Never imports Textual."""

from adapters.base import Adapter, Clock, utc_now
from adapters.errors import (
    ActionRefused,
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    NotSupported,
    ProtocolError,
    RateLimited,
)
from adapters.models import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Author,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Message,
)
from adapters.options import Option, OptionError, OptionType, format_duration, parse_duration

__all__ = [
    "ActionKind",
    "ActionRefused",
    "ActionRequest",
    "ActionResult",
    "Adapter",
    "AdapterError",
    "AuthenticationFailed",
    "Author",
    "Capabilities",
    "ChannelKind",
    "ChannelState",
    "Clock",
    "ConfigurationError",
    "ConnectionFailed",
    "Conversation",
    "Customer",
    "Message",
    "NotSupported",
    "Option",
    "OptionError",
    "OptionType",
    "ProtocolError",
    "RateLimited",
    "format_duration",
    "parse_duration",
    "utc_now",
]
