// What the specs share: the server's addresses, a page opened on the playground with its errors
// collected, helpers to drive the editor and to read files over TCP with diod's diodcat.
import { execFile } from 'node:child_process';
import { test as base, expect, type Page } from 'playwright/test';

export { expect };

export interface Styxlab {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT of the 9P listener (diodcat -s). */
  ninep: string;
  deadlineMs: number;
  /** The directory the diod backend exports (its aname). */
  diodExport: string;
}

export interface PlaygroundState {
  name: string;
  state: string;
  detail: string;
}

declare global {
  interface Window {
    styxlab: {
      getCode(): string;
      setCode(code: string): void;
      run(): Promise<void>;
      save(): Promise<void>;
      stop(): void;
      readonly state: PlaygroundState;
      readonly trace: string;
    };
  }
}

export const test = base.extend<{ styxlab: Styxlab; errors: string[] }>({
  styxlab: async ({}, use) => {
    const url = process.env.STYXLAB_E2E_URL;
    const ninep = process.env.STYXLAB_E2E_9P;
    if (!url || !ninep) throw new Error('the global setup did not start styxlab serve');
    await use({
      url,
      ninep,
      deadlineMs: Number(process.env.STYXLAB_E2E_DEADLINE ?? 5000),
      diodExport: process.env.STYXLAB_E2E_DIOD_EXPORT ?? '',
    });
  },
  // Uncaught errors in the page fail the spec that caused them.
  errors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await use(errors);
    expect(errors, 'uncaught errors in the page').toEqual([]);
  },
});

/**
 * Opens the playground (fresh storage per test context) and waits until the document can be
 * edited and run (the early view; `monaco` waits for Monaco too, for specs that use its features:
 * type errors, squiggles, its keyboard). The first-visit welcome is marked seen unless `welcome`
 * is set (welcome.spec.ts looks at it).
 */
export async function openPlayground(page: Page, url: string, hash = '', opts: { welcome?: boolean; monaco?: boolean } = {}): Promise<void> {
  if (!opts.welcome) await page.addInitScript(() => localStorage.setItem('styxlab:welcomed', '1'));
  await page.goto(url + '/' + hash);
  await page.waitForSelector('body[data-editor-ready="1"]');
  if (opts.monaco) await waitForMonaco(page);
}

/** Waits until Monaco has replaced the early view. */
export async function waitForMonaco(page: Page): Promise<void> {
  await page.waitForSelector('body[data-monaco-ready="1"]');
}

export async function chooseDoc(page: Page, id: string): Promise<void> {
  await page.getByLabel('Open').selectOption(id);
}

export function state(page: Page): Promise<PlaygroundState> {
  return page.evaluate(() => window.styxlab.state);
}

/** Waits until the running program reaches a state other than starting. */
export async function settled(page: Page): Promise<PlaygroundState> {
  await page.waitForFunction(() => !['starting', 'idle'].includes(window.styxlab.state.state));
  return state(page);
}

/** Reads files of a mount over TCP with diod's diodcat (9P2000.L through styxlab's listener). */
export function diodcat(ninep: string, aname: string, ...files: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/usr/sbin/diodcat', ['-t', '10', '-s', ninep, '-a', aname, ...files], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`diodcat -a ${aname} ${files.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Runs a console command and waits for the line it is expected to print. */
export async function consoleRun(page: Page, line: string): Promise<void> {
  const input = page.getByPlaceholder(/ls, cat, echo/);
  await input.fill(line);
  await input.press('Enter');
}
