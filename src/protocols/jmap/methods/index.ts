/**
 * @module Every JMAP method this server implements, by name.
 */
import type { Method } from '../core/api.ts';
import { coreEcho } from './core/echo.ts';
import { emailGet } from './email/get.ts';
import { emailQuery } from './email/query.ts';
import { emailSet } from './email/set.ts';
import { identityGet } from './identity/get.ts';
import { mailboxGet } from './mailbox/get.ts';
import { emailSubmissionSet } from './submission/set.ts';

export const METHODS: ReadonlyMap<string, Method> = new Map([
  ['Core/echo', coreEcho],
  ['Mailbox/get', mailboxGet],
  ['Email/query', emailQuery],
  ['Email/get', emailGet],
  ['Email/set', emailSet],
  ['Identity/get', identityGet],
  ['EmailSubmission/set', emailSubmissionSet],
]);
