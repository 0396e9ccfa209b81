"""call_routing.category_tree: the shipped tree, its map and lexicon; loading errors that
name the file, line and fix; the domain-map convention; classify on hand-written text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from call_routing.category_tree import CategoryPath, CategoryTree, CategoryTreeError, fold
from call_routing.taxonomy import default_taxonomy

SHARED_TREE = Path(__file__).resolve().parents[2] / "shared/data/hotline/tipdm2020_taxonomy.csv"
DOMAINS = ("城乡建设", "环境保护", "其他")


@pytest.fixture(scope="module")
def tree() -> CategoryTree:
    return CategoryTree.load()


def write_tree(tmp_path: Path, rows: str, domains: str | None = None, lexicon: str | None = None):
    path = tmp_path / "city.csv"
    path.write_text("level1,level2,level3\n" + rows, encoding="utf-8")
    if domains is not None:
        (tmp_path / "city.domains.toml").write_text(domains, encoding="utf-8")
    if lexicon is not None:
        (tmp_path / "city.lexicon.toml").write_text(lexicon, encoding="utf-8")
    return path


SMALL = "城乡建设,市政,路灯\n城乡建设,市政,其他\n城乡建设,其他,其他\n环境保护,污染,噪音\n"
SMALL_MAP = '"其他" = "城乡建设"\n'


# --- the shipped tree ------------------------------------------------------------------


def test_shipped_tree_has_the_city_s_15_level1s_and_517_rows(tree: CategoryTree) -> None:
    assert len(tree.level1s) == 15
    assert {"城乡建设", "政法", "农村农业", "商贸旅游", "党务政务"} <= set(tree.level1s)
    rows = sum(len(tree.level3s(l1, l2)) for l1 in tree.level1s for l2 in tree.level2s(l1))
    assert rows == 517
    assert "事故处理" in tree.level3s("城乡建设", "安全生产")


@pytest.mark.skipif(not SHARED_TREE.is_file(), reason="shared/ is not beside the checkout")
def test_shipped_csv_is_the_shared_file_unchanged() -> None:
    shipped = Path(__file__).resolve().parents[1] / "call_routing/trees/tipdm2020_taxonomy.csv"
    assert shipped.read_bytes() == SHARED_TREE.read_bytes()


def test_shipped_tree_is_loaded_once(tree: CategoryTree) -> None:
    assert CategoryTree.load() is tree


def test_every_project_domain_maps_to_a_level1_of_the_tree(tree: CategoryTree) -> None:
    for domain in default_taxonomy().domains:
        assert tree.level1_for(domain) in tree.level1s
    assert tree.level1_for("市场监管") == "商贸旅游"
    assert tree.level1_for("公安政法/社会治安") == "政法"
    assert tree.level1_for("农业农村") == "农村农业"
    assert tree.level1_for("水电气") == "城乡建设"
    assert tree.level1_for("其他") == "党务政务"
    assert tree.level1_for("民政") == "民政"
    with pytest.raises(KeyError, match="不存在"):
        tree.level1_for("不存在")


def test_every_level1_has_lexicon_words_of_two_characters_or_more(tree: CategoryTree) -> None:
    big = ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生")
    for level1 in tree.level1s:
        words = tree.lexicon_words(level1)
        assert len(words) >= (150 if level1 in big else 60), level1
        assert all(len(w) >= 2 for w in words)
        assert len(set(words)) == len(words)
    assert {"路灯", "欠薪", "讨薪", "工钱"} <= set(tree.lexicon_words("城乡建设")) | set(
        tree.lexicon_words("劳动和社会保障")
    )


def test_every_level2_of_the_big_categories_is_reachable(tree: CategoryTree) -> None:
    """Each level2 (其他 aside) of the seven big level1s is chosen for its own name."""
    for level1 in ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游"):
        for level2 in tree.level2s(level1):
            if level2 != "其他":
                assert tree.classify(f"关于{level2}的问题", level1).level2 == level2


# --- classify ----------------------------------------------------------------------------

CASES = [
    (
        "我们小区门口的路灯坏了好几天，晚上黑灯瞎火的",
        "城乡建设",
        "城市建设和市政管理",
        "城市公共设施",
    ),
    ("路边井盖丢了，很危险，差点有人掉下去", "城乡建设", "城市建设和市政管理", "城市公共设施"),
    ("我们这栋楼停水两天了，水龙头一滴水都没有", "城乡建设", "城市建设和市政管理", "自来水供应"),
    ("今天又停电了，家里冰箱的东西都坏了", "城乡建设", "城市建设和市政管理", "电力供应"),
    ("天然气突然停气，也没有通知，做不了饭", "城乡建设", "城市建设和市政管理", "燃气供应"),
    ("楼顶有人私搭乱建，加盖了一层铁皮房", "城乡建设", "城乡规划", "违章建筑"),
    ("物业公司乱收物业费，电梯坏了也不修", "城乡建设", "住房保障与房地产", "物业服务"),
    ("开发商延期交房一年多了，一直拖着", "城乡建设", "住房保障与房地产", "房地产开发管理"),
    ("买房五年了房产证还办不下来", "城乡建设", "住房保障与房地产", "房产证登记、办理"),
    ("想问公积金提取需要什么材料", "城乡建设", "住房保障与房地产", "住房公积金"),
    ("路边摆摊的流动摊贩占道经营，城管不管", "城乡建设", "城市建设和市政管理", "城管执法"),
    ("拆迁补偿款太低，安置房迟迟不建", "城乡建设", "国有土地上房屋征收与补偿", None),
    ("楼下饭店油烟太大，熏得没法开窗", "环境保护", "环境污染", "大气污染"),
    ("半夜工地还在施工，噪音太吵了根本睡不着", "环境保护", "环境污染", "噪音污染"),
    ("工厂往河里直排污水，河水都黑臭了", "环境保护", "环境污染", "水污染"),
    ("有人在空地上偷倒建筑垃圾和渣土", "环境保护", "环境污染", "固体污染"),
    ("这个项目没有环评就开工了", "环境保护", "建设项目审批", "未批先建"),
    ("出租车司机不打表还绕路", "交通运输", "出租车管理", None),
    ("网约车司机取消订单还乱收费", "交通运输", "出租车管理", "网约车问题"),
    ("快递员不送货上门，包裹丢了也不赔", "交通运输", "邮政管理", "快递市场管理"),
    ("建议增开一条公交线路，早上等车太久", "交通运输", "客货运输", "旅客运输"),
    ("高速收费站排长队，过路费也太贵", "交通运输", "建设管理", "公路收费"),
    ("孩子入学学位不够，划片也不合理", "教育文体", "教育体制", "教育资源配置"),
    ("学校强制购买教辅资料，还收资料费", "教育文体", "教育收费", "乱收费"),
    ("培训机构倒闭了，交的学费不给退费", "教育文体", "教育行政管理", "校外机构管理"),
    ("老师在班上体罚学生，孩子不敢去上学", "教育文体", "教育行政管理", "校园安全"),
    ("老板拖欠我们三个月工资不发", "劳动和社会保障", "工资福利", "工资发放"),
    ("过年前去讨薪，包工头跑了，工钱一分没拿到", "劳动和社会保障", "工资福利", "工资发放"),
    ("公司不给员工买社保，也不签劳动合同", "劳动和社会保障", None, None),
    ("上班时受伤了，公司不给做工伤认定", "劳动和社会保障", "城镇职工社会保险", "职工工伤保险"),
    ("天天强制加班，周末也不给加班费", "劳动和社会保障", "劳动保护", "工作时间和休息休假"),
    ("公司无故辞退我，一分钱补偿都没有", "劳动和社会保障", "劳动关系", None),
    ("我父亲的退休金这个月还没发", "劳动和社会保障", "退休政策及待遇", "退休金发放"),
    ("超市卖过期食品，商家不给退款", "商贸旅游", "市场监管", "商品质量"),
    ("旅行社低价团强制购物，导游还骂人", "商贸旅游", "旅游管理", "旅游市场管理"),
    ("菜市场有人缺斤少两，价格也不明码标价", "商贸旅游", "市场监管", "物价监督"),
    ("电梯老是困人，年检标志也过期了", "商贸旅游", "质监检验检疫", "特种设备管理"),
    ("这家餐馆后厨卫生条件很差，吃了拉肚子", "卫生计生", "食品药品监管", "食品安全"),
    ("医院医生态度很差，挂号排队三个小时", "卫生计生", "医政监管", "医疗技术和服务"),
    ("孩子打疫苗要去哪个接种点预约", "卫生计生", "公共卫生", "疾病预防控制"),
    ("村里有一家黑诊所在无证行医", "卫生计生", "医政监管", "非法行医"),
    ("想问一下孩子上户口需要什么材料", "政法", "户籍证件", "户籍管理"),
    ("身份证丢了怎么补办", "政法", "户籍证件", "身份证管理"),
    ("楼下有人聚众赌博，天天打牌赌钱", "政法", "社会治安", "黄赌毒"),
    ("消防通道被电动车堵死了", "政法", "社会治安", "消防安全"),
    ("家里老人想申请低保，不知道怎么办", "民政", "社会救助", None),
    ("想咨询结婚登记要带什么证件", "民政", "社会服务", "婚姻登记"),
    ("村委会财务不公开，账目不清楚", "农村农业", "村务管理", "集体财务公开"),
    ("邻居占了我家宅基地盖房子", "农村农业", "土地承包经营", "宅基地纠纷"),
    ("手机信号很差，家里经常没信号", "科技与信息产业", "电信", "通信保障"),
]


@pytest.mark.parametrize(("text", "level1", "level2", "level3"), CASES)
def test_classify_clear_cases(
    tree: CategoryTree, text: str, level1: str, level2: str | None, level3: str | None
) -> None:
    path = tree.classify(text, level1)
    assert path.level1 == level1
    assert path.score > 0
    assert path.level2 in tree.level2s(level1)
    assert path.level3 in tree.level3s(level1, path.level2)
    if level2 is not None:
        assert path.level2 == level2
    if level3 is not None:
        assert path.level3 == level3
    assert path.code == f"{path.level1}/{path.level2}/{path.level3}"


def test_classify_stays_inside_the_level1(tree: CategoryTree) -> None:
    text = "路灯坏了，停水停电，工资也没发"
    for level1 in tree.level1s:
        path = tree.classify(text, level1)
        assert path.level1 == level1
        if path.level2:
            assert path.level3 in tree.level3s(level1, path.level2)


@pytest.mark.parametrize("text", ["", "   ", "今天天气不错，谢谢", "嗯嗯啊啊", "ok 123"])
def test_nothing_found_falls_back_to_other_with_score_zero(tree: CategoryTree, text: str) -> None:
    path = tree.classify(text, "城乡建设")
    assert (path.level2, path.level3, path.score) == ("其他", "其他", 0.0)
    assert path.code == "城乡建设/其他/其他"


def test_level2_words_alone_give_its_other(tree: CategoryTree) -> None:
    path = tree.classify("社保的事情想咨询一下", "劳动和社会保障")
    assert (path.level2, path.level3) == ("城镇职工社会保险", "其他")
    assert path.score > 0


def test_spaces_and_full_width_are_folded(tree: CategoryTree) -> None:
    assert fold("路 灯 ＡＢＣ") == "路灯abc"
    path = tree.classify("路 灯 坏 了 好 几 天", "城乡建设")
    assert path.level3 == "城市公共设施"


def test_classify_is_fast(tree: CategoryTree) -> None:
    texts = [case[0] for case in CASES]
    start = time.perf_counter()
    for _ in range(20):
        for text, level1, *_ in CASES:
            tree.classify(text, level1)
    per_call = (time.perf_counter() - start) / (20 * len(texts))
    assert per_call < 0.001  # measured about 15 µs on the development machine


def test_unknown_level1_is_a_clear_key_error(tree: CategoryTree) -> None:
    with pytest.raises(KeyError, match="no level1 '水电气'"):
        tree.classify("停水", "水电气")


# --- a city's own tree: loading, the map convention, scoring rules ----------------------


def test_a_city_tree_with_map_and_lexicon(tmp_path: Path) -> None:
    lexicon = '["城乡建设"."市政"]\n"*" = ["市政设施"]\n"路灯" = ["黑灯瞎火"]\n'
    path = write_tree(tmp_path, SMALL, SMALL_MAP, lexicon)
    tree = CategoryTree.load(path, DOMAINS)
    assert tree.level1s == ("城乡建设", "环境保护")
    assert tree.level1_for("其他") == "城乡建设"
    assert tree.level1_for("环境保护") == "环境保护"  # not in the map: the same name
    assert tree.classify("晚上黑灯瞎火", "城乡建设") == CategoryPath(
        "城乡建设", "市政", "路灯", 2.0
    )
    assert tree.classify("市政设施坏了", "城乡建设").level3 == "其他"
    assert tree.classify("太吵了有噪音", "环境保护").code == "环境保护/污染/噪音"
    assert "黑灯瞎火" in tree.lexicon_words("城乡建设")
    assert "路灯" in tree.lexicon_words("城乡建设")  # names count as words


def test_names_alone_classify_without_a_lexicon(tmp_path: Path) -> None:
    tree = CategoryTree.load(write_tree(tmp_path, SMALL, SMALL_MAP), DOMAINS)
    assert tree.classify("路灯坏了", "城乡建设").level3 == "路灯"


def test_a_level1_without_other_gives_empty_levels_when_nothing_matches(tmp_path: Path) -> None:
    tree = CategoryTree.load(write_tree(tmp_path, SMALL, SMALL_MAP), DOMAINS)
    path = tree.classify("今天天气不错", "环境保护")
    assert (path.level2, path.level3, path.score, path.code) == ("", "", 0.0, "环境保护")


def test_ties_go_to_the_more_specific_match(tmp_path: Path) -> None:
    rows = "城乡建设,甲类,其他\n城乡建设,乙类,具体\n城乡建设,乙类,其他\n环境保护,污染,噪音\n"
    lexicon = '["城乡建设"."甲类"]\n"*" = ["设施"]\n["城乡建设"."乙类"]\n"具体" = ["设施"]\n'
    tree = CategoryTree.load(write_tree(tmp_path, rows, SMALL_MAP, lexicon), DOMAINS)
    assert tree.classify("设施坏了", "城乡建设").code == "城乡建设/乙类/具体"


def test_longer_words_win_and_covered_words_do_not_count(tmp_path: Path) -> None:
    rows = "城乡建设,市政,路灯\n城乡建设,市政,其他\n城乡建设,供电,停电\n环境保护,污染,噪音\n"
    lexicon = '["城乡建设"."市政"]\n"路灯" = ["灯不亮"]\n["城乡建设"."供电"]\n"停电" = ["不亮"]\n'
    tree = CategoryTree.load(write_tree(tmp_path, rows, SMALL_MAP, lexicon), DOMAINS)
    assert tree.classify("门口灯不亮", "城乡建设").level3 == "路灯"  # 不亮 is inside 灯不亮
    assert tree.classify("屋里不亮", "城乡建设").level3 == "停电"


def test_a_domain_without_level1_or_map_line_fails_naming_it(tmp_path: Path) -> None:
    path = write_tree(tmp_path, SMALL)
    with pytest.raises(
        CategoryTreeError, match=r"city\.domains\.toml: domain '其他'.*add the line"
    ):
        CategoryTree.load(path, DOMAINS)


def test_the_shipped_taxonomy_s_domains_are_the_default(tmp_path: Path) -> None:
    with pytest.raises(CategoryTreeError, match="domain '交通运输'"):
        CategoryTree.load(write_tree(tmp_path, SMALL, SMALL_MAP))


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ('"其他" = "党务政务"\n', r"city\.domains\.toml:1: '其他' = '党务政务' is not a level1"),
        ('"其他" = "城乡建设"\n"水电" = "城乡建设"\n', r":2: '水电' is not a domain"),
        ('"其他" = ["城乡建设"]\n', r":1: '其他' = \['城乡建设'\] is not a level1"),
        ('"其他" = \n', r"city\.domains\.toml: not valid TOML"),
    ],
)
def test_a_bad_domain_map_names_file_line_and_fix(
    tmp_path: Path, domains: str, message: str
) -> None:
    with pytest.raises(CategoryTreeError, match=message):
        CategoryTree.load(write_tree(tmp_path, SMALL, domains), DOMAINS)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("城乡建设,市政,路灯\n城乡建设,,其他\n", r"city\.csv:3: level2 is empty"),
        ("城乡建设,市政,路灯\n城乡建设,市政\n", r"city\.csv:3: level3 is empty"),
        (
            "城乡建设,市政,路灯\n环境保护,污染,噪音\n城乡建设,市政,路灯\n",
            r":4: duplicate row.*line 2",
        ),
        ("城乡建设,市政,*\n", r":2: level3 '\*' is reserved"),
        ("", r"city\.csv: no rows"),
    ],
)
def test_a_bad_tree_names_file_line_and_fix(tmp_path: Path, rows: str, message: str) -> None:
    with pytest.raises(CategoryTreeError, match=message):
        CategoryTree.load(write_tree(tmp_path, rows), DOMAINS)


def test_a_missing_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "city.csv"
    path.write_text("level1,level2,name\n城乡建设,市政,路灯\n", encoding="utf-8")
    with pytest.raises(CategoryTreeError, match=r"city\.csv:1: missing column level3"):
        CategoryTree.load(path, DOMAINS)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CategoryTreeError, match="no such file"):
        CategoryTree.load(tmp_path / "nothing.csv", DOMAINS)


@pytest.mark.parametrize(
    ("lexicon", "message"),
    [
        ('["城乡建筑"]\n"*" = ["城建"]\n', r":1: 城乡建筑: not a level1"),
        ('["城乡建设"."市容"]\n"*" = ["市容"]\n', r":1: 城乡建设\.市容: not a level2 of 城乡建设"),
        (
            '["城乡建设"."市政"]\n"*" = ["市政"]\n"路 灯" = ["黑"]\n',
            r":3: 城乡建设\.市政\.路 灯: not",
        ),
        ('["城乡建设"."市政"]\n"路灯" = ["灯"]\n', r":2: 城乡建设\.市政\.路灯: '灯' is shorter"),
        ('["城乡建设"."市政"]\n"路灯" = "灯不亮"\n', r":2: .*give a list of words"),
        ('["城乡建设"."市政"]\n"路灯" = ["灯坏", "灯坏"]\n', r":2: .*灯坏 listed twice"),
        ('["城乡建设"]\n"市政" = ["市政"]\n', r":2: 城乡建设\.市政: make it a table"),
        ('["城乡建设"."市政"\n', r"city\.lexicon\.toml: not valid TOML"),
    ],
)
def test_a_bad_lexicon_names_file_line_and_fix(tmp_path: Path, lexicon: str, message: str) -> None:
    with pytest.raises(CategoryTreeError, match=message):
        CategoryTree.load(write_tree(tmp_path, SMALL, SMALL_MAP, lexicon), DOMAINS)
