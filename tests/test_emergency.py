"""Emergency detection (call_routing/emergency.py): recall on colloquial, indirect,
Cantonese-flavoured and ASR-garbled phrasings; precision on hard negatives."""

from __future__ import annotations

import time

import pytest

from call_routing.emergency import DEFAULT_NUMBERS, Emergency, cues_set_aside, detect_emergency

# (text, kind, number): every one must be caught; "a|b" where either kind is right
# (someone with a knife hacking at people is violence and a weapon).
POSITIVES: list[tuple[str, str, str]] = [
    # fire and smoke
    ("喂，12345吗，我们楼下着火了，好大的火", "fire", "119"),
    ("隔壁那栋楼起火了，快点派人来", "fire", "119"),
    ("好大烟啊，冒烟冒火，三楼那家", "fire", "119"),
    ("我闻到好大烧焦味，走廊全是烟", "fire", "119"),
    ("厨房着咗火啊，点算", "fire", "119"),
    ("电动车在楼道里充电烧起来了", "fire", "119"),
    ("火烛啊，快啲嚟", "fire", "119"),
    ("对面山上火好大，烧到村边了", "fire", "119"),
    ("嗯那个那个，仓库里面冒黑烟，好像有明火", "fire", "119"),
    ("着 火 了 ， 在 五 楼", "fire", "119"),
    ("楼上好像着伙了有烟出来", "fire", "119"),
    ("我想问一下，楼下现在着火了怎么办", "fire", "119"),
    ("不知道是不是着火了，好多烟", "fire", "119"),
    ("上个月着火了一次，现在又着火了", "fire", "119"),
    ("电线冒火花，着火了", "fire", "119"),
    # gas and explosion
    ("煤气味好重，整层楼都是", "gas", "119"),
    ("我屋企好大阵煤气味啊", "gas", "119"),
    ("厨房燃气管漏气了，嘶嘶响", "gas", "119"),
    ("闻到一股天然气的味道，好臭", "gas", "119"),
    ("媒气泄漏了，我们都跑出来了", "gas", "119"),
    ("液化气罐好像在漏", "gas", "119"),
    ("那边餐馆爆炸了，好大声", "explosion", "119"),
    ("刚才嘭的一声，锅炉爆了", "explosion", "119"),
    ("充电宝炸了，起火了", "fire", "119"),
    ("工厂发生爆炸，有人受伤", "explosion", "119"),
    # trapped, cars, water, collapse
    ("电梯困人了，我们小区三栋", "trapped", "119"),
    ("我被困在电梯里面了，出不来", "trapped", "119"),
    ("𨋢坏咗，有人困咗喺入面", "trapped", "119"),
    ("电梯卡住了，里面有个老人", "trapped", "119"),
    ("升降机突然急坠，停在半路", "trapped", "119"),
    ("有个小孩被锁在车里，车窗关着", "locked_in_car", "119"),
    ("停车场有个bb仔焗咗喺车入面", "locked_in_car", "119"),
    ("宝宝反锁在车内了，钥匙在里面", "locked_in_car", "119"),
    ("有人掉河里了，在水里挣扎", "drowning", "119"),
    ("小朋友跌落水塘啊", "drowning", "119"),
    ("水库那边有人溺水", "drowning", "119"),
    ("那栋旧楼塌了，下面好像有人", "collapse", "119"),
    ("工地的墙倒了压住人了", "collapse", "119"),
    ("山体滑坡，路上有车被埋", "collapse", "119"),
    ("水浸到二楼了，老人困在家里出不来", "trapped", "119"),
    ("水淹到腰了，救命啊", "distress", "110"),
    # suicide
    ("有人要跳楼，在我们楼顶", "suicide", "110"),
    ("有个后生仔企喺天台边", "suicide", "110"),
    ("我邻居说不想活了，拿着绳子", "suicide", "110"),
    ("桥上有个女的想跳河", "suicide", "110"),
    ("我朋友吃了一瓶安眠药", "suicide", "110"),
    ("我老公说要烧炭，门锁着", "suicide", "110"),
    ("有人坐在窗台上，好危险", "suicide", "110"),
    ("那个学生站在楼顶，一直在哭", "suicide", "110"),
    # violence and weapons
    ("有人持刀砍人，就在菜市场门口", "violence|weapon", "110"),
    ("楼下有个男的拿着刀追人", "weapon", "110"),
    ("两帮人打起来了，拿着铁棍", "weapon", "110"),
    ("我老公在打我，家暴，救命", "violence|distress", "110"),
    ("有人揸刀喺街度劈友", "violence|weapon", "110"),
    ("外面有人开枪", "weapon", "110"),
    ("有贼入屋，在撬我家门", "violence", "110"),
    ("店里有人抢劫", "violence", "110"),
    ("街上有人打架打到流血", "violence", "110"),
    ("隔壁一直在吵，好像在打人，小孩在哭", "violence", "110"),
    ("有个男的一路跟踪我，我好怕", "violence", "110"),
    ("救命啊", "distress", "110"),
    ("快帮我报警", "distress", "110"),
    ("就命啊有人追我", "distress", "110"),
    # medical
    ("我爸突然晕倒了", "medical", "120"),
    ("佢晕咗，叫唔醒", "medical", "120"),
    ("阿婆唔喘气啊", "medical", "120"),
    ("老人家倒在地上，没有呼吸了", "medical", "120"),
    ("我老公叫他没反应", "medical", "120"),
    ("他心脏病发了，胸口好痛", "medical", "120"),
    ("我妈好像中风了，嘴歪了", "medical", "120"),
    ("小孩抽搐口吐白沫", "medical", "120"),
    ("他手割到了，流好多血", "medical", "120"),
    ("一家人吃了蘑菇食物中毒", "medical", "120"),
    ("快叫救护车", "medical", "120"),
    ("有人被车撞了，躺在路中间", "medical", "120"),
    ("路口出车祸了", "traffic", "110"),
    ("我老婆要生了，羊水破了", "medical", "120"),
    ("喘不上气了，帮帮我", "medical", "120"),
    ("有人从楼上掉下来", "medical", "120"),
    ("老人在家昏迷", "medical", "120"),
    ("小孩噎住了，脸都紫了", "medical", "120"),
    ("他云倒了，叫不醒", "medical", "120"),
    ("有个阿伯跌倒了起不来，快来", "medical", "120"),
    # electricity
    ("工人触电了", "electric_shock", "120"),
    ("有人被电到了，倒在地上", "medical", "120"),
    ("电线断了掉在路上，还在冒火花", "power_line|fire", "119"),
    # indirect: missing people who cannot look after themselves, self-harm, swallowing
    ("我外婆有点糊涂，下午出门买菜，天黑了还没回来", "missing", "110"),
    ("我阿爷有认知障碍，自己行出去冇返屋企，电话又唔带", "missing", "110"),
    ("小朋友在公园一转眼不见了，才四岁", "missing", "110"),
    ("我弟一直说活着没意思，刚才发信息就关机了", "suicide", "110"),
    ("我女儿把一颗纽扣电池吞下去了", "medical", "120"),
    ("他切到手了，血一直流，压都压不住", "medical", "120"),
    ("楼道里一股臭鸡蛋的味道，几层都有", "gas", "119"),
    ("三楼有火，楼道好窄", "fire", "119"),
    ("邻居家一股好重的燃气味，敲门没人应，会不会出事", "gas", "119"),
    ("我爷爷在楼梯上摔了，坐在地上起不来", "medical", "120"),
]

