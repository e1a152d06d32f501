// NGRS solver UI: submit an input, follow the job over SSE (fetch + stream reader, so the API key goes in
// a header: EventSource cannot send one), cancel, and render the result as a roster grid.
// The key lives in sessionStorage only (gone when the tab closes): no cookies, no localStorage at all
"use strict";

const KEY_STORE = "ngrs.apiKey";
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const $ = (id) => document.getElementById(id);

const state = {
  jobId: null,
  abort: null,        // AbortController of the current event stream / poll loop
  points: [],         // [{t, obj, bnd}] for the chart
  result: null,
  status: null,
};

// ------------------------------------------------------------------------------------------- key

function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

function showKeyState() {
  $("key-state").textContent = apiKey() ? "key set (this tab only)" : "no key";
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = apiKey();
  if (key) h["X-API-Key"] = key;
  return h;
}

// ------------------------------------------------------------------------------------------- http

async function errorText(resp) {
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  const err = body && body.error;
  if (!err) return `HTTP ${resp.status}`;
  const lines = [`${err.code}: ${err.message}`];
  for (const d of err.details || []) lines.push(`  ${d.field || "(body)"}: ${d.code}: ${d.message}`);
  return lines.join("\n");
}

function showError(id, text) {
  const el = $(id);
  el.textContent = text || "";
  el.hidden = !text;
}

// ----------------------------------------------------------------------------------------- submit

async function submit() {
  showError("submit-error", "");
  showError("submit-warnings", "");
  const text = $("input").value.trim();
  if (!text) { showError("submit-error", "Paste an NGRS input or choose a file first."); return; }
  let doc;
  try { doc = JSON.parse(text); } catch (e) { showError("submit-error", `Not valid JSON: ${e.message}`); return; }
  const limit = parseFloat($("time-limit").value);
  const body = limit > 0 ? { input_json: doc, time_limit_seconds: limit } : doc;
  $("submit").disabled = true;
  try {
    const resp = await fetch("/solve/async", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
    });
    if (resp.status !== 202 && resp.status !== 200) { showError("submit-error", await errorText(resp)); return; }
    const reply = await resp.json();
    const warnings = (reply.warnings || []).map((w) => `warning: ${w.field || "(input)"}: ${w.code}: ${w.message}`);
    showError("submit-warnings", warnings.join("\n"));
    startJob(reply.job_id, reply.status);
  } catch (e) {
    showError("submit-error", `Cannot reach the API: ${e.message}`);
  } finally {
    $("submit").disabled = false;
  }
}

function startJob(jobId, status) {
  if (state.abort) state.abort.abort();
  state.jobId = jobId;
  state.points = [];
  state.result = null;
  state.abort = new AbortController();
  $("job-section").hidden = false;
  $("result-section").hidden = true;
  $("job-id").textContent = jobId;
  showError("job-error", "");
  setStatus(status || "queued");
  showProgress(null);
  drawChart();
  follow(jobId, state.abort.signal);
}

// ------------------------------------------------------------------------------------ live updates

