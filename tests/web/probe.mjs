// SPDX-License-Identifier: Apache-2.0
// probe.mjs: can Chromium start here? Exit 0 when it opened a page, else 1 with why.
import { chromium } from 'playwright-core';

try {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'], timeout: 30000 });
  const page = await browser.newPage();
  await page.setContent('<p>probe</p>');
  await browser.close();
  process.exit(0);
} catch (err) {
  console.log(String(err).split('\n')[0]);
  process.exit(1);
}
