// The owner-graph webview: shows the server's SVG (or draws the DOT text with the bundled
// Graphviz WebAssembly build when the server has no Graphviz), pans and zooms, and turns a
// click on an object node into a new graph around that object.

import { GraphAnswer } from "../src/protocol";
import { FromWebview, ToWebview, addressOfNodeId } from "../src/webviewMessages";

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
interface VizInstance {
  renderSVGElement(dot: string): SVGSVGElement;
}
declare function acquireVsCodeApi(): VsCodeApi;
declare const Viz: { instance(): Promise<VizInstance> } | undefined;

const vscode = acquireVsCodeApi();
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = element<HTMLDivElement>("canvas");
const viewport = element<HTMLDivElement>("viewport");
const notes = element<HTMLDivElement>("notes");
const title = element<HTMLSpanElement>("title");
const anchorsButton = element<HTMLButtonElement>("anchors");
const saveButton = element<HTMLButtonElement>("save");

let focus: string | undefined; // the address the graph is about
const view = { scale: 1, x: 0, y: 0 };

window.addEventListener("message", (event: MessageEvent<ToWebview>) => void onMessage(event.data));

async function onMessage(message: ToWebview): Promise<void> {
  switch (message.type) {
    case "loading":
      setNotes([`Loading the owner graph of ${message.address}…`]);
      return;
    case "error":
      setNotes([`No graph for ${message.address}: ${message.message}`], "error");
      return;
    case "graph":
      return showGraph(message.answer);
  }
}

async function showGraph(answer: GraphAnswer): Promise<void> {
  const lines: string[] = [];
  let svg: SVGSVGElement;
  if (answer.svg) {
    svg = parseSvg(answer.svg);
  } else {
    svg = await drawInWebview(answer.dot);
    lines.push(`Drawn by the extension's bundled Graphviz: ${answer.error ?? "the server has no Graphviz"}.`);
  }
  unwrapLinks(svg);
  makeNodesFocusable(svg, answer.dump);
  if (answer.truncated) {
    lines.push(`Truncated at ${answer.nodes} nodes (setting heapspurs.graph.maxNodes).`);
  }
  focus = answer.address;
  title.textContent = `Owner graph · ${answer.address} · ${answer.nodes} objects`;
  title.title = title.textContent;
  anchorsButton.title = `Anchors of ${answer.address}`;
  anchorsButton.setAttribute("aria-label", anchorsButton.title);
  anchorsButton.disabled = false;
  saveButton.disabled = false;
  canvas.replaceChildren(svg);
  setNotes(lines);
  moved = false;
  fit(true);
}

/** The server's SVG as an element, with anything that could run script removed. */
function parseSvg(text: string): SVGSVGElement {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = parsed.documentElement;
  if (!(svg instanceof SVGSVGElement)) {
    throw new Error("the server's SVG does not parse");
  }
  svg.querySelectorAll("script, foreignObject").forEach((node) => node.remove());
  for (const node of [svg, ...svg.querySelectorAll("*")]) {
    for (const attribute of [...node.attributes]) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.toLowerCase().startsWith("on") || value.startsWith("javascript:")) {
        node.removeAttribute(attribute.name);
      }
    }
  }
  return document.importNode(svg, true);
}

const XLINK = "http://www.w3.org/1999/xlink";

/**
 * Graphviz wraps a node with a tooltip in `<a xlink:title>`. VS Code's webview host
 * forwards clicks on links to the workbench, and an SVG link's `href` is an
 * SVGAnimatedString, which cannot be posted (DataCloneError on every click): the links
 * become plain groups, their tooltips `<title>` elements.
 */
function unwrapLinks(svg: SVGSVGElement): void {
  for (const link of [...svg.querySelectorAll("a")]) {
    const group = document.createElementNS("http://www.w3.org/2000/svg", "g");
    const tip = link.getAttributeNS(XLINK, "title") ?? link.getAttribute("xlink:title");
    if (tip && !link.querySelector(":scope > title")) {
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = tip;
      group.append(title);
    }
    group.append(...link.childNodes);
    link.replaceWith(group);
  }
}

/**
 * Object nodes are reached with Tab and opened with Enter or Space; a right-click offers
 * the address commands (VS Code's webview context menu reads `data-vscode-context`).
 */
function makeNodesFocusable(svg: SVGSVGElement, dump: string): void {
  for (const node of svg.querySelectorAll<SVGGElement>("g.node")) {
    const address = addressOfNodeId(node.id);
    if (!address) {
      continue;
    }
    node.dataset.vscodeContext = JSON.stringify({ webviewSection: "node", address, dump, preventDefaultContextMenuItems: true });
    const label = [...node.querySelectorAll("text")].map((t) => t.textContent ?? "").join(" ");
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", address === focus ? `${label} (this graph's object)` : `${label}: show its owner graph`);
  }
}

let viz: Promise<VizInstance> | undefined;

async function drawInWebview(dot: string): Promise<SVGSVGElement> {
  viz ??= loadViz();
  return (await viz).renderSVGElement(dot);
}

/** Loads media/dist/viz-global.js only when first needed (1.3 MB). */
function loadViz(): Promise<VizInstance> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.nonce = document.body.dataset.nonce ?? "";
    script.src = document.body.dataset.viz ?? "";
    script.onload = () => (typeof Viz === "undefined" ? reject(new Error("Viz is missing")) : resolve(Viz.instance()));
    script.onerror = () => reject(new Error("could not load the bundled Graphviz"));
    document.head.append(script);
  });
}

