"""The normalised job posting every board adapter produces, and the helpers that build it."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import msgspec


class Remote(enum.StrEnum):
    """Whether a posting can be done remotely."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


class EmploymentType(enum.StrEnum):
    """One employment-type vocabulary for every board."""

    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    CONTRACT = "contract"
    TEMPORARY = "temporary"
    INTERNSHIP = "internship"
    VOLUNTEER = "volunteer"
    OTHER = "other"
    UNKNOWN = "unknown"


class SalaryPeriod(enum.StrEnum):
    """The period a salary figure is paid for."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Salary:
    """A pay range; min/max are in whole currency units (not cents)."""

    min: float | None = None
    max: float | None = None
    currency: str | None = None  # ISO 4217, upper case
    period: SalaryPeriod = SalaryPeriod.UNKNOWN

    def __reduce__(self) -> tuple[type[Salary], tuple[object, ...]]:
        # pickled as a constructor call: the frozen dataclass's own __getstate__ and
        # __setstate__ run Python code per field (postings cross from the parse workers)
        return Salary, (self.min, self.max, self.currency, self.period)


@dataclass(frozen=True, slots=True)
class Posting:
    """One open job posting, the same shape whatever board it came from.

    `id` is stable across runs: `<type>:<board token>:<source id>`.
    Times are timezone-aware UTC or None.
    """

    id: str
    board: str  # the spec board's name
    board_type: str
    source_id: str
    title: str
    url: str | None = None
    apply_url: str | None = None
    company: str | None = None
    department: str | None = None
    locations: tuple[str, ...] = ()
    remote: Remote = Remote.UNKNOWN
    employment_type: EmploymentType = EmploymentType.UNKNOWN
    salary: Salary | None = None
    posted_at: datetime | None = None
    updated_at: datetime | None = None
    description_html: str = ""  # sanitised
    description_text: str = ""
    content_hash: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (enums as values, times as ISO 8601)."""
        # `_value_`, the member's own attribute: `.value` is a Python-level property
        return {
            "id": self.id, "board": self.board, "board_type": self.board_type,
            "source_id": self.source_id, "title": self.title, "url": self.url,
            "apply_url": self.apply_url, "company": self.company,
            "department": self.department, "locations": list(self.locations),
            "remote": self.remote._value_, "employment_type": self.employment_type._value_,
            "salary": _salary_dict(self.salary),
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "description_html": self.description_html,
            "description_text": self.description_text, "content_hash": self.content_hash,
        }

    def to_json(self) -> str:
        """to_dict() as compact JSON: what `json.dumps(p.to_dict(), ensure_ascii=False,
        separators=(",", ":"))` gives, character for character (msgspec, or json.dumps
        where the two could differ: see canonical_bytes)."""
        d = self.to_dict()
        s = self.salary
        if s is None or (_plain_float(s.min) and _plain_float(s.max)):
            try:
                return _ENCODE(d).decode()
            except (TypeError, ValueError):
                pass
        return json.dumps(d, ensure_ascii=False, separators=(",", ":"))

    def __reduce__(self) -> tuple[type[Posting], tuple[object, ...]]:
        # pickled as a constructor call (see Salary.__reduce__): about half the time to
        # pickle and to unpickle, for every posting a parse worker sends back
        return Posting, (
            self.id, self.board, self.board_type, self.source_id, self.title, self.url,
            self.apply_url, self.company, self.department, self.locations, self.remote,
            self.employment_type, self.salary, self.posted_at, self.updated_at,
            self.description_html, self.description_text, self.content_hash)


