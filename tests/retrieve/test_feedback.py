"""Pseudo-relevance feedback: the words the closest sentences share across reports."""

from rag.retrieve.feedback import feedback_terms

IDF = {"基站": 4.3, "覆盖": 2.5, "数字": 2.2, "新建": 1.0, "信号": 3.3, "充电桩": 4.0}


def idf(word):
    return IDF.get(word)


def test_the_word_the_closest_units_share_is_the_reports_wording():
    units = ["新建5G基站1409个，实现乡镇以上5G信号连续覆盖", "新建5G基站888个",
             "累计建成5G基站2405个", "新增5G基站2888个，信号覆盖90%以上乡村",
             "新建5G基站2647个，建成充电桩513个"]
    assert feedback_terms(units, idf, min_idf=2.0) == ["基站"]


def test_a_word_of_one_unit_or_a_common_word_is_not_taken():
    units = ["建成充电桩513个", "新建城市公园12个", "新建学校3所"]
    assert feedback_terms(units, idf, min_idf=2.0) == []


def test_a_place_name_the_closest_units_share_is_not_a_topic_word():
    units = ["首届长江文化南京论坛在宁举办", "南京都市圈建设取得新进展", "南京基站新建888个"]
    table = {**IDF, "南京": 3.0}
    assert feedback_terms(units, table.get, min_idf=2.0) == ["南京"]
    assert feedback_terms(units, table.get, min_idf=2.0, is_place=lambda w: w == "南京") == []


def test_the_units_the_closest_figures_share_are_not_the_topic():
    # "百分点" (and 分点 within it) stands in every unit; the indicator only in two
    units = ["工业投资占比提高3.8个百分点", "地区生产总值增长1.8%，增幅提高1.1个百分点",
             "数字经济占比提高1.3个百分点", "全年地区生产总值增长0.7%"]
    table = {"百分点": 4.2, "分点": 4.2, "生产总值": 2.9, "占比": 2.1}
    assert feedback_terms(units, table.get, min_idf=2.0) == ["生产总值"]
