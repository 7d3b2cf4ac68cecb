"""schema.org JobPostings in a page's microdata and RDFa, in JSON-LD's shape, for boards/jsonld.

A helper of the `jsonld` board type, not a board type itself (no first_url/parse).

Both are read with extruct, which jsonld.py already loads for JSON-LD (importing any part of
extruct imports all of it, rdflib and pyRdfa included), so they cost no import time:

- microdata (itemscope/itemtype/itemprop) with MicrodataExtractor: items nest (JobPosting →
  jobLocation → Place → address → PostalAddress; baseSalary → MonetaryAmount → value →
  QuantitativeValue); a property may be text (`hiringOrganization` as a plain string in
  `<meta content>`, as SAP SuccessFactors pages do). An item becomes a dict with `@type`, `@id`
  (its itemid) and its properties under their names (a full schema.org IRI is shortened); an
  item without properties stands for its text. extruct gives a property's text only, so a
  JobPosting's `description` element is taken as HTML (its inner markup) instead. Links in
  `<a href>` and the like come resolved against the page URL. SuccessFactors pages put the
  apply link outside the microdata, as `a.apply[href]` (relative) inside the JobPosting's
  element: that link is the posting's apply link.
- RDFa (vocab/typeof/property) with RDFaExtractor, only on pages where a `typeof` names
  JobPosting: its expanded JSON-LD (one node per subject, values as `{"@value"}` or
  `{"@id"}` lists) is folded back into nested dicts, schema.org properties only. RDFa's
  description is text. Postings come in rdflib's order, not the page's.

Bounds. extruct computes every property's text eagerly (copying and cleaning its element's
subtree), follows `itemref` once per reference and recurses per nested item; unguarded, a
56 KB page of 1,000 items referring to 1,000 properties took 50 s, 100 property elements
nested around 1.6 MB of text 93 s, and 250 nested items overflowed Python's stack. So
microdata is read only from pages of at most MAX_MARKUP_BYTES, with at most MAX_ELEMENTS
itemscope/itemprop elements, items nested at most MAX_ITEM_DEPTH deep, property elements at
most MAX_PROPERTY_NESTING inside each other, at most MAX_REFERENCES itemref references to at
most MAX_REFERENCED elements in all. RDFa (about 1.5 µs per byte of page) is read from pages of
at most MAX_MARKUP_BYTES. A page over a bound, or one the extractor fails on, raises
ParseError: its microdata or RDFa is unreadable (jsonld.py decides what that costs).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_xmldom_html
from extruct.w3cmicrodata import MicrodataExtractor

from jobscrape.boards.base import ParseError
from jobscrape.boards.normalise import UNEXPECTED, as_str

#: Pages larger than this are not read for microdata or RDFa (bytes).
MAX_MARKUP_BYTES = 2 * 1024 * 1024
#: Elements with itemscope or itemprop on a page.
MAX_ELEMENTS = 20_000
#: Items inside items (a JobPosting's Place's PostalAddress is 2 deep).
MAX_ITEM_DEPTH = 16
#: Property elements (not items) inside other property elements.
MAX_PROPERTY_NESTING = 3
#: itemref references on a page, and the elements they bring in, in all.
MAX_REFERENCES = 16
MAX_REFERENCED = 5_000
#: How deep RDFa's references are followed when folding nodes into nested dicts, and how
#: many nodes are folded in all.
MAX_RDFA_DEPTH = 16
MAX_RDFA_FOLDS = 5_000

_SCHEMA = ("http://schema.org/", "https://schema.org/")
_AN_ITEM = lxml.etree.XPath("(//*[@itemscope])[1]")
_COUNT = lxml.etree.XPath("count(//*[@itemscope or @itemprop])")
_TOO_DEEP = lxml.etree.XPath("(//*[@itemscope][count(ancestor::*[@itemscope]) >= $n])[1]")
_NESTED_PROPERTY = lxml.etree.XPath(
    "(//*[@itemprop][count(ancestor::*[@itemprop][not(@itemscope)]) >= $n])[1]"
)
_REFERRERS = lxml.etree.XPath("//*[@itemref]")
_REFERENCED = lxml.etree.XPath("count(id($ref)/descendant-or-self::*)")
_OWN_PROPERTIES = lxml.etree.XPath(".//*[@itemprop]")
_NEAREST_ITEM = lxml.etree.XPath("ancestor::*[@itemscope][1]")
_APPLY_LINK = lxml.etree.XPath(
    '(.//a[@href][contains(concat(" ", normalize-space(@class), " "), " apply ")])[1]/@href'
)
_PROPERTY_LINKS = lxml.etree.XPath("//*[@itemprop or @itemscope][@href or @src or @data]")
_LINKS = lxml.etree.XPath("//*[@href or @src or @data or @resource or @about]")
_LINK_ATTRIBUTES = ("href", "src", "data", "resource", "about")
# What lxml refuses to set as text (C0 controls but tab and line breaks, U+FFFE, U+FFFF)
# although its HTML parser keeps them.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RDFA_JOB = lxml.etree.XPath('(//*[@typeof][contains(@typeof, "JobPosting")])[1]')
_TEXT_TAGS = frozenset(("meta", "a", "area", "link", "audio", "embed", "iframe", "img",
                        "source", "track", "video", "object", "data", "meter", "time"))


@dataclass(frozen=True, slots=True)
class Found:
    """One JobPosting of the page: its properties in JSON-LD's shape, and an apply link found
    beside them (an absolute http(s) URL, or None)."""

    fields: dict[str, Any]
    apply_url: str | None = None


def is_job_posting(node: Mapping[str, Any]) -> bool:
    """Whether a JSON-LD-shaped node's @type names JobPosting (bare, prefixed or as an IRI)."""
    kinds = node.get("@type")
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if isinstance(kind, str) and kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting":
            return True
    return False


