// Keys paired with mechanisms of another family are refused before anything reaches C (some
// modules crash on them: SoftHSM2 on DSA with an EC key, NSS softokn on HMAC or CMAC with an RSA or
// EC key); pairings the standard allows, unknown key types and vendor mechanisms pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyType, Mechanism } from '../../src/sys/constants.js';
import { checkKeyForMechanism } from '../../src/model/key-mechanisms.js';

test('public-key families: the key type must be the family’s', () => {
  assert.throws(() => checkKeyForMechanism(KeyType.EC, Mechanism.DSA_SHA256), {
    name: 'TypeError',
    message: 'CKM_DSA_SHA256 works with CKK_DSA keys, not CKK_EC',
  });
  assert.throws(() => checkKeyForMechanism(KeyType.RSA, Mechanism.ECDSA), TypeError);
  checkKeyForMechanism(KeyType.EC, Mechanism.ECDSA_SHA256);
  checkKeyForMechanism(KeyType.EC_MONTGOMERY, Mechanism.ECDH1_DERIVE);
});

test('secret-key ciphers and MACs refuse public-key types and take any secret key type', () => {
  for (const mechanism of [
    Mechanism.SHA256_HMAC,
    Mechanism.AES_CMAC,
    Mechanism.SEED_MAC_GENERAL,
    Mechanism.AES_CBC_PAD,
  ])
    for (const keyType of [KeyType.RSA, KeyType.EC, KeyType.EC_EDWARDS])
      assert.throws(() => checkKeyForMechanism(keyType, mechanism), {
        name: 'TypeError',
        message: /works with secret keys, not CKK_/,
      });
  checkKeyForMechanism(KeyType.GENERIC_SECRET, Mechanism.SHA256_HMAC);
  checkKeyForMechanism(KeyType.AES, Mechanism.SHA256_HMAC);
  checkKeyForMechanism(KeyType.AES, Mechanism.AES_KEY_WRAP);
  checkKeyForMechanism(KeyType.DES3, Mechanism.DES3_CBC_PAD);
});

test('unknown key types and vendor mechanisms are the module’s to judge', () => {
  checkKeyForMechanism(undefined, Mechanism.SHA256_HMAC);
  checkKeyForMechanism(0x80000001, Mechanism.AES_CBC);
  checkKeyForMechanism(KeyType.RSA, 0x80000123);
});
