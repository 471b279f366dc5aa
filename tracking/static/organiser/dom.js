/* The shared DOM helpers: a person's text is always a text node (names are hostile input),
   formats, toasts. */
import { CONFIG, STATUS } from "./config.js";

// --- small helpers ------------------------------------------------------------------------
function $(id) { return document.getElementById(id); }

/* el("td", {className: "x"}, "text", child): text is always a text node. */
function el(tag, attrs) {
  var node = document.createElement(tag);
  var key;
  for (key in attrs || {}) {
    if (key === "style") Object.assign(node.style, attrs.style);
    else if (key === "dataset") Object.assign(node.dataset, attrs.dataset);
    else if (key === "on") Object.keys(attrs.on).forEach(function (ev) { node.addEventListener(ev, attrs.on[ev]); });
    else node[key] = attrs[key];
  }
  for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
  return node;
}

function append(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
  else node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
}

function svg(tag, attrs) {
  var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function num(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-GB"); }

function km(m) { return m === null || m === undefined ? "–" : (m / 1000).toFixed(1) + " km"; }

var timeFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit", minute: "2-digit", timeZone: CONFIG.event.timezone,
});

function clock(iso) { return iso ? timeFormat.format(new Date(iso)) : "–"; }

function ago(iso) {
  if (!iso) return "–";
  var s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return Math.round(s) + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min ago";
}

function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function statusChip(status) {
  var s = STATUS[status] || { label: status, colour: "#868e96" };
  return el("span", { className: "rw-chip", style: { background: s.colour } }, s.label);
}

// One pace, as the server predicts with it: the walker's own, else the route's median, else
// the default; the detail and the route cards say which.
var PACE_SOURCE = { own: "", route: " (route median)", "default": " (default)" };
function paceText(kmh, source) {
  if (kmh === null || kmh === undefined) return "–";
  return kmh.toFixed(1) + " km/h" + (PACE_SOURCE[source] || "");
}

function dot(colour) { return el("span", { className: "rw-dot", style: { background: colour } }); }

var timers = {};
function later(name, fn, ms) {
  if (timers[name]) return;
  timers[name] = setTimeout(function () { timers[name] = null; fn(); }, ms);
}

function toast(text, onClick) {
  var box = $("rw-toast");
  box.textContent = text;
  box.hidden = false;
  box.onclick = function () { box.hidden = true; if (onClick) onClick(); };
  clearTimeout(toast.timer);
  toast.timer = setTimeout(function () { box.hidden = true; }, 8000);
}

export { $, PACE_SOURCE, ago, append, clear, clock, dot, el, fold, km, later, num, paceText, statusChip, svg, timeFormat, timers, toast };
