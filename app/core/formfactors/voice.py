"""The voice form factor: a reply as it would be spoken, how long it takes, and what fails aloud.

A voice assistant reads plain sentences. Markdown marks, emoji and web addresses are either
read out symbol by symbol or skipped by a speech engine, so the preview strips them the way a
product would before sending text to speech: link text stays, the address goes; list items,
headings and table rows become sentences of their own.

Figures (sources are written next to each constant):
- speaking rate: `SPEAKING_WPM` words per minute;
- a "very long" sentence: more than `LONG_SENTENCE_WORDS` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.evals import textchecks as tc

SPEAKING_WPM = 150
"""Words per minute of conversational American English. Source: the National Center for Voice
and Speech figure (about 150 wpm), as quoted in "Average Speaking Rate and Words per Minute"
(VirtualSpeech, D. Barnard, 2022) and in Wikipedia's "Words per minute" (conversational English
about 150 wpm). Text-to-speech voices default to a similar pace."""

LONG_SENTENCE_WORDS = 25
"""A spoken sentence longer than this many words is flagged. Source: GOV.UK's style guide limit
("Sentence length: why 25 words is our limit", Inside GOV.UK, 2014), which cites studies rating
25-word sentences "difficult" to read; listening is harder still, since a listener cannot re-read."""

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
# Written so that no input backtracks badly: each run of spaces, brackets or marks can be matched
# one way only (bench/bench_formfactors.py times hostile inputs).
_TABLE_RULE_RE = re.compile(r"^[ \t]*(?:\|[ \t]*)?:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*(?:\|[ \t]*)?$")
_TABLE_ROW_RE = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*)$")
_RULE_RE = re.compile(r"^\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*$")
_QUOTE_RE = re.compile(r"^\s{0,3}>\s?")
_ITEM_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(?=\S)")

_TARGET = r"\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)"
"""A link target: the address (one level of parentheses allowed, as in Wikipedia's) and an optional title."""
_IMAGE_RE = re.compile(r"!\[([^\[\]\n]*)\]" + _TARGET)
_LINK_RE = re.compile(r"\[([^\[\]\n]+)\]" + _TARGET)
_AUTOLINK_RE = re.compile(r"<(?:https?://|mailto:)[^<>\s]+>")
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]*")
"""A bare web address (what `voice-friendly` and the `urls` flag look for). It may take a
trailing full stop or comma with it; `_url_and_tail` gives that back."""
_URL_TAIL = ".,;:!?'\""
_CODE_SPAN_RE = re.compile(r"(?<!`)`+([^`\n]+?)`+")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC_RE = re.compile(
    r"(?<![*\w])\*(?![\s*])([^*\n]+?)(?<!\s)\*(?!\*)|(?<![_\w])_(?![\s_])([^_\n]+?)(?<!\s)_(?![_\w])"
)
_STRIKE_RE = re.compile(r"~~(.+?)~~")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^<>\n]*>")
_EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\U0001F1E6-\U0001F1FF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF"
    "\uFE0F\u200D\u20E3\u3030\u303D\u3297\u3299\U000E0020-\U000E007F]"
)
_SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<![ \t])[ \t]+([.,;:!?])")
_EMPTY_PARENS_RE = re.compile(r"\(\s*\)")
_WORDISH_RE = re.compile(r"[^\W_]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class VoiceFlag:
    """Something in a reply that does not work aloud, said so a designer understands why."""

    kind: str
    count: int
    reason: str
    example: str = ""


FLAG_REASONS: dict[str, str] = {
    "lists": "a list is heard as a run of fragments: the listener can't see where items start "
             "or how many are left",
    "tables": "a table has no spoken order: rows and columns turn into a string of values",
    "code": "code is read out symbol by symbol (or skipped) and can't be followed by ear",
    "links": "a link can't be tapped in speech: the listener hears its text but can't open it",
    "urls": "a web address read aloud is long and hard to remember; say where to find it instead",
    "long sentences": f"sentences over {LONG_SENTENCE_WORDS} words are hard to follow by ear",
}
"""Each voice flag's reason, by kind, in the order flags are reported."""


def spoken_text(markdown: str) -> str:
    """The reply as a speech engine should receive it: markdown marks, emoji and URLs removed,
    link and image text kept, list items, headings and table rows ended as sentences,
    paragraphs separated by a blank line."""
    paragraphs: list[list[str]] = [[]]
    for raw in markdown.splitlines():
        line = _spoken_line(raw)
        if line is None:
            continue
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line)
    text = "\n\n".join(" ".join(p) for p in paragraphs if p)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return "\n\n".join(part.strip() for part in text.split("\n\n") if part.strip())


