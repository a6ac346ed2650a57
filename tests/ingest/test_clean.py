"""Body spans, noise removal and sentence splitting, all checked as offsets into the text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rag.ingest.clean import (
    body_blocks,
    html_text_spans,
    is_noise,
    iter_sentences,
    split_clauses,
)

EXAMPLES = Path(__file__).parents[2] / "examples" / "reports"
CORPUS = Path(__file__).parents[3] / "shared" / "corpus" / "cities" / "city"

NOISE_ANYWHERE = [
    "本文仅代表作者观点",
    "导航菜单",
    "上一篇",
    "下一篇",
    "第127/192页",
    "Adobe Flash",
    "本文地址",
    "留言与评论",
    "验证码",
    "索引号",
    "已阅读",
    "文号:",
    "相关文章",
]

# (file prefix, lines that must be blocks, sentences that must be in some block)
SAMPLES = [
    (
        "000",
        ["(山东省)济南市历城区人民政府工作报告(2024年1月17日)"],
        ["全年安全生产事故起数、死亡人数分别下降22%、33%。"],
    ),
    (
        "001",
        ["(山东省)德州市陵城区人民政府工作报告(2023年1月8日)", "2023年重点工作安排"],
        ["殡葬改革扎实推进。"],
    ),
    (
        "002",
        ["(天津市)天津市和平区人民政府工作报告(2023年1月3日)"],
        ["累计盘活各类闲置资产4.07亿元,盘活空置楼宇14.8万平方米。"],
    ),
    (
        "003",
        [
            "2018年区政府工作报告",
            "政府工作报告",
            "——2018年3月21日在太原市迎泽区第五届人民代表大会",
            "第三次会议上",
            "各位代表:",
            "2017年工作回顾",
            "《政府工作报告》相关注释",
            "7、“四好农村路”:即建设好、管理好、养护好、运营好农村公路。",
        ],
        [],
    ),
    (
        "004",
        [],
        [
            '严格落实"五控"、"六全"措施,坚持开展秋冬季大气污染综合治理攻坚、夏季挥发性有机物治理行动,'
            "常态化实行秸秆禁烧、烟花爆竹和大盘香禁燃禁放,PM2.5考核排名全市第一,获得市级生态补偿金超300万元,"
            "空气优良天数303天,较上年增加17天。"
        ],
    ),
]


def _sample(prefix: str) -> str:
    (path,) = EXAMPLES.glob(f"{prefix}_*.txt")
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize(("prefix", "lines", "sentences"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_report_body(prefix: str, lines: list[str], sentences: list[str]) -> None:
    text = _sample(prefix)
    blocks = body_blocks(text, "txt")
    texts = [text[s:e] for s, e in blocks]
    for s, e in blocks:
        assert text[s:e] == text[s:e].strip(" \t\r\n\u3000\xa0")
        assert s < e
    assert list(blocks) == sorted(blocks)
    for block in texts:
        for noise in NOISE_ANYWHERE:
            assert noise not in block, (noise, block[:60])
    for line in lines:
        assert line in texts
    all_sentences = [text[s:e] for b in blocks for s, e in iter_sentences(text, *b)]
    for sentence in sentences:  # the sentence ends as given (it may start with a clause)
        assert any(found.endswith(sentence) for found in all_sentences), sentence
    # Everything that is not noise is kept: the report's last body paragraph is there.
    assert sum(e - s for s, e in blocks) > 0.9 * len(text.replace(" ", "").replace("\n", "")) - 500


@pytest.mark.parametrize(
    "line",
    [
        "导航菜单",
        "本文仅代表作者观点,不代表本站立场。 凡注明为博县网原创作品的,未经许可,不得转载;",
        "本文地址:/baogao/huadong/10772.html",
        "留言与评论(共有 条评论)",
        "验证码:",
        "上一篇:县2023年政府工作报告-27篇",
        "下一篇：市2023年政府工作报告-24篇",
        "相关文章:(本文关键词:)",
        "此页面上的内容需要较新版本的 Adobe Flash Player。",
        "索引号: 001-TOO-1-2018-0001 发布机构: 政府办-秘书科",
        "已阅读: 0 更新时间: 2018-04-04",
        "文号: 关键字:",
        "区2023年政府工作报告-39篇(第127/192页)",
        "责任编辑：张三",
        "【打印本页】",
        "关闭窗口",
        "分享到：",
        "【字体：大 中 小】",
        "来源：无锡市人民政府",
        "点击数：128",
        "扫一扫在手机打开当前页",
        "当前位置：首页 > 政务公开 > 政府工作报告",
        "首页 | 政务公开 | 新闻中心 | 办事服务",
        "<!-- 宋华英作政府工作报告。（黄涛摄） -->",
        "——",
        "* * *",
    ],
)
def test_noise_lines(line: str) -> None:
    assert is_noise(line)


@pytest.mark.parametrize(
    "line",
    [
        "政府工作报告",
        "——2018年3月21日在太原市迎泽区第五届人民代表大会第三次会议上",
        "各位代表:",
        "名词解释",
        "【名词解释】",
        "1、“四好农村路”：即建设好、管理好、养护好、运营好农村公路。",
        "主办单位：市卫健委，各县市区人民政府。",
        "第三，切实关注社会民生，让全市人民实实在在地分享到经济发展成果。",
        "二、2024年工作安排",
        "| 地区生产总值 | 增长6% | 增长5% |",
    ],
)
def test_body_lines_are_not_noise(line: str) -> None:
    assert not is_noise(line)


def test_edge_menu_runs_dropped_but_titles_kept() -> None:
    text = (
        "首页\n政务公开\n新闻中心\n办事服务\n\n政府工作报告\n"
        "——2023年1月5日在某某市第十届人民代表大会第二次会议上\n各位代表：\n"
        "过去一年，全市地区生产总值增长5.2%，一般公共预算收入增长8%，城乡居民收入稳步提高。\n"
        "联系我们\n隐私声明\n使用帮助\n"
    )
    texts = [text[s:e] for s, e in body_blocks(text, "txt")]
    assert texts[0] == "政府工作报告"
    assert texts[-1].startswith("过去一年")
    assert "各位代表：" in texts


def test_full_width_spaces_trimmed_and_blank_lines_skipped() -> None:
    text = (
        "\u3000\u3000各位代表：\r\n\u3000\r\n  \t\n。。。\n"
        "\u3000\u3000现在，我代表市人民政府向大会报告工作。\u3000\n"
    )
    blocks = body_blocks(text, "txt")
    assert [text[s:e] for s, e in blocks] == [
        "各位代表：",
        "现在，我代表市人民政府向大会报告工作。",
    ]


def test_markdown_front_matter_images_and_headings() -> None:
    text = (
        "---\ntitle: x\n---\n## 一、工作回顾 ##\n![封面](a.png)\n"
        "> 引文一句。\n- 新增就业2万人。\n***\n"
    )
    texts = [text[s:e] for s, e in body_blocks(text, "md")]
    assert texts == ["一、工作回顾", "引文一句。", "新增就业2万人。"]


HTML = (
    "<html><head><title>标题</title><script>var s = '<p>脚本</p>';</script>"
    "<style>p{}</style></head><body>"
    "<header>网站名</header><nav><ul><li>首页</li><li><a>政务公开</a></li></ul></nav>"
    "<div class='crumbs'>当前位置</div><div id='main'><div>"
    "<p>&nbsp;&nbsp;&nbsp;&nbsp;各位代表：</p>\n"
    "<p>全年增长5.2%，R&amp;D投入增长10%。</p><p>&nbsp;</p>"
    "<p>1 < 2&nbsp;&nbsp;分开</p><!-- 注释 --><br/><img src='a.png'/>"
    "</div></div><aside>侧栏</aside><form>验证码<input></form><footer>版权</footer></body></html>"
)


def test_html_text_spans() -> None:
    spans = html_text_spans(HTML)
    texts = [HTML[s:e] for s, e in spans]
    assert texts == ["各位代表：", "全年增长5.2%，R&amp;D投入增长10%。", "1", "2", "分开"]
    for s, e in spans:
        assert "<" not in HTML[s:e]


def test_html_unclosed_comment_and_head_without_close() -> None:
    html = "<head><title>t</title><body><p>正文一句。</p><!-- 不完整"
    assert [html[s:e] for s, e in html_text_spans(html)] == ["正文一句。"]


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in iter_sentences(text, 0, len(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("增长1.5亿元。下降98.16%！", ["增长1.5亿元。", "下降98.16%！"]),
        ("完成3,566亿元;比上年增长8%;", ["完成3,566亿元;", "比上年增长8%;"]),
        ("实施“四减四增。”行动。下一句。", ["实施“四减四增。”", "行动。", "下一句。"]),
        ("他说：“我们要努力。”今年继续。", ["他说：“我们要努力。”", "今年继续。"]),
        ("印发《关于推进改革。试点的意见》文件。", ["印发《关于推进改革。试点的意见》文件。"]),
        ('严格落实"五控。六全"措施。完成任务。', ['严格落实"五控。六全"措施。', "完成任务。"]),
        ("「一。二」三。", ["「一。二」三。"]),
        ("（注：含1.5亿元。其中。）下一句。", ["（注：含1.5亿元。其中。）", "下一句。"]),
        ("成绩来之不易！？真的吗?是的!", ["成绩来之不易！？", "真的吗?", "是的!"]),
        ("第一行没有句号\n第二行。\r\n第三行", ["第一行没有句号", "第二行。", "第三行"]),
        ("\u3000\u3000各位代表：现在报告。\u3000", ["各位代表：现在报告。"]),
        ("一句。”多余的引号", ["一句。”", "多余的引号"]),
        ("未闭合的“引号。后文。", ["未闭合的“引号。", "后文。"]),
        (
            "“" + "很长的引文。" * 40 + "”后文。",
            ["“很长的引文。"] + ["很长的引文。"] * 38 + ["很长的引文。”", "后文。"],
        ),
        ("", []),
        ("   ", []),
    ],
)
def test_iter_sentences(text: str, expected: list[str]) -> None:
    assert _sentences(text) == expected


def test_iter_sentences_respects_span_bounds() -> None:
    text = "前文。甲句。乙句。后文。"
    assert [text[s:e] for s, e in iter_sentences(text, 3, 9)] == ["甲句。", "乙句。"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("增长8%,比上年提高1.5个百分点。", ["增长8%,", "比上年提高1.5个百分点。"]),
        ("完成投资3,566亿元，增长12%。", ["完成投资3,566亿元，", "增长12%。"]),
        ("教育、卫生、文化：全面发展。", ["教育、", "卫生、", "文化：", "全面发展。"]),
        ("会议于10:30召开,“一制、三化”改革。", ["会议于10:30召开,", "“一制、三化”改革。"]),
        ("1,2,3号线。", ["1,", "2,", "3号线。"]),
    ],
)
def test_split_clauses(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in split_clauses(text, 0, len(text))] == expected


def _non_space(s: str) -> str:
    return "".join(c for c in s if not c.isspace())


def _check_cover(text: str, start: int, end: int) -> None:
    for split in (iter_sentences, split_clauses):
        spans = list(split(text, start, end))
        assert all(start <= s < e <= end for s, e in spans)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert _non_space("".join(text[s:e] for s, e in spans)) == _non_space(text[start:end])


@pytest.mark.parametrize("prefix", [s[0] for s in SAMPLES])
def test_sentences_cover_every_block(prefix: str) -> None:
    text = _sample(prefix)
    for s, e in body_blocks(text, "txt"):
        _check_cover(text, s, e)


def test_sentences_cover_random_text() -> None:
    alphabet = '政府工作报告增长亿元 \u3000\n。！？；!?;，,、：:“”"《》「」（）()【】1234.%'
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        _check_cover(text, 0, len(text))


@pytest.mark.scale
@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus/cities")
def test_corpus_blocks_are_verbatim() -> None:
    paths = sorted(CORPUS.glob("*.txt"))[::180]  # a dozen, spread over provinces
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        blocks = body_blocks(text, "txt")
        lines = [ln.strip(" \t\r\u3000\xa0") for ln in text.split("\n")]
        kept = {text[s:e] for s, e in blocks}
        lost = [ln for ln in lines if ln and ln not in kept and any(c.isalnum() for c in ln)]
        assert all(ln.startswith("<!--") or is_noise(ln) for ln in lost)
        assert len(lost) <= 3, (path.name, lost)
        for s, e in blocks:
            _check_cover(text, s, e)
