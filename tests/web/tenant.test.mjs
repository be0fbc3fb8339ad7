// SPDX-License-Identifier: Apache-2.0
// tenant: the tenant site (portal, 30081) as a tenant meets Console Connect (issue 17).
// alice signs in and lists her VMs with JavaScript off; opens web01's dashboard, Connect
// -> Console -> the security warning -> the download: web01.rdp, which rdp-verify
// accepts. With mistake 1a in place (VMM's console certificate gone from hv01) the same
// clicks download web01.json: the portal's API's JSON error, byte for byte. bob cannot
// open alice's VM by URL; a form post without the anti-forgery token is refused; a
// wrong password shows the message. A screenshot per page in build/web-shots/tenant-*.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TENANT_SITE, check, closeBrowser, openBrowser, password, run, shot, wapsim } from './lib.mjs';

const VIEWPORT = { width: 1280, height: 860 };

// Another context of the same browser, refused any host but the lab's as lib's is.
async function context(b, options) {
  const ctx = await b.browser.newContext({ acceptDownloads: true, viewport: VIEWPORT, ...options });
  await ctx.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === 'portal.contoso.com') return route.continue();
    b.offsite.push(url.href);
    return route.abort('blockedbyclient');
  });
  return ctx;
}

// A page that records what the browser refused to run or load (CSP) and script errors
// (not the 403, 404 and 500 answers this test asks for on purpose).
async function page(ctx, problems) {
  const p = await ctx.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded/.test(m.text())) problems.push(m.text());
  });
  p.on('pageerror', (err) => problems.push(String(err)));
  return p;
}

async function signIn(p, user, pw) {
  await p.goto(`${TENANT_SITE}/`);
  await p.fill('#user', user);
  await p.fill('#password', pw);
  return Promise.all([p.waitForNavigation(), p.click('button[type=submit]')]).then(([r]) => r);
}

// Connect -> Console -> the warning's Connect; the download and its bytes.
async function connectConsole(p, dir, name) {
  await p.click('#connect summary');
  await p.click('#connect-console');
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('#console-open')]);
  const file = join(dir, name);
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), file, bytes: readFileSync(file) };
}

// A POST from the page itself (the browser's resolver and cookies: page.request would
// use node's): form null sends no body, as scripts post; form '' an empty body labelled
// application/x-www-form-urlencoded, as libcurl (sim/client/browser.c) posts.
async function post(p, path, form) {
  return p.evaluate(async ([url, fields]) => {
    const body = fields === null ? undefined : fields === '' ? '' : new URLSearchParams(fields);
    const headers = fields === '' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {};
    const r = await fetch(url, { method: 'POST', body, headers });
    return { status: r.status, body: Array.from(new Uint8Array(await r.arrayBuffer())) };
  }, [path, form]);
}

