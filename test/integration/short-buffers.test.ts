// How the module answers a C_GetAttributeValue whose value buffer is shorter than the value
// (core/short-buffers.ts): asked once, before any read offers less room than a value needs. The
// answer recorded must be what the module really does, seen here with room to spare behind the
// short buffer (a module that copies the whole value writes into that spare room, not past our
// memory); and reads come out whole whichever the answer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Attribute, ReturnValue } from '../../src/index.js';
import { addressOf, allocBuffer, readULong, writePointer, writeULong } from '../../src/sys/abi.js';
import { shortBuffersHonoured } from '../../src/core/short-buffers.js';
import { CK_ATTRIBUTE } from '../../src/core/template.js';
import { dataTemplate, objectRefused } from '../support/objects.js';
import { openFixture } from '../support/token.js';

const { session, close } = await openFixture();
after(close);

const { type: TYPE, pValue: PVALUE, ulValueLen: LEN } = CK_ATTRIBUTE.fields;

test('the answer recorded is what the module does with a short buffer; reads are whole either way', async (t) => {
  const value = randomBytes(600);
  const template = dataTemplate('short buffers', value, { [Attribute.PRIVATE]: false });
  const refused = await objectRefused(session, 'session data objects', template);
  if (refused) return t.skip(refused);
  const object = await session.createObject(template);
  try {
    const seen = await session.exclusive('C_GetAttributeValue', async ({ handle, invoke }) => {
      const honoured = await shortBuffersHonoured(session.context.module, invoke, handle, object.handle);
      // CKA_VALUE offered 100 bytes, in a buffer with room for all 600 and more behind them.
      const buf = allocBuffer(CK_ATTRIBUTE.size + 1024);
      writeULong(buf, TYPE.offset, Attribute.VALUE);
      writePointer(buf, PVALUE.offset, addressOf(buf) + BigInt(CK_ATTRIBUTE.size));
      writeULong(buf, LEN.offset, 100);
      const rv = await invoke('C_GetAttributeValue', handle, object.handle, buf, 1);
      const spare = buf.subarray(CK_ATTRIBUTE.size + 100);
      return { honoured, rv, length: readULong(buf, LEN.offset), spareUsed: spare.some((b) => b !== 0) };
    });
    if (seen.honoured) {
      assert.equal(seen.rv, ReturnValue.BUFFER_TOO_SMALL);
      assert.equal(seen.spareUsed, false, 'nothing written past the room offered');
    } else {
      // Taken not to keep to the standard: it did not answer CKR_BUFFER_TOO_SMALL as it should.
      assert.notEqual(seen.rv, ReturnValue.BUFFER_TOO_SMALL);
      if (seen.rv === ReturnValue.OK) assert.equal(seen.length, BigInt(value.length));
    }
    for (let i = 0; i < 2; i++) {
      const got = await object.getAttributes([Attribute.VALUE, Attribute.LABEL]);
      assert.deepEqual(Buffer.from(got[Attribute.VALUE] as Uint8Array), value);
      assert.equal(got[Attribute.LABEL], 'short buffers');
    }
  } finally {
    await object.destroy();
  }
});
