"""Sanitiser benchmark (prints figures; not a test): is any HTML sanitiser on PyPI at least
twice as fast as nh3 (what the parse path uses) while still correct?

Each library sanitises the descriptions of the Lever and Greenhouse fixtures (built as the
adapters build them; and the two Lever ones joined, about the size of the scaled payloads'),
with an allowlist like ammonia's defaults (nh3's): script and style dropped with their
content, event handlers and javascript: links dropped, output well formed. Figures are CPU
microseconds per description, best of --reps, and the ratio to nh3.Cleaner().clean in the same
run (under 0.50x would be twice as fast). A hostile snippet checks each one's output. Text-only
extractors (no sanitised HTML) are timed beside them.

The libraries live in a virtualenv of their own (bench/.venv-sanitisers, created on first use;
none is a project dependency): the script re-runs itself there.

    .venv/bin/python bench/sanitiser_bench.py
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any

from benchvenv import ensure_venv

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "boards"
VENV = REPO / "bench" / ".venv-sanitisers"
PACKAGES = ("nh3", "selectolax", "lxml", "lxml_html_clean", "html-sanitizer", "bleach",
            "justhtml", "markupever", "resiliparse", "python-lolhtml")


if os.environ.get("SANITISER_BENCH_INNER") != "1":  # the project's python: run in the venv
    venv_python, _ = ensure_venv(VENV, PACKAGES, "import nh3, selectolax, lxml_html_clean")
    sys.exit(subprocess.run([str(venv_python), __file__, *sys.argv[1:]], check=False,
                            env={**os.environ, "SANITISER_BENCH_INNER": "1"}).returncode)

import nh3  # noqa: E402 - only in the benchmark's venv

# ------------------------------------------------------------------------------ inputs

def lever_descriptions() -> list[str]:
    """The Lever fixture's descriptions as the adapter joins them (lever._description)."""
    items = json.loads((FIX / "lever_postings.json").read_text(encoding="utf-8"))
    out = []
    for it in items:
        s = it.get("description") or ""
        for e in it.get("lists") or []:
            if e.get("content"):
                head = html.escape(e.get("text") or "")
                s += f"<h3>{head}</h3><ul>{e['content']}</ul>"
        s += it.get("additional") or ""
        out.append(s)
    return out


def greenhouse_descriptions() -> list[str]:
    """The Greenhouse fixture's descriptions (entity-escaped in the payload), unescaped."""
    d = json.loads((FIX / "greenhouse_jobs_content.json").read_text(encoding="utf-8"))
    return [html.unescape(j["content"]) for j in d["jobs"]]


HOSTILE = ('<script>alert(1)</script><p onclick="x()">hi</p><a href="javascript:alert(1)">l</a>'
           '<img src=x onerror=alert(1)><style>p{}</style><iframe src=//evil></iframe>')
ESCAPE_PROBE = '<p title="a&quot;b">1 &lt; 2 &amp; 3 > 0 "q"</p><!-- c --><div>x'

# ------------------------------------------------------------------------------ policy

ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS)           # ammonia's defaults
GENERIC_ATTRS = frozenset({"lang", "title"})          # ammonia's generic_attributes
TAG_ATTRS = {t: frozenset(nh3.ALLOWED_ATTRIBUTES.get(t, ())) | GENERIC_ATTRS for t in ALLOWED_TAGS}
ALL_ATTRS = frozenset().union(*TAG_ATTRS.values())
URL_ATTRS = frozenset({"href", "src", "cite"})
SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES)
DROP_CONTENT = ["script", "style"]                    # ammonia's clean_content_tags
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_JUNK = str.maketrans("", "", "\t\n\r")           # browsers drop these inside URLs


def url_ok(v: str) -> bool:
    m = _SCHEME.match(v.translate(_URL_JUNK).strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
                                                    "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
                                                    "\x19\x1a\x1b\x1c\x1d\x1e\x1f"))
    return m is None or m.group(1).lower() in SCHEMES


# ------------------------------------------------------------------------------ sanitisers
SANITISERS: dict[str, Callable[[str], str]] = {}
TEXT_EXTRACTORS: dict[str, Callable[[str], str]] = {}
NOTES: dict[str, str] = {}
FAILED: dict[str, str] = {}

_nh3_cleaner = nh3.Cleaner()                          # exactly what the project does
SANITISERS["nh3 Cleaner().clean (project)"] = _nh3_cleaner.clean
SANITISERS["nh3.clean (module fn)"] = nh3.clean