// Parses an SSE byte stream into {event, data} objects (fields, comments, multi-line data).
async function* sseEvents(reader) {
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    const blocks = buf.split(/\r\n\r\n|\n\n|\r\r/);
    buf = blocks.pop();
    for (const block of blocks) {
      let event = "message";
      const data = [];
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (!line || line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const name = i < 0 ? line : line.slice(0, i);
        let val = i < 0 ? "" : line.slice(i + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (name === "event") event = val;
        else if (name === "data") data.push(val);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

async function follow(jobId, signal) {
  let final = null;
  try {
    final = await followEvents(jobId, signal);
  } catch (e) {
    if (signal.aborted) return;
  }
  if (signal.aborted) return;
  if (!final) final = await pollStatus(jobId, signal);  // stream unavailable or dropped: polling still works
  if (final && !signal.aborted) await onTerminal(final);
}

async function followEvents(jobId, signal) {
  const resp = await fetch(`/solve/async/${encodeURIComponent(jobId)}/events`, {
    headers: headers({ Accept: "text/event-stream" }), signal, cache: "no-store",
  });
  if (resp.status === 401 || resp.status === 404) { showError("job-error", await errorText(resp)); return null; }
  if (!resp.ok || !resp.body) return null;
  const reader = resp.body.getReader();
  for await (const ev of sseEvents(reader)) {
    let payload;
    try { payload = JSON.parse(ev.data); } catch (e) { continue; }
    if (ev.event === "progress") {
      showProgress(payload);
    } else if (ev.event === "status" || ev.event === "end") {
      setStatus(payload.status);
      if (payload.progress) showProgress(payload.progress);
      if (TERMINAL.has(payload.status)) { reader.cancel().catch(() => {}); return payload; }
    } else if (ev.event === "error") {
      return null;
    }
  }
  return null;
}

async function pollStatus(jobId, signal) {
  while (!signal.aborted) {
    try {
      const resp = await fetch(`/solve/async/${encodeURIComponent(jobId)}`, { headers: headers(), signal });
      if (resp.ok) {
        const st = await resp.json();
        setStatus(st.status);
        if (st.progress) showProgress(st.progress);
        if (TERMINAL.has(st.status)) return st;
      } else if (resp.status === 401 || resp.status === 404) {
        showError("job-error", await errorText(resp));
        return null;
      }
    } catch (e) {
      if (signal.aborted) return null;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}

function setStatus(status) {
  state.status = status;
  const badge = $("job-status");
  badge.textContent = status;
  badge.className = `badge ${status}`;
  $("cancel").disabled = TERMINAL.has(status);
}

function fmt(x) {
  if (x === null || x === undefined) return "–";
  return Number.isInteger(x) ? x.toLocaleString("en-US") : x.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function showProgress(p) {
  p = p || {};
  $("p-solutions").textContent = fmt(p.solutions || 0);
  $("p-objective").textContent = fmt(p.objective);
  $("p-bound").textContent = fmt(p.best_bound);
  const obj = p.objective, bnd = p.best_bound;
  let gap = "–";
  if (obj !== null && obj !== undefined && bnd !== null && bnd !== undefined) {
    const diff = Math.abs(obj - bnd);
    gap = diff < 1e-9 ? "0%" : `${(100 * Math.min(1, diff / Math.max(Math.abs(obj), Math.abs(bnd), 1e-9))).toFixed(1)}%`;
  }
  $("p-gap").textContent = gap;
  $("p-elapsed").textContent = `${(p.elapsed_seconds || 0).toFixed(1)} s`;
  if (p.objective !== undefined && p.objective !== null) {
    const last = state.points[state.points.length - 1];
    if (!last || last.t !== p.elapsed_seconds) {
      state.points.push({ t: p.elapsed_seconds || 0, obj: p.objective, bnd: p.best_bound });
      drawChart();
    }
  }
}

// ------------------------------------------------------------------------------------------ chart

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// Objective and bound often differ by orders of magnitude (unmet cover weighs 1e6): a signed log scale
// keeps both lines readable.
const slog = (v) => Math.sign(v) * Math.log10(1 + Math.abs(v));

function drawChart() {
  const svg = $("chart");
  svg.replaceChildren();
  const W = 640, H = 200, L = 56, R = 10, T = 10, B = 24;
  svg.appendChild(svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
  svg.appendChild(svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  const pts = state.points;
  if (!pts.length) {
    svg.appendChild(svgEl("text", { x: L + 10, y: H / 2, class: "label" }, "waiting for the first solution…"));
    return;
  }
  const values = [];
  for (const p of pts) { values.push(slog(p.obj)); if (p.bnd !== null && p.bnd !== undefined) values.push(slog(p.bnd)); }
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const tmax = Math.max(1, ...pts.map((p) => p.t));
  const x = (t) => L + (W - L - R) * (t / tmax);
  const y = (v) => H - B - (H - B - T) * ((slog(v) - lo) / (hi - lo));
  // Step lines (a value holds until the next solution) plus a dot per update, so one point still shows.
  const line = (key, cls) => {
    const own = pts.filter((p) => p[key] !== null && p[key] !== undefined);
    const coords = [];
    own.forEach((p, i) => {
      if (i > 0) coords.push(`${x(p.t).toFixed(1)},${y(own[i - 1][key]).toFixed(1)}`);
      coords.push(`${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`);
    });
    if (coords.length > 1) svg.appendChild(svgEl("polyline", { points: coords.join(" "), class: cls }));
    for (const p of own) svg.appendChild(svgEl("circle", { cx: x(p.t).toFixed(1), cy: y(p[key]).toFixed(1), r: 3, class: `${cls} dot` }));
  };
  line("bnd", "bnd");
  line("obj", "obj");
  const unlog = (s) => Math.sign(s) * (Math.pow(10, Math.abs(s)) - 1);
  svg.appendChild(svgEl("text", { x: 2, y: T + 8, class: "label" }, fmt(Math.round(unlog(hi)))));
  svg.appendChild(svgEl("text", { x: 2, y: H - B, class: "label" }, fmt(Math.round(unlog(lo)))));
  svg.appendChild(svgEl("text", { x: W - R - 40, y: H - 6, class: "label" }, `${tmax.toFixed(1)} s`));
  svg.appendChild(svgEl("text", { x: L, y: H - 6, class: "label" }, "0 s"));
}

// ----------------------------------------------------------------------------------------- cancel

async function cancel() {
  if (!state.jobId) return;
  $("cancel").disabled = true;
  try {
    const resp = await fetch(`/solve/async/${encodeURIComponent(state.jobId)}`, { method: "DELETE", headers: headers() });
    if (resp.ok) {
      const st = await resp.json();
      setStatus(st.status);
    } else {
      showError("job-error", await errorText(resp));
      $("cancel").disabled = TERMINAL.has(state.status);
    }
  } catch (e) {
    showError("job-error", `Cannot reach the API: ${e.message}`);
    $("cancel").disabled = false;
  }
}

// ----------------------------------------------------------------------------------------- result

async function onTerminal(st) {
  setStatus(st.status);
  if (st.status !== "completed") {
    const err = st.error ? `${st.error.code}: ${st.error.message}` : "";
    showError("job-error", `Job ${st.status}${err ? " — " + err : ""}`);
    return;
  }
  const resp = await fetch(`/solve/async/${encodeURIComponent(st.job_id)}/result`, { headers: headers() });
  if (!resp.ok) { showError("job-error", await errorText(resp)); return; }
  state.result = await resp.json();
  renderResult(state.result);
}

// One stable colour per shift code: hue from a string hash, light enough for dark text.
function shiftColour(code) {
  let h = 0;
  for (const c of String(code)) h = (h * 31 + c.codePointAt(0)) >>> 0;
  const fixed = { D: 48, N: 225, E: 150, M: 100, L: 280 };
  const hue = code in fixed ? fixed[code] : h % 360;
  return `hsl(${hue} 70% 80%)`;
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function weekday(iso) {
  return ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"][new Date(iso + "T00:00:00Z").getUTCDay()];
}

function renderResult(res) {
  $("result-section").hidden = false;
  const run = res.solverRun || {};
  if (run.solutionsFound !== undefined) {
    showProgress({ solutions: run.solutionsFound, objective: run.objective, best_bound: run.bestBound,
                   elapsed_seconds: run.durationSeconds });
  }
  const cov = res.coverage || {};
  const unmet = res.unmetDemand || [];
  const missing = unmet.reduce((n, u) => n + (u.missing || 0), 0);
  $("result-summary").textContent =
    `Solver ${run.status} · objective ${fmt(run.objective)} · bound ${fmt(run.bestBound)} · ` +
    `${fmt(run.durationSeconds)} s · cover ${fmt(cov.filled)}/${fmt(cov.required)}` +
    (missing ? ` · ${missing} unmet` : " · all demand met");

  const roster = res.employeeRoster || [];
  const dates = [];
  const seen = new Set();
  for (const emp of roster) for (const d of emp.dailyStatus || []) if (!seen.has(d.date)) { seen.add(d.date); dates.push(d.date); }
  for (const u of unmet) if (!seen.has(u.date)) { seen.add(u.date); dates.push(u.date); }
  dates.sort();

  // Penalties: by (employee, date) for cells, by employee alone for the name cell.
  const cellPen = new Map(), empPen = new Map();
  for (const v of (res.scoreBreakdown || {}).violations || []) {
    if (!v.employeeId) continue;
    const text = `${v.rule} (cost ${fmt(v.cost)}${v.detail ? ", " + v.detail : ""})`;
    const map = v.date ? cellPen : empPen;
    const k = v.date ? `${v.employeeId}|${v.date}` : v.employeeId;
    if (!map.has(k)) map.set(k, []);
    map.get(k).push(text);
  }

  const table = $("roster");
  table.replaceChildren();
  const thead = el("thead");
  const hr = el("tr");
  hr.appendChild(el("th", { class: "emp" }, "Employee"));
  for (const d of dates) {
    const wd = weekday(d);
    const th = el("th", { class: wd === "Sa" || wd === "Su" ? "weekend" : "", title: d }, `${wd} ${d.slice(8)}`);
    hr.appendChild(th);
  }
  for (const h of ["Hours", "Shifts", "Off"]) hr.appendChild(el("th", {}, h));
  thead.appendChild(hr);
  table.appendChild(thead);

  const tbody = el("tbody");
  for (const emp of roster) {
    const tr = el("tr", { class: "employee", "data-employee": emp.employeeId });
    const name = el("th", { class: "emp" }, emp.employeeId);
    if (empPen.has(emp.employeeId)) { name.classList.add("penalty"); name.title = empPen.get(emp.employeeId).join("\n"); }
    tr.appendChild(name);
    const byDate = new Map((emp.dailyStatus || []).map((d) => [d.date, d]));
    for (const date of dates) {
      const d = byDate.get(date);
      let td;
      if (d && d.status === "ASSIGNED") {
        td = el("td", { class: "shift", "data-shift": d.shiftCode }, d.shiftCode);
        td.style.backgroundColor = shiftColour(d.shiftCode);
        td.title = `${emp.employeeId} ${date}: ${d.shiftCode}` + (d.requirementId ? ` (${d.requirementId})` : "");
      } else if (d && d.status === "UNAVAILABLE") {
        td = el("td", { class: "unavailable", title: `${emp.employeeId} ${date}: unavailable` }, "U");
      } else {
        td = el("td", { class: "off", title: `${emp.employeeId} ${date}: off` }, "·");
      }
      const pens = cellPen.get(`${emp.employeeId}|${date}`);
      if (pens) { td.classList.add("penalty"); td.title += "\n" + pens.join("\n"); td.setAttribute("data-rules", pens.join("; ")); }
      tr.appendChild(td);
    }
    tr.appendChild(el("td", { class: "total", title: "total hours" }, fmt(emp.totalHours)));
    tr.appendChild(el("td", { class: "total", title: "shifts worked" }, fmt(emp.workDays)));
    tr.appendChild(el("td", { class: "total", title: "days off" }, fmt(emp.offDays)));
    tbody.appendChild(tr);
  }

  // Unmet demand: one row, per day the missing headcount by shift code.
  const byDay = new Map();
  for (const u of unmet) {
    if (!byDay.has(u.date)) byDay.set(u.date, []);
    byDay.get(u.date).push(u);
  }
  const ur = el("tr", { class: "unmet-row", "data-testid": "unmet-row" });
  ur.appendChild(el("th", { class: "emp" }, `Unmet demand (${missing})`));
  for (const date of dates) {
    const items = byDay.get(date) || [];
    if (!items.length) { ur.appendChild(el("td", { class: "none" }, "–")); continue; }
    const perShift = new Map();
    for (const u of items) perShift.set(u.shiftCode, (perShift.get(u.shiftCode) || 0) + u.missing);
    const text = [...perShift].map(([code, n]) => `${code}×${n}`).join(" ");
    const title = items.map((u) => `${u.shiftCode} ${u.requirementId || ""}: ${u.assigned}/${u.required} assigned, ${u.missing} missing`).join("\n");
    ur.appendChild(el("td", { class: "unmet", title }, text));
  }
  ur.appendChild(el("td", { colspan: "3" }, ""));
  tbody.appendChild(ur);
  table.appendChild(tbody);

  const rules = $("by-rule");
  rules.replaceChildren();
  const rh = el("tr");
  for (const h of ["Rule", "Count", "Cost"]) rh.appendChild(el("th", {}, h));
  rules.appendChild(rh);
  const byRule = (res.scoreBreakdown || {}).byRule || [];
  if (!byRule.length) rules.appendChild(el("tr")).appendChild(el("td", { colspan: "3" }, "no penalties"));
  for (const r of byRule) {
    const tr = el("tr");
    tr.appendChild(el("td", {}, r.rule));
    tr.appendChild(el("td", {}, fmt(r.count)));
    tr.appendChild(el("td", {}, fmt(r.cost)));
    rules.appendChild(tr);
  }
}

function download() {
  if (!state.result) return;
  const blob = new Blob([JSON.stringify(state.result, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: `ngrs-result-${state.jobId}.json` });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ------------------------------------------------------------------------------------------ wiring

document.addEventListener("DOMContentLoaded", () => {
  showKeyState();
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("api-key").value.trim();
    if (v) sessionStorage.setItem(KEY_STORE, v); else sessionStorage.removeItem(KEY_STORE);
    $("api-key").value = "";
    showKeyState();
  });
  $("key-forget").addEventListener("click", () => { sessionStorage.removeItem(KEY_STORE); showKeyState(); });
  $("file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (f) $("input").value = await f.text();
  });
  $("submit").addEventListener("click", submit);
  $("cancel").addEventListener("click", cancel);
  $("download").addEventListener("click", download);
  drawChart();
});
