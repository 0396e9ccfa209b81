// The agent desk: GET /api/desk, then live updates over /ws/desk; actions are POSTed
// with the session's CSRF token (X-CSRF-Token).  Plain JS, no build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const STATUS = {
    logged_out: "未登录", available: "空闲（就绪）", not_ready: "示忙",
    offered: "振铃中", on_call: "通话中", wrap_up: "话后处理",
  };
  const WHO = { caller: "市民", agent: "坐席" };
  const ENDED = {
    flow_complete: "正常结束", local_hangup: "正常结束", remote_hangup: "市民挂断",
    agent_hung_up: "坐席挂断", transferred: "已转接", worker_lost: "线路中断",
    agent_unavailable: "未接通坐席",
  };
  const STEPS = {
    queued: "排队中", connected: "通话中", closing: "结束语", voicemail: "留言中",
    listening: "收听中", greeting: "问候语",
  };
  const SLOTS = {
    addresses: "地址", phones: "电话", id_numbers: "证件号", names: "姓名",
    times: "时间", organisations: "单位",
  };
  const state = { view: null, since: Date.now(), call: null, lines: [], partial: {}, ticket: null };

  // ---- talking to the hub ------------------------------------------------------------
  async function api(method, url, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    if (response.status === 401) {
      location.href = "/login?next=/desk";
      throw new Error("请先登录");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
      throw new Error(detail || `请求失败 (${response.status})`);
    }
    return data;
  }

  function say(text, ok = false) {
    const box = $("message");
    box.hidden = !text;
    box.textContent = text || "";
    box.className = "desk-message " + (ok ? "ok" : "error");
  }

  async function act(label, method, url, body) {
    try {
      const data = await api(method, url, body);
      say(`${label}：已完成`, true);
      return data;
    } catch (error) {
      say(`${label}未成功：${error.message}`);
      return null;
    }
  }

  // ---- state -------------------------------------------------------------------------
  function renderState(view) {
    const badge = $("state");
    badge.dataset.status = view.status;
    badge.textContent = STATUS[view.status] || view.status;
    $("state-reason").textContent = view.reason ? `（${view.reason}）` : "";
    const s = view.status;
    $("btn-login").disabled = s !== "logged_out";
    $("btn-ready").disabled = !["not_ready", "wrap_up"].includes(s);
    $("btn-break").disabled = !["available", "not_ready", "wrap_up"].includes(s);
    $("btn-wrapup").disabled = s !== "wrap_up";
    $("btn-logout").disabled = !["available", "not_ready", "wrap_up"].includes(s);
  }

  function tickSince() {
    const seconds = Math.max(0, Math.floor((Date.now() - state.since) / 1000));
    const m = Math.floor(seconds / 60);
    $("state-since").textContent = `${m}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function applyView(view) {
    state.view = view;
    state.since = Date.now() - (view.since_s || 0) * 1000;
    renderState(view);
    const groups = $("transfer-group");
    const current = groups.value;
    groups.replaceChildren(...(view.groups || []).map((g) => new Option(g, g)));
    if (current) groups.value = current;
    if (view.call) {
      showCall(view.call, view.status === "on_call" ? "通话中" : "振铃中");
    } else if (!state.call || state.call.call_id !== view.last_call) {
      showCall(null);
    }
    if (view.call || view.last_call) loadTicket();
    else showTicket(null);
  }

  // ---- the call ----------------------------------------------------------------------
  function showCall(call, stage) {
    const same = call && state.call && state.call.call_id === call.call_id;
    state.call = call;
    $("no-call").hidden = !!call;
    $("call").hidden = !call;
    const stageBadge = $("call-stage");
    stageBadge.hidden = !call || !stage;
    stageBadge.textContent = stage || "";
    if (!call) return;
    $("call-caller").textContent = call.caller || "未知号码";
    $("call-priority").textContent = call.priority_label || "普通";
    $("call-group").textContent = call.seat_group || call.group || "";
    $("call-ticket").textContent = call.ticket || "（草稿生成中）";
    showUnderstanding(call.understanding);
    if (!same || (call.transcript && call.transcript.length > state.lines.length)) {
      state.lines = (call.transcript || []).map((l) => ({ leg: l.leg || "caller", text: l.text }));
      state.partial = {};
      renderTranscript();
    }
  }

  function showUnderstanding(u) {
    u = u || {};
    $("u-type").textContent = u.request_type || "—";
    $("u-domain").textContent = u.domain || "—";
    $("u-summary").textContent = u.summary || "—";
    const slots = u.slots || {};
    const parts = [];
    for (const [name, values] of Object.entries(slots)) {
      if (!Array.isArray(values) || !values.length) continue;
      const shown = values.map((v) => (typeof v === "object" ? v.text || v.value || v.address || "" : v));
      parts.push(`${SLOTS[name] || name}：${shown.filter(Boolean).join("、")}`);
    }
    $("u-slots").textContent = parts.join("；") || "—";
    const box = $("emergency");
    const number = u.emergency;
    box.hidden = !(number || u.emergency_adjacent);
    box.textContent = number
      ? `紧急情况：请引导拨打 ${number}`
      : u.emergency_adjacent ? "疑似紧急情况，请优先处理" : "";
  }

  function renderTranscript() {
    const list = $("transcript");
    const items = state.lines.map((line) => lineItem(line.leg, line.text, false));
    for (const [leg, text] of Object.entries(state.partial)) {
      if (text) items.push(lineItem(leg, text, true));
    }
    list.replaceChildren(...items);
    list.scrollTop = list.scrollHeight;
  }

  function lineItem(leg, text, partial) {
    const li = document.createElement("li");
    li.className = leg + (partial ? " partial" : "");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = (WHO[leg] || leg) + "：";
    li.append(who, document.createTextNode(text));
    return li;
  }

  // ---- the ticket --------------------------------------------------------------------
  const FIELDS = {
    request_type: "t-request-type", domain: "t-domain", category_code: "t-category",
    caller_name: "t-caller-name", address: "t-address", content: "t-content",
    summary: "t-summary", lead_department: "t-lead",
  };

  async function loadTicket() {
    let ticket = null;
    try {
      ticket = await api("GET", "/api/desk/ticket");
    } catch (error) {
      ticket = null;
    }
    showTicket(ticket);
  }

  function showTicket(ticket) {
    const form = $("ticket");
    const changed = !state.ticket || !ticket || state.ticket.number !== ticket.number
      || state.ticket.status !== ticket.status;
    state.ticket = ticket;
    form.hidden = !ticket;
    $("no-ticket").hidden = !!ticket;
    $("ticket-number").textContent = ticket ? ticket.number : "";
    const badge = $("ticket-status");
    badge.hidden = !ticket;
    if (!ticket) return;
    badge.textContent = ticket.status_label;
    if (changed || !form.contains(document.activeElement)) {
      for (const [key, id] of Object.entries(FIELDS)) $(id).value = ticket[key] || "";
      $("t-co").value = (ticket.co_departments || []).join("，");
      $("t-no-callback").checked = !!ticket.declined_callback;
      if (changed) $("t-note").value = ticket.reply || "";
    }
    for (const element of form.elements) element.disabled = !ticket.editable && element.type !== "submit";
    for (const button of form.querySelectorAll("button[data-submit]")) {
      const name = button.dataset.submit;
      button.disabled = name ? !ticket.submit.includes(name) : !ticket.editable;
    }
  }

  async function submitTicket(action) {
    if (!state.ticket) return;
    const body = { number: state.ticket.number, action };
    if (state.ticket.editable) {
      for (const [key, id] of Object.entries(FIELDS)) body[key] = $(id).value;
      body.co_departments = $("t-co").value.split(/[,，、\s]+/).filter(Boolean);
      body.declined_callback = $("t-no-callback").checked;
    }
    body.note = $("t-note").value;
    const labels = { "": "保存工单", accept: "受理", close_at_once: "即时办结", dispatch: "派单" };
    const ticket = await act(labels[action] || action, "POST", "/api/desk/ticket", body);
    if (ticket) {
      showTicket(ticket);
      loadHistory();
    }
  }

  // ---- history -----------------------------------------------------------------------
  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell == null ? "" : String(cell);
      tr.append(td);
    }
    return tr;
  }

  async function loadHistory() {
    try {
      const history = await api("GET", "/api/desk/history");
      $("history-calls").replaceChildren(
        ...history.calls.map((c) => row([c.call_id, c.caller, c.seat_group, c.ticket, ENDED[c.end_reason] || c.end_reason || STEPS[c.step] || c.step])),
      );
      $("history-tickets").replaceChildren(
        ...history.tickets.map((t) => row([t.number, t.request_type, t.status_label, t.summary, t.due_date])),
      );
    } catch (error) {
      say(`历史记录未能加载：${error.message}`);
    }
  }

  // ---- live updates ------------------------------------------------------------------
  let socket = null;
  let retry = 1000;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/desk`);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      retry = 1000;
      $("socket").textContent = "实时连接正常";
    };
    socket.onmessage = (event) => onUpdate(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (event.code === 4401) {
        location.href = "/login?next=/desk";
        return;
      }
      if (event.code === 4403) {
        $("socket").textContent = "无权使用话务员工作台";
        return;
      }
      if (!opened) {
        // Refused before it opened (the server may answer the upgrade with a plain
        // 403): ask the API, which sends a signed-out agent to the login page.
        api("GET", "/api/desk").catch((error) => say(error.message));
      }
      $("socket").textContent = "实时连接已断开，正在重连…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  function onUpdate(update) {
    const data = update.data || {};
    switch (update.type) {
      case "desk.view":
        applyView(data);
        break;
      case "agent.state": {
        const view = { ...(state.view || {}), ...data, since_s: 0 };
        state.view = view;
        state.since = Date.now();
        renderState(view);
        if (data.status === "available" || data.status === "logged_out") {
          if (state.call && !data.call_id) showCall(state.call, "已结束");
        }
        break;
      }
      case "agent.offer":
        showCall({ ...data, seat_group: data.group }, "振铃中");
        api("GET", "/api/desk").then(applyView).catch(() => {});
        break;
      case "asr.partial":
        if (isMine(data)) {
          state.partial[data.leg || "caller"] = data.text || "";
          renderTranscript();
        }
        break;
      case "asr.final":
        if (isMine(data) && data.text) {
          state.lines.push({ leg: data.leg || "caller", text: data.text });
          state.partial[data.leg || "caller"] = "";
          renderTranscript();
        }
        break;
      case "call.understood":
        if (isMine(data)) showUnderstanding(data);
        break;
      case "ticket.drafted":
        if (isMine(data)) {
          $("call-ticket").textContent = data.number;
          loadTicket();
        }
        break;
      case "call.connected":
        if (isMine(data)) $("call-stage").textContent = "通话中";
        break;
      case "call.ended":
        if (isMine(data)) {
          $("call-stage").textContent = "已结束";
          loadTicket();
          loadHistory();
        }
        break;
      default:
        break;
    }
  }

  function isMine(data) {
    return state.call && data.call_id === state.call.call_id;
  }

  // ---- keys and buttons --------------------------------------------------------------
  function stateAction(action) {
    const labels = {
      login: "签入", logout: "签出", ready: "就绪", not_ready: "小休", wrap_up_done: "话后处理完成",
    };
    const body = { action, reason: action === "not_ready" ? $("reason").value : "" };
    act(labels[action], "POST", "/api/desk/state", body).then((view) => view && applyView(view));
  }

  for (const button of document.querySelectorAll(".state-actions button[data-action]")) {
    button.addEventListener("click", () => stateAction(button.dataset.action));
  }
  const KEYS = { F2: "btn-ready", F3: "btn-break", F4: "btn-wrapup" };
  document.addEventListener("keydown", (event) => {
    const id = KEYS[event.key];
    if (id) {
      event.preventDefault();
      if (!$(id).disabled) $(id).click();
    } else if (event.key === "F9") {
      event.preventDefault();
      if (!$("call").hidden) $("transfer").requestSubmit();
    } else if (event.key === "Enter" && event.ctrlKey && !$("ticket").hidden) {
      event.preventDefault();
      submitTicket("accept");
    }
  });

  let submitter = "";
  for (const button of document.querySelectorAll("#ticket button[data-submit]")) {
    button.addEventListener("click", () => { submitter = button.dataset.submit; });
  }
  $("ticket").addEventListener("submit", (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.dataset.submit : submitter;
    submitTicket(action || "");
  });
  $("transfer").addEventListener("submit", (event) => {
    event.preventDefault();
    const group = $("transfer-group").value;
    if (!group) return;
    act(`转接到${group}`, "POST", "/api/desk/transfer", { group }).then((view) => view && applyView(view));
  });
  $("history-refresh").addEventListener("click", loadHistory);

  api("GET", "/api/desk").then(applyView).catch((error) => say(error.message));
  loadHistory();
  connect();
  setInterval(tickSince, 1000);
})();
