// The operator's dashboard: a page per hash route, each drawn from the JSON
// API with the admin key the operator logged in with (kept in this tab's
// sessionStorage only). Text from the API is always set as text, never as
// HTML, so a demand cannot inject markup.
"use strict";

const KEY = "wantloop.key";
const main = document.getElementById("main");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "on") for (const [event, fn] of Object.entries(v)) node.addEventListener(event, fn);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.classList.add("shown");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("shown"), 3000);
}

class ApiError extends Error {}

async function api(method, path, body, headers) {
  const h = { Authorization: "Bearer " + sessionStorage.getItem(KEY), ...(headers || {}) };
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401) {
    logout();
    throw new ApiError("the key is no longer valid");
  }
  if (!r.ok) throw new ApiError((data && data.detail) || r.statusText);
  return data;
}

/** Polls a job until it ends; its result, or an error with its problem. */
async function awaitJob(job) {
  while (job.status === "running") {
    await new Promise((ok) => setTimeout(ok, 300));
    job = await api("GET", `/v1/jobs/${job.id}`);
  }
  if (job.status !== "succeeded") throw new ApiError((job.error && job.error.detail) || "the job failed");
  return job.result;
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "";
}

function money(minor) {
  return minor === null || minor === undefined ? "" : (minor / 100).toFixed(2);
}

function logout() {
  sessionStorage.removeItem(KEY);
  location.hash = "#/login";
}

// --- pages ------------------------------------------------------------------

async function loginPage() {
  const key = el("input", { id: "key", type: "password", autocomplete: "off", placeholder: "wlk_…" });
  const error = el("p", { class: "error", id: "login-error" });
  const submit = async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, key.value.trim());
    try {
      const me = await api("GET", "/v1/me");
      if (me.role !== "admin") {
        sessionStorage.removeItem(KEY);
        error.textContent = `This is a ${me.role} key; the dashboard needs an admin key.`;
        return;
      }
      location.hash = "#/";
    } catch (err) {
      sessionStorage.removeItem(KEY);
      error.textContent = "That key is not valid.";
    }
  };
  return el(
    "form",
    { class: "login", on: { submit } },
    el("h1", {}, "Log in"),
    el("p", { class: "muted" }, "An admin API key (wantloop keys create --role admin)."),
    key,
    el("button", { id: "login", class: "primary", type: "submit" }, "Log in"),
    error,
  );
}

function countCard(title, prefix, counts) {
  const rows = Object.entries(counts || {});
  const total = rows.reduce((n, [, v]) => n + v, 0);
  return el(
    "div",
    { class: "card" },
    el("h3", {}, title),
    el(
      "dl",
      {},
      rows.map(([state, n]) => [el("dt", {}, state), el("dd", { "data-stat": `${prefix}.${state}` }, String(n))]),
      el("dt", {}, "total"),
      el("dd", { "data-stat": `${prefix}.total` }, String(total)),
    ),
  );
}