try:
    from selectolax.lexbor import LexborHTMLParser

    _NOT_ALLOWED = "*:not(" + ", ".join(sorted(ALLOWED_TAGS)) + ")"
    # a comment node can only come from "<!", "<?" or "</" + non-letter in the source
    _COMMENT_RISK = re.compile(r"<(?:[!?]|/[^A-Za-z])")

    def selectolax_clean(h: str) -> str:
        # Fastest correct form found: C removes script/style with content, then ONE per-node
        # Python walk (unwrap disallowed, drop comments, filter attributes). A variant with
        # C-side css(":not(allowlist)") selection + unwrap was ~2x slower (selector compile
        # cost per call). There is no C-side attribute allowlist in selectolax.
        p = LexborHTMLParser(h, is_fragment=True)
        p.strip_tags(DROP_CONTENT)
        root = p.root
        if root is None:
            return ""
        for n in list(root.traverse(include_text=True)):
            tag = n.tag
            if tag == "-text":
                continue
            if tag == "-comment":
                n.decompose()
                continue
            if tag not in ALLOWED_TAGS:
                n.unwrap(delete_empty=True)           # without delete_empty an EMPTY tag is kept!
                continue
            attrs = n.attributes
            if attrs:
                ok = TAG_ATTRS[tag]
                for k, v in attrs.items():
                    if k not in ok or (k in URL_ATTRS and not url_ok(v or "")):
                        del n.attrs[k]
            if tag == "a":
                n.attrs["rel"] = "noopener noreferrer"   # as ammonia's default link_rel
        return p.html or ""

    SANITISERS["selectolax/lexbor (py per-node walk)"] = selectolax_clean

    def selectolax_floor(h: str) -> str:
        return LexborHTMLParser(h, is_fragment=True).html or ""

    TEXT_EXTRACTORS["FLOOR: selectolax parse+serialise only (no sanitising)"] = selectolax_floor

    def selectolax_text(h: str) -> str:
        return LexborHTMLParser(h).text(separator="\n")

    def selectolax_text_noscript(h: str) -> str:
        p = LexborHTMLParser(h)
        p.strip_tags(DROP_CONTENT)
        return p.text(separator="\n")

    TEXT_EXTRACTORS["selectolax LexborHTMLParser(h).text('\\n')"] = selectolax_text
    TEXT_EXTRACTORS["selectolax + strip_tags(script,style) + text"] = selectolax_text_noscript
except Exception as e:  # pragma: no cover
    FAILED["selectolax"] = repr(e)

try:
    import lxml.html
    from lxml_html_clean import Cleaner as LxmlCleaner

    _lxml_cleaner = LxmlCleaner(
        scripts=True, javascript=True, comments=True, style=True, inline_style=True,
        links=True, meta=True, page_structure=True, processing_instructions=True,
        embedded=True, frames=True, forms=True, annoying_tags=True,
        remove_unknown_tags=False, allow_tags=ALLOWED_TAGS,
        safe_attrs_only=True, safe_attrs=ALL_ATTRS, add_nofollow=False,
    )
    SANITISERS["lxml_html_clean Cleaner(allow_tags, safe_attrs)"] = _lxml_cleaner.clean_html

    def lxml_text(h: str) -> str:
        return lxml.html.fromstring(h).text_content()

    TEXT_EXTRACTORS["lxml.html.fromstring(h).text_content()"] = lxml_text
except Exception as e:
    FAILED["lxml_html_clean"] = repr(e)

try:
    from html_sanitizer import Sanitizer as HSSanitizer

    _hs = HSSanitizer()                               # its (restrictive) defaults
    SANITISERS["html-sanitizer Sanitizer() defaults"] = _hs.sanitize
except Exception as e:
    FAILED["html-sanitizer"] = repr(e)

try:
    from bleach.sanitizer import Cleaner as BleachCleaner

    _bleach = BleachCleaner(
        tags=ALLOWED_TAGS,
        attributes={"*": sorted(GENERIC_ATTRS), **{t: sorted(a) for t, a in TAG_ATTRS.items()}},
        protocols=SCHEMES, strip=True, strip_comments=True,
    )
    SANITISERS["bleach Cleaner(tags, attrs, strip=True)"] = _bleach.clean
except Exception as e:
    FAILED["bleach"] = repr(e)

