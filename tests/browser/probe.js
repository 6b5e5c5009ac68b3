// Runs inside the page (Playwright `page.evaluate`) and reports what a reader would meet.
// It only observes: the Python side (page_report.py) decides what counts as a defect.
// Links are fetched by the browser itself so that URL resolution, redirects and HTML
// parsing (for anchors) are exactly the browser's, not a re-implementation of them.
async () => {
  // Open every collapsed block (hidden cells, solutions): a reader may open them too.
  for (const details of document.querySelectorAll("details")) {
    details.open = true;
  }
  // Images: make lazy ones load now, then wait for every image to finish (or fail).
  const images = Array.from(document.images);
  for (const img of images) {
    img.loading = "eager";
  }
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const imageReport = images.map((img) => ({
    src: img.getAttribute("src") || "",
    url: img.currentSrc || img.src,
    alt: img.getAttribute("alt"),
    naturalWidth: img.naturalWidth,
    renderedWidth: img.getBoundingClientRect().width,
  }));

  // Code and output blocks whose lines do not fit: wider than their box (so cut off or
  // scrolled), or running past the right edge of the article.
  const article = document.querySelector("article") || document.body;
  const articleRight = article.getBoundingClientRect().right;
  const blocks = article.querySelectorAll(
    "div.cell pre, div.cell_output div.output, div.cell_output table"
  );
  const clippedReport = [];
  for (const block of blocks) {
    const box = block.getBoundingClientRect();
    if (box.width === 0) continue;
    const overflow = Math.max(block.scrollWidth - block.clientWidth, box.right - articleRight);
    if (overflow <= 1) continue;
    const lines = (block.innerText || block.textContent || "").split("\n");
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
    clippedReport.push({
      kind: block.closest("div.cell_input") ? "code" : "output",
      overflowPx: Math.round(overflow),
      line: longest.slice(0, 120),
    });
  }

  // Cell outputs that look like errors; tags of the cell they belong to.
  // A cell's outputs are `div.output` inside `div.cell_output`; the container is
  // looked at only for text outside any `div.output` (so nothing is reported twice).
  const mark = "Traceback (most recent call last)";
  const textOf = (element) => element.innerText || element.textContent || "";
  const outputReport = [];
  for (const output of document.querySelectorAll("div.output, div.cell_output")) {
    const text = textOf(output);
    const classes = Array.from(output.classList);
    const flaggedClass = ["traceback", "error", "stderr"].some((name) => classes.includes(name));
    let suspicious = flaggedClass || text.includes(mark);
    if (classes.includes("cell_output") && !classes.includes("output")) {
      const inner = Array.from(output.querySelectorAll("div.output"));
      suspicious = text.includes(mark) && !inner.some((child) => textOf(child).includes(mark));
    }
    if (!suspicious) continue;
    const cell = output.closest("div.cell");
    const tags = cell
      ? Array.from(cell.classList)
          .filter((name) => name.startsWith("tag_"))
          .map((name) => name.slice(4))
      : [];
    outputReport.push({ classes, text: text.slice(0, 4000), tags });
  }

  // Header buttons: where "Launch on Binder" and "Suggest edit" send the reader.
  const hrefs = (selector) =>
    Array.from(document.querySelectorAll(selector)).map((a) => a.getAttribute("href"));
  const launchLinks = hrefs(".dropdown-launch-buttons a[href]");
  const editLinks = hrefs("a.btn-source-edit-button[href]");

  // Internal links: every <a href> on this origin, fetched once per target document.
  const targets = new Map();
  for (const a of document.querySelectorAll("a[href]")) {
    const raw = a.getAttribute("href");
    if (!raw || raw.startsWith("javascript:") || raw.startsWith("mailto:")) continue;
    let url;
    try {
      url = new URL(raw, document.baseURI);
    } catch (error) {
      targets.set(raw, { raw, invalid: true, fragments: new Set(), text: a.textContent });
      continue;
    }
    if (url.origin !== location.origin) continue;
    const fragment = decodeURIComponent(url.hash.slice(1));
    url.hash = "";
    const key = url.href;
    if (!targets.has(key)) {
      targets.set(key, { raw, fragments: new Set(), text: (a.textContent || "").trim() });
    }
    if (fragment) targets.get(key).fragments.add(fragment);
  }
  const here = new URL(location.href);
  here.hash = "";
  const hasAnchor = (doc, id) =>
    doc.getElementById(id) !== null || doc.getElementsByName(id).length > 0;
  const linkReport = [];
  for (const [key, target] of targets) {
    const entry = { href: target.raw, url: key, text: target.text.slice(0, 80) };
    if (target.invalid) {
      linkReport.push({ ...entry, status: 0, missingAnchors: [] });
      continue;
    }
    let status = 0;
    let doc = null;
    try {
      const response = await fetch(key, { cache: "no-store" });
      status = response.status;
      const type = response.headers.get("content-type") || "";
      if (response.ok && target.fragments.size && type.includes("html")) {
        doc =
          key === here.href
            ? document
            : new DOMParser().parseFromString(await response.text(), "text/html");
      }
    } catch (error) {
      status = 0;
    }
    const missingAnchors = doc
      ? Array.from(target.fragments).filter((id) => !hasAnchor(doc, id))
      : [];
    linkReport.push({ ...entry, status, missingAnchors });
  }

  return {
    title: document.title,
    images: imageReport,
    clipped: clippedReport,
    outputs: outputReport,
    launchLinks,
    editLinks,
    links: linkReport,
  };
}
