// careflow console: live countdowns, the queue's short poll and keys, the composer's preview.
// Hand-written, no library: the pages work without it, this only makes them live.
"use strict";

(function () {
  const STATES = ["on-track", "warning", "internal-missed", "published-missed", "unknown"];

  function span(ms) {
    let s = Math.max(0, Math.round(Math.abs(ms) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + String(m).padStart(2, "0") + "m";
    return m + "m " + String(s).padStart(2, "0") + "s";
  }

  function when(value) { return value ? Date.parse(value) : NaN; }

  // Each <time class="due">: the state now and the time left to the next deadline.
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.due").forEach(function (el) {
      const warning = when(el.dataset.warning), internal = when(el.dataset.internal);
      const published = when(el.dataset.published);
      let state = "on-track";
      if (now >= published || el.dataset.state === "published-missed") state = "published-missed";
      else if (now >= internal || el.dataset.state === "internal-missed") state = "internal-missed";
      else if (now >= warning || el.dataset.state === "warning") state = "warning";
      let text;
      if (now < internal) text = "internal target in " + span(internal - now);
      else if (now < published) text = "published window in " + span(published - now);
      else text = "published window missed " + span(now - published) + " ago";
      STATES.forEach(function (s) { el.classList.toggle(s, s === state); });
      el.textContent = text;
      el.title = state.replace("-", " ");
    });
    // A proactive draft's time left before it expires.
    document.querySelectorAll("time.expires").forEach(function (el) {
      const at = when(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      el.textContent = now < at ? "expires in " + span(at - now) : "expiring now";
    });
  }

  // The queue: j/k move the selection, Enter opens it; a poll swaps in the fresh rows.
  const queue = document.getElementById("queue");
  let selected = null;

  function rows() { return Array.from(document.querySelectorAll("#queue tr.row")); }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selected = row.dataset.id;
    row.scrollIntoView({ block: "nearest" });
  }

  if (queue) {
    document.addEventListener("keydown", function (event) {
      const target = event.target;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const all = rows();
      if (!all.length) return;
      const at = all.findIndex(function (r) { return r.dataset.id === selected; });
      if (event.key === "j") { select(all[Math.min(all.length - 1, at + 1)]); event.preventDefault(); }
      else if (event.key === "k") { select(all[Math.max(0, at - 1)]); event.preventDefault(); }
      else if (event.key === "Enter" && at >= 0) {
        const link = all[at].querySelector("a.open");
        if (link) { window.location.href = link.href; event.preventDefault(); }
      }
    });

    let known = new Set(rows().map(function (r) { return r.dataset.id; }));
    const poll = async function () {
      try {
        const answer = await fetch(queue.dataset.poll, {
          headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
        });
        if (answer.status === 401) { window.location.href = "/signin?next=/"; return; }
        if (answer.ok) {
          const body = await answer.json();
          queue.innerHTML = body.html;
          rows().forEach(function (r) { if (!known.has(r.dataset.id)) r.classList.add("new"); });
          known = new Set(body.ids);
          const again = rows().find(function (r) { return r.dataset.id === selected; });
          if (again) select(again);
          tick();
        }
      } catch (error) { /* the next poll tries again */ }
      setTimeout(poll, 1500);
    };
    setTimeout(poll, 1500);
  }

  // An inquiry's page: a poll swaps in its conversation, clocks, who else is here and the
  // timeline when they change (a customer's new message, a colleague's action), never the
  // composer, whose text the agent may be typing.
  const live = document.getElementById("live");
  const history = document.getElementById("history");
  if (live) {
    let shown = { live: null, history: null };  // what the last poll swapped in
    const pollInquiry = async function () {
      try {
        const answer = await fetch(live.dataset.poll, {
          headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
        });
        if (answer.status === 401) {
          window.location.href = "/signin?next=" + encodeURIComponent(window.location.pathname);
          return;
        }
        if (answer.ok) {
          const body = await answer.json();
          if (body.live !== shown.live) {
            live.innerHTML = body.live;
            tick();
          }
          if (history && body.history !== shown.history) history.innerHTML = body.history;
          shown = body;
        }
      } catch (error) { /* the next poll tries again */ }
      setTimeout(pollInquiry, 2000);
    };
    setTimeout(pollInquiry, 2000);
  }

  // The composer: a template fills the text; every change asks the server for the preview.
  const composer = document.getElementById("composer");
  if (composer) {
    const text = document.getElementById("reply-text");
    const template = document.getElementById("template");
    const privately = document.getElementById("private");
    const box = document.getElementById("preview");
    let sensitive = [];
    let warned = false;
    let timer = null;

    const show = function (p) {
      box.hidden = false;
      box.querySelector(".shape").textContent = p.problem
        ? p.problem
        : "Will be sent as " + p.shape + (p.limit ? " (" + p.length + " of " + p.limit + " characters as X counts)" : "") +
          (p.too_long ? ": more than the " + p.max_parts + " posts the rules allow" : "");
      const parts = box.querySelector(".parts");
      parts.innerHTML = "";
      p.parts.forEach(function (part) {
        const li = document.createElement("li");
        li.textContent = part;
        parts.appendChild(li);
      });
      sensitive = p.sensitive;
      const warning = box.querySelector(".warning");
      warning.hidden = !sensitive.length;
      warning.textContent = sensitive.length
        ? "This public reply contains personal data (" + sensitive.join(", ").replace(/_/g, " ") +
          "). Tick Private, or press Send again to post it publicly anyway."
        : "";
    };

    const ask = async function (withTemplate) {
      const params = new URLSearchParams({ id: composer.dataset.id, text: text.value });
      if (privately.checked) params.set("private", "1");
      if (withTemplate && template.value) params.set("template", template.value);
      const answer = await fetch("/console/preview?" + params.toString(), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!answer.ok) return;
      const p = await answer.json();
      if (withTemplate && template.value && !p.problem) text.value = p.text;
      show(p);
    };

    const later = function () { warned = false; clearTimeout(timer); timer = setTimeout(function () { ask(false); }, 200); };
    template.addEventListener("change", function () { warned = false; ask(true); });
    text.addEventListener("input", later);
    privately.addEventListener("change", later);
    composer.addEventListener("submit", function (event) {
      if (sensitive.length && !privately.checked && !warned) {
        warned = true;
        event.preventDefault();
        box.querySelector(".warning").focus();
      }
    });
  }

  tick();
  setInterval(tick, 1000);
})();
