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

const VIEWS = { board: "board-view", figures: "figures-view", audit: "audit-view",
  "audit-figures": "audit-figures-view" };

function showView(which) {
  if (which === "audit" && !(state.me && state.me.may_audit)) which = "board";
  if (!VIEWS[which]) which = "board";
  for (const [name, section] of Object.entries(VIEWS)) {
    $(section).hidden = name !== which;
    $(`show-${name}`).setAttribute("aria-pressed", String(name === which));
  }
  const hash = which === "board" ? "" : `#${which}`;
  if (window.location.hash !== hash) history.replaceState(null, "", hash || "/");
  if (which === "audit") loadSamples();
  if (which === "audit-figures") loadAuditFigures();
}

// --- the Audit view: one sampled incident at a time ---

const audit = { samples: [], sample: null, index: 0, story: null };

async function getJson(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `refused (${r.status})`);
  return body;
}

function auditSay(text, isError = false) {
  $("audit-message").textContent = text;
  $("audit-message").className = isError ? "message error" : "message";
}

async function loadSamples() {
  try {
    audit.samples = (await getJson("/api/audit/samples")).samples;
  } catch (e) { auditSay(e.message, true); return; }
  const select = $("audit-sample");
  const chosen = select.value || (audit.samples[0] && String(audit.samples[0].sample_id));
  select.replaceChildren(...audit.samples.map((s) => el("option", { value: String(s.sample_id) },
    `${s.period} (${s.done} of ${s.size} done)`)));
  $("audit-empty").hidden = audit.samples.length > 0;
  if (chosen) { select.value = chosen; await loadSample(Number(chosen), true); }
}

async function loadSample(sampleId, toFirstToDo, show = true) {
  try {
    audit.sample = await getJson(`/api/audit/samples/${sampleId}`);
  } catch (e) { auditSay(e.message, true); return; }
  renderProgress();
  const group = $("audit-group");
  if (group.options.length === 0) {
    group.replaceChildren(el("option", { value: "" }, "–"),
      ...audit.sample.offence_groups.map((g) => el("option", { value: g }, words(g))));
  }
  if (toFirstToDo) {
    const next = audit.sample.incidents.findIndex((i) => !i.answer);
    audit.index = next >= 0 ? next : 0;
  }
  if (show && audit.sample.incidents.length) await showItem(audit.index, false);
}

function renderProgress() {
  $("audit-progress-rows").replaceChildren(...audit.sample.progress.map((p) => {
    const tr = el("tr", { "data-stratum": p.stratum });
    tr.append(el("th", { scope: "row" }, words(p.stratum) + (p.priority ? " *" : "")),
      el("td", {}, String(p.population)), el("td", {}, String(p.size)),
      el("td", { class: "done" }, String(p.done)), el("td", { class: "to-do" }, String(p.to_do)));
    return tr;
  }));
}

async function showItem(index, focus = true) {
  const items = audit.sample.incidents;
  audit.index = Math.max(0, Math.min(index, items.length - 1));
  const item = items[audit.index];
  try {
    audit.story = await getJson(
      `/api/audit/samples/${audit.sample.sample_id}/incidents/${encodeURIComponent(item.incident_id)}`);
  } catch (e) { auditSay(e.message, true); return; }
  $("audit-item").hidden = false;
  $("audit-item-title").textContent = `Incident ${item.incident_id}`;
  $("audit-item-position").textContent = `${audit.index + 1} of ${items.length} · ${words(item.stratum)}` +
    ` · ${item.recorded ? "has a crime record" : "no crime record"}`;
  $("audit-story").replaceChildren(...storyItems(audit.story));
  fillAnswer(audit.story);
  $("audit-error").textContent = "";
  if (focus) $("audit-item-title").focus();
}

