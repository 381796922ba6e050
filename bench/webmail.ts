/**
 * Webmail benchmark (issue: webmail), in Debian's Chromium: the time from navigation start to a
 * rendered inbox of 10,000 messages, and the frames over 50 ms while the list scrolls through
 * 1,000 rows at 300 rows a second (rows load from the server page by page as they come into view).
 */
import { launchBrowser, noBrowser, signIn } from '../test/helpers/browser.ts';
import { makeDataDir, startServer } from '../test/helpers/server.ts';
import { smtpLoad } from './smtp-load.ts';

/** Messages seeded; BENCH_WEBMAIL_MESSAGES changes it. */
const MESSAGES = Number(process.env['BENCH_WEBMAIL_MESSAGES'] ?? 10_000);
const USER = 'bob@bench.test';
const PASS = 'bench-password';
/** Navigations measured; the median is reported. */
const LOADS = 5;
const ROWS_SCROLLED = 1000;
const ROWS_PER_FRAME = 5;

export interface WebmailFigures {
  messages: number;
  /** Median milliseconds from navigation start to the first rows of the inbox on screen. */
  usableMs: number;
  loads: number[];
  frames: number;
  slowFrames: number;
  longestFrameMs: number;
  /** Rows still waiting for their data when the scroll ended. */
  placeholdersAtEnd: number;
}

const progress = (text: string): void => {
  process.stderr.write(`[webmail] ${text}\n`);
};

export async function benchWebmail(): Promise<WebmailFigures | string> {
  const missing = noBrowser();
  if (missing) return missing;
  const data = makeDataDir({ domains: ['bench.test'], users: [{ address: USER, password: PASS }] });
  const server = await startServer(data.path, ['smtp=127.0.0.1:0', 'http=127.0.0.1:0']);
  const browser = await launchBrowser({ width: 1280, height: 900 });
  try {
    progress(`seeding ${MESSAGES} messages over SMTP`);
    await smtpLoad(server.ports['smtp']!, { total: MESSAGES, sessions: 10, size: 4096, rcpt: USER });
    const base = `http://127.0.0.1:${server.ports['http']}/`;
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    // Records when the first row with data is in the page (before any script of the app runs).
    await page.addInitScript({
      content: `new MutationObserver((_, observer) => {
        if (document.querySelector('.row[data-id]')) {
          window.__usable = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });`,
    });
    await page.goto(base);
    await signIn(page, USER, PASS);

    const loads: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await page.goto(base);
      await page.locator('.row[data-id]').first().waitFor();
      loads.push(Number(await page.evaluate('window.__usable')));
    }
    progress(`loads: ${loads.map((l) => l.toFixed(0)).join(', ')} ms; scrolling`);

    // Scrolls ROWS_PER_FRAME rows at every animation frame and records the time between frames.
    const scroll = (await page.evaluate(`new Promise((resolve) => {
      const list = document.querySelector('.list');
      const rowHeight = document.querySelector('.row').offsetHeight;
      const frames = [];
      let last = 0;
      let scrolled = 0;
      const step = (now) => {
        frames.push(now - last);
        last = now;
        if (scrolled >= ${ROWS_SCROLLED}) {
          resolve({ frames: frames.slice(1), placeholders: document.querySelectorAll('.row.placeholder').length });
          return;
        }
        scrolled += ${ROWS_PER_FRAME};
        list.scrollTop = scrolled * rowHeight;
        requestAnimationFrame(step);
      };
      requestAnimationFrame((now) => {
        last = now;
        requestAnimationFrame(step);
      });
    })`)) as { frames: number[]; placeholders: number };
    const sorted = [...loads].sort((a, b) => a - b);
    return {
      messages: MESSAGES,
      usableMs: sorted[Math.floor(sorted.length / 2)]!,
      loads,
      frames: scroll.frames.length,
      slowFrames: scroll.frames.filter((f) => f > 50).length,
      longestFrameMs: Math.max(...scroll.frames),
      placeholdersAtEnd: scroll.placeholders,
    };
  } finally {
    await browser.close();
    await server.stop();
    data.remove();
  }
}
