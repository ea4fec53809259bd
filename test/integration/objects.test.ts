// Objects on a real token: create, find, read, modify, copy and destroy data objects; typed lookup
// errors; searches longer than one C_FindObjects batch, always ended; multi-attribute reads where
// the token refuses some attributes; array and nested-template attributes read back from the token
// and enforced by it; the object class and key metadata of what is made and what is found.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomBytes } from 'node:crypto';
import {
  Attribute,
  Certificate,
  CertificateType,
  Data,
  DomainParameters,
  KeyType,
  Mechanism,
  MultipleObjectsError,
  NoSuchKeyError,
  ObjectClass,
  Pkcs11Error,
  PrivateKey,
  PublicKey,
  ReturnValue,
  SecretKey,
  type PkcsObject,
} from '../../src/index.js';
import type { Template } from '../../src/core/template.js';
import { decodeX509Certificate } from '../../src/util/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { CallLog } from '../support/call-log.js';
import { dataTemplate, findAll, nestedTemplatesRefused, objectRefused } from '../support/objects.js';
import { cannotGenerate, generationRefused } from '../support/key-capabilities.js';
import { selfSignedCertificate } from '../support/openssl.js';
import { MADE_UP_MECHANISM, lacks, missing, openFixture, unlessRefused } from '../support/token.js';

/** Every C call of this file's library, for the tests that must see which calls were made. */
const log = new CallLog();
const { session, token, mechanisms, close } = await openFixture({ trace: log.sink });
after(close);

/** A tag unique to this run, so searches see only what this file made. */
const run = randomBytes(6).toString('hex');

/** A session data object template tagged with this run (in CKA_APPLICATION). */
function runData(label: string, value: Uint8Array, extra: Template = {}): Template {
  return dataTemplate(label, value, { [Attribute.APPLICATION]: `pkcs11-ts ${run}`, ...extra });
}

/** A constructor of one of the object classes, for `instanceof`. */
type ObjectClassCtor = abstract new (...args: never[]) => PkcsObject;

