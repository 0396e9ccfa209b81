"""The department directory and dispatch catalogue (tickets/departments.py): the shipped
Guangzhou example, look-ups, the hierarchy, dispatch suggestions and every check of the
file with its key path."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from call_routing.category_tree import CategoryTree
from call_routing.taxonomy import default_taxonomy
from tickets.departments import (
    Department,
    DepartmentLevel,
    Directory,
    DirectoryError,
    UnknownDepartment,
    default_directory,
    load_directory,
    parse_directory,
    parse_working_hours,
    tree_paths,
)

SHIPPED = Path(__file__).resolve().parent.parent / "tickets" / "directory" / "guangzhou.toml"

MINI = """
city = "测试市"
working_hours = ["09:00-12:00", "13:30-17:00"]

[[department]]
id = "city.housing"
name = "测试市住房和城乡建设局"
level = "city"
aliases = ["住房和城乡建设局", "住建局"]
contacts = [{ name = "值班室", phone = "020-8000-0001", role = "值班电话" }]

[[department]]
id = "city.fund"
name = "测试市住房公积金管理中心"
level = "city"
parent = "city.housing"

[[department]]
id = "district.east"
name = "东区人民政府"
level = "district"
places = ["东区"]

[[department]]
id = "street.east.a"
name = "东区甲街道办事处"
level = "street"
parent = "district.east"
places = ["甲街道", "甲街"]
working_hours = ["08:00-12:00"]

[[department]]
id = "street.east.b"
name = "东区乙街道办事处"
level = "street"
parent = "district.east"
places = ["乙街道"]

[[department]]
id = "community.east.a.one"
name = "甲街道一社区居委会"
level = "community"
parent = "street.east.a"
places = ["一社区", "幸福小区"]

[[department]]
id = "district.west"
name = "西区人民政府"
level = "district"
places = ["西区"]

[[dispatch]]
category = "城乡建设"
lead = "city.housing"

[[dispatch]]
category = "城乡建设/住房保障与房地产"
lead = "住建局"

[[dispatch]]
category = "城乡建设/住房保障与房地产/物业服务"
lead = "@street"
co = ["city.housing"]

[[dispatch]]
category = "城乡建设/住房保障与房地产"
place = "东区"
lead = "district.east"
co = ["@street", "city.housing"]

