// 回访工作台's task page: 领取, 拨打, 录入结果 and 核查结果 (photos first uploaded as the
// ticket's attachments), posted to the 回访 API with the session's CSRF token
// (X-CSRF-Token).  After a change the page reloads and says what was done.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const NOTICE = "vf-done";
  const page = document.getElementById("vf-task");
  if (!page) return;
  const base = `/api/verification/tasks/${encodeURIComponent(page.dataset.task)}`;

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
    box.textContent = error.message || String(error);
    box.hidden = false;
    form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }

  function done(text) {
    sessionStorage.setItem(NOTICE, text);
    location.reload();
  }

  // 录入结果: reached or not, and what the citizen said (empty choices left out).
  function resultBody(form) {
    const reached = form.elements.reached.value !== "no";
    const body = { reached };
    if (reached) {
      for (const name of ["resolution", "rating", "comment"]) {
        const value = form.elements[name].value.trim();
        if (value) body[name] = value;
      }
    }
    return body;
  }

  async function uploadPhotos(form) {
    const ids = [];
    const ticket = encodeURIComponent(page.dataset.ticket);
    for (const file of form.elements.photos.files) {
      const data = new FormData();
      data.append("file", file);
      const attached = await send(`/api/tickets/${ticket}/attachments`, data, false);
      ids.push(attached.id);
    }
    return ids;
  }

  const steps = {
    take: async () => {
      const task = await send(`${base}/take`, {});
      return `已领取，任务由 ${task.assigned_to} 负责`;
    },
    call: async () => (await send(`${base}/call`, {})).detail,
    result: async (form) => {
      const body = resultBody(form);
      const answer = await send(`${base}/result`, body);
      if (!body.reached) return "已记录：未联系上市民";
      const review = answer.verification_review ? "，待回访复核" : "";
      return `回访结果已保存，工单现为「${answer.ticket_status_label}」${review}`;
    },
    on_site: async (form) => {
      const notes = form.elements.notes.value.trim();
      if (!notes) throw new Error("notes: 请填写现场核查情况");
      const attachments = await uploadPhotos(form);
      const body = { resolution: form.elements.resolution.value, notes, attachments };
      const answer = await send(`${base}/on_site`, body);
      const review = answer.verification_review ? "，工单待回访复核" : "";
      return `核查结果已保存${review}`;
    },
  };

  const result = document.getElementById("vf-result");
  if (result) {
    const toggle = () => {
      const reached = result.elements.reached.value !== "no";
      for (const name of ["resolution", "rating", "comment"]) {
        result.elements[name].disabled = !reached;
      }
    };
    result.querySelectorAll('input[name="reached"]').forEach((r) => r.addEventListener("change", toggle));
    toggle();
  }

  document.querySelectorAll("form[data-step]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        done(await steps[form.dataset.step](form));
      } catch (error) {
        fail(form, error);
      }
    });
  });

  const notice = sessionStorage.getItem(NOTICE);
  const box = document.getElementById("tk-notice");
  if (notice && box) {
    box.textContent = notice;
    box.classList.add("tk-shown");
  }
  sessionStorage.removeItem(NOTICE);
})();
