"""Regenerate the small fixture files of this folder: ``python tests/ingest/data/make_fixtures.py``.

The PDF is written by hand (no PDF writer with CJK fonts is installed): a Type0 font naming
the standard Adobe-GB1 font STSong-Light, not embedded, with a ToUnicode map so that text
extraction recovers the characters.
"""

from __future__ import annotations

import io
from pathlib import Path

HERE = Path(__file__).parent

REPORT = (
    "政府工作报告\n"
    "——2023年1月5日在某某市第十届人民代表大会第二次会议上\n"
    "各位代表：\n"
    "全年地区生产总值增长5.2%，完成投资3,566亿元。\n"
)
PDF_LINES = ["政府工作报告", "各位代表：", "全年地区生产总值增长5.2%。", "Annual GDP grew 5.2%."]


def _pdf(lines: list[str]) -> bytes:
    chars = sorted({c for line in lines for c in line if ord(c) > 0x7F})
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n"
        + "".join(f"<{ord(c):04X}> <{ord(c):04X}>\n" for c in chars)
        + "endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
    )
    ops = ["BT"]
    y = 760
    for line in lines:
        if all(ord(c) < 0x80 for c in line):
            ops.append(f"/F2 12 Tf 1 0 0 1 72 {y} Tm ({line}) Tj")
        else:
            hexed = "".join(f"{ord(c):04X}" for c in line)
            ops.append(f"/F1 12 Tf 1 0 0 1 72 {y} Tm <{hexed}> Tj")
        y -= 24
    ops.append("ET")
    content = "\n".join(ops)

    def stream(body: str) -> str:
        return f"<< /Length {len(body.encode('latin-1'))} >>\nstream\n{body}\nendstream"

    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R /F2 9 0 R >> >> >>",
        stream(content),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
        " /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        " /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
        " /FontDescriptor 8 0 R /DW 1000 >>",
        stream(cmap),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
        " /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode())
    out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("政府工作报告")
    document.add_paragraph("各位代表：")
    document.add_paragraph("全年地区生产总值增长5.2%，完成投资3,566亿元。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "目标"
    table.cell(1, 0).text = "地区生产总值"
    table.cell(1, 1).text = "增长5%左右"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>某某市政府工作报告_某某市人民政府</title>
<style>p { color: red; }</style>
<script>var menu = "<p>首页</p>"; if (a < b) {}</script></head>
<body>
<header><div class="logo">某某市人民政府</div></header>
<nav><ul><li><a href="/">首页</a></li><li><a href="/gk">政务公开</a></li></ul></nav>
<div class="breadcrumb">当前位置：首页 &gt; 政务公开</div>
<div class="article">
<h1>政府工作报告</h1>
<p>&nbsp;&nbsp;&nbsp;&nbsp;各位代表：</p>
<p>全年地区生产总值增长5.2%，R&amp;D经费投入增长10%。</p>
<!-- 正文结束 -->
<p>&nbsp;</p>
<p>责任编辑：张三</p>
</div>
<aside>相关文章</aside>
<form>验证码：<input name="code"></form>
<footer>版权所有：某某市人民政府</footer>
</body></html>
"""


def main() -> None:
    (HERE / "report_gbk.txt").write_bytes(REPORT.encode("gbk"))
    # 𠮷 (U+20BB7) has no GBK code; GB18030 encodes it in four bytes.
    (HERE / "report_gb18030.txt").write_bytes((REPORT + "𠮷\n").encode("gb18030"))
    (HERE / "report_utf8_bom.txt").write_bytes(REPORT.encode("utf-8-sig"))
    (HERE / "report_utf16le_bom.txt").write_bytes(b"\xff\xfe" + REPORT.encode("utf-16-le"))
    (HERE / "report_utf16be_bom.txt").write_bytes(b"\xfe\xff" + REPORT.encode("utf-16-be"))
    (HERE / "report_crlf.txt").write_bytes(REPORT.replace("\n", "\r\n").encode("utf-8"))
    # GBK text with bytes no Chinese encoding allows (0x80, 0xFF).
    (HERE / "undecodable.txt").write_bytes(REPORT.encode("gbk")[:30] + b"\x80\xff\x80\xff")
    (HERE / "report.md").write_text(
        "---\ntitle: 政府工作报告\n---\n# 政府工作报告\n\n![图](cover.png)\n\n"
        "## 一、2022年工作回顾 ##\n\n> 全年地区生产总值增长5.2%。\n\n- 新增就业2万人。\n",
        encoding="utf-8",
    )
    (HERE / "report.html").write_text(HTML, encoding="utf-8")
    (HERE / "report.pdf").write_bytes(_pdf(PDF_LINES))
    (HERE / "broken.pdf").write_bytes(_pdf(PDF_LINES)[:200])
    (HERE / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip archive")
    (HERE / "report.docx").write_bytes(_docx())
    (HERE / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (HERE / "empty.txt").write_bytes(b"")
    (HERE / "blank.txt").write_bytes(" \r\n\t\u3000\n".encode())
    (HERE / "report.rtf").write_bytes(b"{\\rtf1 }")


if __name__ == "__main__":
    main()
