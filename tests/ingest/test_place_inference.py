"""A report's place inferred from the places its body names, with the evidence, or not."""

from support import REPORTS, line_blocks

from rag.ingest.manifest import ManifestRow
from rag.ingest.meta import extract_meta
from rag.ingest.place_inference import infer_place
from rag.ingest.regions import get_gazetteer

S004 = "004_c2261995aa5722eb.txt"
UNNAMED = "区2023年政府工作报告\n各位代表：\n"


def meta_of(text: str, source: str = "report.txt"):
    return extract_meta(text, line_blocks(text), source)


def test_gazetteer_holds_towns_apart_from_regions():
    gaz = get_gazetteer()
    assert {p.name for p in gaz.town_parents("中市街道")} == {
        "安徽省六安市金安区", "安徽省阜阳市颍泉区"}
    assert gaz.resolve("中市街道") == []  # a town is never a region
    # A town is a whole word: "森林城镇" holds no "林城镇" (a town of 长兴县).
    text = "获评省级森林城镇，中市街道胜利社区"
    edges = {0, 2, 4, 6, 8, 9, 11, 13, 15, 17}
    assert [t.surface for t in gaz.find_towns_in_text(text, edges)] == ["中市街道"]
    assert [t.surface for t in gaz.find_towns_in_text(text)][0] == "林城镇"


def test_sample_report_names_its_subdistrict_and_city():
    text = (REPORTS / S004).read_text(encoding="utf-8")
    meta = meta_of(text, S004)
    assert (meta.province, meta.city, meta.district, meta.level) == (
        "安徽省", "阜阳市", "颍泉区", "district")
    assert meta.inferred == ("province", "city", "district")
    assert {e.name for e in meta.evidence} >= {"中市街道", "阜阳市", "阜阳"}
    for e in meta.evidence:
        assert text[e.start:e.end] == e.name
    assert any("中市街道@1911" in n and "→ 安徽省阜阳市颍泉区" in n for n in meta.notes)
    assert meta.inferred_from.startswith("据正文推断：") and "中市街道" in meta.inferred_from


def test_towns_of_two_provinces_stay_unknown_and_say_why():
    text = UNNAMED + ("木渎镇、甪直镇加快发展特色产业。\n"  # 江苏省苏州市吴中区
                      "东西部协作帮扶抄乐镇、新南镇建设茶园。\n")  # 贵州省遵义市湄潭县
    meta = meta_of(text)
    assert (meta.province, meta.city, meta.district, meta.inferred) == (None, None, None, ())
    why = " ".join(meta.notes)
    assert "province not inferred: the places named point to several" in why
    assert "江苏省" in why and "贵州省" in why and "木渎镇" in why and "抄乐镇" in why


def test_no_place_at_all():
    meta = meta_of(UNNAMED + "全年新增就业1.2万人，城镇调查失业率控制在5%以内。\n")
    assert (meta.province, meta.city, meta.district, meta.level) == (
        None, None, None, "district")
    assert meta.inferred == () and meta.evidence == ()
    assert "place not inferred: the text names no place" in meta.notes


def test_ambiguous_district_keeps_the_province():
    # 中市街道 lies in a district of 六安 and one of 阜阳: the district and the city stay
    # unknown, the province both share is kept.
    meta = meta_of(UNNAMED + "中市街道获评安徽省文明单位。\n")
    assert (meta.province, meta.city, meta.district) == ("安徽省", None, None)
    assert meta.inferred == ("province",)
    assert any(n.startswith("district not inferred") and "金安区" in n and "颍泉区" in n
               for n in meta.notes)


def test_known_city_is_kept_and_narrows_the_towns():
    # The manifest names the city, not the district: the district comes from its towns,
    # and only the district is marked inferred.
    text = UNNAMED + "伍明镇、行流镇新建污水处理设施，中市街道完成老旧小区改造。\n"
    row = ManifestRow(file="r.txt", level="district", province="安徽省", city="阜阳市")
    meta = extract_meta(text, line_blocks(text), "r.txt", row)
    assert (meta.province, meta.city, meta.district) == ("安徽省", "阜阳市", "颍泉区")
    assert meta.inferred == ("district",)
    row = ManifestRow(file="r.txt", level="district", province="安徽省", city="六安市")
    meta = extract_meta(text, line_blocks(text), "r.txt", row)
    # Of the towns only 中市街道 may lie in 六安市: too little to name the district.
    assert (meta.province, meta.city, meta.district, meta.inferred) == (
        "安徽省", "六安市", None, ())
    assert infer_place(text, line_blocks(text), {"province": "江苏省"}, "district").fields == {}


def test_a_neighbouring_county_alone_does_not_make_the_district():
    meta = meta_of(UNNAMED + "与颍州区、阜阳市共建产业园。\n")
    assert meta.district is None
    assert (meta.province, meta.city) == ("安徽省", "阜阳市")
    assert meta.inferred == ("province", "city")


def test_stated_regions_are_not_inferred():
    for path in sorted(REPORTS.glob("*.txt")):
        if path.name == S004:
            continue
        meta = meta_of(path.read_text(encoding="utf-8"), path.name)
        assert meta.inferred == () and meta.evidence == (), path.name
