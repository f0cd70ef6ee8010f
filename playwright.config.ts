// Playwright for the playground's end-to-end specs (e2e/). The browser is Debian's Chromium at
// /usr/bin/chromium; `playwright install` is never needed (nor possible offline). The global
// setup builds web/dist if stale and starts one `styxlab serve` on kernel-chosen ports.
import { defineConfig } from 'playwright/test';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // One server and two cores: specs run one at a time, each with its own mount names.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    headless: true,
    viewport: { width: 1400, height: 860 },
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
