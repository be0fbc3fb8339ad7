// SPDX-License-Identifier: Apache-2.0
// classroom: issue 18's done-when 2. A classroom of 3 seats made with the CLI, each seat
// handed a generated exercise whose repair the admin site can make (m3a: the gateway's
// trusted issuers, in Settings; m4a: the cloud's RD Gateway FQDN, in Settings; m1b: the
// VMM certificate into a host's Root, in Certificates). For each seat a browser that
// resolves portal.contoso.com to that seat's portal: the seat's trainee signs in, opens
// Exercise (the ticket), repairs the fault through the admin site's pages and presses
// Check (Solved). Then the trainer, on another seat's admin site: /classroom shows every
// seat solved with its score, hints and checks and the faults it was given; a seat's
// events and topology are that seat's; results.csv downloads with 3 solved rows; a new
// exercise for one seat and a reset of every seat run from the page. A trainee gets 404
// on /classroom. The classroom is stopped (classroom down) and every process it ran is
// checked gone by PID. test_web.sh's own lab for this test is not used.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ADMIN_SITE, check, closeBrowser, env, ok, openBrowser, run, shot } from './lib.mjs';

const DIR = join(dirname(env.lab), 'classroom');
const PLAN = { seat01: 'm3a', seat02: 'm4a', seat03: 'm1b' };
const HINTED = 'seat02'; // takes one hint before its repair: score 85
const CHECKED = 'seat01'; // presses Check once before its repair: 2 checks
const SCORE = { seat01: '100', seat02: '85', seat03: '100' };
const HOME_NSS = `sql:${process.env.HOME}/.pki/nssdb`;

function cli(...args) {
  const r = spawnSync(env.wapsim, args, { encoding: 'utf8', timeout: 300000 });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}
const seatCli = (seat, ...args) => cli('--lab', join(DIR, seat), ...args);
const why = (r) => `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`;

// Every process the classroom runs, from each seat's run/*.pid (supervisor and machines).
function classroomPids() {
  const pids = new Set();
  for (const seat of Object.keys(PLAN)) {
    const run = join(DIR, seat, 'run');
    if (!existsSync(run)) continue;
    for (const f of readdirSync(run).filter((n) => n.endsWith('.pid'))) {
      const pid = parseInt(readFileSync(join(run, f), 'utf8'), 10);
      if (pid > 1) pids.add(pid);
    }
    try {
      for (const m of JSON.parse(seatCli(seat, 'status', '--json').stdout).machines || []) if (m.pid) pids.add(m.pid);
    } catch (err) { /* a seat that is down has no status */ }
  }
  return [...pids];
}
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; } };

// The portal's address in a seat (its hosts file, as test_web.sh reads a lab's).
function portalOf(seat) {
  const line = readFileSync(join(DIR, seat, 'hosts'), 'utf8').split('\n').find((l) => /\sportal\.contoso\.com(\s|$)/.test(l));
  if (!line) throw new Error(`no portal.contoso.com in ${seat}/hosts`);
  return line.trim().split(/\s+/)[0];
}

// Each seat's root, trusted by the browser as the README's certutil line does.
function trustSeatRoots() {
  for (const seat of Object.keys(PLAN)) {
    const pem = join(dirname(env.lab), `${seat}-root.pem`);
    const ex = seatCli(seat, 'cert', 'export', 'lab-root-ca', '--pem', '--out', pem);
    const add = spawnSync('certutil', ['-d', HOME_NSS, '-A', '-t', 'C,,', '-n', `classroom ${seat} root`, '-i', pem], { encoding: 'utf8' });
    check(`${seat}'s lab root is trusted in the browser`, ex.status === 0 && add.status === 0, `${why(ex)} ${add.stderr || ''}`);
  }
}

// What `classroom status --reveal --json` says of a seat, as text (its faults and params).
function revealed(status, seat) {
  const items = Array.isArray(status) ? status : status.seats || [];
  const item = items.find((s) => s.seat === seat || s.name === seat);
  return item ? JSON.stringify(item) : '';
}
function faultMachine(text, mistake, fallback) {
  const m = text.match(new RegExp(`${mistake}(?:\\s+on\\s+|@)([a-z0-9-]+)`)) ||
    text.match(new RegExp(`"mistake":"${mistake}"[^}]*?"machine":"([a-z0-9-]+)"`));
  return m ? m[1] : fallback;
}
function param(text, key) {
  const m = text.match(new RegExp(`\\b${key}=([A-Za-z0-9._-]+)`));
  return m ? m[1] : null;
}

