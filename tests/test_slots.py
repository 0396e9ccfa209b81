"""Slot extraction (call_routing/slots.py): addresses, phones, IDs, names, times and
organisations from colloquial transcripts, with spans into the input."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest

from call_routing.slots import (
    Slots,
    cn_number,
    extract_slots,
    id_checksum_ok,
    mask_ids,
    mask_phones,
)

NOW = datetime(2026, 3, 18, 15, 0)  # a Wednesday afternoon
VALID_ID = "440106199003071231"
VALID_ID_X = "11010519491231002X"


def _spans_match(text: str, slots: Slots) -> None:
    for group in ("phones", "id_numbers", "names", "times", "organisations"):
        for slot in getattr(slots, group):
            assert text[slot.span[0] : slot.span[1]] == slot.text, (group, slot)
    for address in slots.addresses:
        assert text[address.span[0] : address.span[1]] == address.text
        for part in address.parts:
            assert text[part.span[0] : part.span[1]] == part.text


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我电话13800138000", "13800138000"),
        ("电话是138 0013 8000谢谢", "13800138000"),
        ("手机138-0013-8000", "13800138000"),
        ("幺三八零零幺三八零零零", "13800138000"),
        ("一三八 零零一三 八零零零", "13800138000"),
        ("138零零13八零零零", "13800138000"),
        ("我的手机是幺五九，两洞洞拐，勾八六五", "15920079865"),
        ("号码幺八六，嗯，二七五零，三三四四", "18627503344"),
        ("+8613800138000", "13800138000"),
        ("联系方式：１３８００１３８０００", "13800138000"),
        ("打我电话一五零一二三四五六七八就得", "15012345678"),
        ("幺叁捌零零壹叁捌零零零", "13800138000"),
    ],
)
def test_mobile_numbers_written_and_spoken(text: str, value: str) -> None:
    slots = extract_slots(text, now=NOW)
    assert [p.value for p in slots.phones] == [value]
    assert slots.phones[0].kind == "mobile"
    assert slots.phones[0].masked == value[:3] + "****" + value[-4:]
    _spans_match(text, slots)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("座机020-87654321", "020-87654321"),
        ("家里电话是020 8765 4321", "020-87654321"),
        ("零二零八七六五四三二一", "020-87654321"),
        ("东莞的座机0769-22334455", "0769-22334455"),
        ("(0757)8123456", "0757-8123456"),
    ],
)
def test_landlines(text: str, value: str) -> None:
    phones = extract_slots(text, now=NOW).phones
    assert [(p.value, p.kind) for p in phones] == [(value, "landline")]


def test_service_number_and_two_numbers_in_one_call() -> None:
    slots = extract_slots("客服电话4008823823，我手机13800138000，另一个13912345678", now=NOW)
    assert [(p.value, p.kind) for p in slots.phones] == [
        ("400-882-3823", "service"),
        ("13800138000", "mobile"),
        ("13912345678", "mobile"),
    ]


def test_a_mobile_and_a_landline_said_together_are_not_an_id() -> None:
    slots = extract_slots("电话138-0013-8000, 020 8765 4321", now=NOW)
    assert [p.value for p in slots.phones] == ["13800138000", "020-87654321"]
    assert slots.id_numbers == ()


@pytest.mark.parametrize(
    "text",
    ["一二三四五", "12345", "住三栋二零三", "110", "工号2301", "3个人", "一二三四五六七八九十"],
)
def test_short_numbers_are_not_phones(text: str) -> None:
    assert extract_slots(text, now=NOW).phones == ()


def test_mask_phones() -> None:
    text = "我电话幺三八零零幺三八零零零，座机020-87654321。"
    masked = mask_phones(text)
    assert masked == "我电话138****8000，座机020-****4321。"
    assert mask_phones("没有号码") == "没有号码"


# --------------------------------------------------------------------------- ID numbers


def test_checksum() -> None:
    assert id_checksum_ok(VALID_ID)
    assert id_checksum_ok(VALID_ID_X) and id_checksum_ok(VALID_ID_X.lower())
    assert not id_checksum_ok("440106199003071232")
    assert not id_checksum_ok("44010619900307123")
    assert not id_checksum_ok("4401061990030712XX")


@pytest.mark.parametrize(
    ("text", "value", "valid"),
    [
        (f"身份证号是{VALID_ID}", VALID_ID, True),
        (f"身份证{VALID_ID_X}", VALID_ID_X, True),
        (f"身份证{VALID_ID_X.lower()}", VALID_ID_X, True),
        ("身份证 4401 0619 9003 0712 31", VALID_ID, True),
        ("身份证四四零幺零六幺九九零零三零七幺二三幺", VALID_ID, True),
        ("幺幺零幺零五幺九四九幺二三幺零零二叉", VALID_ID_X, True),
        ("身份证440106199003071232", "440106199003071232", False),  # wrong check digit
        ("身份证440106199013071236", "440106199013071236", False),  # month 13
    ],
)
def test_id_numbers(text: str, value: str, valid: bool) -> None:
    ids = extract_slots(text, now=NOW).id_numbers
    assert [(i.value, i.valid) for i in ids] == [(value, valid)]
    assert ids[0].masked == value[:4] + "*" * 10 + value[-4:]
    assert extract_slots(text, now=NOW).phones == ()


def test_mask_ids_keeps_first_and_last_four() -> None:
    assert mask_ids(f"身份证{VALID_ID_X}，谢谢") == "身份证1101**********002X，谢谢"
    spoken = "我身份证四四零幺零六幺九九零零三零七幺二三幺"
    assert mask_ids(spoken) == "我身份证4401**********1231"
    both = mask_phones(mask_ids(f"{VALID_ID} 13800138000"))
    assert both == "4401**********1231 138****8000"


# --------------------------------------------------------------------------- addresses


def test_full_guangzhou_address() -> None:
    text = (
        "喂，你好，我住在广州市天河区石牌街道华师社区，就是天河北路233号中信广场附近，3栋2单元1203"
    )
    slots = extract_slots(text, now=NOW)
    address = slots.address
    assert address is not None
    assert (address.province, address.city, address.district) == ("广东省", "广州市", "天河区")
    assert (address.street, address.community) == ("石牌街道", "华师社区")
    assert address.road == "天河北路233号"
    assert address.landmarks == ("中信广场附近",)
    assert address.building == "3栋2单元1203"
    assert (
        address.address == "广东省广州市天河区石牌街道华师社区天河北路233号中信广场附近3栋2单元1203"
    )
    _spans_match(text, slots)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("我在天河这边", {"province": "广东省", "city": "广州市", "district": "天河区"}),
        (
            "佛山南海大沥镇凤池村那边",
            {"city": "佛山市", "district": "南海区", "street": "大沥镇", "community": "凤池村"},
        ),
        ("番禺区市桥街道", {"city": "广州市", "district": "番禺区", "street": "市桥街道"}),
        ("深圳宝安区西乡街道", {"city": "深圳市", "district": "宝安区", "street": "西乡街道"}),
        ("我系江门嘅，住蓬江区", {"city": "江门市", "district": "蓬江区"}),
        ("东莞虎门镇", {"province": "广东省", "city": "东莞市", "street": "虎门镇"}),
        ("湖南省长沙市", {"province": "湖南省", "city": "长沙市"}),
        ("南京市鼓楼区", {"province": "江苏省", "city": "南京市", "district": "鼓楼区"}),
        ("广西南宁", {"province": "广西壮族自治区", "city": "南宁市"}),
        ("北京市朝阳区", {"province": "北京市", "district": "朝阳区"}),
        ("深圳光明区", {"city": "深圳市", "district": "光明区"}),
        ("湛江市霞山区", {"city": "湛江市", "district": "霞山区"}),
        ("韶关乳源", {"city": "韶关市", "district": "乳源瑶族自治县"}),
    ],
)
def test_administrative_levels(text: str, fields: dict[str, str]) -> None:
    address = extract_slots(text, now=NOW).address
    assert address is not None
    for key, value in fields.items():
        assert getattr(address, key) == value, (text, key, address)


@pytest.mark.parametrize(
    ("text", "level", "value"),
    [
        ("碧桂园小区门口的垃圾", "landmark", "碧桂园小区门口"),
        ("在体育西路地铁站附近", "landmark", "体育西路地铁站附近"),
        ("就在市第一人民医院对面", "landmark", "市第一人民医院对面"),
        ("丽江花园", "landmark", "丽江花园"),
        ("我们在中山大道西89号", "road", "中山大道西89号"),
        ("东风东路八百号", "road", "东风东路八百号"),
        ("住在解放中路", "road", "解放中路"),
        ("上社村", "community", "上社村"),
        ("石牌街道办", "street", "石牌街道办"),
        ("5号楼1203室", "building", "5号楼1203室"),
        ("B座12楼", "building", "B座12楼"),
        ("三栋二单元五零二", "building", "三栋二单元五零二"),
    ],
)
def test_street_level_parts(text: str, level: str, value: str) -> None:
    slots = extract_slots(text, now=NOW)
    parts = [(p.level, p.value) for a in slots.addresses for p in a.parts]
    assert (level, value) in parts, parts
    _spans_match(text, slots)


@pytest.mark.parametrize(
    "text",
    [
        "过马路的时候",
        "我们农村的老人",
        "修路修了三个月",
        "中山大学的学生",
        "广东话我听不懂",
        "走路去上班",
        "我去逛街",
        "我们小区",
    ],
)
def test_everyday_words_are_not_addresses(text: str) -> None:
    slots = extract_slots(text, now=NOW)
    levels = [p.level for a in slots.addresses for p in a.parts]
    assert not any(
        level in ("province", "city", "district", "road", "community") for level in levels
    )


def test_parts_far_apart_make_separate_addresses_fullest_first() -> None:
    text = "我住在越秀区北京街道。另外公司那边的中信广场也有问题"
    addresses = extract_slots(text, now=NOW).addresses
    assert len(addresses) == 2
    assert addresses[0].district == "越秀区" and addresses[0].street == "北京街道"
    assert addresses[1].landmarks


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("text", "value", "surname"),
    [
        ("我叫陈大文", "陈大文", "陈"),
        ("你好我叫张伟，我住在天河", "张伟", "张"),
        ("我姓黄", "黄", "黄"),
        ("免贵姓王", "王", "王"),
        ("我姓黄，黄先生", "黄先生", "黄"),
        ("我是李女士", "李女士", "李"),
        ("我是王小明，想投诉", "王小明", "王"),
        ("我系陈生", "陈生", "陈"),
        ("找一下刘师傅", "刘师傅", "刘"),
        ("联系人是欧阳娜娜", "欧阳娜娜", "欧阳"),
        ("联系人：林小姐", "林小姐", "林"),
        ("我的名字叫梁志强", "梁志强", "梁"),
        ("有个姓麦的师傅", "麦", "麦"),
    ],
)
def test_names(text: str, value: str, surname: str) -> None:
    slots = extract_slots(text, now=NOW)
    assert slots.names, text
    assert (slots.names[0].value, slots.names[0].surname) == (value, surname)
    _spans_match(text, slots)


@pytest.mark.parametrize(
    "text",
    [
        "我是业主",
        "我是黄埔的",
        "我是想问一下",
        "维修师傅没来",
        "班主任老师不管",
        "我是这里的住户",
        "我叫了物业",
        "老百姓的事",
        "我是外地人",
        "我叫车去医院",
        "司机师傅态度差",
    ],
)
def test_not_names(text: str) -> None:
    assert extract_slots(text, now=NOW).names == (), extract_slots(text, now=NOW).names


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("昨天晚上十点", datetime(2026, 3, 17, 22, 0)),
        ("昨晚十点半", datetime(2026, 3, 17, 22, 30)),
        ("今天早上七点半", datetime(2026, 3, 18, 7, 30)),
        ("前天下午三点一刻", datetime(2026, 3, 16, 15, 15)),
        ("凌晨两点多", datetime(2026, 3, 18, 2, 0)),
        ("上周三凌晨两点", datetime(2026, 3, 11, 2, 0)),
        ("琴日夜晚十一点", datetime(2026, 3, 17, 23, 0)),
        ("今天中午一点", datetime(2026, 3, 18, 13, 0)),
        ("晚上十点左右", datetime(2026, 3, 17, 22, 0)),  # later than now: last night
        ("下午3点", datetime(2026, 3, 18, 15, 0)),
        ("2026年3月5日上午9:30", datetime(2026, 3, 5, 9, 30)),
        ("两个小时前", datetime(2026, 3, 18, 13, 0)),
        ("昨天半夜两点", datetime(2026, 3, 18, 2, 0)),
    ],
)
def test_points_with_a_clock(text: str, value: datetime) -> None:
    times = extract_slots(text, now=NOW).times
    assert [(t.kind, t.value) for t in times] == [("point", value)], times


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("前天", date(2026, 3, 16)),
        ("大前天", date(2026, 3, 15)),
        ("明天", date(2026, 3, 19)),
        ("三月五号", date(2026, 3, 5)),
        ("3月5号", date(2026, 3, 5)),
        ("2026年3月5日", date(2026, 3, 5)),
        ("二零二五年十二月三十一号", date(2025, 12, 31)),
        ("去年十月一号", date(2025, 10, 1)),
        ("2026-03-05", date(2026, 3, 5)),
        ("上周三", date(2026, 3, 11)),
        ("上个星期天", date(2026, 3, 15)),
        ("这周一", date(2026, 3, 16)),
        ("下礼拜五", date(2026, 3, 27)),
        ("星期五", date(2026, 3, 13)),
        ("上个月二十号", date(2026, 2, 20)),
        ("三天前", date(2026, 3, 15)),
    ],
)
def test_points_on_a_day(text: str, value: date) -> None:
    times = extract_slots(text, now=NOW).times
    assert [(t.kind, t.value) for t in times] == [("point", value)], times


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("已经三个月了", 90 * 86400),
        ("半年了", 182 * 86400 + 43200),
        ("两个多星期", 14 * 86400),
        ("一个半月", 45 * 86400),
        ("持续两个小时", 7200),
        ("已经十天了", 10 * 86400),
        ("好几天了", None),
        ("一年多了", 365 * 86400),
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    times = extract_slots(text, now=NOW).times
    assert [(t.kind, t.seconds) for t in times] == [("duration", seconds)], times


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("每天晚上", None),
        ("每天晚上十点以后", "22:00"),
        ("天天早上六点", "06:00"),
        ("一到晚上就吵", None),
        ("每个周末", None),
        ("每周六早上七点", "07:00"),
        ("经常半夜", None),
    ],
)
def test_recurring(text: str, clock: str | None) -> None:
    times = extract_slots(text, now=NOW).times
    assert times and times[0].kind == "recurring" and times[0].clock == clock, times


def test_times_without_now_keep_text_but_no_dates() -> None:
    times = extract_slots("昨天晚上十点，三月五号", now=None).times
    assert [t.text for t in times] == ["昨天晚上十点", "三月五号"]
    assert times[0].value is None
    assert times[1].value is None  # the year needs now


@pytest.mark.parametrize("text", ["三千年前这里是海", "一万年以后", "一百万年前的化石"])
def test_a_time_beyond_the_calendar_is_a_mention_without_a_date(text: str) -> None:
    times = extract_slots(text, now=NOW).times
    assert times and times[0].value is None, times


def test_a_sentence_with_several_times() -> None:
    text = "从去年开始，每天晚上十点以后楼上就有噪音，已经三个月了，昨天凌晨两点多还在吵"
    times = extract_slots(text, now=NOW).times
    assert [t.kind for t in times] == ["point", "recurring", "duration", "point"]
    assert times[3].value == datetime(2026, 3, 17, 2, 0) and times[3].approximate


@pytest.mark.parametrize("text", ["有三点要求", "三月份的水费", "第一点", "两点建议"])
def test_not_times(text: str) -> None:
    times = extract_slots(text, now=NOW).times
    assert all(t.value is None for t in times), times


def test_impossible_dates_are_kept_unresolved() -> None:
    times = extract_slots("二月三十号", now=NOW).times
    assert [(t.text, t.value) for t in times] == [("二月三十号", None)]


# --------------------------------------------------------------------------- organisations


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("投诉广州市某某科技有限公司拖欠工资", "广州市某某科技有限公司", "有限公司"),
        ("楼下沃尔玛超市半夜装货", "沃尔玛超市", "超市"),
        ("那家麦当劳餐厅卫生很差", "麦当劳餐厅", "餐厅"),
        ("中国建设银行天河支行", "中国建设银行天河支行", "银行"),
        ("陶陶居酒楼门口", "陶陶居酒楼", "酒楼"),
        ("大参林药店卖假药", "大参林药店", "药店"),
        ("万科物业不管", "万科物业", "物业"),
        ("链家地产中介", "链家地产", "地产"),
        ("新东方培训机构不退费", "新东方培训机构", "培训机构"),
        ("小太阳幼儿园乱收费", "小太阳幼儿园", "幼儿园"),
        ("石牌派出所", "石牌派出所", "派出所"),
        ("家乐福超市", "家乐福超市", "超市"),
    ],
)
def test_organisations(text: str, value: str, kind: str) -> None:
    slots = extract_slots(text, now=NOW)
    assert (value, kind) in [(o.value, o.kind) for o in slots.organisations], slots.organisations
    _spans_match(text, slots)


def test_organisation_city_is_not_the_callers_address() -> None:
    slots = extract_slots("投诉广州市某某科技有限公司", now=NOW)
    assert slots.addresses == ()


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("十", 10),
        ("十五", 15),
        ("二十三", 23),
        ("一百二十", 120),
        ("三百八十五", 385),
        ("两千零二十六", 2026),
        ("二零二六", 2026),
        ("385", 385),
        ("", None),
        ("abc", None),
    ],
)
def test_cn_number(said: str, value: int | None) -> None:
    assert cn_number(said) == value


# --------------------------------------------------------------------------- a whole call


def test_a_whole_call() -> None:
    text = (
        "喂，你好，嗯，那个，我姓陈，陈先生，我住在佛山市顺德区大良街道，就是那个碧桂园小区"
        "门口，那个楼下有一家大排档，就是那个好味道大排档，每天晚上十二点以后还在那里吵，"
        "已经两个多月了，昨天凌晨两点多我下去跟他讲，他还骂我，我电话是幺三九 二五八零 "
        f"六六七七，身份证号{VALID_ID}，麻烦你们处理一下"
    )
    slots = extract_slots(text, now=NOW)
    assert slots.names[0].value == "陈先生"
    address = slots.address
    assert address is not None
    assert (address.city, address.district, address.street) == ("佛山市", "顺德区", "大良街道")
    assert "碧桂园小区门口" in address.landmarks
    assert [p.value for p in slots.phones] == ["13925806677"]
    assert [i.value for i in slots.id_numbers] == [VALID_ID]
    assert "好味道大排档" in [o.value for o in slots.organisations]
    kinds = [t.kind for t in slots.times]
    assert kinds == ["recurring", "duration", "point"]
    _spans_match(text, slots)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "喂？嗯……那个，就是，嗯嗯",
        "hello my phone is 138 and ID is xyz, room 12B",
        "😀🔥 12345 🚒 我住在😀小区",
        "\x00\ufeff\u200b",
        "号" * 20,
        "1" * 40,
        "一" * 40,
    ],
)
def test_bad_input_gives_valid_slots(text: str) -> None:
    slots = extract_slots(text, now=NOW)
    assert isinstance(slots, Slots)
    _spans_match(text, slots)
    assert isinstance(mask_ids(text), str) and isinstance(mask_phones(text), str)


def test_non_string_input() -> None:
    assert extract_slots(None, now=NOW) == Slots()  # type: ignore[arg-type]
    assert mask_ids(None) == ""  # type: ignore[arg-type]


def test_results_are_frozen() -> None:
    slots = extract_slots("我叫张伟", now=NOW)
    with pytest.raises(AttributeError):
        slots.names = ()  # type: ignore[misc]


def test_long_input_is_quick() -> None:
    chunk = (
        "嗯那个就是我想反映一下，我住在广州市天河区石牌街道，电话13800138000，"
        "昨天晚上十点多楼下沃尔玛超市又在装货，abc 123 😀，"
    )
    text = (chunk * 100)[:5000]
    started = time.perf_counter()
    slots = extract_slots(text, now=NOW)
    elapsed = time.perf_counter() - started
    print(f"\nextract_slots on 5,000 characters: {elapsed * 1000:.1f} ms")
    assert slots.phones and slots.addresses and slots.times
    for worst in ("一" * 5000, "号楼" * 2500, "天河" * 2500, "三个月" * 1666, "我叫" * 2500):
        started = time.perf_counter()
        extract_slots(worst, now=NOW)
        mask_ids(worst)
        elapsed = time.perf_counter() - started
        print(f"extract_slots + mask_ids on {worst[:4]}… × 5,000: {elapsed * 1000:.1f} ms")
