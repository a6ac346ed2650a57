"""Which spans of a document's text are report body, and where its sentences end.

Everything here returns ``(start, end)`` offsets into the text it was given and never
rewrites that text, so a span can always be quoted verbatim: ``text[start:end]``.

Noise (site menus, disclaimers, page counters, metadata lines of government portals) is
decided one line (or, for HTML, one text block) at a time, by patterns and by a structural
cue: runs of short menu-like lines at the very top or bottom of the page. Text is never
deleted from the middle of a paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

# Characters trimmed from span edges: whitespace (incl. U+3000, U+00A0), BOM, zero-width.
_TRIM = frozenset(" \t\r\n\f\v\u3000\u00a0\ufeff\u200b\u200c\u200d\u2028\u2029")

# --- noise -----------------------------------------------------------------------------------

_C = r"[:：]"  # half- or full-width colon
# Lines that are page furniture wherever they appear. Anchored at the line start unless the
# phrase cannot occur in a report (a disclaimer, a Flash notice).
_NOISE_PATTERNS = [
    r"^(网站|站点)?导航(菜单|栏)?$",
    r"本文仅代表作者观点",
    r"^凡(本网)?注明.{0,20}(原创|来源)",
    r"不代表本(站|网)(立场|观点)",
    r"未经(许可|授权).{0,6}不得转载",
    r"^本文(地址|链接|网址)" + _C,
    r"^留言与评论",
    r"^(验证码|发表评论|网友评论|我要评论)" + _C + "?",
    r"^(上一篇|下一篇|上一条|下一条)" + _C + "?",
    r"^相关(文章|阅读|链接|新闻)" + _C + "?",
    r"Adobe Flash Player",
    r"^(索引号|发布机构|主题分类|发文机关|成文日期|发布日期|发布时间|更新时间|生效日期)" + _C,
    r"^(已阅读|阅读次数|浏览次数|访问次数|点击数|点击量)" + _C + "?",
    r"^(文号|关键字|关键词)" + _C,
    r"[(（]第\s*\d+\s*/\s*\d+\s*页[)）]$",
    r"^(责任编辑|编辑|审核|校对|作者|供稿|信息来源|来源|稿件来源)" + _C,
    r"^[（(]?本稿来源" + _C,
    r"^[【\[]?(打印本页|打印此页|关闭窗口|关闭本页|返回顶部|收藏本页|加入收藏)[】\]]?",
    r"^[【\[]?(打印|关闭|返回|收藏|纠错)[】\]]?$",
    r"^分享到" + _C + "?",
    r"^[【\[]?字[体号]" + _C + r"?\s*[【\[]?\s*[大中小]",
    r"扫一扫在手机(上)?(打开|浏览|阅读)",
    r"^(当前位置|您的位置|你的位置|您现在的位置|所在位置)" + _C,
    # Not 主办单位: reports list the lead department of each livelihood project so.
    r"^(版权所有|网站标识码|网站地图)" + _C + "?",
    r"^技术支持" + _C,
    r"(Copyright|©)",
    r"(ICP备|公网安备)\s*\d",
    r"^<!--.*-->$",
]
_NOISE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS), re.IGNORECASE)
# Metadata-style lines ("来源：…") are short; a long line starting so is report text.
_MAX_NOISE_LEN = 400

# "首页 | 政务公开 | 新闻中心": several short items between separators.
_MENU_SEPARATORS = re.compile(r"\s*[|｜›»>]\s*")
_SENTENCE_PUNCT = re.compile(r"[。！？；!?;]")
# Words a short title-block line of a report carries; such lines are never menu items.
_REPORT_WORDS = re.compile(r"报告|代表|会议|市长|区长|县长|州长|省长|主席|回顾|目标|任务")
_EDGE_RUN = 3  # this many short lines in a row at the top or bottom are a menu
_SHORT = 6  # characters
_LONG = 30  # a line this long is body; edge menus stop there


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _has_words(s: str) -> bool:
    return any(c.isalnum() for c in s)


def is_noise(line: str) -> bool:
    """True when a trimmed line (or HTML text block) is page furniture, not report text."""
    if not _has_words(line):
        return True
    if len(line) <= _MAX_NOISE_LEN and _NOISE.search(line):
        return True
    return _is_menu_line(line)


def _is_menu_line(line: str) -> bool:
    if line.startswith(("|", "｜")) or _SENTENCE_PUNCT.search(line) or len(line) > 100:
        return False  # a markdown table row, or a sentence
    items = [i for i in _MENU_SEPARATORS.split(line) if i]
    return len(items) >= 3 and all(len(i) <= 8 for i in items)


def _is_short_item(line: str) -> bool:
    return (
        len(line) <= _SHORT
        and not _SENTENCE_PUNCT.search(line)
        and not _REPORT_WORDS.search(line)
        and not any(c.isdigit() for c in line)
    )


def _drop_edge_menus(text: str, spans: list[Span]) -> list[Span]:
    """Drop runs of short menu items before the first and after the last long line."""
    lines = [text[s:e] for s, e in spans]
    long_idx = [i for i, line in enumerate(lines) if len(line) >= _LONG]
    if not long_idx:
        return spans
    drop: set[int] = set()
    for lo, hi in ((0, long_idx[0]), (long_idx[-1] + 1, len(lines))):
        run: list[int] = []
        for i in [*range(lo, hi), None]:
            if i is not None and _is_short_item(lines[i]):
                run.append(i)
                continue
            if len(run) >= _EDGE_RUN:
                drop.update(run)
            run = []
    return [sp for i, sp in enumerate(spans) if i not in drop]


def filter_blocks(text: str, spans: list[Span]) -> tuple[Span, ...]:
    """Keep the spans of ``text`` that are report body (spans are trimmed first)."""
    kept: list[Span] = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if s < e and not is_noise(text[s:e]):
            kept.append((s, e))
    return tuple(_drop_edge_menus(text, kept))


def _line_spans(text: str) -> list[Span]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", text)]


_MD_FRONT_MATTER = re.compile(
    r"\A(?:[ \t]*\r?\n)*---[ \t]*\r?\n.*?^(?:---|\.\.\.)[ \t]*$", re.S | re.M
)
_MD_IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\([^)]*\)$")
_MD_PREFIX = re.compile(r"^(?:>\s?)*(?:#{1,6}(?=\s)|[-*+](?=\s))?\s*")
_MD_CLOSING_HASHES = re.compile(r"\s+#+$")


def _markdown_spans(text: str) -> list[Span]:
    skip_to = 0
    fm = _MD_FRONT_MATTER.match(text)
    if fm:
        skip_to = fm.end()
    spans: list[Span] = []
    for s, e in _line_spans(text):
        if s < skip_to:
            continue
        s, e = _trim(text, s, e)
        line = text[s:e]
        if _MD_IMAGE_LINE.match(line):
            continue
        prefix = _MD_PREFIX.match(line)
        if prefix:  # the pattern matches every line, possibly empty
            s += prefix.end()
        if line.startswith("#"):
            closing = _MD_CLOSING_HASHES.search(text, s, e)
            if closing:
                e = closing.start()
        spans.append((s, e))
    return spans


# --- HTML ----------------------------------------------------------------------------------

# Elements whose text is never report body.
_HTML_SKIP = frozenset(
    "head script style noscript template nav header footer aside form select button iframe "
    "svg object".split()
)
_HTML_RAW_TEXT = frozenset({"script", "style", "textarea", "title"})  # no tags inside
_HTML_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
# class/id words of page furniture on government portals ("<div class='nav-bar'>").
_HTML_FURNITURE = frozenset(
    "nav navbar menu breadcrumb breadcrumbs crumb crumbs footer sidebar share copyright "
    "toolbar".split()
)
_HTML_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment (an unterminated one runs to the end)
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<[!?][^>]*>?"  # doctype, processing instruction
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>?",
    re.S,
)
_HTML_CLASS_ID = re.compile(r"""\b(?:class|id)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_WS_ENTITY = r"&(?:nbsp|ensp|emsp|thinsp|#160|#x0*a0|#12288|#x3000);"
_WS_ENTITY_START = re.compile(_WS_ENTITY, re.I)
_WS_ENTITY_END = re.compile(f"(?:{_WS_ENTITY})$", re.I)
# Two or more whitespace entities in a row stand for layout, not a space inside a sentence.
_HTML_CUT = re.compile(rf"<|(?:\s*{_WS_ENTITY}){{2,}}\s*", re.I)


