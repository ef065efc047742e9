// Takes docs/demo.png: starts the demo on a free loopback port, opens it in
// headless Chromium (playwright-core, /usr/bin/chromium), asks the chat a
// question, presses the fan-out button, waits for the charts to fill, and
// saves the page. Run after `npm run build`: node examples/demo/screenshot.js
'use strict';
const path = require('node:path');
const { chromium } = require('playwright-core');
const { createServer } = require('./server');
const { closeAll } = require('sse-native');

async function main() {
  const out = process.argv[2] || path.join(__dirname, '..', '..', 'docs', 'demo.png');
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 790 }, deviceScaleFactor: 1 });
    await page.goto(url);
    await page.waitForSelector('.live .dot.on', { timeout: 10_000 });
    await page.waitForTimeout(4000); // a few quiet samples first
    await page.click('.fan button');
    await page.waitForTimeout(2500);
    await page.click('form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('chat-status')?.textContent === 'done', undefined, { timeout: 30_000 });
    await page.fill('input', 'And when the reader closes the tab?');
    await page.click('form button[type=submit]');
    await page.waitForTimeout(2200); // mid-answer: the caret and a live rate
    await page.screenshot({ path: out });
    console.log(`saved ${out}`);
  } finally {
    await browser.close();
    server.stopDemo();
    closeAll();
    server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