function setNotes(lines: string[], kind: "info" | "error" = "info"): void {
  notes.className = kind;
  notes.replaceChildren(...lines.map((line) => Object.assign(document.createElement("div"), { textContent: line })));
}

// --- clicks on nodes --------------------------------------------------------------------
canvas.addEventListener("click", (event) => {
  if (dragged) {
    return;
  }
  const node = (event.target as Element).closest("g.node");
  const address = node ? addressOfNodeId(node.id) : undefined;
  if (address && address !== focus) {
    vscode.postMessage({ type: "focus", address });
  }
});
canvas.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" && event.key !== " ") {
    return;
  }
  const node = (event.target as Element).closest("g.node");
  const address = node ? addressOfNodeId(node.id) : undefined;
  if (address && address !== focus) {
    event.preventDefault();
    vscode.postMessage({ type: "focus", address });
  }
});
/** A node reached with Tab is brought into view. */
canvas.addEventListener("focusin", (event) => {
  const node = (event.target as Element).closest("g.node");
  if (!node) {
    return;
  }
  viewport.scrollTop = viewport.scrollLeft = 0; // focus scrolls the clipped viewport: undo it
  const box = node.getBoundingClientRect();
  const room = viewport.getBoundingClientRect();
  if (box.left < room.left || box.right > room.right || box.top < room.top || box.bottom > room.bottom) {
    moved = true;
    view.x += room.left + room.width / 2 - (box.left + box.width / 2);
    view.y += room.top + room.height / 2 - (box.top + box.height / 2);
    apply();
  }
});
anchorsButton.addEventListener("click", () => focus && vscode.postMessage({ type: "anchors", address: focus }));
saveButton.addEventListener("click", () => {
  const svg = canvas.querySelector("svg");
  if (svg && focus) {
    vscode.postMessage({ type: "save", address: focus, svg: new XMLSerializer().serializeToString(svg) });
  }
});

// --- pan and zoom -----------------------------------------------------------------------
function apply(): void {
  canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
}

/** Below this scale labels are unreadable: a big graph opens on its target instead. */
const READABLE_SCALE = 0.5;

/** The whole graph in the panel; `readable` keeps labels legible, centred on the target. */
function fit(readable = false): void {
  const svg = canvas.querySelector("svg");
  if (!svg) {
    return;
  }
  const width = svg.width.baseVal.value || svg.getBBox().width;
  const height = svg.height.baseVal.value || svg.getBBox().height;
  const room = viewport.getBoundingClientRect();
  view.scale = Math.min(1.5, room.width / width, room.height / height) || 1;
  view.x = (room.width - width * view.scale) / 2;
  view.y = Math.max(0, (room.height - height * view.scale) / 2);
  apply();
  if (readable && view.scale < READABLE_SCALE) {
    zoomAt(READABLE_SCALE / view.scale, room.width / 2, room.height / 2);
    centreOnTarget(room);
  }
}

/** Pans so that the target (the yellow node) is in the middle of the panel. */
function centreOnTarget(room: DOMRect): void {
  const target = canvas.querySelector('g.node polygon[fill="yellow"]');
  if (!target) {
    return;
  }
  const box = target.getBoundingClientRect();
  view.x += room.left + room.width / 2 - (box.left + box.width / 2);
  view.y += room.top + room.height / 2 - (box.top + box.height / 2);
  apply();
}

/** Set once the user pans or zooms: until then the graph keeps fitting the panel. */
let moved = false;
new ResizeObserver(() => moved || fit(true)).observe(viewport);

function zoomAt(factor: number, x: number, y: number): void {
  const scale = Math.min(8, Math.max(0.05, view.scale * factor));
  view.x = x - ((x - view.x) * scale) / view.scale;
  view.y = y - ((y - view.y) * scale) / view.scale;
  view.scale = scale;
  apply();
}

function zoomCentre(factor: number): void {
  moved = true;
  const room = viewport.getBoundingClientRect();
  zoomAt(factor, room.width / 2, room.height / 2);
}

element("fit").addEventListener("click", () => {
  moved = false;
  fit();
});
element("zoom-in").addEventListener("click", () => zoomCentre(1.25));
element("zoom-out").addEventListener("click", () => zoomCentre(0.8));
viewport.addEventListener(
  "wheel",
  (event) => {
    event.preventDefault();
    moved = true;
    const room = viewport.getBoundingClientRect();
    zoomAt(Math.exp(-event.deltaY / 500), event.clientX - room.left, event.clientY - room.top);
  },
  { passive: false },
);

let drag: { x: number; y: number } | undefined;
let dragged = false;
viewport.addEventListener("pointerdown", (event) => {
  drag = { x: event.clientX - view.x, y: event.clientY - view.y };
  dragged = false;
});
viewport.addEventListener("pointermove", (event) => {
  if (drag && event.buttons === 1) {
    const x = event.clientX - drag.x;
    const y = event.clientY - drag.y;
    dragged ||= Math.abs(x - view.x) + Math.abs(y - view.y) > 3;
    moved ||= dragged;
    view.x = x;
    view.y = y;
    apply();
  }
});
viewport.addEventListener("pointerup", () => (drag = undefined));

vscode.postMessage({ type: "ready" });
