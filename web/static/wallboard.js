// The supervisor wallboard: polls GET /api/wallboard, and posts overflow switches to
// /api/wallboard/switches with the session's CSRF token; reads the agents' corrections
// of the understanding (GET /api/supervision/corrections?days=7) once a minute.
// Plain JS, no build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const root = document.querySelector(".wallboard");
  const refreshMs = Number(root.dataset.refresh || 2) * 1000;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const STATUS = {
    logged_out: "未登录", available: "空闲", not_ready: "示忙", offered: "振铃",
    on_call: "通话中", wrap_up: "话后处理",
  };
  const cards = new Map();

  const percent = (value) => (value == null ? "—" : `${Math.round(value * 1000) / 10}%`);
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    return s < 60 ? `${s}秒` : `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒`;
  }

  function say(text, ok) {
    const box = $("board-message");
    box.hidden = !text;
    box.textContent = text || "";
    box.className = ok ? "ok" : "error";
  }

  async function api(method, url, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    if (response.status === 401) {
      location.href = "/login?next=/wallboard";
      throw new Error("请先登录");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(typeof data.detail === "string" ? data.detail : `请求失败 (${response.status})`);
    }
    return data;
  }

  async function flip(body, label) {
    try {
      render(await api("POST", "/api/wallboard/switches", body));
      say(`${label}：已生效`, true);
    } catch (error) {
      say(`${label}未生效：${error.message}`, false);
      refresh();
    }
  }

  function card(group) {
    let element = cards.get(group);
    if (element) return element;
    element = $("group-card").content.firstElementChild.cloneNode(true);
    element.dataset.group = group;
    element.querySelector(".group-name").textContent = group;
    element.setAttribute("aria-label", `坐席组 ${group}`);
    element.querySelector(".switches").setAttribute("aria-label", `${group} 溢出开关`);
    const backup = element.querySelector(".backup-now");
    backup.addEventListener("change", () =>
      flip({ switch: "backup_now", group, on: backup.checked }, `${group} 立即溢出${backup.checked ? "开启" : "关闭"}`),
    );
    const force = element.querySelector(".force");
    force.addEventListener("change", () => {
      const on = force.value === "auto" ? null : force.value === "on";
      flip({ switch: "group", group, on }, `${group} ${force.options[force.selectedIndex].text}`);
    });
    cards.set(group, element);
    return element;
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function renderSystem(system) {
    $("refused-total").textContent = system.refused_total || 0;
    const banner = $("system-busy");
    banner.hidden = !system.busy;
    if (system.busy) {
      banner.textContent =
        `系统繁忙：新来电仅接入约 ${system.admit_pct}%，其余即时提示稍后再拨` +
        `（已拒接 ${system.refused_total || 0} 通）`;
    }
  }

  function render(board) {
    $("board-at").textContent = (board.at || "").replace("T", " ");
    $("node-open").textContent = board.node_open ? "服务中" : "非服务时间";
    $("callbacks-waiting").textContent = board.callbacks_waiting;
    renderSystem(board.system || {});
    const offer = $("callback-offer");
    if (document.activeElement !== offer) offer.checked = !!board.callback_offer;
    const idle = [];
    for (const g of board.groups) {
      const el = card(g.group);
      const busy = (g.agents || []).length > 0 || g.waiting > 0 || ((g.today || {}).offered || 0) > 0;
      const home = busy ? $("groups") : $("idle-groups");
      if (el.parentElement !== home) home.append(el);
      if (!busy) idle.push(g.group);
      const open = el.querySelector(".group-open");
      open.textContent = g.open ? "开放" : "关闭";
      open.className = "badge group-open " + (g.open ? "open" : "closed");
      el.querySelector(".waiting").textContent = g.waiting;
      el.querySelector(".longest").textContent = duration(g.longest_wait_s);
      el.querySelector(".longest").classList.toggle("bad", g.longest_wait_s > 15);
      const today = g.today || {};
      const half = g.last_30_min || {};
      el.querySelector(".sl-today").textContent = percent(today.service_level);
      el.querySelector(".sl-30").textContent = percent(half.service_level);
      el.querySelector(".sl-30").classList.toggle("bad", half.service_level != null && half.service_level < 0.95);
      el.querySelector(".abandon-today").textContent = percent(today.abandon_rate);
      el.querySelector(".abandon-30").textContent = percent(half.abandon_rate);
      el.querySelector(".counts").textContent =
        `今日 进线${today.offered || 0} 接通${today.answered || 0} 放弃${today.abandoned || 0}` +
        (today.asa_s != null ? ` 平均应答${duration(today.asa_s)}` : "");
      const rows = (g.agents || []).map((a) => {
        const tr = document.createElement("tr");
        tr.dataset.status = a.status;
        const status = (STATUS[a.status] || a.status) + (a.reason ? `（${a.reason}）` : "");
        tr.append(cell(`${a.name || ""} ${a.agent_id}`), cell(status), cell(duration(a.since_s)),
          cell(String(a.calls_answered ?? "")));
        return tr;
      });
      el.querySelector(".agents tbody").replaceChildren(...rows);
      const advice = g.advice || {};
      const working = (g.agents || []).filter((a) => !["logged_out", "not_ready"].includes(a.status)).length;
      el.querySelector(".advice").textContent = advice.calls_per_hour
        ? `排班建议：按近30分钟来电 ${advice.calls_per_hour} 通/小时、平均处理 ${advice.aht_s} 秒，` +
          `下个时段需 ${advice.agents ?? "—"} 名坐席（当前在岗 ${working} 名）` +
          (advice.service_level != null ? `，预计15秒接通率 ${percent(advice.service_level)}` : "")
        : `排班建议：近30分钟无来电（当前在岗 ${working} 名）`;
      const backupLabel = el.querySelector(".backup");
      const hasBackups = (g.backup_groups || []).length > 0;
      backupLabel.hidden = !hasBackups;
      el.querySelector(".backup-groups").textContent = hasBackups ? `（${g.backup_groups.join("、")}）` : "";
      const backup = el.querySelector(".backup-now");
      if (document.activeElement !== backup) backup.checked = !!g.backup_now;
      const force = el.querySelector(".force");
      if (document.activeElement !== force) {
        force.value = g.forced == null ? "auto" : g.forced ? "on" : "off";
      }
    }
    renderIdle(idle);
  }

  function renderIdle(idle) {
    $("idle").hidden = idle.length === 0;
    $("idle-names").textContent = idle.length ? `：${idle.join("、")}` : "";
  }

  async function refresh() {
    try {
      render(await api("GET", "/api/wallboard"));
    } catch (error) {
      say(`看板未能更新：${error.message}`, false);
    }
  }

  const LABELS = { request_type: "诉求类型", domain: "领域", category_code: "分类", department: "承办单位" };
  const CORRECTIONS_MS = 60_000;

  function rateCell(rate) {
    const td = document.createElement("td");
    td.className = "rate";
    const bar = document.createElement("span");
    bar.className = "rate-bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.min(100, Math.round(rate * 100))}%`;
    bar.append(fill);
    const text = document.createElement("span");
    text.textContent = percent(rate);
    td.append(bar, text);
    td.classList.toggle("bad", rate >= 0.3);
    td.classList.toggle("warn", rate >= 0.15 && rate < 0.3);
    return td;
  }

  function changesCell(changes) {
    const td = document.createElement("td");
    td.className = "changes";
    if (!changes.length) {
      td.textContent = "—";
      return td;
    }
    for (const c of changes) {
      const item = document.createElement("span");
      item.className = "change";
      item.textContent = `${LABELS[c.label] || c.label} ${c.predicted || "（空）"} → ${c.corrected || "（空）"} ×${c.count}`;
      td.append(item);
    }
    return td;
  }

  function renderCorrections(report) {
    const rows = report.domains.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.domain = d.domain;
      const count = cell(String(d.understood));
      const fixed = cell(String(d.corrected));
      count.className = fixed.className = "num";
      tr.append(cell(d.domain), count, fixed, rateCell(d.rate), changesCell(d.changes));
      return tr;
    });
    $("corrections-rows").replaceChildren(...rows);
    document.querySelector(".corrections-table").hidden = rows.length === 0;
    $("corrections-empty").hidden = rows.length > 0;
    $("corrections-facts").textContent = report.understood
      ? `理解来电 ${report.understood} 通，坐席更正 ${report.corrected} 通（${percent(report.corrected / report.understood)}）`
      : "";
  }

  async function refreshCorrections() {
    try {
      renderCorrections(await api("GET", "/api/supervision/corrections?days=7"));
    } catch (error) {
      $("corrections-facts").textContent = `未能更新：${error.message}`;
    }
  }

  $("callback-offer").addEventListener("change", (event) => {
    const on = event.target.checked;
    flip({ switch: "callback_offer", on }, `预约回电${on ? "开启" : "关闭"}`);
  });
  refresh();
  setInterval(refresh, refreshMs);
  refreshCorrections();
  setInterval(refreshCorrections, CORRECTIONS_MS);
})();
