"""Departments work their tickets through the API (web.routers.tickets, ticket_files,
dispatch) against a real store (SQLite) and the shipped department directory: who
sees which ticket (another department's is 404), who may take which action (403 with
the reason), the whole flow from dispatch to 办结 with the department's own review
and the centre's rejection of a boilerplate reply, attachments, bulk dispatch, the
catalogue's suggestion, masking for department roles, and every new route × role."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from sip_config import Settings
from tests.support.web_roles import assert_role_matrix
from tickets.store import TicketStore
from web.app import create_app
from web.audit import MemoryAuditLog
from web.context import WebContext
from web.roles import ALL_ROLES, Principal, Role

TIANHE, SHIPAI, YUEXIU = "district.tianhe", "street.tianhe.shipai", "district.yuexiu"
USERS = {
    "sup": Principal(1, "sup", Role.SUPERVISOR, via="token"),
    "qa": Principal(2, "qa", Role.QA, via="token"),
    "li": Principal(3, "li", Role.AGENT, agent_id="1001", via="token"),
    "chen": Principal(4, "chen", Role.DEPARTMENT_HANDLER, via="token", department=TIANHE),
    "lin": Principal(5, "lin", Role.DEPARTMENT_REVIEWER, via="token", department=TIANHE),
    "shi": Principal(6, "shi", Role.DEPARTMENT_HANDLER, via="token", department=SHIPAI),
    "yue": Principal(7, "yue", Role.DEPARTMENT_HANDLER, via="token", department=YUEXIU),
    "browser": Principal(8, "browser", Role.DEPARTMENT_HANDLER, department=TIANHE),
}
CSRF = "csrf-secret"
STREETLIGHT = "天河区天河路100号小区门口的路灯坏了一个星期，晚上很黑，我的电话13800138000"
BOILERPLATE = "您反映的问题已转交相关部门处理，我们将加强管理。"
CONCRETE = (
    "经核实，天河区天河路100号小区门口路灯因线路老化损坏。我区已于12月7日派员到现场"
    "更换灯具和线路，当晚路灯恢复照明，夜间已复查正常。"
)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


class FakeAccounts:
    """Signs in the user named by ``X-Test-User`` (``browser``: a session with its CSRF token)."""

    def __init__(self) -> None:
        self.audit = MemoryAuditLog()

    async def principal_for(self, request: Request) -> Principal | None:
        principal = USERS.get(request.headers.get("X-Test-User", ""))
        if principal is not None and principal.via == "session":
            request.state.csrf_token = CSRF
        return principal


def understand(text: str) -> dict[str, Any]:
    address = "天河区天河路100号" if "天河路100号" in text else ""
    return {
        "request_type": "投诉",
        "domain": "城乡建设",
        "category": {"code": "CX01", "name": "市政设施"},
        "departments": [],
        "slots": {"addresses": [{"address": address, "text": address}] if address else []},
        "categories": {
            "level1": "城乡建设",
            "level2": "城市建设和市政管理",
            "level3": "城市公共设施",
        },
        "summary": "路灯损坏",
        "low_confidence": False,
    }


@dataclasses.dataclass
class Api:
    client: TestClient
    store: TicketStore
    context: WebContext

    def get(self, user: str, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params, headers={"X-Test-User": user})

    def act(self, user: str, number: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/tickets/{number}/transitions", json=body, headers={"X-Test-User": user}
        )

    def ok(self, user: str, number: str, **body: Any) -> dict[str, Any]:
        answer = self.act(user, number, **body)
        assert answer.status_code == 200, (user, body, answer.text)
        return answer.json()

    def upload(self, user: str, number: str, name: str, data: bytes, **headers: str) -> Any:
        return self.client.post(
            f"/api/tickets/{number}/attachments",
            files={"file": (name, data)},
            headers={"X-Test-User": user, **headers},
        )

    def accepted(self, content: str = STREETLIGHT, caller: str = "13800138000") -> str:
        created = self.client.post(
            "/api/tickets",
            json={"channel": "web", "caller_number": caller, "content": content},
            headers={"X-Test-User": "sup"},
        )
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        self.ok("sup", number, action="accept")
        return number

    def dispatched(self, department: str = TIANHE) -> str:
        number = self.accepted()
        self.ok("sup", number, action="dispatch", department=department, co_departments=[])
        return number

    def recorded(self, action: str) -> list[Any]:
        return [e for e in self.context.accounts.audit.recorded if e.action == action]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        node={"data_dir": tmp_path},
        recordings={"dir": tmp_path / "recordings"},
        tickets={"attachment_max_mb": 0.01},  # 10 KiB: big enough for a test photo
    )
    with TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}") as store:
        context = WebContext(
            settings, tickets=store, accounts=FakeAccounts(), extras={"understand": understand}
        )
        with TestClient(create_app(context)) as client:
            yield Api(client, store, context)


# -- the catalogue's suggestion and dispatch -------------------------------------------


def test_the_detail_carries_the_catalogues_suggestion(api: Api) -> None:
    number = api.accepted()
    body = api.get("sup", f"/api/tickets/{number}").json()
    assert body["lead_department"] == TIANHE  # the draft took the catalogue's lead
    assert body["co_departments"] == ["city.urban_management"]
    suggestion = body["suggestion"]
    assert suggestion["category"] == "城乡建设/城市建设和市政管理/城市公共设施"
    assert suggestion["lead"]["id"] == TIANHE and suggestion["lead"]["name"] == "天河区人民政府"
    assert [c["id"] for c in suggestion["co"]] == ["city.urban_management"]
    assert "派单目录" in suggestion["rule"] and "地址所在区" in suggestion["rule"]
    assert "dispatch" in body["allowed_actions"]
    dispatched = api.ok("sup", number, action="派单", department="天河区人民政府")  # by name
    assert dispatched["lead_department"] == TIANHE
    assert dispatched["lead_department_name"] == "天河区人民政府"
    lead = dispatched["assignments"][0]
    assert (lead["department"], lead["role"], lead["role_label"]) == (TIANHE, "lead", "主办")
    assert lead["due_at"] and lead["due_label"] == "签收时限" and lead["countdown"]
    deadlines = dispatched["deadlines"]
    assert deadlines["working_days_left"] > 0 and deadlines["countdown"].startswith("剩余")
    assert deadlines["sign_due_at"] == lead["due_at"]


# -- who sees what -----------------------------------------------------------------------


def test_another_departments_ticket_does_not_exist_for_them(api: Api) -> None:
    number = api.dispatched(TIANHE)
    assert api.get("chen", f"/api/tickets/{number}").status_code == 200
    for user in ("yue", "shi"):  # another district; a street below: not its part
        missing = api.get(user, f"/api/tickets/{number}")
        assert missing.status_code == 404 and number in missing.json()["detail"]
        assert api.act(user, number, action="sign").status_code == 404
        assert api.upload(user, number, "site.png", PNG).status_code == 404
        listed = api.get(user, "/api/tickets").json()["items"]
        assert number not in [t["number"] for t in listed]
    assert [t["number"] for t in api.get("chen", "/api/tickets").json()["items"]] == [number]
    assert api.get("chen", "/api/tickets", department=YUEXIU).json()["items"] == []
    # Sent down to the street: the street works it, the district still sees it, read-only.
    api.ok("chen", number, action="sign")
    down = api.ok("chen", number, action="redispatch", department=SHIPAI, reason="属石牌街道辖区")
    assert down["lead_department"] == SHIPAI and down["status"] == "dispatched"
    assert api.get("shi", f"/api/tickets/{number}").json()["allowed_actions"]
    seen = api.get("chen", f"/api/tickets/{number}").json()
    assert seen["allowed_actions"] == []
    refused = api.act("chen", number, action="note", note="跟进")
    assert refused.status_code == 403 and "sub-unit" in refused.json()["detail"]


def test_actions_are_refused_by_role_with_the_reason(api: Api) -> None:
    number = api.dispatched(TIANHE)
    as_reviewer = api.act("lin", number, action="sign")
    assert as_reviewer.status_code == 403
    assert "reviewer" in as_reviewer.json()["detail"]
    assert api.get("lin", f"/api/tickets/{number}").json()["allowed_actions"] == []
    for action in ("close", "supervise", "approve_reply", "dispatch"):
        refused = api.act("chen", number, action=action)
        assert refused.status_code == 403, action
        assert "handler may not" in refused.json()["detail"]
    assert api.act("qa", number, action="sign").status_code == 403  # QA changes nothing
    whistle = api.act("chen", number, action="whistle", co_departments=["city.police"])
    assert whistle.status_code == 403 and "street" in whistle.json()["detail"]
    chen = api.get("chen", f"/api/tickets/{number}").json()
    assert set(chen["allowed_actions"]) == {"sign", "request_return", "redispatch"}
    # The state still decides what a permitted role may do: 409 with what is allowed now.
    early = api.act("chen", number, action="reply", reply="已修复")
    assert early.status_code == 409 and set(early.json()["allowed_actions"]) == {
        "sign",
        "request_return",
        "redispatch",
    }


# -- the whole flow ----------------------------------------------------------------------


def test_dispatch_sign_reply_review_reject_reply_again_close(api: Api) -> None:
    number = api.dispatched(TIANHE)
    assert api.ok("chen", number, action="sign")["status"] == "signed"
    api.ok("chen", number, action="note", note="已派员到现场查看")
    drafted = api.ok("chen", number, action="reply", reply=BOILERPLATE)
    assert drafted["status"] == "reviewing" and drafted["reply_draft"]["text"] == BOILERPLATE
    assert drafted["reply_draft"]["department_name"] == "天河区人民政府"
    assessed = drafted["assessment"]
    assert assessed["reply"] == "draft" and assessed["flag"] is True
    codes = [r["code"] for r in assessed["reasons"]]
    assert "boilerplate" in codes and all(r["text"] for r in assessed["reasons"])
    reviewer = api.get("lin", f"/api/tickets/{number}").json()
    # the reviewer approves or returns the draft, and may note why meanwhile
    assert set(reviewer["allowed_actions"]) == {"approve_reply", "return_reply", "note"}
    approved = api.ok("lin", number, action="审核通过")
    assert approved["status"] == "replied" and approved["reply"] == BOILERPLATE
    centre = api.get("sup", f"/api/tickets/{number}").json()
    assert centre["assessment"]["reply"] == "reply" and centre["assessment"]["flag"] is True
    assert {"close", "reject_reply"} <= set(centre["allowed_actions"])
    assert api.act("sup", number, action="reject_reply").status_code == 409  # needs a reason
    rejected = api.ok("sup", number, action="退回重办", reason="答复为套话，未说明处理结果")
    assert rejected["status"] == "handling"
    api.ok("chen", number, action="reply", reply=CONCRETE)
    returned = api.ok("lin", number, action="return_reply", reason="请补充复查时间")
    assert returned["status"] == "handling" and returned["reply_draft"] is None
    api.ok("chen", number, action="reply", reply=CONCRETE)
    api.ok("lin", number, action="approve_reply")
    good = api.get("sup", f"/api/tickets/{number}").json()["assessment"]
    assert good["flag"] is False and good["score"] > 0.5
    closed = api.ok("sup", number, action="close")
    assert closed["status"] == "closed" and closed["reply"] == CONCRETE
    history = [(e["action"], e["actor"]) for e in closed["history"]][3:]
    assert history == [
        ("sign", "chen"),
        ("note", "chen"),
        ("reply", "chen"),
        ("approve_reply", "lin"),
        ("reject_reply", "sup"),
        ("reply", "chen"),
        ("return_reply", "lin"),
        ("reply", "chen"),
        ("approve_reply", "lin"),
        ("close", "sup"),
    ]
    by_department = [e.detail.get("department") for e in api.recorded("ticket.transition")]
    assert by_department.count(TIANHE) == 8  # the department's own steps say so


def test_a_return_request_names_where_it_should_go_and_the_centre_arbitrates(api: Api) -> None:
    number = api.dispatched(TIANHE)
    assert api.act("chen", number, action="request_return", reason="不属本单位").status_code == 409
    asked = api.ok(
        "chen", number, action="request_return", reason="属越秀区辖区", department="越秀区人民政府"
    )
    assert asked["status"] == "returned"
    request = asked["return_request"]
    assert (request["department"], request["suggested"]) == (TIANHE, YUEXIU)
    assert request["suggested_name"] == "越秀区人民政府"
    moved = api.ok("sup", number, action="approve_return", reason="同意改派")
    assert moved["lead_department"] == YUEXIU and moved["status"] == "dispatched"
    assert api.get("chen", f"/api/tickets/{number}").status_code == 404  # not theirs now
    assert api.get("yue", f"/api/tickets/{number}").status_code == 200


# -- attachments -------------------------------------------------------------------------


def test_attachments_upload_download_and_refusals(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    uploaded = api.upload("chen", number, "现场照片.png", PNG)
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["media_type"] == "image/png" and attachment["size"] == len(PNG)
    assert attachment["department"] == TIANHE and attachment["actor"] == "chen"
    url = attachment["url"]
    assert url == f"/api/tickets/{number}/attachments/{attachment['id']}"
    for user in ("chen", "lin", "sup", "qa"):
        download = api.get(user, url)
        assert download.status_code == 200 and download.content == PNG, user
        assert download.headers["content-type"] == "image/png"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert "attachment;" in download.headers["content-disposition"]
    assert api.get("yue", url).status_code == 404
    assert api.get("chen", f"/api/tickets/{number}/attachments/999").status_code == 404
    noted = api.ok("chen", number, action="note", note="现场照片", attachments=[attachment["id"]])
    assert noted["history"][-1]["details"]["attachments"] == str(attachment["id"])
    assert [a["name"] for a in noted["attachments"]] == ["现场照片.png"]
    assert api.act("chen", number, action="note", note="x", attachments=[999]).status_code == 409
    assert [e.target for e in api.recorded("ticket.attachment")] == [number]

    wrong = api.upload("chen", number, "photo.png", b"GIF89a" + bytes(100))
    assert wrong.status_code == 415 and ".png" in wrong.json()["detail"]
    big = api.upload("chen", number, "big.png", PNG + bytes(20_000))
    assert big.status_code == 413 and "MiB" in big.json()["detail"]
    empty = api.upload("chen", number, "empty.png", b"")
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "file"]
    none = api.client.post(
        f"/api/tickets/{number}/attachments", data={"x": "1"}, headers={"X-Test-User": "chen"}
    )
    assert none.status_code == 422
    assert api.upload("qa", number, "site.png", PNG).status_code == 403
    session = api.upload("browser", number, "site.png", PNG)
    assert session.status_code == 403 and "CSRF" in session.json()["detail"]
    with_token = api.upload("browser", number, "site.png", PNG, **{"X-CSRF-Token": CSRF})
    assert with_token.status_code == 201


# -- bulk dispatch -----------------------------------------------------------------------


def test_bulk_dispatch_says_what_became_of_each(api: Api) -> None:
    first, second = api.accepted(), api.accepted("天河区体育西路的井盖松动了", "13700137000")
    gone = api.accepted("越秀区北京路步行街的垃圾桶满了没人清理", "13600136000")
    api.ok("sup", gone, action="dispatch", department=YUEXIU)
    body = {
        "numbers": [first, second, gone, "GD12345-20260101-999999"],
        "department": TIANHE,
        "co_departments": ["city.urban_management"],
        "note": "批量派单",
    }
    refused = api.client.post(
        "/api/tickets/bulk/dispatch", json=body, headers={"X-Test-User": "chen"}
    )
    assert refused.status_code == 403
    answer = api.client.post(
        "/api/tickets/bulk/dispatch", json=body, headers={"X-Test-User": "sup"}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["dispatched"] == 2
    assert [(o["number"], o["code"], o["status"]) for o in result["outcomes"]] == [
        (first, 200, "dispatched"),
        (second, 200, "dispatched"),
        (gone, 409, "dispatched"),
        ("GD12345-20260101-999999", 404, None),
    ]
    assert "not allowed in state" in result["outcomes"][2]["detail"]
    shown = api.get("chen", f"/api/tickets/{first}").json()
    assert [(a["department"], a["role"]) for a in shown["assignments"]] == [
        (TIANHE, "lead"),
        ("city.urban_management", "co"),
    ]
    bulk = [e for e in api.recorded("ticket.transition") if e.detail.get("bulk")]
    assert [e.target for e in bulk] == [first, second]


def test_the_directory_for_pickers(api: Api) -> None:
    listed = api.get("chen", "/api/departments").json()["departments"]
    assert len(listed) > 50 and {"id", "name", "level", "level_label", "parent"} == set(listed[0])
    below = api.get("chen", "/api/departments", under=TIANHE).json()["departments"]
    assert SHIPAI in [d["id"] for d in below]
    assert all(d["id"].startswith(("street.tianhe", "community.tianhe")) for d in below)
    assert api.get("chen", "/api/departments", under="nowhere").json()["departments"] == []


def test_department_figures_for_supervisors(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    report = api.get("sup", "/api/report/departments")
    assert report.status_code == 200, report.text
    rows = {row["department"]: row for row in report.json()["departments"]}
    assert rows[TIANHE]["dispatched"] == 1 and rows[TIANHE]["name"] == "天河区人民政府"
    assert rows[TIANHE]["signed_on_time_rate"] is not None
    assert set(report.json()) == {"from", "to", "departments"}
    backwards = api.get(
        "sup", "/api/report/departments", **{"from": "2026-12-01", "to": "2026-11-01"}
    )
    assert backwards.status_code == 200 and backwards.json()["departments"] == []
    assert api.get("chen", "/api/report/departments").status_code == 403


# -- masking -----------------------------------------------------------------------------


def test_numbers_are_masked_for_department_roles(api: Api) -> None:
    number = api.dispatched(TIANHE)
    for user in ("chen", "lin"):
        body = api.get(user, f"/api/tickets/{number}").json()
        assert body["caller_number"] == "138****8000"
        assert "13800138000" not in body["content"] and "138****8000" in body["content"]
        listed = api.get(user, "/api/tickets").json()["items"][0]
        assert listed["caller_number"] == "138****8000"
    assert api.get("sup", f"/api/tickets/{number}").json()["caller_number"] == "13800138000"


def test_merged_callers_are_shown_masked(api: Api) -> None:
    number = api.dispatched(TIANHE)
    again = api.client.post(
        "/api/tickets",
        json={"channel": "web", "caller_number": "13900139000", "content": STREETLIGHT},
        headers={"X-Test-User": "sup"},
    )
    assert again.json()["duplicate_of"] == number
    merged = api.get("chen", f"/api/tickets/{number}").json()["merged_callers"]
    assert [(m["caller_number"], m["ticket"]) for m in merged] == [
        ("139****9000", again.json()["number"])
    ]
    full = api.get("sup", f"/api/tickets/{number}").json()["merged_callers"]
    assert full[0]["caller_number"] == "13900139000"


# -- the 工单管理 console ----------------------------------------------------------------


def page(api: Api, user: str, url: str, **params: Any) -> str:
    answer = api.get(user, url, **params)
    assert answer.status_code == 200, (user, url, answer.text[:300])
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


def test_the_console_lists_and_filters_tickets(api: Api) -> None:
    waiting = api.accepted()
    elsewhere = api.accepted("越秀区北京路步行街的垃圾桶满了没人清理", "13600136000")
    api.ok("sup", elsewhere, action="dispatch", department=YUEXIU)
    watched = api.accepted("天河区体育西路的井盖松动了", "13700137000")
    api.ok("sup", watched, action="dispatch", department=TIANHE)
    api.ok("sup", watched, action="supervise")
    listed = page(api, "sup", "/tickets")
    assert all(number in listed for number in (waiting, elsewhere, watched))
    assert 'id="tk-bulk"' in listed and "剩余15个工作日" in listed and "督办" in listed
    assert "天河区人民政府" in listed and "越秀区人民政府" in listed
    for params, shown in [
        ({"department": YUEXIU}, {elsewhere}),
        ({"q": "井盖"}, {watched}),
        ({"status": "accepted"}, {waiting}),
        ({"supervised": "1"}, {watched}),
        ({"department": TIANHE, "lead_only": "1"}, {watched}),  # the waiting one: no parts yet
    ]:
        found = page(api, "sup", "/tickets", **params)
        assert {n for n in (waiting, elsewhere, watched) if n in found} == shown, params
    assert "没有符合条件的工单" in page(api, "li", "/tickets")  # an agent: only their own
    read_only = page(api, "qa", "/tickets")
    assert watched in read_only and 'id="tk-bulk"' not in read_only
    assert api.get("chen", "/tickets").status_code == 403  # a department has its own console


def test_the_review_page_shows_the_flags_and_the_centres_decision(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    api.ok("chen", number, action="reply", reply=BOILERPLATE)
    api.ok("lin", number, action="approve_reply")
    html = page(api, "sup", f"/tickets/{number}")
    assert 'id="tk-assessment"' in html and "疑似形式办结" in html
    assert "答复以套话为主" in html and 'data-code="boilerplate"' in html
    assert 'id="tk-form-close"' in html and 'id="tk-form-reject_reply"' in html
    assert BOILERPLATE in html and "审核通过" in html and "天河区人民政府" in html
    assert "13800138000" in html  # a supervisor sees the number in full
    qa = page(api, "qa", f"/tickets/{number}")
    assert 'class="tk-action' not in qa and "只读" in qa and "138****8000" in qa
    assert api.get("sup", "/tickets/GD12345-20260101-999999").status_code == 404
    assert api.get("li", f"/tickets/{number}").status_code == 404  # not the agent's
    assert api.get("chen", f"/tickets/{number}").status_code == 403


def test_the_dispatch_form_preselects_the_catalogues_suggestion(api: Api) -> None:
    number = api.accepted()
    html = page(api, "sup", f"/tickets/{number}")
    form = html.split('id="tk-form-dispatch"')[1].split("</form>")[0]
    assert "派单建议：主办 <strong>天河区人民政府</strong>" in form
    assert f'<option value="{TIANHE}" selected>' in form
    assert '<option value="city.urban_management" selected>' in form


def test_the_figures_tab_for_supervisors(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    html = page(api, "sup", "/tickets/figures")
    assert 'id="tk-figures"' in html and "天河区人民政府" in html and "100.0%" in html
    assert "承办单位考核" in page(api, "sup", "/tickets")
    assert "承办单位考核" not in page(api, "li", "/tickets")
    assert api.get("li", "/tickets/figures").status_code == 403


# -- the 承办单位工作台 ---------------------------------------------------------------


def tab_numbers(html: str) -> list[str]:
    table = html.split('id="department-tickets"')[1].split("</table>")[0]
    return [part.split('"')[0] for part in table.split('data-number="')[1:]]


def test_the_department_console_sorts_its_tickets_into_tabs(api: Api) -> None:
    to_sign = api.dispatched(TIANHE)
    handling = api.accepted("天河区体育西路的井盖松动了", "13700137000")
    api.ok("sup", handling, action="dispatch", department=TIANHE)
    api.ok("chen", handling, action="sign")
    reviewing = api.accepted("天河区天河北路的人行道砖破损", "13500135000")
    api.ok("sup", reviewing, action="dispatch", department=TIANHE)
    api.ok("chen", reviewing, action="sign")
    api.ok("chen", reviewing, action="reply", reply=CONCRETE)
    returning = api.accepted("天河区龙口西路有人占道经营", "13400134000")
    api.ok("sup", returning, action="dispatch", department=TIANHE)
    api.ok("chen", returning, action="request_return", reason="属越秀区", department=YUEXIU)
    other = api.accepted("越秀区北京路步行街的垃圾桶满了没人清理", "13600136000")
    api.ok("sup", other, action="dispatch", department=YUEXIU)

    home = page(api, "chen", "/department")
    assert "承办单位工作台 · 天河区人民政府" in home
    assert tab_numbers(home) == [to_sign]  # the first tab with tickets: 待签收
    assert "签收时限" in home and "剩余" in home
    for tab, expected in [
        ("handling", [handling]),
        ("reviewing", [reviewing]),
        ("returning", [returning]),
        ("answered", []),
    ]:
        html = page(api, "lin", "/department", tab=tab)
        assert tab_numbers(html) == expected, tab
        assert other not in html
    assert 'aria-current="page">办理中<span class="tk-count">1</span>' in page(
        api, "chen", "/department", tab="handling"
    )
    assert api.get("chen", "/department", tab="nowhere").status_code == 422


def test_a_sub_units_ticket_is_shown_read_only_to_the_district(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    api.ok("chen", number, action="redispatch", department=SHIPAI, reason="石牌街道辖区")
    district = page(api, "chen", "/department")
    assert number in district and "下级单位" in district and "（只读）" in district
    street = page(api, "shi", f"/department/tickets/{number}")
    assert 'id="tk-form-sign"' in street
    read_only = page(api, "chen", f"/department/tickets/{number}")
    assert 'class="tk-action' not in read_only and "只读" in read_only


def test_the_department_ticket_page_offers_the_departments_own_actions(api: Api) -> None:
    number = api.dispatched(TIANHE)
    api.ok("chen", number, action="sign")
    html = page(api, "chen", f"/department/tickets/{number}")
    for action in ("note", "reply", "request_return", "request_extension", "redispatch"):
        assert f'id="tk-form-{action}"' in html, action
    assert 'id="tk-form-whistle"' not in html  # a district does not blow the whistle
    below = html.split('id="tk-form-redispatch"')[1].split("</form>")[0]
    assert SHIPAI in below and YUEXIU not in below  # only sub-units are offered
    assert 'id="tk-upload"' in html and "138****8000" in html and "13800138000" not in html
    assert 'id="tk-audio"' not in html  # no recordings for departments
    api.ok("chen", number, action="reply", reply=BOILERPLATE)
    review = page(api, "lin", f"/department/tickets/{number}")
    assert BOILERPLATE in review and "待本单位审核" in review
    assert 'id="tk-form-approve_reply"' in review and 'id="tk-form-return_reply"' in review
    assert 'id="tk-assessment"' in review
    assert api.get("yue", f"/department/tickets/{number}").status_code == 404
    assert api.get("sup", f"/department/tickets/{number}").status_code == 403


# -- every new route × every role ----------------------------------------------------------

NO_TICKET = "GD12345-20260101-999999"
WRITERS = ALL_ROLES - {Role.QA, Role.VERIFIER}  # both read; a verifier's answers go by 回访
ATTACHERS = ALL_ROLES - {Role.QA}  # a verifier attaches the photos of a 现场核查
CENTRE_DISPATCH = {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}
CENTRE = {Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN}


def test_every_new_route_admits_exactly_its_roles(api: Api) -> None:
    assert_role_matrix(
        api.client.app,  # type: ignore[arg-type]
        {
            ("GET", "/api/tickets"): ALL_ROLES,
            ("GET", f"/api/tickets/{NO_TICKET}"): ALL_ROLES,
            ("POST", f"/api/tickets/{NO_TICKET}/transitions"): WRITERS,
            ("POST", f"/api/tickets/{NO_TICKET}/attachments"): ATTACHERS,
            ("GET", f"/api/tickets/{NO_TICKET}/attachments/1"): ALL_ROLES,
            ("POST", "/api/tickets/bulk/dispatch"): CENTRE_DISPATCH,
            ("GET", "/api/departments"): ALL_ROLES,
            ("GET", "/api/report/departments"): {Role.SUPERVISOR, Role.ADMIN},
            ("GET", "/tickets"): CENTRE,
            ("GET", "/tickets/figures"): {Role.SUPERVISOR, Role.ADMIN},
            ("GET", f"/tickets/{NO_TICKET}"): CENTRE,
            ("GET", "/department"): {Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_REVIEWER},
            ("GET", f"/department/tickets/{NO_TICKET}"): {
                Role.DEPARTMENT_HANDLER,
                Role.DEPARTMENT_REVIEWER,
            },
        },
        bodies={
            ("POST", f"/api/tickets/{NO_TICKET}/transitions"): {"action": "sign"},
            ("POST", "/api/tickets/bulk/dispatch"): {"numbers": [NO_TICKET], "department": TIANHE},
        },
    )
