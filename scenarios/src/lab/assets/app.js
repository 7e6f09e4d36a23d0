// replharness lab: the page. It uses the lab's JSON API and nothing else
// (GET /api/state, POST /api/faults, DELETE /api/faults/ID,
// POST /api/servers/NAME/ACTION, GET /api/servers/NAME/logs, GET /api/events).
// No framework, no build step; every text from the lab goes in by textContent.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const LOG_KEEP = 400;
let state = null;
let selectedLog = null;
const logs = new Map(); // server -> {next: record number expected next, lines: [{n, line}]}
let refreshTimer = null;
const openEvidence = new Set(); // verdicts whose evidence the trainer opened

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k === "onclick") e.addEventListener("click", v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
  if (!r.ok) throw new Error((data && data.error) || `${method} ${path}: ${r.status}`);
  return data;
}

function showError(e) {
  const box = document.getElementById("toast");
  box.textContent = String(e.message || e);
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

async function act(method, path, body) {
  closeMenu();
  try {
    await api(method, path, body);
  } catch (e) {
    showError(e);
  }
  scheduleRefresh();
}

// ---- state -------------------------------------------------------------

async function refresh() {
  try {
    state = await api("GET", "/api/state");
    render();
  } catch (e) {
    document.getElementById("engine").textContent = "unreachable";
  }
}

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 120);
}

function render() {
  document.getElementById("title").textContent = "· " + state.title;
  document.getElementById("clock").textContent = state.now.replace("T", " ").replace(/\.\d+/, "");
  document.getElementById("scale").textContent = "×" + state.time_scale;
  const eng = state.engine;
  document.getElementById("engine").textContent =
    eng.error ? "error: " + eng.error : `${eng.snapshots} snapshots`;
  document.getElementById("verdicts-at").textContent = eng.at ? "snapshot at " + shortTime(eng.at) : "";
  renderGraph();
  renderVerdicts();
  renderTimeline();
  renderLogTabs();
}

function shortTime(t) {
  const m = /T(\d\d:\d\d:\d\d)/.exec(t);
  return m ? m[1] : t;
}

// ---- the graph ---------------------------------------------------------

function positions(servers) {
  const n = servers.length, cx = 400, cy = 300, r = n <= 2 ? 230 : 220;
  const out = new Map();
  servers.forEach((s, i) => {
    const a = n === 1 ? 0 : (Math.PI * 2 * i) / n + (n === 2 ? 0 : -Math.PI / 2);
    out.set(s.name, n === 1 ? { x: cx, y: cy } : { x: cx + r * Math.cos(a + (n === 2 ? Math.PI : 0)), y: cy + r * Math.sin(a) });
  });
  return out;
}

function faultLabel(f) {
  const t = f.fault.type, a = f.fault.attributes || {};
  if (f.fault.schedule && f.fault.schedule.flap) return "flap";
  if (t === "latency") return `latency ${a.latency} ms`;
  if (t === "bandwidth") return `${a.rate} KB/s`;
  return f.on.length === 1 ? `${t} ${f.on[0]}` : t;
}