# Hard negatives: every one must NOT be an emergency.
NEGATIVES: list[str] = [
    "上个月着火了，想问一下赔偿怎么弄",
    "煤气费怎么交",
    "燃气费太贵了，怎么算的",
    "120救护车收费太贵了，想投诉",
    "消防通道被堵了，物业不管",
    "楼下烧烤店油烟很大，每天晚上都冒烟",
    "打架的事上周发生的，想问处理结果",
    "没有着火，就是想问一下消防检查",
    "不是煤气味，是下水道的臭味",
    "我想投诉火锅店的服务",
    "商场在搞跳楼价大甩卖",
    "电梯坏了三天了没人修",
    "万一着火了怎么办，楼道堆满了东西",
    "我想咨询一下消防演练的事情",
    "小区电线老化，担心会着火，有隐患",
    "我老公在单位打工，工资被拖欠",
    "我在公司被领导骂了，压力很大",
    "你们打我电话就行",
    "我发烧了想问社康几点开门",
    "去年有人在这里跳楼，现在想问这个楼能不能买",
    "我反映了好多次都没反应",
    "投诉以后一点反应都没有",
    "我想办理燃气开户",
    "煤气没气了，想问怎么充值",
    "我的车钥匙锁在车里了",
    "我手机掉水里了",
    "天台漏水好几个月了",
    "邻居天天在天台晒被子",
    "工厂排放黑烟，污染很严重",
    "村里有人烧垃圾，好大烟，天天都是",
    "想问一下电动车充电的安全知识",
    "我快热死了，空调坏了",
    "这个游戏里面杀人太多",
    "我想报名学急救培训",
    "他上次晕倒已经送医院了，现在想问医保报销",
    "孩子心跳有点快，想问挂什么科",
    "我想跳槽，劳动合同怎么解除",
    "跳广场舞的声音太大",
    "网上说那边着火了，是真的吗",
    "食物中毒的事情去年就处理好了",
    "想问一下家里装烟雾报警器有没有补贴",
    "楼下炸鸡店味道好大",
    "我快气炸了，这个服务态度",
    "我想问一下打疫苗要预约吗",
    "这个路口经常出车祸，建议装红绿灯",
    "被打扰了一晚上，装修好吵",
    "电脑中毒了",
    "火车站的出租车乱收费",
    "我想投诉救护车来得太慢，上个月的事",
    "几天前下雨水浸街，现在想问排水什么时候修",
    "我们这里停电了，电梯停了没人困",
    "请问燃气泄漏报警器在哪里买",
    # past events, paperwork and praise around a cue
    "上个礼拜我外公走丢了，后来是民警找到他的，想谢谢他们",
    "我妈有老年痴呆，之前走丢过一次，想问防走失手环去哪里领",
    "我想表扬一下那个司机，今天有人晕倒他马上停车叫了救护车",
    "昨天在工地摔了，现在在家休养，工伤怎么申请",
    "前两个星期楼下起火，消防把门撬了，现在门锁谁来修",
    "我家热水器打不着火了，没有味道，就是点不着",
    "燃气表箱被车撞歪了，能不能派人来看看",
    "学校有没有防溺水的课，想让孩子学一学",
    "我爸有心脏病，什么情况要马上打一二零",
    "一栋楼只有一条楼梯，还有人在楼道做饭",
    "有人在楼顶搭违建，用铁皮围起来了",
    "老人上下楼摔倒过，楼梯灯坏了没人修",
    "拨一一零是不是不用钱",
    "这个玩具塑料味好重，商家说没问题",
    "包工头把工资卷走了",
    "我的车胎漏气了，附近哪里能补",
]

