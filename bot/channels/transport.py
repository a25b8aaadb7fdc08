"""Reading a failed HTTP call to a provider: could the provider have taken the message?

A connection that never opened sent nothing: trying again is safe. A request
that left and got no answer (read timeout, connection cut while waiting) may
have been taken: resending could send it twice, so it is `IN_DOUBT` and settled
later from the provider's delivery reports (see workers/sweeper.py).
"""

from __future__ import annotations

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from bot.channels.base import SendError, SendFailure


def transport_error(error: requests.RequestException) -> SendError:
    if isinstance(error, requests.ConnectTimeout):
        return SendError(SendFailure.RETRYABLE, "connect_timeout")
    if isinstance(error, requests.Timeout):
        return SendError(SendFailure.IN_DOUBT, "timeout")
    if isinstance(error, requests.ConnectionError):
        if _never_connected(error):
            return SendError(SendFailure.RETRYABLE, "connection")
        return SendError(SendFailure.IN_DOUBT, "connection_lost")
    return SendError(SendFailure.RETRYABLE, type(error).__name__)


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the socket never opened (refused, unreachable, no such host)."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
