/**
 * @module Every JMAP method this server implements, by name.
 */
import type { Method } from '../core/api.ts';
import { coreEcho } from './core/echo.ts';
import { emailChanges } from './email/changes.ts';
import { emailCopy } from './email/copy.ts';
import { emailGet } from './email/get.ts';
import { emailImport } from './email/import.ts';
import { emailParse } from './email/parse.ts';
import { emailQuery } from './email/query.ts';
import { emailQueryChanges } from './email/query-changes.ts';
import { emailRemoteImage } from './email/remote-image.ts';
import { emailSet } from './email/set.ts';
import { searchSnippetGet } from './email/snippet.ts';
import { identityChanges, identityGet } from './identity/get.ts';
import { identitySet } from './identity/set.ts';
import { mailboxChanges } from './mailbox/changes.ts';
import { mailboxGet } from './mailbox/get.ts';
import { mailboxQuery } from './mailbox/query.ts';
import { mailboxSet } from './mailbox/set.ts';
import { emailSubmissionChanges, emailSubmissionGet, emailSubmissionQuery } from './submission/get.ts';
import { emailSubmissionSet } from './submission/set.ts';
import { threadChanges, threadGet } from './thread/get.ts';
import { vacationGet, vacationSet } from './vacation/vacation.ts';

export const METHODS: ReadonlyMap<string, Method> = new Map([
  ['Core/echo', coreEcho],
  ['Mailbox/get', mailboxGet],
  ['Mailbox/changes', mailboxChanges],
  ['Mailbox/query', mailboxQuery],
  ['Mailbox/set', mailboxSet],
  ['Thread/get', threadGet],
  ['Thread/changes', threadChanges],
  ['Email/query', emailQuery],
  ['Email/queryChanges', emailQueryChanges],
  ['Email/get', emailGet],
  ['Email/changes', emailChanges],
  ['Email/set', emailSet],
  ['Email/import', emailImport],
  ['Email/parse', emailParse],
  ['SearchSnippet/get', searchSnippetGet],
  ['Email/remoteImage', emailRemoteImage],
  ['Email/copy', emailCopy],
  ['Identity/get', identityGet],
  ['Identity/changes', identityChanges],
  ['Identity/set', identitySet],
  ['EmailSubmission/get', emailSubmissionGet],
  ['EmailSubmission/changes', emailSubmissionChanges],
  ['EmailSubmission/query', emailSubmissionQuery],
  ['EmailSubmission/set', emailSubmissionSet],
  ['VacationResponse/get', vacationGet],
  ['VacationResponse/set', vacationSet],
]);