def _trim_html(text: str, start: int, end: int) -> Span:
    while True:
        start, end = _trim(text, start, end)
        m = _WS_ENTITY_START.match(text, start, end)
        if m:
            start = m.end()
            continue
        m = _WS_ENTITY_END.search(text, start, end)
        if m:
            end = m.start()
            continue
        return start, end


def _is_furniture(attrs: str) -> bool:
    for m in _HTML_CLASS_ID.finditer(attrs):
        value = next(g for g in m.groups() if g is not None)
        if any(w in _HTML_FURNITURE for w in re.split(r"[\s_-]+", value.lower())):
            return True
    return False


def html_text_spans(html: str) -> list[Span]:
    """Spans of visible text in HTML source: the runs between tags, trimmed.

    Text inside script/style/nav/header/footer/aside/form (and elements whose class or id
    names a menu, breadcrumb, footer or share bar) and comments is left out. A run is also cut
    at a stray "<" and at two or more whitespace entities (``&nbsp;&nbsp;``); other entities
    stay inside the span, as they are in the source. No span contains "<".
    """
    spans: list[Span] = []
    skip: list[list] = []  # [[name, depth]]: the outermost element being skipped
    pos = 0
    while pos < len(html):
        m = _HTML_TOKEN.search(html, pos)
        stop = m.start() if m else len(html)
        if not skip and stop > pos:
            _emit_run(html, pos, stop, spans)
        if not m:
            break
        pos = m.end()
        name = (m.group(2) or "").lower()
        if not name:
            continue  # comment, doctype, CDATA
        closing, attrs = m.group(1) == "/", m.group(3) or ""
        if closing:
            if skip and skip[-1][0] == name:
                skip[-1][1] -= 1
                if skip[-1][1] == 0:
                    skip.pop()
            continue
        if skip and skip[-1][0] == "head" and name == "body":
            skip.pop()
        if name in _HTML_RAW_TEXT:
            end_tag = re.compile(rf"</{name}\s*>", re.I).search(html, pos)
            if name in ("script", "style") or skip or name == "title":
                pos = end_tag.end() if end_tag else len(html)
            continue
        if name in _HTML_VOID or attrs.rstrip().endswith("/"):
            continue
        if skip:
            if skip[-1][0] == name:
                skip[-1][1] += 1
        elif name in _HTML_SKIP or _is_furniture(attrs):
            skip.append([name, 1])
    return spans