async function overviewPage() {
  const stats = await api("GET", "/v1/stats");
  const s = stats;
  const range = el(
    "select",
    { id: "chart-range" },
    el("option", { value: "24" }, "last 24 hours"),
    el("option", { value: "168", selected: true }, "last 7 days"),
    el("option", { value: "720" }, "last 30 days"),
  );
  const chart = el("div", { id: "matches-chart" });
  const draw = async () => {
    const hours = Number(range.value);
    const t = await api("GET", `/v1/stats/matches?hours=${hours}&buckets=${hours <= 24 ? 24 : 42}`);
    const xs = t.series.proposed.map((_, i) => (t.since + i * t.bucket_ms) / 1000);
    chart.replaceChildren();
    const opts = {
      width: Math.min(main.clientWidth - 24, 1150),
      height: 260,
      series: [
        {},
        { label: "proposed", stroke: "#2f6fdf" },
        { label: "accepted", stroke: "#e38a1b" },
        { label: "fulfilled", stroke: "#1e8e4e" },
      ],
    };
    new uPlot(opts, [xs, t.series.proposed, t.series.accepted, t.series.fulfilled], chart);
  };
  range.addEventListener("change", draw);
  const page = el(
    "section",
    {},
    el("h1", {}, "Overview"),
    el(
      "div",
      { class: "cards" },
      countCard("Demands", "demands", s.demands),
      countCard("Offers", "offers", s.offers),
      countCard("Matches", "matches", s.matches),
      el(
        "div",
        { class: "card" },
        el("h3", {}, "Loop"),
        el(
          "dl",
          {},
          el("dt", {}, "relisted offers"),
          el("dd", { "data-stat": "relisted_offers" }, String(s.relisted_offers)),
          el("dt", {}, "events"),
          el("dd", { "data-stat": "events" }, String(s.events)),
          el("dt", {}, "indexed documents"),
          el("dd", {}, String(stats.search ? stats.search.documents : "")),
        ),
      ),
    ),
    el("div", { class: "chart" }, el("h2", {}, "Matches over time ", range), chart),
  );
  setTimeout(draw);
  return page;
}

/** The demands or offers list, with filters and full-text search. */
function listPage(kind) {
  const party = kind === "demands" ? "requester" : "provider";
  const statuses =
    kind === "demands" ? ["", "open", "matched", "fulfilled", "cancelled", "expired"] : ["", "available", "exhausted", "withdrawn"];
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const form = el(
    "form",
    { class: "filters", id: `${kind}-filters` },
    el("label", {}, "search", el("input", { name: "q", value: params.get("q") || "", placeholder: "自行车, bike…" })),
    el("label", {}, "status", el("select", { name: "status" }, statuses.map((s) => el("option", { value: s, selected: s === (params.get("status") || "") }, s || "any")))),
    el("label", {}, "category", el("input", { name: "category", value: params.get("category") || "" })),
    el("label", {}, `${party} (lists only)`, el("input", { name: party, value: params.get(party) || "" })),
    el("button", { class: "primary", type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/${kind}?${q}`;
  });
  const body = el("tbody", { id: `${kind}-rows` });
  const more = el("button", { type: "button", hidden: true }, "More");
  const note = el("p", { class: "muted" });
  let cursor = null;
  const row = (x) =>
    kind === "demands"
      ? el("tr", {}, el("td", {}, el("a", { href: `#/demands/${x.id}` }, String(x.id))), el("td", {}, x.requester), el("td", {}, x.text), el("td", {}, x.category), el("td", {}, x.status), el("td", { class: "num" }, money(x.budget)), el("td", { class: "num" }, `${x.matched_units + x.fulfilled_units}/${x.quantity}`))
      : el("tr", {}, el("td", {}, String(x.id)), el("td", {}, x.provider), el("td", {}, x.text), el("td", {}, x.category), el("td", {}, x.status), el("td", { class: "num" }, money(x.price)), el("td", { class: "num" }, `${x.reserved + x.consumed}/${x.capacity}`));
  let loading = false;
  const load = async () => {
    if (loading) return;
    loading = true;
    more.disabled = true;
    try {
      await loadPage();
    } finally {
      loading = false;
      more.disabled = false;
    }
  };
  const loadPage = async () => {
    const q = params.get("q");
    if (q) {
      const sq = new URLSearchParams({ q, kind: kind.slice(0, -1), limit: "50" });
      for (const k of ["status", "category"]) if (params.get(k)) sq.set(k, params.get(k));
      if (cursor) sq.set("cursor", cursor);
      const found = await api("GET", `/v1/search?${sq}`);
      note.textContent = `${found.total} found`;
      const ids = found.hits.map((h) => h.id);
      const rows = await Promise.all(ids.map((id) => api("GET", `/v1/${kind}/${id}`)));
      body.append(...rows.map(row));
      cursor = found.next_cursor;
    } else {
      const lq = new URLSearchParams({ limit: "50" });
      for (const k of ["status", "category", party]) if (params.get(k)) lq.set(k, params.get(k));
      if (cursor) lq.set("cursor", cursor);
      const page = await api("GET", `/v1/${kind}?${lq}`);
      body.append(...page.items.map(row));
      cursor = page.next_cursor;
    }
    more.hidden = !cursor;
  };
  more.addEventListener("click", load);
  const heads = ["id", party, "text", "category", "status", kind === "demands" ? "budget" : "price", kind === "demands" ? "matched/qty" : "used/cap"];
  setTimeout(load);
  return el(
    "section",
    {},
    el("h1", {}, kind === "demands" ? "Demands" : "Offers"),
    form,
    note,
    el("table", {}, el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))), body),
    more,
  );
}

