/**
 * @module Client setup documents: Thunderbird autoconfig, Microsoft Autodiscover (POX, IMAP and
 * SMTP settings) and, for a signed-in user, an Apple configuration profile. They hold server
 * names, ports and the user's own address; never a password.
 * Trust: the Autodiscover request body is untrusted XML. It is bounded, never given to an XML
 * parser (no DTD, no entities: ATTACKS.md DV-01), and only an address that parses as one is
 * echoed, escaped. The answer is the same for every address, so it reveals no account.
 */
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { Ctx } from '../services/index.ts';

/** Mail listener ports that are on. */
export type MailPorts = Partial<Record<'imap' | 'imaps' | 'submission' | 'submissions', number>>;

/** What the client setup routes need. */
export interface ClientSetupDeps {
  hostname: string;
  mailPorts: MailPorts;
  readBounded(request: Request, max: number): Promise<Buffer | null>;
  /** The signed-in browser session of a request, or null. */
  signedIn(c: Context): Promise<Ctx | null>;
}

const xml = (s: string): string => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Adds the client setup routes. */
export function addClientSetupRoutes(app: Hono, deps: ClientSetupDeps): void {
  const host = deps.hostname.replace(/[^A-Za-z0-9.-]/g, '');
  const ports = deps.mailPorts;

  // Thunderbird-style autoconfiguration (public: it holds only server names and ports).
  const autoconfigDoc = (): Response => autoconfig(host, ports);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', autoconfigDoc);
  app.get('/mail/config-v1.1.xml', autoconfigDoc);

  // Outlook's Autodiscover, plain-old-XML flavour. Outlook asks both spellings.
  const autodiscover = async (c: Context): Promise<Response> => {
    const body = (await deps.readBounded(c.req.raw, 16 * 1024))?.toString('utf8') ?? null;
    if (body === null || /<!(DOCTYPE|ENTITY)/i.test(body)) return autodiscoverError('600', 'Invalid Request');
    const schema = /<AcceptableResponseSchema>\s*([^<\s]{1,200})\s*<\/AcceptableResponseSchema>/.exec(
      body,
    )?.[1];
    if (schema !== undefined && schema !== OUTLOOK_SCHEMA) return autodiscoverError('600', 'Invalid Request');
    const asked = /<EMailAddress>\s*([^<\s]{1,320})\s*<\/EMailAddress>/.exec(body)?.[1] ?? '';
    // Echoed only when it looks like a plain address; escaped all the same.
    const plain = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(asked);
    return autodiscoverSettings(host, ports, plain ? asked.toLowerCase() : '');
  };
  app.post('/autodiscover/autodiscover.xml', autodiscover);
  app.post('/Autodiscover/Autodiscover.xml', autodiscover);

  // An Apple configuration profile with the mail account of the signed-in user.
  app.get('/profile/apple.mobileconfig', async (c) => {
    const ctx = await deps.signedIn(c);
    if (ctx?.principal.kind !== 'account') return new Response('Unauthorized', { status: 401 });
    return new Response(appleProfile(host, ports, ctx.principal.address), {
      headers: {
        'Content-Type': 'application/x-apple-aspen-config',
        'Content-Disposition': `attachment; filename="${host}.mobileconfig"`,
      },
    });
  });
}