function renderGraph() {
  const g = document.getElementById("graph");
  g.replaceChildren();
  const pos = positions(state.servers);
  for (const l of state.links) {
    const a = pos.get(l.a), b = pos.get(l.b);
    if (!a || !b) continue;
    const grp = svg("g", { class: "link", "data-link": l.name, "data-state": l.state });
    grp.append(svg("line", { class: "edge", x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
    const hit = svg("line", { class: "hit", x1: a.x, y1: a.y, x2: b.x, y2: b.y });
    const title = svg("title");
    title.textContent = `${l.name}: ${l.state}`;
    hit.append(title);
    grp.append(hit);
    const label = svg("text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 10, "text-anchor": "middle" });
    label.textContent = l.faults.length ? l.faults.map(faultLabel).join(", ") : (l.up ? "" : "down");
    grp.append(label);
    grp.addEventListener("click", (ev) => linkMenu(l, ev));
    g.append(grp);
  }
  for (const s of state.servers) {
    const p = pos.get(s.name);
    const grp = svg("g", { class: "server", "data-server": s.name, "data-state": s.state, transform: `translate(${p.x},${p.y})` });
    // Wide enough for the name and its state line (BH-NEWYORK, killed · exchange 5.5).
    const subText = `${s.state} · ${s.flavor} ${s.version}`;
    const radius = Math.max(52, 12 + 5.6 * s.name.length, 10 + 3.4 * subText.length);
    grp.append(svg("circle", { r: Math.round(radius) }));
    const name = svg("text", { class: "name", y: -4 });
    name.textContent = s.name;
    const sub = svg("text", { class: "sub", y: 16 });
    sub.textContent = subText;
    const addr = svg("text", { class: "host", y: Math.round(radius) + 22 });
    addr.textContent = `${s.host}`;
    grp.append(name, sub, addr);
    if (s.dns === "broken") {
      const d = svg("text", { class: "dns", y: 34 });
      d.textContent = "DNS broken";
      grp.append(d);
    }
    grp.addEventListener("click", (ev) => serverMenu(s, ev));
    g.append(grp);
  }
}

// ---- menus -------------------------------------------------------------

function openMenu(ev, children) {
  ev.stopPropagation();
  const menu = document.getElementById("menu");
  menu.replaceChildren(...children);
  menu.hidden = false;
  const box = document.getElementById("topology").getBoundingClientRect();
  const x = Math.min(ev.clientX - box.left + 8, box.width - 280);
  const y = Math.min(ev.clientY - box.top + 8, box.height - menu.offsetHeight - 8);
  menu.style.left = Math.max(4, x) + "px";
  menu.style.top = Math.max(4, y) + "px";
}

function closeMenu() {
  document.getElementById("menu").hidden = true;
}

function num(id, dflt) {
  const e = el("input", { type: "number", min: "0", value: String(dflt) });
  e.id = id;
  e.addEventListener("click", (ev) => ev.stopPropagation());
  return e;
}

function linkMenu(l, ev) {
  const link = `${l.a} <-> ${l.b}`;
  const fault = (f) => act("POST", "/api/faults", { link, fault: f });
  const scale = state.time_scale;
  const lat = num("m-latency", 500), bw = num("m-rate", 5), on = num("m-on", 20), off = num("m-off", 60);
  const items = [
    el("h3", {}, link),
    el("div", { class: "state" }, `${l.state}; ` + [
      ...(l.domains || []).map((d) => `${d.domain} ${d.up ? "up" : "down"}`),
      ...(l.directions || []).map((d) => `${d.link} ${d.up ? "up" : "down"}`),
    ].join(", ")),
  ];
  for (const f of l.faults) {
    items.push(el("div", { class: "fault" }, `#${f.id} ${faultLabel(f)} (${f.by})`,
      el("button", { onclick: () => act("DELETE", `/api/faults/${f.id}`) }, "remove")));
  }
  items.push(
    el("button", { "data-fault": "drop", class: "danger", onclick: () => fault({ type: "drop" }) },
      "Drop (firewall DROP: no answer)"),
    el("button", { "data-fault": "reject", class: "danger", onclick: () => fault({ type: "reject", attributes: { reset_existing: true } }) },
      "Reject (firewall REJECT, resets live links)"),
    el("div", { class: "row" }, el("button", { "data-fault": "latency", onclick: () => fault({ type: "latency", attributes: { latency: Number(lat.value) } }) }, "Latency"), lat, "ms"),
    el("div", { class: "row" }, el("button", { "data-fault": "bandwidth", onclick: () => fault({ type: "bandwidth", attributes: { rate: Number(bw.value) } }) }, "Bandwidth"), bw, "KB/s"),
    el("div", { class: "row" },
      el("button", {
        "data-fault": "flap",
        onclick: () => fault({
          type: "reset_peer", attributes: { timeout: 0 },
          // The proxy's schedule is in real time; the trainer thinks in product time.
          schedule: { flap: { on_ms: Math.max(1, Math.round(Number(on.value) * 1000 / scale)), off_ms: Math.round(Number(off.value) * 1000 / scale) } },
        }),
      }, "Flap: reset"), on, "s on /", off, "s off"),
    el("button", { "data-fault": "one-way", onclick: () => act("POST", "/api/faults", { link: `${l.a} -> ${l.b}`, fault: { type: "drop" } }) },
      `One-way: ${l.a} cannot reach ${l.b}`),
    el("button", { "data-fault": "one-way-back", onclick: () => act("POST", "/api/faults", { link: `${l.b} -> ${l.a}`, fault: { type: "drop" } }) },
      `One-way: ${l.b} cannot reach ${l.a}`),
    el("button", {
      "data-fault": "heal", class: "heal",
      onclick: async () => {
        closeMenu();
        for (const f of l.faults) {
          try { await api("DELETE", `/api/faults/${f.id}`); } catch (e) { showError(e); }
        }
        scheduleRefresh();
      },
    }, l.faults.length ? `Heal (remove ${l.faults.length} fault${l.faults.length > 1 ? "s" : ""})` : "Heal (nothing to remove)"),
  );
  openMenu(ev, items);
}

function serverMenu(s, ev) {
  const go = (action) => act("POST", `/api/servers/${encodeURIComponent(s.name)}/${action}`);
  const items = [
    el("h3", {}, s.name),
    el("div", { class: "state" }, `${s.state}; ${s.host} ${s.address}` + (s.site ? `; site ${s.site}` : "") + (s.dns_detail ? `; ${s.dns_detail}` : "")),
    el("button", { "data-action": "stop", onclick: () => go("stop") }, "Stop (clean shutdown)"),
    el("button", { "data-action": "kill", class: "danger", onclick: () => go("kill") }, "Kill (no goodbye, connections reset)"),
    el("button", { "data-action": "start", class: "heal", onclick: () => go("start") }, "Start"),
    s.dns === "broken"
      ? el("button", { "data-action": "restore-dns", class: "heal", onclick: () => go("restore-dns") }, `Restore the DNS record of ${s.host}`)
      : el("button", { "data-action": "break-dns", class: "danger", onclick: () => go("break-dns") }, `Break the DNS record of ${s.host}`),
    el("button", { onclick: () => { selectedLog = s.name; followLog = true; closeMenu(); renderLogTabs(); renderLog(); } }, "Show its logs"),
  ];
  openMenu(ev, items);
}

// ---- verdicts and timeline ---------------------------------------------

function renderVerdicts() {
  const box = document.getElementById("verdicts");
  const order = { error: 0, warning: 1, info: 2, ok: 3 };
  const vs = [...state.verdicts].sort((a, b) => (order[a.severity] ?? 9) - (order[b.severity] ?? 9));
  if (!vs.length) {
    box.replaceChildren(el("p", { class: "empty" }, state.engine.snapshots ? "no verdict" : "waiting for the first snapshot…"));
    return;
  }
  box.replaceChildren(...vs.map((v) => {
    const subject = Object.entries(v.subject || {}).map(([k, x]) => `${k}=${x}`).join("  ");
    const ev = el("details", {}, el("summary", {}, `evidence (${v.evidence.length})`),
      el("pre", {}, v.evidence.map((e) => `${e.file}:${e.line}: ${e.text}`).join("\n")));
    // Re-rendering must not close what the trainer opened.
    const key = v.id + " " + subject;
    ev.open = openEvidence.has(key);
    ev.addEventListener("toggle", () => { if (ev.open) openEvidence.add(key); else openEvidence.delete(key); });
    const todo = el("ol", {}, ...(v.guidance || []).map((g) => el("li", {}, g)));
    return el("div", { class: `verdict ${v.severity}`, "data-id": v.id },
      el("div", {}, el("span", { class: "id" }, v.id), v.cause ? el("span", { class: "cause" }, v.cause) : ""),
      el("div", { class: "subject" }, subject),
      ev, todo);
  }));
}

function renderTimeline() {
  const list = document.getElementById("timeline");
  const entries = [...state.timeline].reverse();
  list.replaceChildren(...entries.map((t) =>
    el("li", {}, el("span", { class: "when" }, shortTime(t.at)), el("span", { class: `by ${t.by}` }, t.by), t.what)));
}

// ---- logs ----------------------------------------------------------------

function renderLogTabs() {
  const tabs = document.getElementById("log-tabs");
  if (!selectedLog && state.servers.length) selectedLog = state.servers[0].name;
  tabs.replaceChildren(...state.servers.map((s) =>
    el("button", { class: s.name === selectedLog ? "on" : "", "data-log": s.name, onclick: () => { selectedLog = s.name; followLog = true; renderLogTabs(); renderLog(); } }, s.name)));
}

// The tail follows new lines unless the trainer scrolled up to read.
let followLog = true;

function renderLog() {
  const pre = document.getElementById("log");
  const buf = logs.get(selectedLog);
  pre.replaceChildren(...(buf ? buf.lines : []).map((l) => {
    const sev = /severity=(\w+)/.exec(l.line);
    const cls = sev && /ERROR/.test(sev[1]) ? "sev-error" : sev && /WARN/.test(sev[1]) ? "sev-warning" : "";
    return el("span", { class: cls }, l.line + "\n");
  }));
  if (followLog) pre.scrollTop = pre.scrollHeight;
}

document.getElementById("log").addEventListener("scroll", (ev) => {
  const pre = ev.target;
  followLog = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
});
// The panel above grows and shrinks with the verdicts: the tail stays in view.
new ResizeObserver(() => {
  const pre = document.getElementById("log");
  if (followLog) pre.scrollTop = pre.scrollHeight;
}).observe(document.getElementById("log"));

function addLog(server, n, line) {
  let buf = logs.get(server);
  if (!buf) { buf = { next: 1, lines: [] }; logs.set(server, buf); }
  if (n < buf.next) return; // already read with the tail
  buf.lines.push({ n, line });
  buf.next = n + 1;
  if (buf.lines.length > LOG_KEEP) buf.lines.splice(0, buf.lines.length - LOG_KEEP);
}

async function loadLogs() {
  for (const s of state.servers) {
    try {
      const t = await api("GET", `/api/servers/${encodeURIComponent(s.name)}/logs?lines=${LOG_KEEP}`);
      const buf = { next: 1, lines: [] };
      logs.set(s.name, buf);
      for (const l of t.lines) addLog(s.name, l.n, l.line);
    } catch (e) { showError(e); }
  }
  renderLog();
}

// ---- the event stream ----------------------------------------------------

function listen() {
  const live = document.getElementById("live");
  const es = new EventSource("/api/events");
  es.addEventListener("ready", async () => {
    live.textContent = "live";
    live.classList.remove("off");
    await refresh();
    await loadLogs();
  });
  es.addEventListener("log", (m) => {
    const d = JSON.parse(m.data);
    addLog(d.server, d.n, d.line);
    if (d.server === selectedLog) renderLog();
  });
  for (const kind of ["fault-added", "fault-removed", "server", "links", "verdicts", "timeline", "lagged"]) {
    es.addEventListener(kind, scheduleRefresh);
  }
  es.onerror = () => {
    live.textContent = "reconnecting";
    live.classList.add("off");
  };
}

document.addEventListener("click", (ev) => {
  const menu = document.getElementById("menu");
  if (!menu.hidden && !menu.contains(ev.target)) closeMenu();
});
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeMenu(); });
// The clock and the timeline's times move even when nothing else does.
setInterval(refresh, 5000);
listen();
