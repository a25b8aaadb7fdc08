"""Mixed webhook traffic on loopback, as the providers send it, with every answer recorded.

A few client threads, each on its own keep-alive connection, take turns at a steady
pace: a USSD walk (dial, Cotonou, its budget; a new caller each walk), an inbound SMS
from Africa's Talking, a WhatsApp message through Twilio (signed) and one through the
WhatsApp Cloud API (signed). Every message comes from a number of its own, so each
stored message and each reply can be checked one by one. A message refused (anything
but 200, or no answer) is kept to be posted again later, as its provider would retry.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bot.gsm import to_gsm7
from bot.i18n import t
from bot.models.enums import Provider

TWILIO_TOKEN = "bench-twilio-token"
META_SECRET = "bench-meta-secret"
CLIENT_TIMEOUT_SECONDS = 20.0
"""Past AT's 15 s USSD deadline: a slower answer is recorded as late, not lost."""
USSD_DEADLINE_SECONDS = 15.0
IDLE_SECONDS = 1.5
"""A connection idle longer is opened anew: gunicorn drops idle ones after 2 s."""
POLITE_END = "END " + to_gsm7(t("ussd.unavailable", "fr"))
KINDS = ("ussd", "sms", "twilio", "meta")
KIND_NAMES = {
    "ussd": "USSD",
    "sms": "SMS (AT)",
    "twilio": "WhatsApp (Twilio)",
    "meta": "WhatsApp (Meta)",
}
USSD_WALK = ("", "1", "1*1")
# Number ranges per kind: every sender is new, and none is a broadcast subscriber
# (bench/broadcast.py seeds +2290197...).
PREFIXES = {"ussd": "+2290193", "sms": "+2290196", "twilio": "+2290195", "meta": "+2290194"}
TEXTS = {
    "sms": ("BUDGET COTONOU", "PTA CALAVI", "AGENDA AKPRO", "Quel est le budget de Calavi ?"),
    "twilio": ("budget cotonou 2025", "marches calavi", "reddition akpro"),
    "meta": ("agenda cotonou", "conseil calavi", "budget akpro"),
}
PATHS = {
    "ussd": "/webhooks/at/ussd",
    "sms": "/webhooks/at/sms",
    "twilio": "/webhooks/twilio/messages",
    "meta": "/webhooks/whatsapp",
}
PROVIDERS = {
    "sms": Provider.AFRICASTALKING.value,
    "twilio": Provider.TWILIO.value,
    "meta": Provider.META.value,
}


@dataclass(frozen=True)
class Request:
    kind: str
    body: bytes
    headers: dict[str, str]
    phone: str
    message_id: str | None  # None for a USSD hop: nothing is stored per hop


@dataclass(frozen=True)
class Outcome:
    kind: str
    started: float  # monotonic
    seconds: float
    status: int | None  # None: no answer (refused connection, timeout)
    body: str

    @property
    def ok(self) -> bool:
        """Served as in normal times: 200, and for USSD a menu rather than the polite END."""
        if self.status != 200:
            return False
        return self.kind != "ussd" or self.body.startswith("CON ")

    @property
    def label(self) -> str:
        """How the answer reads in the status counts."""
        if self.status is None:
            return "no answer"
        if self.kind == "ussd" and self.body == POLITE_END:
            return "200 polite END"
        return str(self.status)


def _form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


class Messages:
    """Builds each kind of request; numbers and ids are unique within a run."""

    def __init__(self, base_url: str, run_tag: str) -> None:
        self.base_url = base_url
        self.tag = run_tag
        self._counters = {kind: itertools.count() for kind in KINDS}
        self._lock = threading.Lock()
        self._validator = RequestValidator(TWILIO_TOKEN)

    def _next(self, kind: str) -> int:
        with self._lock:
            return next(self._counters[kind])

    def phone(self, kind: str, number: int) -> str:
        return f"{PREFIXES[kind]}{number:06d}"

    def ussd_walk(self) -> list[Request]:
        number = self._next("ussd")
        phone = self.phone("ussd", number)
        session = f"{self.tag}-walk-{number}"
        requests = []
        for text in USSD_WALK:
            body, headers = _form(
                {
                    "sessionId": session,
                    "serviceCode": "*202*22#",
                    "phoneNumber": phone,
                    "networkCode": "61602",
                    "text": text,
                }
            )
            requests.append(Request("ussd", body, headers, phone, None))
        return requests

    def message(self, kind: str) -> Request:
        number = self._next(kind)
        phone = self.phone(kind, number)
        text = TEXTS[kind][number % len(TEXTS[kind])]
        message_id = f"{self.tag}-{kind}-{number}"
        if kind == "sms":
            body, headers = _form(
                {
                    "from": phone,
                    "to": "7722",
                    "text": text,
                    "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                    "id": message_id,
                    "linkId": "41872630915502873364",
                }
            )
        elif kind == "twilio":
            message_id = "SM" + hashlib.sha1(message_id.encode()).hexdigest()
            fields = {
                "MessageSid": message_id,
                "AccountSid": "ACbench000000000000000000000000000",
                "From": f"whatsapp:{phone}",
                "To": "whatsapp:+2290121300400",
                "Body": text,
                "NumMedia": "0",
                "WaId": phone.lstrip("+"),
            }
            body, headers = _form(fields)
            url = self.base_url + PATHS["twilio"]
            headers["X-Twilio-Signature"] = self._validator.compute_signature(url, fields)
        else:
            body = _meta_body(phone, text, message_id)
            signature = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            }
        return Request(kind, body, headers, phone, message_id)


