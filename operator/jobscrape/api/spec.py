"""JobSource.spec: what to crawl, how often, where to keep it, whom to tell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from jobscrape.api.base import ApiModel
from jobscrape.api.contract import MAX_SHARDS
from jobscrape.api.vocabulary import (
    ATS_TYPES,
    BOARD_TYPE_NOTES,
    BOARD_TYPES,
    URL_TYPES,
    BoardType,
    RemoteFilter,
)

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
MAX_BOARDS = 500
Regex = str  # bounded in each field


def _cel(rule: str, message: str, field_path: str | None = None,
         message_expression: str | None = None) -> dict[str, str]:
    out = {"rule": rule, "message": message}
    if message_expression:
        out["messageExpression"] = message_expression
    if field_path:
        out["fieldPath"] = field_path
    return out


# The regular expressions below are checked by the API server (CEL `matches`, RE2) and by the
# operator (Python `re.fullmatch`). They keep to the syntax both read the same way: anchored
# with ^...$, explicit character classes (no \s, \w, \d, whose meaning differs), no
# backreferences or lookarounds, and no double quote (they sit in CEL r"..." literals).

#: An absolute http or https URL with a host: http:// or https://, a host name, an optional
#: port, then an optional path, query or fragment. No user info ('@' before the host), no IPv6
#: literals, no spaces, control characters or backslashes (URL parsers disagree about those).
#: Kept short: the API server estimates the cost of `matches` as the string's maxLength times
#: the pattern's length, and 500 boards of this rule must fit its per-rule budget.
URL_PATTERN = r"^https?://[^\x00- \x7f/?#@:\\\[\]]+(:[0-9]+)?([/?#][^\x00- \x7f\\]*)?$"
URL_MESSAGE = "url must be an absolute http(s) URL"


@dataclass(frozen=True)
class TokenAlphabet:
    """What a board token may contain: a regular expression, and the same in words."""

    pattern: str
    allowed: str  # completes "token for <type> boards ..."

    def message(self, board_type: str) -> str:
        """The error for a token of `board_type` outside this alphabet."""
        return f"token for {board_type} boards {self.allowed}"


#: Tokens that become a subdomain ({token}.jobs.personio.de): one DNS label.
SUBDOMAIN = TokenAlphabet(r"^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$",
                          "must be a DNS label: up to 63 letters, digits and '-', starting and "
                          "ending with a letter or digit")
#: Tokens that become one segment of a URL path (/v1/boards/{token}/jobs).
PATH_SEGMENT = TokenAlphabet(r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                             "may contain only letters, digits, '.', '_' and '-', starting "
                             "with a letter or digit")

#: Workday: a tenant, its data centre and a site (acme.wd5/External).
WORKDAY_SITE = TokenAlphabet(r"^[a-z0-9][a-z0-9-]*\.wd[0-9]{1,3}/[A-Za-z0-9_-]+$",
                             "must be {tenant}.wd{N}/{site}, e.g. acme.wd5/External (tenant: "
                             "lower-case letters, digits and '-'; site: letters, digits, '_' "
                             "and '-')")
#: Comeet: a company UID and, unless url carries it, the careers token (F6.003:ab12cd).
COMEET_COMPANY = TokenAlphabet(r"^[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._-]+)?$",
                               "must be {company uid}:{careers token} (letters, digits, '.', "
                               "'_' and '-' in each), or the UID alone when url is set")

#: The one table of token alphabets: the CEL rules and the pydantic check are made from it.
#: A token is optional for jsonld and feed; when given it is checked all the same.
TOKEN_ALPHABETS: dict[str, TokenAlphabet] = {
    "greenhouse": PATH_SEGMENT, "lever": PATH_SEGMENT, "ashby": PATH_SEGMENT,
    "workable": PATH_SEGMENT, "smartrecruiters": PATH_SEGMENT, "recruitee": SUBDOMAIN,
    "personio": SUBDOMAIN, "jsonld": PATH_SEGMENT, "feed": PATH_SEGMENT,
    "workday": WORKDAY_SITE, "bamboohr": SUBDOMAIN, "teamtailor": SUBDOMAIN,
    "breezy": SUBDOMAIN, "rippling": PATH_SEGMENT, "gem": PATH_SEGMENT,
    "pinpoint": SUBDOMAIN, "comeet": COMEET_COMPANY, "arbeitnow": PATH_SEGMENT,
    "themuse": PATH_SEGMENT, "hackernews": PATH_SEGMENT,
}


def _cel_literal(items: list[str]) -> str:
    """A CEL list of the given (quote-free) strings."""
    return "[" + ", ".join(f"'{i}'" for i in items) + "]"


def _token_rules() -> list[dict[str, str]]:
    """One CEL rule per alphabet in TOKEN_ALPHABETS, for the board types that use it; the
    message names the board's type, as the pydantic check's does."""
    rules = []
    for alphabet in dict.fromkeys(TOKEN_ALPHABETS.values()):
        types = [t for t, a in TOKEN_ALPHABETS.items() if a == alphabet]
        rules.append(_cel(
            f"!(self.type in {_cel_literal(types)}) || !has(self.token) || "
            f'size(self.token) == 0 || self.token.matches(r"{alphabet.pattern}")',
            alphabet.message("/".join(types)), ".token",
            message_expression=f'"token for " + self.type + " boards {alphabet.allowed}"'))
    return rules


def _words(items: list[str], last: str = "or") -> str:
    """`a, b, c or d`."""
    return f"{', '.join(items[:-1])} {last} {items[-1]}" if len(items) > 1 else "".join(items)


def _board_type_description() -> str:
    """Every board type, with what it is where the name does not say it."""
    return "Board type: " + _words(
        [f"{t} ({BOARD_TYPE_NOTES[t]})" if t in BOARD_TYPE_NOTES else t for t in BOARD_TYPES]
    ) + "."


def _url_rule() -> dict[str, str]:
    """The CEL rule refusing a non-empty url that does not match URL_PATTERN."""
    return _cel(f'!has(self.url) || size(self.url) == 0 || self.url.matches(r"{URL_PATTERN}")',
                URL_MESSAGE, ".url")


class Board(ApiModel):
    """One job board to crawl."""

    model_config = ApiModel.model_config | {"json_schema_extra": {"x-kubernetes-validations": [
        _cel(f"!(self.type in {_cel_literal(list(URL_TYPES))}) || "
             "(has(self.url) && size(self.url) > 0)",
             f"url is required for boards of type {_words(list(URL_TYPES), 'and')}", ".url"),
        _cel(f"self.type in {_cel_literal(list(URL_TYPES))} || "
             "(has(self.token) && size(self.token) > 0)",
             f"token is required for boards of the types {', '.join(ATS_TYPES)} (for an "
             "aggregator any label)",
             ".token"),
        _url_rule(), *_token_rules(),
    ]}}

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL,
                      description="Name of the board, a DNS label unique within the source; "
                                  "status.boards and metrics use it.")
    type: BoardType = Field(description=_board_type_description())
    token: str = Field("", max_length=253,
                       description="Board token, site or company id for the ATS types "
                                   "(required for them; for the aggregators any label, "
                                   "part of the postings' ids).")
    url: str = Field("", max_length=2048,
                     description="Page or feed URL; required for jsonld and feed. For the ATS "
                                 "types an optional override of the API endpoint (mirrors, "
                                 "proxies, tests).")

    @field_validator("token")
    @classmethod
    def _token_alphabet(cls, token: str, info: ValidationInfo) -> str:
        """A non-empty token matches its board type's alphabet (as the CEL rule checks)."""
        alphabet = TOKEN_ALPHABETS.get(info.data.get("type", ""))
        if token and alphabet and not re.fullmatch(alphabet.pattern, token):
            raise ValueError(alphabet.message(info.data["type"]))
        return token

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        """A non-empty url is an absolute http(s) URL with a host (as the CEL rule checks)."""
        if url and not re.fullmatch(URL_PATTERN, url):
            raise ValueError(URL_MESSAGE)
        return url

    @model_validator(mode="after")
    def _url_or_token(self) -> Board:
        if self.type in URL_TYPES and not self.url:
            raise ValueError(f"url is required for boards of type {self.type}")
        if self.type not in URL_TYPES and not self.token:
            raise ValueError(f"token is required for boards of type {self.type}")
        return self