def _spoken_line(raw: str) -> str | None:
    """One source line as spoken text; "" for a paragraph break, None to drop the line."""
    if _FENCE_RE.match(raw):
        return ""
    if _TABLE_RULE_RE.match(raw) or _RULE_RE.match(raw):
        return None
    line = _QUOTE_RE.sub("", raw)
    sentence = False
    if _TABLE_ROW_RE.match(line):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        line = ", ".join(c for c in cells if c)
        sentence = True
    elif heading := _HEADING_RE.match(line):
        line = _without_closing_hashes(heading.group(1))
        sentence = True
    elif _ITEM_RE.match(line):
        line = _ITEM_RE.sub("", line, count=1)
        sentence = True
    line = _inline(line).strip()
    if sentence and line and line[-1] not in ".!?:;,":
        line += "."
    return line


def _without_closing_hashes(heading: str) -> str:
    """`Title ##` -> `Title` (markdown's optional closing sequence), without a backtracking regex."""
    text = heading.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        return bare.rstrip()
    return text


def _url_tail(match: re.Match[str]) -> str:
    """A removed URL gives back the punctuation that ended its sentence."""
    url = match.group(0)
    return url[len(url.rstrip(_URL_TAIL)):]


def bare_urls(text: str) -> list[str]:
    """The web addresses in `text`, without trailing sentence punctuation."""
    return [u for u in (m.group(0).rstrip(_URL_TAIL) for m in URL_RE.finditer(text)) if u]


def _inline(text: str) -> str:
    text = _IMAGE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub("", text)
    text = URL_RE.sub(_url_tail, text)
    text = _CODE_SPAN_RE.sub(r"\1", text)
    text = _BOLD_RE.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC_RE.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRIKE_RE.sub(r"\1", text)
    text = _HTML_TAG_RE.sub(" ", text)
    text = _EMOJI_RE.sub("", text)
    text = _EMPTY_PARENS_RE.sub("", text)
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)


def spoken_words(text: str) -> int:
    """Words a voice says: whitespace-separated tokens holding a letter or a digit (a lone emoji,
    dash or bullet is not a word)."""
    return sum(1 for token in text.split() if _WORDISH_RE.search(token))


def speaking_seconds(text: str, wpm: float = SPEAKING_WPM) -> float:
    """Estimated seconds to say `text` (already spoken text: pass `spoken_text(reply)` for
    markdown) at `wpm` words per minute. Numbers and symbols said as several words make it an
    underestimate."""
    if wpm <= 0:
        raise ValueError(f"words per minute must be above 0 (got {wpm})")
    return spoken_words(text) * 60.0 / wpm


def long_sentences(text: str, limit: int = LONG_SENTENCE_WORDS) -> list[str]:
    """The sentences of spoken `text` longer than `limit` words."""
    sentences = (s for paragraph in text.split("\n\n") for s in _SENTENCE_END_RE.split(paragraph))
    return [s for s in sentences if spoken_words(s) > limit]


def voice_flags(markdown: str) -> list[VoiceFlag]:
    """What in a reply does not work aloud: lists, tables, code, links, bare URLs and very long
    sentences, each with a count, a reason and a short example."""
    flags: list[VoiceFlag] = []

    def add(kind: str, found: list[str]) -> None:
        if found:
            flags.append(VoiceFlag(kind, len(found), FLAG_REASONS[kind], tc.one_line(found[0].strip(), 40)))

    lines = markdown.splitlines()
    add("lists", [line for line in lines if tc.MARKDOWN_PATTERNS["list items"].match(line)])
    add("tables", [lines[i - 1] if i else line for i, line in enumerate(lines)
                   if _TABLE_RULE_RE.match(line) and "|" in line])
    fences = [line for line in lines if _FENCE_RE.match(line)][::2]
    add("code", fences + [m.group(0) for m in _CODE_SPAN_RE.finditer(_strip_fenced(markdown))])
    add("links", [m.group(0) for m in _LINK_RE.finditer(markdown)])
    without_links = _LINK_RE.sub("", _IMAGE_RE.sub("", markdown))
    add("urls", bare_urls(without_links))
    add("long sentences", long_sentences(spoken_text(markdown)))
    return flags


def _strip_fenced(markdown: str) -> str:
    """The markdown without fenced code blocks (so their backticks are not counted twice)."""
    kept: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if _FENCE_RE.match(line):
            inside = not inside
            continue
        if not inside:
            kept.append(line)
    return "\n".join(kept)
