"""Signing in to the consoles through the web app (FastAPI's TestClient): the login
page, session cookies, lockouts, CSRF, API tokens, roles, masking and the audit log."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from sip_config import Settings
from sip_config.settings import WebSection
from tests.support.web_auth import (  # the fixtures too: the same app and accounts
    HOMES,
    T0,
    USERS,
    Clock,
    accounts,
    client,
    clock,
    login,
    make_app,
    open_accounts_at,
    sign_in_url,
    signed_in,
)
from tests.support.web_roles import (
    PUBLIC,
    FakeAccounts,
    as_role,
    assert_role_matrix,
    route_roles,
    routes_without_csrf,
)
from web.accounts import SESSION_COOKIE, Accounts
from web.app import create_app
from web.context import WebContext
from web.masking import (
    mask_fields,
    mask_for,
    mask_id_card,
    mask_phone,
    mask_text,
    sees_full_numbers,
)
from web.navigation import ROLE_LABELS
from web.roles import ALL_ROLES, Principal, Role

__all__ = ["accounts", "client", "clock"]  # fixtures used by name

BAD = quote("差评")  # as a browser sends it in a query


def test_the_login_page_is_chinese_and_keyboard_friendly(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html and "登录" in html
    assert (
        '<label for="username">用户名</label>' in html
        and '<label for="password">密码</label>' in html
    )
    assert 'autocomplete="current-password"' in html and "autofocus" in html
    assert '<button type="submit" class="primary">登录</button>' in html
    assert "退出登录" not in html  # nobody signed in
    css = client.get("/static/hotline.css")
    assert css.status_code == 200 and ":focus-visible" in css.text


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_console(client: TestClient, role: Role) -> None:
    response = login(client, *USERS[role])
    assert response.status_code == 303 and response.headers["location"] == HOMES[role]
    me = client.get("/api/me").json()
    assert me["username"] == USERS[role][0] and me["role"] == role.value
    assert me["via"] == "session" and len(me["csrf_token"]) > 20 and me["home"] == HOMES[role]
    assert me["agent_id"] == ("1001" if role is Role.AGENT else "")
    again = client.get("/login", follow_redirects=False)  # signed in already
    assert again.status_code == 303 and again.headers["location"] == HOMES[role]


# -- the front page, pages without a session, and next ---------------------------------------


def test_the_front_page_is_the_sign_in_page(client: TestClient) -> None:
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<h1 id="login-title">登录</h1>' in page.text and 'action="/login"' in page.text
    assert "Not Found" not in page.text


@pytest.mark.parametrize("role", list(Role))
def test_the_front_page_sends_a_signed_in_user_to_their_console(
    client: TestClient, role: Role
) -> None:
    signed_in(client, role)
    front = client.get("/", follow_redirects=False)
    assert front.status_code == 303 and front.headers["location"] == HOMES[role]


@pytest.mark.parametrize(
    "url", ["/desk", "/wallboard", "/qa", f"/qa?start=2026-11-01&rating={BAD}", "/account/password"]
)
def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    client: TestClient, url: str
) -> None:
    moved = client.get(url, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == sign_in_url(url)
    page = client.get(url)  # followed: the sign-in page, keeping where to go next
    assert page.status_code == 200 and '<h1 id="login-title">登录</h1>' in page.text
    assert f'<input type="hidden" name="next" value="{url.replace("&", "&amp;")}">' in page.text
    assert "请先登录，登录后将继续打开您要访问的页面" in page.text


@pytest.mark.parametrize(
    "url", ["/api/me", "/api/desk", "/api/wallboard", "/api/calls", "/metrics"]
)
def test_the_api_and_machine_endpoints_answer_401_json(client: TestClient, url: str) -> None:
    refused = client.get(url, follow_redirects=False)
    assert refused.status_code == 401 and "location" not in refused.headers
    assert refused.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.AGENT, "/desk"),
        (Role.SUPERVISOR, "/wallboard"),
        (Role.QA, f"/qa?start=2026-11-01&rating={BAD}"),
        (Role.ADMIN, "/account/password"),
        (Role.AGENT, "/qa/calls/c-42"),
    ],
)
def test_signing_in_returns_to_the_page_first_asked_for(
    client: TestClient, role: Role, url: str
) -> None:
    sent = client.get(url, follow_redirects=False).headers["location"]
    assert sent == sign_in_url(url)
    signed = login(client, *USERS[role], next_path=url)
    assert signed.status_code == 303 and signed.headers["location"] == url
    again = client.get(sign_in_url("/qa"), follow_redirects=False)  # signed in already
    assert again.status_code == 303 and again.headers["location"] == "/qa"


def test_a_refused_sign_in_keeps_where_to_go_next(client: TestClient) -> None:
    refused = login(client, "zhang", "wrong-pass", next_path="/qa?page=2")
    assert refused.status_code == 401
    assert '<input type="hidden" name="next" value="/qa?page=2">' in refused.text
    assert login(client, "zhang", "", next_path="/qa").status_code == 400
    signed = login(client, *USERS[Role.AGENT], next_path="/qa?page=2")
    assert signed.headers["location"] == "/qa?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/login",
        "///evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "qa",
        "/" + "a" * 2100,
        "",
    ],
)
def test_next_is_never_an_open_redirect(client: TestClient, target: str) -> None:
    page = client.get("/login", params={"next": target})
    assert page.status_code == 200 and 'name="next"' not in page.text
    signed = login(client, *USERS[Role.QA], next_path=target)
    assert signed.status_code == 303 and signed.headers["location"] == HOMES[Role.QA]
    again = client.get("/login", params={"next": target}, follow_redirects=False)
    assert again.headers["location"] == HOMES[Role.QA]


def test_safe_next_keeps_paths_of_this_site_only() -> None:
    from web.navigation import landing
    from web.redirects import safe_next, with_next

    for kept in ("/", "/qa", "/qa/calls/c-1?leg=qa#score", "/wallboard?group=%E7%BB%BC"):
        assert safe_next(kept) == kept
    for refused in ("", None, "qa", "//x.example", "/\\x.example", "https://x.example", "/\x00"):
        assert safe_next(refused) == "", refused
    assert with_next("/login", "/qa?page=2") == "/login?next=%2Fqa%3Fpage%3D2"
    assert with_next("/login", "//x.example") == "/login"
    assert landing(Role.AGENT, "/qa") == "/qa" and landing(Role.AGENT, "//x") == "/desk"
    assert landing(Role.QA, "/login?next=/desk") == "/qa"
    assert landing(Role.QA, "/account/password") == "/account/password"
    assert landing(Role.QA, "/account/password", leaving="/account/password") == "/qa"


def test_the_sign_in_page_is_no_place_to_return_to(client: TestClient) -> None:
    signed = login(client, *USERS[Role.QA], next_path="/login?next=/qa")
    assert signed.headers["location"] == HOMES[Role.QA]


@pytest.mark.parametrize(
    ("role", "url", "may_use"),
    [
        (Role.QA, "/desk", ["/qa", "/tickets"]),
        (Role.AGENT, "/wallboard", ["/desk", "/qa", "/tickets"]),
        (Role.ADMIN, "/desk", ["/wallboard", "/qa", "/tickets", "/verification", "/analytics"]),
        (Role.DEPARTMENT_HANDLER, "/desk", ["/department"]),
        (Role.DEPARTMENT_REVIEWER, "/wallboard", ["/department"]),
        (Role.VERIFIER, "/tickets", ["/verification"]),
    ],
)
def test_a_role_without_the_page_gets_a_403_page_not_a_redirect(
    client: TestClient, role: Role, url: str, may_use: list[str]
) -> None:
    signed_in(client, role)
    refused = client.get(url, follow_redirects=False)
    assert refused.status_code == 403 and "location" not in refused.headers
    assert refused.headers["content-type"].startswith("text/html")
    html = refused.text
    assert '<h1 id="forbidden-title">无权访问此页面</h1>' in html
    assert f"{USERS[role][0]}（{ROLE_LABELS[role]}）没有使用此页面的权限" in html
    listed = html.split('<ul class="forbidden-consoles">')[1].split("</ul>")[0]
    assert [href.split('"')[0] for href in listed.split('href="')[1:]] == may_use
    assert f'href="{HOMES[role]}" id="forbidden-home">返回我的工作台' in html
    assert 'action="/logout"' in html  # or sign out and use another account
    api = client.get("/api/wallboard" if url == "/wallboard" else "/api/desk")
    assert api.status_code == 403 and api.headers["content-type"].startswith("application/json")


def _cookie(response: Any) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


def test_the_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    response = login(client, *USERS[Role.QA])
    header = response.headers["set-cookie"]
    morsel = _cookie(response)[SESSION_COOKIE]
    assert morsel["httponly"] is True and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/" and morsel["max-age"] == str(8 * 3600)
    assert "secure" not in header.lower()


def test_secure_cookies_when_configured(tmp_path: Path, clock: Clock) -> None:
    web = WebSection(secure_cookies=True)
    with open_accounts_at(tmp_path, clock, web) as accounts:
        response = login(TestClient(make_app(accounts)), *USERS[Role.QA])
    assert _cookie(response)[SESSION_COOKIE]["secure"] is True


def test_a_wrong_password_is_refused(client: TestClient) -> None:
    response = login(client, "zhang", "wrong-pass")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text and "连续输错 3 次" in response.text
    assert 'value="zhang"' in response.text  # the name stays, the password field takes focus
    assert "set-cookie" not in response.headers
    assert client.get("/api/me").status_code == 401
    assert login(client, "zhang", "").status_code == 400


def test_wrong_passwords_lock_the_account_until_the_lock_ends(
    client: TestClient, clock: Clock
) -> None:
    pages = [login(client, "zhang", "wrong-pass") for _ in range(3)]
    assert [p.status_code for p in pages] == [401, 401, 401]
    assert "锁定" in pages[-1].text and "15 分钟后再试" in pages[-1].text
    clock.advance(minutes=10)
    refused = login(client, *USERS[Role.AGENT])
    assert refused.status_code == 401 and "5 分钟后再试" in refused.text
    assert "set-cookie" not in refused.headers
    clock.advance(minutes=5)
    assert login(client, *USERS[Role.AGENT]).status_code == 303


def test_a_lockout_does_not_tell_whether_the_user_exists(client: TestClient) -> None:
    def pages(username: str) -> list[tuple[int, str]]:
        found = [login(client, username, "wrong-pass") for _ in range(4)]
        return [(p.status_code, p.text.replace(username, "NAME")) for p in found]

    assert pages("zhang") == pages("nosuchuser")


def test_a_disabled_user_is_refused(client: TestClient, accounts: Accounts) -> None:
    signed_in(client, Role.QA)
    accounts.set_disabled("li")
    assert client.get("/api/me").status_code == 401  # the session ended with it
    response = login(client, *USERS[Role.QA])
    assert response.status_code == 403 and "已停用" in response.text


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = signed_in(client, Role.SUPERVISOR)
    cookie = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert _cookie(response)[SESSION_COOKIE]["max-age"] == "0"
    assert client.get("/api/me").status_code == 401
    replayed = TestClient(client.app, cookies={SESSION_COOKIE: cookie})
    assert replayed.get("/api/me").status_code == 401  # the old cookie is dead too


def test_an_expired_session_is_refused(client: TestClient, clock: Clock) -> None:
    signed_in(client, Role.QA)
    clock.advance(hours=7, minutes=59)
    assert client.get("/api/me").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/me").status_code == 401


def test_state_changes_need_the_csrf_token(client: TestClient) -> None:
    csrf = signed_in(client, Role.AGENT)
    assert client.post("/api/test/notes").status_code == 403
    assert client.post("/api/test/notes", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/test/notes", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/api/me").status_code == 200  # still signed in
    by_header = client.post("/api/test/notes", headers={"X-CSRF-Token": csrf})
    assert by_header.status_code == 200 and by_header.json() == {"ok": True, "by": "zhang"}
    by_form = client.post("/api/test/notes", data={"csrf_token": csrf})
    assert by_form.status_code == 200


def test_pages_carry_the_csrf_token_and_a_logout_form(client: TestClient) -> None:
    csrf = signed_in(client, Role.QA)
    page = client.get("/test/page").text
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    assert f'<input type="hidden" name="csrf_token" value="{csrf}">' in page
    assert 'action="/logout"' in page and "li（质检员）" in page


def test_api_tokens_work_without_csrf_until_revoked(client: TestClient, accounts: Accounts) -> None:
    record, token = accounts.create_token("zhao", "大屏")
    bearer = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me", headers=bearer).json()
    assert (me["username"], me["via"], me["csrf_token"]) == ("zhao", "token", None)
    assert client.post("/api/test/notes", headers=bearer).status_code == 200
    assert client.get("/api/me", headers={"Authorization": "Bearer hl_forged"}).status_code == 401
    accounts.revoke_token(record.id)
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert client.post("/api/test/notes", headers=bearer).status_code == 401


def test_one_address_with_many_failures_must_wait(tmp_path: Path, clock: Clock) -> None:
    with open_accounts_at(tmp_path, clock, ip_failures=5) as accounts:
        client = TestClient(make_app(accounts))
        for number in range(5):
            assert login(client, f"guess{number}", "wrong-pass").status_code == 401
        throttled = login(client, *USERS[Role.QA])
        assert throttled.status_code == 429 and "过于频繁" in throttled.text
        assert throttled.headers["retry-after"] == "600"
        clock.advance(minutes=10)
        assert login(client, *USERS[Role.QA]).status_code == 303


def test_logins_logouts_and_router_writes_are_audited(
    client: TestClient, accounts: Accounts
) -> None:
    login(client, "zhang", "wrong-pass")
    csrf = signed_in(client, Role.AGENT)
    client.post("/api/test/notes", headers={"X-CSRF-Token": csrf})
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    found = [
        (e.action, e.username, e.role, e.target, dict(e.detail), e.ip)
        for e in reversed(accounts.audit.entries(since=T0))
        if e.action != "user.add"
    ]
    assert found == [
        ("login.failed", "zhang", "agent", "", {"reason": "wrong"}, "testclient"),
        ("login", "zhang", "agent", "", {}, "testclient"),
        ("note.add", "zhang", "agent", "c-42", {"words": 3}, "testclient"),
        ("logout", "zhang", "agent", "", {}, "testclient"),
    ]


def test_without_accounts_nobody_signs_in_and_writes_are_refused() -> None:
    client = TestClient(make_app(None), raise_server_exceptions=False)
    assert client.get("/login").status_code == 200
    assert login(client, "zhang", "whatever-1").status_code == 503
    assert client.get("/api/me").status_code == 401


def test_audit_record_needs_an_audit_log() -> None:
    app = make_app(None)
    app.state.context.accounts = FakeAccounts()
    app.state.context.accounts.audit = None
    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/api/test/notes", headers=as_role(Role.AGENT)).status_code == 500


def test_fake_accounts_keep_router_audit_entries_in_memory() -> None:
    fake = FakeAccounts()
    client = TestClient(make_app(fake))
    assert client.post("/api/test/notes", headers=as_role(Role.QA)).json()["by"] == "test-qa"
    assert [(e.action, e.role) for e in fake.audit.recorded] == [("note.add", "qa")]


def test_every_auth_route_declares_its_roles(accounts: Accounts) -> None:
    app = create_app(WebContext(Settings(), accounts=accounts))
    matrix = {
        ("GET", "/login"): PUBLIC,
        ("POST", "/login"): PUBLIC,
        ("POST", "/logout"): ALL_ROLES,
        ("GET", "/api/me"): ALL_ROLES,
        ("GET", "/account/password"): ALL_ROLES,
        ("POST", "/account/password"): ALL_ROLES,
    }
    declared = route_roles(app)
    assert {key: declared[key] for key in matrix} == matrix
    assert {key for key in declared if key[1].startswith("/account")} == {
        ("GET", "/account/password"),
        ("POST", "/account/password"),
    }
    assert_role_matrix(app, matrix)
    assert routes_without_csrf(app, "/log") == []
    assert routes_without_csrf(app, "/account") == []
    assert app.state.context.accounts is accounts  # the helper put the real ones back


def test_the_role_matrix_helper_catches_wrong_declarations(accounts: Accounts) -> None:
    app = create_app(WebContext(Settings(), accounts=accounts))
    with pytest.raises(AssertionError) as caught:
        assert_role_matrix(app, {("GET", "/api/me"): {Role.ADMIN}, ("GET", "/login"): {Role.QA}})
    message = str(caught.value)
    assert "GET /api/me as agent: 200, not 403" in message
    assert "GET /login without login: 200, not 401" in message
    assert "GET /api/me as admin" not in message


# -- masking -------------------------------------------------------------------------------------


def test_numbers_are_masked_keeping_their_ends() -> None:
    assert mask_id_card("440106199001011234") == "440106********1234"
    assert mask_id_card("44010619900101123X") == "440106********123X"
    assert mask_id_card("440106900101123") == "440106*****1123"  # the old 15-digit form
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("020-87654321") == "020-****4321"
    assert mask_phone("+86 138-0013-8000") == "+86 138-****-8000"
    assert mask_phone("110") == "110"
    assert mask_text("电话13800138000，身份证440106199001011234。") == (
        "电话138****8000，身份证440106********1234。"
    )
    assert mask_text("我的手机是幺三八零零幺三八零零零") == "我的手机是幺三八****八零零零"
    assert mask_text("请拨打95555查询") == "请拨打95555查询"  # a service number is nobody's


def _principal(role: Role) -> Principal:
    return Principal(1, "someone", role, "1001" if role is Role.AGENT else "")


def test_who_sees_numbers_in_full() -> None:
    assert sees_full_numbers(_principal(Role.SUPERVISOR))
    assert sees_full_numbers(_principal(Role.ADMIN))
    assert not sees_full_numbers(_principal(Role.QA))
    assert not sees_full_numbers(_principal(Role.QA), on_call=True)
    assert sees_full_numbers(_principal(Role.AGENT), on_call=True)
    assert not sees_full_numbers(_principal(Role.AGENT))
    assert not sees_full_numbers(None)


def test_api_payloads_are_masked_for_roles_that_do_not_need_numbers() -> None:
    ticket = {
        "number": "GD12345-20261127-000001",
        "call_id": "c-42",
        "caller_number": "13800138000",
        "content": "身份证440106199001011234，回电13900139000",
        "understanding": {
            "slots": {
                "phones": [{"value": "13900139000", "kind": "mobile", "text": "13900139000"}],
                "id_numbers": [{"value": "440106199001011234", "valid": True}],
            }
        },
        "history": [{"callback_number": "020-87654321", "at": "2026-11-27T10:00:00+08:00"}],
        "duration": 125,
    }
    masked = mask_fields(ticket)
    assert masked["number"] == "GD12345-20261127-000001" and masked["call_id"] == "c-42"
    assert masked["caller_number"] == "138****8000"
    assert masked["content"] == "身份证440106********1234，回电139****9000"
    slots = masked["understanding"]["slots"]
    assert slots["phones"][0] == {"value": "139****9000", "kind": "mobile", "text": "139****9000"}
    assert slots["id_numbers"][0] == {"value": "440106********1234", "valid": True}
    assert masked["history"][0] == {
        "callback_number": "020-****4321",
        "at": "2026-11-27T10:00:00+08:00",
    }
    assert masked["duration"] == 125
    assert "13800138000" in str(ticket)  # the original is left alone
    assert mask_for(ticket, _principal(Role.SUPERVISOR)) is ticket
    assert mask_for(ticket, _principal(Role.QA)) == masked
    assert mask_for(ticket, _principal(Role.AGENT)) == masked
    assert mask_for(ticket, _principal(Role.AGENT), on_call=True) is ticket
