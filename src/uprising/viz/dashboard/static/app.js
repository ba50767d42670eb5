// uprising dashboard: plain JavaScript, SVG and canvas; everything comes from this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const NO_DATA = "#d9d9d9";
  const HOUR = 3600 * 1000;
  const POLL_MS = 300;
  // YlOrRd, as the matplotlib figures (viz/country.py).
  const RAMP = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"];
  // Cell kinds of engine/state.py: EMPTY, QUIET, ACTIVE, COP, JAILED (Mesa rules only), WALL.
  const KINDS = [
    ["empty", "#fbfbf8"], ["quiet", "#9fb8cf"], ["active", "#dd3b2a"],
    ["police or troops", "#1d2f5e"], ["jailed (on the grid)", "#777777"], ["wall", "#444444"],
  ];
  const LINES = [
    ["active", "#dd3b2a", ""], ["jailed", "#555555", ""], ["police", "#1f5fbf", ""],
    ["troops", "#7b3fa0", "4 3"], ["dead", "#000000", "1 2"],
  ];
  const KIND_COLOURS = {
    blackout: "#6b6b6b", concession: "#2e8b57", resignation: "#3cb371", emergency: "#d98c1f",
    lethal_force: "#8b0000", troops: "#7b3fa0", transfer: "#1f5fbf",
  };
  const OUTCOME_LABELS = {
    regime_falls: "regime falls", suppressed: "suppressed", settlement: "settlement", prolonged: "prolonged",
  };

  const st = {
    scenarios: [], limits: {}, info: null, levers: [],
    job: null, meta: null, data: null, have: 0, frames: [],
    hour: 0, follow: true, playing: null, polling: null,
    city: null, vmax: 0.02, proj: null,
  };

  // ---- helpers ---------------------------------------------------------------------------------

  function node(tag, attrs, parent, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, props, parent) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    if (parent) parent.appendChild(e);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  const num = new Intl.NumberFormat("en-GB");
  const fmt = (x) => (x === null || x === undefined ? "–" : num.format(Math.round(x)));
  const pct = (x) => `${Math.round(100 * x)}%`;
  // Times are local scenario time; kept in UTC milliseconds so the browser's zone never matters.
  function parseStamp(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s);
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  }
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function label(ms, withTime = true) {
    const d = new Date(ms);
    const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
    if (!withTime) return day;
    return `${day} ${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  }
  function ramp(t) {
    const x = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    const i = Math.min(Math.floor(x), RAMP.length - 2);
    const f = x - i;
    const a = RAMP[i], b = RAMP[i + 1];
    const ch = (s, k) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
    const mix = [0, 1, 2].map((k) => Math.round(ch(a, k) + f * (ch(b, k) - ch(a, k))));
    return `#${mix.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
  }
  function nice(x) {
    if (x <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(x));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
    return 10 * p;
  }
  async function api(path, options) {
    const r = await fetch(path, options);
    let body;
    try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    return body;
  }
  function say(text, ok = false) {
    $("message").textContent = text;
    $("message").className = ok ? "ok" : "";
  }
  function status(text, fraction) {
    $("status-text").textContent = text;
    if (fraction === null) $("progress").removeAttribute("value");
    else $("progress").value = fraction;
  }

  // ---- scenario and levers ---------------------------------------------------------------------

  async function start() {
    const found = await api("/api/scenarios");
    st.scenarios = found.scenarios;
    st.limits = found.limits;
    const sel = $("scenario");
    for (const s of st.scenarios) html("option", { value: s.name, textContent: s.name }, sel);
    const lim = st.limits;
    Object.assign($("people_per_agent"), {
      min: lim.min_people_per_agent, max: lim.max_people_per_agent,
    });
    Object.assign($("runs"), { min: 1, max: lim.max_runs, value: lim.default_runs });
    $("seed").max = lim.max_seed;
    $("limits").textContent =
      `Limits: people per agent ${fmt(lim.min_people_per_agent)}..${fmt(lim.max_people_per_agent)}; ` +
      `runs 1..${lim.max_runs}, and runs × agents ≤ ${fmt(lim.max_agent_runs)}.`;
    await chooseScenario();
    status("Ready: move the levers and press Run.", 0);
  }

  async function chooseScenario() {
    const s = st.scenarios.find((x) => x.name === $("scenario").value);
    $("people_per_agent").value = s.people_per_agent; // its own scale: the one it was fitted at
    const sel = $("variant");
    clear(sel);
    html("option", { value: "", textContent: "(the scenario itself)" }, sel);
    for (const v of s.variants) html("option", { value: v, textContent: v }, sel);
    await chooseVariant(true);
  }

  async function chooseVariant(fresh = false) {
    const name = $("scenario").value;
    const variant = $("variant").value;
    const q = variant ? `?variant=${encodeURIComponent(variant)}` : "";
    st.info = await api(`/api/scenarios/${encodeURIComponent(name)}${q}`);
    $("description").textContent = st.info.description;
    buildLevers(st.info.levers);
    if (fresh || !st.meta) {
      st.meta = null;
      st.data = null;
      st.frames = [];
      st.have = 0;
      const watch = $("watch"), city = $("series-city");
      clear(watch);
      clear(city);
      html("option", { value: "", textContent: "all cities" }, city);
      const biggest = st.info.cities.reduce((a, b) => (b.population > a.population ? b : a));
      for (const c of st.info.cities) {
        html("option", { value: c.name, textContent: c.name, selected: c.name === biggest.name }, watch);
        html("option", { value: c.name, textContent: c.name }, city);
      }
      st.city = null;
      drawMap();
      drawCalendar();
      drawSeries();
      drawGrid();
      drawOutcomes(null, null);
    }
  }

  function buildLevers(levers) {
    st.levers = levers;
    const box = $("levers");
    clear(box);
    const groups = {};
    for (const lv of levers) {
      if (!groups[lv.group]) {
        const fs = html("fieldset", {}, box);
        html("legend", { textContent: lv.group }, fs);
        groups[lv.group] = fs;
      }
      const wrap = html("div", { className: "lever" }, groups[lv.group]);
      const row = html("label", { className: "row", title: `scenario keys: ${lv.keys.join(", ")}` }, wrap);
      row.append(lv.label);
      const input = html("input", { id: `lever-${lv.name}` }, row);
      input.dataset.lever = lv.name;
      if (lv.kind === "bool") {
        input.type = "checkbox";
        input.checked = lv.default;
      } else if (lv.kind === "number") {
        Object.assign(input, { type: "number", min: lv.min, max: lv.max, step: lv.step || "any", value: lv.default });
      } else {
        Object.assign(input, { type: "datetime-local", min: lv.min, max: lv.max, step: 60, value: lv.default });
        row.classList.add("stack");
      }
      html("p", { className: "help", textContent: lv.help }, wrap);
    }
  }

  function resetLevers() {
    for (const lv of st.levers) {
      const input = $(`lever-${lv.name}`);
      if (lv.kind === "bool") input.checked = lv.default;
      else input.value = lv.default;
    }
    say("");
  }

  function request() {
    const levers = {};
    for (const lv of st.levers) {
      const input = $(`lever-${lv.name}`);
      if (lv.kind === "bool") levers[lv.name] = input.checked;
      else if (lv.kind === "number") levers[lv.name] = input.value === "" ? null : Number(input.value);
      else levers[lv.name] = input.value.slice(0, 16);
    }
    const int = (id) => ($(id).value === "" ? null : Number($(id).value));
    return {
      scenario: $("scenario").value,
      variant: $("variant").value || null,
      levers,
      people_per_agent: int("people_per_agent"),
      runs: int("runs"),
      seed: int("seed"),
      watch: $("watch").value,
    };
  }

  // ---- jobs ------------------------------------------------------------------------------------

  async function run(event) {
    event.preventDefault();
    say("");
    let job;
    try {
      job = await api("/api/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(request()),
      });
    } catch (e) {
      say(e.message);
      return;
    }
    stopPlaying();
    st.job = job.id;
    st.meta = job.meta;
    st.data = {};
    st.frames = [];
    st.have = 0;
    st.vmax = 0.02;
    st.follow = true;
    st.hour = 0;
    const keys = Object.entries(job.meta.overrides);
    $("overrides").textContent = keys.length
      ? keys.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n") : "(none: the scenario as it is)";
    if (job.meta.notes.length) say(job.meta.notes.join("\n"), true);
    $("run").disabled = true;
    $("cancel").disabled = false;
    $("play").disabled = true;
    $("peak").disabled = true;
    $("grid-city").textContent = job.meta.watch;
    document.body.dataset.job = "running";
    drawMap();
    drawCalendar();
    drawSeries();
    drawOutcomes(null, null);
    status("Starting (the first run at a scale compiles the model, ~15 s)…", null);
    poll();
  }

  async function poll() {
    let snap;
    try {
      snap = await api(`/api/jobs/${st.job}?since=${st.have}`);
    } catch (e) {
      status(`Lost the job: ${e.message}`, 0);
      finish("failed");
      return;
    }
    if (snap.id !== st.job) return;
    absorb(snap);
    if (snap.state === "running" || snap.state === "queued") {
      st.polling = setTimeout(poll, POLL_MS);
    } else {
      finish(snap.state, snap.error);
    }
  }

  function absorb(snap) {
    const m = st.meta;
    const got = snap.hours_done - snap.since;
    if (got > 0) {
      for (const [name, rows] of Object.entries(snap.series)) {
        st.data[name] = (st.data[name] || []).concat(rows);
      }
      st.frames = st.frames.concat(snap.frames);
      st.have = snap.hours_done;
      const vmax = st.vmax;
      for (const row of snap.series.active) {
        row.forEach((a, i) => { st.vmax = Math.max(st.vmax, a / Math.max(m.cities[i].citizens, 1)); });
      }
      if (st.vmax !== vmax) legendMap();
      const slider = $("hour");
      slider.max = st.have - 1;
      slider.disabled = false;
      if (st.follow) st.hour = st.have - 1;
      drawSeries();
      show(st.hour);
    }
    const p = snap.progress;
    const day = Math.ceil(snap.hours_done / 24), days = Math.ceil(m.hours / 24);
    let text;
    if (snap.phase === "compiling") text = "Compiling the model for this scale…";
    else if (snap.phase === "running") text = `Run (seed ${m.seed}): day ${day} of ${days}`;
    else if (snap.phase === "ensemble") text = `Ensemble: run ${p.runs_done + 1} of ${m.runs}`;
    else text = snap.phase;
    status(`${text} · ${Math.round((100 * p.done) / p.total)}% · ${snap.elapsed_s} s`, p.done / p.total);
    drawOutcomes(snap.ensemble, snap.summary);
  }

  function finish(state, error) {
    st.polling = null;
    $("run").disabled = false;
    $("cancel").disabled = true;
    $("play").disabled = !st.have;
    $("peak").disabled = !st.have;
    document.body.dataset.job = state;
    if (state === "done") status(`Done: ${st.meta.runs} run(s) of ${st.meta.name}.`, 1);
    else if (state === "cancelled") status("Cancelled.", 0);
    else {
      status("The job failed.", 0);
      if (error) say(error);
    }
  }

  async function cancel() {
    if (!st.job) return;
    try { await api(`/api/jobs/${st.job}/cancel`, { method: "POST" }); } catch (e) { say(e.message); }
  }

  // ---- the map ---------------------------------------------------------------------------------

  function rings(geo) {
    if (!geo) return [];
    const feats = geo.features || [geo];
    const out = [];
    for (const f of feats) {
      const g = f.geometry || f;
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const p of polys) for (const r of p) out.push(r);
    }
    return out;
  }

  function drawMap() {
    const svg = $("map");
    clear(svg);
    const info = st.info;
    const rs = rings(info.outline);
    const pts = rs.flat().concat(info.cities.map((c) => [c.lon, c.lat]));
    const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
    const x0 = Math.min(...lons) - 1, x1 = Math.max(...lons) + 1;
    const y0 = Math.min(...lats) - 1, y1 = Math.max(...lats) + 1;
    const squeeze = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    const W = 640, k = W / ((x1 - x0) * squeeze), H = Math.round((y1 - y0) * k);
    const px = (lon) => (lon - x0) * squeeze * k, py = (lat) => (y1 - lat) * k;
    st.proj = { px, py };
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    for (const r of rs) {
      const d = r.map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join("") + "Z";
      node("path", { d, class: "outline" }, svg);
    }
    const biggest = Math.max(...info.cities.map((c) => c.population));
    const order = info.cities.map((c, i) => i).sort((a, b) => info.cities[b].population - info.cities[a].population);
    for (const i of order) {
      const c = info.cities[i];
      const circle = node("circle", {
        cx: px(c.lon).toFixed(1), cy: py(c.lat).toFixed(1), r: (4 + 18 * Math.sqrt(c.population / biggest)).toFixed(1),
        fill: NO_DATA, "data-city": c.name,
      }, svg);
      node("title", {}, circle, c.name);
      circle.addEventListener("click", () => selectCity(c.name));
    }
    for (const i of order.slice(0, 8)) {
      const c = info.cities[i];
      node("text", { x: px(c.lon) + 7, y: py(c.lat) - 7 }, svg, c.name);
    }
    legendMap();
  }

  function legendMap() {
    const box = $("map-legend");
    clear(box);
    const bar = html("span", { className: "ramp" }, box);
    bar.style.background = `linear-gradient(to right, ${RAMP.join(",")})`;
    box.append(`share of citizens active: 0 .. ${pct(st.vmax)}`);
    const held = html("span", {}, box);
    html("i", {}, held).style.border = "2.5px solid #000";
    held.append("centre held by protesters");
    const none = html("span", {}, box);
    html("i", {}, none).style.background = NO_DATA;
    none.append("no data yet · circle area = population · click a city for its time series");
  }

  function colourMap(h) {
    const m = st.meta, d = st.data;
    const names = m ? m.cities.map((c) => c.name) : [];
    for (const circle of $("map").querySelectorAll("circle")) {
      const i = names.indexOf(circle.dataset.city);
      let fill = NO_DATA, held = false, title = circle.dataset.city;
      if (d && d.active && i >= 0 && h < d.active.length) {
        const c = m.cities[i];
        const share = d.active[h][i] / Math.max(c.citizens, 1);
        fill = ramp(share / st.vmax);
        held = d.held[h][i] > 0;
        title = `${c.name}: ${pct(share)} active (${fmt(d.active[h][i] * m.people_per_agent)} people)` +
          (held ? ", centre held" : "");
      }
      circle.setAttribute("fill", fill);
      circle.classList.toggle("held", held);
      circle.classList.toggle("selected", circle.dataset.city === st.city);
      circle.firstChild.textContent = title;
    }
  }

  function selectCity(name) {
    st.city = name;
    $("series-city").value = name || "";
    drawSeries();
    show(st.hour);
  }

  // ---- the calendar ----------------------------------------------------------------------------

  function calendarSpan() {
    const src = st.meta || st.info;
    return [parseStamp(src.start), parseStamp(src.end)];
  }

  function drawCalendar() {
    const svg = $("calendar");
    clear(svg);
    const events = (st.meta || st.info).events;
    const [t0, t1] = calendarSpan();
    const L = 240, W = 1000, R = 10, rowH = 15, top = 16;
    const H = top + rowH * events.length + 6;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const x = (t) => L + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (W - L - R);
    for (let t = t0; t <= t1; t += 24 * HOUR) {
      node("line", { x1: x(t), x2: x(t), y1: top - 4, y2: H, class: "axis" }, svg);
      if (t < t1) node("text", { x: x(t) + 2, y: 10 }, svg, label(t, false));
    }
    events.forEach((e, i) => {
      const y = top + i * rowH;
      const off = e.enabled === false;
      node("text", { x: L - 6, y: y + 10, "text-anchor": "end", "fill-opacity": off ? 0.5 : 1 }, svg,
        `${e.id} (${e.kind}${off ? ", off" : ""})`);
      if (e.start === null) {
        node("text", { x: L + 4, y: y + 10 }, svg, "when triggered");
        return;
      }
      const s = parseStamp(e.start);
      const end = e.end ? parseStamp(e.end) : e.hours ? s + e.hours * HOUR : t1;
      const w = Math.max(x(end) - x(s), 3);
      const bar = node("rect", {
        x: x(s), y: y + 2, width: w, height: rowH - 4, rx: 2, fill: KIND_COLOURS[e.kind] || "#888",
        "fill-opacity": off ? 0.12 : e.kind === "blackout" ? 0.35 + 0.6 * e.value : 0.85,
      }, svg);
      if (off) bar.setAttribute("stroke", KIND_COLOURS[e.kind] || "#888");
      const cities = e.cities === "all" ? "all cities" : e.cities.join(", ");
      node("title", {}, bar, `${e.id}: ${label(s)} → ${e.end || e.hours ? label(end) : "the end"} · ${cities}` +
        (e.count ? ` · ${fmt(e.count)}` : "") + (off ? " · switched off" : "") + (e.note ? `\n${e.note}` : ""));
    });
    node("line", { id: "calendar-now", x1: L, x2: L, y1: top - 4, y2: H, class: "now" }, svg);
    st.calendarX = x;
  }

  // ---- the time series -------------------------------------------------------------------------

  function seriesOf(name) {
    const d = st.data, m = st.meta;
    if (!d || !d[name]) return [];
    const i = st.city ? m.cities.findIndex((c) => c.name === st.city) : -1;
    return d[name].map((row) => (i >= 0 ? row[i] : row.reduce((a, b) => a + b, 0)));
  }

  function drawSeries() {
    const svg = $("series");
    clear(svg);
    const W = 640, H = 260, L = 56, R = 10, T = 10, B = 24;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const m = st.meta;
    const [t0, t1] = calendarSpan();
    const hours = Math.round((t1 - t0) / HOUR);
    const x = (h) => L + ((h + 1) / hours) * (W - L - R);
    const people = (name) => {
      if (!m) return 1;
      return name === "police" || name === "troops" ? m.officers_per_agent : m.people_per_agent;
    };
    const lines = LINES.map(([name, colour, dash]) => {
      const per = people(name);
      return [name, colour, dash, seriesOf(name).map((v) => v * per)];
    });
    const top = nice(Math.max(1, ...lines.flatMap((l) => l[3])));
    const y = (v) => T + (1 - v / top) * (H - T - B);
    // held centre and blackout, under the lines
    const held = seriesOf("held"), black = seriesOf("blackout");
    const cityCount = st.city ? 1 : (m ? m.cities.length : 1);
    held.forEach((v, h) => {
      if (v > 0) {
        node("rect", {
          x: x(h - 1), y: T, width: x(h) - x(h - 1), height: H - T - B, fill: "#f6c6c0",
          "fill-opacity": Math.min(1, v / cityCount),
        }, svg);
      }
    });
    black.forEach((v, h) => {
      if (v > 0) {
        node("rect", {
          x: x(h - 1), y: H - B - 5, width: x(h) - x(h - 1), height: 5, fill: "#6b6b6b",
          "fill-opacity": Math.min(1, v / cityCount),
        }, svg);
      }
    });
    const every = hours > 12 * 24 ? 2 : 1;
    for (let t = t0, n = 0; t <= t1; t += 24 * HOUR, n++) {
      const h = Math.round((t - t0) / HOUR) - 1;
      node("line", { x1: x(h), x2: x(h), y1: T, y2: H - B, class: "axis" }, svg);
      if (t < t1 && n % every === 0) node("text", { x: x(h) + 2, y: H - 8 }, svg, label(t, false));
    }
    for (let k = 0; k <= 4; k++) {
      const v = (top * k) / 4;
      node("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "axis" }, svg);
      node("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, svg, fmt(v));
    }
    let points = 0;
    for (const [name, colour, dash, values] of lines) {
      if (!values.length) continue;
      const pts = values.map((v, h) => `${x(h).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      node("polyline", {
        points: pts, fill: "none", stroke: colour, "stroke-width": name === "active" ? 1.6 : 1.1,
        "stroke-dasharray": dash, "data-series": name, "data-points": values.length,
      }, svg);
      points += values.length;
    }
    svg.dataset.points = points;
    node("line", { id: "series-now", x1: L, x2: L, y1: T, y2: H - B, class: "now" }, svg);
    st.seriesX = x;
    const box = $("series-legend");
    clear(box);
    box.append(`${st.city || "all cities"} · people (police and troops: officers) · `);
    for (const [name, colour] of LINES) {
      const s = html("span", {}, box);
      html("i", {}, s).style.background = colour;
      s.append(name);
    }
    const h1 = html("span", {}, box);
    html("i", {}, h1).style.background = "#f6c6c0";
    h1.append(st.city ? "centre held" : "centres held (shade: share of cities)");
    const b1 = html("span", {}, box);
    html("i", {}, b1).style.background = "#6b6b6b";
    b1.append("blackout (strip)");
  }

  // ---- the grid --------------------------------------------------------------------------------

  function drawGrid(h) {
    const canvas = $("grid");
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#f0f0f0";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const legend = $("grid-legend");
    if (!legend.firstChild) {
      for (const [name, colour] of KINDS.slice(0, 4)) {
        const s = html("span", {}, legend);
        html("i", {}, s).style.background = colour;
        s.append(name);
      }
    }
    const m = st.meta;
    if (!m || h === undefined || h >= st.frames.length) {
      $("grid-counts").textContent = m ? "" : "The grid of the chosen city appears as the run goes.";
      return;
    }
    const { height, width } = m.grid;
    const frame = st.frames[h];
    const cell = Math.max(1, Math.floor(Math.min(canvas.width / width, canvas.height / height)));
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        ctx.fillStyle = (KINDS[+frame[r * width + c]] || KINDS[0])[1];
        ctx.fillRect(c * cell, r * cell, cell - (cell > 3 ? 0.5 : 0), cell - (cell > 3 ? 0.5 : 0));
      }
    }
    const i = m.cities.findIndex((c) => c.name === m.watch);
    const d = st.data, per = m.people_per_agent;
    const at = (name) => d[name][h][i];
    $("grid-counts").textContent =
      `${height}×${width} cells, one citizen agent per ${fmt(per)} residents. Agents: ` +
      `quiet ${fmt(at("quiet"))}, active ${fmt(at("active"))}; officers ${fmt(at("police") + at("troops"))}` +
      ` (police ${fmt(at("police"))}, troops ${fmt(at("troops"))}: not told apart on the grid). ` +
      `Jailed, off the grid: ${fmt(at("jailed"))} (${fmt(at("jailed") * per)} people); ` +
      `dead: ${fmt(at("dead"))}.`;
  }

  // ---- outcomes --------------------------------------------------------------------------------

  function drawOutcomes(ens, summary) {
    const box = $("outcomes");
    if (!ens) {
      $("ensemble-runs").textContent = "";
      clear($("summary"));
      if (st.meta) {
        clear(box);
        html("p", { className: "help", textContent: "Waiting for the first run…" }, box);
      }
      return;
    }
    clear(box);
    $("ensemble-runs").textContent = `${ens.runs} of ${st.meta.runs} run(s), 95% intervals`;
    for (const [name, v] of Object.entries(ens.probabilities)) {
      const row = html("div", { className: "outcome" }, box);
      row.dataset.outcome = name;
      html("span", { textContent: OUTCOME_LABELS[name] || name }, row);
      const bar = html("div", { className: "bar" }, row);
      html("div", { className: "p" }, bar).style.width = pct(v.p);
      const ci = html("div", { className: "ci" }, bar);
      ci.style.left = pct(v.low);
      ci.style.width = pct(Math.max(v.high - v.low, 0.005));
      html("span", { textContent: `${pct(v.p)} (${pct(v.low)}–${pct(v.high)})` }, row);
    }
    const dl = $("summary");
    clear(dl);
    if (summary) {
      const rows = [
        ["shown run", `seed ${summary.seed}: ${OUTCOME_LABELS[summary.outcome] || summary.outcome}`],
        ["peak active", `${fmt(summary.peak_active)} (${summary.peak_time.replace("T", " ")})`],
        ["detentions", fmt(summary.detentions)], ["deaths", fmt(summary.deaths)],
        ["first city", summary.first_city || "none"], ["cities risen", `${summary.cities_risen}`],
        ["centres held", summary.centres_held.join(", ") || "none"],
      ];
      for (const [k, v] of rows) {
        html("dt", { textContent: k }, dl);
        html("dd", { textContent: v }, dl);
      }
    }
  }

  // ---- time ------------------------------------------------------------------------------------

  function show(h) {
    if (!st.meta || !st.have) {
      colourMap(0);
      return;
    }
    h = Math.max(0, Math.min(h, st.have - 1));
    st.hour = h;
    $("hour").value = h;
    const [t0] = calendarSpan();
    const when = label(t0 + (h + 1) * HOUR);
    $("hour-label").textContent = when;
    $("clock").textContent = `· ${when}`;
    colourMap(h);
    drawGrid(h);
    const cx = st.calendarX(t0 + (h + 1) * HOUR);
    for (const id of ["calendar-now"]) {
      const l = $(id);
      if (l) { l.setAttribute("x1", cx); l.setAttribute("x2", cx); }
    }
    const sl = $("series-now");
    if (sl) { sl.setAttribute("x1", st.seriesX(h)); sl.setAttribute("x2", st.seriesX(h)); }
  }

  function peak() {
    stopPlaying();
    const national = (st.data.active || []).map((row) => row.reduce((a, b) => a + b, 0));
    const h = national.indexOf(Math.max(...national));
    st.follow = h >= st.have - 1;
    show(h);
  }

  function stopPlaying() {
    if (st.playing) clearInterval(st.playing);
    st.playing = null;
    $("play").textContent = "▶";
  }

  function togglePlay() {
    if (st.playing) { stopPlaying(); return; }
    if (st.hour >= st.have - 1) st.hour = 0;
    $("play").textContent = "❚❚";
    st.playing = setInterval(() => {
      if (st.hour >= st.have - 1) { stopPlaying(); return; }
      show(st.hour + 2);
    }, 50);
  }

  // ---- wiring ----------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("form").addEventListener("submit", run);
    $("cancel").addEventListener("click", cancel);
    $("reset").addEventListener("click", resetLevers);
    $("scenario").addEventListener("change", () => chooseScenario().catch((e) => say(e.message)));
    $("variant").addEventListener("change", () => chooseVariant().catch((e) => say(e.message)));
    $("series-city").addEventListener("change", (e) => selectCity(e.target.value || null));
    $("play").addEventListener("click", togglePlay);
    $("peak").addEventListener("click", peak);
    $("hour").addEventListener("input", (e) => {
      stopPlaying();
      const h = Number(e.target.value);
      st.follow = h >= st.have - 1;
      show(h);
    });
    start().catch((e) => { status("Could not load the scenarios.", 0); say(e.message); });
  });
})();