function features(f) {
  const pct = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));
  return el(
    "span",
    { class: "features" },
    el("span", {}, `text ${pct(f.text)}`),
    el("span", {}, `price ${pct(f.price)}`),
    el("span", {}, `distance ${pct(f.distance)}${f.distance_km === null || f.distance_km === undefined ? "" : ` (${f.distance_km.toFixed(1)} km)`}`),
    el("span", {}, `freshness ${pct(f.freshness)}`),
  );
}

/** A score taken apart: what each feature added (largest first), the bias,
 * and who scored — they add up to the score. Raw feature values on hover. */
function explanation(f) {
  const e = f.explanation;
  if (!e) return features(f);
  const signed = (v) => (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(3);
  const raw = (k) => (f[k] === null || f[k] === undefined ? "" : `${k} = ${f[k].toFixed(3)}${k === "distance" && f.distance_km != null ? ` (${f.distance_km.toFixed(1)} km)` : ""}`);
  const parts = Object.entries(e.contributions)
    .filter(([, v]) => v !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  return el(
    "span",
    { class: "features explanation", "data-bias": String(e.bias) },
    parts.map(([k, v]) => el("span", { "data-contribution": k, "data-value": String(v), title: raw(k) }, `${k} ${signed(v)}`)),
    e.bias !== 0 ? el("span", { class: "muted" }, `bias ${signed(e.bias)}`) : "",
    el("span", { class: "muted scorer" }, e.model_id === null ? "v1 weights" : `ranker model ${e.model_id}`),
  );
}

async function demandPage(id) {
  const d = await api("GET", `/v1/demands/${id}`);
  const candidates = el("tbody", { id: "candidates" });
  const matches = el("tbody", { id: "demand-matches" });
  const result = el("p", { id: "match-result", class: "muted" });
  const loadCandidates = async () => {
    const found = await api("GET", `/v1/demands/${id}/candidates?limit=10`);
    candidates.replaceChildren(
      ...found.map((c) =>
        el("tr", {}, el("td", {}, String(c.offer.id)), el("td", {}, c.offer.text), el("td", {}, c.offer.provider), el("td", { class: "num" }, money(c.offer.price)), el("td", { class: "num", "data-score": String(c.score) }, c.score.toFixed(3)), el("td", {}, explanation(c.features))),
      ),
    );
    if (!found.length) candidates.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "no feasible offer")));
  };
  const loadMatches = async () => {
    const page = await api("GET", `/v1/matches?demand_id=${id}&limit=100`);
    matches.replaceChildren(
      ...page.items.map((m) =>
        el("tr", {}, el("td", {}, String(m.id)), el("td", {}, String(m.offer_id)), el("td", {}, m.status), el("td", { class: "num" }, String(m.units)), el("td", { class: "num", "data-score": String(m.score) }, m.score.toFixed(3)), el("td", {}, explanation(m.features))),
      ),
    );
  };
  const matchNow = el("button", { id: "match-now", class: "primary", type: "button" }, "Match now");
  matchNow.addEventListener("click", async () => {
    matchNow.disabled = true;
    try {
      const p = await api("POST", `/v1/demands/${id}/match`);
      result.textContent = `${p.matches.length} match(es) proposed, ${p.skipped.length} skipped`;
      await Promise.all([loadCandidates(), loadMatches()]);
    } catch (err) {
      result.textContent = err.message;
    } finally {
      matchNow.disabled = false;
    }
  });
  setTimeout(() => Promise.all([loadCandidates(), loadMatches()]));
  const field = (k, v) => [el("dt", {}, k), el("dd", {}, v ?? "")];
  return el(
    "section",
    {},
    el("h1", {}, `Demand ${d.id}`),
    el("div", { class: "card" }, el("dl", {}, field("requester", d.requester), field("text", d.text), field("category", `${d.category} (${d.category_source}, ${(d.category_confidence * 100).toFixed(0)}%)`), field("status", d.status), field("priority", d.priority), field("budget", money(d.budget)), field("quantity", `${d.quantity}: ${d.matched_units} matched, ${d.fulfilled_units} fulfilled`), field("posted", when(d.created_at)))),
    el("h2", {}, "Candidates ", matchNow),
    result,
    el("table", {}, el("thead", {}, el("tr", {}, ["offer", "text", "provider", "price", "score", "why: what each feature added"].map((h) => el("th", {}, h)))), candidates),
    el("h2", {}, "Matches"),
    el("table", {}, el("thead", {}, el("tr", {}, ["match", "offer", "status", "units", "score", "why"].map((h) => el("th", {}, h)))), matches),
  );
}

