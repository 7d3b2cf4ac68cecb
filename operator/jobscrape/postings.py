"""The normalised job posting every board adapter produces, and the helpers that build it."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit


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
        return {
            "id": self.id, "board": self.board, "board_type": self.board_type,
            "source_id": self.source_id, "title": self.title, "url": self.url,
            "apply_url": self.apply_url, "company": self.company,
            "department": self.department, "locations": list(self.locations),
            "remote": self.remote.value, "employment_type": self.employment_type.value,
            "salary": _salary_dict(self.salary),
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "description_html": self.description_html,
            "description_text": self.description_text, "content_hash": self.content_hash,
        }


def _salary_dict(s: Salary | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {"min": s.min, "max": s.max, "currency": s.currency, "period": s.period.value}


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


def content_hash(p: Posting) -> str:
    """A hash of what a reader sees of the posting; changes when that content changes."""
    seen = [p.title, p.url, p.apply_url, p.company, p.department, list(p.locations),
            p.remote.value, p.employment_type.value, _salary_dict(p.salary),
            p.description_html]
    raw = json.dumps(seen, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


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


def strip_escapes(text: str) -> str:
    """The text without terminal escape sequences (CSI such as "\\x1b[2J", OSC such as
    "\\x1b]8;;http://x\\x07" with its payload, and the other ESC and C1 sequences)."""
    return _ESCAPES.sub("", text)


def strip_controls(text: str) -> str:
    """The text without any control character (C0, DEL, C1), line breaks and tabs included."""
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """A one-line field (title, company, location...): escape sequences dropped, line breaks
    and tabs turned into one space, every other control character dropped, ends stripped."""
    return strip_controls(_LINE_BREAKS.sub(" ", strip_escapes(text))).strip()


def clean_text(text: str) -> str:
    """A multi-line field (descriptions): escape sequences and control characters dropped,
    except line feeds and tabs."""
    return _TEXT_CONTROLS.sub("", strip_escapes(text))


def safe_url(value: str | None) -> str | None:
    """The value when it is an absolute http(s) URL with a host and no white space or control
    character in it; None otherwise (javascript:, data:, file:, relative or broken links)."""
    if not value:
        return None
    url = value.strip()
    if not url or any(c.isspace() or _CONTROLS.match(c) for c in url):
        return None
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
    locations: dict[str, None] = {}
    for loc in p.locations:
        if text := clean_line(loc):
            locations.setdefault(text)
    return replace(
        p,
        title=clean_line(p.title),
        url=safe_url(p.url), apply_url=safe_url(p.apply_url),
        company=_optional_line(p.company), department=_optional_line(p.department),
        locations=tuple(locations),
        description_html=clean_text(p.description_html),
        description_text=clean_text(p.description_text),
    )
