"""The explorer page: inline CSS, SVG and JavaScript, so it opens with no network.

`__SVG__` is replaced by the drawing and `__DATA__` by the recorded steps (JSON). URL
parameters drive the page for the browser test: `?step=N` opens it at step N, then
`press=ArrowRight,End` sends those keys and `click=next,n3` clicks those elements by id;
`walk=1` first renders every step in turn and logs what the page showed at each in #log.
"""

PAGE_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>retrograd: backward-pass explorer</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; color: #212529; display: flex; height: 100vh; }
  #graph { flex: 1 1 auto; overflow: auto; padding: 8px; min-width: 0; }
  /* The drawing fills the width it is given (and no more than the window's height). */
  #graph svg { overflow: visible; width: 100%; height: auto; max-height: calc(100vh - 16px); }
  #graph.full-size svg { width: auto; max-height: none; }
  #side { flex: 0 0 360px; border-left: 1px solid #dee2e6; padding: 12px; overflow: auto;
          background: #f8f9fa; }
  #controls button { font-size: 14px; margin-right: 4px; }
  #counter { font-weight: bold; margin: 10px 0 6px; }
  #text { font-size: 15px; line-height: 1.4; min-height: 4em; }
  #arrivals { font-family: monospace; font-size: 13px; }
  #details { margin-top: 16px; font-family: monospace; font-size: 12px; white-space: pre-wrap;
             border-top: 1px solid #dee2e6; padding-top: 8px; }
  .hint { color: #495057; font-size: 12px; margin-top: 6px; }
  #states { font-size: 12px; color: #212529; margin-top: 8px; line-height: 1.7; }
  #states svg { vertical-align: middle; margin-right: 6px; }
  /* Step states are outlines and edge colours, never fills: fills keep the meaning the
     drawing's own legend gives them (output, operation, leaf, retains grad, freed). */
  rect.box { cursor: pointer; }
  rect.box.done, rect.state-done { stroke: #087f5b; stroke-width: 3px; }
  rect.box.running, rect.state-running { stroke: #d9480f; stroke-width: 4px; }
  rect.box.freed, rect.state-freed { stroke-dasharray: 5 3; }
  rect.box.selected { stroke: #1c7ed6; stroke-width: 3px; }
  g.edge.carrying polyline, line.state-carrying { stroke: #087f5b; stroke-width: 2px; }
  g.edge.carrying polygon { fill: #087f5b; }
  g.edge.hot polyline, line.state-hot { stroke: #d9480f; stroke-width: 3px; }
  g.edge.hot polygon { fill: #d9480f; }
  text.grad-label { fill: #087f5b; font-weight: bold; paint-order: stroke; stroke: #ffffff;
                    stroke-width: 4px; }
  text.grad-label.hot { fill: #a63c06; }
  text.leaf-grad { fill: #1864ab; font-weight: bold; }
</style>
</head>
<body>
<div id="graph">
__SVG__
</div>
<div id="side">
  <div id="controls">
    <button id="first" title="first step (Home)">&laquo; first</button>
    <button id="prev" title="previous step (left arrow)">&lsaquo; back</button>
    <button id="next" title="next step (right arrow)">next &rsaquo;</button>
    <button id="last" title="last step (End)">last &raquo;</button>
    <button id="zoom" title="fit the graph to the window, or show it at full size">full size</button>
  </div>
  <div class="hint">Arrow keys step; click a box for its details.</div>
  <div id="states">
    <div><svg width="34" height="16"><rect class="state-running" x="3" y="3" width="28" height="10"
      fill="#f1f3f5" stroke="#868e96"/></svg>the node running now; orange edges and numbers: the
      gradients it sends</div>
    <div><svg width="34" height="16"><rect class="state-done" x="3" y="3" width="28" height="10"
      fill="#f1f3f5" stroke="#868e96"/></svg>a node that already ran; green edges and numbers:
      gradients delivered (those that fed the running node)</div>
    <div><svg width="34" height="16"><rect class="state-done state-freed" x="3" y="3" width="28"
      height="10" fill="#f1f3f5" stroke="#868e96"/></svg>dashed: its saved values were freed</div>
  </div>
  <div id="counter"></div>
  <div id="text"></div>
  <div id="arrivals"></div>
  <div id="details">Click a box to see its details.</div>
  <div id="status" hidden></div>
  <div id="log" hidden></div>
</div>
<script>
"use strict";
const DATA = __DATA__;
const SVG_NS = "http://www.w3.org/2000/svg";
const svg = document.querySelector("#graph svg");
const labels = document.createElementNS(SVG_NS, "g");
svg.appendChild(labels);
let step = 0;
let selected = null;

function clamp(value) {
  return Math.max(0, Math.min(DATA.steps.length - 1, value));
}

function addLabel(x, y, text, cls, anchor) {
  const element = document.createElementNS(SVG_NS, "text");
  element.setAttribute("x", x);
  element.setAttribute("y", y);
  if (anchor) element.setAttribute("text-anchor", anchor);
  element.setAttribute("class", cls);
  element.textContent = text;
  labels.appendChild(element);
  if (element.getBBox().x < 2) {  // no room on the left: write it to the right of the edge
    element.setAttribute("text-anchor", "start");
    element.setAttribute("x", x + 12);
  }
}

function render(index) {
  step = clamp(index);
  document.querySelectorAll("rect.box").forEach(r => r.classList.remove("done", "running", "freed"));
  document.querySelectorAll("g.edge").forEach(g => g.classList.remove("carrying", "hot"));
  labels.textContent = "";
  DATA.steps.forEach((item, i) => {
    if (i > step) return;
    const rect = item.key === null ? null : document.getElementById("n" + item.key);
    if (rect) {
      rect.classList.add(i === step ? "running" : "done");
      if (item.freed) rect.classList.add("freed");
      if (item.kind === "leaf") {
        const x = parseFloat(rect.getAttribute("x"));
        const y = parseFloat(rect.getAttribute("y")) + parseFloat(rect.getAttribute("height")) + 14;
        addLabel(x + 4, y, ".grad = " + item.grad, "leaf-grad");
      }
    }
    item.edges.forEach(edge => {
      const group = document.getElementById(edge.id);
      if (group) group.classList.add(i === step ? "hot" : "carrying");
      const at = DATA.labels[edge.id];
      // Values are written on the edges leaving the running node and on those that fed it.
      const feedsCurrent = edge.id.endsWith("_" + DATA.steps[step].key);
      if (at && (i === step || feedsCurrent)) {
        addLabel(at[0], at[1], edge.value, i === step ? "grad-label hot" : "grad-label", at[2]);
      }
    });
  });
  const current = DATA.steps[step];
  document.getElementById("counter").textContent = "Step " + step + " of " + (DATA.steps.length - 1);
  document.getElementById("text").textContent = current.text;
  const arrivals = document.getElementById("arrivals");
  arrivals.textContent = "";
  (current.received || []).forEach(item => {
    const line = document.createElement("div");
    const from = item.from === -1 ? "the output" : (DATA.details["n" + item.from] || {name: "?"}).name;
    line.textContent = "\u2190 " + item.value + "  from " + from;
    arrivals.appendChild(line);
  });
  const status = document.getElementById("status");
  status.dataset.step = String(step);
  status.dataset.kind = current.kind;
  status.dataset.running = current.name || "";
  status.dataset.grad = current.grad || "";
  status.textContent = current.text;
  if (selected) showDetails(selected);
}

function showDetails(id) {
  document.querySelectorAll("rect.box.selected").forEach(r => r.classList.remove("selected"));
  const rect = document.getElementById(id);
  if (rect) rect.classList.add("selected");
  selected = id;
  const info = DATA.details[id];
  if (!info) return;
  let text = info.title + "\n" + info.lines.join("\n");
  DATA.steps.forEach((item, i) => {
    if (i <= step && "n" + item.key === id && item.kind !== "start") {
      text += "\n\nat step " + i + ": received " + (item.total || "nothing");
      if (item.grad) text += "\n.grad is now " + item.grad;
      if (item.freed) text += "\nsaved values freed";
    }
  });
  document.getElementById("details").textContent = text;
}

document.querySelectorAll("rect.box").forEach(rect => {
  rect.addEventListener("click", () => showDetails(rect.id));
});
document.getElementById("first").onclick = () => render(0);
document.getElementById("prev").onclick = () => render(step - 1);
document.getElementById("next").onclick = () => render(step + 1);
document.getElementById("last").onclick = () => render(DATA.steps.length - 1);
document.getElementById("zoom").onclick = event => {
  const full = document.getElementById("graph").classList.toggle("full-size");
  event.target.textContent = full ? "fit" : "full size";
};
document.addEventListener("keydown", event => {
  const moves = {ArrowRight: step + 1, ArrowDown: step + 1, ArrowLeft: step - 1, ArrowUp: step - 1,
                 Home: 0, End: DATA.steps.length - 1};
  if (event.key in moves) {
    event.preventDefault();
    render(moves[event.key]);
  }
});
const query = new URLSearchParams(window.location.search);
if (query.get("walk")) {
  const log = document.getElementById("log");
  DATA.steps.forEach((_, i) => {
    render(i);
    const entry = document.getElementById("status").cloneNode(true);
    entry.removeAttribute("id");
    entry.dataset.counter = document.getElementById("counter").textContent;
    entry.dataset.labels = Array.from(labels.children).map(label => label.textContent).join("|");
    log.appendChild(entry);
  });
}
render(parseInt(query.get("step") || "0", 10) || 0);
(query.get("press") || "").split(",").filter(Boolean).forEach(key => {
  document.dispatchEvent(new KeyboardEvent("keydown", {key: key}));
});
(query.get("click") || "").split(",").filter(Boolean).forEach(id => {
  document.getElementById(id).dispatchEvent(new MouseEvent("click"));
});
</script>
</body>
</html>
"""