async function reviewPage() {
  const page = await api("GET", "/v1/review/demands?limit=50");
  const body = el("tbody", { id: "review-rows" });
  const row = async (d) => {
    const suggested = await api("POST", "/v1/classify", { text: d.text });
    const choices = [...new Set([...(suggested.top || []).map((t) => t.category), suggested.category, d.category])];
    const tr = el("tr", { "data-demand": String(d.id) });
    const label = async (category) => {
      await api("POST", `/v1/review/demands/${d.id}`, { category });
      tr.remove();
      toast(`demand ${d.id} labelled ${category}`);
    };
    const other = el("input", { placeholder: "other category", size: 14 });
    other.addEventListener("keydown", (e) => e.key === "Enter" && other.value && label(other.value));
    tr.append(
      el("td", {}, el("a", { href: `#/demands/${d.id}` }, String(d.id))),
      el("td", {}, d.text),
      el("td", {}, `${d.category} (${(d.category_confidence * 100).toFixed(0)}%)`),
      el("td", {}, choices.map((c) => el("button", { class: "label", type: "button", "data-category": c, on: { click: () => label(c) } }, c)), other),
    );
    return tr;
  };
  body.append(...(await Promise.all(page.items.map(row))));
  return el(
    "section",
    {},
    el("h1", {}, "Review queue"),
    el("p", { class: "muted" }, "Demands the classifier was unsure about. One click labels a demand; the label becomes a training example."),
    el("table", {}, el("thead", {}, el("tr", {}, ["id", "text", "classified as", "label"].map((h) => el("th", {}, h)))), body),
    page.items.length ? "" : el("p", { id: "review-empty" }, "The queue is empty."),
  );
}

