"""修改密码 through the web app (FastAPI's TestClient, SQLite accounts): the password
page, changing one's own password, its refusals, and sessions held at the page
while a one-time password must be changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.web_auth import (  # the fixtures too: the same app and accounts
    HOMES,
    USERS,
    Clock,
    accounts,
    client,
    clock,
    login,
    make_app,
    open_accounts_at,
    signed_in,
)
from web.accounts import SESSION_COOKIE, Accounts, LoginOutcome
from web.flash import FLASH_COOKIE, PASSWORD_CHANGED
from web.roles import PASSWORD_PAGE, Role

__all__ = ["accounts", "client", "clock"]  # fixtures used by name

AGENT_NAME, AGENT_PASSWORD = USERS[Role.AGENT]
NEW_PASSWORD = "brand-new-pass-1"


def change(
    client: TestClient,
    current: str,
    new: str,
    confirm: str | None = None,
    csrf: str | None = "",
    next_path: str | None = None,
) -> Any:
    """POST the password form; ``csrf`` "" takes the session's own, None sends none;
    ``next_path`` is the form's ``next`` field."""
    if csrf == "":
        csrf = client.get("/api/me").json()["csrf_token"]
    form = {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }
    if next_path is not None:
        form["next"] = next_path
    if csrf is not None:
        form["csrf_token"] = csrf
    return client.post(PASSWORD_PAGE, data=form, follow_redirects=False)


def held_csrf(client: TestClient) -> str:
    """The CSRF token of a session held at the password page (``/api/me`` refuses it)."""
    page = client.get(PASSWORD_PAGE).text
    return page.split('<meta name="csrf-token" content="')[1].split('"')[0]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_the_password_page_linked_in_the_header(
    client: TestClient, role: Role
) -> None:
    csrf = signed_in(client, role)
    page = client.get(PASSWORD_PAGE)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<h1 id="password-title">修改密码</h1>' in html
    for field, label in (
        ("current_password", "当前密码"),
        ("new_password", "新密码"),
        ("confirm_password", "确认新密码"),
    ):
        assert f'<label for="{field}">{label}</label>' in html
        assert f'id="{field}" name="{field}" type="password"' in html
    assert 'autocomplete="current-password"' in html and 'autocomplete="new-password"' in html
    assert f'<input type="hidden" name="csrf_token" value="{csrf}">' in html
    assert "一次性密码" not in html  # nobody is forced here
    header = client.get("/test/page").text.split("</header>")[0]
    assert '<a class="account" href="/account/password">修改密码</a>' in header
    assert header.index("修改密码") < header.index("退出登录")