function storyItems(s) {
  const out = [];
  const add = (term, text) => { if (text) out.push(el("dt", {}, term), el("dd", {}, text)); };
  const i = s.incident;
  if (i) {
    add("Reported", `${when(i.reported_at)} · ${words(i.opening_category)} · ${words(i.division || "unknown")}` +
      ` · channel ${i.channel}${i.grade ? ` · grade ${i.grade}` : ""}`);
    if (i.crime_related_since) add("Crime-related", `since ${when(i.crime_related_since)}`);
    if (i.unflagged_at) add("Flag cleared", when(i.unflagged_at));
    if (i.category !== i.opening_category) {
      add("Category changed", `to ${words(i.category)}${i.category_changed_at ? ` at ${when(i.category_changed_at)}` : ""}`);
    }
    if (i.closed_at) add("Closed", `${when(i.closed_at)} as ${words(i.closing_code)}` +
      (i.closed_by_team ? ` by ${words(i.closed_by_team)}` : ""));
    else add("Closed", "not closed");
  }
  for (const c of s.crimes) {
    add("Crime record", `${c.crime_id} at ${when(c.recorded_at)} · ${c.offence_code} ${words(c.offence_group)}` +
      (c.cancelled_at ? ` · cancelled ${when(c.cancelled_at)} (${words(c.cancellation_reason)})` : ""));
  }
  if (!s.crimes.length) add("Crime record", "none");
  for (const a of s.alerts) {
    add("Alert", [a.due_soon_at && `due soon ${when(a.due_soon_at)}`, a.overdue_at && `overdue ${when(a.overdue_at)}`,
      a.resolved_at && `resolved ${when(a.resolved_at)} (${a.resolution}${a.late ? ", late" : ""})`]
      .filter(Boolean).join(" · "));
  }
  for (const a of s.actions) {
    add(`${when(a.at)} · ${a.actor}`, words(a.kind) + (a.assignee ? ` → ${a.assignee}` : "") +
      (a.note ? `: ${a.note}` : "") + (a.reason ? `: ${a.reason}` : ""));
  }
  for (const a of s.answers) {
    add(`Answer ${a.version} · ${a.auditor} · ${when(a.answered_at)}`, `${words(a.should_record)}` +
      (a.offence_group ? ` · ${words(a.offence_group)}` : "") +
      (a.recorded_correctly === null || a.recorded_correctly === undefined ? "" :
        a.recorded_correctly ? " · recorded correctly" : " · recorded incorrectly") +
      (a.note ? ` · ${a.note}` : "") + (a.change_reason ? ` (changed: ${a.change_reason})` : ""));
  }
  return out;
}

function fillAnswer(story) {
  const current = story.answers.length ? story.answers[story.answers.length - 1] : null;
  const admin = state.me.role === "admin";
  const locked = current !== null && !admin;
  for (const r of document.querySelectorAll('input[name="should_record"]')) {
    r.checked = current !== null && r.value === current.should_record;
  }
  for (const r of document.querySelectorAll('input[name="recorded_correctly"]')) {
    r.checked = current !== null && current.recorded_correctly !== null && r.value === String(current.recorded_correctly);
  }
  $("audit-group").value = (current && current.offence_group) || "";
  $("audit-note").value = (current && current.note) || "";
  $("audit-reason").value = "";
  $("audit-reason-box").hidden = !(current && admin);
  $("audit-should-set").disabled = locked;
  $("audit-note").disabled = locked;
  $("audit-save").disabled = locked;
  $("audit-save").textContent = current ? "Save the change and next" : "Save and next";
  syncAnswerFields(locked);
  const lockedText = "only an admin can change it, with a reason.";
  if (locked) auditSay(`Answered by ${current.auditor}: ${lockedText}`);
  else if ($("audit-message").textContent.endsWith(lockedText)) auditSay("");
}

function syncAnswerFields(locked = $("audit-should-set").disabled) {
  const chosen = document.querySelector('input[name="should_record"]:checked');
  const yes = chosen && chosen.value === "yes";
  $("audit-group").disabled = locked || !yes;
  $("audit-correct-set").hidden = !(audit.story && audit.story.recorded);
  $("audit-correct-set").disabled = locked || !yes;
}

async function saveAnswer(event) {
  event.preventDefault();
  const chosen = document.querySelector('input[name="should_record"]:checked');
  if (!chosen) { $("audit-error").textContent = "Say whether a crime should have been recorded."; return; }
  const body = { should_record: chosen.value };
  if (chosen.value === "yes") {
    body.offence_group = $("audit-group").value || null;
    const correct = document.querySelector('input[name="recorded_correctly"]:checked');
    if (audit.story.recorded) body.recorded_correctly = correct ? correct.value === "true" : null;
  }
  if ($("audit-note").value.trim()) body.note = $("audit-note").value;
  if (!$("audit-reason-box").hidden) body.reason = $("audit-reason").value;
  const item = audit.sample.incidents[audit.index];
  const r = await post(`/api/audit/samples/${audit.sample.sample_id}/incidents/${encodeURIComponent(item.incident_id)}/answers`, body);
  if (!r.ok) {
    const detail = r.answer.fields ? Object.entries(r.answer.fields).map(([k, v]) => `${words(k)}: ${v}`).join("; ") : "";
    $("audit-error").textContent = `${r.answer.error || `refused (${r.status})`}${detail ? ` (${detail})` : ""}`;
    return;
  }
  auditSay(`Answer saved for ${item.incident_id}`);
  const next = audit.index + 1;
  await loadSample(audit.sample.sample_id, false, false);
  await showItem(Math.min(next, audit.sample.incidents.length - 1));
}

