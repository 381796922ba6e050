/**
 * @module Renders docs/config.md from the schema. A test keeps the committed file in step.
 */
import { type Field, SCHEMA } from './schema.ts';

function tomlValue(field: Field): string {
  return JSON.stringify(field.default);
}

function typeText(field: Field): string {
  switch (field.kind) {
    case 'string':
      return field.values ? `one of ${field.values.map((v) => `\`${v}\``).join(', ')}` : 'string';
    case 'int':
      return `integer, ${field.min}–${field.max}`;
    case 'bool':
      return 'boolean';
    case 'hostport':
      return '`HOST:PORT` or empty';
  }
}

/** The Markdown reference of every configuration key. */
export function renderConfigDoc(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'Portcullis reads one file, `portcullis.toml`, in its data folder (`--data DIR`, `$PORTCULLIS_DATA`',
    'or `./data`). `portcullis init` writes it. Every key is optional; a key that is not listed here,',
    'a value of the wrong type or a port out of range stops the server with a message naming the key.',
    'The file is read when a command starts; restart `serve` after changing it.',
    '',
  ];
  for (const [section, fields] of Object.entries(SCHEMA)) {
    lines.push(section === '' ? '## Top level' : `## [${section}]`, '');
    lines.push('| key | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const [name, field] of Object.entries(fields) as [string, Field][]) {
      const doc = field.doc.replaceAll('|', '\\|');
      lines.push(`| \`${name}\` | ${typeText(field)} | \`${tomlValue(field)}\` | ${doc} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
