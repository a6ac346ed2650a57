"""English terms of government work reports and their Chinese wording.

Cross-lingual questions are matched against Chinese text: each English phrase maps to the
Chinese terms a report uses for it. Longest phrases are tried first.
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, list[str]] = {
    "work-safety accidents": ["安全生产事故", "生产安全事故"],
    "work safety accidents": ["安全生产事故", "生产安全事故"],
    "production safety accidents": ["生产安全事故", "安全生产事故"],
    "safety accidents": ["安全事故"],
    "accidents": ["事故"],
    "accident deaths": ["事故", "死亡人数"],
    "good air quality": ["空气", "优良"],
    "good air": ["空气", "优良"],
    "air quality": ["空气质量"],
    "days": ["天数"],
    "pm2.5": ["pm2.5"],
    "gdp": ["生产总值"],
    "gross domestic product": ["生产总值"],
    "regional gdp": ["生产总值"],
    "economic output": ["生产总值"],
    "growth rate": ["增长"],
    "new jobs": ["新增", "就业"],
    "jobs": ["就业"],
    "employment": ["就业"],
    "unemployment rate": ["失业率"],
    "school places": ["学位"],
    "school seats": ["学位"],
    "degrees": ["学位"],
    "schools": ["学校"],
    "kindergartens": ["幼儿园"],
    "petitions": ["信访"],
    "tourism revenue": ["旅游", "收入"],
    "tourists": ["游客"],
    "tourism": ["旅游"],
    "fiscal revenue": ["财政", "收入"],
    "general public budget revenue": ["一般公共预算收入"],
    "budget revenue": ["预算收入"],
    "fixed-asset investment": ["固定资产投资"],
    "fixed asset investment": ["固定资产投资"],
    "investment": ["投资"],
    "retail sales": ["社会消费品零售总额"],
    "consumer goods": ["消费品"],
    "disposable income": ["可支配收入"],
    "per capita": ["人均"],
    "urban residents": ["城镇", "居民"],
    "rural residents": ["农村", "居民"],
    "income": ["收入"],
    "green buildings": ["绿色建筑"],
    "green building": ["绿色建筑"],
    "forest coverage": ["森林覆盖率"],
    "greening": ["绿化"],
    "parks": ["公园"],
    "population": ["人口"],
    "exports": ["出口"],
    "imports": ["进口"],
    "foreign trade": ["外贸", "进出口"],
    "foreign investment": ["外资"],
    "r&d": ["研发"],
    "high-tech enterprises": ["高新技术企业"],
    "high tech enterprises": ["高新技术企业"],
    "enterprises": ["企业"],
    "poverty": ["贫困"],
    "housing": ["住房"],
    "affordable housing": ["保障性住房", "保障房"],
    "old residential": ["老旧小区"],
    "pension": ["养老"],
    "elderly care": ["养老"],
    "hospital beds": ["床位"],
    "hospitals": ["医院"],
    "medical": ["医疗"],
    "roads": ["道路", "公路"],
    "rural roads": ["农村", "公路"],
    "railway": ["铁路"],
    "high-speed rail": ["高铁"],
    "subway": ["地铁", "轨道交通"],
    "water quality": ["水质"],
    "sewage": ["污水"],
    "black and odorous water": ["黑臭水体"],
    "carbon emissions": ["碳排放"],
    "energy consumption": ["能耗"],
    "films": ["电影"],
    "movies": ["电影"],
    "film screenings": ["放映", "电影"],
    "rural": ["农村"],
    "public welfare": ["公益"],
    "deputies' suggestions": ["人大代表建议"],
    "npc deputies": ["人大代表"],
    "suggestions": ["建议"],
    "proposals": ["提案"],
    "cppcc": ["政协"],
    "recruitment events": ["招聘活动"],
    "job fairs": ["招聘"],
    "grain output": ["粮食", "产量"],
    "grain": ["粮食"],
    "agriculture": ["农业"],
    "industrial output": ["工业", "增加值"],
    "industrial added value": ["工业增加值"],
    "added value": ["增加值"],
    "services": ["服务业"],
    "digital economy": ["数字经济"],
    "low-altitude economy": ["低空经济"],
    "low altitude economy": ["低空经济"],
    "new energy vehicles": ["新能源汽车"],
    "new-energy vehicles": ["新能源汽车"],
    "electric vehicles": ["新能源汽车"],
    "artificial intelligence": ["人工智能"],
    "new quality productive forces": ["新质生产力"],
    "hydrogen energy": ["氢能"],
    "integrated circuits": ["集成电路"],
    "semiconductors": ["集成电路"],
    "biomedicine": ["生物医药"],
    "commercial spaceflight": ["商业航天"],
    "data elements": ["数据要素"],
    "patents": ["专利"],
    "land": ["土地"],
    "cultivated land": ["耕地"],
    "urbanization rate": ["城镇化率"],
    "urbanization": ["城镇化"],
    "vaccination": ["疫苗"],
    "epidemic": ["疫情"],
    "fires": ["火灾"],
    "food safety": ["食品安全"],
    "market entities": ["市场主体"],
    "private economy": ["民营经济"],
    "reform": ["改革"],
    "targets": [],
    "target": [],
}

# Short forms reports use for an indicator's full name: a sentence with the short form states
# the same indicator ("预计全年GDP增长6%左右", "固投增长17%左右"). Lowercase, as matched.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "地区生产总值": ("gdp",),
    "生产总值": ("gdp",),
    "固定资产投资": ("固投",),
    "社会消费品零售总额": ("社零", "社消零"),
    "规模以上工业增加值": ("规上工业增加值",),
}



def other_forms(term: str) -> tuple[str, ...]:
    """The other ways reports write a term: its abbreviations, or the full names of an
    abbreviation ("gdp" → 地区生产总值, 生产总值)."""
    low = term.lower()
    forms = list(ABBREVIATIONS.get(low, ()))
    forms += [full for full, shorts in ABBREVIATIONS.items() if low in shorts]
    return tuple(dict.fromkeys(f for f in forms if f != low))


DIRECTIONS: dict[str, list[str]] = {
    "down": ["减少", "下降", "降低", "压减", "缩减", "回落", "双下降", "降幅", "减"],
    "up": ["增加", "增长", "提高", "提升", "上升", "新增", "增", "扩大", "新建", "改善", "好转"],
    "zero": ["未发生", "零", "无", "为零", "清零", "杜绝"],
}

EN_DIRECTIONS: dict[str, str] = {
    "reduce": "down", "reduced": "down", "cut": "down", "cuts": "down", "decrease": "down",
    "decreased": "down", "decline": "down", "declined": "down", "drop": "down",
    "dropped": "down", "fall": "down", "fell": "down", "lower": "down", "lowered": "down",
    "fewer": "down", "less": "down",
    "increase": "up", "increased": "up", "rise": "up", "rose": "up", "grow": "up", "grew": "up",
    "add": "up", "added": "up", "more": "up", "improve": "up", "improved": "up",
    "raise": "up", "raised": "up", "build": "up", "built": "up", "new": "up",
    "zero": "zero", "no": "zero", "free": "zero",
}

_PHRASES = sorted(GLOSSARY, key=len, reverse=True)


def translate(question: str) -> tuple[list[str], str | None]:
    """Chinese terms for the English phrases in a question, and the direction asked."""
    q = question.lower()
    terms: list[str] = []
    for phrase in _PHRASES:
        pattern = r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])"
        if re.search(pattern, q):
            terms += GLOSSARY[phrase]
            q = re.sub(pattern, " ", q)
    direction = None
    for word in re.findall(r"[a-z]+", q):
        if word in EN_DIRECTIONS:
            direction = EN_DIRECTIONS[word]
            break
    return list(dict.fromkeys(terms)), direction
