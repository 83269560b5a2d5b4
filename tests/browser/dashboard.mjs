// Drives the coordinator dashboard in Debian's headless Chromium through playwright-core, as a
// coordinator would use it. tests/tests/browser_dashboard.rs starts the relay, seeds it, enrols
// devices and runs this script; it prints progress lines on stdout and, at WAITING-FOR-SYNC,
// waits for the overview to update by itself while the Rust side syncs a new contact from a
// phone. Any failed step exits non-zero with the reason on stderr. Screenshots of the main pages
// go to PEERLOG_SCREENSHOTS; the downloaded report to PEERLOG_DOWNLOADS.
import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const url = env("PEERLOG_URL");
const user = env("PEERLOG_USER");
const password = env("PEERLOG_PASSWORD");
const prwId = env("PEERLOG_PRW_ID");
const revokeDevice = env("PEERLOG_REVOKE_DEVICE");
const shots = env("PEERLOG_SCREENSHOTS");
const downloads = env("PEERLOG_DOWNLOADS");
const executablePath = process.env.PEERLOG_CHROMIUM || "/usr/bin/chromium";
fs.mkdirSync(shots, { recursive: true });
fs.mkdirSync(downloads, { recursive: true });

const step = (name) => console.log(`STEP ${name}`);
const problems = [];

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // A CSP violation or a script error is a failure: the pages must work under their policy.
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  step("login");
  await page.goto(`${url}/login`);
  await shot("login");
  await page.fill("#name", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL("**/overview"), page.click("form[action='/login'] button[type=submit]")]);

  step("overview");
  const cell = page.locator(`tr[data-prw="${prwId}"] td.contacts-week`);
  await cell.waitFor();
  const before = Number(await cell.textContent());
  if (!(await page.locator("svg.chart").count())) throw new Error("no contacts-per-week chart on the overview");
  await shot("overview");
  // Let the page's event stream connect before the phone syncs.
  await page.waitForTimeout(1500);
  console.log(`WAITING-FOR-SYNC ${before}`);
  await page.waitForFunction(
    ([sel, n]) => Number(document.querySelector(sel)?.textContent) > n,
    [`tr[data-prw="${prwId}"] td.contacts-week`, before],
    { timeout: 30000 },
  );
  console.log(`OVERVIEW-UPDATED ${await cell.textContent()}`);
  await shot("overview-after-sync");

  step("open a case");
  await page.goto(`${url}/cases`);
  await shot("cases");
  await Promise.all([page.waitForURL(/\/cases\/[^/]+$/), page.locator("table a").first().click()]);
  await shot("case");
  await Promise.all([page.waitForURL(/\/open$/), page.click("#open-record")]);
  await page.locator("#timeline").waitFor();
  if (!(await page.locator("[data-contact]").count())) throw new Error("the opened case shows no contacts");
  await shot("case-record");

  step("guidance agenda");
  await page.goto(`${url}/prws/${prwId}/agenda`);
  await page.locator("#flagged").waitFor();
  await shot("agenda");

  step("enrolment code");
  await page.goto(`${url}/people`);
  await shot("people");
  await Promise.all([
    page.waitForURL(/enrolment-code$/),
    page.locator(`form[action="/users/${prwId}/enrolment-code"] button`).click(),
  ]);
  const code = (await page.locator("#enrolment-code").textContent()).trim();
  if (!/^[A-Z0-9-]{8,}$/.test(code)) throw new Error(`no enrolment code shown (got "${code}")`);
  if (!(await page.locator(".qr svg").count())) throw new Error("no QR code shown");
  console.log(`ENROLMENT-CODE ${code}`);
  await shot("enrolment-code");

  step("revoke a device");
  await page.goto(`${url}/people`);
  await Promise.all([
    page.waitForURL("**/people"),
    page.locator(`form[action="/devices/${revokeDevice}/revoke"] button`).click(),
  ]);
  if (await page.locator(`form[action="/devices/${revokeDevice}/revoke"]`).count()) {
    throw new Error("the revoked device still offers a revoke button");
  }
  console.log("REVOKED");

  step("report download");
  await page.goto(`${url}/reports`);
  await shot("reports");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  const file = path.join(downloads, download.suggestedFilename());
  await download.saveAs(file);
  console.log(`DOWNLOADED ${file}`);

  step("language");
  await page.goto(`${url}/account`);
  await page.selectOption("#language", "en");
  await Promise.all([page.waitForURL("**/account"), page.click("form[action='/account/language'] button")]);
  if ((await page.getAttribute("html", "lang")) !== "en") throw new Error("language did not switch to English");
  await page.goto(`${url}/overview`);
  await shot("overview-en");

  step("sign out");
  await page.click("form.signout button");
  await page.waitForURL("**/login");
  if (problems.length) throw new Error(problems.join("\n"));
  console.log("DONE");
} catch (err) {
  console.error(`FAILED: ${err && err.stack ? err.stack : err}`);
  if (problems.length) console.error(problems.join("\n"));
  process.exitCode = 1;
} finally {
  await browser.close();
}
