/**
 * @module The services bundle every protocol and the CLI receive (DESIGN.md §1).
 */
import type { Clock } from '../core/clock.ts';
import { createEgress } from '../core/egress.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { Resolver } from '../dns/resolver.ts';
import { composeMessage } from '../mail/compose.ts';
import type { Store } from '../store/types.ts';
import { type AlertSettings, createDetector, DEFAULT_ALERTS, type Detector } from './alerts.ts';
import { type Audit, type AuditService, createAuditService, createAuditSink } from './audit.ts';
import { type Calendars, createCalendars, ICALENDAR, SCHEDULE_INBOX } from './calendars.ts';
import { type Changes, createChanges } from './changes.ts';
import { type Collections, createCollections, ensureCollections } from './collections.ts';
import { type Contacts, createContacts } from './contacts.ts';
import { createDelivery, type DeliveryService, type InvitationHandler } from './delivery.ts';
import { createDirectory, type Directory } from './directory.ts';
import { createDiskWatermark } from './disk.ts';
import { createDkim, type DkimService } from './dkim.ts';
import { createRemoteImages, DEFAULT_IMAGE_FETCHES_PER_HOUR, type RemoteImages } from './images.ts';
import { createMail, type MailService } from './mail.ts';
import { createOutbound, type OutboundService } from './outbound.ts';
import { createReadAudit } from './read-audit.ts';
import { createScheduling } from './scheduling.ts';
import { createSignIn, type SignInService } from './signin.ts';
import { createSubmission, type SubmissionService } from './submission.ts';
import { createThrottle, DEFAULT_THROTTLE, type ThrottleSettings } from './throttle.ts';
import { createWebhook } from './webhook.ts';

export type {
  CollectionKind,
  DavCollection,
  DavObject,
  FlagOp,
  Identity,
  Mailbox,
  MailboxEntry,
  MessageKey,
  NamedAddress,
  SubmissionRecord,
  VacationResponse,
} from '../store/types.ts';
export type { CollectionRef, Visible } from './collections.ts';
export type { Ctx, Origin, Principal, Protocol } from './principal.ts';
export { anonymousContext } from './principal.ts';

import { anonymousContext } from './principal.ts';

/** All services. */
export interface Services {
  directory: Directory;
  mail: MailService;
  /** Remote images of messages, fetched by the server for the reader. */
  images: RemoteImages;
  calendars: Calendars;
  /** Each account's schedule inbox (RFC 6638): scheduling messages to read and remove. */
  inbox: Collections;
  contacts: Contacts;
  delivery: DeliveryService;
  outbound: OutboundService;
  submission: SubmissionService;
  dkim: DkimService;
  signIn: SignInService;
  /** The audit log, for the administrator. */
  audit: AuditService;
  /** Alerts raised by the detector, for the administrator. */
  alerts: Pick<Detector, 'list'>;
  /** Writes what is still buffered (audit records) before the store closes. */
  flush(): Promise<void>;
  /** Change notifications; protocols may only `watch`. */
  changes: Pick<Changes, 'watch'>;
}

/** Settings the services need from configuration. */
export interface ServiceSettings {
  maxMessageSize: number;
  maxReceivedHeaders: number;
  /** This server's name, for Message-IDs it adds. */
  hostname: string;
  /** Messages one account may submit per hour. */
  maxMessagesPerHour: number;
  /** Checks of mail from other servers (SPF, DKIM, DMARC, ARC); null: none. */
  inbound: { dmarcReject: boolean } | null;
  /** Browser sessions: idle and absolute lifetime in ms. */
  sessions: { idleMs: number; lifetimeMs: number };
  /** When the detector raises alerts (DEFAULT_ALERTS when absent). */
  alerts?: AlertSettings;
  /** Where alerts are POSTed, and the HMAC secret that signs them. */
  webhook?: { url: string; secret: string };
  /** How sign-in failures are slowed down (DEFAULT_THROTTLE when absent). */
  throttle?: ThrottleSettings;
  /** Free bytes below which new mail is refused for now (0 or absent: no watermark). */
  minFreeDisk?: number;
  /** Networks besides the public internet that remote images may be fetched from. */
  imageNetworks?: string[];
  /** Remote images one account may have fetched per hour (DEFAULT_IMAGE_FETCHES_PER_HOUR). */
  imageFetchesPerHour?: number;
  /** Whether accounts may forward mail outside the local domains (true when absent). */
  externalForwarding?: boolean;
}