def _meta_body(phone: str, text: str, message_id: str) -> bytes:
    message = {
        "from": phone.lstrip("+"),
        "id": message_id,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22921300400", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": phone.lstrip("+")}],
        "messages": [message],
    }
    entry = {"id": "8856996", "changes": [{"value": value, "field": "messages"}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


@dataclass(frozen=True)
class Sent:
    provider: str
    phone: str
    first_sent: float  # monotonic


@dataclass
class Ledger:
    """Every answer, every message sent, those the app took (200) and those to retry."""

    outcomes: list[Outcome] = field(default_factory=list)
    sent: dict[str, Sent] = field(default_factory=dict)  # message id -> first attempt
    accepted: set[str] = field(default_factory=set)  # message ids answered 200
    to_retry: list[Request] = field(default_factory=list)
    late_starts: int = 0  # requests sent over a second after their time: every client busy
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)
            if request.message_id is None:
                return
            self.sent.setdefault(
                request.message_id, Sent(PROVIDERS[request.kind], request.phone, outcome.started)
            )
            if outcome.status == 200:
                self.accepted.add(request.message_id)
            else:
                self.to_retry.append(request)

    def take_retries(self) -> list[Request]:
        with self.lock:
            retries, self.to_retry = self.to_retry, []
            return retries

    def between(self, start: float, end: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if start <= o.started < end]

    def messages(self, sent_before: float | None = None) -> dict[str, tuple[Sent, bool]]:
        """Messages first sent before `sent_before` (all: None), each with: was it taken."""
        with self.lock:
            return {
                message_id: (sent, message_id in self.accepted)
                for message_id, sent in self.sent.items()
                if sent_before is None or sent.first_sent < sent_before
            }


class Client:
    """One keep-alive connection; a broken one is opened again.

    gunicorn closes a connection idle for its keep-alive time (2 s): one idle nearly
    that long is replaced before use, or a request would race the server's close and
    count as unanswered for a reason no provider meets.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection = self._open()
        self._used = time.monotonic()

    def _open(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT_SECONDS)

    def send(self, request: Request) -> Outcome:
        started = time.monotonic()
        if started - self._used > IDLE_SECONDS:
            self._connection.close()
            self._connection = self._open()
        try:
            self._connection.request("POST", PATHS[request.kind], request.body, request.headers)
            response = self._connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            status: int | None = response.status
        except (OSError, http.client.HTTPException):
            self._connection.close()
            self._connection = self._open()
            status, body = None, ""
        self._used = time.monotonic()
        return Outcome(request.kind, started, self._used - started, status, body)

    def close(self) -> None:
        self._connection.close()


class Traffic:
    """Mixed traffic at `rate` requests per second (a USSD hop counts one), open loop.

    Requests leave on schedule whether or not earlier ones were answered, as providers
    send them: a slow server faces the same arrivals as a fast one. Each goes out on one
    of `clients` keep-alive connections; the hops of one USSD walk go in turn.
    """

    def __init__(self, port: int, messages: Messages, rate: float, clients: int = 48) -> None:
        self.port = port
        self.messages = messages
        self.ledger = Ledger()
        self.rate = rate
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(clients, thread_name_prefix="traffic")
        self._local = threading.local()
        self._clients: list[Client] = []
        self._clients_lock = threading.Lock()
        self._scheduler = threading.Thread(target=self._schedule, daemon=True)

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self._scheduler.join(timeout=5)
        self._pool.shutdown(wait=True)
        with self._clients_lock:
            for client in self._clients:
                client.close()

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(self.port)
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _schedule(self) -> None:
        makers: list[Callable[[], list[Request]]] = [
            self.messages.ussd_walk,
            lambda: [self.messages.message("sms")],
            lambda: [self.messages.message("twilio")],
            lambda: [self.messages.message("meta")],
        ]
        due = time.monotonic()
        for make in itertools.cycle(makers):
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            requests = make()
            self._pool.submit(self._send, requests, due)
            due += len(requests) / self.rate

    def _send(self, requests: list[Request], due: float) -> None:
        if time.monotonic() - due > 1.0:
            with self.ledger.lock:
                self.ledger.late_starts += 1
        client = self._client()
        for request in requests:
            self.ledger.record(request, client.send(request))

    def retry_refused(self, attempts: int = 5) -> int:
        """Post again what was refused, as providers retry; how many are still refused."""
        client = Client(self.port)
        for _attempt in range(attempts):
            for request in self.ledger.take_retries():
                self.ledger.record(request, client.send(request))
            if not self.ledger.to_retry:
                break
            time.sleep(1)
        client.close()
        with self.ledger.lock:
            return len(self.ledger.to_retry)


@dataclass(frozen=True)
class Latency:
    """Answer times and status counts of one phase, per kind of request."""

    count: int
    p50_ms: float
    p99_ms: float
    slowest_ms: float
    statuses: dict[str, int]
    over_deadline: int  # answered (or given up) after AT's USSD deadline

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Latency:
        if not outcomes:
            return cls(0, 0.0, 0.0, 0.0, {}, 0)
        seconds = sorted(o.seconds for o in outcomes)
        cuts = (
            statistics.quantiles(seconds, n=100, method="inclusive")
            if len(seconds) > 1
            else seconds * 99
        )
        return cls(
            count=len(outcomes),
            p50_ms=cuts[49] * 1000,
            p99_ms=cuts[98] * 1000,
            slowest_ms=seconds[-1] * 1000,
            statuses=dict(Counter(o.label for o in outcomes)),
            over_deadline=sum(1 for value in seconds if value > USSD_DEADLINE_SECONDS),
        )


def by_kind(outcomes: list[Outcome]) -> dict[str, Latency]:
    return {kind: Latency.of([o for o in outcomes if o.kind == kind]) for kind in KINDS}
