import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageType } from './images.ts';

test('an image is what its first bytes prove, whatever the sender claims', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  assert.equal(imageType(png), 'image/png');
  assert.equal(imageType(Buffer.from('GIF89a\x01\x00', 'latin1')), 'image/gif');
  assert.equal(imageType(Buffer.from('ffd8ffe000104a464946', 'hex')), 'image/jpeg');
  assert.equal(imageType(Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1')), 'image/webp');
  for (const other of [
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    '<html><script>alert(1)</script>',
    'GIF87',
    'RIFF\x24\x00\x00\x00WAVE',
    '',
  ])
    assert.equal(imageType(Buffer.from(other, 'latin1')), null, other);
});
