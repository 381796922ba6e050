/**
 * Debian's Chromium driven by playwright-core, for the webmail tests and benchmark: headless, no
 * sandbox (root in CI), nothing fetched in the background, a fresh profile each time.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './server.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. Under CI a missing browser fails. */
export function noBrowser(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env['CI']) throw new Error(`${CHROMIUM} is missing (install Debian's chromium)`);
  return `${CHROMIUM} is not installed`;
}

/** Starts Chromium with a new profile of its own (one browser, one user: cookies are not shared
 * between two of them); `close` also removes the profile. */
export async function launchBrowser(
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go (ignored by git). */
export function screenshotPath(name: string): string {
  const dir = join(ROOT, 'test-output', 'webmail');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** Signs in through the webmail's form and waits for the inbox. */
export async function signIn(page: Page, address: string, password: string): Promise<void> {
  await page.getByLabel('E-mail address').fill(address);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.toolbar h1', { hasText: 'Inbox' }).waitFor();
}
