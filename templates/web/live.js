/*
 * Keeps an open ward page true without a reload: every 10 s it asks the box
 * for the banner (HIS online, degraded, DOWNTIME) and the data's age, and
 * puts them on the page. Plain ES5 and XMLHttpRequest, for old ward PCs.
 * If the box stops answering, the page says so instead of showing a stale
 * "HIS online".
 */
(function () {
  var body = document.body;
  var url = body.getAttribute('data-live');
  if (!url || !window.XMLHttpRequest) return;
  var banner = document.getElementById('pb-banner');
  var fresh = document.getElementById('pb-freshness');
  var lost = body.getAttribute('data-live-lost') || '';

  function show(b) {
    if (!banner) return;
    if (!b) {
      banner.hidden = true;
      return;
    }
    banner.hidden = false;
    banner.className = 'banner banner-' + b.kind;
    banner.setAttribute('role', b.alert ? 'alert' : 'status');
    banner.innerHTML = '';
    var strong = document.createElement('strong');
    strong.textContent = b.title;
    banner.appendChild(strong);
    banner.appendChild(document.createTextNode(b.detail ? ' ' + b.detail : ''));
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url, true);
    xhr.timeout = 8000;
    xhr.onload = function () {
      if (xhr.status !== 200) return failed();
      var d;
      try { d = JSON.parse(xhr.responseText); } catch (e) { return failed(); }
      show(d.banner);
      if (fresh && d.freshness) {
        fresh.textContent = d.freshness.text;
        fresh.className = 'freshness freshness-' + (d.freshness.stale ? 'stale' : 'fresh');
      }
      body.setAttribute('data-live-at', String(Date.now()));
    };
    xhr.onerror = failed;
    xhr.ontimeout = failed;
    xhr.send();
  }

  function failed() {
    show({ kind: 'degraded', title: lost, detail: '', alert: true });
  }

  setInterval(poll, 10000);
  poll();
})();