/** Builds the services on a store. */
export function createServices(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  settings: ServiceSettings;
  /** DNS for inbound checks. */
  resolver: Resolver;
}): Services {
  const { store, clock, log, settings, resolver } = deps;
  const webhook = settings.webhook?.url
    ? createWebhook({ ...settings.webhook, log: log.child({ svc: 'webhook' }) })
    : undefined;
  const sink = createAuditSink({
    store,
    log: log.child({ svc: 'audit' }),
    clock,
    onDegraded: (waiting) =>
      detector.observe({
        action: 'audit.degraded',
        outcome: 'failed',
        origin: { protocol: 'cli', remote: 'local', sessionId: 'audit' },
        detail: { waiting },
      }),
  });
  const detector = createDetector({
    store,
    clock,
    log: log.child({ svc: 'alerts' }),
    audit: sink.record,
    settings: settings.alerts ?? DEFAULT_ALERTS,
    ...(webhook ? { webhook } : {}),
  });
  const audit: Audit = (e) => {
    sink.record(e);
    detector.observe(e);
  };
  const reads = createReadAudit(audit, clock, detector.observeRead);
  const throttle = createThrottle({ clock, settings: settings.throttle ?? DEFAULT_THROTTLE });
  const directory = createDirectory({
    store,
    clock,
    audit,
    throttle,
    externalForwarding: settings.externalForwarding ?? true,
  });
  const changes = createChanges(store);
  const diskLow = createDiskWatermark(store, clock, settings.minFreeDisk ?? 0);
  const outbound = createOutbound({ store, clock, log: log.child({ svc: 'outbound' }) });
  // Invitation mail is applied by scheduling, which needs submission, which needs delivery.
  let invitations: InvitationHandler | null = null;
  const delivery = createDelivery({
    store,
    directory,
    changes,
    clock,
    log: log.child({ svc: 'delivery' }),
    maxMessageSize: settings.maxMessageSize,
    maxReceivedHeaders: settings.maxReceivedHeaders,
    hostname: settings.hostname,
    inbound: settings.inbound ? { ...settings.inbound, resolver } : null,
    diskLow,
    audit,
    invitations: () => invitations,
  });
  detector.setNotifier(async (accountId, subject, text) => {
    const account = await store.getAccount(accountId);
    if (!account) return;
    const raw = await composeMessage({
      from: [{ name: 'Portcullis security', email: `postmaster@${settings.hostname}` }],
      to: [{ name: account.displayName || null, email: account.address }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject,
      text,
      html: null,
      inReplyTo: [],
      references: [],
      messageId: `${randomId(16)}@${settings.hostname}`,
      date: clock.now(),
    });
    const intake = delivery.begin(
      anonymousContext({ protocol: 'smtp', remote: 'local', sessionId: 'alerts' }),
      {
        mailFrom: '',
        recipients: [account.address],
        prefix: () => Buffer.alloc(0),
        forward: false,
      },
    );
    await intake.write(raw);
    const r = await intake.commit();
    if (!r.ok) log.warn({ account: accountId, error: r.error }, 'security notice not filed');
  });
  const dkim = createDkim({ store, clock, log: log.child({ svc: 'dkim' }) });
  const submission = createSubmission({
    store,
    directory,
    delivery,
    outbound,
    dkim,
    changes,
    clock,
    log: log.child({ svc: 'submission' }),
    audit,
    hostname: settings.hostname,
    maxMessagesPerHour: settings.maxMessagesPerHour,
    maxReceivedHeaders: settings.maxReceivedHeaders,
  });
  const scheduling = createScheduling({
    store,
    directory,
    submission: () => submission,
    inboxOf: async (accountId) =>
      (await ensureCollections(store, SCHEDULE_INBOX, accountId, clock.now()))[0]!,
    defaultCalendar: async (accountId) => {
      const list = await ensureCollections(store, ICALENDAR, accountId, clock.now());
      return list.find((c) => c.name === 'calendar') ?? list[0]!;
    },
    audit,
    changes,
    clock,
    hostname: settings.hostname,
    log: log.child({ svc: 'scheduling' }),
  });
  invitations = scheduling.incoming;
  const mail = createMail({
    store,
    changes,
    clock,
    maxMessageSize: settings.maxMessageSize,
    reads,
    audit,
    diskLow,
  });
  return {
    directory,
    mail,
    images: createRemoteImages({
      mail,
      egress: createEgress({ allowNetworks: settings.imageNetworks ?? [] }),
      audit,
      clock,
      fetchesPerHour: settings.imageFetchesPerHour ?? DEFAULT_IMAGE_FETCHES_PER_HOUR,
    }),
    changes: { watch: changes.watch },
    calendars: createCalendars({
      store,
      audit,
      changes,
      clock,
      scheduling,
      log: log.child({ svc: 'calendars' }),
    }),
    inbox: createCollections(SCHEDULE_INBOX, { store, audit, changes, clock }),
    contacts: createContacts({ store, audit, changes, clock }),
    outbound,
    delivery,
    dkim,
    audit: createAuditService({ store, audit, ...(webhook ? { webhook } : {}) }),
    async flush() {
      reads.flush();
      reads.stop();
      await detector.settle();
      await sink.flush();
    },
    alerts: { list: detector.list },
    signIn: createSignIn({
      store,
      clock,
      audit,
      throttle,
      settings: { ...settings.sessions, issuer: settings.hostname },
    }),
    submission,
  };
}