class PatternFilter(ApiModel):
    """Regular expressions (RE2: Python's syntax without lookaround and backreferences,
    matched in linear time), searched anywhere in the text."""

    include: list[Regex] = Field(default_factory=list, max_length=50,
                                 json_schema_extra={"items": {"type": "string",
                                                              "maxLength": 500}},
                                 description="Keep a posting only if one of these matches "
                                             "(empty: keep all).")
    exclude: list[Regex] = Field(default_factory=list, max_length=50,
                                 json_schema_extra={"items": {"type": "string",
                                                              "maxLength": 500}},
                                 description="Drop a posting if any of these matches.")


class Filters(ApiModel):
    """Which postings to keep; applied after parsing, before storing."""

    titles: PatternFilter | None = Field(None, description="Filters on the title.")
    locations: PatternFilter | None = Field(
        None, description="Filters on the locations (a posting matches if any location does).")
    departments: PatternFilter | None = Field(None, description="Filters on the department.")
    remote: RemoteFilter = Field(
        "any", description="any: keep all; only: keep remote postings; exclude: drop them.")
    max_age_days: int | None = Field(None, ge=1, le=3650,
                                     description="Drop postings published longer ago than this.")


class SecretKeyRef(ApiModel):
    """A key of a Secret in the JobSource's namespace."""

    name: str = Field(min_length=1, max_length=253,
                      description="Name of the Secret; it must start with the operator's "
                                  "--secret-name-prefix (default jobscrape-).")
    key: str = Field(min_length=1, max_length=253, description="Key within the Secret.")