async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}
async function outcome(page) {
  const box = page.locator('section#outcome');
  if ((await box.count()) !== 1) return { status: null, output: '' };
  return { status: await box.getAttribute('data-status'), output: (await box.locator('pre.output').textContent()) || '' };
}
async function signIn(page, account, pw) {
  await page.goto(`${ADMIN_SITE}/`);
  await page.fill('#user', account);
  await page.fill('#password', pw);
  await submit(page, page.locator('form[action="/login"] button[type="submit"]'));
  return new URL(page.url()).pathname === '/topology';
}

// The repairs, made in the admin site's pages as the trainee would.
async function repairTrustedIssuer(page, gw) {
  await page.goto(`${ADMIN_SITE}/settings`);
  const cert = await page.inputValue('form#vmm-console select[name="gateway_cert"]');
  await page.fill(`form#gateway-trusted-issuers-${gw} input[name="add"]`, cert);
  await submit(page, page.locator(`form#gateway-trusted-issuers-${gw} button.add`));
  return outcome(page);
}
async function repairGatewayFqdn(page, seat, gw) {
  await page.goto(`${ADMIN_SITE}/settings`);
  const bound = await page.inputValue(`form#gateway-ssl-${gw} select[name="ssl_cert"]`);
  const certs = JSON.parse(seatCli(seat, 'cert', 'list', '--json').stdout);
  const c = certs.find((x) => x.name === bound);
  const cn = c && /CN=([^,/]+)/.exec(c.subject);
  await page.fill('form#cloud-rdgateway input[name="rd_gateway_fqdn"]', cn ? cn[1] : 'rdgw.contoso.com');
  await submit(page, page.locator('form#cloud-rdgateway button[type="submit"]'));
  return outcome(page);
}
async function repairHostRoot(page, host, certParam) {
  await page.goto(`${ADMIN_SITE}/settings`);
  const cert = certParam || (await page.inputValue('form#vmm-console select[name="hyperv_cert"]'));
  await page.goto(`${ADMIN_SITE}/certs?machine=${host}`);
  await page.selectOption('#import-name', cert);
  await page.selectOption('#import-store', 'Root');
  await page.check('section.import input[name="public_only"]');
  await submit(page, page.locator('section.import button[type="submit"]'));
  return outcome(page);
}

// One seat's trainee: Exercise, the repair, Check; a trainee gets 404 on the trainer's page.
async function trainee(seat, account, pw, faults) {
  const mistake = PLAN[seat];
  const b = await openBrowser(portalOf(seat));
  const page = await b.context.newPage();
  page.setDefaultTimeout(120000);
  check(`${seat}: ${account} signs in to the seat's admin site`, await signIn(page, account, pw), page.url());
  check(`${seat}: the navigation has Exercise and no Classroom`,
    (await page.locator('nav.tabs a[href="/exercise"]').count()) === 1 && (await page.locator('nav.tabs a[href="/classroom"]').count()) === 0);
  await page.goto(`${ADMIN_SITE}/exercise`);
  const state = await page.getAttribute('section#exercise', 'data-state');
  const ticket = ((await page.textContent('pre#ticket')) || '').trim();
  check(`${seat}: Exercise shows the attempt in progress with its ticket`, state === 'active' && ticket.length > 20, `${state}: ${ticket}`);
  check(`${seat}: the page does not name the fault (${mistake})`, !(await page.textContent('main')).includes(mistake));
  if (seat === 'seat01') await shot(page, 'classroom-exercise');

  if (seat === CHECKED) {
    await submit(page, page.locator('form#exercise-check button'));
    const o = await outcome(page);
    check(`${seat}: Check before the repair says Not solved (exit 1)`, o.status === '1' && /Not solved/.test(o.output), `${o.status}: ${o.output}`);
  }
  if (seat === HINTED) {
    await submit(page, page.locator('form#exercise-hint button'));
    const o = await outcome(page);
    check(`${seat}: Hint runs wapsim exercise hint (hint 1 of 3, score 85)`, o.status === '0' && /Hint 1 of 3/.test(o.output), `${o.status}: ${o.output}`);
    check(`${seat}: the page counts the hint`, ((await page.textContent('#exercise-hints')) || '').startsWith('1 of'));
  }

  const machine = { m3a: 'rdgw01', m4a: 'rdgw01', m1b: 'hv01' }[mistake];
  const where = faultMachine(faults, mistake, machine);
  let o;
  if (mistake === 'm3a') o = await repairTrustedIssuer(page, where);
  else if (mistake === 'm4a') o = await repairGatewayFqdn(page, seat, 'rdgw01');
  else o = await repairHostRoot(page, where, param(faults, 'cert'));
  check(`${seat}: the ${mistake} repair on ${where} in the admin site exits 0`, o.status === '0', `${o.status}: ${o.output}`);

  await page.goto(`${ADMIN_SITE}/exercise`);
  await submit(page, page.locator('form#exercise-check button'));
  o = await outcome(page);
  const command = (await page.locator('section#outcome pre.command').textContent()) || '';
  check(`${seat}: Check runs wapsim exercise check and says Solved with the score ${SCORE[seat]}`,
    o.status === '0' && command.trim() === 'wapsim exercise check' && o.output.includes('Solved') && o.output.includes(`Score: ${SCORE[seat]}`),
    `${o.status}: ${command} ${o.output}`);
  check(`${seat}: the Exercise page says solved`, (await page.getAttribute('section#exercise', 'data-state')) === 'solved');
  if (seat === 'seat01') await shot(page, 'classroom-exercise-solved');

  for (const path of ['/classroom', '/classroom/results.csv', `/classroom/${seat}/events`]) {
    const r = await page.goto(`${ADMIN_SITE}${path}`);
    check(`${seat}: the trainee gets 404 on ${path}`, r.status() === 404, r.status());
  }
  await closeBrowser(b, `${seat}'s trainee`);
}

