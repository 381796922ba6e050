/**
 * The webmail in Debian's Chromium against a real server: sign-in (with and without TOTP), the
 * mailbox tree with unread counts, reading a conversation, search with highlighted snippets,
 * keyboard shortcuts, composing with an attachment to another local user whose open inbox shows
 * the message live, formatted text and a continued draft, settings, and the phone layout. Screenshots of the main views go to
 * test-output/webmail/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { totpCode } from '../../src/auth/totp.ts';
import { launchBrowser, noBrowser, screenshotPath, signIn as signInAs } from '../helpers/browser.ts';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { relay } from '../helpers/smtp.ts';

const ANN = { user: 'ann@example.test', pass: 'ann-password-1' };
const BOB = { user: 'bob@example.test', pass: 'bob-password-1' };
const TOTP_USER = { user: 'tess@example.test', pass: 'tess-password-1' };

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

const mail = (subject: string, body: string, extra = '') =>
  `From: Carol Remote <carol@remote.test>\r\nTo: ${ANN.user}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;

describe('webmail in Chromium', { skip: noBrowser() ?? false }, () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let base: string;
  const browsers: { close(): Promise<void> }[] = [];

  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [ANN, BOB, TOTP_USER].map((u) => ({ address: u.user, password: u.pass })),
    });
    server = await startServer(data.path, ['http=127.0.0.1:0', 'smtp=127.0.0.1:0']);
    base = `http://127.0.0.1:${server.ports['http']}`;
    const smtp = relay(server.ports['smtp']!);
    const send = (raw: string) =>
      smtp.sendMail({ envelope: { from: 'carol@remote.test', to: [ANN.user] }, raw });
    for (let i = 1; i <= 30; i++) await send(mail(`Weekly report ${i}`, `Numbers for week ${i} are in.`));
    await send(
      mail(
        'Quarterly budget',
        'The budget for the lighthouse restoration is attached.\r\nSee https://example.org/plan for the plan.',
      ),
    );
    await send(
      mail(
        'Re: Quarterly budget',
        'Following up on the lighthouse numbers.',
        'In-Reply-To: <Quarterlybudget@remote.test>\r\nReferences: <Quarterlybudget@remote.test>\r\n',
      ),
    );
    await smtp.sendMail({
      envelope: { from: 'carol@remote.test', to: [ANN.user] },
      from: 'Carol Remote <carol@remote.test>',
      to: ANN.user,
      subject: 'Photo of the lighthouse',
      text: 'Here it is.',
      attachments: [{ filename: 'lighthouse.png', contentType: 'image/png', content: PNG }],
    });
    smtp.close();
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await server?.stop();
    data?.remove();
  });

  const open = async (viewport?: { width: number; height: number }): Promise<Page> => {
    const b = await launchBrowser(viewport);
    browsers.push(b);
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${base}/`);
    return page;
  };

  const signIn = (page: Page, who: { user: string; pass: string }) => signInAs(page, who.user, who.pass);

  test('sign in, see the mailbox tree with unread counts, read a conversation', async () => {
    const page = await open();
    await page.screenshot({ path: screenshotPath('sign-in') });
    await page.getByLabel('E-mail address').fill(ANN.user);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await signIn(page, ANN);
    const inbox = page.locator('.mailboxes button.current');
    assert.match(await inbox.innerText(), /Inbox\s*33/);
    // 32 conversations: the budget thread is one row.
    await page.getByText('32 conversations').waitFor();
    const first = page.locator('.row', { hasText: 'Re: Quarterly budget' });
    await page.screenshot({ path: screenshotPath('inbox') });

    await first.click();
    const bodies = page.locator('iframe.body');
    await bodies.first().waitFor();
    // The conversation holds both messages; the last one is open.
    assert.equal(await page.locator('article.message').count(), 2);
    const frame = page.frameLocator('iframe.body').first();
    await frame.getByText('Following up on the lighthouse numbers.').waitFor();
    await page.locator('article.message').first().locator('.message-head').click();
    await page
      .frameLocator('iframe.body')
      .first()
      .getByRole('link', { name: 'https://example.org/plan' })
      .waitFor();
    await page.screenshot({ path: screenshotPath('conversation') });
    // Reading marked both as seen: the count went down by two.
    await page.locator('.mailboxes button.current', { hasText: /Inbox\s*31 unread/ }).waitFor();
    // An image attachment is previewed and offered for download.
    await page.locator('.row', { hasText: 'Photo of the lighthouse' }).click();
    const preview = page.getByRole('img', { name: 'Preview of lighthouse.png' });
    await preview.waitFor();
    const width = await preview.evaluate((img: { decode(): Promise<void>; naturalWidth: number }) =>
      img.decode().then(() => img.naturalWidth),
    );
    assert.equal(width, 1);
    await page.getByRole('link', { name: 'lighthouse.png' }).waitFor();
  });

  test('search finds messages by their body and highlights the words', async () => {
    const page = await open();
    await signIn(page, ANN);
    await page.keyboard.press('/');
    await page.keyboard.type('lighthouse');
    await page.keyboard.press('Enter');
    await page.getByText('3 found').waitFor();
    const marks = page.locator('.row mark');
    await marks.first().waitFor();
    assert.equal((await marks.first().innerText()).toLowerCase(), 'lighthouse');
    await page.screenshot({ path: screenshotPath('search') });
  });

  test('keyboard: j/k move, o opens, e archives; select many and move', async () => {
    const page = await open();
    await signIn(page, ANN);
    await page.locator('.row').first().waitFor();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const active = page.locator('.row.active');
    assert.equal(await active.getAttribute('aria-selected'), 'true');
    const subject = (await active.locator('.subject').innerText()).trim();
    assert.match(subject, /Weekly report 30/);
    await page.keyboard.press('o');
    await page.locator('.reader h2', { hasText: 'Weekly report 30' }).waitFor();
    await page.keyboard.press('e');
    await page.getByText('Archive: 1 message(s).').waitFor();
    await page.locator('.mailboxes button', { hasText: 'Archive' }).click();
    await page.locator('.row', { hasText: 'Weekly report 30' }).waitFor();
    // Select many and move them to another mailbox.
    await page.locator('.mailboxes button', { hasText: 'Inbox' }).click();
    for (const n of [29, 28, 27])
      await page.getByRole('checkbox', { name: new RegExp(`Weekly report ${n}$`) }).check();
    await page.getByText('3 selected').waitFor();
    await page.getByLabel('Move to mailbox').selectOption({ label: 'Junk' });
    await page.getByText('Moved to Junk: 3 message(s).').waitFor();
    await page.locator('.mailboxes button', { hasText: 'Junk' }).click();
    await page.getByText('3 conversations').waitFor();
  });

  test('compose with an attachment to a local user whose open inbox shows it live', async () => {
    const bob = await open();
    await signIn(bob, BOB);
    await bob.getByText('No messages.').waitFor();

    const ann = await open();
    await signIn(ann, ANN);
    await ann.keyboard.press('c');
    const dialog = ann.getByRole('dialog');
    // Completion offers recent correspondents.
    await dialog.getByLabel('To').fill('car');
    await dialog.getByRole('option', { name: 'Carol Remote <carol@remote.test>' }).waitFor();
    await dialog.getByLabel('To').fill('bob@');
    await dialog.getByLabel('Subject').fill('Lunch on Friday?');
    await dialog.getByLabel('Message').fill('Shall we try the new place by the harbour?');
    await dialog.locator('input[type=file]').setInputFiles({
      name: 'menu.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('soup, bread, fish\n'.repeat(2000)),
    });
    await dialog.getByText('(35 KB)').waitFor();
    await dialog.getByLabel('To').fill(BOB.user);
    await ann.screenshot({ path: screenshotPath('compose') });
    // The draft is saved by itself.
    await dialog.getByText(/Draft saved/).waitFor();
    await dialog.getByRole('button', { name: 'Send' }).click();
    await ann.getByText('Message sent.').waitFor();

    // Bob did nothing: push brought the message into his open inbox.
    const row = bob.locator('.row', { hasText: 'Lunch on Friday?' });
    await row.waitFor({ timeout: 15_000 });
    assert.match(await bob.locator('.mailboxes button.current').innerText(), /Inbox\s*1/);
    await row.click();
    await bob
      .frameLocator('iframe.body')
      .first()
      .getByText('Shall we try the new place by the harbour?')
      .waitFor();
    await bob.getByRole('link', { name: 'menu.txt' }).waitFor();
    await bob.screenshot({ path: screenshotPath('received-live') });

    // Ann's copy is in Sent, not in Drafts.
    await ann.locator('.mailboxes button', { hasText: 'Sent' }).click();
    await ann.locator('.row', { hasText: 'Lunch on Friday?' }).waitFor();
    await ann.locator('.mailboxes button', { hasText: 'Drafts' }).click();
    await ann.getByText('No messages.').waitFor();

    // Bob replies with r; the subject and recipient are filled in.
    await bob.keyboard.press('r');
    const reply = bob.getByRole('dialog');
    assert.equal(await reply.getByLabel('Subject').inputValue(), 'Re: Lunch on Friday?');
    assert.match(await reply.getByLabel('To').inputValue(), /ann@example\.test/);
    // With formatting, Ann's quoted words become a quote, not lines of ">".
    await reply.getByRole('button', { name: 'Formatting' }).click();
    const quoted = reply.getByRole('textbox', { name: 'Message' }).locator('blockquote');
    assert.match(await quoted.innerText(), /^Shall we try the new place by the harbour\?/);
    assert.doesNotMatch(await reply.getByRole('textbox', { name: 'Message' }).innerText(), /^>/m);
    await reply.getByLabel('Subject').press('Escape');
    await reply.waitFor({ state: 'detached' });
    // Forward with f carries the attachment along.
    await bob.keyboard.press('f');
    const forward = bob.getByRole('dialog');
    assert.equal(await forward.getByLabel('Subject').inputValue(), 'Fwd: Lunch on Friday?');
    await forward.getByRole('list', { name: 'Attachments' }).getByText('menu.txt').waitFor();
    await forward.getByLabel('Subject').press('Escape');
    await forward.waitFor({ state: 'detached' });
    // # deletes: the message goes to Trash.
    await bob.keyboard.press('#');
    await bob.getByText('Trash: 1 message(s).').waitFor();
    await bob.locator('.mailboxes button', { hasText: 'Trash' }).click();
    await bob.locator('.row', { hasText: 'Lunch on Friday?' }).waitFor();
  });

  /** The text/plain part of `who`'s message with `subject`, read by another client: JMAP over
   * HTTP Basic. */
  const plainText = async (who: { user: string; pass: string }, subject: string): Promise<string> => {
    const headers = {
      Authorization: `Basic ${Buffer.from(`${who.user}:${who.pass}`).toString('base64')}`,
      'Content-Type': 'application/json',
    };
    const session = (await (await fetch(`${base}/.well-known/jmap`, { headers })).json()) as {
      primaryAccounts: Record<string, string>;
    };
    const accountId = session.primaryAccounts['urn:ietf:params:jmap:mail'];
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
        methodCalls: [
          ['Email/query', { accountId, filter: { subject } }, 'q'],
          [
            'Email/get',
            {
              accountId,
              '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
              properties: ['textBody', 'bodyValues'],
              fetchTextBodyValues: true,
            },
            'g',
          ],
        ],
      }),
    });
    const got = ((await r.json()) as { methodResponses: [string, any, string][] }).methodResponses[1]![1];
    const e = got.list[0];
    return e.textBody.map((p: { partId: string }) => e.bodyValues[p.partId].value).join('\n');
  };

  test('formatted text: a list, bold words and a link; pasted markup arrives as text; a closed draft is continued from Drafts', async () => {
    const ann = await open();
    await signIn(ann, ANN);
    await ann.keyboard.press('c');
    const dialog = ann.getByRole('dialog');
    await dialog.getByLabel('To').fill(BOB.user);
    await dialog.getByLabel('Subject').fill('Agenda for Monday');
    await dialog.getByRole('button', { name: 'Formatting' }).click();
    const editor = dialog.getByRole('textbox', { name: 'Message' });
    const bar = dialog.getByRole('toolbar', { name: 'Formatting' });
    await editor.click();
    await ann.keyboard.type('Two points:');
    await ann.keyboard.press('Enter');
    await bar.getByRole('button', { name: 'Bulleted list' }).click();
    await ann.keyboard.type('Budget');
    await ann.keyboard.press('Enter');
    await ann.keyboard.type('Hiring');
    await ann.keyboard.press('Enter');
    await ann.keyboard.press('Enter');
    // Markup pasted from elsewhere (a tracking image, a handler) arrives as its plain text.
    await editor.evaluate((el) => {
      // In the page: its DOM classes (this file is compiled without the DOM library).
      const w = globalThis as unknown as {
        DataTransfer: new () => { setData(type: string, value: string): void };
        ClipboardEvent: new (type: string, init: object) => Event;
      };
      const data = new w.DataTransfer();
      data.setData(
        'text/html',
        '<img src="http://127.0.0.1:9/t.png"><b onclick="alert(1)">Pasted words.</b>',
      );
      data.setData('text/plain', 'Pasted words.');
      el.dispatchEvent(
        new w.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    });
    await ann.keyboard.press('Enter');
    await bar.getByRole('button', { name: 'Bold' }).click();
    await ann.keyboard.type('Please read the plan');
    await bar.getByRole('button', { name: 'Bold' }).click();
    await ann.keyboard.type(' at ');
    await bar.getByRole('button', { name: 'Link' }).click();
    const address = dialog.getByLabel('Link address');
    await address.fill('javascript:alert(1)');
    await address.press('Enter');
    await dialog.getByText('Give a web address').waitFor();
    await address.fill('https://example.org/plan');
    await address.press('Enter');
    await editor.locator('a').waitFor();
    assert.equal(await editor.locator('ul li').count(), 2);
    assert.equal(await editor.locator('img').count(), 0);
    assert.equal(await editor.locator('[onclick]').count(), 0);
    await ann.screenshot({ path: screenshotPath('compose-formatted') });
    // Closed and opened again from Drafts, the formatting is still there.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await ann.getByText('Draft saved.').waitFor();
    await ann.locator('.mailboxes button', { hasText: 'Drafts' }).click();
    await ann.locator('.row', { hasText: 'Agenda for Monday' }).click();
    const again = ann.getByRole('dialog').getByRole('textbox', { name: 'Message' });
    await again.locator('li', { hasText: 'Hiring' }).waitFor();
    assert.equal((await again.locator('b, strong').innerText()).trim(), 'Please read the plan');
    assert.equal(await again.locator('a').getAttribute('href'), 'https://example.org/plan');
    await ann.getByRole('dialog').getByRole('button', { name: 'Send' }).click();
    await ann.getByText('Message sent.').waitFor();
    // The continued draft was replaced, not copied: Drafts is empty again.
    await ann.getByText('No messages.').waitFor();

    const bob = await open();
    await signIn(bob, BOB);
    await bob.locator('.row', { hasText: 'Agenda for Monday' }).click();
    const frame = bob.frameLocator('iframe.body').first();
    await frame.locator('li', { hasText: 'Budget' }).waitFor();
    assert.equal((await frame.locator('b, strong').innerText()).trim(), 'Please read the plan');
    assert.equal(await frame.locator('a').getAttribute('href'), 'https://example.org/plan');
    assert.equal(await frame.locator('img').count(), 0);
    // Clients that show only plain text get the same content in words.
    const text = await plainText(BOB, 'Agenda for Monday');
    assert.match(
      text,
      /Two points:\n• Budget\n• Hiring\nPasted words\.\nPlease read the plan at https:\/\/example\.org\/plan/,
    );

    // Bob answers above a quote that keeps Ann's formatting (rebuilt from the sanitized copy:
    // no image, style or class comes along).
    await bob.keyboard.press('r');
    const answer = bob.getByRole('dialog');
    const writing = answer.getByRole('textbox', { name: 'Message' });
    const quote = writing.locator('blockquote');
    await quote.locator('li', { hasText: 'Budget' }).waitFor();
    assert.equal((await quote.locator('b, strong').innerText()).trim(), 'Please read the plan');
    assert.equal(await quote.locator('a').getAttribute('href'), 'https://example.org/plan');
    assert.equal(await writing.locator('img, [style], [class], [id]').count(), 0);
    await writing.focus();
    await bob.keyboard.press('Control+Home');
    await bob.keyboard.type('Agreed.');
    await answer.getByRole('button', { name: 'Send' }).click();
    await bob.getByText('Message sent.').waitFor();
    // Ann's plain-text copy has the answer, then her own words quoted.
    assert.match(
      await plainText(ANN, 'Re: Agenda for Monday'),
      /^Agreed\.\nOn .+, ann@example\.test wrote:\n> Two points:\n> • Budget\n> • Hiring\n> Pasted words\.\n> Please read the plan at https:\/\/example\.org\/plan$/,
    );
  });

  test('TOTP: enrolment in settings, then a second factor is asked for after the password', async () => {
    const page = await open();
    await signIn(page, TOTP_USER);
    await page.getByRole('button', { name: 'Settings' }).click();
    const form = page.locator('form', { hasText: 'Two-step sign-in' });
    await form.getByLabel('Current password').fill(TOTP_USER.pass);
    await form.getByRole('button', { name: 'Set up' }).click();
    const secret = (await form.locator('code.secret').innerText()).trim();
    await form.getByLabel('Authenticator code').fill(totpCode(secret, Date.now()));
    await form.getByRole('button', { name: 'Confirm' }).click();
    const recovery = (
      await form.getByRole('list', { name: 'Recovery codes' }).locator('code').first().innerText()
    ).trim();
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('E-mail address').fill(TOTP_USER.user);
    await page.getByLabel('Password').fill(TOTP_USER.pass);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The code just used to confirm may not be used again, so this sign-in takes a recovery code.
    await page.getByLabel(/authenticator app/).fill(recovery);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.toolbar h1', { hasText: 'Inbox' }).waitFor();
  });

  test('settings: sessions, app passwords and the vacation response', async () => {
    const page = await open();
    await signIn(page, ANN);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('(this one)').waitFor();
    const apps = page.locator('form', { hasText: 'App passwords' });
    await apps.getByLabel('Label').fill('Phone');
    await apps.getByLabel('Current password').fill(ANN.pass);
    await apps.getByRole('button', { name: 'Create' }).click();
    await apps.getByText('New app password:').waitFor();
    await apps.locator('li', { hasText: 'Phone' }).waitFor();
    const vacation = page.locator('form', { hasText: 'Vacation response' });
    await vacation.getByLabel('Send an automatic reply').check();
    await vacation.getByLabel('Subject').fill('Away until Monday');
    await vacation.getByRole('button', { name: 'Save' }).click();
    await vacation.getByText('Vacation response saved.').waitFor();
    const signature = page.locator('form', { hasText: 'Signature for' });
    await signature.getByLabel('Signature').fill('Ann\nLighthouse Trust');
    await signature.getByRole('button', { name: 'Save' }).click();
    await signature.getByText('Signature saved.').waitFor();
    await page.screenshot({ path: screenshotPath('settings'), fullPage: true });
    // New messages start with the signature.
    await page.getByRole('button', { name: 'Compose' }).click();
    assert.match(
      await page.getByRole('dialog').getByLabel('Message').inputValue(),
      /\n-- \nAnn\nLighthouse Trust$/,
    );
  });

  test('phone width: one pane at a time', async () => {
    const page = await open({ width: 390, height: 844 });
    await signIn(page, ANN);
    assert.equal(await page.locator('nav.mailboxes').isVisible(), false);
    await page.locator('.row').first().click();
    await page.locator('iframe.body').first().waitFor();
    assert.equal(await page.locator('.pane-list').isVisible(), false);
    await page.screenshot({ path: screenshotPath('phone-reader') });
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await page.getByRole('button', { name: 'Mailboxes' }).click();
    assert.equal(await page.locator('nav.mailboxes').isVisible(), true);
    await page.screenshot({ path: screenshotPath('phone-mailboxes') });
  });
});