describe('data objects', () => {
  test('create, read, find by label, modify, copy, destroy', async (t) => {
    const value = Uint8Array.of(1, 2, 3, 4, 5);
    const created = await session.createObject(runData(`obj-${run}`, value));
    assert.ok(created instanceof Data);
    assert.equal(created.objectClass, ObjectClass.DATA);
    assert.equal(created.label, `obj-${run}`);
    assert.equal(await created.get(Attribute.LABEL), `obj-${run}`);
    assert.equal(typeof created.handle, 'bigint');

    const vendorAttribute = 0x8000_7e57;
    const attrs = await created.getAttributes([
      Attribute.VALUE,
      Attribute.APPLICATION,
      Attribute.TOKEN,
      Attribute.PRIVATE,
      vendorAttribute,
    ]);
    assert.deepEqual(attrs[Attribute.VALUE], Buffer.from(value));
    assert.equal(attrs[Attribute.APPLICATION], `pkcs11-ts ${run}`);
    assert.equal(attrs[Attribute.TOKEN], false);
    assert.equal(typeof attrs[Attribute.PRIVATE], 'boolean');
    assert.equal(attrs[vendorAttribute], undefined, 'an attribute the object lacks reads as undefined');

    const found = await session.getKey({ label: `obj-${run}`, objectClass: ObjectClass.DATA });
    assert.equal(found.handle, created.handle);

    await created.set({ [Attribute.LABEL]: `renamed-${run}` });
    assert.equal(await created.get(Attribute.LABEL), `renamed-${run}`);
    await assert.rejects(session.getKey({ label: `obj-${run}` }), NoSuchKeyError);

    const copy = await unlessRefused(
      t,
      [ReturnValue.FUNCTION_NOT_SUPPORTED],
      'the token cannot copy objects',
      () => created.copy({ [Attribute.LABEL]: `copy-${run}` }),
    );
    if (!copy) return created.destroy();
    assert.ok(copy instanceof Data);
    assert.notEqual(copy.handle, created.handle);
    assert.equal(copy.label, `copy-${run}`);
    assert.deepEqual(await copy.get(Attribute.VALUE), Buffer.from(value));

    await created.destroy();
    await rejectsWithPkcs11(created.get(Attribute.LABEL), 'C_GetAttributeValue', 'CKR_OBJECT_HANDLE_INVALID');
    assert.equal(await copy.get(Attribute.LABEL), `copy-${run}`, 'the copy outlives the original');
    await copy.destroy();
    assert.deepEqual(await session.findHandles({ [Attribute.LABEL]: `copy-${run}` }), []);
  });

  test('labels: UTF-8 and empty labels survive the token', async () => {
    const labels = ['ünïcödé ✓ 鍵', ''];
    for (const label of labels) {
      const obj = await session.createObject(runData(label, Uint8Array.of(0)));
      try {
        assert.equal(await obj.get(Attribute.LABEL), label);
        assert.equal(obj.label, label);
      } finally {
        await obj.destroy();
      }
    }
  });

  test('a created object whose template gives its summary is not read back; one that does not is', async () => {
    let mark = log.mark();
    const labelled = await session.createObject(runData('summary from the template', Uint8Array.of(1)));
    assert.equal(log.since(mark, 'C_GetAttributeValue').length, 0, 'class and label came from the template');
    assert.ok(labelled instanceof Data);
    assert.equal(labelled.label, 'summary from the template');
    assert.equal(await labelled.get(Attribute.LABEL), labelled.label, 'and are what the token holds');

    const template: Template = { ...runData('', Uint8Array.of(2)) };
    delete (template as Record<number, unknown>)[Attribute.LABEL];
    mark = log.mark();
    const unlabelled = await session.createObject(template);
    // One call, or a length query and the read on a module that overruns short buffers (NSS).
    assert.ok(log.since(mark, 'C_GetAttributeValue').length >= 1, 'the label was read back');
    assert.equal(unlabelled.label, await unlabelled.get(Attribute.LABEL));
    await labelled.destroy();
    await unlabelled.destroy();
  });

  test('a search that names the class does not read the class of what it finds', async () => {
    const made = await session.createObject(runData('class from the search', Uint8Array.of(3)));
    const mark = log.mark();
    const found = await findAll(session, {
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.LABEL]: 'class from the search',
    });
    assert.equal(found.length, 1);
    assert.ok(found[0] instanceof Data);
    assert.equal(found[0]?.objectClass, ObjectClass.DATA);
    assert.equal(found[0]?.label, 'class from the search');
    const reads = log.since(mark, 'C_GetAttributeValue');
    assert.ok(reads.length >= 1, 'the summary was read');
    for (const read of reads) assert.doesNotMatch(read.args.join(' '), /CKA_CLASS/);
    await made.destroy();
  });

  test('a token object persists across sessions and is destroyed', async (t) => {
    const label = `persistent-${run}`;
    const template = runData(label, Uint8Array.of(7), { [Attribute.TOKEN]: true });
    const refused = await objectRefused(session, 'token data objects', template);
    if (refused) return t.skip(refused);
    const obj = await session.createObject(template);
    {
      await using other = await token.open({ rw: true });
      const seen = await other.getKey({ label });
      assert.equal(await seen.get(Attribute.TOKEN), true);
    }
    await obj.destroy();
    assert.deepEqual(await session.findHandles({ [Attribute.LABEL]: label }), []);
  });

  test('more objects than one C_FindObjects batch (256) are all found, and every search is ended', async () => {
    const count = 300;
    const application = `batch ${run}`;
    const made = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        session.createObject(
          runData(`batch-${i}`, Uint8Array.of(i & 0xff), { [Attribute.APPLICATION]: application }),
        ),
      ),
    );
    try {
      const mark = log.mark();
      const found = await findAll(session, { [Attribute.APPLICATION]: application });
      assert.equal(found.length, count);
      assert.ok(found.every((obj) => obj instanceof Data));
      assert.deepEqual(new Set(found.map((o) => o.handle)), new Set(made.map((o) => o.handle)));
      assert.deepEqual(new Set(found.map((o) => o.label)), new Set(made.map((_, i) => `batch-${i}`)));
      // Breaking out of the loop early leaves no search open: a new one runs, and so does everything else.
      let seen = 0;
      for await (const obj of session.getObjects({ [Attribute.APPLICATION]: application })) {
        assert.ok(obj instanceof Data);
        if (++seen === 3) break;
      }
      assert.equal((await session.findHandles({ [Attribute.APPLICATION]: application })).length, count);
      assert.equal((await session.generateRandom(8)).length, 8);
      if (mechanisms.has(Mechanism.AES_KEY_GEN) && !(await generationRefused(session, KeyType.AES, 128))) {
        const aes = await session.generateKey(KeyType.AES, 128);
        assert.ok(aes instanceof SecretKey);
        await aes.destroy();
      }
      const calls = log.since(mark);
      const inits = calls.filter((c) => c.fn === 'C_FindObjectsInit').length;
      const finals = calls.filter((c) => c.fn === 'C_FindObjectsFinal' && c.rv === 'CKR_OK').length;
      assert.equal(finals, inits, 'every C_FindObjectsInit has its C_FindObjectsFinal');
      assert.ok(calls.some((c) => c.fn === 'C_FindObjects'));
    } finally {
      await Promise.all(made.map((o) => o.destroy()));
    }
  });
});