async function row(page, seat) {
  const tr = page.locator(`table#seats tr.seat[data-seat="${seat}"]`);
  return {
    count: await tr.count(),
    state: await tr.getAttribute('data-state'),
    score: await tr.getAttribute('data-score'),
    hints: ((await tr.locator('td.hints').textContent()) || '').trim(),
    checks: ((await tr.locator('td.checks').textContent()) || '').trim(),
    faults: ((await tr.locator('td.faults').textContent()) || '').trim(),
    history: ((await tr.locator('td.history').textContent()) || '').trim(),
  };
}

// The trainer on seat02's admin site.
async function trainer(account, pw) {
  const b = await openBrowser(portalOf('seat02'));
  const page = await b.context.newPage();
  page.setDefaultTimeout(180000);
  check('the trainer signs in to seat02\'s admin site', await signIn(page, account, pw), page.url());
  check('the trainer\'s navigation has Classroom', (await page.locator('nav.tabs a[href="/classroom"]').count()) === 1);
  await page.goto(`${ADMIN_SITE}/classroom`);
  check('the trainer\'s page lists 3 seats', (await page.locator('table#seats tr.seat').count()) === 3);
  for (const seat of Object.keys(PLAN)) {
    const r = await row(page, seat);
    check(`${seat}: solved with score ${SCORE[seat]}`, r.state === 'solved' && r.score === SCORE[seat], `${r.state} ${r.score}`);
    check(`${seat}: hints ${seat === HINTED ? 1 : 0}, checks ${seat === CHECKED ? 2 : 1}`,
      r.hints === (seat === HINTED ? '1' : '0') && r.checks === (seat === CHECKED ? '2' : '1'), `${r.hints} ${r.checks}`);
    check(`${seat}: its faults are revealed (${PLAN[seat]})`, r.faults.includes(PLAN[seat]), r.faults);
    for (const what of ['events', 'topology'])
      check(`${seat}: links to /classroom/${seat}/${what}`,
        (await page.locator(`tr.seat[data-seat="${seat}"] a[href="/classroom/${seat}/${what}"]`).count()) === 1);
  }
  await shot(page, 'classroom');

  // A seat's event log and topology are that seat's: the gateway refused seat01's cookies
  // (m3a: event 201), never seat03's (m1b stops at the portal).
  await page.goto(`${ADMIN_SITE}/classroom/seat01/events?machine=rdgw01&id=201`);
  const n1 = await page.locator('table.events tr.event').count();
  await page.goto(`${ADMIN_SITE}/classroom/seat03/events?machine=rdgw01&id=201`);
  const n3 = await page.locator('table.events tr.event').count();
  await shot(page, 'classroom-seat-events');
  check('seat01\'s event log (read from seat01) has the gateway\'s event 201, seat03\'s has none', n1 > 0 && n3 === 0, `${n1} ${n3}`);
  check('the seat\'s Event Viewer filters within the seat', (await page.getAttribute('form.filters', 'action')) === '/classroom/seat03/events');
  await page.goto(`${ADMIN_SITE}/classroom/seat01/topology`);
  check('seat01\'s topology is drawn, polling its own picture',
    (await page.locator('svg#topology g.machine').count()) > 3 && (await page.getAttribute('#topology-frame', 'data-src')) === '/classroom/seat01/topology.svg');
  await shot(page, 'classroom-seat-topology');
  const svg = await page.evaluate(async () => {
    const r = await fetch('/classroom/seat01/topology.svg', { cache: 'no-store' });
    return { status: r.status, text: await r.text() };
  });
  check('/classroom/seat01/topology.svg is the picture', svg.status === 200 && svg.text.startsWith('<svg'), svg.status);

  // results.csv: a download of every attempt, here 3 solved.
  await page.goto(`${ADMIN_SITE}/classroom`);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('a#results-csv')]);
  const csv = readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
  const head = csv[0].split(',');
  const outcomeCol = head.indexOf('outcome');
  const rows = csv.slice(1).map((l) => l.split(','));
  check('results.csv downloads as classroom-results.csv', dl.suggestedFilename() === 'classroom-results.csv', dl.suggestedFilename());
  check('results.csv has 3 rows, every one solved, with the scores',
    rows.length === 3 && rows.every((r) => r[outcomeCol] === 'solved') &&
    rows.map((r) => `${r[0]}=${r[head.indexOf('score')]}`).sort().join(' ') === 'seat01=100 seat02=85 seat03=100',
    csv.join(' / '));

  // A new exercise for seat03, from the page: its row becomes active, its history stays.
  await page.selectOption('#assign-seat', 'seat03');
  await page.fill('form#classroom-assign input[name="mistake"]', 'm3a');
  await submit(page, page.locator('form#classroom-assign button[type="submit"]'));
  let o = await outcome(page);
  check('Hand out for seat03 runs wapsim classroom assign and exits 0',
    o.status === '0' && ((await page.textContent('section#outcome pre.command')) || '').includes(`classroom assign ${DIR} seat03 --mistake m3a`), `${o.status}: ${o.output}`);
  let r3 = await row(page, 'seat03');
  check('seat03 has a new exercise in progress, its history kept', r3.state === 'active' && r3.score === '' && /^2 attempts, 1 solved/.test(r3.history), `${r3.state} ${r3.history}`);

  // Reset every seat: it runs on the site's own thread; the page follows it to its end.
  await page.selectOption('#reset-seat', 'all');
  await submit(page, page.locator('form#classroom-reset button[type="submit"]'));
  check('Reset for every seat returns at once, showing it running or done',
    ['running', 'done'].includes(await page.getAttribute('section#job', 'data-state')));
  await page.locator('section#job[data-state="done"]').waitFor({ timeout: 240000 });
  o = { status: await page.getAttribute('section#job section#outcome', 'data-status'), output: await page.textContent('section#job') };
  check('wapsim classroom reset DIR all ran to the end with exit 0', o.status === '0', o.output);
  await page.goto(`${ADMIN_SITE}/classroom`);
  r3 = await row(page, 'seat03');
  const r1 = await row(page, 'seat01');
  check('after the reset seat03\'s exercise is void and seat01 keeps its solved attempt',
    r3.state === 'void' && r1.state === 'solved' && r1.score === '100', `${r3.state} ${r1.state} ${r1.score}`);
  await closeBrowser(b, 'the trainer');
}