await run('tenant', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-web-'));
  const alicePw = password('alice');
  const b = await openBrowser();
  const problems = [];

  // ---- sign-in and the list, without JavaScript
  const noJs = await context(b, { javaScriptEnabled: false });
  let p = await page(noJs, problems);
  let r = await p.goto(`${TENANT_SITE}/`);
  check('the sign-in page answers 200', r && r.status() === 200, r && r.status());
  check('... a form posting to /login with a hidden csrf token',
    (await p.locator('form[action="/login"] input[type=hidden][name=csrf]').getAttribute('value') || '').length === 64);
  await shot(p, 'tenant-sign-in');
  r = await signIn(p, 'alice', alicePw);
  check('alice signs in without JavaScript and lands on /vms', new URL(p.url()).pathname === '/vms', p.url());
  const rows = await p.locator('tr.vm').evaluateAll((trs) => trs.map((tr) => tr.innerText));
  const web01Row = rows.find((t) => t.includes('web01')) || '';
  check('the list shows web01 with its status and OS', /Running/.test(web01Row) && /Windows/i.test(web01Row), web01Row);
  const listHtml = await p.content();
  check('... and never a host (hv01, hv02)', !/hv0\d/i.test(listHtml));
  const cookie = (await noJs.cookies()).find((c) => c.name === 'WapsimTenantSession');
  check('the session cookie is HttpOnly, Secure, SameSite=Strict',
    cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  await shot(p, 'tenant-vms');
  const href = await p.locator('tr.vm[data-vm="web01"] a.vm-name').getAttribute('href');
  const vmId = href.split('/')[2];
  await p.goto(`${TENANT_SITE}/vms/${vmId}`);
  const plain = await connectConsole(p, dir, 'plain-web01.rdp');
  const pv = wapsim('rdp-verify', plain.file);
  check('without JavaScript too, Connect -> Console saves web01.rdp that rdp-verify accepts',
    plain.name === 'web01.rdp' && pv.status === 0, `${plain.name} ${pv.status} ${pv.stderr.trim()}`);

  // ---- the dashboard, Connect -> Console -> the warning -> web01.rdp (JavaScript on)
  const js = await context(b, { storageState: await noJs.storageState() });
  p = await page(js, problems);
  await p.goto(`${TENANT_SITE}/vms`);
  await Promise.all([p.waitForNavigation(), p.click('tr.vm[data-vm="web01"] a.vm-name')]);
  check('web01\'s dashboard opens from the list', (await p.locator('#vm-name').innerText()) === 'web01', p.url());
  check('... its command bar has Connect', await p.locator('footer.commandbar #connect summary').isVisible());
  await p.click('#connect summary');
  check('... whose menu offers Console', await p.locator('#connect-console').isVisible());
  check('... and Desktop, disabled', (await p.locator('#connect-desktop').getAttribute('aria-disabled')) === 'true');
  await shot(p, 'tenant-dashboard');
  await Promise.all([p.waitForNavigation(), p.click('#connect-console')]);
  const warning = await p.locator('#console-warning').innerText();
  check('Console first shows the security warning (not to a shared location)',
    /Do not save the RDP file to a shared location/.test(warning), warning.slice(0, 80));
  await shot(p, 'tenant-console-warning');
  await p.goto(`${TENANT_SITE}/vms/${vmId}`);
  const rdp = await connectConsole(p, dir, 'web01.rdp');
  check('the download is web01.rdp', rdp.name === 'web01.rdp', rdp.name);
  const v = wapsim('rdp-verify', rdp.file);
  check('rdp-verify accepts it (exit 0)', v.status === 0, `${v.status} ${v.stderr.trim()}`);
  check('... signed by CN=Remote Console Connect', /Signer: *CN=Remote Console Connect/.test(v.stdout), v.stdout.trim());

  // ---- mistake 1a: the same clicks download the portal's JSON error
  const rm = wapsim('cert', 'remove', 'vmm-console', '--machine', 'hv01', '--store', 'My');
  check('mistake 1a in place (vmm-console removed from hv01)', rm.status === 0, rm.stderr.trim());
  await p.goto(`${TENANT_SITE}/vms/${vmId}`);
  const json = await connectConsole(p, dir, 'web01.json');
  check('with 1a the download is web01.json', json.name === 'web01.json', json.name);
  const api = await post(p, `/api/vms/${vmId}/console`, null);
  const apiBody = Buffer.from(api.body);
  check('... the API answers the same request 500', api.status === 500, api.status);
  check('... and the file is the API\'s JSON body, byte for byte', Buffer.compare(apiBody, json.bytes) === 0,
    `${json.bytes.length} vs ${apiBody.length} bytes`);
  let parsed = null;
  try { parsed = JSON.parse(json.bytes.toString('utf8')); } catch { /* checked below */ }
  check('... which is JSON', parsed !== null, json.bytes.toString('utf8').slice(0, 80));

  // ---- anti-forgery: a form post without the session's token is refused
  const token = await (async () => {
    await p.goto(`${TENANT_SITE}/vms/${vmId}/console`);
    return p.locator('#console-warning input[name=csrf]').getAttribute('value');
  })();
  r = await post(p, `/vms/${vmId}/console`, { other: 'x' });
  check('a form post without the token is refused (403)', r.status === 403, r.status);
  r = await post(p, `/vms/${vmId}/console`, { csrf: '0'.repeat(64) });
  check('... and with a wrong token (403)', r.status === 403, r.status);
  r = await post(p, `/api/vms/${vmId}/console`, { other: 'x' });
  check('... on the API\'s path too (403)', r.status === 403, r.status);
  r = await post(p, `/api/vms/${vmId}/console`, '');
  check('... while the API\'s body-less post labelled as a form (libcurl\'s) is answered (500)', r.status === 500,
    r.status);
  r = await post(p, '/logout', {});
  check('... and sign-out without it (403)', r.status === 403, r.status);
  r = await post(p, `/vms/${vmId}/console`, { csrf: token });
  check('... while the same post with the token is answered (the JSON file, 500)', r.status === 500, r.status);

  // ---- bob cannot open alice's VM by URL
  const bobCtx = await context(b, { javaScriptEnabled: false });
  p = await page(bobCtx, problems);
  await signIn(p, 'bob', password('bob'));
  check('bob signs in', new URL(p.url()).pathname === '/vms', p.url());
  check('... and web01 is not in his list', (await p.locator('tr.vm[data-vm="web01"]').count()) === 0);
  r = await p.goto(`${TENANT_SITE}/vms/${vmId}`);
  check('alice\'s web01 dashboard by URL: 404 for bob', r && r.status() === 404, r && r.status());
  check('... the not-found page', /not found/i.test(await p.locator('#message h1').innerText()));
  check('... with nothing of web01 on it', !/web01/.test(await p.content()));
  await shot(p, 'tenant-not-found');
  const logs = wapsim('logs', '--machine', 'portal', '--json');
  let ev403 = [];
  try { ev403 = JSON.parse(logs.stdout).filter((e) => (e.event_id ?? e.id) === 403); } catch { /* checked below */ }
  check('... and the portal wrote event 403', ev403.some((e) => JSON.stringify(e).includes(vmId)),
    logs.stdout.slice(0, 200));

  // ---- a wrong password shows the message
  const wrong = await context(b, { javaScriptEnabled: false });
  p = await page(wrong, problems);
  r = await signIn(p, 'alice', 'not-her-password');
  check('a wrong password keeps the sign-in page', new URL(p.url()).pathname === '/login', p.url());
  const notice = await p.locator('.notice').innerText().catch(() => '');
  check('... saying the user name or password is incorrect', /user name or password is incorrect/.test(notice), notice);

  check('no page broke a rule of the CSP or threw an error', problems.length === 0, problems.slice(0, 3).join(' | '));
  await closeBrowser(b, 'tenant');
});