def _emit_run(html: str, start: int, end: int, spans: list[Span]) -> None:
    piece_start = start
    for cut in [*_HTML_CUT.finditer(html, start, end), None]:
        piece_end = cut.start() if cut else end
        s, e = _trim_html(html, piece_start, piece_end)
        if s < e:
            spans.append((s, e))
        if cut:
            piece_start = cut.end()


def body_blocks(text: str, fmt: str) -> tuple[Span, ...]:
    """Spans of report body in ``text``, noise excluded.

    Args:
        text: the document text as loaded (decoded file, or extracted PDF/DOCX text).
        fmt: ``"txt"``, ``"md"``, ``"pdf"``, ``"docx"`` (line based) or ``"html"`` (the
            visible text runs between tags of the HTML source).

    Returns:
        Sorted, non-overlapping ``(start, end)`` spans, trimmed of whitespace; one per line
        (one per text run for HTML). ``text[start:end]`` is always verbatim file text.
    """
    if fmt == "html":
        spans = html_text_spans(text)
    elif fmt == "md":
        spans = _markdown_spans(text)
    else:
        spans = _line_spans(text)
    return filter_blocks(text, spans)


# --- sentences -------------------------------------------------------------------------------

_ENDERS = frozenset("。！？；!?;")
_CLOSERS = frozenset("”’」』）)】》〉］]")
_PAIRS = {"“": "”", "‘": "’", "《": "》", "「": "」", "『": "』", "（": "）", "(": ")", '"': '"'}
_MAX_QUOTE = 200  # a "quote" longer than this is a stray mark, not a quoted name
_CLAUSE_MARKS = frozenset("，,、：:")


