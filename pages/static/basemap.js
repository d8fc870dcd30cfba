/* The own basemap: the platform's vector tiles (/ogc/tiles) drawn by protomaps-leaflet.
   Streets by class with their names, water, parks, railways, district and town outlines and
   names — in quiet colours, so routes and stations stay readable on top in sunlight. Nothing
   is fetched from outside the server. */
(function () {
  "use strict";

  var WIDTH = { 1: 3.4, 2: 3.0, 3: 2.6, 4: 2.1, 5: 1.5, 6: 1.1, 7: 0.7 };
  var FILL = { 1: "#f7c873", 2: "#fbe2a6", 3: "#fff3cf" };

  function rank(f) { return (f && f.props && f.props.rank) || 5; }

  function width(extra) {
    return function (z, f) {
      var w = (WIDTH[rank(f)] || 1) * Math.pow(1.3, z - 13);
      return Math.max(0.5, Math.min(w, 16)) + extra;
    };
  }

  function paintRules() {
    var P = protomapsL;
    return [
      { dataLayer: "parks", symbolizer: new P.PolygonSymbolizer({ fill: "#d6ebc8" }) },
      { dataLayer: "water", symbolizer: new P.PolygonSymbolizer({ fill: "#aad3f2" }) },
      {
        dataLayer: "waterways",
        symbolizer: new P.LineSymbolizer({ color: "#8cc2ea", width: function (z) { return z < 13 ? 1.2 : 2.2; } })
      },
      {
        dataLayer: "rails",
        symbolizer: new P.LineSymbolizer({ color: "#a6a6a6", width: 1.6, dash: [3, 3], dashColor: "#ffffff", dashWidth: 1.2 })
      },
      {
        dataLayer: "roads",
        filter: function (z, f) { return rank(f) <= 6; },
        symbolizer: new P.LineSymbolizer({ color: "#aaa194", width: width(1.5), lineCap: "round" })
      },
      {
        dataLayer: "roads",
        symbolizer: new P.LineSymbolizer({
          color: function (z, f) { return FILL[rank(f)] || "#ffffff"; },
          width: width(0),
          lineCap: "round"
        })
      },
      {
        dataLayer: "boundaries",
        filter: function (z, f) { return f.props.kind === "town"; },
        symbolizer: new P.LineSymbolizer({ color: "#b79cc4", width: 0.8, dash: [4, 3], dashColor: "#b79cc4" })
      },
      {
        dataLayer: "boundaries",
        filter: function (z, f) { return f.props.kind === "district"; },
        symbolizer: new P.LineSymbolizer({ color: "#8a6a9c", width: 1.6 })
      }
    ];
  }

  function labelRules(lang) {
    var P = protomapsL;
    var names = lang === "en" ? ["name_en", "name"] : ["name"];
    return [
      {
        dataLayer: "places",
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: names,
          fill: "#4a3b57",
          stroke: "#ffffff",
          width: 3,
          font: function (z, f) {
            return (f && f.props.kind === "district" ? "600 15px" : "500 13px") + " sans-serif";
          }
        })
      },
      {
        dataLayer: "roads",
        minzoom: 14,
        symbolizer: new P.LineLabelSymbolizer({
          labelProps: ["name"],
          fill: "#555049",
          stroke: "#ffffff",
          width: 2.5,
          font: "12px sans-serif"
        })
      },
      {
        dataLayer: "waterways",
        minzoom: 13,
        symbolizer: new P.LineLabelSymbolizer({ labelProps: ["name"], fill: "#3f7fb5", font: "italic 12px sans-serif" })
      }
    ];
  }

  /* Add the basemap under everything on ``map``; null when the drawing library is missing. */
  window.yizhanBasemap = function (map, options) {
    if (typeof protomapsL === "undefined" || !options || !options.url) { return null; }
    var layer = protomapsL.leafletLayer({
      url: options.url,
      maxDataZoom: options.maxDataZoom || 16,
      paintRules: paintRules(),
      labelRules: labelRules(options.lang || "zh"),
      backgroundColor: "#f4f1ea",
      attribution: options.attribution || ""
    });
    layer.addTo(map);
    if (!options.attribution && options.tilejson && map.attributionControl) {
      fetch(options.tilejson)
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (tj) { if (tj && tj.attribution) { map.attributionControl.addAttribution(tj.attribution); } })
        .catch(function () { /* the credit is decoration */ });
    }
    return layer;
  };
})();