def web_link(base: str, ref: str | None) -> str | None:
    """`ref` resolved against `base` when that gives an http(s) URL with a host; None for no
    ref, another scheme (javascript:, data:, mailto:...) or one urljoin cannot read."""
    if not ref:
        return None
    try:
        link = urljoin(base, ref.strip())
        parts = urlsplit(link)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 host)
        return None
    return link if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _replace_unreadable_links(elements: list[Any], base: str) -> None:
    """Links urljoin cannot read (e.g. "http://[::1", an unclosed IPv6 host) would fail the
    extractors on the whole page: each becomes "about:invalid", which no step keeps."""
    for el in elements:
        for name in _LINK_ATTRIBUTES:
            value = el.get(name)
            if value is None:
                continue
            try:
                urljoin(base, value.strip())
            except ValueError:
                el.set(name, "about:invalid")


def _replace_control_characters(tree: lxml.html.HtmlElement) -> None:
    """Control characters in the page's text become spaces: extruct's cleaner re-sets text
    when it removes an element (meta, style, a comment) and lxml refuses them there, which
    would fail the extraction of the whole page (a form feed pasted into a description)."""
    for node in tree.iter():
        if node.text and _CONTROL.search(node.text):
            node.text = _CONTROL.sub(" ", node.text)
        if node.tail and _CONTROL.search(node.tail):
            node.tail = _CONTROL.sub(" ", node.tail)


# ----------------------------------------------------------------------------- microdata