describe('lookup', () => {
  test(
    'getKey: exactly one, else NoSuchKeyError or MultipleObjectsError naming the query',
    { skip: missing(mechanisms, Mechanism.AES_KEY_GEN) },
    async (t) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      const label = `twin-${run}`;
      await assert.rejects(
        session.getKey({ label: `no such key ${run}`, objectClass: ObjectClass.SECRET_KEY }),
        (error: Error) => {
          assert.ok(error instanceof NoSuchKeyError);
          assert.match(error.message, /no such key/);
          assert.match(error.message, /CKO_SECRET_KEY/);
          return true;
        },
      );
      const twins = [
        await session.generateKey(KeyType.AES, 128, { label }),
        await session.generateKey(KeyType.AES, 256, { label }),
      ];
      try {
        await assert.rejects(session.getKey({ label }), (error: Error) => {
          assert.ok(error instanceof MultipleObjectsError);
          assert.match(error.message, /^2 objects/);
          return true;
        });
        const one = await session.getKey({ label, template: { [Attribute.VALUE_LEN]: 32 } });
        assert.ok(one instanceof SecretKey);
        assert.equal(one.keyLength, 256);
      } finally {
        await Promise.all(twins.map((key) => key.destroy()));
      }
    },
  );
});

describe('reading attributes the token refuses', () => {
  test(
    'a sensitive AES key: CKA_VALUE is undefined, the rest of the read succeeds',
    { skip: missing(mechanisms, Mechanism.AES_KEY_GEN) },
    async (t) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      const key = await session.generateKey(KeyType.AES, 256, { label: `sensitive-${run}` });
      assert.ok(key instanceof SecretKey);
      const vendorAttribute = 0x8fff0001;
      const asked = [
        Attribute.LABEL,
        Attribute.VALUE,
        Attribute.VALUE_LEN,
        Attribute.SENSITIVE,
        Attribute.EXTRACTABLE,
        vendorAttribute,
        Attribute.KEY_TYPE,
      ];
      const attrs = await key.getAttributes(asked);
      const byNumber = (a: number, b: number) => a - b;
      assert.deepEqual(Object.keys(attrs).map(Number).sort(byNumber), [...asked].sort(byNumber));
      assert.equal(attrs[Attribute.VALUE], undefined, 'sensitive');
      assert.equal(attrs[vendorAttribute], undefined, 'not an attribute of this object');
      assert.equal(attrs[Attribute.LABEL], `sensitive-${run}`);
      assert.equal(attrs[Attribute.VALUE_LEN], 32);
      assert.equal(attrs[Attribute.KEY_TYPE], KeyType.AES);
      assert.equal(attrs[Attribute.SENSITIVE], true);
      assert.equal(attrs[Attribute.EXTRACTABLE], false);
      assert.equal(await key.get(Attribute.VALUE), undefined);
      // Once sensitive, always sensitive: the token refuses to change it back.
      await rejectsWithPkcs11(
        key.set({ [Attribute.SENSITIVE]: false }),
        'C_SetAttributeValue',
        'CKR_ATTRIBUTE_READ_ONLY',
      );
      await key.destroy();
    },
  );

  test(
    'a readable secret comes back whole',
    { skip: missing(mechanisms, Mechanism.AES_KEY_GEN) },
    async (t) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      const key = await session.generateKey(KeyType.AES, 128, {
        template: { [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true },
      });
      const value = (await key.get(Attribute.VALUE)) as Uint8Array;
      assert.equal(value.length, 16);
      await key.destroy();
    },
  );
});

