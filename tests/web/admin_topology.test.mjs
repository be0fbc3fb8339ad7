// SPDX-License-Identifier: Apache-2.0
// admin_topology: the admin site's topology, machines, event viewer and certificates in
// the browser. The fabric administrator signs in; a connect made from the CLI turns the
// picture red at gateway-auth without a reload; a service restart, an event filter, a
// certificate import and removal round-trip through the lab (checked with the CLI); a
// post without the anti-forgery token and a tenant's session are refused.
import { ADMIN_SITE, TENANT_SITE, check, closeBrowser, openBrowser, password, run, shot, wapsim } from './lib.mjs';

const json = (...args) => {
  const r = wapsim(...args, '--json');
  if (r.status !== 0) throw new Error(`wapsim ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
};
const admin = () => json('lab', 'accounts').find((a) => a.role === 'fabric-admin');

async function signIn(page, user, pass) {
  await page.goto(`${ADMIN_SITE}/`);
  await shot(page, 'admin-sign-in');
  await page.fill('#user', user);
  await page.fill('#password', pass);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

async function topology(page) {
  const acct = admin();
  await signIn(page, acct.account, acct.password);
  check('the fabric administrator lands on the topology', new URL(page.url()).pathname === '/topology', page.url());
  const signedIn = json('logs', '--machine', 'portal').filter((e) => e.event_id === 100);
  const last = signedIn[signedIn.length - 1];
  check('the sign-in is logged by the admin site, not the tenant site (event 100, MgmtSvc-AdminSite)',
    last && last.source === 'MgmtSvc-AdminSite' && last.text.includes(acct.account), last && `${last.source}: ${last.text}`);
  const machines = json('status').machines.map((m) => m.name).concat(['client']);
  const drawn = await page.$$eval('svg#topology g.machine', (gs) => gs.map((g) => `${g.dataset.machine}=${g.dataset.state}`));
  const missing = machines.filter((m) => !drawn.includes(`${m}=running`));
  check('the topology shows every machine of the lab, running', missing.length === 0, `missing ${missing} in ${drawn}`);
  await shot(page, 'admin-topology');

  // A good connect first: the picture follows it (green at console).
  const before = await page.getAttribute('svg#topology', 'data-connect');
  await page.evaluate(() => { window.__notReloaded = true; });
  const good = wapsim('connect', '--tenant', 'alice', '--vm', 'web01');
  check('wapsim connect succeeds on the healthy lab', good.status === 0, good.stderr.trim());
  let green = true;
  await page.waitForSelector('svg#topology .hop[data-hop="console"][data-state="ok"]', { timeout: 10000 })
    .catch(() => { green = false; });
  check('the good connect shows green at console without a reload', green);
  await shot(page, 'admin-topology-ok');
  // The PC cannot resolve the host, so its direct try found no route and went on through the
  // gateway: drawn grey and labelled so, not as a wire to the host that worked.
  const direct = await page.$eval('svg#topology .hop[data-hop="direct"]', (g) => g.textContent).catch(() => '');
  check('the direct try is labelled "via gateway" (the PC went on through the RD Gateway)',
    direct.includes('via gateway'), direct);
  const afterGood = await page.getAttribute('svg#topology', 'data-connect');
  check('data-connect moved to the new connect', afterGood !== before && Number(afterGood) > Number(before || 0),
    `${before} -> ${afterGood}`);

  // Remove the trusted issuer: the next connect fails at gateway-auth (50331701).
  const set = wapsim('gateway', 'set', '--trusted-issuers', '');
  check('gateway set --trusted-issuers "" ran', set.status === 0, set.stderr.trim());
  const bad = wapsim('connect', '--tenant', 'alice', '--vm', 'web01');
  check('the connect fails once the gateway trusts no issuer', bad.status !== 0, bad.stdout.slice(0, 200));
  let red = true;
  await page.waitForSelector('svg#topology .hop[data-hop="gateway-auth"][data-state="fail"]', { timeout: 10000 })
    .catch(() => { red = false; });
  check('without a reload, the picture turns red at gateway-auth within 10 s', red);
  check('the page was not reloaded', await page.evaluate(() => window.__notReloaded === true));
  const caption = await page.textContent('#topology-caption');
  check('the caption names code 50331701, the tenant, the VM and the stage',
    /50331701/.test(caption) && /0x03000035/i.test(caption) && /alice/.test(caption) && /web01/.test(caption) &&
    /gateway-auth/.test(caption), caption);
  check('no hop after gateway-auth is drawn', (await page.$$('svg#topology .hop[data-hop="channel"]')).length === 0);
  await page.waitForSelector('#recent tr.shown', { timeout: 5000 }).catch(() => {});
  await shot(page, 'admin-topology-failed');
  const svg = await page.evaluate(async () => {
    const res = await fetch('/topology.svg');
    return { type: res.headers.get('content-type'), text: await res.text() };
  });
  check('/topology.svg is image/svg+xml, the svg alone', /^image\/svg\+xml/.test(svg.type) &&
    svg.text.startsWith('<svg id="topology"') && svg.text.trim().endsWith('</svg>'), svg.type);

  // Any client may ask for any VM name: one with a control character and markup is
  // recorded as asked. The picture the page parses as XML still follows it, the markup as text.
  const shown = await page.getAttribute('svg#topology', 'data-connect');
  wapsim('connect', '--tenant', 'alice', '--vm', 'web\u0001<i>x</i>');
  let followed = true;
  await page.waitForFunction((id) => document.querySelector('svg#topology')?.getAttribute('data-connect') !== id,
    shown, { timeout: 10000 }).catch(() => { followed = false; });
  check('a connect to a VM named with a control character and markup still updates the picture', followed,
    await page.getAttribute('#topology-frame', 'class'));
  check('... whose caption shows the markup as text', followed &&
    (await page.textContent('#topology-caption')).includes('<i>x</i>') &&
    (await page.$$('svg#topology i')).length === 0);
}

async function machines(page) {
  await page.goto(`${ADMIN_SITE}/machines`);
  const rows = await page.$$eval('tr.machine-row', (rs) => rs.map((r) => r.dataset.machine));
  check('the machines page lists hv02 and the portal', rows.includes('hv02') && rows.includes('portal'), rows.join(','));
  await shot(page, 'admin-machines');
  // Stop hv02: the row and the topology say stopped; Start brings it back.
  await Promise.all([page.waitForNavigation({ timeout: 90000 }),
    page.click('tr[data-machine="hv02"] button[value="stop"]')]);
  check('Stop of hv02: outcome exit 0, the row says stopped', await page.getAttribute('#outcome', 'data-status') === '0' &&
    await page.getAttribute('tr[data-machine="hv02"]', 'data-state') === 'stopped');
  await page.goto(`${ADMIN_SITE}/topology`);
  check('the topology draws hv02 stopped',
    (await page.$$('svg#topology g.machine[data-machine="hv02"][data-state="stopped"]')).length === 1);
  await page.goto(`${ADMIN_SITE}/machines`);
  await Promise.all([page.waitForNavigation({ timeout: 90000 }),
    page.click('tr[data-machine="hv02"] button[value="start"]')]);
  check('Start of hv02: outcome exit 0, the row says running', await page.getAttribute('#outcome', 'data-status') === '0' &&
    await page.getAttribute('tr[data-machine="hv02"]', 'data-state') === 'running');
  const pidBefore = json('status').machines.find((m) => m.name === 'hv02').pid;
  await Promise.all([page.waitForNavigation({ timeout: 90000 }),
    page.click('tr[data-machine="hv02"] button[value="restart"]')]);
  const status = await page.getAttribute('#outcome', 'data-status');
  const out = await page.textContent('#outcome');
  check('Restart of hv02: the outcome box shows exit 0 and the command', status === '0' &&
    /wapsim service restart hv02/.test(out), `${status}: ${out.slice(0, 300)}`);
  check('hv02 is healthy again on the page', await page.getAttribute('tr[data-machine="hv02"]', 'data-state') === 'running');
  const after = json('status').machines.find((m) => m.name === 'hv02');
  check('hv02 runs a new process, healthy (wapsim status)', after.healthy === true && after.pid !== pidBefore,
    `${pidBefore} -> ${after.pid} healthy ${after.healthy}`);
  await shot(page, 'admin-machines-restarted');
  // The command bar's Refresh after a change reloads the machines page, by GET.
  const [again] = await Promise.all([page.waitForNavigation(), page.click('footer.commandbar a.cmdlink')]);
  check('Refresh after the restart reloads the machines page (GET /machines, 200)', again.status() === 200 &&
    new URL(page.url()).pathname === '/machines' && (await page.$$('tr.machine-row')).length > 0,
  `${again.status()} ${page.url()}`);
}

async function events(page) {
  await page.goto(`${ADMIN_SITE}/events?machine=rdgw01`);
  const all = await page.$$eval('tr.event', (rs) => rs.map((r) => r.dataset.id));
  check('the unfiltered viewer shows rdgw01 events of several ids', new Set(all).size > 1, all.slice(0, 10).join(','));
  const cli = JSON.parse(wapsim('logs', '--machine', 'rdgw01', '--json').stdout);
  check('the viewer shows the newest record wapsim logs shows, first',
    all.length > 0 && String(cli[cli.length - 1].event_id) === all[0], `${cli[cli.length - 1].event_id} vs ${all[0]}`);
  await page.selectOption('select[name="level"]', '');
  await page.fill('input[name="id"]', '201');
  await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
  const ids = await page.$$eval('tr.event', (rs) => rs.map((r) => r.dataset.id));
  check('filtered by id 201 (the form, GET): rows of 201 and no other id',
    ids.length > 0 && ids.every((i) => i === '201'), ids.join(','));
  check('the 201 row is an Error', await page.getAttribute('tr.event[data-id="201"]', 'data-level') === 'Error');
  await shot(page, 'admin-events');
  const badId = await page.goto(`${ADMIN_SITE}/events?machine=rdgw01&id=2x01`);
  const notice = await page.textContent('.notice').catch(() => '');
  check('a bad event id gets a notice naming it, not a failure', badId.status() < 500 && /2x01/.test(notice),
    `${badId.status()} ${notice}`);
  const badLevel = await page.goto(`${ADMIN_SITE}/events?machine=rdgw01&level=%3Cb%3Eloud`);
  const html = await badLevel.text();
  check('a bad level is named, escaped', badLevel.status() < 500 && html.includes('&lt;b&gt;loud') && !html.includes('<b>loud'));
}

const inStore = (machine, store, name) =>
  json('cert', 'list', '--machine', machine, '--store', store).some((c) => c.name === name);

async function certs(page) {
  await page.goto(`${ADMIN_SITE}/certs?machine=rdgw01&store=My`);
  const tp = json('cert', 'list', '--machine', 'rdgw01', '--store', 'My').find((c) => c.name === 'rdgw-ssl').thumbprint;
  const shown = await page.getAttribute('section[data-store="My"] tr.cert[data-name="rdgw-ssl"]', 'data-thumbprint')
    .catch(() => null);
  const text = await page.textContent('section[data-store="My"] tr.cert[data-name="rdgw-ssl"]').catch(() => '');
  check('rdgw01 My lists rdgw-ssl with its thumbprint, EKU and key', shown === tp && text.includes(tp) &&
    /serverAuth/.test(text) && /yes/.test(text), `${shown} vs ${tp}`);
  await shot(page, 'admin-certs');

  check('portal-ssl is not in rdgw01 Root before the import', !inStore('rdgw01', 'Root', 'portal-ssl'));
  await page.goto(`${ADMIN_SITE}/certs?machine=rdgw01`);
  await page.selectOption('#import-name', 'portal-ssl');
  await page.selectOption('#import-store', 'Root');
  await page.check('input[name="public_only"]');
  await Promise.all([page.waitForNavigation(), page.click('section.import button[type="submit"]')]);
  const st1 = await page.getAttribute('#outcome', 'data-status');
  check('Import: outcome exit 0, and wapsim cert list shows portal-ssl in rdgw01 Root',
    st1 === '0' && inStore('rdgw01', 'Root', 'portal-ssl'), `${st1} ${await page.textContent('#outcome')}`);
  check('the page lists it in Root', (await page.$$('section[data-store="Root"] tr.cert[data-name="portal-ssl"]')).length === 1);
  await Promise.all([page.waitForNavigation(),
    page.click('section[data-store="Root"] tr.cert[data-name="portal-ssl"] button.danger')]);
  const st2 = await page.getAttribute('#outcome', 'data-status');
  check('Remove: outcome exit 0, and wapsim cert list no longer shows it',
    st2 === '0' && !inStore('rdgw01', 'Root', 'portal-ssl'), `${st2} ${await page.textContent('#outcome')}`);
  check('rdgw-ssl is still in rdgw01 My', inStore('rdgw01', 'My', 'rdgw-ssl'));
  const [again] = await Promise.all([page.waitForNavigation(), page.click('footer.commandbar a.cmdlink')]);
  check('Refresh after the removal reloads rdgw01\'s certificates (GET, 200)', again.status() === 200 &&
    new URL(page.url()).pathname === '/certs' && new URL(page.url()).searchParams.get('machine') === 'rdgw01' &&
    (await page.$$('section[data-store="My"] tr.cert[data-name="rdgw-ssl"]')).length === 1,
  `${again.status()} ${page.url()}`);
}

async function refusals(page, context) {
  // A form post without the anti-forgery token, from the signed-in page itself.
  const pid = json('status').machines.find((m) => m.name === 'hv01').pid;
  const r = await page.evaluate(async () => {
    const res = await fetch('/machines/service', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'machine=hv01&action=restart' });
    return res.status;
  });
  check('a POST without the csrf field is refused 403', r === 403, r);
  const r2 = await page.evaluate(async () => {
    const res = await fetch('/certs/remove', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf=0000&name=rdgw-ssl&machine=rdgw01&store=My' });
    return res.status;
  });
  check('a POST with a wrong csrf value is refused 403', r2 === 403, r2);
  check('nothing changed: hv01 kept its process, rdgw-ssl its store',
    json('status').machines.find((m) => m.name === 'hv01').pid === pid && inStore('rdgw01', 'My', 'rdgw-ssl'));

  // Sign out of the admin site; alice signs in to the tenant site in this same context.
  await Promise.all([page.waitForNavigation(), page.click('.masthead .signout')]);
  await page.goto(`${TENANT_SITE}/`);
  const login = await page.evaluate(async (pw) => {
    const res = await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password: pw }) });
    return res.status;
  }, password('alice'));
  check('alice signs in to the tenant site', login === 200, login);
  const tenant = (await context.cookies(TENANT_SITE)).find((c) => c.name === 'WapsimTenantSession');
  check('the tenant site set alice\'s session cookie', !!tenant);
  const res = await page.goto(`${ADMIN_SITE}/topology`);
  check('alice\'s session gets the admin sign-in page at 30091', res.status() === 401 &&
    (await page.$$('form[action="/login"] #password')).length === 1 && (await page.$$('svg#topology')).length === 0,
  res.status());
  if (tenant) {
    await context.addCookies([{ name: 'WapsimAdminSession', value: tenant.value, domain: 'portal.contoso.com', path: '/',
      secure: true, httpOnly: true, sameSite: 'Strict' }]);
    const res2 = await page.goto(`${ADMIN_SITE}/topology`);
    check('alice\'s tenant cookie value as WapsimAdminSession is refused too', res2.status() === 401 &&
      (await page.$$('svg#topology')).length === 0, res2.status());
    const svg = await page.evaluate(async () => {
      const r = await fetch('/topology.svg');
      return { status: r.status, text: await r.text() };
    });
    check('and /topology.svg with it is no picture', svg.status === 401 && !svg.text.includes('<svg'), svg.status);
  }
}

await run('admin_topology', async () => {
  const b = await openBrowser();
  const page = await b.context.newPage();
  await topology(page);
  await machines(page);
  await events(page);
  await certs(page);
  await refusals(page, b.context);
  await closeBrowser(b, 'admin_topology');
});