[[dispatch]]
category = "城乡建设/住房保障与房地产"
place = "乙街道"
lead = "street.east.b"
co = ["district.east"]
"""


@pytest.fixture(scope="module")
def tree() -> CategoryTree:
    return CategoryTree.load()


@pytest.fixture(scope="module")
def paths(tree: CategoryTree) -> frozenset[str]:
    return tree_paths(tree)


@pytest.fixture
def mini() -> Directory:
    return parse_directory(MINI, "mini.toml")


def broken(tmp_path: Path, text: str) -> list[str]:
    """The problems of a directory file with this text."""
    path = tmp_path / "departments.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path, tree_paths(CategoryTree.load()))
    assert str(path) in str(caught.value)
    return caught.value.problems


# --- the shipped example --------------------------------------------------------------


def test_the_shipped_example_has_every_level_and_fits_the_tree(
    tree: CategoryTree, paths: frozenset[str]
) -> None:
    directory = load_directory(SHIPPED, paths)  # every category checked against the tree
    counts = {level: 0 for level in DepartmentLevel}
    for department in directory:
        counts[department.level] += 1
    assert counts[DepartmentLevel.CITY] >= 25
    assert counts[DepartmentLevel.DISTRICT] == 4
    assert counts[DepartmentLevel.STREET] >= 12
    assert counts[DepartmentLevel.COMMUNITY] >= 2
    assert len(directory) == sum(counts.values())
    assert (directory.sign_within_hours, directory.report_within_hours) == (2.0, 4.0)
    assert directory.city == "广州市"
    assert directory.uncovered(tree.level1s) == ()  # every level1 has a rule
    assert default_directory() is default_directory()  # cached
    assert len(default_directory()) == len(directory)


def test_every_taxonomy_department_resolves_in_the_shipped_example() -> None:
    directory = default_directory()
    names = {name for domain in default_taxonomy().domains.values() for name in domain.departments}
    assert len(names) >= 20
    for name in sorted(names):
        assert directory.get(name).level is DepartmentLevel.CITY, name
    assert directory.get("公安局交通警察支队").parent == "city.police"


def test_shipped_working_hours_and_contacts() -> None:
    directory = default_directory()
    housing = directory.get("city.housing")
    assert housing.working_hours == ((time(8, 30), time(12)), (time(14), time(17, 30)))
    assert housing.duty_phone.startswith("020-8000-")
    power = directory.get("供电局")
    assert power.every_day and power.working_hours == ((time(0), time.max),)
    json.dumps([d.as_dict() for d in directory], ensure_ascii=False)  # JSON-ready


def test_shipped_suggestions_follow_neighbourhood_and_city_wide_lines() -> None:
    directory = default_directory()
    address = "广东省广州市天河区石牌街道华师小区"
    estate = directory.suggest("城乡建设", "住房保障与房地产", "物业服务", address)
    assert estate.lead is not None and estate.lead.id == "street.tianhe.shipai"
    assert [d.id for d in estate.co] == ["city.housing"]
    fund = directory.suggest("城乡建设", "住房保障与房地产", "住房公积金", address)
    assert fund.lead is not None and fund.lead.id == "city.housing_fund"
    liede = directory.suggest("城乡建设", "城市建设和市政管理", "", "天河区猎德街道花城大道")
    assert liede.lead is not None and liede.lead.id == "street.tianhe.liede"
    shipai = directory.suggest("城乡建设", "城市建设和市政管理", "", "天河区石牌东路")
    assert shipai.lead is not None and shipai.lead.id == "district.tianhe"


# --- look-ups ---------------------------------------------------------------------------


def test_get_by_id_name_alias_and_place(mini: Directory) -> None:
    housing = mini.get("city.housing")
    assert mini.get("测试市住房和城乡建设局") is housing
    assert mini.get(" 住建局 ") is housing
    assert mini.get("甲街道").id == "street.east.a"  # a street's place
    assert mini.find("no.such") is None
    assert "住建局" in mini and "没有" not in mini
    assert [d.id for d in mini][:2] == ["city.housing", "city.fund"]  # file order
    assert list(mini.departments)[-1] == "district.west"


def test_unknown_department_names_the_key_and_near_names(mini: Directory) -> None:
    with pytest.raises(UnknownDepartment) as caught:
        mini.get("住见局")
    assert isinstance(caught.value, LookupError)
    assert "住见局" in str(caught.value) and "住建局" in str(caught.value)
    with pytest.raises(UnknownDepartment, match="city.housing"):
        mini.get("city.housng")


# --- hierarchy --------------------------------------------------------------------------


def test_hierarchy(mini: Directory) -> None:
    assert [d.id for d in mini.children("district.east")] == ["street.east.a", "street.east.b"]
    assert [d.id for d in mini.children("")] == ["city.housing", "district.east", "district.west"]
    assert [d.id for d in mini.ancestors("community.east.a.one")] == [
        "street.east.a",
        "district.east",
    ]
    assert [d.id for d in mini.descendants("district.east")] == [
        "street.east.a",
        "community.east.a.one",
        "street.east.b",
    ]
    assert mini.parent("district.east") is None
    assert mini.parent("city.fund") == mini.get("city.housing")
    assert mini.is_within("street.east.a", "district.east")
    assert mini.is_within("community.east.a.one", "东区")  # by name or place too
    assert not mini.is_within("district.east", "district.east")  # strictly below
    assert not mini.is_within("street.east.a", "district.west")
    assert not mini.is_within("district.east", "street.east.a")
    assert not mini.is_within("生态环境局", "district.east")  # not in the directory
    assert not mini.is_within("street.east.a", "no.such")
    assert mini.may_redispatch("district.east", "street.east.b")  # down
    assert not mini.may_redispatch("street.east.a", "street.east.b")  # sideways
    assert not mini.may_redispatch("street.east.a", "district.east")  # up


def test_working_hours_resolve_to_the_unit_or_the_file(mini: Directory) -> None:
    assert mini.get("street.east.a").working_hours == ((time(8), time(12)),)
    assert mini.get("street.east.b").working_hours == (
        (time(9), time(12)),
        (time(13, 30), time(17)),
    )


# --- dispatch ---------------------------------------------------------------------------


def test_the_longer_category_path_wins(mini: Directory) -> None:
    level1 = mini.suggest("城乡建设", "城乡规划")
    assert level1.lead is not None and level1.lead.id == "city.housing"
    assert level1.matched is not None and level1.matched.category == "城乡建设"
    level3 = mini.suggest("城乡建设", "住房保障与房地产", "物业服务", "东区甲街道3号")
    assert level3.lead is not None and level3.lead.id == "street.east.a"
    assert "第3条" in level3.rule and "地址所在街道" in level3.rule


def test_a_street_place_beats_a_district_place_beats_none(mini: Directory) -> None:
    anywhere = mini.suggest("城乡建设", "住房保障与房地产", "房屋租赁", "西区某路")
    assert anywhere.lead is not None and anywhere.lead.id == "city.housing"
    district = mini.suggest("城乡建设", "住房保障与房地产", "房屋租赁", "东区甲街道")
    assert district.lead is not None and district.lead.id == "district.east"
    assert [d.id for d in district.co] == ["street.east.a", "city.housing"]  # @street resolved
    street = mini.suggest("城乡建设", "住房保障与房地产", "房屋租赁", "东区乙街道8号")
    assert street.lead is not None and street.lead.id == "street.east.b"
    assert "乙街道" in street.rule


def test_street_from_the_address(mini: Directory) -> None:
    located = mini.locate("东区幸福小区5栋")  # a community's place gives its street
    assert located.street is not None and located.street.id == "street.east.a"
    assert located.district is not None and located.district.id == "district.east"
    assert located.community is not None
    only_street = mini.locate("乙街道")  # the district filled in from the street
    assert only_street.district is not None and only_street.district.id == "district.east"
    assert mini.locate("西区甲街道").street is None  # not a street of that district
    assert mini.locate("") == mini.locate("   ")


def test_street_token_falls_back_to_the_district_then_the_next_entry(mini: Directory) -> None:
    district = mini.suggest("城乡建设", "住房保障与房地产", "物业服务", "东区某路")
    assert district.lead is not None and district.lead.id == "district.east"
    assert district.matched is not None and district.matched.number == 3  # the level3 first
    assert "先派区" in district.rule
    west = mini.suggest("城乡建设", "住房保障与房地产", "物业服务", "西区某路")
    assert west.lead is not None and west.lead.id == "district.west"
    assert "先派区" in west.rule
    nowhere = mini.suggest("城乡建设", "住房保障与房地产", "物业服务", "")
    assert nowhere.lead is not None and nowhere.lead.id == "city.housing"
    assert nowhere.matched is not None and nowhere.matched.number == 2
    assert "未采用 第3条" in nowhere.rule


def test_no_entry_fits(mini: Directory) -> None:
    found = mini.suggest("环境保护", "环境污染", "", "东区")
    assert found.lead is None and found.co == () and found.matched is None
    assert "没有适用于「环境保护/环境污染」" in found.rule
    assert json.loads(json.dumps(found.as_dict()))["lead"] is None


def test_rules_for_a_department(mini: Directory) -> None:
    numbers = [rule.number for rule in mini.rules_for("住建局")]
    assert numbers == [1, 2, 3, 4]
    assert mini.uncovered(["城乡建设", "民政"]) == ("民政",)


# --- working hours ----------------------------------------------------------------------


def test_working_hours_parse() -> None:
    assert parse_working_hours(["14:00-17:30", "8:30-12:00"]) == (
        (time(8, 30), time(12)),
        (time(14), time(17, 30)),
    )
    assert parse_working_hours(["00:00-24:00"]) == ((time(0), time.max),)
    assert parse_working_hours(["08:00-12:00", "12:00-13:00"])  # touching is fine
    for bad, fragment in (
        (["8:30to12"], "HH:MM-HH:MM"),
        (["12:00-08:30"], "ends before it starts"),
        (["08:00-12:00", "11:00-13:00"], "overlap"),
        (["25:00-26:00"], "hours run 00:00 to 24:00"),
        ([], "give a list"),
        ("08:30-12:00", "give a list"),
    ):
        with pytest.raises(ValueError, match=fragment):
            parse_working_hours(bad)


# --- the checks of the file, each with its key path -------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('city = "测试市"', 'city = "测试市"\ncolour = 1', ":3: colour: unknown key"),
        ('level = "city"', 'level = "city"\nemail = "x"', "department[1].email: unknown key"),
        ('id = "city.fund"', 'id = "city.housing"', "department[2].id: city.housing is the id"),
        ('id = "city.fund"', 'id = "City Fund"', "department[2].id: 'City Fund' is not an id"),
        ('name = "东区人民政府"', 'name = "测试市住房和城乡建设局"', "department[3].name: 测试"),
        ('aliases = ["住房和城乡建设局", "住建局"]', 'aliases = ["东区人民政府"]',
         "department[3].name"),
        ('parent = "city.housing"', 'parent = "city.housin"', "did you mean city.housing?"),
        ('places = ["乙街道"]', 'places = ["甲街"]', "department[5].places: 甲街 is a place of"),
        ('parent = "street.east.a"', 'parent = "district.east"', "department[6].parent: district"),
        ('name = "西区人民政府"\nlevel = "district"', 'name = "西区"\nlevel = "district"\n'
         'parent = "city.housing"', "department[7].parent: city.housing is a city"),
        ('id = "street.east.b"\nname = "东区乙街道办事处"\nlevel = "street"\n'
         'parent = "district.east"', 'id = "street.east.b"\nname = "东区乙街道办事处"\n'
         'level = "street"\nparent = "street.east.a"', "department[5].parent: street.east.a is a"),
        ('level = "community"\nparent = "street.east.a"', 'level = "community"',
         "department[6].parent: missing: a community (社区) sits under a street"),
        ('working_hours = ["08:00-12:00"]', 'working_hours = ["08:00-12:00", "11:00-13:00"]',
         "department[4].working_hours: 08:00-12:00, 11:00-13:00 overlap"),
        ('"13:30-17:00"]', '"17:30-13:00"]', "working_hours: '17:30-13:00' ends before"),
        ('phone = "020-8000-0001"', 'phone = "call me"', "department[1].contacts[1]: phone"),
        ('places = ["西区"]', "", "department[7].places: a district (区) needs the place names"),
        ('level = "district"\nplaces = ["东区"]', 'level = "区"\nplaces = ["东区"]', ""),
        ('lead = "住建局"', 'lead = "住见局"', "dispatch[2].lead: 住见局 is no department"),
        ('co = ["city.housing"]', 'co = ["city.housin"]', "dispatch[3].co[1]: city.housin"),
        ('co = ["city.housing"]', 'co = ["@street"]', "dispatch[3].co[1]: @street is the lead"),
        ('lead = "@street"', 'lead = "@town"', "dispatch[3].lead: @town is no token"),
        ('place = "乙街道"', 'place = "丙街道"', "dispatch[5].place: 丙街道 is no place"),
        ('place = "乙街道"', 'place = "东区"', "dispatch[5]: 城乡建设/住房保障与房地产 at 东区"),
        ('category = "城乡建设"', 'category = "城乡建设/物业管理"',
         "dispatch[1].category: 城乡建设/物业管理 is not a category of the tree: did you mean"),
        ('category = "城乡建设"', 'category = "城乡建设/"', "dispatch[1].category: '城乡建设/'"),
    ],
)  # fmt: skip
def test_each_problem_names_its_key_path(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in MINI
    text = MINI.replace(old, new, 1)
    if not expected:  # a Chinese level label is accepted
        assert parse_directory(text).get("district.east").level is DepartmentLevel.DISTRICT
        return
    problems = broken(tmp_path, text)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_at_once_with_its_line(tmp_path: Path) -> None:
    text = MINI.replace('lead = "住建局"', 'lead = "住见局"').replace(
        'parent = "city.housing"', 'parent = "nowhere"'
    )
    problems = broken(tmp_path, text)
    assert len(problems) == 2, problems
    lines = text.splitlines()
    for problem in problems:
        line = int(problem.split(":")[1])
        assert "住见局" in lines[line - 1] or "nowhere" in lines[line - 1], problem


def test_a_cycle_of_city_departments(tmp_path: Path) -> None:
    text = MINI.replace(
        'aliases = ["住房和城乡建设局", "住建局"]',
        'aliases = ["住房和城乡建设局", "住建局"]\nparent = "city.fund"',
    )
    problems = broken(tmp_path, text)
    assert any("city.housing → city.fund → city.housing is a cycle" in p for p in problems)


def test_unparseable_toml_names_the_line(tmp_path: Path) -> None:
    problems = broken(tmp_path, 'city = "x"\n\n[[department]\nid = "a"\n')
    assert len(problems) == 1 and ":3: not valid TOML" in problems[0]


def test_no_departments_and_an_unreadable_file(tmp_path: Path) -> None:
    assert any("list the departments" in p for p in broken(tmp_path, 'city = "x"\n'))
    with pytest.raises(DirectoryError, match="cannot read it"):
        load_directory(tmp_path / "missing.toml")


def test_categories_are_checked_only_when_given() -> None:
    text = MINI.replace('category = "城乡建设"', 'category = "自编分类"', 1)
    assert parse_directory(text).rules[0].category == "自编分类"
    with pytest.raises(DirectoryError, match="自编分类 is not a category"):
        parse_directory(text, categories={"城乡建设"})


def test_a_directory_built_in_code() -> None:
    unit = Department("city.a", "甲局", DepartmentLevel.CITY)
    directory = Directory([unit])
    assert directory.get("甲局") is unit and len(directory) == 1
    with pytest.raises(ValueError, match="twice"):
        Directory([unit, unit])
