// Headless Chromium (Debian's `chromium` package) driven by playwright-core,
// for the tests that need a real browser. Loopback only; every wait bounded.
import { chromium, type Browser } from 'playwright-core';
import * as fs from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when the browser binary is installed (scripts/ensure-deps.sh installs it). */
export const haveChromium = fs.existsSync(CHROMIUM);

/** Launches headless Chromium with no network side traffic; close it in afterAll. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
