// Progressive enhancement for the search form; everything works without it.
// - Place suggestions: fills the "Where" box's <datalist> from /api/v1/places.
// - "Use my location": asks the browser for a position and searches near it.
(function () {
  "use strict";
  var near = document.getElementById("near");
  var list = document.getElementById("place-suggestions");
  var form = document.getElementById("search");
  if (!near || !list || !form) return;

  var timer = null;
  var lastPrefix = "";
  near.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });

  function suggest() {
    var prefix = near.value.trim();
    if (prefix.length < 2 || prefix === lastPrefix || !window.fetch) return;
    lastPrefix = prefix;
    fetch("/api/v1/places?limit=8&prefix=" + encodeURIComponent(prefix))
      .then(function (response) { return response.ok ? response.json() : { places: [] }; })
      .then(function (body) {
        if (near.value.trim() !== prefix) return;
        list.replaceChildren();
        (body.places || []).forEach(function (place) {
          var option = document.createElement("option");
          option.value = place.label;
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are optional */ });
  }

  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    // The words come from the page (its language), with English as a fallback.
    status.textContent = button.getAttribute("data-finding") || "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        near.value = position.coords.latitude.toFixed(4) + "," + position.coords.longitude.toFixed(4);
        status.textContent = "";
        form.submit();
      },
      function () {
        status.textContent = button.getAttribute("data-unavailable") ||
          "Your location is not available; type a ZIP code or a city instead.";
      },
      { timeout: 10000, maximumAge: 600000 }
    );
  });
})();
