"""Place names the slot extractor knows by heart: every province (省级行政区) with its
capital, and Guangdong's cities with their districts and counties.

Kept as plain constants (about 180 names) so that importing costs nothing.  A
district's short form (天河 for 天河区) is accepted in speech unless it is an everyday
word as well (光明, 高明, 新会…), in which case only the full form counts.
"""

from __future__ import annotations


def words(spaced: str) -> tuple[str, ...]:
    """ "a b c" → ("a", "b", "c"): long word lists read better spaced out."""
    return tuple(spaced.split())


# province → its capital (直辖市 are their own capital)
PROVINCES: dict[str, str] = {
    "北京市": "北京市",
    "天津市": "天津市",
    "上海市": "上海市",
    "重庆市": "重庆市",
    "河北省": "石家庄市",
    "山西省": "太原市",
    "辽宁省": "沈阳市",
    "吉林省": "长春市",
    "黑龙江省": "哈尔滨市",
    "江苏省": "南京市",
    "浙江省": "杭州市",
    "安徽省": "合肥市",
    "福建省": "福州市",
    "江西省": "南昌市",
    "山东省": "济南市",
    "河南省": "郑州市",
    "湖北省": "武汉市",
    "湖南省": "长沙市",
    "广东省": "广州市",
    "海南省": "海口市",
    "四川省": "成都市",
    "贵州省": "贵阳市",
    "云南省": "昆明市",
    "陕西省": "西安市",
    "甘肃省": "兰州市",
    "青海省": "西宁市",
    "台湾省": "台北市",
    "内蒙古自治区": "呼和浩特市",
    "广西壮族自治区": "南宁市",
    "西藏自治区": "拉萨市",
    "宁夏回族自治区": "银川市",
    "新疆维吾尔自治区": "乌鲁木齐市",
    "香港特别行政区": "香港特别行政区",
    "澳门特别行政区": "澳门特别行政区",
}

# Guangdong city → its districts (区), county-level cities (市) and counties (县)
GUANGDONG: dict[str, tuple[str, ...]] = {
    "广州市": words("荔湾区 越秀区 海珠区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 从化区 增城区"),
    "深圳市": words("罗湖区 福田区 南山区 宝安区 龙岗区 盐田区 龙华区 坪山区 光明区 大鹏新区"),
    "珠海市": words("香洲区 斗门区 金湾区"),
    "汕头市": words("龙湖区 金平区 濠江区 潮阳区 潮南区 澄海区 南澳县"),
    "佛山市": words("禅城区 南海区 顺德区 三水区 高明区"),
    "韶关市": words(
        "武江区 浈江区 曲江区 乐昌市 南雄市 始兴县 仁化县 翁源县 新丰县 乳源瑶族自治县"
    ),
    "河源市": words("源城区 紫金县 龙川县 连平县 和平县 东源县"),
    "梅州市": words("梅江区 梅县区 兴宁市 大埔县 丰顺县 五华县 平远县 蕉岭县"),
    "惠州市": words("惠城区 惠阳区 博罗县 惠东县 龙门县"),
    "汕尾市": words("城区 陆丰市 海丰县 陆河县"),
    "东莞市": (),
    "中山市": (),
    "江门市": words("蓬江区 江海区 新会区 台山市 开平市 鹤山市 恩平市"),
    "阳江市": words("江城区 阳东区 阳春市 阳西县"),
    "湛江市": words("赤坎区 霞山区 坡头区 麻章区 廉江市 雷州市 吴川市 遂溪县 徐闻县"),
    "茂名市": words("茂南区 电白区 高州市 化州市 信宜市"),
    "肇庆市": words("端州区 鼎湖区 高要区 四会市 广宁县 怀集县 封开县 德庆县"),
    "清远市": words("清城区 清新区 英德市 连州市 佛冈县 阳山县 连山壮族瑶族自治县 连南瑶族自治县"),
    "潮州市": words("湘桥区 潮安区 饶平县"),
    "揭阳市": words("榕城区 揭东区 普宁市 揭西县 惠来县"),
    "云浮市": words("云城区 云安区 罗定市 新兴县 郁南县"),
}

# Short forms that are everyday words too: only the full name is taken.
AMBIGUOUS_SHORT = frozenset(
    words("光明 高明 江海 江城 云城 云安 清新 新兴 和平 紫金 龙门 平远 新丰 新会 龙湖 阳春")
)

_SUFFIXES = ("特别行政区", "维吾尔自治区", "回族自治区", "壮族自治区", "自治区", "省", "市")
_COUNTY_SUFFIXES = ("瑶族自治县", "壮族瑶族自治县", "自治县", "新区", "区", "县", "市")


def short_name(full: str, suffixes: tuple[str, ...] = _SUFFIXES) -> str:
    """广东省 → 广东, 广西壮族自治区 → 广西, 乳源瑶族自治县 → 乳源."""
    for suffix in sorted(suffixes, key=len, reverse=True):
        if full.endswith(suffix) and len(full) - len(suffix) >= 2:
            return full[: -len(suffix)]
    return full


def _province_of_city() -> dict[str, str]:
    found = {capital: province for province, capital in PROVINCES.items()}
    found.update({city: "广东省" for city in GUANGDONG})
    return found


PROVINCE_OF_CITY: dict[str, str] = _province_of_city()
CITY_OF_DISTRICT: dict[str, str] = {
    district: city for city, districts in GUANGDONG.items() for district in districts
}
