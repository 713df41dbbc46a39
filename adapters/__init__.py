"""Channel adapters: the contract, its data and its errors. Never imports Textual."""

from adapters.base import Adapter, Clock, utc_now
from adapters.errors import (
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    NotSupported,
    ProtocolError,
    RateLimited,
)
from adapters.models import (
    Author,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Message,
    Reply,
    SendResult,
)
from adapters.options import Option, OptionError, OptionType, format_duration, parse_duration

__all__ = [
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
    "Reply",
    "SendResult",
    "format_duration",
    "parse_duration",
    "utc_now",
]