describe('array attributes through the token', () => {
  test(
    'CKA_ALLOWED_MECHANISMS and nested CKA_WRAP/UNWRAP_TEMPLATE read back as written; the list is enforced',
    { skip: missing(mechanisms, Mechanism.AES_KEY_GEN) },
    async (t) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      const refused = await nestedTemplatesRefused(session);
      if (refused) return t.skip(refused);
      // Enforcement is seen with AES_CBC (left out of the list) and AES_CBC_PAD (in it).
      if (lacks(t, { mechanisms }, Mechanism.AES_CBC, Mechanism.AES_CBC_PAD)) return;
      const allowed = [Mechanism.AES_CBC_PAD, Mechanism.AES_KEY_WRAP, MADE_UP_MECHANISM];
      const wrapTemplate = {
        [Attribute.KEY_TYPE]: KeyType.AES,
        [Attribute.EXTRACTABLE]: true,
        [Attribute.LABEL]: 'inner',
      };
      const unwrapTemplate = { [Attribute.CLASS]: ObjectClass.SECRET_KEY, [Attribute.SENSITIVE]: true };
      let key: SecretKey;
      try {
        key = (await session.generateKey(KeyType.AES, 256, {
          template: {
            [Attribute.ALLOWED_MECHANISMS]: allowed,
            [Attribute.WRAP_TEMPLATE]: wrapTemplate,
            [Attribute.UNWRAP_TEMPLATE]: unwrapTemplate,
          },
        })) as SecretKey;
      } catch (e) {
        if (e instanceof Pkcs11Error && e.code === 'CKR_ATTRIBUTE_TYPE_INVALID')
          return t.skip('token has no array attributes');
        throw e;
      }
      const attrs = await key.getAttributes([
        Attribute.WRAP_TEMPLATE,
        Attribute.ALLOWED_MECHANISMS,
        Attribute.UNWRAP_TEMPLATE,
      ]);
      assert.deepEqual(attrs[Attribute.WRAP_TEMPLATE], wrapTemplate);
      assert.deepEqual(attrs[Attribute.ALLOWED_MECHANISMS], allowed);
      assert.deepEqual(attrs[Attribute.UNWRAP_TEMPLATE], unwrapTemplate);
      // The module enforces the list: a mechanism outside it is refused.
      const iv = new Uint8Array(16);
      await rejectsWithPkcs11(
        key.encrypt(new Uint8Array(16), { mechanism: Mechanism.AES_CBC, mechanismParam: iv }),
        undefined,
        'CKR_MECHANISM_INVALID',
      );
      const allowedUse = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
      assert.equal((await key.encrypt(new Uint8Array(16), allowedUse)).length, 32);
      // Never set: an empty template, or not present at all, depending on the module.
      const plain = await session.generateKey(KeyType.AES, 128);
      const unset = await plain.get(Attribute.UNWRAP_TEMPLATE);
      if (unset !== undefined) assert.deepEqual(unset, {});
      await plain.destroy();
      await key.destroy();
    },
  );
});

