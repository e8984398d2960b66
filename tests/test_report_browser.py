"""report.html in a real browser: headless Chromium (Debian's `chromium`) renders the page a
report writes, takes a screenshot, and tells whether every image decoded.

Chromium opens file:// pages only, and its flags keep it off the network.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from nodewise_cli import report
from report_support import (
    LABEL_SPLIT,
    UNIFIED_ON,
    UNIFIED_OWN,
    UNIFIED_S2,
    W1_ON,
    W1_OWN,
    node_work,
    write_combined,
    write_evaluation,
    write_train,
)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND"]  # and no host name resolves
WINDOW = (1280, 2400)
DATA_URI = re.compile(r'src="data:image/png;base64,([^"]+)"')
# Appended to a copy of the page: after the load event, each image's state goes into the DOM
# for --dump-dom. "whole": loaded, and its last pixel drawn (the figures are opaque), which a
# PNG cut short fails.
PROBE = """<script>addEventListener("load", () => {
  const canvas = document.createElement("canvas").getContext("2d");
  const out = document.createElement("pre");
  out.id = "decoded";
  out.textContent = Array.from(document.images, image => {
    const width = image.naturalWidth, height = image.naturalHeight;
    let whole = false;
    if (image.complete && width > 0) {
      canvas.canvas.width = width;
      canvas.canvas.height = height;
      canvas.drawImage(image, 0, 0);
      whole = canvas.getImageData(width - 1, height - 1, 1, 1).data[3] > 0;
    }
    return `${whole} ${width} ${height}`;
  }).join("\\n");
  document.body.append(out);
});</script>"""


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    if path is None:
        reason = "chromium not found: install it (Debian: sudo apt-get install chromium)"
        if "CI" in os.environ:
            pytest.fail(f"{reason}; in CI .ci/run installs it")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    """A real report.html with six figures: label split, F1, time, fedavg rounds, resources."""
    tmp = tmp_path_factory.mktemp("browser")
    runs_dir = tmp / "runs"
    work = {"master": node_work(1.0, 10, 500), "w1": node_work(3.0, 30, 500)}
    for seed, matrix in [(1, UNIFIED_OWN), (2, UNIFIED_S2)]:
        write_train(runs_dir, f"unified-s{seed}-a", "unified", seed, matrix, eval_set="global",
                    train_nodes=["master", "w1"], split=LABEL_SPLIT, work_per_node=work)
    write_train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", split=LABEL_SPLIT)
    write_combined(runs_dir, "fedavg-s1-a", "fedavg", 1, None, split=LABEL_SPLIT,
                   rounds=[{"round": 1, "loss": 0.9}, {"round": 2, "loss": 0.4}],
                   params={"rounds": 2, "local_steps": 10})
    for node in UNIFIED_ON:
        for run_id, model, matrix in [("unified-s1-a", "unified", UNIFIED_ON[node]),
                                      ("w1-s1-a", "w1", W1_ON[node]),
                                      ("fedavg-s1-a", "fedavg", UNIFIED_ON[node])]:
            write_evaluation(runs_dir, run_id, model, 1, node, matrix)
    report.write(str(runs_dir), str(tmp / "reports"), str(tmp / "no-slices"))
    assert len(list((tmp / "reports").glob("*.png"))) == 6
    return tmp / "reports" / "report.html"


def run_chromium(chromium, profile, page, *options) -> str:
    """Chromium's stdout for the file `page`, with a fresh profile in the folder `profile`."""
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *options,
                             page.as_uri()], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def decoded_images(chromium, page, tmp_path) -> list[tuple[bool, int, int]]:
    """(whole, natural width, natural height) of each <img> of `page`, as Chromium loaded it."""
    probed = tmp_path / f"probed-{page.name}"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")
    dom = run_chromium(chromium, tmp_path / "probe-profile", probed,
                       "--virtual-time-budget=5000", "--dump-dom")
    found = re.search(r'<pre id="decoded">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run; the DOM ends: {dom[-500:]}"
    return [(whole == "true", int(width), int(height))
            for whole, width, height in (line.split() for line in found[1].splitlines())]


def png_size(data: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return image.size


def test_the_screenshot_has_the_window_size_and_shows_something(chromium, report_html, tmp_path):
    shot = tmp_path / "report.png"
    run_chromium(chromium, tmp_path / "profile", report_html, f"--screenshot={shot}",
                 "--window-size={},{}".format(*WINDOW))
    assert shot.is_file(), "Chromium wrote no screenshot"
    with Image.open(shot) as image:
        image.load()  # decodes every pixel
        assert (image.format, image.size) == ("PNG", WINDOW)
        extrema = image.convert("RGB").getextrema()
    assert any(low != high for low, high in extrema), f"one flat colour: {extrema}"


def test_every_image_of_report_html_decoded_at_its_png_size(chromium, report_html, tmp_path):
    page = report_html.read_text(encoding="utf-8")
    sizes = [png_size(data) for data in DATA_URI.findall(page)]
    assert len(sizes) == page.count("<img ") == 6
    assert decoded_images(chromium, report_html, tmp_path) == [(True, *size) for size in sizes]


def test_a_corrupted_image_is_reported_as_not_decoded(chromium, report_html, tmp_path):
    page = report_html.read_text(encoding="utf-8")
    first, second = DATA_URI.findall(page)[:2]
    png = base64.b64decode(second)
    corrupted = tmp_path / "corrupted.html"
    corrupted.write_text(page.replace(first, base64.b64encode(b"not a PNG").decode())
                         .replace(second, base64.b64encode(png[:len(png) // 2]).decode()),
                         encoding="utf-8")
    decoded = decoded_images(chromium, corrupted, tmp_path)
    assert decoded[:2] == [(False, 0, 0), (False, *png_size(second))]  # not a PNG; cut short
    assert [whole for whole, _, _ in decoded[2:]] == [True] * 4