# Negatives the rules are allowed to get wrong (a false alarm an agent clears).
ALLOWED_FALSE_POSITIVES: set[str] = set()


@pytest.mark.parametrize(("text", "kind", "number"), POSITIVES)
def test_every_positive_is_caught(text: str, kind: str, number: str) -> None:
    found = detect_emergency(text)
    assert found is not None, text
    assert found.kind in kind.split("|") and found.number == number, (text, found)
    assert text[found.span[0] : found.span[1]] == found.cue
    assert 0.5 <= found.confidence <= 0.99


@pytest.mark.parametrize("text", [t for t in NEGATIVES if t not in ALLOWED_FALSE_POSITIVES])
def test_hard_negatives_are_not_emergencies(text: str) -> None:
    assert detect_emergency(text) is None, (text, detect_emergency(text))


def test_sizes_and_recall() -> None:
    assert len(POSITIVES) >= 80 and len(NEGATIVES) >= 50
    kinds = {k for _, kind, _ in POSITIVES for k in kind.split("|")}
    assert {"fire", "gas", "explosion", "trapped", "suicide", "violence", "medical"} <= kinds
    caught = sum(detect_emergency(text) is not None for text, _, _ in POSITIVES)
    assert caught == len(POSITIVES)


def test_cues_set_aside_only_when_every_cue_was_guarded() -> None:
    assert cues_set_aside("去年后厨着火了，我的包烧掉了，店家到现在都不赔")
    assert not cues_set_aside("去年着火了一次，现在又着火了")  # the second fire is now
    assert not cues_set_aside("我家的宽带又断了")  # no cue at all: nothing set aside
    assert not cues_set_aside("")


