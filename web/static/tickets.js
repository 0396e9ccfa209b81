// 工单管理 and 承办单位工作台: the ticket page's action forms, the attachment upload and
// the list's bulk dispatch, posted to the ticket API with the session's CSRF token
// (X-CSRF-Token).  After a change the page reloads and says what was done.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const NOTICE = "tk-done";

  function reasonOf(data, status) {
    if (typeof data.detail === "string") return data.detail;
    if (Array.isArray(data.detail)) return data.detail.map((e) => e.msg).join("；");
    return `请求失败 (${status})`;
  }

  async function send(url, body, json = true) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    if (json) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: json ? JSON.stringify(body) : body,
    });
    if (response.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname);
      throw new Error("请先登录");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(reasonOf(data, response.status));
    return data;
  }

  function fail(form, error) {
    const box = form.querySelector(".tk-error");
    if (!box) return;
    box.textContent = error.message || String(error);
    box.hidden = false;
    form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }

  function done(text) {
    sessionStorage.setItem(NOTICE, text);
    location.reload();
  }

  // An action form → the transition's body: selects with several values as lists,
  // working days as a number, empty fields left out.
  function transitionBody(form) {
    const body = { action: form.dataset.action };
    for (const field of form.elements) {
      if (!field.name || field.disabled) continue;
      if (field.multiple) {
        body[field.name] = Array.from(field.selectedOptions).map((o) => o.value);
      } else if (field.value.trim() !== "") {
        body[field.name] = field.name === "working_days" ? Number(field.value) : field.value.trim();
      }
    }
    return body;
  }

  document.querySelectorAll("form.tk-action").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const label = form.querySelector("button[type=submit]").textContent;
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        const url = `/api/tickets/${encodeURIComponent(form.dataset.number)}/transitions`;
        const ticket = await send(url, transitionBody(form));
        done(`${label}：已完成，工单现为「${ticket.status_label}」`);
      } catch (error) {
        fail(form, error);
      }
    });
  });

  const upload = document.getElementById("tk-upload");
  if (upload) {
    upload.addEventListener("submit", async (event) => {
      event.preventDefault();
      const number = upload.dataset.number;
      const file = upload.elements.file.files[0];
      if (!file) return;
      upload.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        const data = new FormData();
        data.append("file", file);
        const base = `/api/tickets/${encodeURIComponent(number)}`;
        const attached = await send(`${base}/attachments`, data, false);
        const note = upload.elements.note ? upload.elements.note.value.trim() : "";
        if (note) {
          await send(`${base}/transitions`, { action: "note", note, attachments: [attached.id] });
        }
        done(`附件「${attached.name}」已上传`);
      } catch (error) {
        fail(upload, error);
      }
    });
  }

  const notice = sessionStorage.getItem(NOTICE);
  const box = document.getElementById("tk-notice");
  if (notice && box) {
    box.textContent = notice;
    box.classList.add("tk-shown");
  }
  sessionStorage.removeItem(NOTICE);

  // The list: tick tickets, choose the lead (and co-handlers), dispatch them at once.
  const bulk = document.getElementById("tk-bulk");
  if (!bulk) return;
  const boxes = () => Array.from(document.querySelectorAll('#tk-list input[name="number"]'));
  const count = document.getElementById("tk-bulk-count");
  const recount = () => {
    count.textContent = `已选 ${boxes().filter((b) => b.checked).length} 件`;
  };
  document.getElementById("tk-all")?.addEventListener("change", (event) => {
    boxes().forEach((b) => { b.checked = event.target.checked; });
    recount();
  });
  boxes().forEach((b) => b.addEventListener("change", recount));
  bulk.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("tk-bulk-result");
    const numbers = boxes().filter((b) => b.checked).map((b) => b.value);
    if (!numbers.length) {
      result.textContent = "请先勾选要派单的工单";
      return;
    }
    const co = Array.from(document.getElementById("tk-bulk-co").selectedOptions).map((o) => o.value);
    const body = { numbers, department: bulk.elements.department.value };
    if (co.length) body.co_departments = co;
    try {
      const answer = await send("/api/tickets/bulk/dispatch", body);
      const refused = answer.outcomes.filter((o) => !o.ok);
      const lines = refused.map((o) => `${o.number}：${o.detail}`);
      result.textContent = `已派单 ${answer.dispatched} 件` +
        (refused.length ? `，未派单 ${refused.length} 件：${lines.join("；")}` : "");
      answer.outcomes.filter((o) => o.ok).forEach((o) => {
        const row = document.querySelector(`#tk-list tr[data-number="${o.number}"]`);
        const cell = row?.querySelector(".tk-status .tk-badge");
        if (cell) {
          cell.textContent = "派单";
          cell.className = "tk-badge tk-s-dispatched";
        }
        const tick = row?.querySelector('input[name="number"]');
        if (tick) tick.checked = false;
      });
      recount();
    } catch (error) {
      result.textContent = error.message;
    }
  });
})();
