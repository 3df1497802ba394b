/**
 * Render an HTML page (inline SVG, or canvases drawn by its script) to a PNG
 * with headless chromium (Debian's package, driven by playwright-core): the
 * figures get real fonts, titles, axes and colour bars without a plotting
 * library. The page signals it is drawn by setting document.body.dataset.done.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { encodePng } from "../../src/data/image.ts";

export async function renderPng(
  html: string,
  out: string,
  width: number,
  options: { gray?: boolean } = {},
): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), "nadir-figure-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.NADIR_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
    viewport: { width, height: 400 },
    deviceScaleFactor: 1,
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.setContent(html);
    await page
      .waitForSelector("body[data-done]", { state: "attached", timeout: 30_000 })
      .catch((e: Error) => {
        throw new Error(`figure page: ${errors.join("; ") || e.message}`);
      });
    const shot = await page.locator("#figure").screenshot();
    if (!options.gray) {
      writeFileSync(out, shot);
      return;
    }
    // an 8-bit grayscale PNG (a quarter of RGBA's bytes): luma of each pixel
    const { w, h, gray } = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const g: number[] = new Array(c.width * c.height);
      for (let p = 0; p < g.length; p++)
        g[p] = Math.round(0.2126 * d[4 * p]! + 0.7152 * d[4 * p + 1]! + 0.0722 * d[4 * p + 2]!);
      return { w: c.width, h: c.height, gray: g };
    }, shot.toString("base64"));
    writeFileSync(
      out,
      encodePng({ width: w, height: h, maxval: 255, data: Uint16Array.from(gray) }),
    );
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** viridis as a JavaScript function source, for figure pages. */
export const VIRIDIS_JS = `
const STOPS = [[68,1,84],[71,44,122],[59,81,139],[44,113,142],[33,144,141],[39,173,129],[92,200,99],[170,220,50],[253,231,37]];
function viridis(t) {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  return STOPS[i].map((a, k) => Math.round(a + f * (STOPS[i + 1][k] - a)));
}`;

export const PAGE_STYLE = `
body { margin: 0; background: #fff; font-family: "DejaVu Sans", system-ui, sans-serif; color: #1d2330; }
#figure { display: inline-block; padding: 16px 20px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.sub { font-size: 13px; color: #555; margin: 0 0 10px; max-width: 1100px; }
`;
