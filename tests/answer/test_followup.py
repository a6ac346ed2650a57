"""Follow-up questions resolved against the conversation (pure, no store)."""

from __future__ import annotations

import pytest

from rag.answer.followup import resolve_followup
from rag.ingest.regions import get_gazetteer
from rag.retrieve.places import Place, PlaceMatcher

# The store's places, and the gazetteer for every other one (迎泽区 is not in this store).
PLACES = PlaceMatcher([Place("和平区", "district"), Place("天津市", "city"),
                       Place("天津市", "province"), Place("历城区", "district")], get_gazetteer())

JIUYE = "和平区2021年新增就业多少人？"
AIR = "How many days of good air quality did Heping District in Tianjin have in 2022?"


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        ([JIUYE], "那2022年呢？", "和平区2022年新增就业多少人？"),
        ([JIUYE], "2022年的呢", "和平区2022年新增就业多少人？"),
        ([JIUYE], "迎泽区呢？", "迎泽区2021年新增就业多少人？"),
        ([JIUYE], "那迎泽区2019年呢", "迎泽区2019年新增就业多少人？"),
        (["天津市和平区2021年新增就业多少人？"], "历城区呢", "历城区2021年新增就业多少人？"),
        (["2022年哪些区新增了学位？"], "2023年呢？", "2023年哪些区新增了学位？"),
        (["2022年哪些区新增了学位？"], "和平区呢？", "2022年和平区新增了学位？"),
        (["新增就业多少人？"], "那2022年呢？", "2022年新增就业多少人？"),
        ([AIR], "What about 2021?", AIR.replace("2022", "2021")),
        ([AIR], "What about Yingze District?", AIR.replace("Heping District", "Yingze District")),
        (["Which districts reported zero work-safety accidents in 2022?"], "And 2023?",
         "Which districts reported zero work-safety accidents in 2023?"),
        # chained: each follow-up builds on the resolved one before it
        ([JIUYE, "那2022年呢？"], "迎泽区呢？", "迎泽区2022年新增就业多少人？"),
    ],
)
def test_follow_ups_take_the_previous_topic(history, question, expected):
    assert resolve_followup(history, question, PLACES) == expected


@pytest.mark.parametrize(
    ("history", "question"),
    [
        ([JIUYE], "历城区2023年新增绿色建筑多少平方米？"),  # a topic of its own
        ([], "那2022年呢？"),  # nothing to follow
        ([JIUYE], "哪些区呢？"),  # "哪些区" is not a region
        ([JIUYE], "谢谢"),
        ([AIR], "What about air quality in 2021 compared with 2020?"),
    ],
)
def test_new_questions_are_left_alone(history, question):
    assert resolve_followup(history, question, PLACES) == question
