// Check-in and check-out: add the phone's position and clock to the form before it is sent.
// A refused or failed position is sent as such; the server still records the visit.
(function () {
  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) input.value = values[name];
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-geo]") || form.dataset.located) return;
    event.preventDefault();
    var send = function (values) {
      values.client_time = new Date().toISOString();
      fill(form, values);
      form.dataset.located = "1";
      form.submit();
    };
    if (!navigator.geolocation) { send({ geo_status: "unsupported" }); return; }
    navigator.geolocation.getCurrentPosition(
      function (p) {
        send({ geo_status: "ok", latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy });
      },
      function (error) {
        send({ geo_status: { 1: "denied", 2: "unavailable", 3: "timeout" }[error.code] || "unavailable" });
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
