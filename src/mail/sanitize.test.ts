import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HTML_INPUT, safeHtml, textToHtml } from './sanitize.ts';

/** Every attribute name and URL scheme a browser could run or fetch something through. */
const ACTIVE =
  /<(script|style|svg|math|iframe|object|embed|form|input|button|meta|link|base|details|template|noscript)\b|\son\w+\s*=|javascript:|vbscript:|url\(|@import|srcset|background=|\ssrc="(?!data:image\/(png|gif|jpeg|webp);base64,)/i;

test('WB-01: the HTML corpus comes out without anything active', () => {
  const corpus = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<svg><use href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"></use></svg>',
    '<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>',
    '<svg><style><//><body onload=alert(1)>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<map><area href=javascript:alert(1)></map>',
    '<details open ontoggle=alert(1)>',
    '<a href="javascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a><a href="jav&#x09;ascript:alert(1)">z</a>',
    '<a href="vbscript:msgbox(1)">v</a><a href="data:text/html,<script>alert(1)</script>">d</a>',
    '<style>@import url(http://evil.test/x.css);</style><link rel=stylesheet href=http://evil.test/y.css>',
    '<div style="background:url(http://evil.test/a)">a</div><p style="background-image: url(&quot;http://evil.test/b&quot;)">b</p>',
    '<div style="width: expression(alert(1))">e</div>',
    '<form action=http://evil.test><input name=p><button>go</button></form>',
    '<meta http-equiv=refresh content="0;url=http://evil.test">',
    '<iframe src=http://evil.test></iframe><object data=http://evil.test></object><embed src=http://evil.test>',
    '<base href=http://evil.test/><a href=x>rel</a>',
    '<img srcset="http://evil.test/a 2x"><table background=http://evil.test/t><tr><td>c</td></tr></table>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<template><img src=x onerror=alert(1)></template>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
  ];
  for (const input of corpus) {
    const { html } = safeHtml(input);
    assert.doesNotMatch(html, ACTIVE, `${input} → ${html}`);
  }
});

test('what is kept: text, structure, safe links with a new-tab target, and simple styles', () => {
  const { html } = safeHtml(
    '<h1>Title</h1><p style="color: rgb(10, 20, 30); position: fixed; font-weight: bold">Hi <b>there</b></p><a href="https://example.org/a?b=1&c=2">site</a><a href="mailto:x@example.org">mail</a><table><tr><td colspan=2>cell</td></tr></table>',
  );
  assert.match(html, /<h1>Title<\/h1>/);
  assert.match(html, /style="color:rgb\(10, 20, 30\);font-weight:bold"/);
  assert.doesNotMatch(html, /position/);
  assert.match(
    html,
    /<a href="https:\/\/example.org\/a\?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">site<\/a>/,
  );
  assert.match(html, /<a href="mailto:x@example.org"/);
  assert.match(html, /<td colspan="2">cell<\/td>/);
});

test('WB-08: remote images are held back and counted; cid: images become data: URLs', () => {
  const r = safeHtml(
    '<img src="https://tracker.test/p.gif" width=1><img src="HTTP://127.0.0.1:8080/x"><img src="cid:logo@example"><img src="cid:missing@example"><img src="//evil.test/pr">',
    (id) => (id === 'logo@example' ? 'data:image/png;base64,AAAA' : null),
  );
  assert.equal(r.remoteImages, 2);
  assert.match(r.html, /<img width="1" data-remote-src="https:\/\/tracker.test\/p.gif" \/>/);
  assert.match(r.html, /data-remote-src="http:\/\/127.0.0.1:8080\/x"/);
  assert.match(r.html, /<img src="data:image\/png;base64,AAAA" \/>/);
  assert.doesNotMatch(r.html, /evil|cid:/);
  assert.doesNotMatch(r.html, /\ssrc="http/);
});

test('WB-02: plain text is escaped and only http(s) and mailto become links', () => {
  const { html } = textToHtml(
    '[1]: javascript:alert(1)\nhttp://x.test/?"onmouseover="alert(1)\n<script>alert(1)</script>\nsee https://example.org/page). or write to ann@example.org.',
  );
  assert.doesNotMatch(html, /<script|href="javascript|onmouseover="/);
  assert.match(html, /&lt;script&gt;/);
  assert.match(
    html,
    /<a href="http:\/\/x.test\/" target="_blank" rel="noopener noreferrer">http:\/\/x.test\/<\/a>\?&quot;onmouseover=&quot;/,
  );
  assert.match(html, /<a href="https:\/\/example.org\/page" [^>]*>https:\/\/example.org\/page<\/a>\)\./);
  assert.match(html, /<a href="mailto:ann@example.org" [^>]*>ann@example.org<\/a>\./);
});

test('DS: very long bodies are cut at the limit and say so', () => {
  const long = `<p>${'a'.repeat(MAX_HTML_INPUT + 10)}</p>`;
  const r = safeHtml(long);
  assert.equal(r.truncated, true);
  assert.ok(r.html.length <= MAX_HTML_INPUT + 10);
  assert.equal(textToHtml('b'.repeat(MAX_HTML_INPUT + 1)).truncated, true);
});
