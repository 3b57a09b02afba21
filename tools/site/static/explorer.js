/* tcpbook web edition: the explorer, without a kernel.
 *
 * This script only DRAWS runs of the book's Python model: the page carries the runs for the
 * starting settings and one change from each preset (instant answers); any other choice is
 * computed by the same Python code in a web worker (worker.js, Pyodide). Nothing here decides
 * what TCP does: segments, states, timers and how each side ended all come from the run.
 *
 * Test hooks: data-drop="N", data-msl="SECONDS", data-profile="NAME" on the controls;
 * data-role="ladder" | "state-diagram" | "status" on the pictures and the status line.
 */
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const dataEl = document.getElementById("tcpbook-data");
  if (!dataEl) return;
  const DATA = JSON.parse(dataEl.textContent);
  const DIAGRAM = document.getElementById("tcpbook-state-diagram").innerHTML;
  const site = (window.tcpbookSite = { explorers: [], worker: null, pyReadyMs: null, loadT0: performance.now() });

  // ------------------------------------------------------------------ small helpers
  const fmt = (t) => String(Number((Math.round(t * 1000) / 1000).toPrecision(12)));
  const num = (x) => String(Number(Number(Math.round(x * 1e6) / 1e6).toPrecision(6)));
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  /** The key a run is stored under: the same text as payload.key() in Python. */
  function runKey(s) {
    return [
      "msl=" + (s.msl == null ? "" : num(s.msl)),
      "drop=" + (s.drop == null ? "-" : s.drop.slice().sort((a, b) => a - b).join(",")),
      "fin=" + (s.fin_timeout == null ? "" : num(s.fin_timeout)),
      "rfc1337=" + (s.rfc1337 ? 1 : 0),
      "skiptw=" + (s.skip_time_wait ? 1 : 0),
      "profile=" + s.profile,
    ].join("|");
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }

  // ------------------------------------------------------------------ the Python worker
  const pending = new Map();
  let nextId = 1;
  function startWorker() {
    if (site.worker) return;
    const w = new Worker("_static/worker.js?v=" + DATA.pyVersion);
    site.worker = w;
    site.workerStart = performance.now();
    w.onmessage = (e) => {
      const m = e.data;
      if (m.type === "ready") {
        site.pyReadyMs = m.ms;
        site.pyReadyAt = performance.now() - site.loadT0;
        return;
      }
      if (m.type === "failed") {
        site.pyFailed = m.error;
        for (const p of pending.values()) p.reject(new Error("Python could not start: " + m.error));
        pending.clear();
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve({ payload: JSON.parse(m.result), ms: m.ms });
      else p.reject(new Error(m.error));
    };
  }
  function compute(scenario, settings, fixed) {
    startWorker();
    if (site.pyFailed) return Promise.reject(new Error("Python could not start: " + site.pyFailed));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      site.worker.postMessage({ id, scenario, settings, fixed });
    });
  }

  // ------------------------------------------------------------------ reading a run
  function moments(trace, end) {
    const ts = new Set([0, end]);
    for (const s of trace.segments) { ts.add(s.sent); if (s.arrived != null) ts.add(s.arrived); }
    for (const tr of trace.transitions) ts.add(tr.t);
    for (const tm of trace.timers) if (tm.action === "fire") ts.add(tm.t);
    for (const e of trace.errors) ts.add(e.t);
    return [...new Set([...ts].map((t) => Math.round(t * 1e9) / 1e9))].sort((a, b) => a - b);
  }
  function stateAt(trace, who, t) {
    let state = "CLOSED";
    for (const tr of trace.transitions) if (tr.endpoint === who && tr.t <= t + 1e-9) state = tr.to;
    return state;
  }
  function nextChange(trace, who, t) {
    // a self-loop (TIME_WAIT re-ACKing a FIN and restarting 2MSL) does not leave the state
    for (const tr of trace.transitions) {
      if (tr.endpoint === who && tr.t > t + 1e-9 && tr.from !== tr.to) return tr.t;
    }
    return null;
  }
  function axisFn(axis) {
    const kt = axis.t, ky = axis.y, r = axis.rps;
    return (t) => {
      if (kt.length === 1 || t <= kt[0]) return ky[0] + (t - kt[0]) * r;
      const n = kt.length - 1;
      if (t >= kt[n]) return ky[n] + (t - kt[n]) * r;
      let lo = 0, hi = n;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (kt[mid] <= t) lo = mid; else hi = mid; }
      return ky[lo] + ((t - kt[lo]) * (ky[lo + 1] - ky[lo])) / (kt[lo + 1] - kt[lo]);
    };
  }
  function segName(s) {
    let text = `#${s.id} ${s.src}→${s.dst} ${s.flags.join(",")}`;
    if (s.len) text += ` +${s.len}`;
    if (s.retransmission) text += " (rtx)";
    if (s.duplicate_of != null) text += ` (copy of #${s.duplicate_of})`;
    return text;
  }

  // ------------------------------------------------------------------ the ladder (SVG)
  const ROW = 13, TOP = 46;
  /** The ladder at the width it is shown (text stays at its size on a phone). */
  function drawLadder(p, at, width) {
    const W = Math.round(Math.min(Math.max(width || 640, 330), 720));
    const side = W < 480 ? 100 : 150, gap = W < 480 ? 8 : 14;
    const XA = side, XB = W - side, compact = XB - XA < 300;
    const tr = p.trace, rows = axisFn(p.axis);
    const y = (t) => TOP + rows(t) * ROW;
    const x = (who) => (who === "A" ? XA : XB);
    const end = p.end, latency = tr.params.latency || 0.05;
    const H = Math.ceil(y(end) + 40);
    const out = [];
    out.push(`<svg class="lad" xmlns="${SVGNS}" viewBox="0 0 ${W} ${H}" role="img" aria-label="ladder diagram of the run">`);
    out.push(`<defs>${["A", "B"].map((w) => `<marker id="ah-${w}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${w === "A" ? "#0072B2" : "#D55E00"}"/></marker>`).join("")}</defs>`);
    out.push(`<text class="who" x="${XA}" y="18" text-anchor="middle">A (client)</text><text class="who" x="${XB}" y="18" text-anchor="middle">B (server)</text>`);
    // state bands and labels
    for (const who of ["A", "B"]) {
      const mine = tr.transitions.filter((t) => t.endpoint === who);
      mine.forEach((t, i) => {
        const t1 = i + 1 < mine.length ? mine[i + 1].t : end;
        const bx = who === "A" ? XA - 9 : XB + 3;
        if (t.to !== "CLOSED" && t1 > t.t) {
          const cls = t.to === "TIME_WAIT" ? "band-TIME_WAIT" : "band-other";
          out.push(`<rect class="${cls}" x="${bx}" y="${y(t.t)}" width="6" height="${Math.max(1, y(t1) - y(t.t))}"/>`);
        }
        if (i + 1 < mine.length && mine[i + 1].t === t.t) return; // a passing state: label the last
        const lx = who === "A" ? XA - gap : XB + gap;
        out.push(`<text class="state-label" x="${lx}" y="${y(t.t) + 4}" text-anchor="${who === "A" ? "end" : "start"}">${esc(t.to)}</text>`);
      });
      // TIME_WAIT: its drawn length in seconds, and 2MSL
      let enter = null;
      for (const t of mine) {
        if (t.to === "TIME_WAIT" && t.from !== "TIME_WAIT") enter = t.t;
        else if (enter != null && t.from === "TIME_WAIT" && t.to !== "TIME_WAIT") { pushTW(who, enter, t.t); enter = null; }
      }
      if (enter != null) pushTW(who, enter, end, true);
    }
    function pushTW(who, t0, t1, open) {
      const dur = t1 - t0, msl = tr.params.msl;
      const ym = (y(t0) + y(t1)) / 2;
      const lx = who === "A" ? XA - gap : XB + gap;
      out.push(`<g data-role="time-wait" data-endpoint="${who}" data-seconds="${fmt(dur)}">` +
        `<text class="tw-label" x="${lx}" y="${ym + 4}" text-anchor="${who === "A" ? "end" : "start"}">${open ? "≥ " : ""}${compact ? "TW " + fmt(dur) + " s" : fmt(dur) + " s in TIME_WAIT"}</text>` +
        `<text class="tw-label" x="${lx}" y="${ym + 17}" text-anchor="${who === "A" ? "end" : "start"}">(2MSL = ${fmt(2 * msl)} s)</text></g>`);
    }
    // lifelines, with quiet stretches squeezed and marked
    let last = 0;
    const lines = [];
    for (const [a, b] of p.axis.breaks) {
      lines.push([last, a]);
      for (const xx of [XA, XB]) out.push(`<line class="break-mark" x1="${xx}" y1="${y(a)}" x2="${xx}" y2="${y(b)}"/>`);
      out.push(`<text class="break-label" x="${(XA + XB) / 2}" y="${(y(a) + y(b)) / 2 + 3}" text-anchor="middle">≈ ${fmt(Math.round((b - a) * 100) / 100)} s later</text>`);
      last = b;
    }
    lines.push([last, end]);
    for (const [a, b] of lines) for (const xx of [XA, XB]) out.push(`<line class="life" x1="${xx}" y1="${y(a) - (a === 0 ? 6 : 0)}" x2="${xx}" y2="${y(b) + (b === end ? 6 : 0)}"/>`);
    // segments
    for (const s of tr.segments) {
      const x1 = x(s.src), y1 = y(s.sent), xd = x(s.dst);
      let x2, y2, mark = "";
      const cls = ["seg", "from-" + s.src, s.fate];
      if (s.retransmission) cls.push("rtx");
      if (at != null && s.sent > at + 1e-9) cls.push("future");
      if (s.arrived != null) { x2 = xd; y2 = y(s.arrived); }
      else {
        const f = 0.55;
        x2 = x1 + (xd - x1) * f; y2 = y1 + (y(s.sent + latency) - y1) * f;
        const word = s.fate === "dropped" ? "lost" : s.fate === "expired" ? "expired" : "in flight";
        mark = s.fate === "in-flight" ? "" : `<path class="x" d="M${x2 - 5},${y2 - 5}L${x2 + 5},${y2 + 5}M${x2 - 5},${y2 + 5}L${x2 + 5},${y2 - 5}"/>`;
        mark += `<text class="lost" x="${x2 + (xd > x1 ? 9 : -9)}" y="${y2 + 4}" text-anchor="${xd > x1 ? "start" : "end"}" font-size="11">${word}</text>`;
      }
      const ang = (Math.atan2(y2 - y1, x2 - x1) * 180) / Math.PI;
      const rot = ang > 90 || ang < -90 ? ang + 180 : ang;
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const seqack = `seq=${s.seq}${s.ack != null ? " ack=" + s.ack : ""}`;
      const label = `#${s.id} ${s.flags.join(",")}${s.len ? " +" + s.len : ""}${compact ? "" : " " + seqack}${s.retransmission ? " (rtx)" : ""}${s.duplicate_of != null ? " (copy)" : ""}`;
      out.push(`<g class="${cls.join(" ")}" data-seg="${s.id}" data-flags="${s.flags.join(",")}" data-rtx="${s.retransmission ? 1 : 0}" data-fate="${s.fate}">` +
        `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"${s.arrived != null ? ` marker-end="url(#ah-${s.src})"` : ""}/>${mark}` +
        `<text font-size="10.5" text-anchor="middle" transform="translate(${mx},${my}) rotate(${rot}) translate(0,-4)">${esc(label)}</text></g>`);
    }
    if (at != null) {
      const yc = y(at);
      out.push(`<line class="cursor" x1="${XA - 30}" y1="${yc}" x2="${XB + 30}" y2="${yc}"/>`);
      out.push(`<text class="cursor-label" x="${W - 4}" y="${yc - 5}" text-anchor="end">t = ${fmt(at)} s</text>`);
    }
    out.push("</svg>");
    return out.join("");
  }

  // ------------------------------------------------------------------ the state diagram
  class Diagram {
    constructor(holder) {
      holder.innerHTML = DIAGRAM;
      this.holder = holder;
      this.svg = holder.querySelector("svg");
      this.svg.removeAttribute("width"); this.svg.removeAttribute("height");
      this.byId = new Map();
      for (const g of this.svg.querySelectorAll("[data-id]")) this.byId.set(g.getAttribute("data-id"), g);
      this.badges = document.createElementNS(SVGNS, "g");
      this.badges.setAttribute("class", "badges");
      (this.byId.get("graph0") || this.svg).appendChild(this.badges);
      this.mid = new Map();
      holder.classList.add("active");
    }
    midpoint(rid, g) {
      if (!this.mid.has(rid)) {
        const path = g.querySelector("path");
        let pt = null;
        if (path && path.getTotalLength) { const L = path.getTotalLength(); const q = path.getPointAtLength(L / 2); pt = [q.x, q.y]; }
        this.mid.set(rid, pt);
      }
      return this.mid.get(rid);
    }
    show(p, at) {
      for (const g of this.svg.querySelectorAll(".cur-A,.cur-B,.took-A,.took-B,.cell-A,.cell-B")) g.classList.remove("cur-A", "cur-B", "took-A", "took-B", "cell-A", "cell-B");
      this.badges.textContent = "";
      const t = at == null ? Infinity : at;
      const labels = new Map();
      for (const who of ["A", "B"]) {
        let node = "CLOSED", n = 0;
        for (const [ts, rid, nd] of p.path[who]) {
          if (ts > t + 1e-9) break;
          n += 1; node = nd;
          const edge = this.byId.get(rid);
          if (edge && edge.classList.contains("edge")) {
            edge.classList.add("took-" + who);
            const k = rid + "|" + who;
            labels.set(k, (labels.has(k) ? labels.get(k) + "," : who) + n);
          } else {
            const cell = this.byId.get("a_" + rid);
            if (cell) { cell.classList.add("cell-" + who); const k = rid + "|" + who; labels.set(k, (labels.has(k) ? labels.get(k) + "," : who) + n); }
          }
        }
        const g = this.byId.get("state:" + node);
        if (g) g.classList.add("cur-" + who);
      }
      for (const [k, text] of labels) {
        const [rid, who] = k.split("|");
        const edge = this.byId.get(rid);
        let pt = null;
        if (edge && edge.classList.contains("edge")) pt = this.midpoint(rid, edge);
        if (!pt) continue;
        const dx = who === "B" ? 8 : -8;
        const tx = document.createElementNS(SVGNS, "text");
        tx.setAttribute("x", pt[0] + dx); tx.setAttribute("y", pt[1] + 4);
        tx.setAttribute("text-anchor", who === "B" ? "start" : "end");
        tx.setAttribute("class", "badge-text");
        tx.setAttribute("style", `font:700 11px system-ui,sans-serif;fill:${who === "A" ? "#0072B2" : "#D55E00"};paint-order:stroke;stroke:#fff;stroke-width:3px`);
        tx.textContent = text;
        this.badges.appendChild(tx);
      }
    }
  }

  // ------------------------------------------------------------------ one explorer
  class Explorer {
    constructor(root, cfg) {
      this.root = root;
      this.spec = cfg.spec;
      this.runs = new Map(Object.entries(cfg.runs));
      this.current = this.runs.get(cfg.initial);
      this.at = this.spec.at == null ? null : Math.min(Math.max(this.spec.at, 0), this.current.end);
      this.timings = [];
      this.seq = 0;
      this.statusEl = root.querySelector('[data-role="status"]');
      this.ladderEl = root.querySelector('[data-role="ladder"]');
      this.diagram = new Diagram(root.querySelector('[data-role="state-diagram"]'));
      this.buildControls(root.querySelector(".controls"));
      this.redraw();
      let width = this.ladderEl.clientWidth;
      window.addEventListener("resize", () => {
        if (Math.abs(this.ladderEl.clientWidth - width) > 20) { width = this.ladderEl.clientWidth; this.redraw(); }
      });
    }
    get settings() { return Object.assign({}, this.current.settings); }
    has(c) { return this.spec.controls.includes(c); }

    buildControls(box) {
      const c = this.ctl = {};
      const row = (label) => { const r = el("div", { class: "row" }); if (label) r.appendChild(el("span", { class: "label" }, label)); box.appendChild(r); return r; };
      if (this.has("time")) {
        const r = row("time");
        c.back = el("button", { type: "button", "data-step": "-1", title: "previous moment" }, "◀ step");
        c.slider = el("input", { type: "range", min: "0", max: "0", step: "1", "aria-label": "time cursor", "data-role": "time" });
        c.fwd = el("button", { type: "button", "data-step": "1", title: "next moment" }, "step ▶");
        c.whole = el("button", { type: "button", "data-role": "whole-run" }, "whole run");
        c.play = el("button", { type: "button", "data-role": "play" }, "play");
        r.append(c.play, c.back, c.slider, c.fwd, c.whole);
        c.slider.addEventListener("input", () => this.setAt(this.moments[+c.slider.value]));
        c.back.addEventListener("click", () => this.step(-1));
        c.fwd.addEventListener("click", () => this.step(1));
        c.whole.addEventListener("click", () => this.setAt(null));
        c.play.addEventListener("click", () => this.togglePlay());
      }
      {
        const r = row("kernel");
        c.profiles = DATA.profiles.map((name) => {
          const b = el("button", { type: "button", "data-profile": name, "aria-pressed": "false", title: DATA.profilesReal ? `behave like ${name}` : "the model's one behaviour" }, name);
          b.addEventListener("click", () => this.change({ profile: name }));
          r.appendChild(b);
          return b;
        });
      }
      if (this.has("msl")) {
        const r = row("MSL");
        c.msl = DATA.mslPresets.map(([label, v]) => {
          const b = el("button", { type: "button", "data-msl": num(v), "aria-pressed": "false" }, label);
          b.addEventListener("click", () => this.change({ msl: v }));
          r.appendChild(b);
          return b;
        });
        const lab = el("label", {}, "any: ");
        c.mslInput = el("input", { type: "number", min: "0.5", max: "600", step: "0.5", "data-role": "msl-input", "aria-label": "MSL in seconds" });
        c.mslInput.addEventListener("change", () => { const v = parseFloat(c.mslInput.value); if (v > 0) this.change({ msl: v }); });
        lab.appendChild(c.mslInput); lab.append(" s");
        r.appendChild(lab);
      }
      if (this.has("fin_timeout")) {
        const r = row("FIN_WAIT_2 timeout");
        c.fin = el("select", { "data-role": "fin-timeout" });
        c.finProfile = null; // the profile whose choices the list shows (filled in render)
        c.fin.addEventListener("change", () => {
          const choices = DATA.finChoices[this.current.settings.profile];
          this.change({ fin_timeout: choices[+c.fin.value][1] });
        });
        r.appendChild(c.fin);
      }
      for (const [name, label] of [["rfc1337", "RFC 1337: ignore a RST in TIME_WAIT"], ["skip_time_wait", "skip TIME_WAIT (unsafe: close at once)"]]) {
        if (!this.has(name)) continue;
        const b = el("button", { type: "button", "data-option": name, "aria-pressed": "false" }, label);
        b.addEventListener("click", () => this.change({ [name]: !this.current.settings[name] }));
        row("").appendChild(b);
        c[name] = b;
      }
      if (this.has("drop")) {
        box.appendChild(el("div", { class: "row" }, "Lose a segment (click to drop it in the network; numbers count every segment sent, retransmissions too):"));
        c.drops = el("div", { class: "drops" });
        box.appendChild(c.drops);
      }
      c.timing = el("div", { class: "timing", "data-role": "timing" });
      box.appendChild(c.timing);
    }

    syncControls() {
      const c = this.ctl, p = this.current, s = p.settings;
      this.moments = moments(p.trace, p.end);
      if (c.slider) {
        c.slider.max = String(this.moments.length - 1);
        const t = this.at == null ? p.end : this.at;
        let i = 0;
        this.moments.forEach((m, k) => { if (m <= t + 1e-9) i = k; });
        c.slider.value = String(i);
      }
      for (const b of c.profiles) b.setAttribute("aria-pressed", String(b.dataset.profile === s.profile));
      if (c.msl) {
        for (const b of c.msl) b.setAttribute("aria-pressed", String(s.msl != null && num(s.msl) === b.dataset.msl));
        if (document.activeElement !== c.mslInput) c.mslInput.value = s.msl == null ? "" : num(s.msl);
      }
      if (c.fin) {
        // the choices depend on the profile: "no timer" only where there is none (rfc9293)
        const choices = DATA.finChoices[s.profile];
        if (c.finProfile !== s.profile) {
          c.fin.replaceChildren(...choices.map(([label], i) => el("option", { value: String(i) }, label)));
          c.finProfile = s.profile;
        }
        const v = s.fin_timeout == null ? DATA.finOwn[s.profile] : s.fin_timeout;
        c.fin.value = String(Math.max(0, choices.findIndex(([, x]) => x === v)));
      }
      for (const name of ["rfc1337", "skip_time_wait"]) if (c[name]) c[name].setAttribute("aria-pressed", String(!!s[name]));
      if (c.drops) {
        const segs = p.trace.segments;
        while (c.drops.children.length > segs.length) c.drops.lastChild.remove();
        while (c.drops.children.length < segs.length) {
          const b = el("button", { type: "button", class: "drop", "aria-pressed": "false" });
          b.addEventListener("click", () => this.toggleDrop(+b.dataset.drop));
          c.drops.appendChild(b);
        }
        segs.forEach((seg, i) => {
          const b = c.drops.children[i];
          b.dataset.drop = String(seg.id);
          b.textContent = (seg.fate === "dropped" ? "✕ " : "") + segName(seg);
          b.title = `sent at ${fmt(seg.sent)} s; ${seg.fate}`;
          b.setAttribute("aria-pressed", String(seg.fate === "dropped"));
        });
      }
    }

    toggleDrop(n) {
      const lost = new Set(this.current.trace.segments.filter((s) => s.fate === "dropped").map((s) => s.id));
      if (lost.has(n)) lost.delete(n); else lost.add(n);
      this.change({ drop: [...lost].sort((a, b) => a - b) });
    }

    /** Change settings: a stored run answers at once, otherwise the worker's Python does. */
    change(delta) {
      const t0 = performance.now();
      const settings = Object.assign(this.settings, delta);
      const key = runKey(settings);
      const seq = ++this.seq;
      const known = this.runs.get(key);
      if (known) { this.show(known, t0, "stored run"); return Promise.resolve(); }
      this.statusEl.insertAdjacentHTML("beforeend", ` <span class="busy">computing this run with the model in your browser…</span>`);
      this.root.dataset.busy = "1";
      return compute(this.spec.scenario, settings, this.spec.fixed).then(
        ({ payload, ms }) => {
          this.runs.set(key, payload);
          this.runs.set(payload.key, payload);
          if (seq === this.seq) this.show(payload, t0, `Python in the browser, ${ms.toFixed(1)} ms`);
        },
        (err) => {
          if (seq !== this.seq) return;
          delete this.root.dataset.busy;
          const msg = String(err.message || err).trim().split("\n").filter(Boolean).pop();
          this.statusEl.textContent = "Cannot run that: " + msg;
          this.syncControls();
        });
    }
    show(p, t0, how) {
      this.current = p;
      if (this.at != null) this.at = Math.min(this.at, p.end);
      this.redraw(t0, how);
    }
    setAt(t) { const t0 = performance.now(); this.at = t == null ? null : Math.min(Math.max(t, 0), this.current.end); this.redraw(t0, "cursor"); }
    step(d) {
      const t = this.at == null ? this.current.end : this.at;
      let i = 0;
      this.moments.forEach((m, k) => { if (m <= t + 1e-9) i = k; });
      this.setAt(this.moments[Math.min(Math.max(i + d, 0), this.moments.length - 1)]);
    }
    togglePlay() {
      if (this.timer) { clearInterval(this.timer); this.timer = null; this.ctl.play.textContent = "play"; return; }
      if (this.at == null || this.at >= this.current.end) this.at = 0;
      this.ctl.play.textContent = "pause";
      this.timer = setInterval(() => {
        if (this.at >= this.current.end - 1e-9) { this.togglePlay(); return; }
        this.step(1);
      }, 800);
    }

    status() {
      const p = this.current, tr = p.trace;
      const t = this.at == null ? p.end : this.at;
      const parts = ["A", "B"].map((who) => {
        const st = stateAt(tr, who, t), until = nextChange(tr, who, t);
        const where = st === "CLOSED" || st === "ESTABLISHED" ? `${who} is ${st}` : `${who} is in ${st}`;
        if (until != null) return `${where} until ${fmt(until)} s`;
        return st === "CLOSED" ? where : `${where} to the end of the run`;
      });
      let text = `At ${fmt(t)} s: ${parts.join("; ")}.`;
      const seen = tr.errors.filter((e) => e.t <= t + 1e-9);
      if (seen.length) text += " " + seen.map((e) => `${e.endpoint}'s application saw ${e.error} at ${fmt(e.t)} s.`).join(" ");
      const ending = `How it ends — A: ${p.endings.A}; B: ${p.endings.B}.`;
      return `${esc(text)}<span class="ending" data-role="ending">${esc(ending)}</span>`;
    }

    redraw(t0, how) {
      const start = t0 == null ? performance.now() : t0;
      this.syncControls();
      this.ladderEl.innerHTML = drawLadder(this.current, this.at, this.ladderEl.clientWidth);
      this.diagram.show(this.current, this.at);
      this.statusEl.innerHTML = this.status();
      delete this.root.dataset.busy;
      const ms = performance.now() - start;
      this.timings.push({ ms, how: how || "first drawing" });
      this.root.dataset.redrawMs = ms.toFixed(1);
      this.root.dataset.runKey = this.current.key;
      this.root.dataset.redraws = String(this.timings.length);
      if (this.ctl.timing) this.ctl.timing.textContent = how ? `answered in ${ms.toFixed(0)} ms (${how})` : "";
    }
  }

  function init() {
    for (const root of document.querySelectorAll(".explorer[data-explorer]")) {
      const cfg = DATA.explorers[root.dataset.explorer];
      if (cfg) site.explorers.push(new Explorer(root, cfg));
    }
    site.readyAt = performance.now() - site.loadT0;
    document.documentElement.dataset.explorersReady = "1";
    // Python for the choices the page does not carry: started once the page is drawn.
    setTimeout(startWorker, 0);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
