"""The one sanitizer of HTML that a student wrote or made, before an instructor's or TA's browser shows it.

`clean` keeps what markdown produces (headings, paragraphs, lists, code, emphasis, tables, links to http(s),
relative and in-page URLs, the notebook's attached images (nbconvert embeds them as data URLs), LaTeX as text for
MathJax) and removes everything active: scripts, event handlers, `javascript:` and other URLs, any other image (one
from elsewhere tells its host who reads; a relative one is a same-origin request with the TA's cookies, such as
`/logout`), iframes, objects, forms, SVG and MathML, styles, ids (a student's id could stand in for one of
formgrader's own elements) and every class but code highlighting's (a student's `full-credit`, `modal-backdrop` or
`navbar-fixed-top` would wire formgrader's controls or the page's styles to the student's text). The cleaning is
nh3's (the Ammonia library's allow-list): this module only chooses the lists, and writes a short visible note where
it finds active content, so a TA sees that the student tried ("[removed by the grader: an onerror handler]"),
and gives an image without alt text NO_DESCRIPTION (`with_alt_text`, also for the grader's own image outputs).
"""
from __future__ import annotations

import html
import html.parser
import re

import nh3
from pygments.token import STANDARD_TYPES

TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "div", "span", "blockquote", "pre", "code", "kbd", "samp",
    "var", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr", "cite", "q",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup",
    "col", "a", "img", "details", "summary", "figure", "figcaption",
})
ATTRIBUTES = {"*": {"class", "title", "lang", "dir"}, "a": {"href"}, "img": {"src", "alt", "width", "height"},
              "th": {"colspan", "rowspan", "align"}, "td": {"colspan", "rowspan", "align"}, "ol": {"start"},
              "col": {"span"}, "colgroup": {"span"}}
# Removed with what they hold, not only their tags: their text is code or styles, never something to read.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template"})
# `data:` is accepted by nh3 and then narrowed by _attribute to raster images on <img> (below).
URL_SCHEMES = frozenset({"http", "https", "mailto", "data"})
# A notebook's attached images reach the page as data URLs (nbconvert embeds them); a raster image cannot run code.
NOTEBOOK_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z")
# The only classes a student's markup keeps: code highlighting's (mistune's `language-*` on a fenced block's code,
# Pygments' wrapper and short token classes) and the kit's own note. Every other class could be one that the page's
# styles (bootstrap: `navbar-fixed-top`, `modal-backdrop`, `hidden`) or formgrader's scripts (`full-credit`,
# `nbgrader_cell`) give a meaning, or one of the grader's own `tg-` classes (a student dressing text as a check).
STUDENT_CLASSES = frozenset({"highlight", "removed"} | {name for name in STANDARD_TYPES.values() if name})
CODE_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}\Z")

# Found before cleaning, for the visible notes: elements that are active or embed another document.
ACTIVE_ELEMENTS = {"script": "a script", "iframe": "an iframe", "frame": "a frame", "frameset": "a frameset",
                   "object": "an object element", "embed": "an embed element", "applet": "an applet",
                   "svg": "an SVG image",
                   "math": "MathML", "form": "a form", "base": "a base link", "meta": "a meta tag",
                   "link": "a link element", "style": "a style sheet", "video": "a video", "audio": "an audio player",
                   "input": "an input", "button": "a button", "textarea": "a text area", "select": "a selection",
                   "template": "a template", "portal": "a portal"}
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                            "srcset", "srcdoc", "ping"})
NOTE = "[removed by the grader: {}]"
# What a screen reader says for an image whose author gave no description (nbconvert's words for the same case),
# instead of reading out its data URL.
NO_DESCRIPTION = "No description has been provided for this image"