def test_a_token_sees_no_password_link_and_cannot_change(
    client: TestClient, accounts: Accounts
) -> None:
    _, token = accounts.create_token("zhao")
    bearer = {"Authorization": f"Bearer {token}"}
    assert "/account/password" not in client.get("/test/page", headers=bearer).text
    refused = client.post(
        PASSWORD_PAGE,
        data={"current_password": "super-pass-1", "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD},
        headers=bearer,
    )  # fmt: skip
    assert refused.status_code == 400 and "API 令牌不能修改密码" in refused.text
    assert accounts.login("zhao", "super-pass-1").outcome is LoginOutcome.OK


def test_changing_ones_password_ends_the_other_sessions(
    client: TestClient, accounts: Accounts
) -> None:
    signed_in(client, Role.QA)
    elsewhere = TestClient(client.app)
    signed_in(elsewhere, Role.QA)
    assert elsewhere.get("/api/me").status_code == 200
    done = change(client, "qa-pass-1", NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == HOMES[Role.QA]
    assert client.get("/api/me").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/api/me").status_code == 401  # the other one is signed out
    assert login(TestClient(client.app), "li", "qa-pass-1").status_code == 401
    assert login(TestClient(client.app), "li", NEW_PASSWORD).status_code == 303
    entry = accounts.audit.entries(action="user.passwd")[0]
    assert (entry.username, entry.role, entry.target, entry.ip) == ("li", "qa", "li", "testclient")
    assert entry.detail == {"own": True, "other_sessions_ended": 1}
    assert NEW_PASSWORD not in str(accounts.audit.entries())


@pytest.mark.parametrize(
    ("current", "new", "confirm", "error"),
    [
        ("wrong-pass-1", NEW_PASSWORD, NEW_PASSWORD, "当前密码不正确"),
        (AGENT_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
        (AGENT_PASSWORD, "short", "short", "密码至少 8 位"),
        (AGENT_PASSWORD, "Zhang", "Zhang", "密码至少 8 位"),
        (AGENT_PASSWORD, AGENT_PASSWORD, AGENT_PASSWORD, "不能与当前密码相同"),
        (AGENT_PASSWORD, " padded-pass ", " padded-pass ", "首尾不能是空格"),
        ("", NEW_PASSWORD, NEW_PASSWORD, "请填写当前密码、新密码和确认新密码"),
    ],
)
def test_refusals_show_the_form_again_with_the_reason(
    client: TestClient, accounts: Accounts, current: str, new: str, confirm: str, error: str
) -> None:
    signed_in(client, Role.AGENT)
    refused = change(client, current, new, confirm)
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
    assert '<p class="error" role="alert" id="password-error">' in refused.text
    assert error in refused.text
    assert current not in refused.text or not current  # passwords are never echoed
    assert accounts.login(AGENT_NAME, AGENT_PASSWORD).outcome is LoginOutcome.OK
    assert client.get("/api/me").status_code == 200


def test_a_password_equal_to_the_username_is_refused(tmp_path: Path, clock: Clock) -> None:
    with open_accounts_at(tmp_path, clock) as accounts:
        accounts.add_user("wangxiaoming", Role.QA, "qa-pass-12")
        client = TestClient(make_app(accounts))
        assert login(client, "wangxiaoming", "qa-pass-12").status_code == 303
        refused = change(client, "qa-pass-12", "WangXiaoMing")
        assert refused.status_code == 400 and "不能与用户名相同" in refused.text


def test_wrong_current_passwords_lock_the_change(client: TestClient, accounts: Accounts) -> None:
    signed_in(client, Role.AGENT)
    codes = [change(client, "wrong-pass-1", NEW_PASSWORD).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    locked = change(client, AGENT_PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 429 and "15 分钟后再试" in locked.text
    assert locked.headers["retry-after"] == "900"
    assert accounts.login(AGENT_NAME, AGENT_PASSWORD).outcome is LoginOutcome.LOCKED


def test_the_form_needs_the_csrf_token(client: TestClient, accounts: Accounts) -> None:
    signed_in(client, Role.SUPERVISOR)
    assert change(client, "super-pass-1", NEW_PASSWORD, csrf=None).status_code == 403
    assert change(client, "super-pass-1", NEW_PASSWORD, csrf="forged").status_code == 403
    assert accounts.login("zhao", "super-pass-1").outcome is LoginOutcome.OK
    assert accounts.audit.entries(action="user.passwd") == []


def test_a_one_time_password_must_be_changed_first(client: TestClient, accounts: Accounts) -> None:
    accounts.set_password("zhang", "one-time-pass", must_change=True)
    _, token = accounts.create_token("zhang")
    signed = login(client, "zhang", "one-time-pass")
    assert signed.status_code == 303 and signed.headers["location"] == PASSWORD_PAGE
    page = client.get(PASSWORD_PAGE)
    assert page.status_code == 200 and "一次性密码" in page.text
    csrf = held_csrf(client)

    for url in ("/desk", "/test/page", "/login"):  # pages: to the password page
        moved = client.get(url, follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == PASSWORD_PAGE, url
    refused = client.get("/api/me")
    assert refused.status_code == 403 and "请先修改密码" in refused.json()["detail"]
    assert client.get("/api/desk").status_code == 403
    assert client.post("/api/test/notes", headers={"X-CSRF-Token": csrf}).status_code == 403
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws/desk") as socket,
    ):
        socket.receive_json()
    assert closed.value.code == 4403 and "请先修改密码" in closed.value.reason
    assert client.get("/static/hotline.css").status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}  # API tokens are not held back
    assert client.get("/api/me", headers=bearer).json()["username"] == "zhang"

    done = change(client, "one-time-pass", NEW_PASSWORD, csrf=csrf)
    assert done.status_code == 303 and done.headers["location"] == "/desk"
    assert done.cookies[FLASH_COOKIE] == PASSWORD_CHANGED
    assert not accounts.get_user("zhang").must_change_password
    assert client.get("/api/me").json()["username"] == "zhang"
    assert client.get("/test/page").status_code == 200
    again = TestClient(client.app)
    assert login(again, "zhang", NEW_PASSWORD).headers["location"] == "/desk"


def test_a_held_session_may_log_out(client: TestClient, accounts: Accounts) -> None:
    accounts.set_password("li", "one-time-pass", must_change=True)
    login(client, "li", "one-time-pass")
    cookie = client.cookies[SESSION_COOKIE]
    out = client.post("/logout", data={"csrf_token": held_csrf(client)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replayed = TestClient(client.app, cookies={SESSION_COOKIE: cookie})
    moved = replayed.get(PASSWORD_PAGE, follow_redirects=False)  # signed out: sign in first
    assert moved.status_code == 303
    assert moved.headers["location"] == "/login?" + urlencode({"next": PASSWORD_PAGE})
    assert replayed.get("/api/me").status_code == 401
    assert accounts.get_user("li").must_change_password  # still to be changed


# -- after the change: back to work, with a confirmation ------------------------------------

CHANGED = "密码已修改"


def notice_of(html: str) -> str:
    """The one-time notice a page shows above its content ("" without one)."""
    if 'id="flash"' not in html:
        return ""
    return html.split('id="flash">')[1].split("</p>")[0]


@pytest.mark.parametrize("role", list(Role))
def test_after_the_change_the_console_confirms_it_once(
    client: TestClient, accounts: Accounts, role: Role
) -> None:
    name, password = USERS[role]
    accounts.set_password(name, "one-time-pass", must_change=True)
    signed = login(client, name, "one-time-pass")
    assert signed.headers["location"] == PASSWORD_PAGE
    done = change(client, "one-time-pass", NEW_PASSWORD, csrf=held_csrf(client))
    assert done.status_code == 303 and done.headers["location"] == HOMES[role]
    # The QA list needs the call catalogue, absent here: any page shows the notice.
    landed = client.get("/test/page" if role is Role.QA else done.headers["location"])
    assert landed.status_code == 200
    assert notice_of(landed.text).startswith(CHANGED)
    assert 'role="status"' in landed.text.split('id="flash"')[0].rsplit("<p", 1)[1]
    assert FLASH_COOKIE not in client.cookies  # shown once
    assert notice_of(client.get("/test/page").text) == ""
    assert client.get("/api/me").json()["username"] == name


def test_a_one_time_password_goes_on_to_the_page_first_asked_for(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.set_password("zhao", "one-time-pass", must_change=True)
    wanted = "/wallboard?group=%E7%BB%BC%E5%90%88"
    sent = client.get(wanted, follow_redirects=False)  # nobody signed in yet
    assert sent.headers["location"] == "/login?" + urlencode({"next": wanted})
    signed = login(client, "zhao", "one-time-pass", next_path=wanted)
    assert signed.headers["location"] == f"{PASSWORD_PAGE}?{urlencode({'next': wanted})}"
    form = client.get(signed.headers["location"])
    assert "一次性密码" in form.text
    assert f'<input type="hidden" name="next" value="{wanted}">' in form.text
    refused = change(client, "wrong-pass-1", NEW_PASSWORD, csrf=held_csrf(client), next_path=wanted)
    assert refused.status_code == 400
    assert f'<input type="hidden" name="next" value="{wanted}">' in refused.text  # kept
    done = change(client, "one-time-pass", NEW_PASSWORD, csrf=held_csrf(client), next_path=wanted)
    assert done.status_code == 303 and done.headers["location"] == wanted
    landed = client.get(wanted)
    assert landed.status_code == 200 and "值班长看板" in landed.text
    assert notice_of(landed.text).startswith(CHANGED)


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", PASSWORD_PAGE]
)
def test_after_the_change_next_is_never_an_open_redirect_nor_the_form_again(
    client: TestClient, target: str
) -> None:
    signed_in(client, Role.QA)
    form = client.get(PASSWORD_PAGE, params={"next": target}).text
    if target != PASSWORD_PAGE:
        assert 'name="next"' not in form
    done = change(client, "qa-pass-1", NEW_PASSWORD, next_path=target)
    assert done.status_code == 303 and done.headers["location"] == HOMES[Role.QA]


def test_a_changed_password_confirms_on_the_page_asked_for(client: TestClient) -> None:
    signed_in(client, Role.AGENT)
    form = client.get(PASSWORD_PAGE, params={"next": "/test/page?tab=2"})
    assert '<input type="hidden" name="next" value="/test/page?tab=2">' in form.text
    done = change(client, AGENT_PASSWORD, NEW_PASSWORD, next_path="/test/page?tab=2")
    assert done.headers["location"] == "/test/page?tab=2"
    assert notice_of(client.get("/test/page?tab=2").text).startswith(CHANGED)


def test_a_forged_notice_shows_nothing(client: TestClient) -> None:
    signed_in(client, Role.AGENT)
    client.cookies.set(FLASH_COOKIE, "<script>alert(1)</script>")
    page = client.get("/test/page").text
    assert notice_of(page) == "" and "alert(1)" not in page
