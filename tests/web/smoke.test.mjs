// SPDX-License-Identifier: Apache-2.0
// smoke: both sites answer in the browser over TLS the browser trusts.
import { ADMIN_SITE, TENANT_SITE, check, closeBrowser, openBrowser, run, shot } from './lib.mjs';

await run('smoke', async () => {
  const b = await openBrowser();
  const page = await b.context.newPage();
  const t = await page.goto(`${TENANT_SITE}/`);
  check('the tenant site answers 200 with a trusted certificate', t && t.status() === 200, t && t.status());
  await shot(page, 'smoke-tenant-sign-in');
  const a = await page.goto(`${ADMIN_SITE}/`);
  check('the admin site answers 200 on 30091', a && a.status() === 200, a && a.status());
  await shot(page, 'smoke-admin-sign-in');
  await closeBrowser(b, 'smoke');
});
