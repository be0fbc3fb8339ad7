// SPDX-License-Identifier: Apache-2.0
// lib.mjs: what every browser test (tests/web/*.test.mjs) shares. test_web.sh starts a
// lab for each test file and runs it with node; the test prints TAP lines ("ok - what",
// "not ok - what", "ok # SKIP why") that tests/run.sh counts.
//
// The browser is Debian's chromium, driven by playwright-core (package.json, pinned with
// its lockfile). It resolves portal.contoso.com to the lab's portal (as the README's
// hosts line does) and trusts the lab's root through the NSS database in $HOME, as a
// person's browser would after the README's certutil line. Every request to another host
// is refused and recorded: a test fails on any (issue 17: no page loads anything from
// outside the lab).
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export const env = {
  wapsim: process.env.WAPSIM,      // the wapsim under test
  lab: process.env.WEB_LAB,        // this test's lab, running
  portal: process.env.WEB_PORTAL,  // the portal machine's address
  shots: process.env.WEB_SHOTS,    // build/web-shots
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
export const TENANT_SITE = 'https://portal.contoso.com:30081';
export const ADMIN_SITE = 'https://portal.contoso.com:30091';
const LAB_HOSTS = new Set(['portal.contoso.com']);

let failed = 0;
export function ok(what) { console.log(`ok - ${what}`); }
export function notOk(what, why) { failed++; console.log(`not ok - ${what}${why ? ` (${why})` : ''}`); }
export function skip(why) { console.log(`ok # SKIP ${why}`); }
export function check(what, cond, why) { if (cond) ok(what); else notOk(what, why); return !!cond; }

// Run wapsim on this test's lab: {status, stdout, stderr}.
export function wapsim(...args) {
  const r = spawnSync(env.wapsim, ['--lab', env.lab, ...args], { encoding: 'utf8', timeout: 120000 });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

// An account's lab password (wapsim lab accounts --json).
export function password(account) {
  const rows = JSON.parse(wapsim('lab', 'accounts', '--json').stdout);
  const row = rows.find((a) => a.account.toLowerCase() === account.toLowerCase());
  if (!row) throw new Error(`no account ${account} in the lab`);
  return row.password;
}

// The browser, with a fresh context (no cookies): {browser, context, offsite}. offsite
// lists every URL of another host a page asked for (each was refused). portal: the
// address portal.contoso.com resolves to (another lab's, e.g. a classroom seat's).
export async function openBrowser(portal = env.portal) {
  const browser = await chromium.launch({
    executablePath: env.chromium,
    args: ['--no-sandbox', `--host-resolver-rules=MAP portal.contoso.com ${portal}`],
    env: { ...process.env },
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 860 } });
  const offsite = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LAB_HOSTS.has(url.hostname)) return route.continue();
    offsite.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { browser, context, offsite };
}

// Close the browser; a failed check when any page asked for a URL outside the lab.
export async function closeBrowser(b, what) {
  await b.browser.close();
  check(`${what}: no request left the lab`, b.offsite.length === 0, b.offsite.slice(0, 3).join(' '));
}

// A screenshot of the page, build/web-shots/NAME.png (whole page).
export async function shot(page, name) {
  mkdirSync(env.shots, { recursive: true });
  await page.screenshot({ path: `${env.shots}/${name}.png`, fullPage: true });
}

// Run a test body; an exception is a failed check, and the exit status tells run.sh.
export async function run(name, body) {
  try {
    await body();
  } catch (err) {
    notOk(`${name}: ran to the end`, String(err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err));
  }
  process.exit(failed ? 1 : 0);
}
