"""Reports opened in headless Chromium, measured from the rendered page.

`probe(page)` copies a report, adds a test-only script that runs once the page has
loaded (after pytest-html's own script and ours) and writes what the browser laid out
into a <pre id="probe">: the boxes of the banner, the failures and the completeness
line, whether the environment is folded, every chart's drawn shapes, and every resource
the page fetched or failed to fetch (`outside`: those not the file itself).
Chromium's host resolver maps every name to nowhere, so nothing leaves the machine even
if a page tried.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.reports.test_browser import chromium

PROBE = """<script>
(function () {
  var failed = [];
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t instanceof Element && (t.src || t.href)) {
      failed.push(t.tagName + ' ' + (t.src || t.href));
    }
  }, true);
  window.addEventListener('load', function () {
    function box(el) {
      if (!el) { return null; }
      var b = el.getBoundingClientRect();
      return {top: b.top + window.scrollY, bottom: b.bottom + window.scrollY,
              width: b.width, height: b.height};
    }
    var env = document.getElementById('environment');
    var out = {
      banner: box(document.getElementById('verdict')),
      latest: box(document.getElementById('latest')),
      failures: box(document.getElementById('failures')),
      completeness: box(document.getElementById('completeness')),
      environment_shown: env ? env.getBoundingClientRect().height > 0 : null,
      environment_rows: env ? env.querySelectorAll('tr').length : null,
      not_judged: Array.from(document.querySelectorAll('details.not-judged')).map(
        function (d) { return d.querySelector('summary').textContent; }),
      charts: Array.from(document.querySelectorAll('svg.tradeops-chart')).map(function (s) {
        var drawn = Array.from(s.querySelectorAll('polyline,rect,line,circle,text')).filter(
          function (e) { var b = e.getBBox(); return b.width > 0 || b.height > 0; });
        var r = s.getBoundingClientRect();
        return {name: s.getAttribute('data-chart'), width: r.width, height: r.height,
                series: s.querySelectorAll('polyline.series').length,
                bars: s.querySelectorAll('rect.bar').length,
                cells: s.querySelectorAll('rect.cell').length, drawn: drawn.length};
      }),
      resources: performance.getEntriesByType('resource').map(function (e) { return e.name; }),
      failed: failed,
      page: location.href.split('?')[0].split('#')[0]
    };
    var pre = document.createElement('pre');
    pre.id = 'probe'; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
</script>"""


def probe(page: Path, workdir: Path, *, extra: str = "") -> dict:
    """What Chromium laid out for `page` at 1400x900 (see the module's docstring)."""
    copy = workdir / f"probed-{page.name}"
    html = page.read_text(encoding="utf-8")
    # First thing in <head>: the listener must exist before any resource is requested.
    copy.write_text(html.replace("<head>", "<head>" + PROBE + extra, 1), encoding="utf-8")
    done = chromium(
        workdir / "profile",
        "--window-size=1400,900",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=5000",
        "--dump-dom",
        copy.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, "the probe did not run: " + done.stdout[-500:]
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    result = json.loads(text.replace("&amp;", "&"))
    # pytest-html's row template holds <img src=""> and <source src="">: both resolve to
    # the page itself, which is not outside it.
    result["outside"] = [
        url
        for url in result["resources"] + result["failed"]
        if url.split(" ")[-1].split("?")[0].split("#")[0] != result["page"]
        and not url.split(" ")[-1].startswith("data:")
    ]
    return result


def screenshot(page: Path, shot: Path, workdir: Path, height: int = 900) -> Path:
    """A PNG of the page's first `height` px at 1400 px wide."""
    done = chromium(
        workdir / "profile",
        f"--window-size=1400,{height}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=5000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return shot