describe('object classes and key metadata', () => {
  test('the object class follows CKA_CLASS, for new objects and for found ones', async (t) => {
    const label = (kind: string) => `${kind} ${run}`;
    const dataObject = await session.createObject(runData(label('data'), Uint8Array.of(1)));
    // Secret keys are left out where the token makes none.
    const noSecret = await generationRefused(session, KeyType.AES, 128);
    if (noSecret) t.diagnostic(noSecret);
    const secret = noSecret
      ? undefined
      : await session.generateKey(KeyType.AES, 128, { label: label('secret') });
    const pair = await session.generateKeypair(KeyType.EC, 'secp256r1', { label: label('ec') });
    const dh = crypto.getDiffieHellman('modp2');
    const domain = { [Attribute.PRIME]: dh.getPrime(), [Attribute.BASE]: dh.getGenerator() };
    // Domain parameters are left out where the token keeps none (it refuses the object itself).
    const noParams = await objectRefused(session, 'DH domain parameters', {
      [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
      [Attribute.KEY_TYPE]: KeyType.DH,
      [Attribute.TOKEN]: false,
      ...domain,
    });
    if (noParams) t.diagnostic(noParams);
    const params = noParams
      ? undefined
      : await session.createDomainParameters(KeyType.DH, domain, { label: label('params') });
    const der = selfSignedCertificate('/CN=pkcs11-ts objects test');
    const fields = decodeX509Certificate(der);
    // ISSUER and SERIAL_NUMBER are optional in the standard, but NSS softokn wants them.
    const certificate = await session.createObject({
      [Attribute.CLASS]: ObjectClass.CERTIFICATE,
      [Attribute.CERTIFICATE_TYPE]: CertificateType.X_509,
      [Attribute.TOKEN]: false,
      [Attribute.LABEL]: label('cert'),
      [Attribute.SUBJECT]: fields[Attribute.SUBJECT] as Uint8Array,
      [Attribute.ISSUER]: fields[Attribute.ISSUER] as Uint8Array,
      [Attribute.SERIAL_NUMBER]: fields[Attribute.SERIAL_NUMBER] as Uint8Array,
      [Attribute.VALUE]: der,
    });

    const made: [PkcsObject, ObjectClassCtor, number, string][] = [
      [dataObject, Data, ObjectClass.DATA, label('data')],
      [pair.publicKey, PublicKey, ObjectClass.PUBLIC_KEY, label('ec')],
      [pair.privateKey, PrivateKey, ObjectClass.PRIVATE_KEY, label('ec')],
      [certificate, Certificate, ObjectClass.CERTIFICATE, label('cert')],
    ];
    if (secret) made.push([secret, SecretKey, ObjectClass.SECRET_KEY, label('secret')]);
    if (params)
      made.push([params as PkcsObject, DomainParameters, ObjectClass.DOMAIN_PARAMETERS, label('params')]);
    for (const [obj, Class, objectClass, text] of made) {
      assert.ok(obj instanceof Class, `${obj.toString()} is a ${Class.name}`);
      assert.equal(obj.objectClass, objectClass);
      const found = await session.getKey({ label: text, objectClass });
      assert.ok(found instanceof Class, `found ${found.toString()} as a ${Class.name}`);
    }
    assert.equal((certificate as Certificate).certificateType, CertificateType.X_509);
    if (params) assert.equal((params as DomainParameters).keyType, KeyType.DH);
  });

  test('keyType, label, id and keyLength of RSA and EC keys, as made and as found', async () => {
    const id = Uint8Array.of(0xca, 0xfe, 0x01);
    const rsa = await session.generateKeypair(KeyType.RSA, 2048, { label: `rsa meta ${run}`, id });
    const cases = [
      { pair: rsa, keyType: KeyType.RSA, bits: 2048, label: `rsa meta ${run}` },
      ...(await Promise.all(
        [
          ['secp256r1', 256],
          ['secp384r1', 384],
          ['secp521r1', 521],
        ].map(async ([curve, bits]) => ({
          pair: await session.generateKeypair(KeyType.EC, curve as string, {
            label: `ec ${curve} ${run}`,
            id,
          }),
          keyType: KeyType.EC,
          bits: bits as number,
          label: `ec ${curve} ${run}`,
        })),
      )),
    ];
    for (const { pair, keyType, bits, label } of cases) {
      for (const key of [pair.publicKey, pair.privateKey]) {
        assert.equal(key.keyType, keyType, `${label}: keyType`);
        assert.equal(key.label, label);
        assert.deepEqual(Buffer.from(key.id), Buffer.from(id));
        assert.equal(key.keyLength, bits, `${label} ${key.constructor.name}: keyLength`);
      }
      const found = await session.getKey({ label, objectClass: ObjectClass.PRIVATE_KEY });
      assert.ok(found instanceof PrivateKey);
      assert.equal(found.keyType, keyType);
      assert.equal(found.keyLength, bits);
      assert.deepEqual(Buffer.from(found.id), Buffer.from(id));
    }
  });
});
