// Mechanisms whose parameter the standard requires: refused before anything reaches C when the
// parameter is missing, of the wrong kind or of the wrong length (a module would read through a
// NULL pointer or past the bytes: NSS softokn crashes), and encoded as before when it is right.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ULONG_SIZE } from '../../src/sys/abi.js';
import { MGF, Mechanism } from '../../src/sys/constants.js';
import { encodeMechanism } from '../../src/core/mechanism.js';
import { REQUIRED_PARAMETERS, checkParameter, requiredParameter } from '../../src/core/required-params.js';

/** Asserts `encodeMechanism` throws `name` with a message matching `message` for `mechanism` and `parameter`. */
function refused(
  mechanism: number,
  parameter: unknown,
  name: 'TypeError' | 'RangeError',
  message: RegExp,
): void {
  assert.throws(() => encodeMechanism({ mechanism, parameter: parameter as never }), { name, message });
}

describe('required mechanism parameters', () => {
  test('a MAC length is required: CKM_*_MAC_GENERAL and *_HMAC_GENERAL without one are TypeErrors', () => {
    for (const mechanism of [
      Mechanism.AES_MAC_GENERAL,
      Mechanism.SEED_MAC_GENERAL,
      Mechanism.SHA256_HMAC_GENERAL,
      Mechanism.DES3_CMAC_GENERAL,
    ]) {
      refused(mechanism, undefined, 'TypeError', /is required: a CK_ULONG/);
      refused(mechanism, null, 'TypeError', /is required/);
      refused(mechanism, { macLength: 8 }, 'TypeError', /must be a CK_ULONG/);
      refused(mechanism, new Uint8Array(3), 'RangeError', new RegExp(`got 3 bytes`));
      assert.ok(encodeMechanism({ mechanism, parameter: 8 }).length > 0);
      assert.ok(encodeMechanism({ mechanism, parameter: new Uint8Array(ULONG_SIZE) }).length > 0);
    }
    // RC2's and RC5's MAC_GENERAL take their own structs, not a bare length.
    assert.equal(requiredParameter(Mechanism.RC2_MAC_GENERAL)?.kind, 'struct');
    assert.equal(requiredParameter(Mechanism.RC5_MAC_GENERAL)?.kind, 'struct');
  });

  test('CKM_RC2_MAC and CKM_RC2_ECB need the effective bits; RC2_CBC its struct of the right size', () => {
    refused(Mechanism.RC2_MAC, undefined, 'TypeError', /CKM_RC2_MAC is required/);
    refused(Mechanism.RC2_ECB, undefined, 'TypeError', /CKM_RC2_ECB is required/);
    assert.ok(encodeMechanism({ mechanism: Mechanism.RC2_MAC, parameter: 128 }).length > 0);
    refused(Mechanism.RC2_CBC, new Uint8Array(8), 'RangeError', /CK_RC2_CBC_PARAMS as its \d+ bytes, got 8/);
    refused(Mechanism.RC2_CBC, 128, 'TypeError', /CK_RC2_CBC_PARAMS/);
    assert.ok(encodeMechanism({ mechanism: Mechanism.RC2_CBC, parameter: new Uint8Array(ULONG_SIZE + 8) }));
  });

  test('CBC IVs are as long as the block: 16 bytes for AES, 8 for DES3', () => {
    refused(
      Mechanism.AES_CBC_PAD,
      new Uint8Array(3),
      'RangeError',
      /CKM_AES_CBC_PAD must be a 16-byte IV, got 3 bytes/,
    );
    refused(Mechanism.AES_CBC, undefined, 'TypeError', /CKM_AES_CBC is required: a 16-byte IV/);
    refused(Mechanism.AES_CBC, 16, 'TypeError', /must be a 16-byte IV, got number/);
    refused(Mechanism.DES3_CBC_PAD, new Uint8Array(16), 'RangeError', /8-byte IV/);
    assert.ok(encodeMechanism({ mechanism: Mechanism.DES3_CBC_PAD, parameter: new Uint8Array(8) }));
    refused(Mechanism.DH_PKCS_DERIVE, new Uint8Array(0), 'RangeError', /got 0 bytes/);
  });

  test('structs with pointers and no encoder here are never sent, raw bytes least of all', () => {
    for (const mechanism of [
      Mechanism.PKCS5_PBKD2,
      Mechanism.TLS_PRF,
      Mechanism.HKDF_DERIVE,
      Mechanism.AES_CCM,
    ]) {
      refused(mechanism, new Uint8Array(64), 'TypeError', /holds pointers/);
      refused(mechanism, undefined, 'TypeError', /holds pointers/);
    }
  });

  test('structs encoded here are required, and taken as raw bytes only at their size', () => {
    refused(Mechanism.AES_GCM, undefined, 'TypeError', /CKM_AES_GCM is required/);
    refused(Mechanism.ECDH1_DERIVE, null, 'TypeError', /CKM_ECDH1_DERIVE is required/);
    refused(Mechanism.RSA_PKCS_PSS, new Uint8Array(7), 'RangeError', /raw bytes must be \d+ bytes, got 7/);
    const pss = { hashAlg: Mechanism.SHA256, mgf: MGF.SHA256, saltLength: 32 };
    assert.ok(encodeMechanism({ mechanism: Mechanism.SHA256_RSA_PKCS_PSS, parameter: pss }));
    // EdDSA's parameter is optional.
    assert.equal(requiredParameter(Mechanism.EDDSA), undefined);
    assert.ok(encodeMechanism(Mechanism.EDDSA));
  });

  test('mechanisms that take no parameter, and vendor ones, pass whatever they are given', () => {
    checkParameter(Mechanism.SHA256_HMAC, undefined);
    checkParameter(Mechanism.AES_CMAC, undefined);
    checkParameter(Mechanism.ECDSA, undefined);
    checkParameter(0x80000123, Uint8Array.of(1, 2, 3));
    checkParameter(0x80000123, undefined);
    assert.equal(REQUIRED_PARAMETERS.has(Mechanism.AES_ECB), false);
  });
});