class SqliteStore(ApiModel):
    """A SQLite file on a PersistentVolumeClaim the operator creates."""

    size: str = Field("1Gi", max_length=32, pattern=QUANTITY,
                      description="Requested size of the claim.")
    storage_class_name: str = Field("", max_length=253,
                                    description="Storage class of the claim ('' = default).")
    when_deleted: Literal["Retain", "Delete"] = Field(
        "Retain", description="Retain keeps the claim (and the postings) when the JobSource is "
                              "deleted; Delete removes it with the JobSource.")


class PostgresStore(ApiModel):
    """A PostgreSQL database."""

    dsn_secret_ref: SecretKeyRef = Field(description="Secret key holding the connection DSN.")


class Store(ApiModel):
    """Where postings are kept: exactly one of sqlite or postgres."""

    model_config = ApiModel.model_config | {"json_schema_extra": {"x-kubernetes-validations": [
        _cel("(has(self.sqlite) ? 1 : 0) + (has(self.postgres) ? 1 : 0) == 1",
             "spec.store must set exactly one of sqlite or postgres"),
    ]}}

    sqlite: SqliteStore | None = Field(None, description="SQLite on a PersistentVolumeClaim "
                                                         "(the default).")
    postgres: PostgresStore | None = Field(None, description="PostgreSQL.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Store:
        if (self.sqlite is None) == (self.postgres is None):
            raise ValueError("set exactly one of sqlite or postgres")
        return self


class WebhookTarget(ApiModel):
    """An HTTP webhook; its URL is a secret."""

    url_secret_ref: SecretKeyRef = Field(description="Secret key holding the webhook URL.")
    format: Literal["discord", "slack", "json"] = Field(
        "json", description="Payload format: discord, slack or json.")
    signing_key_secret_ref: SecretKeyRef | None = Field(
        None, description="json format only: Secret key holding an HMAC-SHA256 key; each "
                          "request then carries X-Jobscrape-Signature: t=<unix time>,"
                          "v1=<hex HMAC of '<t>.<body>'>.")


class PubSubTarget(ApiModel):
    """A Google Pub/Sub topic; credentials from Application Default Credentials (Workload
    Identity), or the emulator at PUBSUB_EMULATOR_HOST."""

    topic: str = Field(min_length=1, max_length=255,
                       pattern=r"^projects/[^/]+/topics/[^/]+$",
                       description="Full topic name: projects/<project>/topics/<topic>.")
    max_messages: int = Field(100, ge=1, le=1000,
                              description="Batching: publish once this many messages wait.")
    max_latency_seconds: float = Field(
        0.05, ge=0, le=10, description="Batching: publish at the latest this long after the "
                                       "first message of a batch.")
    max_bytes: int = Field(1_000_000, ge=1000, le=9_000_000,
                           description="Batching: publish once the batch has this many bytes.")


class Notify(ApiModel):
    """Where to send new, changed and removed postings: exactly one of webhook or pubsub.
    Delivery is at least once: every message carries an idempotency key to de-duplicate on."""

    model_config = ApiModel.model_config | {"json_schema_extra": {"x-kubernetes-validations": [
        _cel("(has(self.webhook) ? 1 : 0) + (has(self.pubsub) ? 1 : 0) == 1",
             "a notify target must set exactly one of webhook or pubsub"),
        _cel("!has(self.webhook) || !has(self.webhook.signingKeySecretRef) || "
             "self.webhook.format == 'json'",
             "signingKeySecretRef is only for webhooks of format json", ".webhook"),
    ]}}

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL,
                      description="Name of the target, unique within the source.")
    events: list[Literal["created", "updated", "removed"]] = Field(
        default_factory=lambda: ["created", "updated", "removed"], min_length=1, max_length=3,
        description="Which changes to send: created, updated, removed.")
    backfill: bool = Field(False, description="When the target is added to a source that "
                                              "already has postings: false sends only changes "
                                              "from then on; true also sends every open "
                                              "posting once, as created.")
    max_attempts: int = Field(12, ge=1, le=1000,
                              description="A change that failed this many times is dead.")
    max_age_hours: int = Field(72, ge=1, le=8760,
                               description="A change not delivered within this many hours of "
                                           "its run is dead.")
    webhook: WebhookTarget | None = Field(None, description="Send to a webhook.")
    pubsub: PubSubTarget | None = Field(None, description="Publish to a Pub/Sub topic.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Notify:
        if (self.webhook is None) == (self.pubsub is None):
            raise ValueError("set exactly one of webhook or pubsub")
        if self.webhook and self.webhook.signing_key_secret_ref and self.webhook.format != "json":
            raise ValueError("webhook.signingKeySecretRef is only for webhooks of format json")
        return self


Quantity = int | str


class Resources(ApiModel):
    """Compute resources of the runner container."""

    requests: dict[str, Quantity] = Field(
        default_factory=dict, max_length=8, description="Minimum resources (cpu, memory...).")
    limits: dict[str, Quantity] = Field(
        default_factory=dict, max_length=8, description="Maximum resources.")


class Run(ApiModel):
    """How each run's pod behaves."""

    image: str = Field("", max_length=512,
                       description="Runner image; empty means the operator's --runner-image. "
                                   "Another image only when the operator's allowlist "
                                   "(--allowed-runner-images) has it.")
    timeout_seconds: int = Field(900, ge=30, le=86400,
                                 description="The Job's activeDeadlineSeconds.")
    retries: int = Field(1, ge=0, le=10, description="The Job's backoffLimit (with shards: "
                                                     "each shard's, backoffLimitPerIndex).")
    concurrency: int = Field(8, ge=1, le=64,
                             description="Boards fetched at once within one pod.")
    requests_per_second_per_host: float = Field(
        2.0, gt=0, le=100, description="Politeness: requests per second to any one host.")
    shards: int = Field(1, ge=1, le=MAX_SHARDS,
                        description="More than 1 splits boards across the pods of an Indexed "
                                    "Job, all boards of one host in one pod (needs the "
                                    "postgres store; at most the operator's "
                                    "--max-runner-shards).")
    resources: Resources | None = Field(
        None, description="Requests and limits of the runner container: cpu, memory and "
                          "ephemeral-storage only, each up to the operator's maxima; what is "
                          "left out gets the operator's defaults.")


def _default_store() -> Store:
    return Store(sqlite=SqliteStore())


class JobSourceSpec(ApiModel):
    """Which job boards to crawl, how often, and what to do with the postings."""

    model_config = ApiModel.model_config | {"json_schema_extra": {"x-kubernetes-validations": [
        _cel("!has(self.run) || !has(self.run.shards) || self.run.shards <= 1 || "
             "(has(self.store) && has(self.store.postgres))",
             "spec.run.shards > 1 needs spec.store.postgres (SQLite cannot be shared by pods)"),
    ]}}

    schedule: str = Field(min_length=1, max_length=128,
                          description="Cron schedule as batch/v1 CronJob takes it: 5 fields or "
                                      "a macro such as @hourly.")
    time_zone: str | None = Field(None, max_length=64,
                                  description="IANA time zone the schedule is read in.")
    suspend: bool = Field(False, description="Pause scheduled runs.")
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = Field(
        "Forbid", description="What to do when a run is due while one is still going.")
    starting_deadline_seconds: int | None = Field(
        None, ge=0, le=86400, description="Skip a run that could not start within this time.")
    successful_runs_history_limit: int = Field(3, ge=0, le=100,
                                               description="Finished Jobs to keep.")
    failed_runs_history_limit: int = Field(3, ge=0, le=100, description="Failed Jobs to keep.")
    boards: list[Board] = Field(min_length=1, max_length=MAX_BOARDS,
                                json_schema_extra={"x-kubernetes-list-type": "map",
                                                   "x-kubernetes-list-map-keys": ["name"]},
                                description="The boards to crawl (1 to 500, names unique).")
    filters: Filters | None = Field(None, description="Which postings to keep.")
    store: Store = Field(default_factory=_default_store,
                         json_schema_extra={"default": {"sqlite": {}}},
                         description="Where postings are kept (default: sqlite).")
    notify: list[Notify] = Field(default_factory=list, max_length=20,
                                 json_schema_extra={"x-kubernetes-list-type": "map",
                                                    "x-kubernetes-list-map-keys": ["name"]},
                                 description="Where to send changes.")
    run: Run = Field(default_factory=Run, json_schema_extra={"default": {}},
                     description="Settings of each run's pod.")

    @model_validator(mode="after")
    def _checks(self) -> JobSourceSpec:
        names = [b.name for b in self.boards]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"board names must be unique; repeated: {', '.join(dupes)}")
        if self.run.shards > 1 and self.store.postgres is None:
            raise ValueError("run.shards > 1 needs store.postgres")
        return self

    def to_wire(self) -> dict[str, Any]:
        """The spec as it looks in YAML (camelCase)."""
        return self.model_dump(by_alias=True, exclude_none=True)
