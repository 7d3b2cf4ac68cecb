from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobscrape.boards import feed
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

FIXTURE = "rss_jobs.xml"
URL = "https://weworkremotely.com/remote-jobs.rss"
BOARD = BoardRef(name="wwr", type="feed", url=URL)

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Acme jobs</title>
  <id>urn:acme:jobs</id>
  <updated>2026-03-02T10:00:00Z</updated>
  <entry>
    <title>Platform Engineer: Kubernetes</title>
    <id>urn:acme:job:42</id>
    <link href="/jobs/42"/>
    <author><name>Acme GmbH</name></author>
    <published>2026-03-01T09:00:00+01:00</published>
    <updated>2026-03-02T10:00:00Z</updated>
    <content type="html">&lt;p&gt;Run &lt;b&gt;clusters&lt;/b&gt;&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_first_url_is_board_url() -> None:
    assert feed.first_url(BOARD) == URL


def test_first_url_requires_url() -> None:
    with pytest.raises(ValueError, match="url is required"):
        feed.first_url(BoardRef(name="x", type="feed"))


def test_fixture_first_item_field_by_field(fixture_bytes) -> None:
    page = feed.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert len(page.postings) == 3
    p = page.postings[0]
    link = "https://weworkremotely.com/remote-jobs/contra-product-designer-contra-labs-network"
    assert p.id == f"feed:wwr:{link}"
    assert p.source_id == link  # the guid
    assert (p.board, p.board_type) == ("wwr", "feed")
    assert p.company == "Contra"  # "Contra: Product Designer | Contra Labs Network"
    assert p.title == "Product Designer | Contra Labs Network"
    assert p.url == link
    assert p.apply_url is None
    assert p.department == "Design"  # <category>
    assert p.locations == ("Anywhere in the World",)  # <region>
    assert p.remote is Remote.TRUE
    assert p.employment_type is EmploymentType.CONTRACT  # <type>Contract</type>
    assert p.salary is None
    assert p.posted_at == datetime(2026, 3, 27, 20, 20, 27, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        '<img src="https://we-work-remotely.imgix.net/logos/0083/5744/logo.gif?'
    )
    assert '<a href="http://bit.ly/3kLhMdk" rel="noopener noreferrer">' in p.description_html
    assert p.description_text == (
        "Headquarters: San Francisco, CA\n"
        "URL: http://bit.ly/3kLhMdk\n"
        "To apply: " + link
    )
    assert p.content_hash == content_hash(p) != ""


def test_fixture_other_items(fixture_bytes) -> None:
    _, second, third = feed.parse(fixture_bytes(FIXTURE), BOARD, URL).postings
    assert (second.company, second.title) == ("Animalz", "Associate Head of Content, SEO")
    assert second.department == "Sales and Marketing"
    assert second.employment_type is EmploymentType.FULL_TIME
    assert second.posted_at == datetime(2026, 3, 27, 19, 4, 37, tzinfo=UTC)
    assert (third.company, third.title) == ("EventMobi", "Senior Front End Engineer - Remote")


def test_atom_entry() -> None:
    p = feed.parse(ATOM, BoardRef(name="acme", type="feed", url="https://acme.test/jobs.atom"),
                   "https://acme.test/jobs.atom").postings[0]
    assert p.source_id == "urn:acme:job:42"
    assert p.company == "Acme GmbH"  # the author; the title is not split
    assert p.title == "Platform Engineer: Kubernetes"
    assert p.url == "https://acme.test/jobs/42"  # resolved against the feed URL
    assert p.posted_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert p.updated_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert p.description_html == "<p>Run <b>clusters</b></p>"
    assert p.remote is Remote.UNKNOWN


def test_empty_channel() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert feed.parse(body, BOARD, URL).postings == []


def test_untitled_items_are_skipped() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><description>no title</description><guid isPermaLink=\"false\">j-1</guid></item>"
        b"<item><title>Titled</title><guid isPermaLink=\"false\">j-2</guid></item></channel></rss>"
    )
    assert [p.source_id for p in feed.parse(body, BOARD, URL).postings] == ["j-2"]


def test_sloppy_but_complete_feed_is_read() -> None:
    body = (
        b'<rss version="2.0"><channel><title>R&D jobs</title>'
        b"<item><title>Engineer</title><guid>1</guid></item></channel></rss>\n"
    )
    assert [p.title for p in feed.parse(body, BOARD, URL).postings] == ["Engineer"]


def test_external_entities_are_not_resolved() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>Job &x;</title><guid>1</guid></item></channel></rss>"
    )
    titles = [p.title for p in feed.parse(body, BOARD, URL).postings]
    assert titles in ([], ["Job"])  # the entity is dropped (with the item or just itself)


@pytest.mark.parametrize("cut", [200, 1500, 3000, 4600, 4690])
def test_truncated_feed_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="truncated"):
        feed.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage", b'{"jobs": []}', b"<html><body>hi</body></html>", b"/etc/passwd",
     b"http://example.com/feed"],
)
def test_not_a_feed_is_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="not an RSS or Atom feed"):
        feed.parse(body, BOARD, URL)