def microdata_jobs(tree: lxml.html.HtmlElement, body_size: int, page_url: str) -> list[Found]:
    """The page's microdata JobPostings, in document order (nested ones included); [] when
    the page has no microdata. ParseError when the microdata is over a bound or unreadable.
    The tree is changed on the way: unreadable links and control characters replaced."""
    if not _AN_ITEM(tree):
        return []
    _check_microdata(tree, body_size)
    _replace_unreadable_links(_PROPERTY_LINKS(tree), page_url)
    _replace_control_characters(tree)
    try:
        items = MicrodataExtractor(add_html_node=True).extract_items(tree, page_url)
    except (lxml.etree.LxmlError, *UNEXPECTED) as e:
        raise ParseError(f"microdata could not be read: {type(e).__name__}") from None
    found: list[Found] = []
    for item in _job_items(items):
        fields = _item(item, 0)
        if not isinstance(fields, dict):
            continue
        node = item.get("htmlNode")
        apply_url = None
        if isinstance(node, lxml.html.HtmlElement):
            body_html = _description_html(node)
            if body_html is not None:
                fields["description"] = body_html
            links = _APPLY_LINK(node)
            apply_url = web_link(page_url, str(links[0])) if links else None
        found.append(Found(fields, apply_url))
    return found


def _check_microdata(tree: lxml.html.HtmlElement, body_size: int) -> None:
    """ParseError naming the first bound the page's microdata is over."""
    if body_size > MAX_MARKUP_BYTES:
        raise ParseError(f"microdata not read: page larger than {MAX_MARKUP_BYTES} bytes")
    if _COUNT(tree) > MAX_ELEMENTS:
        raise ParseError(f"microdata not read: more than {MAX_ELEMENTS} items and properties")
    if _TOO_DEEP(tree, n=MAX_ITEM_DEPTH):
        raise ParseError(f"microdata not read: items nested more than {MAX_ITEM_DEPTH} deep")
    if _NESTED_PROPERTY(tree, n=MAX_PROPERTY_NESTING):
        raise ParseError(
            f"microdata not read: properties nested more than {MAX_PROPERTY_NESTING} deep"
        )
    refs = [ref for el in _REFERRERS(tree) for ref in (el.get("itemref") or "").split()]
    if len(refs) > MAX_REFERENCES:
        raise ParseError(f"microdata not read: more than {MAX_REFERENCES} itemref references")
    if sum(_REFERENCED(tree, ref=ref) for ref in refs) > MAX_REFERENCED:
        raise ParseError(
            f"microdata not read: itemref brings in more than {MAX_REFERENCED} elements"
        )


def _job_items(items: list[Any]) -> Iterator[Mapping[str, Any]]:
    """extruct's JobPosting items anywhere in its output, in document order (a JobPosting's
    own properties are not searched further)."""
    stack: list[Any] = list(reversed(items))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if is_job_posting({"@type": node.get("type")}):
                yield node
            else:
                props = node.get("properties")
                if isinstance(props, dict):
                    stack.extend(reversed(list(props.values())))