await run('classroom', async () => {
  const init = cli('classroom', 'init', DIR, '--seats', '3');
  if (!check('classroom init DIR --seats 3', init.status === 0, why(init))) return;
  const conf = JSON.parse(readFileSync(join(DIR, 'classroom.json'), 'utf8'));
  let pids = [];
  try {
    const up = cli('classroom', 'up', DIR);
    check('classroom up DIR', up.status === 0, why(up));
    pids = classroomPids();
    for (const [seat, mistake] of Object.entries(PLAN)) {
      const a = cli('classroom', 'assign', DIR, seat, '--mistake', mistake);
      check(`classroom assign ${seat} --mistake ${mistake}`, a.status === 0, why(a));
    }
    const st = cli('classroom', 'status', DIR, '--reveal', '--json');
    const status = JSON.parse(st.stdout);
    trustSeatRoots();
    for (const s of conf.seats) await trainee(s.seat, s.account, s.password, revealed(status, s.seat));
    await trainer(conf.trainer.account, conf.trainer.password);
    if (process.env.WEB_DOCS_SHOT) copyFileSync(join(env.shots, 'classroom.png'), process.env.WEB_DOCS_SHOT);
    ok('classroom: the three seats and the trainer ran to the end');
  } finally {
    pids = [...new Set([...pids, ...classroomPids()])];
    const down = cli('classroom', 'down', DIR);
    check('classroom down DIR', down.status === 0, why(down));
    let left = pids.filter(alive);
    for (let i = 0; i < 100 && left.length; i++) { // down waits for each seat; allow a loaded machine
      await new Promise((res) => setTimeout(res, 100));
      left = left.filter(alive);
    }
    const what = left.map((pid) => { try { return `${pid}:${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`; } catch (err) { return `${pid}`; } });
    for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch (err) { /* gone meanwhile */ }
    check(`every process of the classroom (${pids.length}) is gone after classroom down`, pids.length > 0 && left.length === 0, `left: ${what.join(' ; ')}`);
    cli('classroom', 'destroy', DIR);
  }
});