try:
    from justhtml import JustHTML

    def justhtml_clean(h: str) -> str:
        return JustHTML(h, fragment=True, sanitize=True).to_html(pretty=False)

    SANITISERS["justhtml sanitize=True (DEFAULT_POLICY)"] = justhtml_clean
except Exception as e:
    FAILED["justhtml"] = repr(e)

try:
    import markupever
    from markupever.dom import Comment as MXComment
    from markupever.dom import Element as MXElement
    from markupever.dom import Ordering

    def markupever_clean(h: str) -> str:
        dom = markupever.parse(h)
        body = dom.select_one("body")
        nodes = list(body.descendants())
        for n in nodes[1:]:                           # per-node Python loop (no C-side ops)
            if isinstance(n, MXElement):
                name = n.name.local
                if name in ("script", "style"):
                    n.detach()
                    continue
                if name not in ALLOWED_TAGS:
                    for c in list(n.children()):
                        n.attach(c, ordering=Ordering.BEFORE)
                    n.detach()
                    continue
                attrs = n.attrs
                if len(attrs):
                    ok = TAG_ATTRS[name]
                    for k, v in list(attrs.items()):
                        if k.local not in ok or (k.local in URL_ATTRS and not url_ok(v)):
                            attrs.remove(k)
                if name == "a":
                    attrs.append("rel", "noopener noreferrer")
            elif isinstance(n, MXComment):
                n.detach()
        return body.serialize(include_self=False)

    SANITISERS["markupever (html5ever) + py tree walk"] = markupever_clean
except Exception as e:
    FAILED["markupever"] = repr(e)

try:
    from resiliparse.extract.html2text import extract_plain_text

    TEXT_EXTRACTORS["resiliparse extract_plain_text(h)"] = extract_plain_text
except Exception as e:
    FAILED["resiliparse"] = repr(e)

try:
    import lolhtml  # python-lolhtml: lol-html with Python callbacks

    class _LolSan:
        def element(self, el):
            name = el.tag_name
            if name in ("script", "style"):
                el.remove()
                return
            if name not in ALLOWED_TAGS:
                el.remove_and_keep_content()
                return
            ok = TAG_ATTRS[name]
            for k, v in el.attributes:
                if k not in ok or (k in URL_ATTRS and not url_ok(v)):
                    el.remove_attribute(k)

        def comments(self, c):
            c.remove()

        def text(self, t):
            pass

    _lol_san = _LolSan()

    class _LolDoc:
        def doctype(self, d):
            pass

        def comments(self, c):
            c.remove()

        def text(self, t):
            pass

        def end(self, e):
            pass

    _lol_doc = _LolDoc()

    def lolhtml_clean(h: str) -> str:
        out = []
        rw = lolhtml.HTMLRewriter(out.append)
        rw.on("*", _lol_san)
        rw.on_document(_lol_doc)
        rw.write(h.encode())
        rw.end()
        return b"".join(bytes(c) for c in out).decode()

    SANITISERS["python-lolhtml (lol-html, py callback/element)"] = lolhtml_clean
    NOTES["python-lolhtml (lol-html, py callback/element)"] = (
        "streaming rewriter, no tree builder: output is NOT re-balanced/well-formed")
except Exception as e:
    FAILED["python-lolhtml"] = repr(e)