def test_numbers_come_from_the_mapping_with_defaults() -> None:
    found = detect_emergency("着火了", {"fire": "96119"})
    assert found is not None and found.number == "96119" and found.service == "fire"
    police = detect_emergency("有人砍人", {"fire": "96119"})
    assert police is not None and police.number == DEFAULT_NUMBERS["police"]
    assert detect_emergency("佢晕咗", None).number == "120"  # type: ignore[union-attr]


def test_result_is_frozen() -> None:
    found = detect_emergency("着火了")
    assert isinstance(found, Emergency)
    with pytest.raises(AttributeError):
        found.number = "0"  # type: ignore[misc]


def test_span_points_into_the_original_text_with_spaces_and_fillers() -> None:
    text = "喂 嗯 那个 着 火 了"
    found = detect_emergency(text)
    assert found is not None and found.cue == "着 火"
    assert found.span == (text.index("着"), text.index("火") + 1)


def test_urgency_and_several_cues_raise_confidence() -> None:
    plain = detect_emergency("有人晕倒")
    urgent = detect_emergency("快点，有人晕倒了，没有呼吸，救命")
    assert plain is not None and urgent is not None
    assert urgent.confidence > plain.confidence


def test_present_word_overrides_a_past_guard() -> None:
    assert detect_emergency("上周打过一次架，现在又打起来了") is not None
    assert detect_emergency("上周打过一次架，想问处理结果") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "喂？嗯……那个，就是，嗯",
        "hello 12345 test ABC 0000",
        "😀🔥🚒",
        "\x00\ufeff\u200b",
        "着",
        "火",
    ],
)
def test_bad_input_is_never_an_exception(text: str) -> None:
    result = detect_emergency(text)
    assert result is None or isinstance(result, Emergency)


def test_non_string_input_is_none() -> None:
    assert detect_emergency(None) is None  # type: ignore[arg-type]


def test_long_input_is_quick() -> None:
    filler = "嗯那个就是我想反映一下我们小区的问题，物业不管，abc 123 " * 120
    text = (filler + "楼下着火了" + filler)[:5000]
    assert len(text) == 5000
    started = time.perf_counter()
    found = detect_emergency(text)
    elapsed = time.perf_counter() - started
    print(f"\ndetect_emergency on 5,000 characters: {elapsed * 1000:.1f} ms")
    assert found is not None and found.kind == "fire"
    worst = "着" * 2500 + "火烧" * 1250  # repetition that would hurt a backtracking pattern
    started = time.perf_counter()
    detect_emergency(worst)
    elapsed = time.perf_counter() - started
    print(f"detect_emergency on 5,000 repeated cue characters: {elapsed * 1000:.1f} ms")