def _quoted_ranges(text: str, start: int, end: int) -> dict[int, int]:
    """Map each opening quote/bracket position to the position of its closer.

    Only outermost, balanced pairs that close within ``_MAX_QUOTE`` characters on the same
    line count; an unmatched mark is plain text.
    """
    out: dict[int, int] = {}
    i = start
    while i < end:
        opener = text[i]
        closer = _PAIRS.get(opener)
        if closer is None:
            i += 1
            continue
        depth, j, limit = 1, i + 1, min(end, i + 1 + _MAX_QUOTE)
        while j < limit and text[j] not in "\r\n":
            c = text[j]
            if c == closer:
                depth -= 1
                if depth == 0:
                    break
            elif c == opener:
                depth += 1
            j += 1
        if j < limit and depth == 0:
            out[i] = j
            i = j + 1
        else:
            i += 1
    return out


def iter_sentences(text: str, start: int, end: int) -> Iterator[Span]:
    """Sentence spans inside ``text[start:end]``, trimmed, empty ones skipped.

    A sentence ends after 。！？； (and half-width ``!?;``), with any closing quotes or
    brackets that follow, and at every line break. Marks inside a short quotation or
    bracket (“…”, "…", 《…》, 「…」, （…）) do not end it, unless they close the quotation
    (``……努力。”``): then the sentence ends after the closing mark.
    """
    quotes = _quoted_ranges(text, start, end)
    sent_start = i = start
    while i < end:
        c = text[i]
        if c in "\r\n":
            s, e = _trim(text, sent_start, i)
            if s < e:
                yield s, e
            sent_start = i = i + 1
            continue
        close = quotes.get(i)
        if close is not None:
            # Inside a quotation: only a terminator right before its closer ends the sentence.
            j = close - 1
            while j > i and text[j] in _TRIM:
                j -= 1
            if j > i and text[j] in _ENDERS:
                cut = _after_closers(text, close + 1, end)
                s, e = _trim(text, sent_start, cut)
                if s < e:
                    yield s, e
                sent_start = i = cut
            else:
                i = close + 1
            continue
        if c in _ENDERS:
            j = i + 1
            while j < end and text[j] in _ENDERS:
                j += 1
            cut = _after_closers(text, j, end, quotes)
            s, e = _trim(text, sent_start, cut)
            if s < e:
                yield s, e
            sent_start = i = cut
            continue
        i += 1
    s, e = _trim(text, sent_start, end)
    if s < e:
        yield s, e


def _after_closers(text: str, i: int, end: int, quotes: dict[int, int] | None = None) -> int:
    """Position after the closing marks that follow ``i`` (a straight quote that opens a new
    quotation is not a closer)."""
    while i < end and (text[i] in _CLOSERS or (text[i] == '"' and not (quotes and i in quotes))):
        i += 1
    return i


def _in_number(text: str, i: int, end: int) -> bool:
    """True when the mark at ``i`` is part of a number: "3,566", "10:30"."""
    c = text[i]
    before = i > 0 and text[i - 1].isdecimal()
    if not before:
        return False
    if c in ",，":
        digits = 0
        j = i + 1
        while j < end and text[j].isdecimal():
            digits += 1
            j += 1
        return digits == 3
    if c in ":：":
        return i + 1 < end and text[i + 1].isdecimal()
    return False


def split_clauses(text: str, start: int, end: int) -> Iterator[Span]:
    """Clause spans inside ``text[start:end]``: sentences split again after ，,、：:.

    For callers that need quotes shorter than a sentence. Never splits inside a number
    ("3,566", "10:30") or a short quotation; "增长8%,比上年" splits after "%,".
    """
    for s_start, s_end in iter_sentences(text, start, end):
        quotes = _quoted_ranges(text, s_start, s_end)
        clause_start = i = s_start
        while i < s_end:
            close = quotes.get(i)
            if close is not None:
                i = close + 1
                continue
            if text[i] in _CLAUSE_MARKS and not _in_number(text, i, s_end):
                s, e = _trim(text, clause_start, i + 1)
                if s < e:
                    yield s, e
                clause_start = i + 1
            i += 1
        s, e = _trim(text, clause_start, s_end)
        if s < e:
            yield s, e