# ------------------------------------------------------------------------------ checks
_TAG = re.compile(r"<[^>]*>")


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class _Balance(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.bad = [], False

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.bad = True


def _balanced(s: str) -> bool:
    b = _Balance()
    b.feed(s)
    b.close()
    return not b.bad and not b.stack and not re.search(r'<[a-z]+ [^>]*=[^"\'][^>]*>', s)


def hostile_check(fn) -> dict:
    try:
        o = fn(HOSTILE)
        probe = fn(ESCAPE_PROBE)
    except Exception as e:
        return {"error": repr(e)}
    low = o.lower()
    text = _TAG.sub("", o)
    tags = " ".join(_TAG.findall(o)).lower()
    r = {
        "script": "<script" not in low and "alert(1)" not in text,
        "style": "<style" not in low and "p{}" not in text,
        "on*": re.search(r"\son[a-z]+\s*=", tags) is None,
        "javascript:": "javascript:" not in low,
        "iframe": "<iframe" not in low,
        "escapes": "&lt;" in probe and "&amp;" in probe and "<!--" not in probe,
    }
    r["well-formed"] = _balanced(o) and _balanced(probe)
    r["ok"] = all(r.values())
    r["out"] = o
    r["probe_out"] = probe
    return r


# ------------------------------------------------------------------------------ timing

def bench(fn: Callable[[str], str], docs: list[str], reps: int, target: float) -> float:
    """CPU µs per description: best of `reps` repetitions of enough passes to last `target` s."""
    for d in docs:  # warm-up
        fn(d)
    t0 = time.process_time()
    k = 0
    while time.process_time() - t0 < 0.05:
        for d in docs:
            fn(d)
        k += 1
    per_pass = (time.process_time() - t0) / k
    passes = max(1, int(target / per_pass))
    best = float("inf")
    gc.collect()
    for _ in range(reps):
        t0 = time.process_time()
        for _ in range(passes):
            for d in docs:
                fn(d)
        best = min(best, time.process_time() - t0)
    return best / (passes * len(docs)) * 1e6


def versions() -> dict[str, str]:
    """The installed version of each library."""
    out = {"python": sys.version.split()[0]}
    for p in ["nh3", "selectolax", "lxml", "lxml_html_clean", "html-sanitizer", "bleach",
              "html5lib",
              "justhtml", "resiliparse", "markupever", "python-lolhtml", "lol-html-py"]:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def main() -> None:
    """Time every library, then print the table and each one's output of the hostile snippet."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--target", type=float, default=0.25, help="CPU seconds per repetition")
    ap.add_argument("--json")
    a = ap.parse_args()

    lever = lever_descriptions()
    gh = greenhouse_descriptions()
    lever_long = ["".join(lever)]                     # ~5.2 KB, near the ~5.8 KB production size
    sets = {"lever": lever, "greenhouse": gh, "lever_concat": lever_long}
    sizes = {k: [len(d.encode()) for d in v] for k, v in sets.items()}
    print("versions:", json.dumps(versions()))
    for k, s in sizes.items():
        print(f"input {k}: n={len(s)} mean={sum(s)/len(s):.0f} B min={min(s)} max={max(s)}")
    if FAILED:
        print("unavailable:", FAILED)

    results: dict[str, dict[str, Any]] = {}
    for kind, table in (("sanitiser", SANITISERS), ("text", TEXT_EXTRACTORS)):
        for name, fn in table.items():
            row = {"kind": kind}
            for sname, docs in sets.items():
                try:
                    row[sname] = bench(fn, docs, a.reps, a.target)
                except Exception as e:
                    row[sname] = None
                    row.setdefault("errors", {})[sname] = repr(e)
            if kind == "sanitiser":
                row["hostile"] = hostile_check(fn)
            results[name] = row
            print(f"  {name}: " + ", ".join(
                f"{s}={row[s]:.1f}us" if row[s] is not None else f"{s}=ERR" for s in sets),
                  flush=True)

    base = results["nh3 Cleaner().clean (project)"]
    print()
    hdr = (f"| {'library':52} | lever µs | gh µs | lever2x µs | ratio lever | ratio gh "
           "| ratio lever2x | hostile |")
    print(hdr)
    print("|" + "---|" * 9)
    for name, row in results.items():
        def f(s: str, row: dict[str, Any] = row) -> str:
            return f"{row[s]:.1f}" if row[s] is not None else "ERR"

        def r(s: str, row: dict[str, Any] = row) -> str:
            return f"{row[s] / base[s]:.2f}x" if row[s] is not None else "-"
        if row["kind"] == "sanitiser":
            h = row["hostile"]
            hs = "error" if "error" in h else ("PASS" if h["ok"] else "FAIL: " + ",".join(
                k for k in ("script", "style", "on*", "javascript:", "iframe", "escapes",
                            "well-formed")
                if not h[k]))
        else:
            hs = "n/a (text only)"
        print(f"| {name:52} | {f('lever')} | {f('greenhouse')} | {f('lever_concat')} | "
              f"{r('lever')} | {r('greenhouse')} | {r('lever_concat')} | {hs} |")
    print("\n(ratio = library time / nh3 Cleaner().clean time, same run; < 0.5x would be "
          ">= 2x faster)")
    print("\nhostile-set outputs:")
    for name, row in results.items():
        if row["kind"] == "sanitiser":
            h = row["hostile"]
            out = h.get("out", h.get("error"))
            print(f"  {name}:\n    {out!r}\n    probe: {h.get('probe_out')!r}")
    if a.json:
        Path(a.json).write_text(json.dumps({"versions": versions(), "sizes": sizes,
                                            "results": results, "failed": FAILED},
                                           indent=1, default=str))


if __name__ == "__main__":
    main()