async function questionsPage() {
  const query = new URLSearchParams(location.hash.split("?")[1] || "");
  const resolved = query.get("resolved") === "true";
  const cursor = query.get("cursor");
  const page = await api("GET", `/v1/ask/questions?limit=50${resolved ? "&resolved=true" : ""}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  const addPhrasing = el("input", { id: "add-phrasing", type: "checkbox", checked: true });
  const body = el("tbody", { id: "question-rows" });
  const row = async (q) => {
    const closest = await api("POST", "/v1/faq/closest", { question: q.question, lang: q.lang });
    const tr = el("tr", { "data-question": String(q.id) });
    const chosen = el("td", { class: "chosen" }, q.chosen_entry === null ? "none" : String(q.chosen_entry));
    const answer = async (entry) => {
      try {
        const r = await api("POST", `/v1/ask/questions/${q.id}`, { entry, add_phrasing: addPhrasing.checked });
        if (resolved) chosen.textContent = r.chosen_entry === null ? "none" : String(r.chosen_entry);
        else tr.remove();
        toast(entry === null ? `question ${q.id}: no entry answers it` : `question ${q.id} answered with entry ${entry}${r.phrasing_added ? "; now one of its phrasings" : ""}`);
      } catch (err) {
        toast(err.message);
      }
    };
    const other = el("input", { class: "entry-id", placeholder: "entry id", size: 8, inputmode: "numeric" });
    other.addEventListener("keydown", (e) => e.key === "Enter" && /^\d+$/.test(other.value) && answer(Number(other.value)));
    const choice = (s) =>
      el("button", { class: "label", type: "button", "data-entry": String(s.entry), title: s.question, on: { click: () => answer(s.entry) } }, `${s.key} (${(s.confidence * 100).toFixed(0)}%)`);
    tr.append(
      el("td", {}, q.question),
      el("td", {}, q.lang),
      el("td", {}, `${q.outcome.replace("_", " ")} (${(q.confidence * 100).toFixed(0)}%)`),
      el("td", {}, when(q.created_at)),
      resolved ? chosen : "",
      el("td", {}, closest.slice(0, 5).map(choice), other, el("button", { class: "none", type: "button", on: { click: () => answer(null) } }, "none answers it")),
    );
    return tr;
  };
  body.append(...(await Promise.all(page.items.map(row))));
  const heads = ["question", "lang", "kept as", "asked", ...(resolved ? ["answered with"] : []), "answer with entry"];
  return el(
    "section",
    {},
    el("h1", {}, "Questions"),
    el(
      "p",
      { class: "muted" },
      "Questions the assistant refused or was unsure of. Pick the entry that answers one (its closest entries, with their confidence; hover for the phrasing matched), or type an entry id, or say that none answers it (refusing was right); each answer is labelled data for the paraphrase scorer. ",
      resolved ? el("a", { href: "#/questions" }, "Open questions") : el("a", { href: "#/questions?resolved=true", id: "show-answered" }, "Answered questions"),
    ),
    el("label", { class: "inline" }, addPhrasing, "also add the question to the entry's phrasings, so it is answered next time"),
    el("table", {}, el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))), body),
    page.items.length ? "" : el("p", { id: "questions-empty" }, resolved ? "No question has been answered yet." : "No question is waiting."),
    page.next_cursor ? el("p", {}, el("a", { id: "questions-next", href: `#/questions?${resolved ? "resolved=true&" : ""}cursor=${encodeURIComponent(page.next_cursor)}` }, "next 50")) : "",
  );
}

async function modelsPage() {
  const models = await api("GET", "/v1/models");
  const status = el("p", { id: "models-status", class: "muted" });
  const activeVersion = {};
  for (const m of models) if (m.active) activeVersion[m.kind] = m.version;
  const activate = async (m) => {
    await api("POST", `/v1/models/${m.id}/activate`);
    toast(`${m.kind} v${m.version} is active`);
    render();
  };
  const retrain = async (kind) => {
    status.textContent = `retraining the ${kind}…`;
    try {
      const job = await api("POST", `/v1/models/retrain?kind=${kind}`, undefined, { Prefer: "respond-async" });
      const r = await awaitJob(job);
      status.textContent = `${kind}: ${JSON.stringify(r)}`;
      render();
    } catch (err) {
      status.textContent = err.message;
    }
  };
  const rows = models
    .slice()
    .reverse()
    .map((m) => {
      const action = m.active
        ? el("span", { class: "active-mark" }, "active")
        : el("button", { type: "button", "data-model": String(m.id), on: { click: () => activate(m) } }, m.version < (activeVersion[m.kind] || 0) ? "Roll back to" : "Activate");
      return el("tr", { "data-model-row": String(m.id) }, el("td", {}, m.kind), el("td", {}, `v${m.version}`), el("td", {}, when(m.created_at)), el("td", {}, JSON.stringify(m.metrics)), el("td", {}, m.activated_by || ""), el("td", {}, action));
    });
  return el(
    "section",
    {},
    el("h1", {}, "Models"),
    el("p", {}, ["classifier", "recommender", "ranker", "paraphrase"].map((kind) => [el("button", { type: "button", "data-retrain": kind, on: { click: () => retrain(kind) } }, `Retrain ${kind}`), " "])),
    status,
    el("table", {}, el("thead", {}, el("tr", {}, ["kind", "version", "trained", "metrics", "activated by", ""].map((h) => el("th", {}, h)))), el("tbody", { id: "model-rows" }, rows)),
  );
}

