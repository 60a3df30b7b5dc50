/* layerscope's report page: treemap zoom, the file browser and its search.
   Every name is put in the page with textContent, never as markup. */
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");
  var data = JSON.parse(document.getElementById("browse-data").textContent);

  function size(n) {
    var units = ["B", "kB", "MB", "GB", "TB"];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(n) < 1000 || i === units.length - 1) {
        return i === 0 ? n.toFixed(0) + " B" : n.toFixed(1) + " " + units[i];
      }
      n /= 1000;
    }
    return String(n);
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  /* -- treemap: a click zooms one directory further down, towards the clicked one */
  var svg = document.getElementById("treemap-svg");
  var fullBox = svg.getAttribute("viewBox");
  var dirs = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.dir"), function (g) {
    dirs[g.getAttribute("data-path")] = g;
  });
  var zoomed = "/";
  var zoomAt = document.getElementById("zoom-at");
  function zoomTo(path) {
    var g = dirs[path];
    if (!g || path === "/") {
      svg.setAttribute("viewBox", fullBox);
      zoomed = "/";
      zoomAt.textContent = "";
    } else {
      svg.setAttribute("viewBox", [g.dataset.x, g.dataset.y, g.dataset.w, g.dataset.h].join(" "));
      zoomed = path;
      zoomAt.textContent = "showing " + path + " (" + size(Number(g.dataset.bytes)) + ")";
    }
    svg.setAttribute("data-zoom", zoomed);
  }
  function nextDir(from, to) {
    var base = from === "/" ? "" : from;
    if (to === from || to.indexOf(base + "/") !== 0) { return from; }
    var rest = to.slice(base.length + 1).split("/");
    var p = base;
    for (var i = 0; i < rest.length; i++) {
      p = p + "/" + rest[i];
      if (dirs[p]) { return p; }
    }
    return from;
  }
  svg.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!t.classList || !t.classList.contains("leaf")) { return; }
    zoomTo(nextDir(zoomed, t.getAttribute("data-dir")));
  });
  document.getElementById("zoom-out").addEventListener("click", function () {
    if (zoomed === "/") { return; }
    var up = zoomed.slice(0, zoomed.lastIndexOf("/")) || "/";
    while (up !== "/" && !dirs[up]) { up = up.slice(0, up.lastIndexOf("/")) || "/"; }
    zoomTo(up);
  });
  document.getElementById("waste-only").addEventListener("change", function (ev) {
    svg.classList.toggle("waste-only", ev.target.checked);
  });

  /* -- file browser: the tree as of layer K, worked out from each path's events */
  var nodes = data.nodes, n = nodes.length;
  var kids = [], roots = [], full = new Array(n), lower = new Array(n);
  for (var i = 0; i < n; i++) { kids.push([]); }
  for (i = 0; i < n; i++) {
    var parent = nodes[i][1];
    if (parent < 0) { roots.push(i); } else { kids[parent].push(i); }
    full[i] = (parent < 0 ? "" : full[parent]) + "/" + nodes[i][0];
    lower[i] = full[i].toLowerCase();
  }
  var TYPES = { f: "file", d: "dir", l: "symlink", h: "hardlink", c: "char", b: "block", p: "fifo" };
  var CHANGES = { a: "added", m: "modified", M: "metadata", s: "same", t: "type changed" };
  var HOWS = { xw: "deleted (whiteout)", xo: "deleted (opaque)", xr: "deleted (replaced)", x: "deleted" };
  var K = data.start, cwd = -1, showDeleted = false;

  function stateAt(i) {
    var evs = nodes[i][2], s = null, below = [];
    for (var j = 0; j < evs.length; j++) {
      if (evs[j][0] > K) { break; }
      if (s && s[1].charAt(0) !== "x") { below.push(s); }
      s = evs[j];
    }
    return s ? { ev: s, below: below } : null;
  }
  function row(i, label) {
    var st = stateAt(i);
    if (!st) { return null; }
    var ev = st.ev, gone = ev[1].charAt(0) === "x";
    if (gone && (!showDeleted || !st.below.length)) { return null; }
    var tr = el("tr", null, gone ? "gone" : "");
    tr.setAttribute("data-path", full[i]);
    var name = el("td", null, "path");
    var isDir = !gone && ev[1].charAt(0) === "d";
    if (isDir && nodes[i].length < 4) {
      var b = el("button", label, "dir-link");
      b.type = "button";
      b.addEventListener("click", function () { search.value = ""; cd(i); });
      name.appendChild(b);
    } else {
      name.textContent = label;
    }
    var fold = nodes[i][3];
    if (fold) { name.appendChild(el("span", " (" + fold[0] + " entries folded, " + size(fold[1]) + ")")); }
    tr.appendChild(name);
    tr.appendChild(el("td", gone ? "" : TYPES[ev[1].charAt(0)] || "?"));
    var bytes = gone ? 0 : (ev[2] || 0) + (fold ? fold[1] : 0);
    var sz = el("td", gone || (!bytes && isDir) ? "" : size(bytes), "n");
    tr.appendChild(sz);
    tr.appendChild(el("td", data.layers[ev[0]] || "L" + ev[0]));
    tr.appendChild(el("td", gone ? HOWS[ev[1]] || "deleted" : CHANGES[ev[1].charAt(1)] || ""));
    var vs = st.below.map(function (v) { return (data.layers[v[0]] || "L" + v[0]) + (v.length > 2 ? " " + size(v[2]) : ""); });
    tr.appendChild(el("td", vs.join(", ")));
    return tr;
  }
  var tbody = document.querySelector("#file-table tbody");
  var crumbs = document.getElementById("crumbs");
  function show(rows) {
    tbody.textContent = "";
    rows.forEach(function (r) { if (r) { tbody.appendChild(r); } });
    if (!tbody.firstChild) { tbody.appendChild(el("tr")).appendChild(el("td", "(nothing here as of this layer)")); }
  }
  function cd(i) {
    cwd = i;
    crumbs.textContent = "";
    var chain = [];
    for (var j = i; j >= 0; j = nodes[j][1]) { chain.unshift(j); }
    var top = el("button", "/");
    top.type = "button";
    top.addEventListener("click", function () { cd(-1); });
    crumbs.appendChild(top);
    chain.forEach(function (j) {
      var b = el("button", nodes[j][0] + "/");
      b.type = "button";
      b.addEventListener("click", function () { cd(j); });
      crumbs.appendChild(b);
    });
    var list = (i < 0 ? roots : kids[i]).slice();
    list.sort(function (a, b) { return nodes[a][0] < nodes[b][0] ? -1 : nodes[a][0] > nodes[b][0] ? 1 : 0; });
    show(list.map(function (j) { return row(j, nodes[j][0]); }));
  }
  var LIMIT = 200;
  function find(q) {
    q = q.toLowerCase();
    var rows = [], total = 0;
    for (var j = 0; j < n; j++) {
      if (lower[j].indexOf(q) < 0) { continue; }
      var r = row(j, full[j]);
      if (!r) { continue; }
      total += 1;
      if (rows.length < LIMIT) { rows.push(r); }
    }
    show(rows);
    crumbs.textContent = total + " match" + (total === 1 ? "" : "es") + (total > LIMIT ? ", first " + LIMIT + " shown" : "");
  }
  function refresh() {
    if (search.value) { find(search.value); } else { cd(cwd); }
  }
  var select = document.getElementById("layer-select");
  data.layers.forEach(function (label, j) {
    var o = el("option", label);
    o.value = String(j);
    select.appendChild(o);
  });
  select.value = String(K);
  select.addEventListener("change", function () { K = Number(select.value); refresh(); });
  var search = document.getElementById("search");
  search.addEventListener("input", refresh);
  document.getElementById("show-deleted").addEventListener("change", function (ev) {
    showDeleted = ev.target.checked;
    refresh();
  });
  cd(-1);
  document.documentElement.setAttribute("data-ready", "1");
  if (window.performance && performance.mark) { performance.mark("layerscope-ready"); }
})();