def _salary_dict(s: Salary | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {"min": s.min, "max": s.max, "currency": s.currency, "period": s.period._value_}


def posting_from_dict(d: dict[str, object]) -> Posting:
    """Rebuild a Posting from `Posting.to_dict()` output (exact round trip)."""
    sal = d.get("salary")
    return Posting(
        id=str(d["id"]), board=str(d["board"]), board_type=str(d["board_type"]),
        source_id=str(d["source_id"]), title=str(d["title"]),
        url=d.get("url"), apply_url=d.get("apply_url"),  # type: ignore[arg-type]
        company=d.get("company"), department=d.get("department"),  # type: ignore[arg-type]
        locations=tuple(d.get("locations") or ()),  # type: ignore[arg-type]
        remote=Remote(d.get("remote") or "unknown"),
        employment_type=EmploymentType(d.get("employment_type") or "unknown"),
        salary=Salary(min=sal.get("min"), max=sal.get("max"), currency=sal.get("currency"),
                      period=SalaryPeriod(sal.get("period") or "unknown"))
        if isinstance(sal, dict) else None,
        posted_at=_time(d.get("posted_at")), updated_at=_time(d.get("updated_at")),
        description_html=str(d.get("description_html") or ""),
        description_text=str(d.get("description_text") or ""),
        content_hash=str(d.get("content_hash") or ""),
    )


def _time(v: object) -> datetime | None:
    return datetime.fromisoformat(v) if isinstance(v, str) and v else None


def posting_id(board_type: str, token: str, source_id: str) -> str:
    """The stable id of a posting."""
    return f"{board_type}:{token}:{source_id}"


_ENCODE = msgspec.json.Encoder().encode


def canonical_bytes(p: Posting) -> bytes:
    """What content_hash hashes: the fields a reader sees, as compact JSON in UTF-8, byte for
    byte what `json.dumps(seen, separators=(",", ":"), ensure_ascii=False).encode()` gives
    (so hashes stored by earlier versions stay valid: an upgrade updates no posting).

    One msgspec encode (C); json.dumps only where the two could differ: a salary bound that
    is neither an int nor a float in [1e-4, 1e16) (JSON writes 1e-05 and 1e+16, msgspec
    0.00001 and 1e16; NaN), or a value msgspec refuses (a lone surrogate raises as json's
    encode() does).
    """
    seen = [p.title, p.url, p.apply_url, p.company, p.department, list(p.locations),
            p.remote._value_, p.employment_type._value_, _salary_dict(p.salary),
            p.description_html]
    s = p.salary
    if s is None or (_plain_float(s.min) and _plain_float(s.max)):
        try:
            return _ENCODE(seen)
        except (TypeError, ValueError):
            pass
    return json.dumps(seen, separators=(",", ":"), ensure_ascii=False).encode()


def _plain_float(v: object) -> bool:
    """Whether msgspec and json write the amount alike: None, an int, or a float they both
    write in positional notation."""
    return v is None or type(v) is int or (type(v) is float and 1e-4 <= v < 1e16)


def content_hash(p: Posting) -> str:
    """A hash of what a reader sees of the posting; changes when that content changes."""
    return hashlib.blake2b(canonical_bytes(p), digest_size=16).hexdigest()


def with_hash(p: Posting) -> Posting:
    """The same posting with its content_hash filled in."""
    object.__setattr__(p, "content_hash", content_hash(p))
    return p



class ChangeKind(enum.StrEnum):
    """What happened to a posting in a run."""

    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"


def idempotency_key(source: str, board: str, posting_id_: str, content_hash_: str,
                    kind: str, run_id: str) -> str:
    """The key a consumer de-duplicates a change on: the same for every delivery of one change
    (it is stored with the outbox row), different for any two changes, including a posting that
    is removed, reappears unchanged and is removed again (the run id tells those apart)."""
    raw = "\0".join((source, board, posting_id_, content_hash_, kind, run_id))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one posting, as the outbox keeps it for one notification target.

    `seq` orders the outbox of a source and names the row when it is marked sent or failed;
    `posting` is the posting as it was at the change (the last stored version for `removed`).
    """

    seq: int
    target: str
    kind: ChangeKind
    source: str
    board: str
    posting: Posting
    idempotency_key: str
    created_at: datetime
    attempts: int = 0


# ----------------------------------------------------------------------------- board data is data
# Everything a board sends is untrusted text: it must never reach a terminal as an escape
# sequence, nor a reader as a link to anything but a web page. build_posting applies these rules
# to every field (sanitised); output formats add their own escaping on top.

# ANSI/ECMA-48 escape sequences, 7-bit (ESC ...) and 8-bit (C1) forms: strings (OSC, DCS, SOS,
# PM, APC: up to BEL or ST, or to the end when unterminated), CSI sequences, two-character ones.
_ESCAPES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 controls, DEL and C1 controls.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85]+")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but \t and \n


# The start of any escape sequence (ESC, the C1 string and CSI introducers).
_ESCAPE_START = re.compile(r"[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
# What safe_url refuses anywhere in a URL: white space (as str.isspace) and controls.
_URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# URLs safe_url accepts without parsing them (an http(s) scheme, a host name of ASCII letters,
# digits, dots and hyphens, a port below 10000): urlsplit finds that scheme, a host and a valid
# port in each. Others (upper case, userinfo, IPv6, no host...) are parsed.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:[/?#].*)?", re.DOTALL)

# Each function below first checks, in C, whether there is anything to remove: the text is
# printable (str.isprintable is False for every control character, every line break and
# every white space but " "), or a search for the characters the slow path acts on finds
# none. Most board text passes that check and is returned as it is.


def strip_escapes(text: str) -> str:
    """The text without terminal escape sequences (CSI such as "\\x1b[2J", OSC such as
    "\\x1b]8;;http://x\\x07" with its payload, and the other ESC and C1 sequences)."""
    if text.isprintable() or not _ESCAPE_START.search(text):
        return text
    return _ESCAPES.sub("", text)


def strip_controls(text: str) -> str:
    """The text without any control character (C0, DEL, C1), line breaks and tabs included."""
    if text.isprintable():
        return text
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """A one-line field (title, company, location...): escape sequences dropped, line breaks
    and tabs turned into one space, every other control character dropped, ends stripped."""
    if text.isprintable() or not _CONTROLS.search(text):
        return text.strip()
    return strip_controls(_LINE_BREAKS.sub(" ", strip_escapes(text))).strip()


def clean_text(text: str) -> str:
    """A multi-line field (descriptions): escape sequences and control characters dropped,
    except line feeds and tabs."""
    if text.isprintable() or not _TEXT_CONTROLS.search(text):
        return text
    return _TEXT_CONTROLS.sub("", strip_escapes(text))


def safe_url(value: str | None) -> str | None:
    """The value when it is an absolute http(s) URL with a host and no white space or control
    character in it; None otherwise (javascript:, data:, file:, relative or broken links)."""
    if not value:
        return None
    url = value.strip()
    if not url or " " in url or (not url.isprintable() and _URL_UNSAFE.search(url)):
        return None
    if _PLAIN_URL.fullmatch(url):
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def _optional_line(value: str | None) -> str | None:
    return (clean_line(value) or None) if isinstance(value, str) else None


def sanitised(p: Posting) -> Posting:
    """The posting with the rules above applied to every text and link field from the board.

    id, source_id and board are left as they are: build_posting cleans the source id before
    deriving the id, and the board name comes from the spec. The content_hash is not updated.
    """
    return _sanitise(Posting(
        id=p.id, board=p.board, board_type=p.board_type, source_id=p.source_id,
        title=p.title, url=p.url, apply_url=p.apply_url, company=p.company,
        department=p.department, locations=p.locations, remote=p.remote,
        employment_type=p.employment_type, salary=p.salary, posted_at=p.posted_at,
        updated_at=p.updated_at, description_html=p.description_html,
        description_text=p.description_text, content_hash=p.content_hash,
    ))


def _sanitise(p: Posting, *, descriptions_clean: bool = False) -> Posting:
    """sanitised(), applied to a posting nobody else holds yet (build_posting's own: it is
    changed in place, which saves building a second one). `descriptions_clean`: the caller
    has proved both descriptions free of control characters (clean_text would return them
    as they are)."""
    locations: dict[str, None] = {}
    for loc in p.locations:
        if text := clean_line(loc):
            locations.setdefault(text)
    put = object.__setattr__
    put(p, "title", clean_line(p.title))
    put(p, "url", safe_url(p.url))
    put(p, "apply_url", safe_url(p.apply_url))
    put(p, "company", _optional_line(p.company))
    put(p, "department", _optional_line(p.department))
    put(p, "locations", tuple(locations))
    if not descriptions_clean:
        put(p, "description_html", clean_text(p.description_html))
        put(p, "description_text", clean_text(p.description_text))
    return p