def _item(value: object, depth: int) -> Any:
    """extruct's value in JSON-LD's shape: an item as a dict (@type, @id, its properties), an
    item without properties as its text, a list element by element, text as is."""
    if depth > 2 * MAX_ITEM_DEPTH:  # itemref can graft items deeper than the page nests them
        return None
    if isinstance(value, list):
        return [_item(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    props = value.get("properties")
    if not isinstance(props, dict):
        text = value.get("value")
        return text if isinstance(text, str) else None
    out: dict[str, Any] = {}
    if "type" in value:
        out["@type"] = value["type"]
    if isinstance(value.get("id"), str):
        out["@id"] = value["id"]
    for name, prop in props.items():
        out[_local(name)] = _item(prop, depth + 1)
    return out


def _local(name: str) -> str:
    """A schema.org IRI shortened to the property's name; any other name as is."""
    for prefix in _SCHEMA:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _description_html(item: lxml.html.HtmlElement) -> str | None:
    """The inner HTML of the item's own `description` property element; None when it has
    none, or when its value is an attribute (meta content and the like), as extruct read it."""
    for el in _OWN_PROPERTIES(item):
        if "description" not in (el.get("itemprop") or "").split():
            continue
        owner = _NEAREST_ITEM(el)
        if not owner or owner[0] != item:
            continue
        if el.get("itemscope") is not None or el.tag in _TEXT_TAGS or el.get("content"):
            return None
        inner = [html.escape(el.text or "", quote=False)]
        inner += [lxml.html.tostring(child, encoding="unicode") for child in el]
        return "".join(inner)
    return None


# ----------------------------------------------------------------------------- RDFa


def rdfa_jobs(tree: lxml.html.HtmlElement, body: bytes, page_url: str) -> list[Found]:
    """The page's RDFa JobPostings; [] unless some `typeof` names JobPosting. ParseError
    when the page is over MAX_MARKUP_BYTES or its RDFa cannot be read."""
    if not _RDFA_JOB(tree):
        return []
    if len(body) > MAX_MARKUP_BYTES:
        raise ParseError(f"RDFa not read: page larger than {MAX_MARKUP_BYTES} bytes")
    try:
        dom = parse_xmldom_html(body, "UTF-8")
        _replace_unreadable_links(_LINKS(dom), page_url)
        nodes = RDFaExtractor().extract_items(dom, page_url)
    except Exception as e:  # pyRdfa and rdflib on any page: anything may fail
        raise ParseError(f"RDFa could not be read: {type(e).__name__}") from None
    if not isinstance(nodes, list):
        raise ParseError("RDFa could not be read: not a list of nodes")
    by_id = {n["@id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("@id"), str)}
    folder = _Folder(by_id)
    return [Found(folder.fold(node, ())) for node in nodes
            if isinstance(node, dict) and _is_rdfa_job(node)]


def _is_rdfa_job(node: Mapping[str, Any]) -> bool:
    """Whether an RDFa node is a schema.org JobPosting (typeof="JobPosting" under
    vocab="http://schema.org/", or a schema: prefix)."""
    kinds = [k for k in _listed(node.get("@type")) if isinstance(k, str) and k.startswith(_SCHEMA)]
    return is_job_posting({"@type": kinds})


def _listed(value: object) -> list[Any]:
    """The value as a list (a list as is, anything else as its only element)."""
    return value if isinstance(value, list) else [value]


class _Folder:
    """Folds expanded JSON-LD nodes into nested dicts: schema.org properties by name, a lone
    value unwrapped from its list, `{"@value"}` as the value, `{"@id"}` as the node it names
    (followed at most MAX_RDFA_DEPTH deep, never round a cycle) or else as the IRI. A node
    named many times is folded each time: at most MAX_RDFA_FOLDS in all (ParseError past it),
    so shared nodes cannot multiply the work."""

    def __init__(self, by_id: Mapping[str, Any]) -> None:
        self.by_id = by_id
        self.folds = 0

    def fold(self, node: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        """The node as a dict; `path` holds the ids of the nodes it is folded into."""
        self.folds += 1
        if self.folds > MAX_RDFA_FOLDS:
            raise ParseError(f"RDFa not read: more than {MAX_RDFA_FOLDS} nodes to fold")
        out: dict[str, Any] = {
            "@type": [k for k in _listed(node.get("@type")) if isinstance(k, str)]
        }
        node_id = node.get("@id")
        if isinstance(node_id, str) and not node_id.startswith("_:"):
            out["@id"] = node_id
        here = (*path, node_id) if isinstance(node_id, str) else path
        for key, values in node.items():
            if not isinstance(key, str) or not key.startswith(_SCHEMA):
                continue
            kept = [v for v in (self.value(v, here) for v in _listed(values)) if v is not None]
            if kept:
                out[_local(key)] = kept[0] if len(kept) == 1 else kept
        return out

    def value(self, value: object, path: tuple[str, ...]) -> Any:
        """One value of a property, folded."""
        if not isinstance(value, dict):
            return None
        if "@value" in value:
            return value["@value"]
        if "@list" in value and len(path) < MAX_RDFA_DEPTH:
            return [self.value(v, (*path, "@list")) for v in _listed(value["@list"])]
        ref = value.get("@id")
        if not isinstance(ref, str):
            return None
        target = self.by_id.get(ref)
        if isinstance(target, dict) and ref not in path and len(path) < MAX_RDFA_DEPTH:
            return self.fold(target, path)
        return None if ref.startswith("_:") else as_str(ref)