function nextToDo() {
  const items = audit.sample.incidents;
  for (let k = 1; k <= items.length; k += 1) {
    const i = (audit.index + k) % items.length;
    if (!items[i].answer) { showItem(i); return; }
  }
  auditSay("Every incident of this sample is answered.");
}

// --- the Audit figures view ---

const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-GB"));
const rateText = (r) => (r ? `${pct(r.estimate)} (${pct(r.lower)} to ${pct(r.upper)})` : "no crimes found yet");

async function loadAuditFigures() {
  const period = $("af-period").value;
  let f;
  try {
    f = await getJson(`/api/audit/figures${period ? `?period=${encodeURIComponent(period)}` : ""}`);
  } catch (e) { $("af-headline").textContent = e.message; return; }
  const select = $("af-period");
  const wanted = [...new Set([...f.periods, f.period.label])];
  if ([...select.options].map((o) => o.value).join("\n") !== wanted.join("\n")) {
    select.replaceChildren(...wanted.map((p) => el("option", { value: p }, p)));
  }
  select.value = f.period.label;
  const a = f.audit;
  $("af-headline").textContent = a && a.force
    ? `Recording rate ${rateText(a.force)}, from ${a.answered} audited incidents of sample ${a.period}.`
    : a ? `The audit of ${a.period} has found no crime yet (${a.answered} answered).` : "No audit sample for this period.";
  const u = a && a.unrecorded_per_year;
  $("af-unrecorded").textContent = u
    ? `About ${num(u.estimate)} crimes a year not recorded (${num(u.lower)} to ${u.upper === null ? "no upper bound" : num(u.upper)}).`
    : "";
  const t = f.timeliness.all;
  $("af-timeliness").textContent = `${pct(t.share_within_target)} of ${num(t.recorded)} crimes recorded within 24 hours; ` +
    `median ${t.median_seconds === null ? "–" : duration(t.median_seconds * 1000)}, ` +
    `90th percentile ${t.p90_seconds === null ? "–" : duration(t.p90_seconds * 1000)}.`;
  $("af-strata-rows").replaceChildren(...(a ? a.strata : []).map((s) => {
    const tr = el("tr", { "data-stratum": s.stratum });
    tr.append(el("th", { scope: "row" }, words(s.stratum) + (s.priority ? " *" : "")),
      ...[s.population, s.sampled, s.answered, s.crimes, s.recorded].map((v) => el("td", {}, num(v))),
      el("td", { class: "rate" }, rateText(s.rate)));
    return tr;
  }));
  $("af-division-rows").replaceChildren(...[...f.timeliness.by_division, f.timeliness.all].map((d, i, all) => {
    const tr = el("tr");
    tr.append(el("th", { scope: "row" }, i === all.length - 1 ? "All divisions" : words(d.group)),
      el("td", {}, num(d.recorded)), el("td", {}, pct(d.share_within_target)),
      el("td", {}, d.median_seconds === null ? "–" : duration(d.median_seconds * 1000)),
      el("td", {}, d.p90_seconds === null ? "–" : duration(d.p90_seconds * 1000)),
      el("td", {}, num(d.unrecorded_past_deadline)));
    return tr;
  }));
  const feedback = [...f.feedback.divisions.map((x) => ["division", x]), ...f.feedback.teams.map((x) => ["team", x])];
  $("af-feedback-rows").replaceChildren(...feedback.map(([kind, x]) => {
    const tr = el("tr");
    tr.append(el("th", { scope: "row" }, `${words(x.name)} (${kind})`), el("td", {}, String(x.audited)),
      el("td", {}, String(x.wrongly_closed.length)), el("td", { class: "refs" }, x.wrongly_closed.join(", ")));
    return tr;
  }));
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
  for (const name of Object.keys(VIEWS)) {
    $(`show-${name}`).addEventListener("click", () => showView(name));
  }
  $("show-audit").hidden = !state.me.may_audit;
  $("audit-sample").addEventListener("change", () => loadSample(Number($("audit-sample").value), true));
  for (const r of document.querySelectorAll('input[name="should_record"]')) {
    r.addEventListener("change", () => syncAnswerFields());
  }
  $("audit-form").addEventListener("submit", saveAnswer);
  $("audit-previous").addEventListener("click", () => showItem(audit.index - 1));
  $("audit-next").addEventListener("click", () => showItem(audit.index + 1));
  $("audit-next-todo").addEventListener("click", nextToDo);
  $("af-period").addEventListener("change", loadAuditFigures);
  showView(window.location.hash.replace("#", "") || "board");
  window.addEventListener("hashchange", () => showView(window.location.hash.replace("#", "") || "board"));
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