async function allocatePage() {
  const mode = el("select", { id: "allocation-mode" }, el("option", { value: "optimal" }, "optimal (exact)"), el("option", { value: "greedy" }, "greedy"));
  const dry = el("input", { id: "allocation-dry-run", type: "checkbox" });
  const report = el("div", { id: "allocation-report" });
  const run = el("button", { id: "run-allocation", class: "primary", type: "button" }, "Run allocation");
  run.addEventListener("click", async () => {
    run.disabled = true;
    report.replaceChildren(el("p", { class: "muted" }, "running…"));
    try {
      const job = await api("POST", "/v1/allocate", { mode: mode.value, dry_run: dry.checked }, { Prefer: "respond-async" });
      const r = await awaitJob(job);
      const line = (k, v) => [el("dt", {}, k), el("dd", { "data-report": k }, String(v))];
      report.replaceChildren(
        el(
          "div",
          { class: "card" },
          el("h3", {}, `${r.mode}${r.dry_run ? " (dry run)" : ""}`),
          el("dl", {}, line("demands", r.demands), line("offers", r.offers), line("feasible pairs", r.edges), line("planned units", r.planned_units), line("objective", r.objective.toFixed(2)), line("proposed matches", r.proposed_matches), line("proposed units", r.proposed_units), line("skipped", r.skipped), line("seconds", r.total_seconds.toFixed(3))),
        ),
      );
    } catch (err) {
      report.replaceChildren(el("p", { class: "error" }, err.message));
    } finally {
      run.disabled = false;
    }
  });
  return el(
    "section",
    {},
    el("h1", {}, "Batch allocation"),
    el("p", { class: "muted" }, "Assigns supply over all open demands under budget, distance and capacity, and proposes the result."),
    el("form", { class: "filters" }, el("label", {}, "mode", mode), el("label", {}, "dry run", dry), run),
    report,
  );
}

// --- routing ----------------------------------------------------------------

async function render() {
  const hash = location.hash || "#/";
  const path = hash.slice(1).split("?")[0];
  const loggedIn = !!sessionStorage.getItem(KEY);
  if (!loggedIn && path !== "/login") {
    location.hash = "#/login";
    return;
  }
  document.getElementById("nav").hidden = !loggedIn || path === "/login";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("current", a.getAttribute("href") === `#${path}`);
  const demand = path.match(/^\/demands\/(\d+)$/);
  try {
    const page =
      path === "/login" ? await loginPage()
      : path === "/" ? await overviewPage()
      : path === "/demands" ? listPage("demands")
      : path === "/offers" ? listPage("offers")
      : demand ? await demandPage(demand[1])
      : path === "/review" ? await reviewPage()
      : path === "/questions" ? await questionsPage()
      : path === "/models" ? await modelsPage()
      : path === "/allocate" ? await allocatePage()
      : el("p", {}, "No such page.");
    main.replaceChildren(page);
  } catch (err) {
    main.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

document.getElementById("logout").addEventListener("click", logout);
window.addEventListener("hashchange", render);
render();
