"use strict";
// The live board. Data arrives by server-sent events (/api/events): a fresh
// snapshot on every (re)connection and after every change, so a browser that
// lost the server catches up by itself. Text is set with textContent only.

const state = {
  me: null,
  board: null,
  receivedAt: 0,   // Date.now() when the board snapshot arrived
  source: null,
  timeZone: "Europe/London",
  pending: null,   // the action being entered in the dialog
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// The monitor's clock (accelerated in the demo): the server's "now" moved on by
// the real time since it was sent, times the clock's rate.
function monitorNow() {
  if (!state.board) return Date.now();
  const rate = state.board.clock_rate || 1;
  return Date.parse(state.board.now) + (Date.now() - state.receivedAt) * rate;
}

function duration(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const h = Math.floor(minutes / 60);
  const m = String(minutes % 60).padStart(2, "0");
  return `${h}h ${m}m`;
}

function timeLeft(deadline) {
  const ms = Date.parse(deadline) - monitorNow();
  return ms >= 0 ? `${duration(ms)} left` : `${duration(ms)} over`;
}

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("en-GB", {
    timeZone: state.timeZone, day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

// Codes as words: "criminal_damage" reads "criminal damage".
const words = (code) => String(code || "").replace(/_/g, " ");

const LABELS = { overdue: "Overdue", due_soon: "Due soon" };

function handlingText(row) {
  const parts = [];
  if (row.acknowledged_by) parts.push(`acknowledged by ${row.acknowledged_by}`);
  if (row.assignee) parts.push(`assigned to ${row.assignee}`);
  if (row.reviewed_no_crime) parts.push("reviewed: no crime");
  if (row.notes) parts.push(`${row.notes} note${row.notes > 1 ? "s" : ""}`);
  return parts.join("; ");
}

function actionButton(row, kind, label) {
  const b = el("button", { type: "button", "data-incident": row.incident_id, "data-kind": kind }, label);
  b.setAttribute("aria-label", `${label}: ${row.incident_id}`);
  b.addEventListener("click", () => startAction(row, kind, label));
  return b;
}

function renderBoard() {
  const board = state.board;
  const focused = document.activeElement;
  const refocus = focused && focused.dataset && focused.dataset.incident
    ? [focused.dataset.incident, focused.dataset.kind] : null;
  for (const key of ["overdue", "due_soon", "unacknowledged"]) {
    $(`count-${key}`).textContent = board.counts[key];
  }
  fillChoices($("filter-division"), board.divisions, board.filters.division);
  fillChoices($("filter-category"), board.categories, board.filters.category);
  const body = $("rows");
  const rows = [];
  for (const row of board.rows) {
    const tr = el("tr", { class: row.state, "data-incident": row.incident_id });
    const id = el("td", { class: "id" });
    id.append(el("strong", {}, row.incident_id));
    tr.append(id);
    const st = el("td", { class: "status" });
    st.append(el("span", { class: `badge ${row.state}` }, LABELS[row.state] || row.state), " ",
      el("span", { class: "left", "data-deadline": row.deadline }, timeLeft(row.deadline)));
    tr.append(st);
    tr.append(el("td", {}, words(row.category)));
    tr.append(el("td", {}, words(row.division)));
    tr.append(el("td", {}, words(row.channel)));
    tr.append(el("td", { class: "when" }, when(row.reported_at)));
    tr.append(el("td", { class: "when" }, when(row.deadline)));
    tr.append(el("td", { class: "handling" }, handlingText(row)));
    const actions = el("td", { class: "actions-cell" });
    const box = el("div", { class: "actions" });
    box.append(actionButton(row, "history", "History"));
    if (state.me && state.me.may_act) {
      if (!row.acknowledged_by) box.append(actionButton(row, "acknowledge", "Acknowledge"));
      box.append(actionButton(row, "assign", "Assign"));
      box.append(actionButton(row, "note", "Note"));
      if (!row.reviewed_no_crime) box.append(actionButton(row, "review_no_crime", "No crime"));
    }
    actions.append(box);
    tr.append(actions);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  $("empty").hidden = board.rows.length > 0;
  if (refocus) {
    const again = body.querySelector(
      `button[data-incident="${CSS.escape(refocus[0])}"][data-kind="${CSS.escape(refocus[1])}"]`);
    if (again) again.focus();
  }
}

function fillChoices(select, values, chosen) {
  const current = [...select.options].slice(1).map((o) => o.value).join("\n");
  const wanted = [...new Set([...values, ...(chosen ? [chosen] : [])])].sort();
  if (current !== wanted.join("\n")) {
    select.replaceChildren(el("option", { value: "" }, "All"),
      ...wanted.map((v) => el("option", { value: v }, words(v))));
  }
  select.value = chosen || "";
}

function tick() {
  for (const cell of document.querySelectorAll("[data-deadline]")) {
    cell.textContent = timeLeft(cell.dataset.deadline);
  }
}

function renderFigures(figures) {
  $("figures-day").textContent = `(${figures.day}, ${figures.time_zone})`;
  $("figure-rows").replaceChildren(...figures.divisions.map((d) => {
    const tr = el("tr");
    const name = d.division === "all" ? "All divisions" : words(d.division);
    tr.append(el(d.division === "all" ? "th" : "td", d.division === "all" ? { scope: "row" } : {}, name));
    tr.append(el("td", {}, String(d.recorded_within_target)));
    tr.append(el("td", {}, String(d.recorded_late)));
    tr.append(el("td", {}, String(d.overdue_now)));
    tr.append(el("td", {}, d.median_delay_seconds == null ? "–" : duration(d.median_delay_seconds * 1000)));
    return tr;
  }));
}

function filterQuery() {
  const q = new URLSearchParams();
  for (const name of ["division", "category", "state"]) {
    const v = $(`filter-${name}`).value;
    if (v) q.set(name, v);
  }
  return q.toString();
}

function connect() {
  if (state.source) state.source.close();
  const source = new EventSource(`/api/events?${filterQuery()}`);
  state.source = source;
  source.addEventListener("open", () => setConnection(true));
  source.addEventListener("board", (e) => {
    state.board = JSON.parse(e.data);
    state.receivedAt = Date.now();
    setConnection(true);
    renderBoard();
  });
  source.addEventListener("figures", (e) => renderFigures(JSON.parse(e.data)));
  source.addEventListener("signed_out", () => window.location.assign("/login"));
  source.addEventListener("error", () => {
    setConnection(false);
    // The browser retries by itself after a dropped stream; after a refused one
    // (the server answered with an error) it gives up, so look again ourselves.
    if (source.readyState === EventSource.CLOSED) setTimeout(recover, 2000);
  });
}

async function recover() {
  try {
    const r = await fetch("/api/me", { credentials: "same-origin" });
    if (r.status === 401) { window.location.assign("/login"); return; }
  } catch (e) { /* still down: try again below */ }
  if (!state.source || state.source.readyState === EventSource.CLOSED) {
    connect();
  }
}

// "live" only when this page is connected and the board is reading Kafka.
function setConnection(live) {
  const c = $("connection");
  const reading = !state.board || state.board.feed_connected;
  c.textContent = !live ? "reconnecting…" : reading ? "live" : "waiting for Kafka…";
  c.className = `connection ${live && reading ? "live" : "down"}`;
}

function say(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "message error" : "message";
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.me.csrf_token },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, answer };
}

const PROMPTS = {
  assign: ["Assign to a decision maker", "Name or collar number", "assignee"],
  note: ["Add a note", "Note", "note"],
  review_no_crime: ["Reviewed: no crime", "Reason", "reason"],
};

async function startAction(row, kind, label) {
  if (kind === "history") { showHistory(row.incident_id); return; }
  if (kind === "acknowledge") { await act(row.incident_id, { kind }); return; }
  const [title, fieldLabel, field] = PROMPTS[kind];
  state.pending = { incident: row.incident_id, kind, field };
  $("action-title").textContent = title;
  $("action-incident").textContent = `Incident ${row.incident_id}`;
  $("action-label").textContent = fieldLabel;
  $("action-text").value = "";
  $("action-error").textContent = "";
  $("action-dialog").showModal();
  $("action-text").focus();
}

async function act(incident, body) {
  const r = await post(`/api/incidents/${encodeURIComponent(incident)}/actions`, body);
  if (r.ok) {
    say(`${body.kind.replace(/_/g, " ")} saved for ${incident}`);
    return null;
  }
  const detail = r.answer.fields ? Object.values(r.answer.fields).join("; ") : "";
  const text = `${r.answer.error || `refused (${r.status})`}${detail ? `: ${detail}` : ""}`;
  say(text, true);
  return text;
}

async function showHistory(incident) {
  const r = await fetch(`/api/incidents/${encodeURIComponent(incident)}/history`, { credentials: "same-origin" });
  const h = await r.json();
  const body = $("history-body");
  $("history-title").textContent = `History of ${incident}`;
  if (!r.ok) { body.replaceChildren(el("p", { class: "error" }, h.error || "unavailable")); }
  else { body.replaceChildren(historyList(h)); }
  $("history-dialog").showModal();
  $("history-close").focus();
}

function historyList(h) {
  const dl = el("dl", { class: "history" });
  const add = (term, text) => { if (text) { dl.append(el("dt", {}, term), el("dd", {}, text)); } };
  const report = h.report || (h.ledger && h.ledger.incident);
  if (report) {
    add("Reported", `${when(report.reported_at)} · ${report.category || report.opening_category} · ` +
      `${report.division || "unknown"} · channel ${report.channel}`);
    add("Deadline", when(report.deadline));
  }
  if (h.alert) {
    add("Due soon", when(h.alert.due_soon_at));
    add("Overdue", when(h.alert.overdue_at));
    if (h.alert.resolved_at) add("Resolved", `${when(h.alert.resolved_at)} (${h.alert.resolution}${h.alert.late ? ", late" : ""})`);
  }
  for (const a of h.actions) {
    const what = a.kind.replace(/_/g, " ") + (a.assignee ? ` → ${a.assignee}` : "") +
      (a.note ? `: ${a.note}` : "") + (a.reason ? `: ${a.reason}` : "");
    add(`${new Date(a.at).toLocaleString("en-GB", { timeZone: state.timeZone })} · ${a.actor}`, what);
  }
  const rec = h.recording || (h.ledger && h.ledger.incident && h.ledger.incident.recorded_at
    ? { crime_id: h.ledger.incident.first_crime_id, recorded_at: h.ledger.incident.recorded_at,
        within_target: h.ledger.incident.within_target } : null);
  if (rec) add("Recorded", `${rec.crime_id} at ${when(rec.recorded_at)}${rec.within_target ? " (within 24 h)" : " (late)"}`);
  if (!dl.children.length) add("Nothing yet", "No report, alert or action is known for this incident.");
  return dl;
}

function showView(which) {
  const figures = which === "figures";
  $("board-view").hidden = figures;
  $("figures-view").hidden = !figures;
  $("show-board").setAttribute("aria-pressed", String(!figures));
  $("show-figures").setAttribute("aria-pressed", String(figures));
  if (window.location.hash !== (figures ? "#figures" : "")) {
    history.replaceState(null, "", figures ? "#figures" : "/");
  }
}

async function start() {
  const r = await fetch("/api/me", { credentials: "same-origin" });
  if (r.status === 401) { window.location.assign("/login"); return; }
  state.me = await r.json();
  state.timeZone = state.me.time_zone || state.timeZone;
  $("who").textContent = `${state.me.username} (${state.me.role})`;
  for (const name of ["division", "category", "state"]) {
    $(`filter-${name}`).addEventListener("change", connect);
  }
  $("show-board").addEventListener("click", () => showView("board"));
  $("show-figures").addEventListener("click", () => showView("figures"));
  showView(window.location.hash === "#figures" ? "figures" : "board");
  $("sign-out").addEventListener("click", async () => {
    await post("/api/logout", {});
    window.location.assign("/login");
  });
  $("action-cancel").addEventListener("click", () => $("action-dialog").close());
  $("history-close").addEventListener("click", () => $("history-dialog").close());
  $("action-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const p = state.pending;
    const error = await act(p.incident, { kind: p.kind, [p.field]: $("action-text").value });
    if (error) { $("action-error").textContent = error; return; }
    $("action-dialog").close();
  });
  connect();
  setInterval(tick, 1000);
}

start();
