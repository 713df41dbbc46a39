"""Channel adapters: the contract, its data and its errors. Never imports Textual."""

from sportello_sdk.base import Adapter, ChannelContext, Clock, Session, utc_now
from sportello_sdk.errors import (
    ActionRefused,
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    NotSupported,
    ProtocolError,
    RateLimited,
)
from sportello_sdk.models import (
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
from sportello_sdk.options import Option, OptionError, OptionType, format_duration, parse_duration

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
    "ChannelContext",
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
    "Session",
    "format_duration",
    "parse_duration",
    "utc_now",
]
