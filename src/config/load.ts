/**
 * @module Loading and validating `portcullis.toml`.
 * Trust: the file is written by an administrator, but every value is still checked against the
 * schema; an unknown key, a wrong type or a bad port stops the load with a message naming the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { type Config, type Field, SCHEMA } from './schema.ts';

/** File name of the configuration inside the data folder. */
export const CONFIG_FILE = 'portcullis.toml';

/** A listening address after validation. */
export interface HostPort {
  host: string;
  port: number;
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Parses `HOST:PORT` (IPv6 hosts in brackets) or throws a UsageError naming `where`. Port 0
 * (any free port, reported in the log) is allowed only where `ephemeral` is set. */
export function parseHostPort(value: string, where: string, ephemeral = false): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new UsageError(`${where}: expected HOST:PORT, got ${JSON.stringify(value)}`);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if ((port < 1 && !ephemeral) || port > 65535)
    throw new UsageError(`${where}: port ${port} is out of range 1-65535`);
  if (m[1] !== undefined && isIP(host) !== 6)
    throw new UsageError(`${where}: ${host} is not an IPv6 address`);
  if (m[2] !== undefined && isIP(host) === 0 && !HOSTNAME_RE.test(host)) {
    throw new UsageError(`${where}: ${JSON.stringify(host)} is not an IP address or host name`);
  }
  return { host, port };
}

function checkField(key: string, field: Field, value: unknown): unknown {
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string')
        throw new UsageError(`config: ${key} must be a string, got ${typeName(value)}`);
      if (field.values && !field.values.includes(value)) {
        throw new UsageError(
          `config: ${key} must be one of ${field.values.join(', ')}, got ${JSON.stringify(value)}`,
        );
      }
      if (value.includes('\0')) throw new UsageError(`config: ${key} contains a NUL byte`);
      {
        const problem = field.check?.(value);
        if (problem) throw new UsageError(`config: ${key}: ${problem}`);
      }
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new UsageError(`config: ${key} must be an integer, got ${typeName(value)}`);
      }
      if (value < field.min || value > field.max) {
        throw new UsageError(`config: ${key} must be between ${field.min} and ${field.max}, got ${value}`);
      }
      return value;
    case 'bool':
      if (typeof value !== 'boolean')
        throw new UsageError(`config: ${key} must be true or false, got ${typeName(value)}`);
      return value;
    case 'hostport':
      if (typeof value !== 'string')
        throw new UsageError(`config: ${key} must be a string, got ${typeName(value)}`);
      if (value !== '') parseHostPort(value, `config: ${key}`);
      return value;
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** The configuration with every field at its default. */
export function defaultConfig(): Config {
  const out: Record<string, unknown> = {};
  for (const [section, fields] of Object.entries(SCHEMA)) {
    const target: Record<string, unknown> = section === '' ? out : {};
    for (const [name, field] of Object.entries(fields)) target[name] = structuredClone(field.default);
    if (section !== '') out[section] = target;
  }
  return out as Config;
}

/** Validates a parsed TOML document against the schema. */
export function validateConfig(doc: Record<string, unknown>): Config {
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const schema = SCHEMA as Record<string, Record<string, Field>>;
  for (const [key, value] of Object.entries(doc)) {
    const top = schema['']?.[key];
    if (top) {
      (config as Record<string, unknown>)[key] = checkField(key, top, value);
      continue;
    }
    const section = key !== '' ? schema[key] : undefined;
    if (!section) throw new UsageError(`config: unknown key ${key}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError(`config: [${key}] must be a table, got ${typeName(value)}`);
    }
    for (const [name, v] of Object.entries(value)) {
      const field = section[name];
      if (!field) throw new UsageError(`config: unknown key ${key}.${name}`);
      const target = config[key];
      if (target) target[name] = checkField(`${key}.${name}`, field, v);
    }
  }
  return config as unknown as Config;
}

/** Reads and validates the configuration of a data folder. */
export function loadConfig(dataDir: string): Config {
  const path = join(dataDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`no configuration at ${path}: run "portcullis init --data ${dataDir}" first`);
    }
    throw err;
  }
  const config = parseConfig(text, path);
  // A secret in the file is only as safe as the file (ATTACKS.md AD-02).
  if (config.alerts.webhookSecret !== '' && (statSync(path).mode & 0o077) !== 0)
    throw new UsageError(
      `${path} holds alerts.webhookSecret, so it must not be readable by others: chmod 600 it`,
    );
  return config;
}

/** Parses and validates configuration text; every problem is a UsageError naming `where`. */
export function parseConfig(text: string, where: string): Config {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    const line = err instanceof TomlError ? ` line ${err.line}` : '';
    throw new UsageError(`config: ${where}${line}: not valid TOML`);
  }
  return validateConfig(doc);
}