const OUTLOOK_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** The autoconfig document (Thunderbird's config-v1.1 format) for this server's listeners. */
function autoconfig(host: string, ports: MailPorts): Response {
  const server = (kind: 'incoming' | 'outgoing', type: string, port: number, socket: string): string =>
    [
      `    <${kind}Server type="${type}">`,
      `      <hostname>${host}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socket}</socketType>`,
      '      <authentication>password-cleartext</authentication>',
      '      <username>%EMAILADDRESS%</username>',
      `    </${kind}Server>`,
    ].join('\n');
  const servers = [
    ports.imaps ? server('incoming', 'imap', ports.imaps, 'SSL') : null,
    ports.imap ? server('incoming', 'imap', ports.imap, 'STARTTLS') : null,
    ports.submissions ? server('outgoing', 'smtp', ports.submissions, 'SSL') : null,
    ports.submission ? server('outgoing', 'smtp', ports.submission, 'STARTTLS') : null,
  ].filter(Boolean);
  const doc = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${host}">`,
    '    <domain>%EMAILDOMAIN%</domain>',
    `    <displayName>Portcullis (${host})</displayName>`,
    ...servers,
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
  return new Response(doc, { headers: { 'Content-Type': 'application/xml; charset=utf-8' } });
}

/** The Autodiscover answer: IMAP and SMTP settings, implicit TLS preferred. */
function autodiscoverSettings(host: string, ports: MailPorts, address: string): Response {
  const protocol = (type: string, port: number, implicitTls: boolean): string[] => [
    '      <Protocol>',
    `        <Type>${type}</Type>`,
    `        <Server>${host}</Server>`,
    `        <Port>${port}</Port>`,
    '        <DomainRequired>off</DomainRequired>',
    ...(address ? [`        <LoginName>${xml(address)}</LoginName>`] : []),
    '        <SPA>off</SPA>',
    implicitTls ? '        <SSL>on</SSL>' : '        <Encryption>TLS</Encryption>',
    '        <AuthRequired>on</AuthRequired>',
    '      </Protocol>',
  ];
  const imap = ports.imaps
    ? protocol('IMAP', ports.imaps, true)
    : ports.imap
      ? protocol('IMAP', ports.imap, false)
      : [];
  const smtp = ports.submissions
    ? protocol('SMTP', ports.submissions, true)
    : ports.submission
      ? protocol('SMTP', ports.submission, false)
      : [];
  const doc = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    `  <Response xmlns="${OUTLOOK_SCHEMA}">`,
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...imap,
    ...smtp,
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
  return new Response(doc, { headers: { 'Content-Type': 'application/xml; charset=utf-8' } });
}

function autodiscoverError(code: string, message: string): Response {
  const doc = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response>',
    `    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="1">`,
    `      <ErrorCode>${code}</ErrorCode>`,
    `      <Message>${message}</Message>`,
    '    </Error>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
  return new Response(doc, { headers: { 'Content-Type': 'application/xml; charset=utf-8' } });
}

/** A UUID derived from `seed`, so a profile downloaded again replaces the installed one. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

/** An Apple configuration profile (com.apple.mail.managed) for one address; no password. */
function appleProfile(host: string, ports: MailPorts, address: string): string {
  const a = xml(address);
  const reverse = host.split('.').reverse().join('.');
  const incoming = ports.imaps ?? ports.imap ?? 993;
  const outgoing = ports.submissions ?? ports.submission ?? 465;
  const entry = (key: string, value: string): string => `      <key>${key}</key>${value}`;
  const str = (v: string): string => `<string>${v}</string>`;
  const mail = [
    entry('EmailAccountDescription', str(a)),
    entry('EmailAccountType', str('EmailTypeIMAP')),
    entry('EmailAddress', str(a)),
    entry('IncomingMailServerAuthentication', str('EmailAuthPassword')),
    entry('IncomingMailServerHostName', str(host)),
    entry('IncomingMailServerPortNumber', `<integer>${incoming}</integer>`),
    entry('IncomingMailServerUseSSL', '<true/>'),
    entry('IncomingMailServerUsername', str(a)),
    entry('OutgoingMailServerAuthentication', str('EmailAuthPassword')),
    entry('OutgoingMailServerHostName', str(host)),
    entry('OutgoingMailServerPortNumber', `<integer>${outgoing}</integer>`),
    entry('OutgoingMailServerUseSSL', '<true/>'),
    entry('OutgoingMailServerUsername', str(a)),
    entry('OutgoingPasswordSameAsIncomingPassword', '<true/>'),
    entry('PayloadDisplayName', str(`Mail (${a})`)),
    entry('PayloadIdentifier', str(`${reverse}.portcullis.mail`)),
    entry('PayloadType', str('com.apple.mail.managed')),
    entry('PayloadUUID', str(stableUuid(`mail:${host}:${address}`))),
    entry('PayloadVersion', '<integer>1</integer>'),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>PayloadContent</key>',
    '  <array>',
    '    <dict>',
    ...mail,
    '    </dict>',
    '  </array>',
    `  <key>PayloadDisplayName</key><string>Portcullis (${host})</string>`,
    `  <key>PayloadIdentifier</key><string>${reverse}.portcullis</string>`,
    '  <key>PayloadRemovalDisallowed</key><false/>',
    '  <key>PayloadType</key><string>Configuration</string>',
    `  <key>PayloadUUID</key><string>${stableUuid(`profile:${host}:${address}`)}</string>`,
    '  <key>PayloadVersion</key><integer>1</integer>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
