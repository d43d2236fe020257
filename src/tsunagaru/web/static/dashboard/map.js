/* The dashboard map: municipality boundaries and every site, coloured by state and clustered.
   Data from the page's data-* attributes (no inline script: the CSP allows scripts from this origin only).
   Base tiles only when the server names a tile URL; by default the map is the boundaries alone. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var labels = JSON.parse(el.dataset.labels || "{}");
  var status = document.getElementById("map-status");
  var started = performance.now();
  var map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 8, maxZoom: 18 });
  map.setView([35.68, 139.55], 10);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("国土数値情報（行政区域データ）国土交通省 / MLIT N03");
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  function icon(state) {
    return L.divIcon({ className: "site-marker site-" + state, iconSize: [14, 14] });
  }
  function worst(markers) {
    var order = ["critical", "problem", "unknown", "ok"], found = {};
    markers.forEach(function (m) { found[m.options.state] = true; });
    for (var i = 0; i < order.length; i++) { if (found[order[i]]) { return order[i]; } }
    return "unknown";
  }
  var cluster = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
    iconCreateFunction: function (c) {
      var n = c.getChildCount();
      return L.divIcon({ html: "<span>" + n + "</span>", className: "site-cluster site-" + worst(c.getAllChildMarkers()),
                         iconSize: [34, 34] });
    }
  });
  fetch(el.dataset.boundaries, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (geo) {
      var layer = L.geoJSON(geo, { style: { color: "#0b5cad", weight: 1, fillOpacity: 0.04 },
        onEachFeature: function (f, l) {
          var p = f.properties || {};
          l.bindTooltip((p.N03_004 || p.N03_003 || "") + "", { sticky: true });
        } }).addTo(map);
      layer.bringToBack();
      el.classList.add("boundaries-ready");
      if (!el.dataset.sites) { map.fitBounds(layer.getBounds()); }
    });
  function addArea() {
    var area = el.dataset.area ? JSON.parse(el.dataset.area) : null;
    if (!area) { return null; }
    var style = { color: "#c92a2a", weight: 2, fillOpacity: 0.12 };
    if (area.circle) {
      return L.circle([area.circle.lat, area.circle.lon], Object.assign({ radius: area.circle.radius_m }, style)).addTo(map);
    }
    if (area.polygon) { return L.geoJSON(area.polygon, { style: style }).addTo(map); }
    return null;
  }
  var areaLayer = addArea();
  var only = el.dataset.only ? new Set(el.dataset.only.split(",").map(Number)) : null;
  if (!el.dataset.sites) { return; }
  fetch(el.dataset.sites, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }).then(function (data) {
    var markers = [], bounds = [];
    data.rows.forEach(function (row) {
      if (only && !only.has(row[0])) { return; }
      var m = L.marker([row[1], row[2]], { icon: icon(row[3]), state: row[3], title: row[5], alt: row[5],
                                           keyboard: false });
      m.bindPopup(function () {
        var box = document.createElement("div");
        var a = document.createElement("a");
        a.href = "/dashboard/sites/" + row[0];
        a.textContent = row[5];
        var s = document.createElement("div");
        s.textContent = (labels[row[3]] || row[3]);
        box.appendChild(a); box.appendChild(s);
        return box;
      });
      markers.push(m);
      bounds.push([row[1], row[2]]);
    });
    cluster.addLayers(markers);
    map.addLayer(cluster);
    if (areaLayer && areaLayer.getBounds) { map.fitBounds(areaLayer.getBounds(), { maxZoom: 15 }); }
    else if (bounds.length) { map.fitBounds(bounds, { maxZoom: 15, padding: [20, 20] }); }
    var ms = Math.round(performance.now() - started);
    el.dataset.markers = String(markers.length);
    el.dataset.readyMs = String(ms);
    if (status) { status.textContent = (labels.shown || "%(n)s").replace("%(n)s", markers.length.toLocaleString()); }
    el.classList.add("map-ready");
  }).catch(function (e) {
    if (status) { status.textContent = String(e); }
  });
}());