def clean(fragment: str, *, grader_markup: bool = False) -> str:
    """`fragment` with everything active removed and a visible note where it was; `grader_markup`: the grader's own
    HTML, whose `tg-` classes stay."""
    noted = _with_notes(fragment)
    return nh3.clean(noted, tags=set(TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT), attributes=ATTRIBUTES,
                     attribute_filter=_attribute if not grader_markup else _attribute_of_grader,
                     url_schemes=set(URL_SCHEMES), strip_comments=True, link_rel="noopener noreferrer nofollow")


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "src":  # an image of the notebook itself: attached, which nbconvert embeds as a data URL
        return value if NOTEBOOK_IMAGE.match(value) else None
    if name == "href" and value.lower().startswith("data:"):
        return None
    if name == "class":
        kept = [c for c in value.split() if c in STUDENT_CLASSES or (tag == "code" and CODE_LANGUAGE_CLASS.match(c))]
        return " ".join(kept) or None
    return value


def _attribute_of_grader(tag: str, name: str, value: str) -> str | None:
    return value if name == "class" else _attribute(tag, name, value)


def _active_url(value: str) -> bool:
    """A URL that runs code or carries a document: javascript:, vbscript:, data: (other than a raster image)."""
    bare = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
    if bare.startswith(("javascript:", "vbscript:")):
        return True
    return bare.startswith("data:") and not NOTEBOOK_IMAGE.match(re.sub(r"\s", "", html.unescape(value)))


class _Finder(html.parser.HTMLParser):
    """Where the fragment holds active content: (offset of the tag, what it is), for the notes; and where an image
    tag without alt text ends its name (offsets), for NO_DESCRIPTION."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.undescribed: list[int] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        what = [ACTIVE_ELEMENTS[tag]] if tag in ACTIVE_ELEMENTS else []
        what += [f"an {name} handler"
                 for name, _ in attrs if name.startswith("on")]
        what += [f"a {value.split(':', 1)[0].strip().lower()}: link" for name, value in attrs
                 if name in URL_ATTRIBUTES and value and _active_url(value)]
        what += ["an image not embedded in the notebook" for name, value in attrs if tag == "img" and name == "src"
                 and value and not _active_url(value) and not NOTEBOOK_IMAGE.match(value)]
        if what:
            self.found.append((self._offset(), ", ".join(dict.fromkeys(what))))
        if tag == "img" and not any(name == "alt" for name, _ in attrs):
            self.undescribed.append(self._offset() + len("<img"))

    handle_startendtag = handle_starttag


def _read(fragment: str) -> _Finder:
    finder = _Finder(fragment)
    finder.feed(fragment)
    finder.close()
    return finder


def _inserted(fragment: str, insertions: list[tuple[int, str]]) -> str:
    parts, last = [], 0
    for offset, text in sorted(insertions, key=lambda insertion: insertion[0]):
        parts += [fragment[last:offset], text]
        last = offset
    return "".join(parts) + fragment[last:]


def _with_notes(fragment: str) -> str:
    """`fragment` with a note (escaped text) before each tag that holds active content, and NO_DESCRIPTION as the
    alt text of each image without one.

    Only the notes and alt texts depend on this reading; the cleaning itself is nh3's, whatever this parser makes of
    the markup.
    """
    finder = _read(fragment)
    return _inserted(fragment, [(offset, f'<span class="removed">{html.escape(NOTE.format(what))}</span>')
                                for offset, what in finder.found] + _alt_texts(finder))


def _alt_texts(finder: _Finder) -> list[tuple[int, str]]:
    return [(offset, f' alt="{NO_DESCRIPTION}"') for offset in finder.undescribed]


def with_alt_text(fragment: str) -> str:
    """The grader's own markup (a template's image output) with NO_DESCRIPTION as the alt text of each image
    without one."""
    return _inserted(fragment, _alt_texts(_read(fragment)))


def clean_page(fragment: str) -> str:
    """nbconvert's `clean_html` filter for HTML outputs (feedback page, formgrader): `clean` of HTML whose student
    parts already lost their classes in the notebook (autograder.student_content), so the grader's own stay."""
    return clean(fragment, grader_markup=True)
